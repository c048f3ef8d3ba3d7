// bench_tokenize.c: encode throughput of posttrain's tokenizer (bench/tokenize/run.sh).
//
//   bench_tokenize single VOCAB CORPUS [REPS]          one thread, document by document
//   bench_tokenize batch  VOCAB CORPUS THREADS [REPS]  documents spread over OpenMP threads
//   bench_tokenize counts VOCAB CORPUS                 token count per document, one a line
//   bench_tokenize run    VOCAB CHAR BYTES...          one run of CHAR repeated BYTES times
//
// VOCAB is anything tok_load accepts (here a NAME.tiktoken path). CORPUS holds documents
// separated by 0x1E bytes (gen_corpus.mjs); each is encoded on its own, as a data
// pipeline would, and the separators are not encoded. Loading the vocabulary and reading
// the file are not timed; the figure is the best of REPS (default 3) passes. MB is 10^6
// bytes of input text. Output is one "key=value …" line per measurement for run.sh.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tok/tok.h"
#include "util/file.h"

typedef struct {
    const char *p;
    size_t n;
} Doc;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, const Err *e) {
    fprintf(stderr, "bench_tokenize: %s: %s\n", what, e->msg);
    exit(1);
}

static Tokenizer *load(const char *spec) {
    Tokenizer *t;
    Err e = {0};
    if (tok_load(&t, spec, NULL, &e)) die(spec, &e);
    return t;
}

// Splits data at 0x1E bytes into docs (borrowing data).
static Doc *split_docs(const char *data, size_t len, size_t *ndocs) {
    size_t cap = 1024, n = 0;
    Doc *d = malloc(cap * sizeof *d);
    for (size_t start = 0; start <= len;) {
        const char *sep = memchr(data + start, 0x1E, len - start);
        size_t end = sep ? (size_t)(sep - data) : len;
        if (n == cap) d = realloc(d, (cap *= 2) * sizeof *d);
        if (!d) exit(1);
        d[n++] = (Doc){data + start, end - start};
        start = end + 1;
    }
    *ndocs = n;
    return d;
}

// Encodes every document once on one thread; returns the token count.
static size_t encode_all(const Tokenizer *t, const Doc *d, size_t n, size_t *counts) {
    IntVec ids = {0};
    size_t total = 0;
    Err e = {0};
    for (size_t i = 0; i < n; i++) {
        ids.len = 0;
        if (tok_encode(t, d[i].p, d[i].n, 0, &ids, &e)) die("encode", &e);
        total += ids.len;
        if (counts) counts[i] = ids.len;
    }
    ivec_free(&ids);
    return total;
}

// Encodes every document once with THREADS threads pulling documents off a shared queue.
static size_t encode_parallel(const Tokenizer *t, const Doc *d, size_t n, int threads) {
    size_t total = 0;
    int failed = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        IntVec ids = {0};
        Err e = {0};
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < n; i++) {
            ids.len = 0;
            if (tok_encode(t, d[i].p, d[i].n, 0, &ids, &e)) {
#pragma omp atomic write
                failed = 1;
            }
            total += ids.len;
        }
        ivec_free(&ids);
    }
    if (failed) {
        fprintf(stderr, "bench_tokenize: encode failed in a worker thread\n");
        exit(1);
    }
    return total;
}

static void read_corpus(const char *path, char **data, size_t *len) {
    Err e = {0};
    if (file_read_all(path, data, len, &e)) die(path, &e);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_tokenize single|batch|counts|run VOCAB ... (see the file header)\n");
        return 2;
    }
    const char *mode = argv[1];
    Tokenizer *t = load(argv[2]);
    if (!strcmp(mode, "single") || !strcmp(mode, "batch") || !strcmp(mode, "counts")) {
        char *data;
        size_t len, ndocs;
        read_corpus(argv[3], &data, &len);
        Doc *docs = split_docs(data, len, &ndocs);
        size_t text = len - (ndocs - 1);  // the separators are not text
        if (!strcmp(mode, "counts")) {
            size_t *counts = malloc(ndocs * sizeof *counts);
            encode_all(t, docs, ndocs, counts);
            for (size_t i = 0; i < ndocs; i++) printf("%zu\n", counts[i]);
            free(counts);
        } else {
            bool batch = !strcmp(mode, "batch");
            int threads = batch ? (argc > 4 ? atoi(argv[4]) : 2) : 1;
            int reps = argc > (batch ? 5 : 4) ? atoi(argv[batch ? 5 : 4]) : 3;
            if (threads < 1) threads = 1;
            if (reps < 1) reps = 1;
            double best = 1e30;
            size_t tokens = 0;
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                tokens = batch ? encode_parallel(t, docs, ndocs, threads) : encode_all(t, docs, ndocs, NULL);
                double dt = now() - t0;
                if (dt < best) best = dt;
            }
            printf("mode=%s threads=%d docs=%zu bytes=%zu tokens=%zu seconds=%.4f mbps=%.2f\n", mode,
                   threads, ndocs, text, tokens, best, text / best / 1e6);
        }
        free(docs);
        free(data);
    } else if (!strcmp(mode, "run")) {
        const char *ch = argv[3];
        for (int a = 4; a < argc; a++) {
            size_t n = strtoull(argv[a], NULL, 10);
            char *s = malloc(n + 1);
            for (size_t i = 0; i < n; i++) s[i] = ch[0];
            IntVec ids = {0};
            Err e = {0};
            double best = 1e30;
            for (int r = 0; r < 3; r++) {
                ids.len = 0;
                double t0 = now();
                if (tok_encode(t, s, n, 0, &ids, &e)) die("encode", &e);
                double dt = now() - t0;
                if (dt < best) best = dt;
            }
            printf("mode=run char=%c bytes=%zu tokens=%zu seconds=%.6f\n", ch[0], n, ids.len, best);
            ivec_free(&ids);
            free(s);
        }
    } else {
        fprintf(stderr, "bench_tokenize: unknown mode %s\n", mode);
        return 2;
    }
    tok_free(t);
    return 0;
}
