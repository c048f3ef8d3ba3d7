// local.c: the engine as a synth backend (local.h). Each reply renders the conversation
// with the assistant header appended (synth_reply_prompt: the renderer training used),
// generates until the template's end token, and parses the ids back (synth_reply_text),
// as `posttrain chat` does.
#include "synth/local.h"

#include <stdlib.h>
#include <string.h>

#include "chat/template.h"

typedef struct {
    SynthBackend base;
    Engine *en;
    char *dir;
} LocalBackend;

static int local_reply(SynthBackend *b, const Conversation *c, const SynthSample *s, Buf *out,
                       Err *e) {
    LocalBackend *lb = (LocalBackend *)b;
    const Tokenizer *t = engine_tokenizer(lb->en);
    const ChatTemplate *tpl = engine_template(lb->en);
    IntVec ids = {0};
    GenResult res = {0};
    out->len = 0;
    SampleParams p;
    synth_sample_params(s, &p);
    int rc = synth_reply_prompt(t, tpl, c, engine_ctx(lb->en), &ids, e);
    if (rc == 0 && (engine_generate(lb->en, ids.data, (int)ids.len, &p, NULL, NULL, NULL, &res, e) ||
                    synth_reply_text(t, tpl, res.ids.data, res.ids.len, out, e)))
        rc = -1;
    ivec_free(&ids);
    gen_result_free(&res);
    return rc;
}

static void local_close(SynthBackend *b) {
    LocalBackend *lb = (LocalBackend *)b;
    engine_close(lb->en);
    free(lb->dir);
    free(lb);
}

int local_backend_open(SynthBackend **out, const char *dir, const EngineOptions *eo, Err *e) {
    *out = NULL;
    EngineOptions o = *eo;
    o.max_seqs = 1;
    LocalBackend *lb = calloc(1, sizeof *lb);
    if (!lb || !(lb->dir = strdup(dir))) {
        free(lb);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    if (engine_open(&lb->en, dir, &o, e)) {
        free(lb->dir);
        free(lb);
        return -1;
    }
    const ChatTemplate *tpl = engine_template(lb->en);
    const Tokenizer *t = engine_tokenizer(lb->en);
    int V = engine_model_config(lb->en)->vocab_size;
    int rc = 0;
    if (!tpl) {
        rc = ERR(e, ERR_ARG, "%s carries no chat template: post-train it with one "
                 "(posttrain train --template %s) or pass --template", dir, chat_template_names());
    } else {
        const char *need[] = {tpl->start, tpl->role_end, tpl->end};
        for (size_t i = 0; i < 3 && !rc; i++) {
            int32_t id = need[i] ? tok_special_id(t, need[i]) : 0;
            if (need[i] && (id < 0 || id >= V))
                rc = ERR(e, ERR_ARG, "%s: the model has no embedding for %s of template %s "
                         "(id %d, vocabulary %d): synth needs a model post-trained with a chat "
                         "template (posttrain train --template %s)", dir, need[i], tpl->name, id,
                         V, tpl->name);
        }
    }
    if (rc) {
        local_close(&lb->base);
        return -1;
    }
    lb->base.reply = local_reply;
    lb->base.close = local_close;
    lb->base.name = lb->dir;
    *out = &lb->base;
    return 0;
}
