// test_chat.c: the chat protocol — the seed's exact ids, masks, templates, errors.
// Needs o200k_base ranks: npm tiktoken's (node_modules) or ../shared/data's; skips
// (exit 77) when neither is present.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/template.h"
#include "util/file.h"
#include "check.h"


static int same(const IntVec *v, const int32_t *want, size_t n) {
    return v->len == n && memcmp(v->data, want, n * sizeof *want) == 0;
}

static Tokenizer *load_o200k(void) {
    const char *dirs[] = {"node_modules/tiktoken/encoders", getenv("SHARED_DATA")
                          ? getenv("SHARED_DATA") : "../shared/data", NULL};
    char d[4096];
    snprintf(d, sizeof d, "%s/tokenizers/tiktoken", dirs[1]);
    dirs[1] = d;
    for (int i = 0; i < 2; i++) {
        Tokenizer *t;
        Err e = {0};
        if (tok_load(&t, "o200k_base", dirs[i], &e) == 0) return t;
    }
    return NULL;
}

static int render(Tokenizer *t, const char *tpl, const char *json, bool gen, IntVec *ids,
                  IntVec *mask, Err *e) {
    Conversation c = {0};
    ids->len = mask->len = 0;
    const ChatTemplate *tp = chat_template_find(tpl);
    int rc = conv_parse_json(json, strlen(json), "test.jsonl:1", &c, e);
    if (!rc) rc = chat_prepare_tokenizer(t, tp, e);
    if (!rc) rc = chat_render(t, tp, &c, gen, ids, mask, e);
    conv_free(&c);
    return rc;
}

int main(void) {
    Tokenizer *t = load_o200k();
    if (!t) {
        printf("no o200k_base ranks (run npm ci, or provide ../shared/data)\n");
        return 77;
    }
    IntVec ids = {0}, mask = {0};
    Err e = {0};
    const char *seed = "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"},"
                       "{\"role\":\"assistant\",\"content\":\"2+2 = 4\"}]}";

    // The seed's example, id for id (the acceptance sequence).
    static const int32_t want[] = {200264, 1428, 200266, 4827, 382, 220, 17, 10, 17, 30, 200265,
                                   200264, 173781, 200266, 17, 10, 17, 314, 220, 19, 200265};
    static const int32_t want_mask[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 0, 1, 1, 1, 1, 1, 1, 1};
    int rc = render(t, "gpt4o", seed, false, &ids, &mask, &e);
    CHECK(rc == 0 && same(&ids, want, 21), "gpt4o renders the seed's 21 ids exactly");
    CHECK(rc == 0 && same(&mask, want_mask, 21), "loss on the reply and its <|im_end|> only");
    CHECK(tok_special_id(t, "<|im_start|>") == 200264 && tok_special_id(t, "<|im_end|>") == 200265 &&
              tok_special_id(t, "<|im_sep|>") == 200266,
          "protocol tokens added with o200k's known ids");

    // Generation prompt: the assistant header, no loss.
    rc = render(t, "gpt4o", "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"}]}", true,
                &ids, &mask, &e);
    CHECK(rc == 0 && same(&ids, want, 14), "--add-generation-prompt appends <|im_start|>assistant<|im_sep|>");
    int any = 0;
    for (size_t i = 0; i < mask.len; i++) any |= mask.data[i];
    CHECK(rc == 0 && !any, "a generation prompt carries no loss");

    // weight 0 keeps a reply in the context but out of the loss.
    rc = render(t, "gpt4o", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":"
                "\"assistant\",\"content\":\"bad\",\"weight\":0},{\"role\":\"user\",\"content\":\"again\"},"
                "{\"role\":\"assistant\",\"content\":\"good\",\"weight\":1}]}", false, &ids, &mask, &e);
    size_t targets = 0;
    for (size_t i = 0; i < mask.len; i++) targets += mask.data[i];
    size_t n_good = 0;
    {
        IntVec g = {0};
        tok_encode(t, "good", 4, 0, &g, &e);
        n_good = g.len;
        ivec_free(&g);
    }
    CHECK(rc == 0 && targets == n_good + 1, "weight 0 drops a reply from the loss (%zu targets)", targets);

    // A user typing the control token gets text, not the token.
    rc = render(t, "gpt4o", "{\"messages\":[{\"role\":\"user\",\"content\":\"<|im_end|>\"}]}", false,
                &ids, &mask, &e);
    int has_ctrl = 0;
    for (size_t i = 3; i + 1 < ids.len; i++) has_ctrl |= ids.data[i] == 200265;
    CHECK(rc == 0 && !has_ctrl && ids.len > 5, "\"<|im_end|>\" typed in content stays ordinary text");

    // chatml: <|im_start|>user\nhi<|im_end|>\n — newline after the end token is no target.
    rc = render(t, "chatml", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":"
                "\"assistant\",\"content\":\"yo\"}]}", false, &ids, &mask, &e);
    Buf text = {0};
    tok_decode(t, ids.data, ids.len, &text, &e);
    CHECK(rc == 0 && text.data && !strcmp(text.data, "<|im_start|>user\nhi<|im_end|>\n"
                                          "<|im_start|>assistant\nyo<|im_end|>\n"),
          "chatml text is <|im_start|>role\\ncontent<|im_end|>\\n");
    CHECK(rc == 0 && mask.data[mask.len - 1] == 0 && mask.data[mask.len - 2] == 1,
          "chatml: <|im_end|> is a target, the newline after it is not");
    buf_free(&text);

    // Parsing a generated reply stops at the end token.
    int32_t gen[] = {17, 10, 17, 314, 220, 19, 200265, 999};
    Buf reply = {0};
    bool ended = false;
    rc = chat_parse_reply(t, chat_template_find("gpt4o"), gen, 8, &reply, &ended, &e);
    CHECK(rc == 0 && ended && reply.data && !strcmp(reply.data, "2+2 = 4"),
          "generated ids parse back to \"2+2 = 4\", stopping at <|im_end|>");
    buf_free(&reply);

    // Errors name the place and the field.
    struct { const char *json, *needle; } bad[] = {
        {"{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "messages[0].role"},
        {"{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content: missing"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\",\"weight\":2}]}",
         "messages[1].weight"},
        {"{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}]}", "messages[0].tool_calls"},
        {"{\"messages\": [", "malformed JSON"},
        {"[1,2]", "expected a JSON object"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", "invalid UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        e.msg[0] = 0;
        rc = render(t, "gpt4o", bad[i].json, false, &ids, &mask, &e);
        CHECK(rc != 0 && strstr(e.msg, "test.jsonl:1") && strstr(e.msg, bad[i].needle),
              "bad input %zu rejected: %s", i, e.msg);
    }

    ivec_free(&ids);
    ivec_free(&mask);
    tok_free(t);
    return check_summary();
}
