// test_infer.c: the inference engine (src/infer) against the no-cache model.
//
// On tiny random models of each architecture, written by the test (GPT-2; Llama with GQA
// and an untied head; Qwen2 with q/k/v biases and head_dim != C/H; Llama with
// attention/MLP biases and llama3 RoPE scaling), with a BPE tokenizer trained in-process:
//   - the cached forward's logits for a prompt equal model_forward's (max |diff| printed);
//   - greedy decoding with the cache gives exactly the argmax sequence of model_forward
//     re-run on the growing sequence, with one prefill forward and with 2-token prefill
//     chunks;
//   - several sequences decoded together (different prompt lengths, one joining late)
//     each give what they give alone; the chosen token's logprob is log_softmax of the
//     model's logits;
//   - a seed fixes the sampled tokens; top-k 1 is greedy.
// The sampler on hand-made logits (top-k, top-p, min-p, penalties), held-back text (stop
// strings across token boundaries, split UTF-8), stop strings in the engine, and how
// sequences finish (stop id, full context, cancel, no free slot, bad requests). With
// ../shared present: stories260K converted from llama2.c, greedy from BOS gives
// " Once upon a time, there was a little girl named Lily".
#define _GNU_SOURCE  // memmem
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "infer/engine.h"
#include "infer/forward.h"
#include "infer/sample.h"
#include "infer/textout.h"
#include "model/import.h"
#include "model/model.h"
#include "tok/train.h"
#include "model_fixture.h"
#include "check.h"
#include "fixture.h"

#define PROMPT_N 5
#define GEN_N 24
#define MAXPOS 64

typedef struct {
    const char *name;
    const char *json;  // %d: vocab size
} TinyModel;

static const TinyModel models[] = {
    {"gpt2",
     "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"vocab_size\": %d,"
     " \"n_embd\": 12, \"n_layer\": 2, \"n_head\": 3, \"n_positions\": 64, \"n_inner\": null,"
     " \"activation_function\": \"gelu_new\", \"layer_norm_epsilon\": 1e-5}"},
    {"llama_gqa",
     "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": %d,"
     " \"hidden_size\": 16, \"intermediate_size\": 13, \"num_hidden_layers\": 2,"
     " \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"max_position_embeddings\": 64,"
     " \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": false}"},
    {"qwen2_bias",
     "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", \"vocab_size\": %d,"
     " \"hidden_size\": 12, \"intermediate_size\": 9, \"num_hidden_layers\": 2,"
     " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 6,"
     " \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-6, \"tie_word_embeddings\": true}"},
    {"llama3_rope",
     "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": %d,"
     " \"hidden_size\": 8, \"intermediate_size\": 10, \"num_hidden_layers\": 1,"
     " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 64,"
     " \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": true, \"attention_bias\": true,"
     " \"mlp_bias\": true, \"rope_theta\": 500.0, \"rope_scaling\": {\"rope_type\": \"llama3\","
     " \"factor\": 4.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 2.0,"
     " \"original_max_position_embeddings\": 16}}"},
};
#define N_MODELS (sizeof models / sizeof *models)

static uint32_t rng = 2024;
static float rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return (float)((rng >> 8) * (1.0 / 16777216.0)) - 0.5f;
}

static void die(const char *what, const Err *e) {
    printf("setup: %s: %s\n", what, e->msg);
    exit(1);
}

static char tokenizer_json_path[600];
static int vocab_size;

// A byte-level BPE tokenizer trained on a few sentences, with chatml's specials.
static void make_tokenizer(void) {
    static const char *text =
        "Once upon a time there was a little robot. The robot liked to sing and to dance. "
        "Every day the little robot sang a song about the sun, the moon and the stars. "
        "Caf\xc3\xa9 na\xc3\xafve \xe4\xbd\xa0\xe5\xa5\xbd. Once upon a time, once upon a time.";
    const char *specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    BpeTrainOptions o = {.vocab_size = 300, .specials = specials, .n_specials = 3};
    size_t len = strlen(text);
    BpeVocab v = {0};
    Err e = {0};
    snprintf(tokenizer_json_path, sizeof tokenizer_json_path, "%s", tmp_path("tokenizer.json"));
    if (bpe_train_texts(&o, &text, &len, 1, &v, &e) || bpe_vocab_save(&v, tokenizer_json_path, &e))
        die("tokenizer", &e);
    vocab_size = bpe_vocab_size(&v);
    bpe_vocab_free(&v);
}

static float infer_value(void *ctx, const ModelTensorSpec *t, int norm_w) {
    (void)ctx, (void)t;
    return norm_w ? 1.0f + 0.2f * rnd() : 2.0f * rnd();
}

// config.json, random F32 weights (norm weights around 1) and the tokenizer in tmpdir/NAME.
// Weights of scale 1 (not smaller) keep the logits spread, so argmax ties are unlikely.
static const char *write_model(const TinyModel *tm) {
    static char dir[600];
    snprintf(dir, sizeof dir, "%s", tmp_path(tm->name));
    char json[2048], path[1400];
    snprintf(json, sizeof json, tm->json, vocab_size);
    Err e = {0};
    if (fixture_model_write(dir, tm->name, json, infer_value, NULL, &e)) die(tm->name, &e);
    snprintf(path, sizeof path, "cp '%s' '%s/tokenizer.json'", tokenizer_json_path, dir);
    if (system(path) != 0) printf("setup: %s failed\n", path), exit(1);
    return dir;
}

static int argmax(const float *z, int V) {
    int b = 0;
    for (int i = 1; i < V; i++)
        if (z[i] > z[b]) b = i;
    return b;
}

// Greedy by model_forward on the growing sequence (no cache): out (gen), logprob of each.
static void reference_greedy(Model *m, const int32_t *prompt, int n, int gen, int32_t *out,
                             float *lp) {
    int32_t seq[MAXPOS];
    memcpy(seq, prompt, n * sizeof *seq);
    int V = m->cfg.vocab_size;
    Err e = {0};
    for (int g = 0; g < gen; g++) {
        int T = n + g;
        if (model_forward(m, seq, NULL, 1, T, &e)) die("model_forward", &e);
        const float *z = m->acts.logits + (size_t)(T - 1) * V;
        out[g] = seq[T] = argmax(z, V);
        lp[g] = z[out[g]] - sample_logsumexp(z, V);
    }
}

static void make_prompt(int32_t *p, int n, int salt) {
    for (int i = 0; i < n; i++) p[i] = (int32_t)((i * 37 + salt * 101 + 7) % 250);
}

static int same_ids(const int32_t *a, const int32_t *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static Engine *open_engine(const char *dir, int max_seqs, int chunk) {
    EngineOptions o;
    engine_options_default(&o);
    o.max_seqs = max_seqs;
    o.prefill_chunk = chunk;
    Engine *en;
    Err e = {0};
    if (engine_open(&en, dir, &o, &e)) die("engine_open", &e);
    return en;
}

static SampleParams greedy_params(void) {
    SampleParams p;
    sample_params_default(&p);
    p.temperature = 0;
    p.max_tokens = GEN_N;
    p.ignore_eos = true;
    return p;
}

// The cached forward's logits for a whole prompt against model_forward's.
static void check_logits(const TinyModel *tm, Model *m) {
    KvModel km;
    Err e = {0};
    int32_t prompt[12], slot[12] = {0}, pos[12], outs[12];
    for (int i = 0; i < 12; i++) pos[i] = i, outs[i] = i, slot[i] = 1;
    make_prompt(prompt, 12, 3);
    if (kv_model_init(&km, m, 2, MAXPOS, 12, 12, &e) || kv_forward(&km, prompt, slot, pos, 12, outs, 12, &e) ||
        model_forward(m, prompt, NULL, 1, 12, &e))
        die("forward", &e);
    double md = 0;
    for (size_t i = 0; i < (size_t)12 * m->cfg.vocab_size; i++) {
        double d = fabs(km.logits[i] - m->acts.logits[i]);
        if (d > md) md = d;
    }
    CHECK(md < 1e-4, "%s: cached forward of 12 tokens = model_forward's logits (max |diff| %.2e)",
          tm->name, md);
    kv_model_free(&km);
}

static void check_model(const TinyModel *tm) {
    const char *dir = write_model(tm);
    Model m;
    Err e = {0};
    if (model_load(&m, dir, &e)) die("model_load", &e);
    // Size model_forward's arena for the longest sequence first.
    int32_t big[MAXPOS] = {0};
    if (model_forward(&m, big, NULL, 1, MAXPOS, &e)) die("model_forward", &e);
    check_logits(tm, &m);

    enum { NP = 3 };
    const int plen[NP] = {PROMPT_N, 1, 9};
    int32_t prompts[NP][16], ref[NP][GEN_N];
    float ref_lp[NP][GEN_N];
    for (int k = 0; k < NP; k++) {
        make_prompt(prompts[k], plen[k], k);
        reference_greedy(&m, prompts[k], plen[k], GEN_N, ref[k], ref_lp[k]);
    }

    // One sequence, whole-prompt prefill and 2-token chunks.
    for (int chunk = 0; chunk <= 2; chunk += 2) {
        Engine *en = open_engine(dir, 1, chunk);
        SampleParams p = greedy_params();
        GenResult r;
        int rc = engine_generate(en, prompts[0], plen[0], &p, NULL, NULL, NULL, &r, &e);
        CHECK(rc == 0 && r.n_generated == GEN_N && same_ids(r.ids.data, ref[0], GEN_N) &&
                  r.finish == FINISH_LENGTH,
              "%s: cached greedy (prefill chunk %s) = argmax of model_forward on the growing "
              "sequence, %d tokens, finish length", tm->name, chunk ? "2" : "512", GEN_N);
        gen_result_free(&r);
        engine_close(en);
    }

    // Three sequences together; the third joins after 4 steps. Logprobs checked on the way.
    // With prefill_chunk 4 its 9-token prompt is read over 3 steps (4 + 4 + 1 tokens) while
    // the other two go on getting a token each step.
    Engine *en = open_engine(dir, 3, 4);
    SampleParams p = greedy_params();
    p.logprobs = 3;
    Seq *s[NP] = {0};
    double lp_diff = 0;
    int top_ok = 1, steps = 0;
    for (int k = 0; k < 2; k++)
        if (seq_start(en, prompts[k], plen[k], &p, NULL, &s[k], &e)) die("seq_start", &e);
    int32_t got[NP][GEN_N];
    int n_got[NP] = {0}, first_step = -1, others_every_step = 1;
    while (engine_n_active(en) > 0 || !s[2]) {
        if (steps == 4 && seq_start(en, prompts[2], plen[2], &p, NULL, &s[2], &e)) die("seq_start", &e);
        if (engine_step(en, &e)) die("engine_step", &e);
        steps++;
        for (int k = 0; k < NP; k++) {
            if (!s[k]) continue;
            const SeqEvent *ev = seq_event(s[k]);
            if (k < 2 && steps >= 5 && steps <= 7 && !ev->has_token) others_every_step = 0;
            if (!ev->has_token) continue;
            if (k == 2 && first_step < 0) first_step = steps - 1;
            int g = n_got[k]++;
            got[k][g] = ev->token;
            double d = fabs(ev->logprob - ref_lp[k][g]);
            if (d > lp_diff) lp_diff = d;
            if (ev->n_top != 3 || ev->top_ids[0] != ev->token || ev->top_logprobs[0] < ev->top_logprobs[1])
                top_ok = 0;
        }
    }
    int all = 1;
    for (int k = 0; k < NP; k++)
        all &= n_got[k] == GEN_N && same_ids(got[k], ref[k], GEN_N) && seq_finish_reason(s[k]) == FINISH_LENGTH;
    CHECK(all, "%s: 3 sequences batched (prompts of 5, 1, 9 tokens; one joins at step 4) each "
          "= its greedy alone", tm->name);
    CHECK(first_step == 6 && others_every_step,
          "%s: the joining 9-token prompt is read over 3 steps (first token at step %d, want 6) "
          "while the others get a token every step", tm->name, first_step);
    CHECK(lp_diff < 1e-4 && top_ok, "%s: logprob = log_softmax of the logits (max |diff| %.2e), "
          "top-3 in order", tm->name, lp_diff);
    for (int k = 0; k < NP; k++) seq_free(s[k]);
    CHECK(engine_free_slots(en) == 3, "%s: slots free again after seq_free", tm->name);

    // Sampling: a seed fixes the tokens; top-k 1 is greedy.
    SampleParams sp;
    sample_params_default(&sp);
    sp.temperature = 1.5f;
    sp.top_p = 0.95f;
    sp.max_tokens = GEN_N;
    sp.ignore_eos = true;
    sp.seed = 7;
    GenResult a, b, c;
    if (engine_generate(en, prompts[0], plen[0], &sp, NULL, NULL, NULL, &a, &e) ||
        engine_generate(en, prompts[0], plen[0], &sp, NULL, NULL, NULL, &b, &e))
        die("generate", &e);
    sp.seed = 8;
    if (engine_generate(en, prompts[0], plen[0], &sp, NULL, NULL, NULL, &c, &e)) die("generate", &e);
    CHECK(same_ids(a.ids.data, b.ids.data, GEN_N) && a.text.len == b.text.len &&
              !memcmp(a.text.data, b.text.data, a.text.len) && !same_ids(a.ids.data, c.ids.data, GEN_N),
          "%s: temperature 1.5, top-p 0.95: seed 7 twice gives the same %d tokens, seed 8 others",
          tm->name, GEN_N);
    sp.top_k = 1;
    gen_result_free(&c);
    if (engine_generate(en, prompts[0], plen[0], &sp, NULL, NULL, NULL, &c, &e)) die("generate", &e);
    CHECK(same_ids(c.ids.data, ref[0], GEN_N), "%s: top-k 1 at temperature 1.5 = greedy", tm->name);
    gen_result_free(&a);
    gen_result_free(&b);
    gen_result_free(&c);
    engine_close(en);
    model_free(&m);
}

// ----------------------------------------------------------------------------- sampler

static void check_sampler(void) {
    enum { V = 6, DRAWS = 4000 };
    const float prob[V] = {0.4f, 0.25f, 0.15f, 0.1f, 0.06f, 0.04f};
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = logf(prob[i]);
    SampleScratch sc;
    if (sample_scratch_init(&sc, V)) exit(1);
    SampleRng r;
    sample_rng_seed(&r, 1);
    SampleParams p;
    struct {
        const char *what;
        int top_k;
        float top_p, min_p;
        int allowed;  // tokens 0..allowed-1 may appear
    } cases[] = {
        {"plain", 0, 1, 0, 6},
        {"top-k 2", 2, 1, 0, 2},
        {"top-p 0.7 (0.4 + 0.25 < 0.7 <= + 0.15)", 0, 0.7f, 0, 3},
        {"min-p 0.3 (keeps p >= 0.12)", 0, 1, 0.3f, 3},
        {"top-k 4 then top-p 0.5", 4, 0.5f, 0, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        sample_params_default(&p);
        p.top_k = cases[c].top_k;
        p.top_p = cases[c].top_p;
        p.min_p = cases[c].min_p;
        int hist[V] = {0};
        for (int d = 0; d < DRAWS; d++) hist[sample_token(logits, &p, NULL, NULL, &r, &sc)]++;
        int ok = 1;
        for (int i = 0; i < V; i++) ok &= (i < cases[c].allowed) == (hist[i] > 0);
        // The first token's share, renormalised over the allowed ones, within 4 sigma.
        double mass = 0;
        for (int i = 0; i < cases[c].allowed; i++) mass += prob[i];
        double want = prob[0] / mass, got = (double)hist[0] / DRAWS,
               sig = sqrt(want * (1 - want) / DRAWS);
        CHECK(ok && fabs(got - want) < 4 * sig, "sampler %s: only tokens < %d drawn, token 0 "
              "share %.3f (expected %.3f)", cases[c].what, cases[c].allowed, got, want);
    }
    // Penalties: token 0 seen (and drawn 3 times) loses its lead.
    sample_params_default(&p);
    p.temperature = 0;
    int32_t counts[V] = {3};
    uint8_t seen[V] = {1};
    int32_t g0 = sample_token(logits, &p, counts, seen, &r, &sc);
    p.repetition_penalty = 2.0f;  // log 0.4 = -0.92 -> -1.83 < log 0.25
    int32_t g1 = sample_token(logits, &p, counts, seen, &r, &sc);
    p.repetition_penalty = 1.0f;
    p.frequency_penalty = 0.2f;  // -0.92 - 0.6 < -1.39
    int32_t g2 = sample_token(logits, &p, counts, seen, &r, &sc);
    p.frequency_penalty = 0;
    p.presence_penalty = 0.4f;  // -0.92 - 0.4 > -1.39: still first
    int32_t g3 = sample_token(logits, &p, counts, seen, &r, &sc);
    CHECK(g0 == 0 && g1 == 1 && g2 == 1 && g3 == 0, "penalties: greedy %d, repetition 2 -> %d, "
          "frequency 0.2 x 3 -> %d, presence 0.4 -> %d (want 0 1 1 0)", g0, g1, g2, g3);
    int32_t ids[3];
    float lps[3];
    float lse = sample_logsumexp(logits, V);
    int n = sample_top_logprobs(logits, V, lse, 3, ids, lps);
    CHECK(n == 3 && ids[0] == 0 && ids[1] == 1 && ids[2] == 2 && fabsf(lps[1] - logf(0.25f)) < 1e-5,
          "top logprobs: ids 0 1 2, log p(1) = %.5f", lps[1]);
    sample_scratch_free(&sc);
}

// ----------------------------------------------------------------------------- text

static void check_textout(void) {
    TextOut t;
    Buf out = {0};
    const char *stops[] = {"o wor", "XYZ"};
    textout_init(&t, stops, 2);
    int r1 = textout_push(&t, "Hel", 3, &out);
    size_t after1 = out.len;
    int r2 = textout_push(&t, "lo w", 4, &out);  // "o w" may start "o wor": held back
    size_t after2 = out.len;
    int r3 = textout_push(&t, "orld", 4, &out);
    CHECK(r1 == 0 && r2 == 0 && r3 == 1 && after1 == 3 && after2 == 4 && out.len == 4 &&
              !memcmp(out.data, "Hell", 4),
          "stop string \"o wor\" across 3 tokens: released \"Hel\", then \"l\", then stop; text "
          "\"%.*s\"", (int)out.len, out.data ? out.data : "");
    textout_free(&t);

    out.len = 0;
    textout_init(&t, stops, 2);
    textout_push(&t, "a X", 3, &out);
    size_t held = out.len;
    textout_push(&t, "Yb", 2, &out);  // "XYb" breaks the match: all released
    CHECK(held == 2 && out.len == 5 && !memcmp(out.data, "a XYb", 5) && !t.stopped,
          "a broken partial match (\"XY\" then \"b\") is released");
    textout_free(&t);

    out.len = 0;
    textout_init(&t, NULL, 0);
    textout_push(&t, "\xe4\xbd", 2, &out);  // 你 = e4 bd a0, split
    size_t mid = out.len;
    textout_push(&t, "\xa0!", 2, &out);
    int ok = mid == 0 && out.len == 4 && !memcmp(out.data, "\xe4\xbd\xa0!", 4);
    textout_push(&t, "\xf0\x9f", 2, &out);  // an emoji cut short by the end
    textout_flush(&t, &out);
    CHECK(ok && out.len >= 7 && !memcmp(out.data + 4, "\xef\xbf\xbd", 3),
          "split UTF-8 is held until complete; an incomplete tail at the end becomes U+FFFD");
    textout_free(&t);
    buf_free(&out);
}

// Keeps the last event's finish and stop_token.
typedef struct {
    FinishReason finish;
    bool stop_token;
    int n_stop_token;  // events that said stop_token
} LastEvent;
static int keep_last(void *ctx, const SeqEvent *ev) {
    LastEvent *l = ctx;
    l->finish = ev->finish;
    l->stop_token = ev->stop_token;
    l->n_stop_token += ev->stop_token;
    return 0;
}

// A stop string spanning token boundaries, through the engine.
static void check_engine_stop(void) {
    const char *dir = tmp_path("llama_gqa");
    Engine *en = open_engine(dir, 1, 0);
    SampleParams p = greedy_params();
    int32_t prompt[PROMPT_N];
    make_prompt(prompt, PROMPT_N, 0);
    GenResult r;
    Err e = {0};
    if (engine_generate(en, prompt, PROMPT_N, &p, NULL, NULL, NULL, &r, &e)) die("generate", &e);
    // Find a boundary between two tokens with non-empty text; stop on 2 bytes across it.
    const Tokenizer *t = engine_tokenizer(en);
    size_t cut = 0;
    char stop[3] = {0};
    for (int i = 0; i + 1 < r.n_generated && !cut; i++) {
        size_t la = 0, lb = 0;
        const uint8_t *a = tok_token_bytes(t, r.ids.data[i], &la), *b = tok_token_bytes(t, r.ids.data[i + 1], &lb);
        // ASCII on both sides: U+FFFD replacements elsewhere cannot make or break a match.
        if (la > 0 && lb > 0 && a[la - 1] > ' ' && a[la - 1] < 0x7f && b[0] > ' ' && b[0] < 0x7f) {
            stop[0] = (char)a[la - 1];
            stop[1] = (char)b[0];
            cut = 1;
        }
    }
    int ok = 0;
    const char *first = cut ? memmem(r.text.data, r.text.len, stop, 2) : NULL;
    if (first) {
        size_t want = (size_t)(first - r.text.data);
        const char *ss[] = {stop};
        EngineStops st = {ss, 1, NULL, 0};
        GenResult r2;
        LastEvent last = {0};
        if (engine_generate(en, prompt, PROMPT_N, &p, &st, keep_last, &last, &r2, &e)) die("generate", &e);
        ok = r2.finish == FINISH_STOP && r2.text.len == want && !memcmp(r2.text.data, r.text.data, want) &&
             last.finish == FINISH_STOP && last.n_stop_token == 0;  // a string, not a stop token
        gen_result_free(&r2);
    }
    CHECK(ok, "engine: stop string \"%s\" across a token boundary ends the text just before it", stop);
    gen_result_free(&r);
    engine_close(en);
}

// Finishing: a stop id, the context, cancelling (from a callback and by seq_cancel), no
// free slot, bad requests.
static int stop_after_3(void *ctx, const SeqEvent *ev) { return ++*(int *)ctx == 3; }

static void check_engine_finish(void) {
    const char *dir = tmp_path("llama_gqa");
    EngineOptions o;
    engine_options_default(&o);
    o.max_seqs = 2;
    o.ctx = 12;
    Engine *en;
    Err e = {0};
    if (engine_open(&en, dir, &o, &e)) die("engine_open", &e);
    SampleParams p = greedy_params();
    int32_t prompt[PROMPT_N];
    make_prompt(prompt, PROMPT_N, 0);
    GenResult r, r2;
    if (engine_generate(en, prompt, PROMPT_N, &p, NULL, NULL, NULL, &r, &e)) die("generate", &e);
    CHECK(r.finish == FINISH_LENGTH && r.n_generated == 12 - PROMPT_N,
          "ctx 12, prompt %d: %d tokens, finish length (prompt + output fill the context)",
          PROMPT_N, r.n_generated);
    // The 3rd greedy token as an extra stop id: the output ends with it (first occurrence).
    int32_t stop_id = r.ids.data[2];
    int first = 0;
    while (r.ids.data[first] != stop_id) first++;
    EngineStops st = {NULL, 0, &stop_id, 1};
    LastEvent last = {0};
    if (engine_generate(en, prompt, PROMPT_N, &p, &st, keep_last, &last, &r2, &e)) die("generate", &e);
    CHECK(r2.finish == FINISH_STOP && r2.n_generated == first + 1 && r2.ids.data[first] == stop_id,
          "a stop id ends the output with it (%d tokens), finish stop", r2.n_generated);
    CHECK(last.finish == FINISH_STOP && last.stop_token && last.n_stop_token == 1,
          "its last event marks the token as the stop token (and no other event does)");
    gen_result_free(&r2);
    int calls = 0;
    if (engine_generate(en, prompt, PROMPT_N, &p, NULL, stop_after_3, &calls, &r2, &e)) die("generate", &e);
    CHECK(r2.finish == FINISH_CANCELLED && r2.n_generated == 3 && calls == 3,
          "a callback returning nonzero after 3 tokens cancels: %d tokens", r2.n_generated);
    gen_result_free(&r2);

    Seq *a, *b, *c;
    int rc_a = seq_start(en, prompt, PROMPT_N, &p, NULL, &a, &e),
        rc_b = seq_start(en, prompt, PROMPT_N, &p, NULL, &b, &e),
        rc_c = seq_start(en, prompt, PROMPT_N, &p, NULL, &c, &e);
    CHECK(rc_a == 0 && rc_b == 0 && rc_c == 1 && !c && engine_free_slots(en) == 0,
          "2 slots: a third seq_start returns 1 (queue), nothing started");
    engine_step(en, &e);
    engine_step(en, &e);
    seq_cancel(a);
    engine_step(en, &e);
    int na, nb;
    seq_output(a, &na);
    seq_output(b, &nb);
    CHECK(seq_finish_reason(a) == FINISH_CANCELLED && !seq_event(a)->has_token && na == 2 && nb == 3 &&
              engine_n_active(en) == 1,
          "seq_cancel: no more tokens for it (%d), the other goes on (%d)", na, nb);
    seq_free(a);
    seq_free(b);
    SampleParams bad = p;
    bad.logprobs = ENGINE_MAX_LOGPROBS + 1;
    int32_t big = 1 << 20;
    CHECK(seq_start(en, prompt, PROMPT_N, &bad, NULL, &a, &e) == -1 &&
              seq_start(en, &big, 1, &p, NULL, &a, &e) == -1 && strstr(e.msg, "vocabulary") &&
              seq_start(en, prompt, 0, &p, NULL, &a, &e) == -1 &&
              seq_start(en, r.ids.data, 12, &p, NULL, &a, &e) == -1 && engine_free_slots(en) == 2,
          "bad requests are errors (logprobs > %d, an id out of range, empty, prompt >= ctx): %s",
          ENGINE_MAX_LOGPROBS, e.msg);
    gen_result_free(&r);
    engine_close(en);
}

// ----------------------------------------------------------------------------- stories260K

static void check_stories(void) {
    const char *shared = getenv("SHARED_DATA") ? getenv("SHARED_DATA") : "../shared/data";
    char bin[512], tokp[512];
    snprintf(bin, sizeof bin, "%s/llama2c/stories260K.bin", shared);
    snprintf(tokp, sizeof tokp, "%s/llama2c/tok512.bin", shared);
    struct stat st;
    if (stat(bin, &st) || stat(tokp, &st)) {
        printf("skip  stories260K: %s absent\n", bin);
        return;
    }
    ImportedModel im = {0};
    Err e = {0};
    const char *dir = tmp_path("stories260K");
    if (import_any(&im, bin, &e) || import_save(&im, dir, ST_F32, &e)) die("import", &e);
    import_free(&im);
    EngineOptions o;
    engine_options_default(&o);
    o.tokenizer = tokp;
    Engine *en;
    if (engine_open(&en, dir, &o, &e)) die("engine_open", &e);
    SampleParams p;
    sample_params_default(&p);
    p.temperature = 0;
    p.max_tokens = 40;
    int32_t bos = 1;
    GenResult r;
    if (engine_generate(en, &bos, 1, &p, NULL, NULL, NULL, &r, &e)) die("generate", &e);
    const char *want = " Once upon a time, there was a little girl named Lily";
    CHECK(r.text.len >= strlen(want) && !memcmp(r.text.data, want, strlen(want)),
          "stories260K greedy from BOS: \"%.*s\"", (int)(r.text.len < 120 ? r.text.len : 120),
          r.text.data ? r.text.data : "");
    gen_result_free(&r);
    engine_close(en);
}

int main(void) {
    if (fixture_init("test_infer")) return 1;
    make_tokenizer();
    for (size_t i = 0; i < N_MODELS; i++) check_model(&models[i]);
    check_sampler();
    check_textout();
    check_engine_stop();
    check_engine_finish();
    check_stories();
    fixture_cleanup();
    return check_summary();
}
