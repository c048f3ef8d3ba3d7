// checkpoint.c: checkpoints of a training run (see checkpoint.h).
#include "train/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/file.h"

static const char OPT_MAGIC[8] = "PTADAMW1";

// optimizer.bin: magic, u64 n, i64 t, then m (n floats) and v (n floats), little-endian.
static int save_optimizer(const char *path, const AdamW *opt, Err *e) {
    FILE *f = fopen(path, "wb");
    if (!f) return ERR(e, ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    uint64_t n = opt->n;
    int64_t t = opt->t;
    int ok = fwrite(OPT_MAGIC, 8, 1, f) == 1 && fwrite(&n, 8, 1, f) == 1 &&
             fwrite(&t, 8, 1, f) == 1 && fwrite(opt->m, sizeof(float), n, f) == n &&
             fwrite(opt->v, sizeof(float), n, f) == n;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : ERR(e, ERR_IO, "%s: write failed: %s", path, strerror(errno));
}

int checkpoint_load_optimizer(const char *dir, AdamW *opt, Err *e) {
    char path[4200];
    if (path_join(path, sizeof path, dir, "optimizer.bin", e)) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) return ERR(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char magic[8];
    uint64_t n = 0;
    int64_t t = 0;
    int rc = 0;
    if (fread(magic, 8, 1, f) != 1 || memcmp(magic, OPT_MAGIC, 8))
        rc = ERR(e, ERR_FORMAT, "%s: not a posttrain optimizer state (bad magic)", path);
    else if (fread(&n, 8, 1, f) != 1 || fread(&t, 8, 1, f) != 1)
        rc = ERR(e, ERR_FORMAT, "%s: truncated header", path);
    else if (n != opt->n)
        rc = ERR(e, ERR_FORMAT, "%s: holds %llu parameters, the model has %zu", path,
                 (unsigned long long)n, opt->n);
    else if (fread(opt->m, sizeof(float), n, f) != n || fread(opt->v, sizeof(float), n, f) != n)
        rc = ERR(e, ERR_FORMAT, "%s: truncated (expected %llu bytes of moments)", path,
                 (unsigned long long)(8 * n));
    else if (fgetc(f) != EOF)
        rc = ERR(e, ERR_FORMAT, "%s: trailing bytes after the moments", path);
    fclose(f);
    if (!rc) opt->t = (int)t;
    return rc;
}

static int save_state(const char *path, const CheckpointState *cs, Err *e) {
    cJSON *j = cJSON_CreateObject(), *l = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", cs->step);
    cJSON_AddNumberToObject(j, "total_steps", cs->total);
    cJSON_AddNumberToObject(l, "epoch", (double)cs->loader.epoch);
    cJSON_AddNumberToObject(l, "cursor", (double)cs->loader.cursor);
    cJSON_AddNumberToObject(l, "rows", (double)cs->loader.rows);
    cJSON_AddItemToObject(j, "loader", l);
    if (isfinite(cs->best_val)) cJSON_AddNumberToObject(j, "best_val_loss", cs->best_val);
    else cJSON_AddNullToObject(j, "best_val_loss");
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)cs->seed);  // exact, as a string
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddNumberToObject(j, "batch_size", cs->batch);
    cJSON_AddNumberToObject(j, "grad_accum", cs->grad_accum);
    cJSON_AddNumberToObject(j, "seq_len", cs->seq_len);
    cJSON_AddBoolToObject(j, "pack", cs->pack);
    cJSON_AddBoolToObject(j, "shuffle", cs->shuffle);
    cJSON_AddStringToObject(j, "objective", cs->objective == OBJ_PRETRAIN ? "pretrain" : "sft");
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return ERR(e, ERR_NOMEM, "out of memory");
    int rc = file_write_atomic(path, text, strlen(text), e);
    free(text);
    return rc;
}

static int get_num(const cJSON *o, const char *key, const char *path, double *out, Err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return ERR(e, ERR_FORMAT, "%s: %s: expected a number", path, key);
    *out = v->valuedouble;
    return 0;
}

int checkpoint_load_state(const char *dir, CheckpointState *cs, Err *e) {
    char path[4200], *text;
    size_t len;
    if (path_join(path, sizeof path, dir, "trainer_state.json", e) ||
        file_read_all(path, &text, &len, e))
        return -1;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j) return ERR(e, ERR_FORMAT, "%s: not valid JSON", path);
    memset(cs, 0, sizeof *cs);
    double v[9] = {0};
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "loader");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(j, "seed");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(j, "best_val_loss");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(j, "objective");
    int rc = get_num(j, "step", path, &v[0], e) || get_num(j, "total_steps", path, &v[1], e) ||
             get_num(l, "epoch", path, &v[2], e) || get_num(l, "cursor", path, &v[3], e) ||
             get_num(l, "rows", path, &v[4], e) || get_num(j, "batch_size", path, &v[5], e) ||
             get_num(j, "grad_accum", path, &v[6], e) || get_num(j, "seq_len", path, &v[7], e);
    if (!rc && !cJSON_IsString(seed)) rc = ERR(e, ERR_FORMAT, "%s: seed: expected a string", path);
    if (!rc && !cJSON_IsString(obj))
        rc = ERR(e, ERR_FORMAT, "%s: objective: expected a string", path);
    if (!rc) {
        cs->step = (int)v[0], cs->total = (int)v[1];
        cs->loader = (LoaderState){(uint64_t)v[2], (uint64_t)v[3], (uint64_t)v[4]};
        cs->batch = (int)v[5], cs->grad_accum = (int)v[6], cs->seq_len = (int)v[7];
        cs->seed = strtoull(seed->valuestring, NULL, 10);
        cs->best_val = cJSON_IsNumber(best) ? best->valuedouble : NAN;
        cs->pack = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "pack"));
        cs->shuffle = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "shuffle"));
        cs->objective = !strcmp(obj->valuestring, "pretrain") ? OBJ_PRETRAIN : OBJ_SFT;
    }
    cJSON_Delete(j);
    return rc ? -1 : 0;
}

int checkpoint_check(const CheckpointState *cs, const TrainOptions *o, int total, Err *e) {
#define SAME(what, a, b)                                                                       \
    if ((a) != (b))                                                                            \
        return ERR(e, ERR_ARG, "--resume: the checkpoint was made with %s %lld, this run has " \
                   "%lld (resume with the same options)", what, (long long)(b), (long long)(a));
    SAME("--batch-size", o->batch, cs->batch);
    SAME("--grad-accum", o->grad_accum, cs->grad_accum);
    SAME("--seq-len", o->seq_len, cs->seq_len);
    SAME("--seed", (long long)o->seed, (long long)cs->seed);
    SAME("pack (--no-pack)", o->pack, cs->pack);
    SAME("shuffle (--no-shuffle)", o->shuffle, cs->shuffle);
    SAME("--objective (0 sft, 1 pretrain)", (int)o->objective, cs->objective);
    SAME("total steps", total, cs->total);
#undef SAME
    if (cs->step > total)
        return ERR(e, ERR_ARG, "--resume: the checkpoint is at step %d, past this run's %d",
                   cs->step, total);
    return 0;
}

int checkpoint_find(const char *path, char *dir, size_t n, Err *e) {
    char p[4200], name[256];
    if (path_join(p, sizeof p, path, "trainer_state.json", e)) return -1;
    if (file_exists(p)) {
        if ((size_t)snprintf(dir, n, "%s", path) >= n) return ERR(e, ERR_ARG, "%s: path too long", path);
        return 0;
    }
    char *text;
    size_t len;
    if (path_join(p, sizeof p, path, "checkpoints/latest", e)) return -1;
    if (!file_exists(p))
        return ERR(e, ERR_ARG, "%s: not a checkpoint (no trainer_state.json) and no "
                   "checkpoints/latest in it", path);
    if (file_read_all(p, &text, &len, e)) return -1;
    snprintf(name, sizeof name, "checkpoints/%.*s", (int)strcspn(text, "\n"), text);
    free(text);
    if (path_join(dir, n, path, name, e)) return -1;
    return 0;
}

// Removes the step-* checkpoints in cdir other than keep.
static int prune(const char *cdir, const char *keep, Err *e) {
    DIR *d = opendir(cdir);
    if (!d) return ERR(e, ERR_IO, "%s: %s", cdir, strerror(errno));
    struct dirent *ent;
    int rc = 0;
    while (!rc && (ent = readdir(d))) {
        if (strncmp(ent->d_name, "step-", 5) || !strcmp(ent->d_name, keep)) continue;
        char p[4200];
        rc = path_join(p, sizeof p, cdir, ent->d_name, e) || file_remove_tree(p, e);
    }
    closedir(d);
    return rc ? -1 : 0;
}

int checkpoint_save(const char *out_dir, const Model *m, const AdamW *opt,
                    const CheckpointState *cs, const char *tok_dir, char *dir, size_t n,
                    Err *e) {
    char cdir[4200], tmp[4300], name[64], p[4400];
    snprintf(name, sizeof name, "step-%07d", cs->step);
    if (path_join(cdir, sizeof cdir, out_dir, "checkpoints", e) || file_mkdir_p(cdir, e))
        return -1;
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s", cdir, name);
    if (path_join(dir, n, cdir, name, e) || file_remove_tree(tmp, e) ||
        model_save(m, tmp, ST_F32, tok_dir, e))
        return -1;
    snprintf(p, sizeof p, "%s/optimizer.bin", tmp);
    if (save_optimizer(p, opt, e)) return -1;
    snprintf(p, sizeof p, "%s/trainer_state.json", tmp);
    if (save_state(p, cs, e)) return -1;
    // A checkpoint of this step may exist (a resumed run passing it again): replace it.
    if (file_remove_tree(dir, e) || file_rename_durable(tmp, dir, e)) return -1;
    snprintf(p, sizeof p, "%s/latest", cdir);
    char line[80];
    int len = snprintf(line, sizeof line, "%s\n", name);
    if (file_write_atomic(p, line, (size_t)len, e)) return -1;
    return prune(cdir, name, e);
}
