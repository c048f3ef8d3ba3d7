// dataset.c: documents, tokenizer and template for training and evaluation (dataset.h).
#include "train/dataset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "data/prepare.h"
#include "util/file.h"
#include "util/logfn.h"

#define note(o, ...) log_note((o)->log, (o)->ctx, __VA_ARGS__)

// A prepared directory's index.json: its template and tokenizer, if recorded.
static int read_index(const char *dir, char *tpl, size_t ntpl, char *tok, size_t ntok, Err *e) {
    char path[4200], *text;
    size_t len;
    tpl[0] = tok[0] = 0;
    if (path_join(path, sizeof path, dir, "index.json", e) || file_read_all(path, &text, &len, e))
        return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root) return ERR(e, ERR_FORMAT, "%s: not valid JSON", path);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "template");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "tokenizer");
    if (cJSON_IsString(t)) snprintf(tpl, ntpl, "%s", t->valuestring);
    if (cJSON_IsString(k)) snprintf(tok, ntok, "%s", k->valuestring);
    cJSON_Delete(root);
    return 0;
}

static int is_prepared_dir(const char *p) {
    char path[4200];
    Err e = {0};
    return file_is_dir(p) && !path_join(path, sizeof path, p, "index.json", &e) &&
           file_exists(path);
}

// Reads data files record by record into an in-memory set, in file order (no dedup, no
// split: `data prepare` does those). Conversations need the tokenizer and template.
static int load_files(Dataset *d, const DatasetOptions *o, const char *const *files, int n, TokenSet **out, Err *e) {
    TokenSet *s = tokenset_new();
    if (!s) return ERR(e, ERR_NOMEM, "out of memory");
    DataRecord rec = {0};
    IntVec ids = {0}, mask = {0};
    uint8_t *m8 = NULL;
    size_t cap8 = 0;
    int rc = 0;
    for (int f = 0; f < n && !rc; f++) {
        DataReader *r;
        if (data_reader_open(&r, files[f], &o->reader, e)) {
            rc = -1;
            break;
        }
        int got;
        while (!rc && (got = data_reader_next(r, &rec, e)) == 1) {
            ids.len = mask.len = 0;
            if (prepare_record(d->tok, d->tpl, &rec, &ids, &mask, e)) {  // e names the record
                rc = -1;
                break;
            }
            if (ids.len > cap8) {
                free(m8);
                cap8 = ids.len;
                if (!(m8 = malloc(cap8))) {
                    rc = ERR(e, ERR_NOMEM, "out of memory");
                    break;
                }
            }
            for (size_t i = 0; i < ids.len; i++) m8[i] = (uint8_t)(mask.data[i] != 0);
            if (ids.len && tokenset_add(s, ids.data, m8, ids.len, e)) rc = -1;
        }
        if (!rc && got < 0) rc = -1;
        const ReaderStats *st = data_reader_stats(r);
        size_t bad = 0;
        for (int k = 0; k < DERR_COUNT; k++) bad += st->bad[k];
        if (!rc)
            note(o, "%s: %zu records (%s)%s", files[f], st->records,
                 data_format_name(data_reader_format(r)), bad ? ", some bad ones skipped" : "");
        if (!rc && bad) note(o, "%s: %zu bad records skipped (--skip-bad)", files[f], bad);
        data_reader_close(r);
    }
    data_record_free(&rec);
    ivec_free(&ids);
    ivec_free(&mask);
    free(m8);
    if (rc) {
        tokenset_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

static int open_data(Dataset *d, const DatasetOptions *o, Err *e) {
    if (o->n_data < 1) return ERR(e, ERR_ARG, "no training data (--data)");
    if (o->n_data == 1 && is_prepared_dir(o->data[0])) {
        if (tokenset_open(&d->train, o->data[0], "train", e) ||
            tokenset_open(&d->val, o->data[0], "val", e))
            return -1;
    } else {
        for (int i = 0; i < o->n_data; i++)
            if (file_is_dir(o->data[i]))
                return ERR(e, ERR_ARG, "%s: a directory without index.json (a prepared data "
                           "directory is given alone)", o->data[i]);
        if (load_files(d, o, o->data, o->n_data, &d->train, e)) return -1;
    }
    if (o->n_val && load_files(d, o, o->val_data, o->n_val, &d->val, e)) return -1;
    if (!tokenset_count(d->train)) return ERR(e, ERR_ARG, "the training data has no documents");
    note(o, "data: %zu train documents (%zu tokens), %zu validation documents",
         tokenset_count(d->train), tokenset_tokens(d->train),
         d->val ? tokenset_count(d->val) : (size_t)0);
    return 0;
}

// The tokenizer (optional unless conversations must be rendered) and the template.
static int open_tokenizer(Dataset *d, const DatasetOptions *o, Err *e) {
    char itpl[64] = "", itok[4096] = "";
    if (o->n_data == 1 && is_prepared_dir(o->data[0]) &&
        read_index(o->data[0], itpl, sizeof itpl, itok, sizeof itok, e))
        return -1;
    const char *tname = o->template_name ? o->template_name : itpl[0] ? itpl : "gpt4o";
    if (!(d->tpl = chat_template_find(tname)))
        return ERR(e, ERR_ARG, "unknown template '%s' (known: %s)", tname, chat_template_names());
    // --tokenizer, else the model directory's, else the one the prepared data recorded.
    const char *spec = o->tokenizer ? o->tokenizer : o->model_dir;
    Err te = {0};
    if (tok_load(&d->tok, spec, o->vocab_dir, &te)) {
        d->tok = NULL;
        if (o->tokenizer) {
            *e = te;
            return -1;
        }
        if (itok[0] && !tok_load(&d->tok, itok, o->vocab_dir, &te)) {
            spec = itok;
        } else {
            d->tok = NULL;  // a model without tokenizer files: fine for pre-tokenized data
            note(o, "no tokenizer (%s): the data must be pre-tokenized", te.msg);
            return 0;
        }
    }
    snprintf(d->tok_spec, sizeof d->tok_spec, "%s", spec);
    if (o->add_template_tokens && chat_prepare_tokenizer(d->tok, d->tpl, e)) return -1;
    d->template_tokens = o->add_template_tokens;
    return 0;
}


int dataset_open(Dataset *d, const DatasetOptions *o, Err *e) {
    memset(d, 0, sizeof *d);
    if (open_tokenizer(d, o, e) || open_data(d, o, e)) {
        dataset_free(d);
        return -1;
    }
    return 0;
}

void dataset_free(Dataset *d) {
    if (d->tok) tok_free(d->tok);
    tokenset_free(d->train);
    tokenset_free(d->val);
    memset(d, 0, sizeof *d);
}
