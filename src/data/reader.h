// reader.h: public conversation data sets in, records out.
//
// One reader per file. The format is detected from the file name and its first record
// (or forced); .gz and .zst files are decompressed on the fly. Each record is one of
//   - a conversation (system/user/assistant messages, per-message weight),
//   - a pre-tokenized sequence ({"ids": [...], "mask": [...]}),
//   - a plain-text document (for pretraining).
// A bad record is an error naming file, line and field ("a.jsonl:12: conversations[3].from:
// expected human|gpt|system, got \"tool\""). With skip_bad the reader counts it by kind
// and goes on; the counts are always available (never silently dropped).
#ifndef PT_DATA_READER_H
#define PT_DATA_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "chat/conv.h"
#include "util/buf.h"
#include "util/err.h"

typedef enum {
    DATA_FMT_AUTO = 0,
    DATA_FMT_OPENAI,       // {"messages": [{"role", "content", "weight"?}]}
    DATA_FMT_SHAREGPT,     // {"conversations": [{"from": human|gpt|system, "value"}]}
    DATA_FMT_ALPACA,       // {"instruction", "input"?, "output"}
    DATA_FMT_DOLLY,        // {"instruction", "context", "response", "category"}
    DATA_FMT_OASST_TREES,  // oasst *.trees.jsonl: {"prompt": {message, "replies": [...]}}
    DATA_FMT_OASST_FLAT,   // oasst message table: message_id, parent_id, role, text, ...
    DATA_FMT_ULTRACHAT,    // {"id", "data": [user, assistant, user, ...]}
    DATA_FMT_TOKENS,       // {"ids": [...], "mask": [...]?}
    DATA_FMT_TEXT,         // .txt (one document per file) or JSONL with a "text" field
    DATA_FMT_MTBENCH,      // MT-Bench questions {"question_id", "category", "turns": [user, ...]}
                           // (prompts for evaluation: user messages only, no targets)
    DATA_FMT_COUNT
} DataFormat;

// "openai", "sharegpt", "alpaca", "dolly", "oasst-trees", "oasst", "ultrachat", "tokens",
// "text", "mt-bench"; DATA_FMT_AUTO is "auto". data_format_parse returns -1 for an unknown name.
const char *data_format_name(DataFormat f);
int data_format_parse(const char *name);

typedef enum { REC_CONV, REC_TOKENS, REC_TEXT } RecordKind;

typedef struct {
    RecordKind kind;
    Conversation conv;  // REC_CONV
    IntVec ids, mask;   // REC_TOKENS; mask.len == ids.len (all 1 after the first token
                        // when the record had no mask: every token a target)
    Buf text;           // REC_TEXT
    char *category;     // metadata or NULL (Dolly's category, ...)
    char *lang;         // metadata or NULL (oasst's lang, ...)
    char where[256];    // "file:line" of the record (the line of its root for oasst-flat)
} DataRecord;

void data_record_free(DataRecord *r);  // returns it to zeroed; accepts a zeroed record

typedef struct {
    DataFormat format;    // DATA_FMT_AUTO: detect
    bool skip_bad;        // skip (and count) bad records instead of failing on the first
    bool oasst_best_only; // oasst: only the best-ranked path (rank 0 at each step), not every root-to-leaf path
    const char *lang;     // oasst: keep only threads whose messages have this lang (NULL: all)
    size_t max_line;      // longest JSONL line / .json array element kept (0: 64 MiB); a
                          // longer one is skipped to the next newline (DERR_TOO_LONG)
    size_t max_file;      // largest whole-file record: a .json array or a .txt document
                          // (0: 1 GiB); more is an error
} ReaderOptions;

// Error kinds counted by a reader (the "errors by kind" of `data stats`).
typedef enum {
    DERR_JSON = 0,      // not valid JSON / truncated
    DERR_UTF8,          // invalid UTF-8
    DERR_FIELD,         // a missing field or a field of the wrong type
    DERR_ROLE,          // an unknown role / speaker, or turns out of order
    DERR_TOOLS,         // tools / tool_calls / function messages (not supported)
    DERR_TOO_LONG,      // a line over the reader's limit
    DERR_COUNT
} DataErrKind;
const char *data_err_kind_name(DataErrKind k);

typedef struct {
    size_t records;             // records returned
    size_t bad[DERR_COUNT];     // bad records, by kind (skipped when skip_bad)
    size_t deleted;             // oasst: deleted or failed-review messages skipped
    size_t filtered;            // oasst: threads dropped by the lang filter
} ReaderStats;

typedef struct DataReader DataReader;

// Opens path ("-" is stdin) with the given options (NULL: defaults).
int data_reader_open(DataReader **r, const char *path, const ReaderOptions *o, Err *e);
// Fills *rec (freeing what it held) with the next record: 1, 0 at the end, -1 on error
// (a bad record without skip_bad, or an I/O error).
int data_reader_next(DataReader *r, DataRecord *rec, Err *e);
// The detected or forced format. Detection reads the first record at open; when that
// record is bad it waits for the first good one (DATA_FMT_AUTO until then).
DataFormat data_reader_format(const DataReader *r);
const ReaderStats *data_reader_stats(const DataReader *r);
// The message of the first bad record of kind k (for reports), or NULL if none.
const char *data_reader_first_error(const DataReader *r, DataErrKind k);
void data_reader_close(DataReader *r);  // accepts NULL

#endif
