// init.c: a freshly initialised model directory — what pretraining starts from.
//
// GPT-2's scheme (as nanoGPT and llm.c use it): every matrix and embedding drawn from
// N(0, 0.02), the projections that write into the residual stream (o_proj / attn.c_proj,
// down_proj / mlp.c_proj) from N(0, 0.02 / sqrt(2 L)) so the stream's variance does not
// grow with depth, norm weights 1, biases 0. Normal draws come from a seeded splitmix64 +
// Box-Muller, so a seed gives the same weights on every machine.
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/rng.h"
#include "model/safetensors.h"
#include "util/file.h"

static int ends_with(const char *s, const char *t) {
    size_t n = strlen(s), m = strlen(t);
    return n >= m && !strcmp(s + n - m, t);
}

// The standard deviation for a tensor by its HF name; 0 means "norm weight" (ones) and
// -1 a bias (zeros).
static double init_std(const ModelConfig *c, const ModelTensorSpec *t) {
    const char *n = t->name;
    if (t->ndim == 1) return ends_with(n, ".bias") ? -1.0 : 0.0;
    if (ends_with(n, "o_proj.weight") || ends_with(n, "down_proj.weight") ||
        ends_with(n, "attn.c_proj.weight") || ends_with(n, "mlp.c_proj.weight"))
        return 0.02 / sqrt(2.0 * c->n_layer);
    return 0.02;
}

int model_init_save(const ModelConfig *c, uint64_t seed, const char *dir, Err *e) {
    ModelTensorSpec *specs = NULL;
    size_t n = 0;
    if (model_config_tensors(c, &specs, &n, e)) return -1;
    StSaveTensor *ts = calloc(n, sizeof *ts);
    float **data = calloc(n, sizeof *data);
    int rc = -1;
    if (!ts || !data) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        size_t len = (size_t)specs[i].shape[0] * (specs[i].ndim == 2 ? (size_t)specs[i].shape[1] : 1);
        if (!(data[i] = malloc(len * sizeof(float)))) {
            ERR(e, ERR_NOMEM, "out of memory for %s", specs[i].name);
            goto done;
        }
        double std = init_std(c, &specs[i]);
        for (size_t k = 0; k < len; k += 2) {
            // Box-Muller: two uniforms in (0, 1] -> two independent normals
            double u1 = ((splitmix64(&state) >> 11) + 1) * 0x1.0p-53;
            double u2 = (splitmix64(&state) >> 11) * 0x1.0p-53;
            double r = sqrt(-2.0 * log(u1));
            double z[2] = {r * cos(2 * M_PI * u2), r * sin(2 * M_PI * u2)};
            for (size_t j = 0; j < 2 && k + j < len; j++)
                data[i][k + j] = std > 0 ? (float)(std * z[j]) : std == 0 ? 1.0f : 0.0f;
        }
        ts[i] = (StSaveTensor){specs[i].name, specs[i].ndim, specs[i].shape, data[i]};
    }
    char path[4200];
    if (file_mkdir_p(dir, e) || path_join(path, sizeof path, dir, "model.safetensors", e) ||
        st_save(path, ts, n, ST_F32, 1, e) || path_join(path, sizeof path, dir, "config.json", e) ||
        model_config_save(c, path, e))
        goto done;
    rc = 0;
done:
    for (size_t i = 0; data && i < n; i++) free(data[i]);
    free(data);
    free(ts);
    free(specs);
    return rc;
}
