// test_data_readers.c: the data readers (src/data/reader.h) — every format from small
// fixtures written here, .json arrays, gzip / zstd, the bad-record policy and its
// messages, the bounded line reader; then the real samples in ../shared/data/datasets
// when they are there (skipped with the reason printed when not).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "data/decompress.h"
#include "data/reader.h"
#include "check.h"
#include "fixture.h"

typedef struct {
    DataRecord *v;
    size_t n;
    ReaderStats st;
    DataFormat fmt;
    int rc;       // 0, or -1 when the open or a next failed
    Err e;
} Got;

static void got_free(Got *g) {
    for (size_t i = 0; i < g->n; i++) data_record_free(&g->v[i]);
    free(g->v);
    memset(g, 0, sizeof *g);
}

// Reads every record of path (stopping at the first error).
static Got read_file(const char *path, const ReaderOptions *o) {
    Got g = {0};
    DataReader *r;
    if (data_reader_open(&r, path, o, &g.e)) {
        g.rc = -1;
        return g;
    }
    DataRecord rec = {0};
    int rc;
    while ((rc = data_reader_next(r, &rec, &g.e)) == 1) {
        g.v = realloc(g.v, (g.n + 1) * sizeof *g.v);
        g.v[g.n++] = rec;
        memset(&rec, 0, sizeof rec);
    }
    g.rc = rc < 0 ? -1 : 0;
    g.st = *data_reader_stats(r);
    g.fmt = data_reader_format(r);
    data_record_free(&rec);
    data_reader_close(r);
    return g;
}

static Got read_text(const char *name, const char *text, const ReaderOptions *o) {
    const char *p = tmp_path(name);
    write_bytes(p, text, strlen(text));
    return read_file(p, o);
}

static bool msg_is(const Got *g, size_t i, int k, ChatRole role, const char *content, int weight) {
    if (i >= g->n || g->v[i].kind != REC_CONV || k >= g->v[i].conv.n) return false;
    const ChatMessage *m = &g->v[i].conv.msgs[k];
    return m->role == role && !strcmp(m->content, content) && m->weight == weight;
}

static bool has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }

static const ReaderOptions skip = {.skip_bad = true};

static void test_openai(void) {
    Got g = read_text("a.jsonl",
                      "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                      "{\"role\":\"user\",\"content\":\"hi\"},"
                      "{\"role\":\"assistant\",\"content\":\"bad\",\"weight\":0},"
                      "{\"role\":\"user\",\"content\":\"again\"},"
                      "{\"role\":\"assistant\",\"content\":\"good\",\"weight\":1}]}\n"
                      "\n"
                      "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"parts\"}]},"
                      "{\"role\":\"assistant\",\"content\":\"ok\"}],\"label\":true}\n",
                      NULL);
    CHECK(g.rc == 0 && g.fmt == DATA_FMT_OPENAI && g.n == 2, "openai: 2 records, detected (rc %d, %s)",
          g.rc, g.e.msg);
    CHECK(msg_is(&g, 0, 0, ROLE_SYSTEM, "Be brief.", 0) && msg_is(&g, 0, 2, ROLE_ASSISTANT, "bad", 0) &&
              msg_is(&g, 0, 4, ROLE_ASSISTANT, "good", 1),
          "openai: roles, content and weight 0/1 kept");
    CHECK(msg_is(&g, 1, 0, ROLE_USER, "parts", 0), "openai: text parts joined");
    CHECK(g.n == 2 && has(g.v[1].where, "a.jsonl:3"),
          "openai: where is file:line (%s)", g.n == 2 ? g.v[1].where : "");
    got_free(&g);

    g = read_text("b.jsonl",
                  "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n"
                  "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}\n"
                  "{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}\n"
                  "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\"}]}\n"
                  "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}]}\n"
                  "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"system\",\"content\":\"late\"}]}\n"
                  "{\"messages\":[]}\n"
                  "{\"messages\":[{\"role\":\"user\",\"content\":5}]}\n",
                  &skip);
    CHECK(g.rc == 0 && g.n == 1, "openai: 1 good record of 8 with skip_bad (%zu)", g.n);
    CHECK(g.st.bad[DERR_ROLE] == 2 && g.st.bad[DERR_TOOLS] == 3 && g.st.bad[DERR_FIELD] == 2,
          "openai: bad by kind: role 2 (robot, late system), tools 3, field 2 (got %zu %zu %zu)",
          g.st.bad[DERR_ROLE], g.st.bad[DERR_TOOLS], g.st.bad[DERR_FIELD]);
    CHECK(g.st.records == 1, "stats.records counts what was returned");
    got_free(&g);

    g = read_text("c.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}\n"
                             "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}\n", NULL);
    CHECK(g.rc == -1 && g.n == 1 && has(g.e.msg, "c.jsonl:2: messages[0].role: expected system|user|assistant"),
          "without skip_bad: the first bad record is the error (%s)", g.e.msg);
    got_free(&g);
}

static void test_sharegpt(void) {
    Got g = read_text("s.jsonl",
                      "{\"conversations\":[{\"from\":\"system\",\"value\":\"S\"},{\"from\":\"human\",\"value\":\"q\"},"
                      "{\"from\":\"gpt\",\"value\":\"a\"},{\"from\":\"user\",\"value\":\"q2\"},"
                      "{\"from\":\"chatgpt\",\"value\":\"a2\"}]}\n"
                      "{\"system\":\"top\",\"tools\":\"\",\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},"
                      "{\"from\":\"bard\",\"value\":\"a\"}]}\n"
                      "{\"conversations\":[{\"role\":\"user\",\"content\":\"rc\"}]}\n"
                      "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"gpt\",\"value\":\"a\"},"
                      "{\"from\":\"human\",\"value\":\"b\"},{\"from\":\"gpt\",\"value\":7}]}\n"
                      "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"function_call\",\"value\":\"{}\"}]}\n"
                      "{\"conversations\":[{\"from\":\"alien\",\"value\":\"q\"}]}\n"
                      "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"}],\"tools\":\"[{\\\"name\\\":\\\"f\\\"}]\"}\n",
                      &skip);
    CHECK(g.fmt == DATA_FMT_SHAREGPT && g.n == 3, "sharegpt: 3 good of 7 (%zu; %s)", g.n, g.e.msg);
    CHECK(msg_is(&g, 0, 0, ROLE_SYSTEM, "S", 0) && msg_is(&g, 0, 1, ROLE_USER, "q", 0) &&
              msg_is(&g, 0, 2, ROLE_ASSISTANT, "a", 1) && msg_is(&g, 0, 3, ROLE_USER, "q2", 0) &&
              msg_is(&g, 0, 4, ROLE_ASSISTANT, "a2", 1),
          "sharegpt: system/human/gpt/user/chatgpt mapped");
    CHECK(msg_is(&g, 1, 0, ROLE_SYSTEM, "top", 0) && msg_is(&g, 1, 2, ROLE_ASSISTANT, "a", 1),
          "sharegpt: a top-level system field, \"bard\", an empty tools string");
    CHECK(msg_is(&g, 2, 0, ROLE_USER, "rc", 0), "sharegpt: role/content items");
    CHECK(g.st.bad[DERR_FIELD] == 1 && g.st.bad[DERR_TOOLS] == 2 && g.st.bad[DERR_ROLE] == 1,
          "sharegpt: bad by kind (field %zu, tools %zu, role %zu)", g.st.bad[DERR_FIELD],
          g.st.bad[DERR_TOOLS], g.st.bad[DERR_ROLE]);
    got_free(&g);

    g = read_text("s2.jsonl", "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"gpt\",\"value\":\"a\"},"
                              "{\"from\":\"human\",\"value\":\"b\"},{\"from\":\"gpt\",\"value\":7}]}\n", NULL);
    CHECK(g.rc == -1 && has(g.e.msg, "s2.jsonl:1: conversations[3].value: expected a string"),
          "sharegpt: the error names file, line and field (%s)", g.e.msg);
    got_free(&g);
    g = read_text("s3.jsonl", "{\"conversations\":[{\"from\":\"observation\",\"value\":\"q\"}]}\n", NULL);
    CHECK(g.rc == -1 && g.e.code == ERR_UNSUPPORTED && has(g.e.msg, "conversations[0].from") &&
              has(g.e.msg, "tool use is not supported"),
          "sharegpt: observation is refused as tool use (%s)", g.e.msg);
    got_free(&g);
}

static void test_instruct(void) {
    Got g = read_text("al.jsonl",
                      "{\"instruction\":\"Add\",\"input\":\"2 and 2\",\"output\":\"4\"}\n"
                      "{\"instruction\":\"Hi\",\"input\":\"\",\"output\":\"Hello\",\"system\":\"Sys\","
                      "\"history\":[[\"q1\",\"a1\"],[\"q2\",\"a2\"]]}\n"
                      "{\"instruction\":\"x\",\"output\":[\"a\",\"b\"]}\n"
                      "{\"instruction\":\"x\",\"output\":\"y\",\"history\":[[\"only one\"]]}\n",
                      &skip);
    CHECK(g.fmt == DATA_FMT_ALPACA && g.n == 2 && g.st.bad[DERR_FIELD] == 2,
          "alpaca: 2 good, 2 bad fields (%zu)", g.n);
    CHECK(msg_is(&g, 0, 0, ROLE_USER, "Add\n\n2 and 2", 0) && msg_is(&g, 0, 1, ROLE_ASSISTANT, "4", 1),
          "alpaca: input appended after a blank line");
    CHECK(g.n == 2 && g.v[1].conv.n == 7 && msg_is(&g, 1, 0, ROLE_SYSTEM, "Sys", 0) &&
              msg_is(&g, 1, 1, ROLE_USER, "q1", 0) && msg_is(&g, 1, 4, ROLE_ASSISTANT, "a2", 1) &&
              msg_is(&g, 1, 5, ROLE_USER, "Hi", 0) && msg_is(&g, 1, 6, ROLE_ASSISTANT, "Hello", 1),
          "alpaca: system, history pairs, then the instruction");
    got_free(&g);

    // databricks-dolly-15k's fields.
    g = read_text("dolly.jsonl",
                  "{\"instruction\":\"When did Virgin Australia start operating?\",\"context\":\"Virgin "
                  "Australia commenced services on 31 August 2000.\",\"response\":\"31 August 2000.\","
                  "\"category\":\"closed_qa\"}\n"
                  "{\"instruction\":\"Name a fish.\",\"context\":\"\",\"response\":\"Tope\",\"category\":\"classification\"}\n"
                  "{\"instruction\":\"x\",\"context\":\"\",\"category\":\"open_qa\"}\n",
                  &skip);
    CHECK(g.fmt == DATA_FMT_DOLLY && g.n == 2 && g.st.bad[DERR_FIELD] == 1, "dolly: 2 good, 1 missing response");
    CHECK(msg_is(&g, 0, 0, ROLE_USER, "When did Virgin Australia start operating?\n\nVirgin Australia "
                 "commenced services on 31 August 2000.", 0) &&
              msg_is(&g, 0, 1, ROLE_ASSISTANT, "31 August 2000.", 1),
          "dolly: context appended to the user turn");
    CHECK(g.n == 2 && g.v[0].category && !strcmp(g.v[0].category, "closed_qa") &&
              msg_is(&g, 1, 0, ROLE_USER, "Name a fish.", 0),
          "dolly: category kept; empty context adds nothing");
    got_free(&g);
}

static void test_ultrachat_mtbench(void) {
    Got g = read_text("u.jsonl",
                      "{\"id\":\"0\",\"data\":[\"q1\",\"a1\",\"q2\",\"a2\"]}\n"
                      "{\"id\":\"1\",\"data\":[\"q\",3]}\n"
                      "{\"id\":\"2\",\"data\":[]}\n",
                      &skip);
    CHECK(g.fmt == DATA_FMT_ULTRACHAT && g.n == 1 && g.v[0].conv.n == 4 &&
              msg_is(&g, 0, 0, ROLE_USER, "q1", 0) && msg_is(&g, 0, 3, ROLE_ASSISTANT, "a2", 1),
          "ultrachat: alternating user/assistant");
    CHECK(g.st.bad[DERR_FIELD] == 2, "ultrachat: a non-string turn and an empty list are bad");
    got_free(&g);
    g = read_text("mt.jsonl", "{\"question_id\":81,\"category\":\"writing\",\"turns\":[\"one\",\"two\"]}\n", NULL);
    CHECK(g.fmt == DATA_FMT_MTBENCH && g.n == 1 && g.v[0].conv.n == 2 &&
              msg_is(&g, 0, 1, ROLE_USER, "two", 0) && !strcmp(g.v[0].category, "writing"),
          "mt-bench: user turns, category");
    got_free(&g);
}

// One oasst tree (message-tree form):
//   P1 (en) -> A1 (rank 1) -> P2 -> A3
//           -> A2 (rank 0)            (best)
//           -> A4 (deleted) -> P5     (2 messages dropped)
//           -> A6 (review_result false)
//   P3 (en, no reply)                 a second tree without a thread
#define MSG(id, role, text, extra) "\"message_id\":\"" id "\",\"role\":\"" role "\",\"text\":\"" text "\",\"lang\":\"en\"" extra
static const char *oasst_tree =
    "{\"message_tree_id\":\"t1\",\"prompt\":{" MSG("p1", "prompter", "P1", ",\"rank\":null") ",\"replies\":["
    "{" MSG("a1", "assistant", "A1", ",\"rank\":1") ",\"replies\":[{" MSG("p2", "prompter", "P2", "") ",\"replies\":["
    "{" MSG("a3", "assistant", "A3", ",\"rank\":0") "}]}]},"
    "{" MSG("a2", "assistant", "A2", ",\"rank\":0") ",\"replies\":[]},"
    "{" MSG("a4", "assistant", "A4", ",\"deleted\":true") ",\"replies\":[{" MSG("p5", "prompter", "P5", "") "}]},"
    "{" MSG("a6", "assistant", "A6", ",\"review_result\":false") "}]}}\n"
    "{\"message_tree_id\":\"t2\",\"prompt\":{" MSG("p3", "prompter", "P3", "") ",\"replies\":[]}}\n";

static const char *oasst_flat =
    "{" MSG("p1", "prompter", "P1", ",\"parent_id\":null") "}\n"
    "{" MSG("a1", "assistant", "A1", ",\"parent_id\":\"p1\",\"rank\":1") "}\n"
    "{" MSG("p2", "prompter", "P2", ",\"parent_id\":\"a1\"") "}\n"
    "{" MSG("a2", "assistant", "A2", ",\"parent_id\":\"p1\",\"rank\":0") "}\n"
    "{" MSG("a3", "assistant", "A3", ",\"parent_id\":\"p2\",\"rank\":0") "}\n"
    "{" MSG("a4", "assistant", "A4", ",\"parent_id\":\"p1\",\"deleted\":true") "}\n"
    "{" MSG("p5", "prompter", "P5", ",\"parent_id\":\"a4\"") "}\n"
    "{" MSG("a6", "assistant", "A6", ",\"parent_id\":\"p1\",\"review_result\":false") "}\n"
    "{" MSG("p3", "prompter", "P3", ",\"parent_id\":null") "}\n";

static void check_oasst(const char *name, const char *text, DataFormat want) {
    Got g = read_text(name, text, NULL);
    CHECK(g.rc == 0 && g.fmt == want && g.n == 2, "%s: every root-to-leaf thread (2; got %zu, %s)",
          name, g.n, g.e.msg);
    CHECK(g.n == 2 && g.v[0].conv.n == 4 && msg_is(&g, 0, 0, ROLE_USER, "P1", 0) &&
              msg_is(&g, 0, 1, ROLE_ASSISTANT, "A1", 1) && msg_is(&g, 0, 3, ROLE_ASSISTANT, "A3", 1) &&
              g.v[1].conv.n == 2 && msg_is(&g, 1, 1, ROLE_ASSISTANT, "A2", 1),
          "%s: P1 A1 P2 A3 and P1 A2", name);
    CHECK(g.st.deleted == 3, "%s: deleted + failed review counted with subtrees (3; got %zu)", name,
          g.st.deleted);
    CHECK(g.n == 2 && g.v[0].lang && !strcmp(g.v[0].lang, "en"), "%s: lang kept", name);
    got_free(&g);
    ReaderOptions o = {.oasst_best_only = true};
    g = read_text(name, text, &o);
    CHECK(g.n == 1 && g.v[0].conv.n == 2 && msg_is(&g, 0, 1, ROLE_ASSISTANT, "A2", 1),
          "%s: best only picks rank 0 (P1 A2)", name);
    got_free(&g);
    o = (ReaderOptions){.lang = "de"};
    g = read_text(name, text, &o);
    CHECK(g.rc == 0 && g.n == 0 && g.st.filtered == 2, "%s: --lang de drops both threads (filtered %zu)",
          name, g.st.filtered);
    got_free(&g);
}

static void test_oasst(void) {
    check_oasst("o.trees.jsonl", oasst_tree, DATA_FMT_OASST_TREES);
    check_oasst("o_flat.jsonl", oasst_flat, DATA_FMT_OASST_FLAT);
    // Same tree with an unknown role deep inside: the whole tree is bad.
    Got g = read_text("bad.trees.jsonl",
                      "{\"prompt\":{" MSG("p", "prompter", "P", "") ",\"replies\":[{" MSG("a", "assistant", "A", "")
                      ",\"replies\":[{" MSG("x", "moderator", "X", "") "}]}]}}\n", NULL);
    CHECK(g.rc == -1 && g.n == 0 && has(g.e.msg, ":1: prompt.replies[0].replies[0].role: expected prompter|assistant"),
          "oasst trees: the error names the path in the tree (%s)", g.e.msg);
    got_free(&g);
    g = read_text("orphan.jsonl",
                  "{" MSG("p1", "prompter", "P1", ",\"parent_id\":null") "}\n"
                  "{" MSG("a1", "assistant", "A1", ",\"parent_id\":\"p1\"") "}\n"
                  "{" MSG("a9", "assistant", "A9", ",\"parent_id\":\"nowhere\"") "}\n"
                  "{" MSG("c1", "prompter", "C1", ",\"parent_id\":\"c2\"") "}\n"
                  "{" MSG("c2", "assistant", "C2", ",\"parent_id\":\"c1\"") "}\n", &skip);
    CHECK(g.rc == 0 && g.n == 1 && g.st.bad[DERR_FIELD] == 2,
          "oasst table: an orphan and a cycle are bad records, the rest reads (%zu, field %zu)", g.n,
          g.st.bad[DERR_FIELD]);
    got_free(&g);

    // A chain of 5000 messages: deeper than a thread may be, refused without recursing away.
    Buf chain = {0};
    buf_appendf(&chain, "{\"message_id\":\"m0\",\"parent_id\":null,\"role\":\"prompter\",\"text\":\"t\"}\n");
    for (int i = 1; i < 5000; i++)
        buf_appendf(&chain, "{\"message_id\":\"m%d\",\"parent_id\":\"m%d\",\"role\":\"%s\",\"text\":\"t\"}\n",
                    i, i - 1, i % 2 ? "assistant" : "prompter");
    buf_appendf(&chain, "{\"message_id\":\"r\",\"parent_id\":null,\"role\":\"prompter\",\"text\":\"r\"}\n"
                        "{\"message_id\":\"s\",\"parent_id\":\"r\",\"role\":\"assistant\",\"text\":\"s\"}\n");
    g = read_text("chain.jsonl", chain.data, &skip);
    CHECK(g.rc == 0 && g.n == 1 && g.st.bad[DERR_FIELD] == 1 && msg_is(&g, 0, 1, ROLE_ASSISTANT, "s", 1),
          "oasst table: a 5000-message chain is one bad tree, the next tree reads (%zu; %s)", g.n, g.e.msg);
    got_free(&g);
    buf_free(&chain);
}

static void test_tokens_text(void) {
    Got g = read_text("t.jsonl",
                      "{\"ids\":[5,6,7],\"mask\":[0,1,1]}\n"
                      "{\"ids\":[9,8]}\n"
                      "{\"ids\":[1,2],\"mask\":[1]}\n"
                      "{\"ids\":[-1]}\n"
                      "{\"ids\":[1.5]}\n"
                      "{\"ids\":[1],\"mask\":[2]}\n",
                      &skip);
    CHECK(g.fmt == DATA_FMT_TOKENS && g.n == 2 && g.st.bad[DERR_FIELD] == 4,
          "tokens: 2 good, 4 bad (mask length, negative, fractional, mask 2)");
    CHECK(g.n == 2 && g.v[0].kind == REC_TOKENS && g.v[0].ids.len == 3 && g.v[0].ids.data[2] == 7 &&
              g.v[0].mask.data[0] == 0 && g.v[0].mask.data[1] == 1,
          "tokens: ids and mask");
    CHECK(g.n == 2 && g.v[1].mask.len == 2 && g.v[1].mask.data[0] == 0 && g.v[1].mask.data[1] == 1,
          "tokens: no mask -> every token after the first a target");
    got_free(&g);
    g = read_text("doc.txt", "line one\nline two\n", NULL);
    CHECK(g.fmt == DATA_FMT_TEXT && g.n == 1 && g.v[0].kind == REC_TEXT &&
              !strcmp(g.v[0].text.data, "line one\nline two\n"),
          ".txt: the whole file is one document");
    got_free(&g);
    g = read_text("docs.jsonl", "{\"text\":\"first\"}\n{\"text\":\"second\",\"lang\":\"fr\"}\n", NULL);
    CHECK(g.fmt == DATA_FMT_TEXT && g.n == 2 && !strcmp(g.v[1].text.data, "second") &&
              !strcmp(g.v[1].lang, "fr"),
          "JSONL text: one document per line");
    got_free(&g);
}

static void test_framing(void) {
    // A .json array (LLaMA-Factory's layout): each element keeps its line.
    Got g = read_text("arr.json",
                      "[\n  {\n    \"instruction\": \"a\",\n    \"input\": \"\",\n    \"output\": \"b\"\n  },\n"
                      "  {\n    \"instruction\": \"[not, the end]\",\n    \"output\": 5\n  }\n]\n",
                      &skip);
    CHECK(g.fmt == DATA_FMT_ALPACA && g.n == 1 && msg_is(&g, 0, 0, ROLE_USER, "a", 0) &&
              !strcmp(strrchr(g.v[0].where, ':'), ":2"),
          ".json array: elements read, the first at line 2 (%s)", g.n ? g.v[0].where : "");
    got_free(&g);
    g = read_text("arr2.json", "[{\"instruction\": \"x\", \"output\": \"y\"},\n {\"instruction\": \"q\", \"output\": 5}]", NULL);
    CHECK(g.rc == -1 && g.n == 1 && has(g.e.msg, "arr2.json:2: output: expected a string"),
          ".json array: an error names the element's line (%s)", g.e.msg);
    got_free(&g);
    g = read_text("empty.json", " [ ] ", NULL);
    CHECK(g.rc == 0 && g.n == 0, ".json: an empty array is no records");
    got_free(&g);
    g = read_text("cut.json", "[{\"instruction\": \"x\", \"output\": \"y\"}, {\"instruction\": \"q\", \"outp", &skip);
    CHECK(g.n == 1 && g.st.bad[DERR_JSON] == 1, ".json: an array cut short is one bad JSON record");
    got_free(&g);

    // UTF-8, JSON, truncation.
    g = read_text("u8.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"bad \xff here\"}\n{\"text\":\"cut", &skip);
    CHECK(g.n == 1 && g.st.bad[DERR_UTF8] == 1 && g.st.bad[DERR_JSON] == 1,
          "invalid UTF-8 and a truncated last line counted (utf8 %zu, json %zu)", g.st.bad[DERR_UTF8],
          g.st.bad[DERR_JSON]);
    got_free(&g);
    g = read_text("u8b.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"bad \xff here\"}\n", NULL);
    CHECK(g.rc == -1 && has(g.e.msg, "u8b.jsonl:2: invalid UTF-8 at byte 13 of the record"), "invalid UTF-8 names the byte (%s)",
          g.e.msg);
    got_free(&g);
    g = read_text("cut.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"cu", NULL);
    CHECK(g.rc == -1 && has(g.e.msg, "cut.jsonl:2: truncated record"), "a truncated last line (%s)", g.e.msg);
    got_free(&g);
    g = read_text("crlf.jsonl", "{\"text\":\"a\"}\r\n{\"text\":\"b\"}", NULL);
    CHECK(g.rc == 0 && g.n == 2, "CRLF lines, and a last line without newline that is whole");
    got_free(&g);

    // Detection.
    g = read_text("what.jsonl", "{\"question\":\"x\",\"answer\":\"y\"}\n", NULL);
    CHECK(g.rc == -1 && has(g.e.msg, "cannot tell the data format") && has(g.e.msg, "\"question\", \"answer\""),
          "unknown keys: a clear error naming them (%s)", g.e.msg);
    got_free(&g);
    ReaderOptions o = {.format = DATA_FMT_TEXT};
    g = read_text("forced.jsonl", "{\"text\":\"t\",\"messages\":[]}\n", &o);
    CHECK(g.rc == 0 && g.n == 1 && g.v[0].kind == REC_TEXT, "a forced format wins over detection");
    got_free(&g);
    g = read_text("late.jsonl", "not json\n{\"ids\":[1]}\n", &skip);
    CHECK(g.fmt == DATA_FMT_TOKENS && g.n == 1 && g.st.bad[DERR_JSON] == 1,
          "detection waits for the first good record");
    got_free(&g);
}

// A line far over the limit is skipped with bounded memory; the next line reads.
static void test_long_line(void) {
    size_t big = 24u << 20;  // 24 MiB against a 1 MiB limit
    char *line = malloc(big + 64);
    memcpy(line, "{\"text\":\"", 9);
    memset(line + 9, 'x', big);
    memcpy(line + 9 + big, "\"}\n", 3);
    const char *p = tmp_path("long.jsonl");
    FILE *f = fopen(p, "wb");
    fputs("{\"text\":\"before\"}\n", f);
    fwrite(line, 1, big + 12, f);
    fputs("{\"text\":\"after\"}\n", f);
    fclose(f);
    free(line);
    ReaderOptions o = {.skip_bad = true, .max_line = 1 << 20};
    Got g = read_file(p, &o);
    CHECK(g.n == 2 && g.st.bad[DERR_TOO_LONG] == 1 && !strcmp(g.v[1].text.data, "after"),
          "a 24 MiB line over a 1 MiB limit: counted too long, the next line read");
    got_free(&g);
    o.skip_bad = false;
    g = read_file(p, &o);
    CHECK(g.rc == -1 && has(g.e.msg, "long.jsonl:2: a record of 25165835 bytes, over the limit of 1048576"),
          "too long without skip_bad: the error says how long (%s)", g.e.msg);
    got_free(&g);

    // The line reader itself: the buffer never holds the long line.
    LineReader *lr;
    Err e = {0};
    Line l;
    int ok = linereader_open(&lr, p, 1 << 20, &e) == 0;
    int n = 0, too_long = 0;
    while (ok && linereader_next(lr, &l, &e) == 1) n++, too_long += l.too_long;
    CHECK(ok && n == 3 && too_long == 1, "linereader: 3 lines, 1 too long");
    linereader_close(lr);
}

static void write_gzip(const char *path, const char *a, const char *b) {
    // Two gzip members back to back: readers must go on past the first.
    gzFile z = gzopen(path, "wb");
    gzwrite(z, a, (unsigned)strlen(a));
    gzclose(z);
    z = gzopen(path, "ab");
    gzwrite(z, b, (unsigned)strlen(b));
    gzclose(z);
}

static void test_compressed(void) {
    const char *a = "{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"gpt\",\"value\":\"a\"}]}\n";
    const char *b = "{\"conversations\":[{\"from\":\"human\",\"value\":\"q2\"},{\"from\":\"gpt\",\"value\":\"a2\"}]}\n";
    const char *gz = tmp_path("c.jsonl.gz");
    write_gzip(gz, a, b);
    Got g = read_file(gz, NULL);
    CHECK(g.rc == 0 && g.fmt == DATA_FMT_SHAREGPT && g.n == 2 && msg_is(&g, 1, 1, ROLE_ASSISTANT, "a2", 1),
          ".gz: both members read (%s)", g.e.msg);
    got_free(&g);

    char both[512];
    snprintf(both, sizeof both, "%s%s", a, b);
    size_t cap = ZSTD_compressBound(strlen(both));
    char *z = malloc(cap * 2);
    size_t n1 = ZSTD_compress(z, cap, both, strlen(both), 3);
    size_t n2 = ZSTD_compress(z + n1, cap, a, strlen(a), 3);  // a second frame
    const char *zp = tmp_path("c.jsonl.zst");
    write_bytes(zp, z, n1 + n2);
    g = read_file(zp, NULL);
    CHECK(g.rc == 0 && g.n == 3, ".zst: two frames, 3 records (%zu; %s)", g.n, g.e.msg);
    got_free(&g);
    write_bytes(zp, z, n1 - 5);
    g = read_file(zp, NULL);
    CHECK(g.rc == -1 && has(g.e.msg, "truncated zstd data"), ".zst cut short: an error (%s)", g.e.msg);
    got_free(&g);
    free(z);

    // A .json array and a .txt, compressed: the framing looks past the compression.
    const char *arr = "[{\"instruction\":\"i\",\"output\":\"o\"}]";
    gzFile f = gzopen(tmp_path("arr.json.gz"), "wb");
    gzwrite(f, arr, (unsigned)strlen(arr));
    gzclose(f);
    g = read_file(tmp_path("arr.json.gz"), NULL);
    CHECK(g.rc == 0 && g.fmt == DATA_FMT_ALPACA && g.n == 1, ".json.gz array");
    got_free(&g);
    f = gzopen(tmp_path("d.txt.gz"), "wb");
    gzwrite(f, "doc", 3);
    gzclose(f);
    g = read_file(tmp_path("d.txt.gz"), NULL);
    CHECK(g.rc == 0 && g.n == 1 && g.v[0].kind == REC_TEXT && !strcmp(g.v[0].text.data, "doc"), ".txt.gz document");
    got_free(&g);
}

// ---- the real samples ----

static void real(const char *dir, const char *file, const ReaderOptions *o, DataFormat fmt,
                 size_t records, size_t tools) {
    char p[4096];
    snprintf(p, sizeof p, "%s/datasets/%s", dir, file);
    Got g = read_file(p, o);
    CHECK(g.rc == 0 && g.fmt == fmt && g.n == records && g.st.bad[DERR_TOOLS] == tools,
          "%s: %s, %zu records, %zu refused as tools (got %s, %zu, %zu; %s)", file,
          data_format_name(fmt), records, tools, data_format_name(g.fmt), g.n, g.st.bad[DERR_TOOLS], g.e.msg);
    got_free(&g);
}

static void test_real(void) {
    const char *dir = getenv("SHARED_DATA") ? getenv("SHARED_DATA") : "../shared/data";
    char p[4096];
    snprintf(p, sizeof p, "%s/datasets/openai_chat/toy_chat_fine_tuning.jsonl", dir);
    FILE *f = fopen(p, "rb");
    if (!f) {
        printf("skip  real samples: %s/datasets is absent\n", dir);
        return;
    }
    fclose(f);
    real(dir, "openai_chat/toy_chat_fine_tuning.jsonl", NULL, DATA_FMT_OPENAI, 5, 0);
    real(dir, "sharegpt/sharegpt_zh_1K_format.jsonl", NULL, DATA_FMT_SHAREGPT, 1000, 0);
    real(dir, "alpaca/belle_dev1K.jsonl", NULL, DATA_FMT_ALPACA, 1000, 0);
    real(dir, "llama_factory/alpaca_en_demo.json", NULL, DATA_FMT_ALPACA, 999, 0);
    real(dir, "llama_factory/identity.json", NULL, DATA_FMT_ALPACA, 91, 0);
    real(dir, "llama_factory/glaive_toolcall_en_demo.json", &skip, DATA_FMT_SHAREGPT, 0, 300);
    real(dir, "llama_factory/kto_en_demo.json", NULL, DATA_FMT_OPENAI, 300, 0);
    real(dir, "mt_bench/mt_bench_question.jsonl", NULL, DATA_FMT_MTBENCH, 80, 0);
    // 551 trees; 117 have a live reply; 92 messages deleted or failed review (counted by
    // an independent walk of the JSON in Python).
    real(dir, "oasst/oasst2_filtered.trees.jsonl", NULL, DATA_FMT_OASST_TREES, 506, 0);
    ReaderOptions best = {.oasst_best_only = true};
    real(dir, "oasst/oasst2_filtered.trees.jsonl", &best, DATA_FMT_OASST_TREES, 117, 0);
    ReaderOptions en = {.oasst_best_only = true, .lang = "en"};
    snprintf(p, sizeof p, "%s/datasets/oasst/oasst2_filtered.trees.jsonl", dir);
    Got g = read_file(p, &en);
    CHECK(g.n == 49 && g.st.filtered == 68 && g.st.deleted == 92,
          "oasst2: best en threads 49, 68 dropped by lang, 92 deleted (%zu %zu %zu)", g.n,
          g.st.filtered, g.st.deleted);
    got_free(&g);
}

int main(void) {
    if (fixture_init("test_data_readers")) return 1;
    test_openai();
    test_sharegpt();
    test_instruct();
    test_ultrachat_mtbench();
    test_oasst();
    test_tokens_text();
    test_framing();
    test_long_line();
    test_compressed();
    test_real();
    fixture_cleanup();
    return check_summary();
}
