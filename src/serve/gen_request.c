// gen_request.c: checks an OpenAI generation request and builds its prompt (see gen_request.h).
#include "serve/gen_request.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat/conv.h"

static const char *json_type_name(const cJSON *v) {
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "null";
}

// The field, or NULL when absent or null (OpenAI treats null as "not given").
static const cJSON *field(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static int get_number(const cJSON *obj, const char *name, double lo, double hi, float *out, ApiError *a) {
    const cJSON *v = field(obj, name);
    if (!v) return 0;
    if (!cJSON_IsNumber(v))
        return api_error(a, 400, name, "invalid_type", "Invalid type for '%s': expected a number, "
                         "but got %s instead.", name, json_type_name(v));
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return api_error(a, 400, name, "invalid_value", "Invalid '%s': %g is outside [%g, %g].",
                         name, v->valuedouble, lo, hi);
    *out = (float)v->valuedouble;
    return 0;
}

static int get_int(const cJSON *obj, const char *name, double lo, double hi, long long *out, ApiError *a) {
    const cJSON *v = field(obj, name);
    if (!v) return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return api_error(a, 400, name, "invalid_type", "Invalid type for '%s': expected an "
                         "integer, but got %s instead.", name,
                         cJSON_IsNumber(v) ? "a decimal" : json_type_name(v));
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return api_error(a, 400, name, "invalid_value", "Invalid '%s': %.0f is outside [%.0f, %.0f].",
                         name, v->valuedouble, lo, hi);
    *out = (long long)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *obj, const char *name, bool *out, ApiError *a) {
    const cJSON *v = field(obj, name);
    if (!v) return 0;
    if (!cJSON_IsBool(v))
        return api_error(a, 400, name, "invalid_type", "Invalid type for '%s': expected a "
                         "boolean, but got %s instead.", name, json_type_name(v));
    *out = cJSON_IsTrue(v);
    return 0;
}

// stop: a string or an array of strings.
static int get_stops(GenRequest *g, const cJSON *root, ApiError *a) {
    const cJSON *v = field(root, "stop");
    if (!v) return 0;
    if (cJSON_IsString(v)) {
        if (v->valuestring[0] && !(g->stops[g->n_stops++] = strdup(v->valuestring)))
            return api_error(a, 500, NULL, NULL, "out of memory");
        return 0;
    }
    if (!cJSON_IsArray(v))
        return api_error(a, 400, "stop", "invalid_type", "Invalid type for 'stop': expected a "
                         "string or an array of strings, but got %s instead.", json_type_name(v));
    if (cJSON_GetArraySize(v) > GEN_MAX_STOPS)
        return api_error(a, 400, "stop", "invalid_value", "Invalid 'stop': at most %d stop "
                         "strings, got %d.", GEN_MAX_STOPS, cJSON_GetArraySize(v));
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, v) {
        if (!cJSON_IsString(s))
            return api_error(a, 400, "stop", "invalid_type", "Invalid type for 'stop[%d]': "
                             "expected a string, but got %s instead.", i, json_type_name(s));
        if (s->valuestring[0] && !(g->stops[g->n_stops++] = strdup(s->valuestring)))
            return api_error(a, 500, NULL, NULL, "out of memory");
        i++;
    }
    return 0;
}

int gen_check_length(const ServeModel *m, int n_prompt, const char *param, ApiError *a) {
    if (n_prompt >= m->ctx)
        return api_error(a, 400, param, "context_length_exceeded", "This model's maximum context "
                         "length is %d tokens. However, your %s resulted in %d tokens. Please "
                         "reduce the length of the %s.", m->ctx,
                         !strcmp(param, "messages") ? "messages" : "prompt", n_prompt,
                         !strcmp(param, "messages") ? "messages" : "prompt");
    return 0;
}

// The chat prompt: messages rendered with the template, ending in the assistant header.
static int chat_prompt(GenRequest *g, const char *body, size_t len, const ServeModel *m, ApiError *a) {
    if (!m->tpl)
        return api_error(a, 400, "messages", "no_chat_template", "This model has no chat template, "
                         "so it cannot chat: use /v1/completions, or start the server with "
                         "--template NAME.");
    Conversation c = {0};
    Err e = {0};
    if (conv_parse_json(body, len, "request", &c, &e)) {
        conv_free(&c);
        // conv's messages read "request: messages[1].role: …"; keep the part after "request: ".
        const char *msg = strncmp(e.msg, "request: ", 9) ? e.msg : e.msg + 9;
        return api_error(a, 400, "messages", e.code == ERR_UNSUPPORTED ? "unsupported" : "invalid_value",
                         "%s", msg);
    }
    if (c.n == 0) {
        conv_free(&c);
        return api_error(a, 400, "messages", "invalid_value", "messages: expected at least one message.");
    }
    IntVec mask = {0};
    int rc = chat_render(m->tok, m->tpl, &c, true, &g->prompt, &mask, &e);
    ivec_free(&mask);
    conv_free(&c);
    if (rc) return api_error(a, 400, "messages", "invalid_value", "%s", e.msg);
    return 0;
}

// The completion prompt: a string, an array of token ids, or an array holding one of those.
static int completion_prompt(GenRequest *g, const cJSON *root, const ServeModel *m, ApiError *a) {
    const cJSON *p = field(root, "prompt");
    if (!p) return api_error(a, 400, "prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.");
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && !cJSON_IsNumber(p->child)) p = p->child;
    Err e = {0};
    if (cJSON_IsString(p)) {
        if (tok_encode(m->tok, p->valuestring, strlen(p->valuestring), m->add_bos ? TOK_ADD_BOS : 0,
                       &g->prompt, &e))
            return api_error(a, 400, "prompt", "invalid_value", "prompt: %s", e.msg);
    } else if (cJSON_IsArray(p) && cJSON_GetArraySize(p) > 0 && cJSON_IsNumber(p->child)) {
        int i = 0;
        const cJSON *id;
        cJSON_ArrayForEach(id, p) {
            if (!cJSON_IsNumber(id) || id->valuedouble != floor(id->valuedouble) ||
                id->valuedouble < 0 || id->valuedouble >= m->vocab_size)
                return api_error(a, 400, "prompt", "invalid_value", "Invalid 'prompt[%d]': expected "
                                 "a string, or token ids in [0, %d).", i, m->vocab_size);
            if (ivec_push(&g->prompt, (int32_t)id->valuedouble))
                return api_error(a, 500, NULL, NULL, "out of memory");
            i++;
        }
    } else {
        return api_error(a, 400, "prompt", "invalid_type", "Invalid 'prompt': expected a string or "
                         "an array of token ids (one prompt per request), but got %s.",
                         cJSON_IsArray(p) ? "an array of several prompts" : json_type_name(p));
    }
    if (g->prompt.len == 0)
        return api_error(a, 400, "prompt", "invalid_value", "Invalid 'prompt': it is empty.");
    return 0;
}

// Every prompt id must have an embedding: a chat template's tokens may have been added
// to the tokenizer beyond a base model's vocabulary (the model was never fine-tuned on them).
static int check_vocab(const GenRequest *g, const ServeModel *m, ApiError *a) {
    for (size_t i = 0; i < g->prompt.len; i++) {
        int32_t id = g->prompt.data[i];
        if (id < m->vocab_size) continue;
        size_t n = 0;
        const uint8_t *b = tok_token_bytes(m->tok, id, &n);
        return api_error(a, 400, g->kind == GEN_CHAT ? "messages" : "prompt", "invalid_value",
                         "Token %.*s (id %d) lies beyond this model's vocabulary of %d: the chat "
                         "template's special tokens were never trained into it. Fine-tune it for chat "
                         "(posttrain train), or use /v1/completions.",
                         b ? (int)n : 1, b ? (const char *)b : "?", id, m->vocab_size);
    }
    return 0;
}

static int parse(GenRequest *g, const cJSON *root, const char *body, size_t len, const ServeModel *m, ApiError *a) {
    const cJSON *model = field(root, "model");
    if (model && !cJSON_IsString(model))
        return api_error(a, 400, "model", "invalid_type", "Invalid type for 'model': expected a "
                         "string, but got %s instead.", json_type_name(model));
    if (model && strcmp(model->valuestring, m->id))
        return api_error(a, 404, "model", "model_not_found", "The model '%.200s' does not exist: "
                         "this server serves '%s'.", model->valuestring, m->id);
    SampleParams *p = &g->params;
    long long v;
    v = p->max_tokens;
    const char *max_name = field(root, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if (get_int(root, max_name, 1, 1 << 30, &v, a)) return -1;
    p->max_tokens = (int)v;
    if (get_number(root, "temperature", 0, 2, &p->temperature, a) ||
        get_number(root, "top_p", 0, 1, &p->top_p, a) ||
        get_number(root, "min_p", 0, 1, &p->min_p, a) ||
        get_number(root, "frequency_penalty", -2, 2, &p->frequency_penalty, a) ||
        get_number(root, "presence_penalty", -2, 2, &p->presence_penalty, a) ||
        get_number(root, "repetition_penalty", 0.01, 100, &p->repetition_penalty, a))
        return -1;
    if (p->top_p == 0) p->top_p = 1e-6f;  // OpenAI accepts 0: only the most likely token
    v = 0;
    if (get_int(root, "top_k", 0, 1 << 30, &v, a)) return -1;
    p->top_k = (int)v;
    v = -1;
    if (get_int(root, "seed", -9.2e18, 9.2e18, &v, a)) return -1;
    if (v != -1) p->seed = (uint64_t)v;
    v = 1;
    if (get_int(root, "n", 1, GEN_MAX_N, &v, a)) return -1;
    g->n = (int)v;
    if (get_bool(root, "stream", &g->stream, a) || get_bool(root, "ignore_eos", &p->ignore_eos, a) ||
        get_stops(g, root, a))
        return -1;
    const cJSON *so = field(root, "stream_options");
    if (so && !cJSON_IsObject(so))
        return api_error(a, 400, "stream_options", "invalid_type", "Invalid type for "
                         "'stream_options': expected an object, but got %s instead.", json_type_name(so));
    if (so && get_bool(so, "include_usage", &g->include_usage, a)) return -1;
    if (g->kind == GEN_CHAT) {
        if (get_bool(root, "logprobs", &g->logprobs, a)) return -1;
        v = 0;
        if (get_int(root, "top_logprobs", 0, ENGINE_MAX_LOGPROBS, &v, a)) return -1;
        if (v && !g->logprobs)
            return api_error(a, 400, "top_logprobs", "invalid_value", "Invalid 'top_logprobs': "
                             "'logprobs' must be true when 'top_logprobs' is given.");
        g->top_logprobs = (int)v;
    } else {
        v = -1;
        if (get_int(root, "logprobs", 0, ENGINE_MAX_LOGPROBS, &v, a)) return -1;
        g->logprobs = v >= 0;
        g->top_logprobs = v > 0 ? (int)v : 0;
    }
    p->logprobs = g->top_logprobs;
    int rc = g->kind == GEN_CHAT ? chat_prompt(g, body, len, m, a) : completion_prompt(g, root, m, a);
    if (rc) return rc;
    return gen_check_length(m, (int)g->prompt.len, g->kind == GEN_CHAT ? "messages" : "prompt", a) ||
           check_vocab(g, m, a) ? -1 : 0;
}

int gen_request_parse(GenRequest *g, GenKind kind, const char *body, size_t len,
                      const ServeModel *m, ApiError *a) {
    memset(g, 0, sizeof *g);
    g->kind = kind;
    g->n = 1;
    sample_params_default(&g->params);
    // Defaults as OpenAI's: completions stop after 16 tokens, chat runs to the context.
    g->params.max_tokens = kind == GEN_COMPLETION ? 16 : 0;
    // No seed given: a fresh one per request (time and address mixed), so that replies vary.
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g->params.seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)g;
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return api_error(a, 400, NULL, "invalid_json", "We could not parse the JSON body of your "
                         "request: expected a JSON object.");
    }
    int rc = parse(g, root, body, len, m, a);
    cJSON_Delete(root);
    if (rc) gen_request_free(g);
    return rc;
}

void gen_request_free(GenRequest *g) {
    ivec_free(&g->prompt);
    for (int i = 0; i < g->n_stops; i++) free(g->stops[i]);
    g->n_stops = 0;
}
