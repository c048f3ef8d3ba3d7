// cmd_tokenize.c: `posttrain tokenize` and `posttrain detokenize`.
//
//   posttrain tokenize --tokenizer SPEC [--allow-special] [--bos] [--eos]
//                      [--count | --pieces | --jsonl [--threads N]] < text
//   posttrain detokenize --tokenizer SPEC < ids
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <omp.h>

#include "cli/cli.h"
#include "util/file.h"
#include "util/utf8.h"

static const char *tokenize_help =
    "usage: posttrain tokenize --tokenizer SPEC [options] < text\n"
    "  SPEC: a .tiktoken file, tokenizer.json, encoder.json, llama2.c .bin, a model directory,\n"
    "        or a built-in encoding (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)\n"
    "        with --vocab-dir DIR holding NAME.tiktoken\n"
    "  --allow-special    match special tokens such as <|endoftext|> in the text\n"
    "  --special NAME=ID  add a special token (repeatable; NAME alone takes the next id)\n"
    "  --bos, --eos       add the tokenizer's own BOS / EOS id\n"
    "  --replace-invalid  replace invalid UTF-8 by U+FFFD instead of failing\n"
    "  --count            print the number of tokens only\n"
    "  --pieces           print one token per line: id, then its bytes (escaped)\n"
    "  --jsonl            each input line is a JSON string (or {\"text\": ...}); print one\n"
    "                     line of ids per input line, encoded in parallel (--threads N)\n";

// Writes token bytes readably: printable UTF-8 as is, the rest as \n, \t, \xNN.
static void print_piece(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        int l = utf8_seq_len(p + i, n - i);
        if (l == 1 && p[i] < 0x20) {
            if (p[i] == '\n') fputs("\\n", stdout);
            else if (p[i] == '\t') fputs("\\t", stdout);
            else if (p[i] == '\r') fputs("\\r", stdout);
            else printf("\\x%02x", p[i]);
        } else if (l == 1 && p[i] == '\\') {
            fputs("\\\\", stdout);
        } else if (l) {
            fwrite(p + i, 1, (size_t)l, stdout);
            i += (size_t)l;
            continue;
        } else {
            printf("\\x%02x", p[i]);
        }
        i++;
    }
}

static void print_ids(const IntVec *v) {
    for (size_t i = 0; i < v->len; i++) printf(i ? " %d" : "%d", v->data[i]);
    putchar('\n');
}

// --jsonl: one JSON string per line in, one line of ids per line out.
static int tokenize_jsonl(const Tokenizer *t, char *data, size_t len, int flags, int threads) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += data[i] == '\n';
    if (len && data[len - 1] != '\n') n++;
    char **lines = malloc((n + 1) * sizeof *lines);
    IntVec *ids = calloc(n + 1, sizeof *ids);
    Err *errs = calloc(n + 1, sizeof *errs);
    int *failed = calloc(n + 1, sizeof *failed);
    if (!lines || !ids || !errs || !failed) {
        fprintf(stderr, "posttrain tokenize: out of memory\n");
        return 1;
    }
    size_t k = 0;
    for (char *p = data, *end = data + len; p < end && k < n;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) *nl = 0;
        lines[k++] = p;
        p = nl ? nl + 1 : end;
    }
    n = k;
    if (threads > 0) omp_set_num_threads(threads);
    // Lines are independent and the tokenizer is read-only: one line per iteration.
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < n; i++) {
        cJSON *j = cJSON_Parse(lines[i]);
        cJSON *s = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "text") : j;
        if (!cJSON_IsString(s)) {
            ERR(&errs[i], ERR_FORMAT, "<stdin>:%zu: expected a JSON string or {\"text\": string}",
                i + 1);
            failed[i] = 1;
        } else if (tok_encode(t, s->valuestring, strlen(s->valuestring), flags, &ids[i], &errs[i])) {
            err_prefix(&errs[i], "<stdin>:%zu: text: ", i + 1);
            failed[i] = 1;
        }
        cJSON_Delete(j);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (failed[i] && !rc) rc = cli_fail(&errs[i]);
        if (!rc) print_ids(&ids[i]);
        ivec_free(&ids[i]);
    }
    free(lines), free(ids), free(errs), free(failed);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    TokOptions o = {0};
    int flags = 0, count = 0, pieces = 0, jsonl = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_tok_option(&o, "tokenize", argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--allow-special")) flags |= TOK_ALLOW_SPECIAL;
        else if (!strcmp(a, "--bos")) flags |= TOK_ADD_BOS;
        else if (!strcmp(a, "--eos")) flags |= TOK_ADD_EOS;
        else if (!strcmp(a, "--replace-invalid")) flags |= TOK_REPLACE_INVALID;
        else if (!strcmp(a, "--count")) count = 1;
        else if (!strcmp(a, "--pieces")) pieces = 1;
        else if (!strcmp(a, "--jsonl")) jsonl = 1;
        else if (!strcmp(a, "--threads")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v || (threads = atoi(v)) <= 0) return cli_usage("tokenize", "--threads needs N > 0");
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(tokenize_help, stdout);
            return 0;
        } else {
            return cli_usage("tokenize", "unknown option %s\n%s", a, tokenize_help);
        }
    }
    Tokenizer *t = cli_tok_load(&o, "tokenize");
    if (!t) return 1;
    Err e = {0};
    char *text;
    size_t len;
    if (file_read_all("-", &text, &len, &e)) {
        tok_free(t);
        return cli_fail(&e);
    }
    int rc = 0;
    if (jsonl) {
        rc = tokenize_jsonl(t, text, len, flags, threads);
    } else {
        IntVec ids = {0};
        if (tok_encode(t, text, len, flags, &ids, &e)) {
            err_prefix(&e, "<stdin>: ");
            rc = cli_fail(&e);
        } else if (count) {
            printf("%zu\n", ids.len);
        } else if (pieces) {
            for (size_t i = 0; i < ids.len; i++) {
                size_t n;
                const uint8_t *p = tok_token_bytes(t, ids.data[i], &n);
                printf("%d\t", ids.data[i]);
                print_piece(p, n);
                putchar('\n');
            }
        } else {
            print_ids(&ids);
        }
        ivec_free(&ids);
    }
    free(text);
    tok_free(t);
    return rc;
}

// --jsonl: each line a JSON array of ids; prints each decoded text as a JSON string.
static int detokenize_jsonl(const Tokenizer *t, const char *text) {
    Err e = {0};
    size_t lineno = 0;
    int rc = 0;
    for (const char *p = text; *p && !rc;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        cJSON *j = cJSON_ParseWithLength(p, n);
        IntVec ids = {0};
        Buf out = {0};
        if (!cJSON_IsArray(j)) {
            ERR(&e, ERR_FORMAT, "<stdin>:%zu: expected a JSON array of ids", lineno);
            rc = cli_fail(&e);
        }
        cJSON *x;
        cJSON_ArrayForEach(x, j) {
            if (rc) break;
            if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > INT32_MAX) {
                ERR(&e, ERR_FORMAT, "<stdin>:%zu: [%zu]: expected a token id", lineno, ids.len);
                rc = cli_fail(&e);
            }
            ivec_push(&ids, (int32_t)x->valuedouble);
        }
        if (!rc && tok_decode(t, ids.data, ids.len, &out, &e)) {
            err_prefix(&e, "<stdin>:%zu: ", lineno);
            rc = cli_fail(&e);
        }
        if (!rc) {
            // Decoded bytes need not be valid UTF-8 (a token can hold half a character):
            // cJSON would pass them through; replace them so the line stays valid JSON.
            Buf clean = {0};
            utf8_replace_invalid(out.data ? out.data : "", out.len, &clean);
            cJSON *str = cJSON_CreateString(clean.data ? clean.data : "");
            char *js = cJSON_PrintUnformatted(str);
            puts(js);
            free(js);
            cJSON_Delete(str);
            buf_free(&clean);
        }
        cJSON_Delete(j);
        ivec_free(&ids);
        buf_free(&out);
        p = nl ? nl + 1 : p + n;
    }
    return rc;
}

int cmd_detokenize(int argc, char **argv) {
    TokOptions o = {0};
    int jsonl = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_tok_option(&o, "detokenize", argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: posttrain detokenize --tokenizer SPEC [--special NAME=ID] [--jsonl] < ids\n"
                 "  ids separated by spaces, commas or newlines; writes the exact bytes\n"
                 "  --jsonl: each line a JSON array of ids; prints one JSON string per line");
            return 0;
        }
        if (!strcmp(argv[i], "--jsonl")) {
            jsonl = 1;
            continue;
        }
        return cli_usage("detokenize", "unknown option %s", argv[i]);
    }
    Tokenizer *t = cli_tok_load(&o, "detokenize");
    if (!t) return 1;
    Err e = {0};
    char *text;
    size_t len;
    int rc = 0;
    if (file_read_all("-", &text, &len, &e)) {
        tok_free(t);
        return cli_fail(&e);
    }
    if (jsonl) {
        rc = detokenize_jsonl(t, text);
        free(text);
        tok_free(t);
        return rc;
    }
    IntVec ids = {0};
    for (char *p = text; *p;) {
        if (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t' || *p == '\r' || *p == '[' ||
            *p == ']') {
            p++;
            continue;
        }
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > INT32_MAX) {
            ERR(&e, ERR_FORMAT, "<stdin>: byte %zu: expected a token id, found '%.10s'",
                (size_t)(p - text), p);
            rc = cli_fail(&e);
            break;
        }
        ivec_push(&ids, (int32_t)v);
        p = end;
    }
    Buf out = {0};
    if (!rc) {
        if (tok_decode(t, ids.data, ids.len, &out, &e)) rc = cli_fail(&e);
        else fwrite(out.data, 1, out.len, stdout);
    }
    buf_free(&out);
    ivec_free(&ids);
    free(text);
    tok_free(t);
    return rc;
}
