// fuzz_data_reader.c: arbitrary bytes as a data set file (src/data/reader.h).
//
// The first byte picks the options (format forced or detected, skip_bad, oasst best-only,
// a lang filter), the second the file's name (.jsonl, .json, .trees.jsonl, .txt) and a
// small line limit; the rest is the file. Every record that comes back must be well formed: a
// conversation with messages of valid UTF-8, a token sequence with a mask as long as its
// ids, a text of valid UTF-8; a failure must say why. The bad counts never exceed what
// the reader saw.
#include "fuzz_common.h"

#include "data/reader.h"

static const char *names[] = {"fuzz.jsonl", "fuzz.json", "fuzz.trees.jsonl", "fuzz.txt"};

static void cleanup_names(void) {
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unlink(fuzz_path(names[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int registered;
    if (!registered) {
        fuzz_path(names[0]);  // makes the directory (and registers its removal) first,
        atexit(cleanup_names);  // so that this runs before it
        registered = 1;
    }
    if (size < 2) return 0;
    uint8_t sel = data[0], sel2 = data[1];
    ReaderOptions o = {0};
    o.format = (DataFormat)((sel & 0x0f) % DATA_FMT_COUNT);
    if (sel & 0x10) o.format = DATA_FMT_AUTO;
    o.skip_bad = sel & 0x20;
    o.oasst_best_only = sel & 0x40;
    o.lang = sel & 0x80 ? "en" : NULL;
    o.max_line = sel2 & 4 ? 64 : 0;
    const char *path = fuzz_write(names[sel2 & 3], data + 2, size - 2);

    DataReader *r;
    Err e = {0};
    if (data_reader_open(&r, path, &o, &e)) {
        FUZZ_ASSERT(e.msg[0], "open failed without a message");
        return 0;
    }
    DataRecord rec = {0};
    int rc;
    size_t n = 0;
    while ((rc = data_reader_next(r, &rec, &e)) == 1) {
        n++;
        FUZZ_ASSERT(rec.where[0], "a record without its place");
        if (rec.kind == REC_CONV) {
            FUZZ_ASSERT(rec.conv.n > 0, "an empty conversation");
            for (int i = 0; i < rec.conv.n; i++) {
                const ChatMessage *m = &rec.conv.msgs[i];
                FUZZ_ASSERT(m->content && m->role <= ROLE_ASSISTANT, "message %d malformed", i);
                FUZZ_ASSERT(utf8_find_invalid(m->content, strlen(m->content)) == (size_t)-1,
                            "message %d is not valid UTF-8", i);
                FUZZ_ASSERT(m->role == ROLE_ASSISTANT || m->weight == 0, "a weight on a non-assistant");
                FUZZ_ASSERT(i == 0 || m->role != ROLE_SYSTEM, "a system message after the first");
            }
        } else if (rec.kind == REC_TOKENS) {
            FUZZ_ASSERT(rec.ids.len > 0 && rec.mask.len == rec.ids.len, "ids %zu, mask %zu",
                        rec.ids.len, rec.mask.len);
            for (size_t i = 0; i < rec.ids.len; i++)
                FUZZ_ASSERT(rec.ids.data[i] >= 0 && (rec.mask.data[i] == 0 || rec.mask.data[i] == 1),
                            "token %zu out of range", i);
        } else {
            FUZZ_ASSERT(rec.kind == REC_TEXT, "unknown record kind %d", rec.kind);
            FUZZ_ASSERT(utf8_find_invalid(rec.text.data ? rec.text.data : "", rec.text.len) == (size_t)-1,
                        "a text that is not valid UTF-8");
        }
    }
    if (rc < 0) FUZZ_ASSERT(e.msg[0], "a failed read without a message");
    const ReaderStats *st = data_reader_stats(r);
    FUZZ_ASSERT(st->records == n, "stats.records %zu, returned %zu", st->records, n);
    size_t bad = 0;
    for (int k = 0; k < DERR_COUNT; k++) bad += st->bad[k];
    FUZZ_ASSERT(o.skip_bad || bad <= 1, "%zu bad records without skip_bad", bad);
    data_record_free(&rec);
    data_reader_close(r);
    return 0;
}
