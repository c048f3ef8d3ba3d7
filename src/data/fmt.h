// fmt.h: what reader.c shares with the format parsers (fmt_*.c); private to src/data.
//
// reader.c turns a file into JSON records (one per line, or one per element of a .json
// array) with their "file:line"; a parser turns one record into zero or more
// DataRecords, appended to the context's queue. A bad record fails with an Err whose
// message names the field, and the kind it counts as (FmtCtx.kind).
#ifndef PT_DATA_FMT_H
#define PT_DATA_FMT_H

#include <cjson/cJSON.h>

#include "data/reader.h"

typedef struct {
    DataRecord *v;
    size_t head, n, cap;  // records [head, n) are waiting
} RecQueue;

typedef struct {
    const char *where;         // "file:line" of the record being parsed
    const char *file;          // the file's name as messages show it
    const ReaderOptions *o;
    ReaderStats *stats;
    RecQueue *out;
    DataErrKind kind;          // set with the error of a bad record
} FmtCtx;

// Fails the record: sets the kind and the message ("<where>: <field>: ..."), returns -1.
#define FMT_FAIL(c, k, e, ...) \
    ((c)->kind = (k), ERR((e), (k) == DERR_TOOLS ? ERR_UNSUPPORTED : ERR_FORMAT, __VA_ARGS__))

// Appends a record to the queue, taking what it owns (rec is zeroed); -1 on OOM.
int fmt_emit(FmtCtx *c, DataRecord *rec, Err *e);
// The string member key of obj, or NULL when absent or not a string.
const char *fmt_str(const cJSON *obj, const char *key);
// Sets *dst to a copy of s (NULL stays NULL); -1 on OOM.
int fmt_dup(char **dst, const char *s, Err *e);
// The checks every conversation passes: not empty, a system message only first.
// list names the source array; message i of conv is list[i - skew] (skew 1 when a
// system message came from a field of its own).
int fmt_check_conv(FmtCtx *c, const Conversation *conv, const char *list, int skew, Err *e);
// "a\n\nb", or a or b alone when the other is empty (Alpaca's input, Dolly's context).
int fmt_join(Buf *out, const char *a, const char *b, Err *e);
// A top-level "tools" (or "functions") member: tool use is refused (DERR_TOOLS).
int fmt_refuse_tools(FmtCtx *c, const cJSON *j, Err *e);

// One parser per format (fmt_chat.c, fmt_instruct.c, fmt_oasst.c, fmt_tokens.c).
int fmt_openai(FmtCtx *c, const cJSON *j, const char *text, size_t len, Err *e);
int fmt_sharegpt(FmtCtx *c, const cJSON *j, Err *e);
int fmt_ultrachat(FmtCtx *c, const cJSON *j, Err *e);
int fmt_mtbench(FmtCtx *c, const cJSON *j, Err *e);
int fmt_alpaca(FmtCtx *c, const cJSON *j, Err *e);
int fmt_dolly(FmtCtx *c, const cJSON *j, Err *e);
int fmt_oasst_tree(FmtCtx *c, const cJSON *j, Err *e);
int fmt_tokens(FmtCtx *c, const cJSON *j, Err *e);
int fmt_text_json(FmtCtx *c, const cJSON *j, Err *e);

// oasst message tables: every line is gathered first (oasst_flat_add), then the trees
// are built and their threads emitted at the end of the file (oasst_flat_finish).
typedef struct OasstFlat OasstFlat;
OasstFlat *oasst_flat_new(void);
int oasst_flat_add(OasstFlat *t, FmtCtx *c, const cJSON *j, Err *e);
// Emits the threads; a bad tree (an orphan, a cycle) calls bad(arg, kind, e) and goes on
// when it returns 0.
int oasst_flat_finish(OasstFlat *t, FmtCtx *c, int (*bad)(void *arg, FmtCtx *c, Err *e),
                      void *arg, Err *e);
void oasst_flat_free(OasstFlat *t);

#endif
