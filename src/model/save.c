// save.c: a loaded Model back to the Hugging Face layout, and growing its vocabulary.
//
// model_save writes model.safetensors (HF names and shapes from model_config_tensors, F32
// or BF16; a tied head is not written, transformers ties it on load), then config.json,
// then copies the tokenizer files of the source directory; each file is written atomically.
// Because Model.params is one block in model_config_tensors order, every tensor is a slice
// of it, and a F32 save reloads bit for bit.
// model_grow_vocab appends rows to the embedding (and an untied head) for new special
// tokens, each the mean of the existing rows, as HF's resize_token_embeddings does with
// mean_resizing.
#include "model/model.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/safetensors.h"
#include "util/file.h"

// ----------------------------------------------------------------------------- save

static size_t spec_numel(const ModelTensorSpec *s) {
    return (size_t)s->shape[0] * (s->ndim == 2 ? (size_t)s->shape[1] : 1);
}

// Writes every tensor of m, each a slice of m->params, to path.
static int save_weights(const Model *m, const char *path, StDtype dtype, Err *e) {
    ModelTensorSpec *specs;
    size_t n;
    if (model_config_tensors(&m->cfg, &specs, &n, e)) return -1;
    StSaveTensor *ts = calloc(n ? n : 1, sizeof *ts);
    int rc = -1;
    if (!ts) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        ts[i] = (StSaveTensor){specs[i].name, specs[i].ndim, specs[i].shape, m->params + off};
        off += spec_numel(&specs[i]);
    }
    if (off != m->n_params) {
        ERR(e, ERR_ARG, "%s: the model holds %zu weights but its config implies %zu", path, m->n_params, off);
        goto done;
    }
    rc = st_save(path, ts, n, dtype, 1, e);
done:
    free(ts);
    free(specs);
    return rc;
}

// Tokenizer files a model directory may carry; *.tiktoken files are matched by suffix.
static const char *const tokenizer_files[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.bin",
};

static int is_tokenizer_file(const char *name) {
    for (size_t i = 0; i < sizeof tokenizer_files / sizeof *tokenizer_files; i++)
        if (!strcmp(name, tokenizer_files[i])) return 1;
    size_t n = strlen(name), k = strlen(".tiktoken");
    return n > k && !strcmp(name + n - k, ".tiktoken");
}

static int copy_file(const char *src_dir, const char *dst_dir, const char *name, Err *e) {
    char src[4200], dst[4200], *data;
    size_t len;
    if (path_join(src, sizeof src, src_dir, name, e) || path_join(dst, sizeof dst, dst_dir, name, e) ||
        file_read_all(src, &data, &len, e))
        return -1;
    int rc = file_write_atomic(dst, data, len, e);
    free(data);
    return rc;
}

// Copies the tokenizer files found in src_dir into dir.
static int copy_tokenizer_files(const char *src_dir, const char *dir, Err *e) {
    DIR *d = opendir(src_dir);
    if (!d) return ERR(e, ERR_IO, "%s: cannot open directory: %s", src_dir, strerror(errno));
    int rc = 0;
    struct dirent *ent;
    while (!rc && (ent = readdir(d)))
        if (is_tokenizer_file(ent->d_name)) rc = copy_file(src_dir, dir, ent->d_name, e);
    closedir(d);
    return rc;
}

int model_save(const Model *m, const char *dir, StDtype dtype, const char *src_dir, Err *e) {
    if (dtype != ST_F32 && dtype != ST_BF16)
        return ERR(e, ERR_ARG, "%s: cannot save as %s (F32 or BF16)", dir, st_dtype_name(dtype));
    if (!m->params) return ERR(e, ERR_ARG, "%s: no model loaded", dir);
    char path[4200];
    if (file_mkdir_p(dir, e) || path_join(path, sizeof path, dir, "model.safetensors", e) ||
        save_weights(m, path, dtype, e))
        return -1;
    // A stale shard index would take precedence over the new file when the directory is read.
    if (path_join(path, sizeof path, dir, "model.safetensors.index.json", e)) return -1;
    if (unlink(path) && errno != ENOENT)
        return ERR(e, ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    if (path_join(path, sizeof path, dir, "config.json", e) || model_config_save_as(&m->cfg, path, dtype == ST_BF16 ? "bfloat16" : "float32", e))
        return -1;
    return src_dir ? copy_tokenizer_files(src_dir, dir, e) : 0;
}

// ----------------------------------------------------------------------------- grow

// The old and new layout of the parameter block: tensor i at old_off[i] / new_off[i].
typedef struct {
    ModelTensorSpec *olds, *news;
    size_t n, *old_off, *new_off;
    const float *old_base;
    float *new_base;
} Relayout;

static void relayout_free(Relayout *r) {
    free(r->olds);
    free(r->news);
    free(r->old_off);
    free(r->new_off);
}

static int relayout_init(Relayout *r, const ModelConfig *old_c, const ModelConfig *new_c, Err *e) {
    size_t n2;
    memset(r, 0, sizeof *r);
    if (model_config_tensors(old_c, &r->olds, &r->n, e) || model_config_tensors(new_c, &r->news, &n2, e))
        return -1;
    r->old_off = malloc((r->n + 1) * sizeof *r->old_off);
    r->new_off = malloc((r->n + 1) * sizeof *r->new_off);
    if (!r->old_off || !r->new_off) return ERR(e, ERR_NOMEM, "out of memory");
    r->old_off[0] = r->new_off[0] = 0;
    for (size_t i = 0; i < r->n; i++) {
        r->old_off[i + 1] = r->old_off[i] + spec_numel(&r->olds[i]);
        r->new_off[i + 1] = r->new_off[i] + spec_numel(&r->news[i]);
    }
    return 0;
}

// Copies a (V,C) matrix into (V2,C) and fills rows V..V2-1 with the mean of the V rows,
// summed in double.
static void grow_rows(float *dst, const float *src, size_t V, size_t V2, size_t C) {
    memcpy(dst, src, V * C * sizeof *src);
    for (size_t c = 0; c < C; c++) {
        double s = 0.0;
        for (size_t v = 0; v < V; v++) s += src[v * C + c];
        float mean = (float)(s / (double)V);
        for (size_t v = V; v < V2; v++) dst[v * C + c] = mean;
    }
}

// Where p, a pointer into the old block, lands in the new one (NULL stays NULL).
static const float *rebase(const Relayout *r, const float *p) {
    if (!p) return NULL;
    size_t at = (size_t)(p - r->old_base);
    for (size_t i = 0; i < r->n; i++)
        if (at >= r->old_off[i] && at < r->old_off[i + 1])
            return r->new_base + r->new_off[i] + (at - r->old_off[i]);
    return NULL;  // not reached: every weight pointer points into the block
}

static void rebase_weights(const Relayout *r, ModelWeights *w, int L) {
    w->wte = rebase(r, w->wte);
    w->wpe = rebase(r, w->wpe);
    w->lnf_w = rebase(r, w->lnf_w);
    w->lnf_b = rebase(r, w->lnf_b);
    w->head = rebase(r, w->head);
    for (int l = 0; l < L; l++) {
        LayerWeights *lw = &w->layers[l];
        const float **ps[] = {&lw->ln1_w, &lw->ln1_b, &lw->qkv_w, &lw->qkv_b, &lw->o_w, &lw->o_b,
                              &lw->ln2_w, &lw->ln2_b, &lw->fc_w, &lw->fc_b, &lw->proj_w, &lw->proj_b};
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) *ps[k] = rebase(r, *ps[k]);
    }
}

int model_grow_vocab(Model *m, int new_vocab, Err *e) {
    int V = m->cfg.vocab_size;
    if (!m->params) return ERR(e, ERR_ARG, "grow vocabulary: no model loaded");
    if (m->arena || m->grads || m->grad_arena)  // all sized by V or by n_params
        return ERR(e, ERR_ARG, "grow vocabulary: the activations or gradients are already sized "
                               "for %d tokens; grow before the first forward", V);
    if (new_vocab < V)
        return ERR(e, ERR_ARG, "grow vocabulary: %d is smaller than the current %d", new_vocab, V);
    if (new_vocab == V) return 0;
    ModelConfig c2 = m->cfg;
    c2.vocab_size = new_vocab;
    Relayout r;
    int rc = -1;
    if (relayout_init(&r, &m->cfg, &c2, e)) goto done;
    if (!(r.new_base = malloc(r.new_off[r.n] * sizeof(float)))) {
        ERR(e, ERR_NOMEM, "grow vocabulary: out of memory for %zu weights", r.new_off[r.n]);
        goto done;
    }
    r.old_base = m->params;
    for (size_t i = 0; i < r.n; i++) {
        const float *src = r.old_base + r.old_off[i];
        float *dst = r.new_base + r.new_off[i];
        if (r.olds[i].shape[0] != r.news[i].shape[0])  // the embedding or the untied head
            grow_rows(dst, src, (size_t)V, (size_t)new_vocab, (size_t)r.olds[i].shape[1]);
        else
            memcpy(dst, src, spec_numel(&r.olds[i]) * sizeof(float));
    }
    rebase_weights(&r, &m->w, m->cfg.n_layer);
    free(m->params);
    m->params = r.new_base;
    m->n_params = r.new_off[r.n];
    m->cfg = c2;
    rc = 0;
done:
    if (rc) free(r.new_base);
    relayout_free(&r);
    return rc;
}
