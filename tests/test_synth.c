// test_synth.c: the pieces of `posttrain synth` that need no model — normalization and
// exact hashes, MinHash near duplicates (against exact shingle Jaccard), the resumable
// writer (torn last line, foreign lines, the lock), topic files, the id scheme, and the
// whole loop on scripted backends: duplicates dropped and counted, a run stopped after
// two conversations resumed to the full count with no id twice.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synth/dedup.h"
#include "synth/out.h"
#include "synth/synth.h"
#include "util/file.h"
#include "check.h"
#include "fixture.h"

static const char *story =
    "The water cycle moves water between the ocean, the air and the land. The sun warms "
    "the sea and water evaporates into vapor, which rises, cools and condenses into clouds. "
    "When the droplets in a cloud grow heavy they fall as rain or snow, and rivers carry "
    "the water back to the ocean where the cycle begins again, year after year.";

static void test_dedup(void) {
    Buf b = {0};
    dedup_normalize("  Hello,  World!\n\tIt's  ME ", 27, &b);
    CHECK(b.data && !strcmp(b.data, "hello world it s me"), "normalize: '%s'", b.data ? b.data : "");
    buf_free(&b);
    CHECK(dedup_hash("Hello, world!", 13) == dedup_hash("hello   WORLD", 13),
          "exact hash ignores case, punctuation and spacing");
    CHECK(dedup_hash("hello world", 11) != dedup_hash("hello word", 10), "exact hash tells texts apart");

    // One word changed out of ~60: 3 of ~58 shingles differ, Jaccard ~0.9.
    char near[1024];
    snprintf(near, sizeof near, "%s", story);
    char *w = strstr(near, "heavy");
    memcpy(w, "large", 5);
    double j = shingle_jaccard(story, strlen(story), near, strlen(near));
    MinHash a, m, u;
    minhash_compute(story, strlen(story), &a);
    minhash_compute(near, strlen(near), &m);
    const char *other = "Photosynthesis lets plants turn light, water and carbon dioxide into "
                        "sugar and oxygen inside their leaves, using the green pigment chlorophyll.";
    minhash_compute(other, strlen(other), &u);
    double s = minhash_similarity(&a, &m), s2 = minhash_similarity(&a, &u);
    CHECK(j > 0.85 && j < 0.95, "exact shingle Jaccard of a one-word edit: %.3f", j);
    CHECK(s > j - 0.12 && s < j + 0.12, "MinHash estimate %.3f of Jaccard %.3f (K=%d)", s, j, DEDUP_K);
    CHECK(s2 < 0.1, "MinHash of unrelated texts: %.3f", s2);
    CHECK(minhash_similarity(&a, &a) == 1, "MinHash of a text with itself is 1");

    // Estimates against the exact value over texts that share a growing prefix.
    double worst = 0;
    for (int cut = 10; cut <= 90; cut += 20) {
        char x[1024];
        size_t n = strlen(story) * cut / 100;
        snprintf(x, sizeof x, "%.*s %s", (int)n, story, other);
        MinHash mx;
        minhash_compute(x, strlen(x), &mx);
        double d = minhash_similarity(&a, &mx) - shingle_jaccard(story, strlen(story), x, strlen(x));
        if (d < 0) d = -d;
        if (d > worst) worst = d;
    }
    CHECK(worst < 0.15, "MinHash error over 5 overlaps: at most %.3f", worst);

    DedupIndex d;
    dedup_init(&d, 0.8);
    DedupVerdict v[5];
    double sim;
    dedup_check_add(&d, story, strlen(story), story, strlen(story), &v[0], NULL);
    char loud[1024];
    snprintf(loud, sizeof loud, "  %s!!", story);
    for (char *p = loud; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    dedup_check_add(&d, loud, strlen(loud), loud, strlen(loud), &v[1], NULL);
    dedup_check_add(&d, near, strlen(near), near, strlen(near), &v[2], &sim);
    dedup_check_add(&d, other, strlen(other), other, strlen(other), &v[3], NULL);
    dedup_check_add(&d, "", 0, "", 0, &v[4], NULL);
    CHECK(v[0] == DEDUP_NEW && v[1] == DEDUP_EXACT && v[2] == DEDUP_NEAR && v[3] == DEDUP_NEW &&
          v[4] == DEDUP_NEW, "index: new, exact (shouted), near (%.2f), new, empty new: %d %d %d %d %d",
          sim, v[0], v[1], v[2], v[3], v[4]);
    dedup_free(&d);
    dedup_init(&d, 2);  // near detection off
    dedup_check_add(&d, story, strlen(story), story, strlen(story), &v[0], NULL);
    dedup_check_add(&d, near, strlen(near), near, strlen(near), &v[1], NULL);
    CHECK(v[1] == DEDUP_NEW && d.n == 0, "threshold > 1: near detection off");
    dedup_free(&d);
}

typedef struct {
    int n;
    char ids[8][32];
} Seen;

static int see(void *ctx, const cJSON *obj, const char *line, size_t len, const char *where, Err *e) {
    Seen *s = ctx;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "synth_id");
    if (s->n < 8) snprintf(s->ids[s->n++], 32, "%s", cJSON_IsString(id) ? id->valuestring : "?");
    return 0;
}

static void test_out(void) {
    const char *p = tmp_path("out.jsonl");
    SynthOut o;
    Err e = {0};
    CHECK(synth_out_open(&o, p, NULL, NULL, &e) == 0 && o.n_existing == 0, "writer: new file");
    SynthOut o2;
    Err e2 = {0};
    CHECK(synth_out_open(&o2, p, NULL, NULL, &e2) != 0 && strstr(e2.msg, "another run"),
          "writer: a second writer is refused: %s", e2.msg);
    o.fsync_every = 2;
    for (int i = 0; i < 3; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "{\"synth_id\":\"id%d\",\"messages\":[]}", i);
        synth_out_write(&o, line, (size_t)n, &e);
    }
    CHECK(synth_out_close(&o, &e) == 0, "writer: 3 lines, closed");
    char *data;
    size_t len;
    file_read_all(p, &data, &len, &e);
    size_t whole = len;
    free(data);
    // A torn record, as a write cut short would leave.
    FILE *f = fopen(p, "ab");
    fputs("{\"synth_id\":\"id3\",\"mess", f);
    fclose(f);
    Seen s = {0};
    int rc = synth_out_open(&o, p, see, &s, &e);
    CHECK(rc == 0 && o.n_existing == 3 && o.torn_bytes == 23 && s.n == 3 && !strcmp(s.ids[2], "id2"),
          "reopen: 3 records seen, torn tail of %zu bytes cut (%s)", o.torn_bytes, rc ? e.msg : "");
    synth_out_write(&o, "{\"synth_id\":\"id3\"}", 18, &e);
    synth_out_close(&o, &e);
    file_read_all(p, &data, &len, &e);
    CHECK(len == whole + 19 && !strcmp(data + whole, "{\"synth_id\":\"id3\"}\n"),
          "the next record follows the last whole line");
    free(data);
    memset(&s, 0, sizeof s);
    CHECK(synth_out_open(&o, p, see, &s, &e) == 0 && s.n == 4 && o.torn_bytes == 0, "reopen: 4 records");
    synth_out_close(&o, &e);

    const char *q = tmp_path("foreign.jsonl");
    write_bytes(q, "{\"a\":1}\n\nnot json\n", 18);
    rc = synth_out_open(&o, q, NULL, NULL, &e);
    CHECK(rc != 0 && strstr(e.msg, "foreign.jsonl:3: not a JSON object"), "a foreign line: %s", e.msg);
}

static void test_topics_ids(void) {
    const char *p = tmp_path("topics.txt");
    const char *txt = "# comment\ncats\n\n  Why is the sky blue?  \r\nthe sea";
    write_bytes(p, txt, strlen(txt));
    SynthTopics t;
    Err e = {0};
    int rc = synth_topics_load(p, &t, &e);
    CHECK(rc == 0 && t.n == 3 && !strcmp(t.items[0].topic, "cats") && !t.items[1].topic &&
          !strcmp(t.items[1].question, "Why is the sky blue?") && !strcmp(t.items[2].topic, "the sea"),
          "text topics: 3 entries, a question by its '?' (%s)", rc ? e.msg : "");
    char a[96], b[96], c[96], d[96], f[96], g[96];
    synth_make_id(a, sizeof a, 42, 3, 1, &t.items[0]);
    synth_make_id(b, sizeof b, 42, 3, 1, &t.items[0]);
    synth_make_id(c, sizeof c, 43, 3, 1, &t.items[0]);
    synth_make_id(d, sizeof d, 42, 4, 1, &t.items[0]);
    synth_make_id(f, sizeof f, 42, 3, 0, &t.items[0]);
    synth_make_id(g, sizeof g, 42, 3, 1, &t.items[2]);
    CHECK(!strcmp(a, b) && !strncmp(a, "s42-t3-k1-", 10) && strlen(a) == 18, "id: %s, stable", a);
    CHECK(strcmp(a, c) && strcmp(a, d) && strcmp(a, f) && strcmp(a, g) && strcmp(c + 3, a + 3) == 0,
          "id: seed, index, k and text each change it (%s %s %s %s)", c, d, f, g);
    synth_topics_free(&t);

    const char *q = tmp_path("topics.jsonl");
    const char *js = "{\"topic\":\"rivers\"}\n{\"question\":\"How do tides work?\",\"topic\":\"the moon\"}\n"
                     "{\"topic\":3}\n";
    write_bytes(q, js, strlen(js));
    rc = synth_topics_load(q, &t, &e);
    CHECK(rc != 0 && strstr(e.msg, "topics.jsonl:3: topic: expected a string"), "JSONL: bad line named: %s", e.msg);
    write_bytes(q, js, strlen(js) - 13);
    rc = synth_topics_load(q, &t, &e);
    CHECK(rc == 0 && t.n == 2 && !strcmp(t.items[1].topic, "the moon") &&
          !strcmp(t.items[1].question, "How do tides work?"), "JSONL: topic and question");
    synth_topics_free(&t);
}

// Scripted backends: the user asks about the topic (from its system prompt), the
// assistant's answer depends on the question only through `vary`.
typedef struct {
    SynthBackend base;
    bool user;
    int calls;
} Fake;

static int fake_reply(SynthBackend *b, const Conversation *c, const SynthSample *s, Buf *out, Err *e) {
    Fake *f = (Fake *)b;
    f->calls++;
    out->len = 0;
    const char *last = c->msgs[c->n - 1].content;
    if (f->user) {
        const char *t = strstr(c->msgs[0].content, "topic: ");
        int n = (int)strcspn(t + 7, ".");
        return buf_appendf(out, "Tell me about %.*s, part %d?", n, t + 7, c->n / 2);
    }
    // "same" topics get one answer (the second "same" is an exact duplicate), "alike1"
    // that answer too (a near duplicate: other questions), "alike2" a one-word variant
    // (near, ~0.9), "mute" none (an empty conversation).
    if (strstr(last, "mute")) return buf_appendf(out, "   ");
    if (strstr(last, "same")) return buf_appendf(out, "%s", story);
    if (strstr(last, "alike")) {
        buf_appendf(out, "%s", story);
        memcpy(strstr(out->data, "heavy"), strstr(last, "alike2") ? "large" : "heavy", 5);
        return 0;
    }
    return buf_appendf(out, "An answer to '%s' (seed %llu).", last, (unsigned long long)s->seed);
}

static void show(void *ctx, const SynthStats *st, const char *id, const char *verdict, double sim) {
    printf("      %s %s %.2f\n", id, verdict, sim);
}

static size_t count_lines(const char *path) {
    char *data;
    size_t len, n = 0;
    Err e;
    if (file_read_all(path, &data, &len, &e)) return 0;
    for (size_t i = 0; i < len; i++) n += data[i] == '\n';
    free(data);
    return n;
}

static void test_run(void) {
    const char *tp = tmp_path("run_topics.txt");
    const char *txt = "apples\nsame\nsame\nalike1\nalike2\nmute\nWhat is rain?\npears\n";
    write_bytes(tp, txt, strlen(txt));
    SynthTopics t;
    Err e = {0};
    synth_topics_load(tp, &t, &e);
    Fake user = {{fake_reply, NULL, "user"}, true, 0}, asst = {{fake_reply, NULL, "asst"}, false, 0};
    SynthOptions o;
    synth_options_default(&o);
    o.turns = 2;
    o.seed = 7;
    o.limit = 2;  // the first run stops after two, as if killed
    char out[600], dropped[600];
    snprintf(out, sizeof out, "%s", tmp_path("run.jsonl"));
    snprintf(dropped, sizeof dropped, "%s", tmp_path("run.dropped.jsonl"));
    SynthStats st;
    SynthHooks hooks = {show, NULL, NULL};
    int rc = synth_run(&o, &t, &user.base, &asst.base, out, dropped, &hooks, &st, &e);
    CHECK(rc == 0 && st.written == 2 && count_lines(out) == 2, "run with --limit 2: 2 written (%s)", rc ? e.msg : "");
    // A torn line, as a crash mid-write would leave.
    FILE *f = fopen(out, "ab");
    fputs("{\"synth_id\":\"s7-t2", f);
    fclose(f);
    o.limit = 0;
    rc = synth_run(&o, &t, &user.base, &asst.base, out, dropped, &hooks, &st, &e);
    CHECK(rc == 0 && st.done_before == 2 && st.torn_bytes == 18 && st.written == 2 && st.exact_dup == 1 &&
          st.near_dup == 2 && st.empty == 1,
          "resumed: 2 done before, torn line cut, 2 more written, 1 exact + 2 near duplicates, 1 empty "
          "(%zu %zu %zu %zu %zu %zu) %s", st.done_before, st.torn_bytes, st.written, st.exact_dup,
          st.near_dup, st.empty, rc ? e.msg : "");
    CHECK(count_lines(out) == 4 && count_lines(dropped) == 4, "output 4 lines, dropped 4");

    // Every id once, across both files; the seed question is the first user message.
    char *data;
    size_t len;
    file_read_all(out, &data, &len, &e);
    int dup_ids = 0, question = 0, turns_ok = 1;
    char *line = data, *nl;
    char ids[16][40];
    int n = 0;
    while ((nl = strchr(line, '\n')) && n < 16) {
        *nl = 0;
        cJSON *j = cJSON_Parse(line);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "synth_id");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "messages");
        if (cJSON_GetArraySize(m) != 4) turns_ok = 0;
        const cJSON *c0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m, 0), "content");
        if (cJSON_IsString(c0) && !strcmp(c0->valuestring, "What is rain?")) question++;
        for (int k = 0; k < n; k++) dup_ids += cJSON_IsString(id) && !strcmp(ids[k], id->valuestring);
        snprintf(ids[n++], 40, "%s", cJSON_IsString(id) ? id->valuestring : "");
        cJSON_Delete(j);
        line = nl + 1;
    }
    free(data);
    CHECK(dup_ids == 0 && n == 4 && turns_ok && question == 1,
          "4 distinct ids, 2 turns each, the seed question asked as given");

    int calls = user.calls + asst.calls;
    rc = synth_run(&o, &t, &user.base, &asst.base, out, dropped, NULL, &st, &e);
    CHECK(rc == 0 && st.done_before == 8 && st.written == 0 && user.calls + asst.calls == calls,
          "a third run: everything done (dropped ones too), no model calls");
    o.per_topic = 2;
    rc = synth_run(&o, &t, &user.base, &asst.base, out, dropped, NULL, &st, &e);
    CHECK(rc == 0 && st.done_before == 8 && st.written + st.exact_dup + st.near_dup + st.empty == 8 &&
          st.exact_dup >= 2, "--per-topic 2: 8 more (k=1), the same answers caught as duplicates "
          "(%zu written, %zu exact, %zu near)", st.written, st.exact_dup, st.near_dup);
    synth_topics_free(&t);
}

int main(void) {
    if (fixture_init("test_synth")) return 1;
    test_dedup();
    test_out();
    test_topics_ids();
    test_run();
    fixture_cleanup();
    return check_summary();
}
