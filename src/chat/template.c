// template.c: rendering conversations through a chat template (see template.h).
//
// Between two special tokens, the text (say chatml's "assistant\n" header and the reply
// after it) is encoded as one string, exactly as Hugging Face tokenizes a rendered
// template, so ids agree with HF's apply_chat_template. Special-token spellings inside
// that text stay ordinary text: a user who types "<|im_end|>" gets the characters, never
// the control token (where HF would emit it). A token's mask is 1 if any of its bytes
// belongs to a target span (TRL's rule for assistant masks).
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

// Text waiting to be encoded: the bytes since the last special token, cut in spans that
// each carry one mask value.
typedef struct {
    size_t end;  // span covers text[previous end, end)
    int mask;
} Span;

typedef struct {
    const Tokenizer *t;
    IntVec *ids, *mask;
    Err *e;
    Buf text;
    Span spans[8];  // a run holds at most a header suffix, a content and a trailer
    int n_spans;
} Out;

static int push(Out *o, int32_t id, int m) {
    if (ivec_push(o->ids, id) || ivec_push(o->mask, m)) return ERR(o->e, ERR_NOMEM, "out of memory");
    return 0;
}

// Encodes each span on its own: used when token bytes do not line up with the text
// (a normalizer changed it), so per-token spans cannot be found.
static int flush_by_span(Out *o) {
    size_t start = 0;
    for (int k = 0; k < o->n_spans; k++) {
        size_t before = o->ids->len;
        if (tok_encode(o->t, o->text.data + start, o->spans[k].end - start, 0, o->ids, o->e)) return -1;
        for (size_t i = before; i < o->ids->len; i++)
            if (ivec_push(o->mask, o->spans[k].mask)) return ERR(o->e, ERR_NOMEM, "out of memory");
        start = o->spans[k].end;
    }
    return 0;
}

// Encodes the pending text as one string and gives each token the OR of the masks of
// the spans its bytes fall in.
static int flush(Out *o) {
    if (o->text.len == 0) return 0;
    IntVec ids = {0};
    int rc = tok_encode(o->t, o->text.data, o->text.len, 0, &ids, o->e);
    size_t total = 0, len;
    for (size_t i = 0; rc == 0 && i < ids.len; i++) {
        tok_token_bytes(o->t, ids.data[i], &len);
        total += len;
    }
    // SentencePiece tokenizers add one ' ' in front (the dummy prefix): the token bytes are
    // " " + text, and token positions shift by one.
    size_t shift = total == o->text.len + 1 && rc == 0 && ids.len ? 1 : 0;
    if (shift) {
        size_t at = 0;
        for (size_t i = 0; shift && i < ids.len; i++) {
            const uint8_t *p = tok_token_bytes(o->t, ids.data[i], &len);
            for (size_t j = 0; shift && j < len; j++, at++)
                if (at == 0 ? p[j] != ' ' : (char)p[j] != o->text.data[at - 1]) shift = 0;
        }
        if (!shift) total = 0;  // not a dummy prefix: fall back to encoding span by span
    }
    if (rc == 0 && total != o->text.len + shift) {
        rc = flush_by_span(o);
    } else if (rc == 0) {
        size_t pos = 0;
        int k = 0;
        for (size_t i = 0; rc == 0 && i < ids.len; i++) {
            tok_token_bytes(o->t, ids.data[i], &len);
            // [pos, end) in the text (the dummy prefix belongs to no span)
            size_t end = pos + len - (i == 0 ? shift : 0);
            int m = 0;
            while (k < o->n_spans && o->spans[k].end <= pos) k++;
            for (int j = k; j < o->n_spans; j++) {
                size_t s0 = j ? o->spans[j - 1].end : 0;
                if (s0 >= end) break;
                m |= o->spans[j].mask;
            }
            rc = push(o, ids.data[i], m);
            pos = end;
        }
    }
    ivec_free(&ids);
    o->text.len = 0;
    o->n_spans = 0;
    return rc;
}

static int emit_special(Out *o, const char *name, int m) {
    int32_t id = tok_special_id(o->t, name);
    if (id < 0)
        return ERR(o->e, ERR_ARG, "the tokenizer has no %s token (add it with --special %s=ID)",
                   name, name);
    if (flush(o)) return -1;
    return push(o, id, m);
}

static int emit_text(Out *o, const char *s, size_t n, int m) {
    if (n == 0) return 0;
    if (o->n_spans == (int)(sizeof o->spans / sizeof *o->spans) && flush(o)) return -1;
    if (buf_append(&o->text, s, n)) return ERR(o->e, ERR_NOMEM, "out of memory");
    o->spans[o->n_spans++] = (Span){o->text.len, m};
    return 0;
}

// <start>role[<role_end>]suffix — the header that opens a message (never a target).
static int emit_header(Out *o, const ChatTemplate *tpl, const char *role) {
    if (emit_special(o, tpl->start, 0)) return -1;
    if (tpl->role_end) {
        if (emit_text(o, role, strlen(role), 0) || emit_special(o, tpl->role_end, 0)) return -1;
        return emit_text(o, tpl->header_suffix, strlen(tpl->header_suffix), 0);
    }
    if (emit_text(o, role, strlen(role), 0)) return -1;
    return emit_text(o, tpl->header_suffix, strlen(tpl->header_suffix), 0);
}

int chat_render(const Tokenizer *t, const ChatTemplate *tpl, const Conversation *c,
                bool add_generation_prompt, IntVec *ids, IntVec *mask, Err *e) {
    Out o = {.t = t, .ids = ids, .mask = mask, .e = e};
    int rc = 0;
    if (tpl->bos && tok_special_id(t, tpl->bos) >= 0) rc = emit_special(&o, tpl->bos, 0);
    for (int i = 0; i < c->n && rc == 0; i++) {
        const ChatMessage *m = &c->msgs[i];
        int target = m->role == ROLE_ASSISTANT && m->weight ? 1 : 0;
        const char *s = m->content;
        size_t n = strlen(s);
        if (tpl->trim_content) {
            while (n && isspace((unsigned char)*s)) s++, n--;
            while (n && isspace((unsigned char)s[n - 1])) n--;
        }
        rc = emit_header(&o, tpl, chat_role_name(m->role));
        if (!rc) rc = emit_text(&o, s, n, target);
        if (!rc) rc = emit_special(&o, tpl->end, target);
        if (!rc) rc = emit_text(&o, tpl->after_end, strlen(tpl->after_end), 0);
        if (rc) err_prefix(e, "messages[%d]: ", i);
    }
    if (rc == 0 && add_generation_prompt) rc = emit_header(&o, tpl, "assistant");
    if (rc == 0) rc = flush(&o);
    buf_free(&o.text);
    return rc;
}

int chat_parse_reply(const Tokenizer *t, const ChatTemplate *tpl, const int32_t *ids, size_t n,
                     Buf *content, bool *ended, Err *e) {
    int32_t end = tok_special_id(t, tpl->end), eos = tok_eos_id(t);
    size_t k = 0;
    while (k < n && ids[k] != end && ids[k] != eos) k++;
    *ended = k < n;
    return tok_decode(t, ids, k, content, e);
}
