// conv.c: conversations and their OpenAI-style JSON form (see conv.h).
#include "chat/conv.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/utf8.h"

static const char *role_names[] = {"system", "user", "assistant"};

const char *chat_role_name(ChatRole r) { return role_names[r]; }

int chat_role_parse(const char *s) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, role_names[i])) return i;
    return -1;
}

int conv_add(Conversation *c, ChatRole role, const char *content, int weight, Err *e) {
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        ChatMessage *m = realloc(c->msgs, (size_t)cap * sizeof *m);
        if (!m) return ERR(e, ERR_NOMEM, "out of memory");
        c->msgs = m;
        c->cap = cap;
    }
    char *copy = strdup(content);
    if (!copy) return ERR(e, ERR_NOMEM, "out of memory");
    c->msgs[c->n++] = (ChatMessage){role, copy, role == ROLE_ASSISTANT ? weight : 0};
    return 0;
}

void conv_free(Conversation *c) {
    for (int i = 0; i < c->n; i++) free(c->msgs[i].content);
    free(c->msgs);
    memset(c, 0, sizeof *c);
}

// content: a string, or OpenAI's list of parts of which only text parts are allowed.
static int content_text(const cJSON *v, const char *where, int i, Buf *out, Err *e) {
    if (cJSON_IsString(v)) return buf_append(out, v->valuestring, strlen(v->valuestring));
    if (!cJSON_IsArray(v))
        return ERR(e, ERR_FORMAT, "%s: messages[%d].content: expected a string or a list of "
                   "text parts", where, i);
    int k = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, v) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") || !cJSON_IsString(text))
            return ERR(e, ERR_FORMAT, "%s: messages[%d].content[%d]: only {\"type\": \"text\", "
                       "\"text\": …} parts are supported", where, i, k);
        if (buf_append(out, text->valuestring, strlen(text->valuestring))) return -1;
        k++;
    }
    return 0;
}

static int parse_message(const cJSON *m, const char *where, int i, Conversation *c, Err *e) {
    if (!cJSON_IsObject(m)) return ERR(e, ERR_FORMAT, "%s: messages[%d]: expected an object", where, i);
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
    if (!cJSON_IsString(role))
        return ERR(e, ERR_FORMAT, "%s: messages[%d].role: expected a string", where, i);
    int r = chat_role_parse(role->valuestring);
    if (r < 0)
        return ERR(e, ERR_FORMAT, "%s: messages[%d].role: expected system|user|assistant, got "
                   "\"%.40s\"%s", where, i, role->valuestring,
                   !strcmp(role->valuestring, "tool") || !strcmp(role->valuestring, "function")
                       ? " (tool messages are not supported yet)" : "");
    if (cJSON_GetObjectItemCaseSensitive(m, "tool_calls") ||
        cJSON_GetObjectItemCaseSensitive(m, "function_call"))
        return ERR(e, ERR_UNSUPPORTED, "%s: messages[%d].tool_calls: tool calls are not "
                   "supported yet", where, i);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (!content) return ERR(e, ERR_FORMAT, "%s: messages[%d].content: missing", where, i);
    int weight = 1;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(m, "weight");
    if (w) {
        if (!cJSON_IsNumber(w) || (w->valuedouble != 0 && w->valuedouble != 1))
            return ERR(e, ERR_FORMAT, "%s: messages[%d].weight: expected 0 or 1", where, i);
        if (r != ROLE_ASSISTANT)
            return ERR(e, ERR_FORMAT, "%s: messages[%d].weight: only assistant messages carry "
                       "a weight", where, i);
        weight = (int)w->valuedouble;
    }
    Buf text = {0};
    int rc = content_text(content, where, i, &text, e);
    if (rc == 0) rc = conv_add(c, (ChatRole)r, text.data ? text.data : "", weight, e);
    buf_free(&text);
    return rc;
}

int conv_parse_json(const char *json, size_t len, const char *where, Conversation *c, Err *e) {
    size_t bad = utf8_find_invalid(json, len);
    if (bad != (size_t)-1)
        return ERR(e, ERR_FORMAT, "%s: invalid UTF-8 at byte %zu", where, bad);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!j) {
        size_t at = end ? (size_t)(end - json) : 0;
        return ERR(e, ERR_FORMAT, "%s: malformed JSON near byte %zu", where, at);
    }
    int rc = 0;
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    if (!cJSON_IsObject(j)) {
        rc = ERR(e, ERR_FORMAT, "%s: expected a JSON object {\"messages\": [...]}", where);
    } else if (cJSON_GetObjectItemCaseSensitive(j, "tools")) {
        rc = ERR(e, ERR_UNSUPPORTED, "%s: tools: tool definitions are not supported yet", where);
    } else if (!cJSON_IsArray(msgs)) {
        rc = ERR(e, ERR_FORMAT, "%s: messages: expected an array", where);
    } else {
        int i = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, msgs) {
            if ((rc = parse_message(m, where, i++, c, e))) break;
        }
    }
    cJSON_Delete(j);
    return rc;
}

int conv_to_json(cJSON *obj, const Conversation *c, bool weights) {
    cJSON *arr = cJSON_AddArrayToObject(obj, "messages");
    if (!arr) return -1;
    for (int i = 0; i < c->n; i++) {
        const ChatMessage *x = &c->msgs[i];
        cJSON *m = cJSON_CreateObject();
        if (!m) return -1;
        cJSON_AddItemToArray(arr, m);
        if (!cJSON_AddStringToObject(m, "role", chat_role_name(x->role)) ||
            !cJSON_AddStringToObject(m, "content", x->content) ||
            (weights && x->role == ROLE_ASSISTANT && !cJSON_AddNumberToObject(m, "weight", x->weight)))
            return -1;
    }
    return 0;
}
