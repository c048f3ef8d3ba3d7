// template.c: rendering conversations through a chat template (see template.h).
//
// Each piece of text (a role name, a content) is encoded on its own, with special-token
// spellings inside it kept as ordinary text: a user who types "<|im_end|>" gets the
// characters, never the control token. Encoding the parts separately also makes the
// mask boundary exact (no token straddles a header and a reply), as nanochat does.
#include "chat/template.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const ChatTemplate templates[] = {
    // The seed's format (tiktokenizer's gpt-4o view).
    {"gpt4o", NULL, "<|im_start|>", "<|im_sep|>", "", "<|im_end|>", "", false},
    // ChatML (Qwen, SmolLM2, MiniMind): role and content split by a newline.
    {"chatml", NULL, "<|im_start|>", NULL, "\n", "<|im_end|>", "\n", false},
    // Llama 3: headers between <|start_header_id|> and <|end_header_id|>, then two newlines.
    {"llama3", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "\n\n",
     "<|eot_id|>", "", true},
};

const ChatTemplate *chat_template_find(const char *name) {
    for (size_t i = 0; i < sizeof templates / sizeof *templates; i++)
        if (!strcmp(templates[i].name, name)) return &templates[i];
    return NULL;
}

const char *chat_template_names(void) { return "gpt4o|chatml|llama3"; }

int chat_prepare_tokenizer(Tokenizer *t, const ChatTemplate *tpl, Err *e) {
    const char *need[] = {tpl->start, tpl->role_end, tpl->end};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
        if (!need[i] || tok_special_id(t, need[i]) >= 0) continue;
        int32_t id = tok_registry_id(t, need[i]);
        if (tok_add_special(t, need[i], id, e))
            return err_prefix(e, "template %s: ", tpl->name);
    }
    return 0;
}

typedef struct {
    const Tokenizer *t;
    IntVec *ids, *mask;
    Err *e;
} Out;

static int emit_special(Out *o, const char *name, int m) {
    int32_t id = tok_special_id(o->t, name);
    if (id < 0)
        return ERR(o->e, ERR_ARG, "the tokenizer has no %s token (add it with --special %s=ID)",
                   name, name);
    if (ivec_push(o->ids, id) || ivec_push(o->mask, m)) return ERR(o->e, ERR_NOMEM, "out of memory");
    return 0;
}

static int emit_text(Out *o, const char *s, size_t n, int m) {
    size_t before = o->ids->len;
    if (tok_encode(o->t, s, n, 0, o->ids, o->e)) return -1;
    for (size_t k = before; k < o->ids->len; k++)
        if (ivec_push(o->mask, m)) return ERR(o->e, ERR_NOMEM, "out of memory");
    return 0;
}

// <start>role[<role_end>]suffix — the header that opens a message (never a target).
static int emit_header(Out *o, const ChatTemplate *tpl, const char *role) {
    if (emit_special(o, tpl->start, 0)) return -1;
    if (tpl->role_end) {
        if (emit_text(o, role, strlen(role), 0) || emit_special(o, tpl->role_end, 0)) return -1;
        return emit_text(o, tpl->header_suffix, strlen(tpl->header_suffix), 0);
    }
    char head[64];
    int n = snprintf(head, sizeof head, "%s%s", role, tpl->header_suffix);
    return emit_text(o, head, (size_t)n, 0);
}

int chat_render(const Tokenizer *t, const ChatTemplate *tpl, const Conversation *c,
                bool add_generation_prompt, IntVec *ids, IntVec *mask, Err *e) {
    Out o = {t, ids, mask, e};
    if (tpl->bos && tok_special_id(t, tpl->bos) >= 0 && emit_special(&o, tpl->bos, 0)) return -1;
    for (int i = 0; i < c->n; i++) {
        const ChatMessage *m = &c->msgs[i];
        int target = m->role == ROLE_ASSISTANT && m->weight ? 1 : 0;
        const char *s = m->content;
        size_t n = strlen(s);
        if (tpl->trim_content) {
            while (n && isspace((unsigned char)*s)) s++, n--;
            while (n && isspace((unsigned char)s[n - 1])) n--;
        }
        if (emit_header(&o, tpl, chat_role_name(m->role)) || emit_text(&o, s, n, target) ||
            emit_special(&o, tpl->end, target) ||
            emit_text(&o, tpl->after_end, strlen(tpl->after_end), 0))
            return err_prefix(e, "messages[%d]: ", i);
    }
    if (add_generation_prompt) return emit_header(&o, tpl, "assistant");
    return 0;
}

int chat_parse_reply(const Tokenizer *t, const ChatTemplate *tpl, const int32_t *ids, size_t n,
                     Buf *content, bool *ended, Err *e) {
    int32_t end = tok_special_id(t, tpl->end), eos = tok_eos_id(t);
    size_t k = 0;
    while (k < n && ids[k] != end && ids[k] != eos) k++;
    *ended = k < n;
    return tok_decode(t, ids, k, content, e);
}
