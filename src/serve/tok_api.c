// tok_api.c: /tokenize, /detokenize and /apply-template (see tok_api.h).
#include "serve/tok_api.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chat/conv.h"
#include "serve/json_str.h"
#include "util/utf8.h"

static int parse_object(const char *body, size_t len, cJSON **root, ApiError *a) {
    *root = cJSON_ParseWithLength(body, len);
    if (*root && cJSON_IsObject(*root)) return 0;
    cJSON_Delete(*root);
    *root = NULL;
    return api_error(a, 400, NULL, "invalid_json", "We could not parse the JSON body of your "
                     "request: expected a JSON object.");
}

static int opt_bool(const cJSON *root, const char *name, bool def, bool *out, ApiError *a) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    *out = def;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsBool(v))
        return api_error(a, 400, name, "invalid_type", "Invalid type for '%s': expected a boolean.", name);
    *out = cJSON_IsTrue(v);
    return 0;
}

// {"id", "piece", "special"}: piece is the token's text, or its bytes when they are not
// valid UTF-8 alone (a piece of a multi-byte character).
static cJSON *piece(const Tokenizer *t, int32_t id) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", id);
    size_t n = 0;
    const uint8_t *b = tok_token_bytes(t, id, &n);
    if (!b) {
        cJSON_AddStringToObject(o, "piece", "");
    } else if (utf8_find_invalid((const char *)b, n) == (size_t)-1) {
        cJSON_AddItemToObject(o, "piece", json_string_n((const char *)b, n));
    } else {
        cJSON *arr = cJSON_AddArrayToObject(o, "piece");
        for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(b[i]));
    }
    cJSON_AddBoolToObject(o, "special", tok_is_special(t, id) != 0);
    return o;
}

static cJSON *ids_json(const Tokenizer *t, const IntVec *ids, bool with_pieces) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < ids->len; i++)
        cJSON_AddItemToArray(arr, with_pieces ? piece(t, ids->data[i]) : cJSON_CreateNumber(ids->data[i]));
    return arr;
}

static int finish(cJSON *o, char **out, ApiError *a) {
    *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return *out ? 0 : api_error(a, 500, NULL, NULL, "out of memory");
}

int tok_api_tokenize(const ServeModel *m, const char *body, size_t len, char **out, ApiError *a) {
    cJSON *root;
    if (parse_object(body, len, &root, a)) return -1;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
    bool add_special, parse_special, with_pieces;
    int rc = -1;
    IntVec ids = {0};
    Err e = {0};
    if (!cJSON_IsString(content)) {
        api_error(a, 400, "content", "invalid_type", "Invalid 'content': expected a string.");
    } else if (!opt_bool(root, "add_special", false, &add_special, a) &&
               !opt_bool(root, "parse_special", false, &parse_special, a) &&
               !opt_bool(root, "with_pieces", false, &with_pieces, a)) {
        int flags = (add_special ? TOK_ADD_BOS : 0) | (parse_special ? TOK_ALLOW_SPECIAL : 0);
        if (tok_encode(m->tok, content->valuestring, strlen(content->valuestring), flags, &ids, &e)) {
            api_error(a, 400, "content", "invalid_value", "content: %s", e.msg);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "tokens", ids_json(m->tok, &ids, with_pieces));
            rc = finish(o, out, a);
        }
    }
    ivec_free(&ids);
    cJSON_Delete(root);
    return rc;
}

int tok_api_detokenize(const ServeModel *m, const char *body, size_t len, char **out, ApiError *a) {
    cJSON *root;
    if (parse_object(body, len, &root, a)) return -1;
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(root, "tokens");
    IntVec ids = {0};
    Buf text = {0}, valid = {0};
    int rc = -1, V = tok_vocab_size(m->tok);
    if (!cJSON_IsArray(tokens)) {
        api_error(a, 400, "tokens", "invalid_type", "Invalid 'tokens': expected an array of token ids.");
        goto done;
    }
    const cJSON *id;
    int i = 0;
    cJSON_ArrayForEach(id, tokens) {
        size_t n;
        if (!cJSON_IsNumber(id) || id->valuedouble != floor(id->valuedouble) || id->valuedouble < 0 ||
            id->valuedouble >= V || !tok_token_bytes(m->tok, (int32_t)id->valuedouble, &n)) {
            api_error(a, 400, "tokens", "invalid_value", "Invalid 'tokens[%d]': not a token id of "
                      "this tokenizer ([0, %d)).", i, V);
            goto done;
        }
        if (ivec_push(&ids, (int32_t)id->valuedouble)) goto oom;
        i++;
    }
    Err e = {0};
    if (tok_decode(m->tok, ids.data, ids.len, &text, &e)) {
        api_error(a, 400, "tokens", "invalid_value", "%s", e.msg);
        goto done;
    }
    // The ids may end inside a character: the text shows U+FFFD there, as decoders do.
    if (utf8_replace_invalid(text.data ? text.data : "", text.len, &valid)) goto oom;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "content", json_string_n(valid.data ? valid.data : "", valid.len));
    rc = finish(o, out, a);
    goto done;
oom:
    api_error(a, 500, NULL, NULL, "out of memory");
done:
    ivec_free(&ids);
    buf_free(&text);
    buf_free(&valid);
    cJSON_Delete(root);
    return rc;
}

int tok_api_apply_template(const ServeModel *m, const char *body, size_t len, char **out, ApiError *a) {
    if (!m->tpl)
        return api_error(a, 400, "messages", "no_chat_template", "This model has no chat template: "
                         "start the server with --template NAME.");
    cJSON *root;
    if (parse_object(body, len, &root, a)) return -1;
    bool gen, with_pieces;
    int rc = opt_bool(root, "add_generation_prompt", true, &gen, a) ||
             opt_bool(root, "with_pieces", false, &with_pieces, a) ? -1 : 0;
    cJSON_Delete(root);
    if (rc) return -1;
    Conversation c = {0};
    IntVec ids = {0}, mask = {0};
    Buf text = {0}, valid = {0};
    Err e = {0};
    if (conv_parse_json(body, len, "request", &c, &e)) {
        api_error(a, 400, "messages", "invalid_value", "%s", strncmp(e.msg, "request: ", 9) ? e.msg : e.msg + 9);
    } else if (chat_render(m->tok, m->tpl, &c, gen, &ids, &mask, &e) ||
               tok_decode(m->tok, ids.data, ids.len, &text, &e)) {
        api_error(a, 400, "messages", "invalid_value", "%s", e.msg);
    } else if (utf8_replace_invalid(text.data ? text.data : "", text.len, &valid)) {
        api_error(a, 500, NULL, NULL, "out of memory");
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "prompt", json_string_n(valid.data ? valid.data : "", valid.len));
        cJSON_AddItemToObject(o, "tokens", ids_json(m->tok, &ids, with_pieces));
        cJSON_AddItemToObject(o, "mask", ids_json(m->tok, &mask, false));
        cJSON_AddStringToObject(o, "template", m->tpl->name);
        cJSON_AddBoolToObject(o, "add_generation_prompt", gen);
        rc = finish(o, out, a);
        goto done;
    }
    rc = -1;
done:
    conv_free(&c);
    ivec_free(&ids);
    ivec_free(&mask);
    buf_free(&text);
    buf_free(&valid);
    return rc;
}
