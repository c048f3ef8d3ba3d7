// test_serve.c: the server's request checking and response building (src/serve), without
// a network or a model (tests/js/serve.test.mjs drives the whole server):
//   - gen_request_parse: a chat request's prompt is chat_render's ids; defaults; every
//     wrong field is a 400 (404 for the model) naming the field, with OpenAI's codes;
//     a prompt longer than the context is context_length_exceeded;
//   - no input crashes it: every prefix of valid requests, and byte-flipped variants
//     (run under ASan by `make asan`);
//   - api_error_json has OpenAI's shape;
//   - reply: events of two choices become one chat.completion (content, finish_reason,
//     usage) and, streaming, well-formed SSE chunks ending in [DONE]; a NUL byte in the
//     text is kept (\u0000).
// Needs o200k_base ranks (npm tiktoken's, or ../shared/data's); skips (77) without them.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/api_error.h"
#include "serve/gen_request.h"
#include "serve/reply.h"
#include "check.h"

static Tokenizer *load_o200k(void) {
    const char *shared = getenv("SHARED_DATA") ? getenv("SHARED_DATA") : "../shared/data";
    char d[4096];
    snprintf(d, sizeof d, "%s/tokenizers/tiktoken", shared);
    const char *dirs[] = {"node_modules/tiktoken/encoders", d};
    for (int i = 0; i < 2; i++) {
        Tokenizer *t;
        Err e = {0};
        if (tok_load(&t, "o200k_base", dirs[i], &e) == 0) return t;
    }
    return NULL;
}

static ServeModel M;

static int parse(GenKind kind, const char *body, GenRequest *g, ApiError *a) {
    memset(a, 0, sizeof *a);
    return gen_request_parse(g, kind, body, strlen(body), &M, a);
}

// The request fails with status, param ("" for null) and code.
static void check_error(GenKind kind, const char *body, int status, const char *param, const char *code) {
    GenRequest g;
    ApiError a;
    int rc = parse(kind, body, &g, &a);
    CHECK(rc == -1 && a.status == status && !strcmp(a.param, param) && a.code && !strcmp(a.code, code) &&
          a.message[0], "%.70s -> %d %s %s (got %d '%s' %s: %s)", body, status, param, code, a.status,
          a.param, a.code ? a.code : "null", a.message);
    if (rc == 0) gen_request_free(&g);
}

static void test_chat_request(void) {
    const char *body = "{\"model\": \"m\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                       "{\"role\": \"user\", \"content\": \"What is 2+2?\"}], \"max_tokens\": 7,"
                       "\"temperature\": 0.5, \"top_p\": 0.9, \"seed\": 12, \"n\": 2, \"stop\": [\"\\n\", \"END\"],"
                       "\"stream\": true, \"stream_options\": {\"include_usage\": true},"
                       "\"logprobs\": true, \"top_logprobs\": 3, \"frequency_penalty\": 0.1}";
    GenRequest g;
    ApiError a;
    int rc = parse(GEN_CHAT, body, &g, &a);
    CHECK(rc == 0, "a full chat request parses (%s)", a.message);
    if (rc) return;
    Conversation c = {0};
    IntVec ids = {0}, mask = {0};
    Err e = {0};
    conv_parse_json(body, strlen(body), "t", &c, &e);
    chat_render(M.tok, M.tpl, &c, true, &ids, &mask, &e);
    CHECK(ids.len == g.prompt.len && !memcmp(ids.data, g.prompt.data, ids.len * sizeof(int32_t)),
          "its prompt is chat_render's ids with the generation prompt (%zu tokens)", ids.len);
    CHECK(g.params.max_tokens == 7 && g.params.temperature == 0.5f && g.params.top_p == 0.9f &&
          g.params.seed == 12 && g.params.frequency_penalty == 0.1f, "sampling settings taken");
    CHECK(g.n == 2 && g.stream && g.include_usage && g.logprobs && g.top_logprobs == 3 &&
          g.params.logprobs == 3, "n, stream, include_usage, logprobs");
    CHECK(g.n_stops == 2 && !strcmp(g.stops[0], "\n") && !strcmp(g.stops[1], "END"), "stop strings");
    gen_request_free(&g);
    conv_free(&c);
    ivec_free(&ids);
    ivec_free(&mask);

    rc = parse(GEN_CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_completion_tokens\": 3,"
               " \"stop\": \"x\", \"temperature\": null}", &g, &a);
    CHECK(rc == 0 && g.params.max_tokens == 3 && g.n_stops == 1 && g.n == 1 && !g.stream &&
          g.params.temperature == 1.0f, "model may be left out; max_completion_tokens; null = not given");
    if (rc == 0) gen_request_free(&g);
    rc = parse(GEN_COMPLETION, "{\"model\": \"m\", \"prompt\": \"Hello\", \"logprobs\": 2}", &g, &a);
    CHECK(rc == 0 && g.params.max_tokens == 16 && g.logprobs && g.top_logprobs == 2,
          "completions: max_tokens defaults to 16 as OpenAI's, logprobs is a count");
    if (rc == 0) gen_request_free(&g);
    rc = parse(GEN_COMPLETION, "{\"prompt\": [[9906, 1917]]}", &g, &a);
    CHECK(rc == 0 && g.prompt.len == 2 && g.prompt.data[0] == 9906, "completions: a prompt of token ids");
    if (rc == 0) gen_request_free(&g);
}

static void test_errors(void) {
    const GenKind C = GEN_CHAT, P = GEN_COMPLETION;
    check_error(C, "", 400, "", "invalid_json");
    check_error(C, "{\"messages\": [", 400, "", "invalid_json");
    check_error(C, "[1, 2]", 400, "", "invalid_json");
    check_error(C, "{\"model\": \"gpt-4o\", \"messages\": []}", 404, "model", "model_not_found");
    check_error(C, "{\"model\": 5, \"messages\": []}", 400, "model", "invalid_type");
    check_error(C, "{\"messages\": []}", 400, "messages", "invalid_value");
    check_error(C, "{\"messages\": \"hi\"}", 400, "messages", "invalid_value");
    check_error(C, "{}", 400, "messages", "invalid_value");
    check_error(C, "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", 400, "messages", "invalid_value");
    check_error(C, "{\"messages\": [{\"role\": \"user\"}]}", 400, "messages", "invalid_value");
    check_error(C, "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", 400, "messages", "invalid_value");
    check_error(C, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": []}", 400, "messages", "unsupported");
#define MSG "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]"
    check_error(C, "{" MSG ", \"temperature\": \"hot\"}", 400, "temperature", "invalid_type");
    check_error(C, "{" MSG ", \"temperature\": 3}", 400, "temperature", "invalid_value");
    check_error(C, "{" MSG ", \"top_p\": -0.1}", 400, "top_p", "invalid_value");
    check_error(C, "{" MSG ", \"max_tokens\": 1.5}", 400, "max_tokens", "invalid_type");
    check_error(C, "{" MSG ", \"max_tokens\": 0}", 400, "max_tokens", "invalid_value");
    check_error(C, "{" MSG ", \"max_completion_tokens\": \"9\"}", 400, "max_completion_tokens", "invalid_type");
    check_error(C, "{" MSG ", \"n\": 0}", 400, "n", "invalid_value");
    check_error(C, "{" MSG ", \"n\": 1000}", 400, "n", "invalid_value");
    check_error(C, "{" MSG ", \"seed\": \"x\"}", 400, "seed", "invalid_type");
    check_error(C, "{" MSG ", \"stream\": 1}", 400, "stream", "invalid_type");
    check_error(C, "{" MSG ", \"stream_options\": true}", 400, "stream_options", "invalid_type");
    check_error(C, "{" MSG ", \"stop\": 7}", 400, "stop", "invalid_type");
    check_error(C, "{" MSG ", \"stop\": [\"a\", 7]}", 400, "stop", "invalid_type");
    check_error(C, "{" MSG ", \"stop\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
                   "\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}", 400, "stop", "invalid_value");
    check_error(C, "{" MSG ", \"logprobs\": 2}", 400, "logprobs", "invalid_type");
    check_error(C, "{" MSG ", \"top_logprobs\": 3}", 400, "top_logprobs", "invalid_value");
    check_error(C, "{" MSG ", \"logprobs\": true, \"top_logprobs\": 21}", 400, "top_logprobs", "invalid_value");
    check_error(C, "{" MSG ", \"presence_penalty\": 5}", 400, "presence_penalty", "invalid_value");
    check_error(P, "{}", 400, "prompt", "missing_required_parameter");
    check_error(P, "{\"prompt\": 5}", 400, "prompt", "invalid_type");
    check_error(P, "{\"prompt\": [\"a\", \"b\"]}", 400, "prompt", "invalid_type");
    check_error(P, "{\"prompt\": [1, 2, 1e12]}", 400, "prompt", "invalid_value");
    check_error(P, "{\"prompt\": [1, -2]}", 400, "prompt", "invalid_value");
    check_error(P, "{\"prompt\": []}", 400, "prompt", "invalid_type");
    check_error(P, "{\"prompt\": \"\"}", 400, "prompt", "invalid_value");
    check_error(P, "{\"prompt\": \"hi\", \"logprobs\": true}", 400, "logprobs", "invalid_type");
    // The context holds 64 tokens here.
    char body[4096];
    snprintf(body, sizeof body, "{\"prompt\": \"%s\"}", "one two three four five six seven eight nine ten "
             "one two three four five six seven eight nine ten one two three four five six seven eight "
             "nine ten one two three four five six seven eight nine ten one two three four five six "
             "seven eight nine ten one two three four five six seven eight nine ten one two three "
             "four five six seven eight nine ten one two three four five six seven eight nine ten");
    check_error(P, body, 400, "prompt", "context_length_exceeded");
    GenRequest g;
    ApiError a;
    parse(P, body, &g, &a);
    CHECK(strstr(a.message, "maximum context length is 64 tokens"), "the message says the limit: %s", a.message);
}

// Every prefix of valid bodies, and each byte replaced by a few others: no crash, and a
// failure is always a 4xx with a message.
static void test_no_crash(void) {
    const char *bodies[] = {
        "{\"model\": \"m\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
        "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Hi\"}]}], \"max_tokens\": 7,"
        "\"stop\": [\"a\"], \"n\": 2, \"logprobs\": true, \"top_logprobs\": 2, \"stream_options\": {\"include_usage\": false}}",
        "{\"prompt\": [1, 2, 3], \"seed\": -5, \"top_k\": 3, \"min_p\": 0.1, \"repetition_penalty\": 1.1, \"ignore_eos\": true}",
    };
    const char subst[] = {'"', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '\\', 'n', 0x80, 0};
    int ok = 1, runs = 0;
    for (int b = 0; b < 2; b++) {
        const char *s = bodies[b];
        size_t n = strlen(s);
        char *buf = malloc(n + 1);
        for (int kind = 0; kind < 2; kind++) {
            for (size_t len = 0; len <= n; len++) {
                GenRequest g;
                ApiError a = {0};
                int rc = gen_request_parse(&g, (GenKind)kind, s, len, &M, &a);
                runs++;
                if (rc == 0) gen_request_free(&g);
                else if (a.status < 400 || a.status > 499 || !a.message[0]) ok = 0;
            }
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < sizeof subst; k++) {
                    memcpy(buf, s, n + 1);
                    buf[i] = subst[k];
                    GenRequest g;
                    ApiError a = {0};
                    int rc = gen_request_parse(&g, (GenKind)kind, buf, n, &M, &a);
                    runs++;
                    if (rc == 0) gen_request_free(&g);
                    else if (a.status < 400 || a.status > 499 || !a.message[0]) ok = 0;
                }
        }
        free(buf);
    }
    CHECK(ok, "%d truncated and mutated requests: each parses or is a 4xx with a message", runs);
}

static void test_error_json(void) {
    ApiError a = {0};
    api_error(&a, 401, NULL, "invalid_api_key", "Incorrect API key: %s", "\"quoted\"");
    char *s = api_error_json(&a);
    cJSON *j = cJSON_Parse(s), *err = cJSON_GetObjectItem(j, "error");
    CHECK(err && cJSON_IsString(cJSON_GetObjectItem(err, "message")) &&
          !strcmp(cJSON_GetObjectItem(err, "message")->valuestring, "Incorrect API key: \"quoted\"") &&
          !strcmp(cJSON_GetObjectItem(err, "type")->valuestring, "invalid_request_error") &&
          cJSON_IsNull(cJSON_GetObjectItem(err, "param")) &&
          !strcmp(cJSON_GetObjectItem(err, "code")->valuestring, "invalid_api_key"),
          "OpenAI's error shape: %s", s);
    cJSON_Delete(j);
    free(s);
    api_error(&a, 503, "x", NULL, "busy");
    s = api_error_json(&a);
    j = cJSON_Parse(s);
    err = cJSON_GetObjectItem(j, "error");
    CHECK(!strcmp(cJSON_GetObjectItem(err, "type")->valuestring, "server_error") &&
          !strcmp(cJSON_GetObjectItem(err, "param")->valuestring, "x") &&
          cJSON_IsNull(cJSON_GetObjectItem(err, "code")), "5xx: server_error, null code: %s", s);
    cJSON_Delete(j);
    free(s);
}

static GenEvent event(int choice, const char *text, bool token, FinishReason finish) {
    return (GenEvent){.choice = choice, .has_token = token, .token = 9906, .text = (char *)text,
                      .text_len = strlen(text), .finish = finish};
}

static void test_reply(void) {
    GenRequest g;
    ApiError a;
    if (parse(GEN_CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 2,"
              " \"stream_options\": {\"include_usage\": true}}", &g, &a)) {
        CHECK(0, "request for the reply tests: %s", a.message);
        return;
    }
    GenEvent evs[] = {event(0, "Hel", true, FINISH_NONE), event(1, "Bye", true, FINISH_NONE),
                      event(0, "lo", true, FINISH_NONE), event(1, "", true, FINISH_STOP),
                      event(0, "!", true, FINISH_LENGTH)};
    Reply r;
    reply_init(&r, &g, M.tok, "m", 1);
    for (int i = 0; i < 5; i++) reply_feed(&r, &evs[i], NULL);
    char *s = reply_json(&r);
    cJSON *j = cJSON_Parse(s), *ch = cJSON_GetObjectItem(j, "choices"), *u = cJSON_GetObjectItem(j, "usage");
    cJSON *c0 = cJSON_GetArrayItem(ch, 0), *c1 = cJSON_GetArrayItem(ch, 1);
    CHECK(reply_done(&r) && c0 && c1 &&
          !strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(c0, "message"), "content")->valuestring, "Hello!") &&
          !strcmp(cJSON_GetObjectItem(c0, "finish_reason")->valuestring, "length") &&
          !strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(c1, "message"), "content")->valuestring, "Bye") &&
          !strcmp(cJSON_GetObjectItem(c1, "finish_reason")->valuestring, "stop") &&
          cJSON_GetObjectItem(u, "completion_tokens")->valueint == 5 &&
          cJSON_GetObjectItem(u, "prompt_tokens")->valueint == (int)g.prompt.len &&
          !strcmp(cJSON_GetObjectItem(j, "object")->valuestring, "chat.completion"),
          "non-stream: two choices, their text, finish reasons and usage: %.300s", s);
    cJSON_Delete(j);
    free(s);
    reply_free(&r);

    reply_init(&r, &g, M.tok, "m", 2);
    Buf sse = {0};
    for (int i = 0; i < 5; i++) reply_feed(&r, &evs[i], &sse);
    reply_stream_end(&r, &sse);
    // Every event is "data: <json>\n\n"; the last is [DONE]; the content deltas add up.
    int events = 0, bad = 0, finishes = 0, usage = 0;
    Buf text0 = {0};
    char *p = sse.data;
    while (p && *p) {
        char *end = strstr(p, "\n\n");
        if (strncmp(p, "data: ", 6) || !end) {
            bad++;
            break;
        }
        *end = 0;
        events++;
        if (!strcmp(p + 6, "[DONE]")) {
            p = end + 2;
            if (*p) bad++;
            break;
        }
        cJSON *o = cJSON_Parse(p + 6);
        if (!o) bad++;
        cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
        if (cJSON_GetObjectItem(o, "usage")) usage++;
        if (c && cJSON_IsString(cJSON_GetObjectItem(c, "finish_reason"))) finishes++;
        cJSON *content = c ? cJSON_GetObjectItem(cJSON_GetObjectItem(c, "delta"), "content") : NULL;
        if (c && cJSON_GetObjectItem(c, "index")->valueint == 0 && cJSON_IsString(content))
            buf_append(&text0, content->valuestring, strlen(content->valuestring));
        cJSON_Delete(o);
        p = end + 2;
    }
    CHECK(!bad && finishes == 2 && usage == 1 && text0.data && !strcmp(text0.data, "Hello!"),
          "stream: %d well-formed events, 2 finish chunks, a usage chunk, [DONE] last", events);
    buf_free(&text0);
    buf_free(&sse);
    reply_free(&r);
    gen_request_free(&g);

    // A byte-level model may emit byte 0: the JSON says \u0000, it does not cut the text.
    parse(GEN_COMPLETION, "{\"prompt\": \"x\"}", &g, &a);
    GenEvent nul = {.has_token = true, .token = 15, .text = "a\0b", .text_len = 3, .finish = FINISH_STOP};
    reply_init(&r, &g, M.tok, "m", 3);
    reply_feed(&r, &nul, NULL);
    s = reply_json(&r);
    j = cJSON_Parse(s);
    CHECK(s && strstr(s, "\"text\":\"a\\u0000b\"") && j, "text with a NUL byte: %s", s);
    cJSON_Delete(j);
    free(s);
    reply_free(&r);
    gen_request_free(&g);
}

int main(void) {
    Tokenizer *t = load_o200k();
    if (!t) {
        printf("o200k_base ranks not found (npm ci, or set SHARED_DATA)\n");
        return 77;
    }
    const ChatTemplate *tpl = chat_template_find("gpt4o");
    Err e = {0};
    if (chat_prepare_tokenizer(t, tpl, &e)) {
        printf("FAIL  chat_prepare_tokenizer: %s\n", e.msg);
        return 1;
    }
    M = (ServeModel){.id = "m", .tok = t, .tpl = tpl, .vocab_size = tok_vocab_size(t), .ctx = 64};
    test_chat_request();
    test_errors();
    test_no_crash();
    test_error_json();
    test_reply();
    tok_free(t);
    return check_summary();
}
