// test_prepare.c: data_prepare's output read back by tokenset_open and the loader — the
// whole path from JSONL to (B,T) rows — plus prepare_record on each kind of record.
// Needs o200k_base ranks (npm tiktoken's or ../shared/data's); skips (77) without them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "data/prepare.h"
#include "util/file.h"
#include "check.h"
#include "fixture.h"

static Tokenizer *load_o200k(void) {
    char d[4096];
    const char *shared = getenv("SHARED_DATA") ? getenv("SHARED_DATA") : "../shared/data";
    snprintf(d, sizeof d, "%s/tokenizers/tiktoken", shared);
    const char *dirs[] = {"node_modules/tiktoken/encoders", d};
    for (int i = 0; i < 2; i++) {
        Tokenizer *t;
        Err e = {0};
        if (tok_load(&t, "o200k_base", dirs[i], &e) == 0) return t;
    }
    return NULL;
}

int main(void) {
    Tokenizer *t = load_o200k();
    if (!t) {
        printf("no o200k_base ranks (run npm ci, or provide ../shared/data)\n");
        return 77;
    }
    if (fixture_init("test_prepare")) return 1;
    const ChatTemplate *tpl = chat_template_find("gpt4o");
    Err e = {0};

    // prepare_record, one record of each kind (with the template's specials added, as
    // data_prepare does first).
    if (chat_prepare_tokenizer(t, tpl, &e)) printf("%s\n", e.msg), exit(1);
    DataRecord r = {0};
    IntVec ids = {0}, mask = {0};
    snprintf(r.where, sizeof r.where, "x.jsonl:1");
    r.kind = REC_TEXT;
    buf_append(&r.text, "Hello world", 11);
    int rc = prepare_record(t, tpl, &r, &ids, &mask, &e);
    CHECK(rc == 0 && ids.len == 3 && ids.data[0] == 13225 && ids.data[1] == 2375 &&
              ids.data[2] == tok_eos_id(t) && mask.data[0] == 0 && mask.data[1] == 1 && mask.data[2] == 1,
          "text: Hello world <|endoftext|>, every token a target but the first");
    data_record_free(&r);
    r.kind = REC_TOKENS;
    snprintf(r.where, sizeof r.where, "x.jsonl:2");
    ivec_push(&r.ids, 5), ivec_push(&r.ids, 300000), ivec_push(&r.mask, 0), ivec_push(&r.mask, 1);
    ids.len = mask.len = 0;
    rc = prepare_record(t, tpl, &r, &ids, &mask, &e);
    CHECK(rc == -1 && strstr(e.msg, "x.jsonl:2: ids[1]: 300000 outside the vocabulary"), "tokens: an id over the vocabulary: %s", e.msg);
    ids.len = mask.len = 0;
    r.ids.data[1] = 200100;
    rc = prepare_record(t, tpl, &r, &ids, &mask, &e);
    CHECK(rc == -1 && strstr(e.msg, "ids[1]: no token has id 200100"), "tokens: an id in a gap of the vocabulary: %s", e.msg);
    ids.len = mask.len = 0;
    r.ids.data[1] = 199999;
    rc = prepare_record(t, tpl, &r, &ids, &mask, &e);
    CHECK(rc == 0 && ids.len == 2 && ids.data[1] == 199999 && mask.data[1] == 1, "tokens: ids and mask pass through");
    data_record_free(&r);
    r.kind = REC_CONV;
    snprintf(r.where, sizeof r.where, "x.jsonl:3");
    conv_add(&r.conv, ROLE_USER, "What is 2+2?", 0, &e);
    conv_add(&r.conv, ROLE_ASSISTANT, "2+2 = 4", 1, &e);
    ids.len = mask.len = 0;
    rc = prepare_record(t, tpl, &r, &ids, &mask, &e);
    CHECK(rc == 0 && ids.len == 21 && ids.data[0] == 200264 && mask.data[20] == 1, "conversation: the seed's 21 ids");
    data_record_free(&r);
    ivec_free(&ids), ivec_free(&mask);

    // A JSONL file through data_prepare on 1 and 3 threads.
    FILE *f = fopen(tmp_path("in.jsonl"), "w");
    for (int i = 0; i < 300; i++)
        fprintf(f, "{\"messages\":[{\"role\":\"user\",\"content\":\"Count to %d.\"},"
                   "{\"role\":\"assistant\",\"content\":\"%s%d\"}]}\n", i, i % 2 ? "Sure: " : "", i);
    fprintf(f, "{\"messages\":[{\"role\":\"user\",\"content\":\"Count to 0.\"},"
               "{\"role\":\"assistant\",\"content\":\"0\"}]}\n");  // a repeat of the first
    fclose(f);
    char in_path[512], out1[512], out3[512];
    snprintf(in_path, sizeof in_path, "%s", tmp_path("in.jsonl"));
    snprintf(out1, sizeof out1, "%s", tmp_path("out1"));
    snprintf(out3, sizeof out3, "%s", tmp_path("out3"));
    PrepareInput in = {in_path, -1};
    PrepareOptions o = {.val = 0.1, .seed = 5, .threads = 1, .shard_tokens = 2000,
                        .tokenizer_spec = "o200k_base", .template_name = "gpt4o"};
    PrepareStats st;
    rc = data_prepare(out1, &in, 1, t, tpl, &o, &st, &e);
    CHECK(rc == 0, "data_prepare: %s", rc ? e.msg : "ok");
    CHECK(st.total.records == 301 && st.total.duplicates == 1 && st.split[PREP_VAL].docs == 30 &&
              st.split[PREP_TRAIN].docs == 270, "301 records, 1 duplicate, 270 train + 30 val");
    CHECK(st.split[PREP_TRAIN].shards > 1, "2000-token shards: train in %zu shards", st.split[PREP_TRAIN].shards);
    PrepareSplitStats train = st.split[PREP_TRAIN];
    prepare_stats_free(&st);
    o.threads = 3;
    rc = data_prepare(out3, &in, 1, t, tpl, &o, &st, &e);
    prepare_stats_free(&st);

    TokenSet *a = NULL, *b = NULL, *v = NULL;
    rc = rc || tokenset_open(&a, out1, "train", &e) || tokenset_open(&b, out3, "train", &e) ||
         tokenset_open(&v, out1, "val", &e);
    CHECK(rc == 0, "tokenset_open reads the prepared train and val splits: %s", rc ? e.msg : "ok");
    int same = rc == 0 && tokenset_count(a) == tokenset_count(b) && tokenset_count(a) == 270;
    for (size_t i = 0; same && i < tokenset_count(a); i++) {
        TokenDoc x = tokenset_doc(a, i), y = tokenset_doc(b, i);
        same = x.len == y.len && !memcmp(x.ids, y.ids, x.len * 4) && !memcmp(x.mask, y.mask, x.len);
    }
    CHECK(same, "1 and 3 threads: the same train documents in the same order");
    CHECK(rc == 0 && tokenset_tokens(a) == train.tokens && tokenset_vocab(a) == 200267 && tokenset_count(v) == 30,
          "counts and vocab_size (200267) agree with the stats");

    // The loader over the mapped shards: every document once per epoch.
    LoaderConfig c = {.B = 4, .T = 64, .pack = true, .shuffle = true, .seed = 1, .pad_id = 199999};
    Loader *l = NULL;
    rc = rc || loader_open(&l, a, &c, &e);
    int32_t bids[4 * 64], bdoc[4 * 64];
    float bmask[4 * 64];
    uint64_t rows = 0, real = 0;
    int got;
    while (l && (got = loader_next(l, bids, bdoc, bmask, &e)) > 0) {
        rows += (uint64_t)got;
        for (int i = 0; i < 4 * 64; i++) real += bids[i] != 199999;
    }
    CHECK(l && rows == loader_rows_per_epoch(l) && real == train.tokens,
          "loader: one epoch over the shards gives every token once (%llu rows)", (unsigned long long)rows);
    loader_free(l);
    tokenset_free(a), tokenset_free(b), tokenset_free(v);

    // A rerun with bigger shards into the same directory: the old run's extra shards go.
    char stale[600];
    snprintf(stale, sizeof stale, "%s/train-00001.bin", out1);
    int had = file_exists(stale);
    o.shard_tokens = 0;
    rc = data_prepare(out1, &in, 1, t, tpl, &o, &st, &e);
    CHECK(rc == 0 && had && !file_exists(stale) && st.split[PREP_TRAIN].shards == 1,
          "a rerun with one shard removes the earlier run's train-00001.bin");
    prepare_stats_free(&st);

    // Errors: a missing file names it; val out of range.
    PrepareInput missing = {tmp_path("nope.jsonl"), -1};
    rc = data_prepare(tmp_path("out4"), &missing, 1, t, tpl, &o, &st, &e);
    CHECK(rc == -1 && strstr(e.msg, "nope.jsonl"), "a missing input names it: %s", e.msg);
    prepare_stats_free(&st);
    o.val = 1.0;
    rc = data_prepare(tmp_path("out4"), &in, 1, t, tpl, &o, &st, &e);
    CHECK(rc == -1 && strstr(e.msg, "val fraction"), "val = 1 is refused: %s", e.msg);
    prepare_stats_free(&st);

    tok_free(t);
    fixture_cleanup();
    return check_summary();
}
