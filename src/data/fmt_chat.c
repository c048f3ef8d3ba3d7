// fmt_chat.c: multi-turn chat records — OpenAI messages, ShareGPT conversations, UltraChat.
//
// OpenAI:    {"messages": [{"role": system|user|assistant, "content", "weight"?}]}
//            (conv_parse_json: one parser for `render` and the data readers)
// ShareGPT:  {"conversations": [{"from": human|gpt|system, "value"}], "system"?}
//            from: human/user -> user; gpt/assistant/chatgpt/bing/bard/model -> assistant;
//            function_call/observation/tool/function -> refused (DERR_TOOLS).
//            {"role", "content"} items are read the same way.
// UltraChat: {"id", "data": ["user", "assistant", "user", ...]} (alternating, user first)
// MT-Bench:  {"question_id", "category", "turns": ["user", "user"]} — evaluation prompts:
//            the user messages only (a model answers each in turn); category kept.
#include <string.h>

#include "data/fmt.h"

int fmt_openai(FmtCtx *c, const cJSON *j, const char *text, size_t len, Err *e) {
    if (fmt_refuse_tools(c, j, e)) return -1;  // "functions", the older name, too
    DataRecord rec = {.kind = REC_CONV};
    if (conv_parse_json(text, len, c->where, &rec.conv, e)) {
        // Sort conv.c's message into a kind: tool use, a role, or a field.
        if (e->code == ERR_UNSUPPORTED || strstr(e->msg, "tool messages are not supported")) {
            c->kind = DERR_TOOLS;
            e->code = ERR_UNSUPPORTED;
        } else if (strstr(e->msg, ".role: expected")) {
            c->kind = DERR_ROLE;
        } else {
            c->kind = DERR_FIELD;
        }
        data_record_free(&rec);
        return -1;
    }
    int rc = fmt_check_conv(c, &rec.conv, "messages", 0, e);
    if (!rc) rc = fmt_emit(c, &rec, e);
    data_record_free(&rec);
    return rc;
}

static int sharegpt_role(const char *from) {
    static const struct { const char *name; int role; } map[] = {
        {"human", ROLE_USER},      {"user", ROLE_USER},       {"gpt", ROLE_ASSISTANT},
        {"assistant", ROLE_ASSISTANT}, {"chatgpt", ROLE_ASSISTANT}, {"bing", ROLE_ASSISTANT},
        {"bard", ROLE_ASSISTANT},  {"model", ROLE_ASSISTANT}, {"system", ROLE_SYSTEM},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(from, map[i].name)) return map[i].role;
    return -1;
}

static int is_tool_speaker(const char *from) {
    return !strcmp(from, "function_call") || !strcmp(from, "observation") ||
           !strcmp(from, "tool") || !strcmp(from, "function") || !strcmp(from, "tool_call") ||
           !strcmp(from, "tool_response");
}

int fmt_sharegpt(FmtCtx *c, const cJSON *j, Err *e) {
    if (fmt_refuse_tools(c, j, e)) return -1;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "conversations");
    if (!cJSON_IsArray(list))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: conversations: expected an array", c->where);
    DataRecord rec = {.kind = REC_CONV};
    int rc = 0, skew = 0, i = 0;
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(j, "system");
    if (sys && !cJSON_IsNull(sys)) {
        if (!cJSON_IsString(sys)) {
            rc = FMT_FAIL(c, DERR_FIELD, e, "%s: system: expected a string", c->where);
            goto done;
        }
        if (sys->valuestring[0]) {  // LLaMA-Factory writes "" for none
            if ((rc = conv_add(&rec.conv, ROLE_SYSTEM, sys->valuestring, 0, e))) goto done;
            skew = 1;
        }
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
        const char *kf = "from", *kv = "value";
        if (!cJSON_IsObject(m)) {
            rc = FMT_FAIL(c, DERR_FIELD, e, "%s: conversations[%d]: expected an object", c->where, i);
            goto done;
        }
        if (!cJSON_GetObjectItemCaseSensitive(m, "from") && cJSON_GetObjectItemCaseSensitive(m, "role"))
            kf = "role", kv = "content";
        const char *from = fmt_str(m, kf), *value = fmt_str(m, kv);
        if (!from) {
            rc = FMT_FAIL(c, DERR_FIELD, e, "%s: conversations[%d].%s: expected a string",
                          c->where, i, kf);
            goto done;
        }
        int role = sharegpt_role(from);
        if (role < 0) {
            DataErrKind k = is_tool_speaker(from) ? DERR_TOOLS : DERR_ROLE;
            rc = FMT_FAIL(c, k, e, "%s: conversations[%d].%s: expected human|gpt|system, got "
                          "\"%.40s\"%s", c->where, i, kf, from,
                          k == DERR_TOOLS ? " (tool use is not supported)" : "");
            goto done;
        }
        if (!value) {
            rc = FMT_FAIL(c, DERR_FIELD, e, "%s: conversations[%d].%s: expected a string",
                          c->where, i, kv);
            goto done;
        }
        if ((rc = conv_add(&rec.conv, (ChatRole)role, value, 1, e))) goto done;
        i++;
    }
    if (!(rc = fmt_check_conv(c, &rec.conv, "conversations", skew, e))) rc = fmt_emit(c, &rec, e);
done:
    data_record_free(&rec);
    return rc;
}

int fmt_ultrachat(FmtCtx *c, const cJSON *j, Err *e) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "data");
    if (!cJSON_IsArray(list))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: data: expected an array of strings", c->where);
    DataRecord rec = {.kind = REC_CONV};
    int rc = 0, i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
        if (!cJSON_IsString(m)) {
            rc = FMT_FAIL(c, DERR_FIELD, e, "%s: data[%d]: expected a string", c->where, i);
            break;
        }
        if ((rc = conv_add(&rec.conv, i % 2 ? ROLE_ASSISTANT : ROLE_USER, m->valuestring, 1, e)))
            break;
        i++;
    }
    if (!rc && !(rc = fmt_check_conv(c, &rec.conv, "data", 0, e))) rc = fmt_emit(c, &rec, e);
    data_record_free(&rec);
    return rc;
}

int fmt_mtbench(FmtCtx *c, const cJSON *j, Err *e) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "turns");
    if (!cJSON_IsArray(list))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: turns: expected an array of strings", c->where);
    const cJSON *cat = cJSON_GetObjectItemCaseSensitive(j, "category");
    if (cat && !cJSON_IsString(cat))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: category: expected a string", c->where);
    DataRecord rec = {.kind = REC_CONV};
    int rc = 0, i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
        if (!cJSON_IsString(m)) {
            rc = FMT_FAIL(c, DERR_FIELD, e, "%s: turns[%d]: expected a string", c->where, i);
            break;
        }
        if ((rc = conv_add(&rec.conv, ROLE_USER, m->valuestring, 0, e))) break;
        i++;
    }
    if (!rc) rc = fmt_check_conv(c, &rec.conv, "turns", 0, e);
    if (!rc) rc = fmt_dup(&rec.category, cat ? cat->valuestring : NULL, e);
    if (!rc) rc = fmt_emit(c, &rec, e);
    data_record_free(&rec);
    return rc;
}
