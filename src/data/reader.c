// reader.c: a data file as records — framing, format detection, bad-record policy.
//
// Framing: a .txt file is one document; a file whose first byte (past white space) is
// '[' is a JSON array read whole (LLaMA-Factory's .json files), its elements found by a
// small scanner so each keeps its line; anything else is JSONL, read a line at a time
// with a bounded buffer (decompress.h). Each record then goes through the same steps:
// UTF-8, JSON, one object, the format's parser (fmt_*.c). A bad record is counted by
// kind; with skip_bad the reader goes on, without it the record's error is returned.
#include "data/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/decompress.h"
#include "data/fmt.h"
#include "util/utf8.h"

static const char *fmt_names[DATA_FMT_COUNT] = {
    "auto", "openai", "sharegpt", "alpaca", "dolly", "oasst-trees", "oasst", "ultrachat",
    "tokens", "text", "mt-bench"};

const char *data_format_name(DataFormat f) {
    return f >= 0 && f < DATA_FMT_COUNT ? fmt_names[f] : "?";
}

int data_format_parse(const char *name) {
    for (int i = 0; i < DATA_FMT_COUNT; i++)
        if (!strcmp(name, fmt_names[i])) return i;
    return -1;
}

const char *data_err_kind_name(DataErrKind k) {
    static const char *names[DERR_COUNT] = {"json", "utf8", "field", "role", "tools", "too_long"};
    return k >= 0 && k < DERR_COUNT ? names[k] : "?";
}

void data_record_free(DataRecord *r) {
    conv_free(&r->conv);
    ivec_free(&r->ids);
    ivec_free(&r->mask);
    buf_free(&r->text);
    free(r->category);
    free(r->lang);
    memset(r, 0, sizeof *r);
}

// ---- helpers the parsers share (fmt.h) ----

int fmt_emit(FmtCtx *c, DataRecord *rec, Err *e) {
    RecQueue *q = c->out;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        DataRecord *v = realloc(q->v, cap * sizeof *v);
        if (!v) return ERR(e, ERR_NOMEM, "out of memory");
        q->v = v;
        q->cap = cap;
    }
    if (!rec->where[0]) snprintf(rec->where, sizeof rec->where, "%s", c->where);
    q->v[q->n++] = *rec;
    memset(rec, 0, sizeof *rec);
    return 0;
}

const char *fmt_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int fmt_dup(char **dst, const char *s, Err *e) {
    *dst = NULL;
    if (s && !(*dst = strdup(s))) return ERR(e, ERR_NOMEM, "out of memory");
    return 0;
}

int fmt_check_conv(FmtCtx *c, const Conversation *conv, const char *list, int skew, Err *e) {
    if (conv->n == 0) return FMT_FAIL(c, DERR_FIELD, e, "%s: %s: no messages", c->where, list);
    for (int i = 1; i < conv->n; i++)
        if (conv->msgs[i].role == ROLE_SYSTEM)
            return FMT_FAIL(c, DERR_ROLE, e, "%s: %s[%d]: a system message may only come first",
                            c->where, list, i - skew);
    return 0;
}

int fmt_join(Buf *out, const char *a, const char *b, Err *e) {
    out->len = 0;
    int rc = buf_append(out, a, strlen(a));
    if (!rc && a[0] && b[0]) rc = buf_append(out, "\n\n", 2);
    if (!rc) rc = buf_append(out, b, strlen(b));
    if (!rc && !out->data) rc = buf_reserve(out, 0);
    return rc ? ERR(e, ERR_NOMEM, "out of memory") : 0;
}

int fmt_refuse_tools(FmtCtx *c, const cJSON *j, Err *e) {
    static const char *keys[] = {"tools", "functions", "tool_calls", "function_call"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        // LLaMA-Factory writes "tools": "" when a record has none.
        if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !v->valuestring[0]) &&
            !(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0))
            return FMT_FAIL(c, DERR_TOOLS, e, "%s: %s: tool use is not supported", c->where, keys[i]);
    }
    return 0;
}

// ---- the reader ----

typedef struct {  // one framed record before parsing
    const char *p;
    size_t len, lineno;
    bool too_long, unterminated, blank;
} Raw;

struct DataReader {
    char name[4096];       // the path as messages show it
    ReaderOptions o;
    DataFormat fmt;
    LineReader *lr;
    bool txt_file, txt_done;           // a .txt document
    char *whole;                       // a .json array, read whole
    size_t whole_len, pos, line;       // scanner position and its line
    bool in_array, array_started, array_done;
    Buf pending;                       // the first record, read at open for detection
    Raw pending_raw;
    bool has_pending;
    OasstFlat *flat;
    bool eof;
    RecQueue q;
    ReaderStats stats;
    char *first_bad[DERR_COUNT];
    char where[4200];
};

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

// The name without a .gz / .zst suffix ends with suffix.
static bool name_is(const char *path, const char *suffix) {
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    size_t n = strlen(base);
    if (ends_with(base, ".gz")) base[n - 3] = 0;
    else if (ends_with(base, ".zst")) base[n - 4] = 0;
    return ends_with(base, suffix);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The next element of the .json array: [p, p+len) and its line. 0 at the closing ']'.
// A structural fault (no '[', text after an element, the end of the file inside an
// element) gives the rest as one record, which fails to parse as JSON.
static int array_next(DataReader *r, Raw *raw) {
    const char *s = r->whole;
    size_t n = r->whole_len, i = r->pos;
    memset(raw, 0, sizeof *raw);
    if (r->array_done) return 0;
#define SKIP_WS() for (; i < n && is_space(s[i]); i++) if (s[i] == '\n') r->line++
    SKIP_WS();
    if (!r->array_started) {
        r->array_started = true;
        i++;  // the '[' the open saw
        SKIP_WS();
        if (i < n && s[i] == ']') {
            r->array_done = true;
            return 0;
        }
    }
    if (i >= n) {  // the file ended where an element or ']' should be
        r->array_done = true;
        raw->p = s + n;
        raw->lineno = r->line;
        raw->unterminated = true;
        return 1;
    }
    size_t start = i, depth = 0;
    raw->lineno = r->line;
    bool in_str = false;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == '\n') r->line++;
        if (in_str) {
            if (ch == '\\') i++;
            else if (ch == '"') in_str = false;
        } else if (ch == '"') in_str = true;
        else if (ch == '{' || ch == '[') depth++;
        else if ((ch == ']' || ch == ',') && depth == 0) break;
        else if ((ch == '}' || ch == ']') && depth > 0) depth--;
    }
    if (i > n) i = n;  // a trailing backslash stepped past the end
    size_t end = i;
    while (end > start && is_space(s[end - 1])) end--;
    raw->p = s + start;
    raw->len = end - start;
    if (i >= n) {
        raw->unterminated = true;
        r->array_done = true;
    } else if (s[i] == ']') {
        // The last element; anything but white space after it is a fault of its own.
        size_t k = i + 1;
        while (k < n && is_space(s[k])) k++;
        r->array_done = true;
        if (k < n) raw->len = n - start;  // hand the whole tail over: it will fail as JSON
    } else {
        i++;  // the ','
    }
    r->pos = i;
    if (raw->len > r->o.max_line) raw->too_long = true;
    return 1;
#undef SKIP_WS
}

// The next framed record: 1, 0 at the end, -1 on an I/O error.
static int raw_next(DataReader *r, Raw *raw, Err *e) {
    memset(raw, 0, sizeof *raw);
    if (r->has_pending) {
        *raw = r->pending_raw;
        raw->p = r->pending.data ? r->pending.data : "";
        r->has_pending = false;
        return 1;
    }
    if (r->in_array) return array_next(r, raw);
    if (r->txt_file) {
        if (r->txt_done) return 0;
        r->txt_done = true;
        size_t first;
        if (linereader_slurp(r->lr, r->o.max_file, &r->whole, &r->whole_len, &first, e)) return -1;
        raw->p = r->whole;
        raw->len = r->whole_len;
        raw->lineno = first;
        return 1;
    }
    Line l;
    int rc = linereader_next(r->lr, &l, e);
    if (rc <= 0) return rc;
    *raw = (Raw){l.p, l.len, l.lineno, l.too_long, l.unterminated, false};
    return 1;
}

static int detect(DataReader *r, const cJSON *j, Err *e) {
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
#define HAS(k) (cJSON_GetObjectItemCaseSensitive(j, k) != NULL)
    DataFormat f = DATA_FMT_AUTO;
    if (HAS("messages")) f = DATA_FMT_OPENAI;
    else if (HAS("conversations")) f = DATA_FMT_SHAREGPT;
    else if (cJSON_IsObject(prompt) && (HAS("message_tree_id") ||
                                        cJSON_GetObjectItemCaseSensitive(prompt, "replies")))
        f = DATA_FMT_OASST_TREES;
    else if (HAS("message_id") && HAS("role") && HAS("text")) f = DATA_FMT_OASST_FLAT;
    else if (HAS("instruction") && (HAS("response") || HAS("context"))) f = DATA_FMT_DOLLY;
    else if (HAS("instruction") && HAS("output")) f = DATA_FMT_ALPACA;
    else if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "data"))) f = DATA_FMT_ULTRACHAT;
    else if (HAS("question_id") && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "turns")))
        f = DATA_FMT_MTBENCH;
    else if (HAS("ids")) f = DATA_FMT_TOKENS;
    else if (HAS("text")) f = DATA_FMT_TEXT;
#undef HAS
    if (f == DATA_FMT_AUTO) {
        char keys[256] = "";
        size_t k = 0;
        int count = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, j) {
            if (count++ == 8) {
                snprintf(keys + k, sizeof keys - k, ", ...");
                break;
            }
            int w = snprintf(keys + k, sizeof keys - k, "%s\"%.30s\"", count > 1 ? ", " : "", m->string);
            if (w < 0 || (size_t)w >= sizeof keys - k) break;
            k += (size_t)w;
        }
        return ERR(e, ERR_FORMAT, "%s: cannot tell the data format from the keys {%s}: pass "
                   "a format (openai, sharegpt, alpaca, dolly, oasst-trees, oasst, ultrachat, "
                   "tokens, text, mt-bench)", r->where, keys);
    }
    r->fmt = f;
    return 0;
}

// Counts a bad record; 0 to go on (skip_bad), -1 to stop with its error.
static int bad_record(DataReader *r, DataErrKind k, Err *e) {
    r->stats.bad[k]++;
    if (!r->first_bad[k]) r->first_bad[k] = strdup(e->msg);
    return r->o.skip_bad ? 0 : -1;
}

static int flat_bad(void *arg, FmtCtx *c, Err *e) { return bad_record(arg, c->kind, e); }

// One framed record through UTF-8, JSON and its parser; bad ones through bad_record.
static int process(DataReader *r, const Raw *raw, Err *e) {
    snprintf(r->where, sizeof r->where, "%s:%zu", r->name, raw->lineno);
    FmtCtx c = {r->where, r->name, &r->o, &r->stats, &r->q, DERR_COUNT};
    if (raw->too_long) {
        ERR(e, ERR_FORMAT, "%s: a record of %zu bytes, over the limit of %zu (skipped to the "
            "next line)", r->where, raw->len, r->o.max_line);
        return bad_record(r, DERR_TOO_LONG, e);
    }
    size_t k = 0;
    while (k < raw->len && is_space(raw->p[k])) k++;
    if (k == raw->len && !raw->unterminated) return 0;  // blank lines may separate records
    size_t at = utf8_find_invalid(raw->p, raw->len);
    if (at != (size_t)-1) {
        ERR(e, ERR_FORMAT, "%s: invalid UTF-8 at byte %zu of the %s", r->where, at,
            r->txt_file ? "file" : "record");
        return bad_record(r, DERR_UTF8, e);
    }
    if (r->txt_file) {
        DataRecord rec = {.kind = REC_TEXT};
        if (buf_append(&rec.text, raw->p, raw->len) || buf_reserve(&rec.text, 0))
            return ERR(e, ERR_NOMEM, "%s: out of memory", r->where);
        return fmt_emit(&c, &rec, e);
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(raw->p, raw->len, &end, 0);
    if (!j) {
        size_t off = end ? (size_t)(end - raw->p) : 0;
        if (raw->unterminated)
            ERR(e, ERR_FORMAT, "%s: truncated record: the file ends inside it (malformed JSON "
                "near byte %zu)", r->where, off);
        else
            ERR(e, ERR_FORMAT, "%s: malformed JSON near byte %zu", r->where, off);
        return bad_record(r, DERR_JSON, e);
    }
    int rc = 0;
    if (!cJSON_IsObject(j)) {
        FMT_FAIL(&c, DERR_FIELD, e, "%s: expected a JSON object", r->where);
        rc = -1;
    } else if (r->fmt == DATA_FMT_AUTO && detect(r, j, e)) {
        cJSON_Delete(j);
        return -1;  // not a bad record: the whole file is unreadable without a format
    }
    if (!rc && r->fmt == DATA_FMT_OASST_FLAT && !r->flat && !(r->flat = oasst_flat_new())) {
        cJSON_Delete(j);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    size_t queued = r->q.n;
    if (!rc) switch (r->fmt) {
        case DATA_FMT_OPENAI: rc = fmt_openai(&c, j, raw->p, raw->len, e); break;
        case DATA_FMT_SHAREGPT: rc = fmt_sharegpt(&c, j, e); break;
        case DATA_FMT_ALPACA: rc = fmt_alpaca(&c, j, e); break;
        case DATA_FMT_DOLLY: rc = fmt_dolly(&c, j, e); break;
        case DATA_FMT_OASST_TREES: rc = fmt_oasst_tree(&c, j, e); break;
        case DATA_FMT_OASST_FLAT: rc = oasst_flat_add(r->flat, &c, j, e); break;
        case DATA_FMT_ULTRACHAT: rc = fmt_ultrachat(&c, j, e); break;
        case DATA_FMT_TOKENS: rc = fmt_tokens(&c, j, e); break;
        case DATA_FMT_TEXT: rc = fmt_text_json(&c, j, e); break;
        case DATA_FMT_MTBENCH: rc = fmt_mtbench(&c, j, e); break;
        default: rc = ERR(e, ERR_ARG, "%s: no format", r->where);
    }
    cJSON_Delete(j);
    if (rc) {
        // An oasst tree may have queued some threads before failing: the record is all bad.
        for (size_t i = queued; i < r->q.n; i++) data_record_free(&r->q.v[i]);
        r->q.n = queued;
        if (r->q.head > r->q.n) r->q.head = r->q.n;
        if (c.kind != DERR_COUNT) return bad_record(r, c.kind, e);
    }
    return rc;
}

int data_reader_open(DataReader **out, const char *path, const ReaderOptions *o, Err *e) {
    *out = NULL;
    DataReader *r = calloc(1, sizeof *r);
    if (!r) return ERR(e, ERR_NOMEM, "out of memory");
    if (o) r->o = *o;
    if (!r->o.max_line) r->o.max_line = (size_t)64 << 20;
    if (!r->o.max_file) r->o.max_file = (size_t)1 << 30;
    r->fmt = r->o.format;
    if (r->fmt < 0 || r->fmt >= DATA_FMT_COUNT) {
        ERR(e, ERR_ARG, "%s: unknown data format %d", path, (int)r->fmt);
        free(r);
        return -1;
    }
    snprintf(r->name, sizeof r->name, "%s", strcmp(path, "-") ? path : "<stdin>");
    if (linereader_open(&r->lr, path, r->o.max_line, e)) {
        free(r);
        return -1;
    }
    int rc = 0;
    if ((r->fmt == DATA_FMT_AUTO || r->fmt == DATA_FMT_TEXT) && name_is(path, ".txt")) {
        r->fmt = DATA_FMT_TEXT;
        r->txt_file = true;
    } else {
        if (r->fmt == DATA_FMT_AUTO && name_is(path, ".trees.jsonl")) r->fmt = DATA_FMT_OASST_TREES;
        int c = linereader_peek(r->lr, e);
        if (c == -2) rc = -1;
        if (c == '[') {
            size_t first;
            r->in_array = true;
            rc = linereader_slurp(r->lr, r->o.max_file, &r->whole, &r->whole_len, &first, e);
            r->line = first;
        }
    }
    if (!rc && r->fmt == DATA_FMT_AUTO) {
        // Read the first record now, so that the format is known from the start.
        Raw raw;
        int got = raw_next(r, &raw, e);
        if (got < 0) rc = -1;
        else if (got > 0) {
            if ((!raw.too_long && buf_append(&r->pending, raw.p, raw.len)) ||
                buf_reserve(&r->pending, 0))
                rc = ERR(e, ERR_NOMEM, "out of memory");
            r->pending_raw = raw;
            r->has_pending = true;
            if (!rc && !raw.too_long && raw.len) {
                cJSON *j = cJSON_ParseWithLengthOpts(raw.p, raw.len, NULL, 0);
                snprintf(r->where, sizeof r->where, "%s:%zu", r->name, raw.lineno);
                if (cJSON_IsObject(j)) rc = detect(r, j, e);
                cJSON_Delete(j);
            }
        }
    }
    if (!rc && r->fmt == DATA_FMT_OASST_FLAT && !(r->flat = oasst_flat_new()))
        rc = ERR(e, ERR_NOMEM, "out of memory");
    if (rc) {
        data_reader_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int data_reader_next(DataReader *r, DataRecord *rec, Err *e) {
    data_record_free(rec);
    for (;;) {
        RecQueue *q = &r->q;
        if (q->head < q->n) {
            *rec = q->v[q->head++];
            if (q->head == q->n) q->head = q->n = 0;
            r->stats.records++;
            return 1;
        }
        if (r->eof) return 0;
        Raw raw;
        int got = raw_next(r, &raw, e);
        if (got < 0) return -1;
        if (got == 0) {
            r->eof = true;
            if (r->flat) {
                FmtCtx c = {r->where, r->name, &r->o, &r->stats, &r->q, DERR_COUNT};
                if (oasst_flat_finish(r->flat, &c, flat_bad, r, e)) return -1;
            }
            continue;
        }
        if (process(r, &raw, e)) return -1;
    }
}

DataFormat data_reader_format(const DataReader *r) { return r->fmt; }
const ReaderStats *data_reader_stats(const DataReader *r) { return &r->stats; }

const char *data_reader_first_error(const DataReader *r, DataErrKind k) {
    return k >= 0 && k < DERR_COUNT ? r->first_bad[k] : NULL;
}

void data_reader_close(DataReader *r) {
    if (!r) return;
    linereader_close(r->lr);
    free(r->whole);
    buf_free(&r->pending);
    oasst_flat_free(r->flat);
    for (size_t i = r->q.head; i < r->q.n; i++) data_record_free(&r->q.v[i]);
    free(r->q.v);
    for (int k = 0; k < DERR_COUNT; k++) free(r->first_bad[k]);
    free(r);
}
