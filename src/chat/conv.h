// conv.h: a conversation — the structured object the chat protocol turns into tokens.
//
// Messages follow OpenAI's chat format: {"role": "system"|"user"|"assistant",
// "content": string (or a list of {"type":"text","text":…} parts), "weight": 0|1}.
// `weight: 0` on an assistant message keeps it in the context but out of the loss.
#ifndef PT_CONV_H
#define PT_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef enum { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT } ChatRole;

typedef struct {
    ChatRole role;
    char *content;  // UTF-8, owned
    int weight;     // 1: assistant tokens are targets; 0: context only (always 0 for others)
} ChatMessage;

typedef struct {
    ChatMessage *msgs;
    int n, cap;
} Conversation;

const char *chat_role_name(ChatRole r);
// Parses "system" / "user" / "assistant"; -1 if none.
int chat_role_parse(const char *s);

int conv_add(Conversation *c, ChatRole role, const char *content, int weight, Err *e);
void conv_free(Conversation *c);

// Parses one JSON object {"messages": [...]} (a JSONL line). Errors name the place:
// "<where>: messages[2].role: expected system|user|assistant, got \"tool\"".
// where is e.g. "data.jsonl:12".
int conv_parse_json(const char *json, size_t len, const char *where, Conversation *c, Err *e);
// The other way: adds "messages": [{"role", "content"}...] to the JSON object obj (and
// each assistant message's "weight" when weights). -1 when out of memory.
struct cJSON;
int conv_to_json(struct cJSON *obj, const Conversation *c, bool weights);

#endif
