// cmd_data.c: `posttrain data SUBCOMMAND` — `data stats` here, `data prepare` in
// cmd_data_prepare.c.
//
//   posttrain data stats [--format NAME] [--skip-bad] [--best-only] [--lang L]
//                        [--tokenizer SPEC [--vocab-dir DIR] --template NAME] [--json] FILES...
// Reads every record of FILES (src/data/reader.h) and prints what is in them: records by
// kind, messages / characters (and tokens, with a tokenizer and template) per role, a
// length histogram, languages and categories, bad records by kind, oasst's dropped
// messages and threads.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/template.h"
#include "cli/cli.h"
#include "data/reader.h"

static const char *help =
    "usage: posttrain data stats [options] FILES...\n"
    "       posttrain data prepare ...   (see posttrain data prepare --help)\n"
    "  Reads conversation data sets (openai, sharegpt, alpaca, dolly, oasst trees or message\n"
    "  tables, ultrachat, mt-bench, pre-tokenized ids, text; .jsonl or .json arrays, .gz /\n"
    "  .zst too;\n"
    "  \"-\" is stdin) and prints counts per role, lengths, languages and bad records.\n"
    "  --format NAME        force the format (default: detected per file): openai, sharegpt,\n"
    "                       alpaca, dolly, oasst-trees, oasst, ultrachat, tokens, text,\n"
    "                       mt-bench\n"
    "  --skip-bad           count bad records by kind and go on (default: stop at the first)\n"
    "  --best-only          oasst: the best-ranked thread of each tree, not every thread\n"
    "  --lang L             oasst: only threads in language L (e.g. en)\n"
    "  --max-line BYTES     skip (and count) records longer than this (default 64 MiB)\n"
    "  --tokenizer SPEC     count tokens too (with --template; --vocab-dir as for tokenize)\n"
    "  --template NAME      the chat template conversations are rendered with: %s\n"
    "  --json               one JSON object instead of the table\n";

enum { HIST_BUCKETS = 24, MAX_TAGS = 64 };  // lengths up to 2^(6+23); 64 distinct langs

typedef struct {
    char *name;
    size_t n;
} Tag;

typedef struct {
    Tag v[MAX_TAGS];
    int n;
    size_t other;  // records whose tag did not fit
} Tags;

typedef struct {
    size_t files, by_format[DATA_FMT_COUNT];
    size_t records, convs, seqs, docs;
    size_t msgs[3], chars[3], user_turns, max_turns;
    bool tokens;                      // a tokenizer was given
    size_t tok_role[3], tok_total, tok_targets, tok_template, tok_seqs, tok_docs;
    size_t hist[HIST_BUCKETS];
    size_t *lens, n_lens, cap_lens;   // per record, for percentiles
    Tags langs, cats;
    size_t bad[DERR_COUNT], deleted, filtered;
    char *first_bad[DERR_COUNT];
} Stats;

static void tag_count(Tags *t, const char *name) {
    if (!name) return;
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].name, name)) {
            t->v[i].n++;
            return;
        }
    if (t->n == MAX_TAGS || !(t->v[t->n].name = strdup(name))) {
        t->other++;
        return;
    }
    t->v[t->n++].n = 1;
}

static int tag_cmp(const void *a, const void *b) {
    const Tag *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static void add_length(Stats *s, size_t len) {
    int b = 0;
    while (b < HIST_BUCKETS - 1 && len >= ((size_t)64 << b)) b++;
    s->hist[b]++;
    if (s->n_lens == s->cap_lens) {
        size_t cap = s->cap_lens ? s->cap_lens * 2 : 1024;
        size_t *p = realloc(s->lens, cap * sizeof *p);
        if (!p) return;  // percentiles are a nicety; the histogram still counts
        s->lens = p;
        s->cap_lens = cap;
    }
    s->lens[s->n_lens++] = len;
}

// Tokens of one record (rendered, for a conversation). -1 on a tokenizer error.
static int count_tokens(Stats *s, const Tokenizer *t, const ChatTemplate *tpl,
                        const DataRecord *r, size_t *len, Err *e) {
    IntVec ids = {0}, mask = {0};
    int rc = 0;
    if (r->kind == REC_TOKENS) {
        *len = r->ids.len;
        s->tok_seqs += r->ids.len;
        for (size_t i = 0; i < r->mask.len; i++) s->tok_targets += r->mask.data[i] != 0;
    } else if (r->kind == REC_TEXT) {
        rc = tok_encode(t, r->text.data ? r->text.data : "", r->text.len, 0, &ids, e);
        *len = ids.len;
        s->tok_docs += ids.len;
    } else {
        size_t content = 0;
        for (int i = 0; i < r->conv.n && !rc; i++) {
            const ChatMessage *m = &r->conv.msgs[i];
            ids.len = 0;
            rc = tok_encode(t, m->content, strlen(m->content), 0, &ids, e);
            s->tok_role[m->role] += ids.len;
            content += ids.len;
        }
        ids.len = 0;
        if (!rc) rc = chat_render(t, tpl, &r->conv, false, &ids, &mask, e);
        if (!rc) {
            *len = ids.len;
            for (size_t i = 0; i < mask.len; i++) s->tok_targets += mask.data[i] != 0;
            s->tok_template += ids.len > content ? ids.len - content : 0;
        }
    }
    if (!rc) s->tok_total += *len;
    ivec_free(&ids);
    ivec_free(&mask);
    return rc;
}

static int stats_file(Stats *s, const char *path, const ReaderOptions *o, const Tokenizer *t,
                      const ChatTemplate *tpl, Err *e) {
    DataReader *r;
    if (data_reader_open(&r, path, o, e)) return -1;
    DataRecord rec = {0};
    int rc;
    while ((rc = data_reader_next(r, &rec, e)) == 1) {
        size_t len = 0;
        if (rec.kind == REC_CONV) {
            size_t turns = 0;
            s->convs++;
            for (int i = 0; i < rec.conv.n; i++) {
                const ChatMessage *m = &rec.conv.msgs[i];
                size_t n = utf8_chars(m->content, strlen(m->content));
                s->msgs[m->role]++;
                s->chars[m->role] += n;
                turns += m->role == ROLE_USER;
                len += n;
            }
            s->user_turns += turns;
            if (turns > s->max_turns) s->max_turns = turns;
        } else if (rec.kind == REC_TOKENS) {
            s->seqs++;
            len = rec.ids.len;
        } else {
            s->docs++;
            len = utf8_chars(rec.text.data ? rec.text.data : "", rec.text.len);
        }
        if (t && (rc = count_tokens(s, t, tpl, &rec, &len, e))) {
            err_prefix(e, "%s: ", rec.where);
            break;
        }
        s->records++;
        add_length(s, len);
        tag_count(&s->langs, rec.lang);
        tag_count(&s->cats, rec.category);
    }
    if (rc >= 0) {
        const ReaderStats *rs = data_reader_stats(r);
        s->files++;
        s->by_format[data_reader_format(r)]++;
        for (int k = 0; k < DERR_COUNT; k++) {
            s->bad[k] += rs->bad[k];
            const char *m = data_reader_first_error(r, k);
            if (m && !s->first_bad[k]) s->first_bad[k] = strdup(m);
        }
        s->deleted += rs->deleted;
        s->filtered += rs->filtered;
    }
    data_record_free(&rec);
    data_reader_close(r);
    return rc < 0 ? -1 : 0;
}

static int size_cmp(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static size_t percentile(const Stats *s, double p) {
    if (!s->n_lens) return 0;
    size_t i = (size_t)(p * (double)(s->n_lens - 1) + 0.5);
    return s->lens[i];
}

static const char *role_label[3] = {"system", "user", "assistant"};

static void print_tags(const char *title, Tags *t) {
    if (!t->n) return;
    qsort(t->v, (size_t)t->n, sizeof *t->v, tag_cmp);
    printf("%-16s", title);
    for (int i = 0; i < t->n; i++) printf("%s%s %zu", i ? ", " : "", t->v[i].name, t->v[i].n);
    if (t->other) printf(", (others) %zu", t->other);
    printf("\n");
}

static void print_table(Stats *s) {
    printf("%-16s%zu (", "files", s->files);
    for (int f = 0, k = 0; f < DATA_FMT_COUNT; f++)
        if (s->by_format[f]) printf("%s%s %zu", k++ ? ", " : "", data_format_name(f), s->by_format[f]);
    printf(")\n");
    printf("%-16s%zu (conversations %zu, token sequences %zu, documents %zu)\n", "records",
           s->records, s->convs, s->seqs, s->docs);
    if (s->convs) {
        printf("%-16s", "messages");
        for (int r = 0; r < 3; r++) printf("%s%s %zu", r ? ", " : "", role_label[r], s->msgs[r]);
        printf("\n%-16smean %.2f, max %zu (user messages per conversation)\n", "turns",
               (double)s->user_turns / (double)s->convs, s->max_turns);
        printf("%-16s", "chars");
        for (int r = 0; r < 3; r++) printf("%s%s %zu", r ? ", " : "", role_label[r], s->chars[r]);
        printf("\n");
    }
    if (s->tokens) {
        printf("%-16s%zu, targets %zu", "tokens", s->tok_total, s->tok_targets);
        if (s->convs) {
            for (int r = 0; r < 3; r++) printf(", %s %zu", role_label[r], s->tok_role[r]);
            printf(", template %zu", s->tok_template);
        }
        if (s->seqs) printf(", pre-tokenized %zu", s->tok_seqs);
        if (s->docs) printf(", documents %zu", s->tok_docs);
        printf("\n");
    }
    if (s->n_lens) {
        qsort(s->lens, s->n_lens, sizeof *s->lens, size_cmp);
        // Pre-tokenized records count their ids, text ones their characters.
        const char *unit = s->tokens || s->seqs == s->records ? "tokens" : "chars";
        printf("%-16s%s per record: p50 %zu, p90 %zu, p99 %zu, max %zu\n", "length", unit,
               percentile(s, 0.5), percentile(s, 0.9), percentile(s, 0.99), s->lens[s->n_lens - 1]);
        int lo = 0, hi = HIST_BUCKETS - 1;
        while (!s->hist[lo]) lo++;
        while (!s->hist[hi]) hi--;
        size_t most = 0;
        for (int b = lo; b <= hi; b++) most = s->hist[b] > most ? s->hist[b] : most;
        for (int b = lo; b <= hi; b++) {
            char range[64];
            size_t from = b ? (size_t)64 << (b - 1) : 0, to = (size_t)64 << b;
            if (b == HIST_BUCKETS - 1) snprintf(range, sizeof range, "%zu+", from);
            else snprintf(range, sizeof range, "%zu-%zu", from, to - 1);
            int bar = (int)(40.0 * (double)s->hist[b] / (double)most + 0.5);
            printf("  %-14s%8zu  ", range, s->hist[b]);
            for (int k = 0; k < bar; k++) fputs("#", stdout);
            printf("\n");
        }
    }
    print_tags("languages", &s->langs);
    print_tags("categories", &s->cats);
    printf("%-16s", "bad records");
    for (int k = 0; k < DERR_COUNT; k++)
        printf("%s%s %zu", k ? ", " : "", data_err_kind_name(k), s->bad[k]);
    printf("\n");
    for (int k = 0; k < DERR_COUNT; k++)
        if (s->first_bad[k]) printf("  first %-9s%s\n", data_err_kind_name(k), s->first_bad[k]);
    if (s->deleted || s->filtered || s->by_format[DATA_FMT_OASST_TREES] || s->by_format[DATA_FMT_OASST_FLAT])
        printf("%-16sdeleted or failed-review messages %zu, threads dropped by --lang %zu\n",
               "oasst", s->deleted, s->filtered);
}

static void json_str(Buf *b, const char *s) {
    buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') buf_appendf(b, "\\%c", c);
        else if (c < 0x20) buf_appendf(b, "\\u%04x", c);
        else buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
}

static void json_tags(Buf *b, const char *key, Tags *t) {
    qsort(t->v, (size_t)t->n, sizeof *t->v, tag_cmp);
    buf_appendf(b, ",\"%s\":{", key);
    for (int i = 0; i < t->n; i++) {
        if (i) buf_putc(b, ',');
        json_str(b, t->v[i].name);
        buf_appendf(b, ":%zu", t->v[i].n);
    }
    buf_putc(b, '}');
}

static void print_json(Stats *s) {
    Buf b = {0};
    buf_appendf(&b, "{\"files\":%zu,\"formats\":{", s->files);
    for (int f = 0, k = 0; f < DATA_FMT_COUNT; f++)
        if (s->by_format[f]) buf_appendf(&b, "%s\"%s\":%zu", k++ ? "," : "", data_format_name(f), s->by_format[f]);
    buf_appendf(&b, "},\"records\":%zu,\"conversations\":%zu,\"token_sequences\":%zu,"
                "\"documents\":%zu,\"turns\":%zu,\"max_turns\":%zu", s->records, s->convs,
                s->seqs, s->docs, s->user_turns, s->max_turns);
    buf_appendf(&b, ",\"messages\":{\"system\":%zu,\"user\":%zu,\"assistant\":%zu}", s->msgs[0],
                s->msgs[1], s->msgs[2]);
    buf_appendf(&b, ",\"chars\":{\"system\":%zu,\"user\":%zu,\"assistant\":%zu}", s->chars[0],
                s->chars[1], s->chars[2]);
    if (s->tokens)
        buf_appendf(&b, ",\"tokens\":{\"total\":%zu,\"targets\":%zu,\"system\":%zu,\"user\":%zu,"
                    "\"assistant\":%zu,\"template\":%zu,\"pretokenized\":%zu,\"documents\":%zu}",
                    s->tok_total, s->tok_targets, s->tok_role[0], s->tok_role[1], s->tok_role[2],
                    s->tok_template, s->tok_seqs, s->tok_docs);
    qsort(s->lens, s->n_lens, sizeof *s->lens, size_cmp);
    buf_appendf(&b, ",\"length\":{\"unit\":\"%s\",\"p50\":%zu,\"p90\":%zu,\"max\":%zu,\"histogram\":[",
                s->tokens || s->seqs == s->records ? "tokens" : "chars", percentile(s, 0.5), percentile(s, 0.9),
                s->n_lens ? s->lens[s->n_lens - 1] : 0);
    for (int bk = 0, k = 0; bk < HIST_BUCKETS; bk++)
        if (s->hist[bk])
            buf_appendf(&b, "%s{\"from\":%zu,\"count\":%zu}", k++ ? "," : "",
                        bk ? (size_t)64 << (bk - 1) : 0, s->hist[bk]);
    buf_appendf(&b, "]}");
    json_tags(&b, "languages", &s->langs);
    json_tags(&b, "categories", &s->cats);
    buf_appendf(&b, ",\"bad\":{");
    for (int k = 0; k < DERR_COUNT; k++)
        buf_appendf(&b, "%s\"%s\":%zu", k ? "," : "", data_err_kind_name(k), s->bad[k]);
    buf_appendf(&b, "},\"first_bad\":{");
    for (int k = 0, n = 0; k < DERR_COUNT; k++)
        if (s->first_bad[k]) {
            buf_appendf(&b, "%s\"%s\":", n++ ? "," : "", data_err_kind_name(k));
            json_str(&b, s->first_bad[k]);
        }
    buf_appendf(&b, "},\"oasst_deleted\":%zu,\"oasst_filtered\":%zu}\n", s->deleted, s->filtered);
    fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
}

static void stats_free(Stats *s) {
    free(s->lens);
    for (int i = 0; i < s->langs.n; i++) free(s->langs.v[i].name);
    for (int i = 0; i < s->cats.n; i++) free(s->cats.v[i].name);
    for (int k = 0; k < DERR_COUNT; k++) free(s->first_bad[k]);
}

static int data_stats(int argc, char **argv) {
    const char *cmd = "data stats", *tname = NULL;
    TokOptions to = {0};
    ReaderOptions o = {0};
    bool json = false;
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_tok_option(&to, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf(help, chat_template_names());
            return 0;
        } else if (!strcmp(a, "--format")) {
            if (!(v = cli_value(argc, argv, &i))) return 2;
            int f = data_format_parse(v);
            if (f < 0) return cli_usage(cmd, "unknown format '%s' (known: auto, openai, sharegpt, "
                                        "alpaca, dolly, oasst-trees, oasst, ultrachat, tokens, text, mt-bench)", v);
            o.format = (DataFormat)f;
        } else if (!strcmp(a, "--skip-bad")) o.skip_bad = true;
        else if (!strcmp(a, "--best-only")) o.oasst_best_only = true;
        else if (!strcmp(a, "--lang")) {
            if (!(o.lang = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--max-line")) {
            char *end;
            if (!(v = cli_value(argc, argv, &i))) return 2;
            long long n = strtoll(v, &end, 10);
            if (!*v || *end || n < 1) return cli_usage(cmd, "--max-line needs a positive byte count");
            o.max_line = (size_t)n;
        } else if (!strcmp(a, "--template")) {
            if (!(tname = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--json")) json = true;
        else if (a[0] == '-' && a[1]) return cli_usage(cmd, "unknown option %s (see --help)", a);
        else argv[1 + n_files++] = argv[i];  // files, moved to the front in order
    }
    if (!n_files) return cli_usage(cmd, "no FILES given (see --help)");
    const ChatTemplate *tpl = NULL;
    Tokenizer *t = NULL;
    if (to.spec || tname) {
        if (!to.spec || !tname)
            return cli_usage(cmd, "--tokenizer and --template go together (templates: %s)",
                             chat_template_names());
        if (!(tpl = chat_template_find(tname)))
            return cli_usage(cmd, "unknown template '%s' (known: %s)", tname, chat_template_names());
        if (!(t = cli_tok_load(&to, cmd))) return 1;
    }
    Err e = {0};
    Stats s = {.tokens = t != NULL};
    int rc = 0;
    if (t && chat_prepare_tokenizer(t, tpl, &e)) rc = cli_fail(&e);
    for (int i = 0; i < n_files && !rc; i++)
        if (stats_file(&s, argv[1 + i], &o, t, tpl, &e)) rc = cli_fail(&e);
    if (!rc) {
        if (json) print_json(&s);
        else print_table(&s);
    }
    stats_free(&s);
    tok_free(t);
    return rc;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf(help, chat_template_names());
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "stats")) return data_stats(argc - 1, argv + 1);
    if (!strcmp(argv[1], "prepare")) return cmd_data_prepare(argc - 1, argv + 1);
    return cli_usage("data", "unknown subcommand '%s' (stats, prepare)", argv[1]);
}
