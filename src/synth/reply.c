// reply.c: what the backends on a local engine share (see backend.h): the prompt of a
// reply, the sampling settings, the reply's text from its ids, and the cleaning of a reply.
#include <string.h>

#include "synth/backend.h"
#include "util/utf8.h"

int synth_reply_prompt(const Tokenizer *t, const ChatTemplate *tpl, const Conversation *c, int ctx, IntVec *ids,
                       Err *e) {
    IntVec mask = {0};
    int rc = chat_render(t, tpl, c, true, ids, &mask, e);
    ivec_free(&mask);
    if (rc) return -1;
    return (int)ids->len + 1 >= ctx ? 1 : 0;
}

void synth_sample_params(const SynthSample *s, SampleParams *p) {
    sample_params_default(p);
    p->temperature = s->temperature;
    p->top_p = s->top_p;
    p->seed = s->seed;
    p->max_tokens = s->max_tokens;
}

int synth_reply_text(const Tokenizer *t, const ChatTemplate *tpl, const int32_t *ids, size_t n, Buf *out,
                     Err *e) {
    bool ended;
    if (chat_parse_reply(t, tpl, ids, n, out, &ended, e)) return -1;
    return buf_reserve(out, 0) ? ERR(e, ERR_NOMEM, "out of memory") : 0;
}

int synth_reply_clean(Buf *b) {
    if (utf8_find_invalid(b->data ? b->data : "", b->len) != (size_t)-1) {
        Buf fixed = {0};
        if (utf8_replace_invalid(b->data, b->len, &fixed)) return -1;
        buf_free(b);
        *b = fixed;
    }
    if (buf_reserve(b, 0)) return -1;
    size_t a = 0, n = b->len;
    while (a < n && strchr(" \t\r\n", b->data[a])) a++;
    while (n > a && strchr(" \t\r\n", b->data[n - 1])) n--;
    memmove(b->data, b->data + a, n - a);
    b->len = n - a;
    b->data[b->len] = 0;
    return 0;
}
