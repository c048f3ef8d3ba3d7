// fmt_instruct.c: single-turn instruction records — Alpaca and Dolly.
//
// Alpaca: {"instruction", "input"?, "output", "system"?, "history"? [[q, a], ...]}
//         -> [system] (q, a)... (instruction + "\n\n" + input, output)
//         (system and history as LLaMA-Factory's alpaca files carry them)
// Dolly:  {"instruction", "context", "response", "category"} (databricks-dolly-15k)
//         -> (instruction + "\n\n" + context, response); category kept on the record.
#include <string.h>

#include "data/fmt.h"

// An optional string member: absent or null is "", anything else but a string fails.
static int opt_str(FmtCtx *c, const cJSON *j, const char *key, const char **out, Err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = "";
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) return FMT_FAIL(c, DERR_FIELD, e, "%s: %s: expected a string", c->where, key);
    *out = v->valuestring;
    return 0;
}

static int req_str(FmtCtx *c, const cJSON *j, const char *key, const char **out, Err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) return FMT_FAIL(c, DERR_FIELD, e, "%s: %s: missing", c->where, key);
    if (!cJSON_IsString(v)) return FMT_FAIL(c, DERR_FIELD, e, "%s: %s: expected a string", c->where, key);
    *out = v->valuestring;
    return 0;
}

static int history(FmtCtx *c, const cJSON *j, Conversation *conv, Err *e) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "history");
    if (!h || cJSON_IsNull(h)) return 0;
    if (!cJSON_IsArray(h))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: history: expected an array of [query, response]", c->where);
    int i = 0;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, h) {
        const cJSON *q = cJSON_GetArrayItem(pair, 0), *a = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsString(q) ||
            !cJSON_IsString(a))
            return FMT_FAIL(c, DERR_FIELD, e, "%s: history[%d]: expected [query, response] "
                            "(two strings)", c->where, i);
        if (conv_add(conv, ROLE_USER, q->valuestring, 1, e) ||
            conv_add(conv, ROLE_ASSISTANT, a->valuestring, 1, e))
            return -1;
        i++;
    }
    return 0;
}

// The shared tail: [system] [history] (prompt, reply), checked and emitted.
static int instruct(FmtCtx *c, const cJSON *j, const char *system, const char *prompt,
                    const char *extra, const char *reply, const char *category, Err *e) {
    DataRecord rec = {.kind = REC_CONV};
    Buf user = {0};
    int rc = 0;
    if (system[0]) rc = conv_add(&rec.conv, ROLE_SYSTEM, system, 0, e);
    if (!rc) rc = history(c, j, &rec.conv, e);
    if (!rc) rc = fmt_join(&user, prompt, extra, e);
    if (!rc && user.len == 0)
        rc = FMT_FAIL(c, DERR_FIELD, e, "%s: instruction: empty (and no input)", c->where);
    if (!rc) rc = conv_add(&rec.conv, ROLE_USER, user.data, 1, e);
    if (!rc) rc = conv_add(&rec.conv, ROLE_ASSISTANT, reply, 1, e);
    if (!rc) rc = fmt_dup(&rec.category, category, e);
    if (!rc) rc = fmt_emit(c, &rec, e);
    buf_free(&user);
    data_record_free(&rec);
    return rc;
}

int fmt_alpaca(FmtCtx *c, const cJSON *j, Err *e) {
    const char *ins = "", *input = "", *out = "", *sys = "";
    if (fmt_refuse_tools(c, j, e) || req_str(c, j, "instruction", &ins, e) ||
        opt_str(c, j, "input", &input, e) || req_str(c, j, "output", &out, e) ||
        opt_str(c, j, "system", &sys, e))
        return -1;
    return instruct(c, j, sys, ins, input, out, NULL, e);
}

int fmt_dolly(FmtCtx *c, const cJSON *j, Err *e) {
    const char *ins = "", *ctx = "", *resp = "", *cat = "";
    if (req_str(c, j, "instruction", &ins, e) || opt_str(c, j, "context", &ctx, e) ||
        req_str(c, j, "response", &resp, e) || opt_str(c, j, "category", &cat, e))
        return -1;
    return instruct(c, j, "", ins, ctx, resp, cat[0] ? cat : NULL, e);
}
