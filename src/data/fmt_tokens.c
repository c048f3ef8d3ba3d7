// fmt_tokens.c: records that are not conversations — pre-tokenized ids and plain text.
//
// Tokens: {"ids": [non-negative ints], "mask": [0|1, ...]?}; mask as long as ids. No mask:
//         every token but the first is a target (the first has nothing to be predicted from).
// Text:   {"text": "..."} (a JSONL line per document); a .txt file is read whole by reader.c.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "data/fmt.h"

int fmt_tokens(FmtCtx *c, const cJSON *j, Err *e) {
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids");
    const cJSON *mask = cJSON_GetObjectItemCaseSensitive(j, "mask");
    if (!cJSON_IsArray(ids))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: ids: expected an array of token ids", c->where);
    if (mask && !cJSON_IsNull(mask) && !cJSON_IsArray(mask))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: mask: expected an array of 0/1", c->where);
    if (cJSON_IsNull(mask)) mask = NULL;
    int n = cJSON_GetArraySize(ids);
    if (n == 0) return FMT_FAIL(c, DERR_FIELD, e, "%s: ids: empty", c->where);
    if (mask && cJSON_GetArraySize(mask) != n)
        return FMT_FAIL(c, DERR_FIELD, e, "%s: mask: %d values for %d ids (must be equal)",
                        c->where, cJSON_GetArraySize(mask), n);
    DataRecord rec = {.kind = REC_TOKENS};
    int rc = 0, i = 0;
    if (ivec_reserve(&rec.ids, (size_t)n) || ivec_reserve(&rec.mask, (size_t)n)) {
        rc = ERR(e, ERR_NOMEM, "%s: out of memory for %d ids", c->where, n);
        goto done;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, ids) {
        double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
        if (!cJSON_IsNumber(v) || d < 0 || d > INT32_MAX || d != floor(d)) {
            rc = FMT_FAIL(c, DERR_FIELD, e, "%s: ids[%d]: expected a non-negative integer "
                          "(below 2^31)", c->where, i);
            goto done;
        }
        ivec_push(&rec.ids, (int32_t)d);
        i++;
    }
    i = 0;
    if (mask) {
        cJSON_ArrayForEach(v, mask) {
            int m = cJSON_IsBool(v) ? cJSON_IsTrue(v)
                    : !cJSON_IsNumber(v) ? -1 : v->valuedouble == 0 ? 0 : v->valuedouble == 1 ? 1 : -1;
            if (m < 0) {
                rc = FMT_FAIL(c, DERR_FIELD, e, "%s: mask[%d]: expected 0 or 1", c->where, i);
                goto done;
            }
            ivec_push(&rec.mask, m);
            i++;
        }
    } else {
        for (int k = 0; k < n; k++) ivec_push(&rec.mask, k > 0);
    }
    rc = fmt_emit(c, &rec, e);
done:
    data_record_free(&rec);
    return rc;
}

int fmt_text_json(FmtCtx *c, const cJSON *j, Err *e) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");
    if (!cJSON_IsString(t)) return FMT_FAIL(c, DERR_FIELD, e, "%s: text: expected a string", c->where);
    DataRecord rec = {.kind = REC_TEXT};
    int rc = buf_append(&rec.text, t->valuestring, strlen(t->valuestring))
                 ? ERR(e, ERR_NOMEM, "%s: out of memory", c->where) : 0;
    const char *lang = fmt_str(j, "lang");
    if (!rc && lang) rc = fmt_dup(&rec.lang, lang, e);
    if (!rc) rc = fmt_emit(c, &rec, e);
    data_record_free(&rec);
    return rc;
}
