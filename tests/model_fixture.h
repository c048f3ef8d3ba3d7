// model_fixture.h: a small model directory for the C tests — config.json from a JSON
// string and random F32 weights in model.safetensors, each value drawn by the test's own
// function (so every test keeps its own distribution and seed).
#ifndef PT_TESTS_MODEL_FIXTURE_H
#define PT_TESTS_MODEL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/config.h"
#include "model/safetensors.h"

// Returns one weight of tensor t; is_norm_weight: a LayerNorm/RMSNorm scale (usually ~1).
typedef float (*FixtureValue)(void *ctx, const ModelTensorSpec *t, int is_norm_weight);

static int fixture_norm_weight(const char *name) {
    return (strstr(name, "norm") || strstr(name, "ln_")) && strstr(name, ".weight");
}

// Writes dir/config.json (parsed from json, named name in errors) and dir/model.safetensors.
static int fixture_model_write(const char *dir, const char *name, const char *json,
                               FixtureValue value, void *ctx, Err *e) {
    char path[1200];
    ModelConfig c;
    ModelTensorSpec *specs;
    size_t n;
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (model_config_parse(&c, json, strlen(json), name, e) || model_config_save(&c, path, e) ||
        model_config_tensors(&c, &specs, &n, e))
        return -1;
    StSaveTensor *ts = calloc(n, sizeof *ts);
    float **data = calloc(n, sizeof *data);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)specs[i].shape[0] * (specs[i].ndim == 2 ? (size_t)specs[i].shape[1] : 1);
        int nw = fixture_norm_weight(specs[i].name);
        data[i] = malloc(k * sizeof(float));
        for (size_t j = 0; j < k; j++) data[i][j] = value(ctx, &specs[i], nw);
        ts[i] = (StSaveTensor){specs[i].name, specs[i].ndim, specs[i].shape, data[i]};
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = st_save(path, ts, n, ST_F32, 1, e);
    for (size_t i = 0; i < n; i++) free(data[i]);
    free(data);
    free(ts);
    free(specs);
    return rc;
}

#endif
