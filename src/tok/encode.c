// encode.c: text -> ids. The pipeline, in the order Hugging Face tokenizers runs it:
//   1. UTF-8 check (or U+FFFD replacement, by flag)
//   2. special tokens cut the text into segments (only when allowed, or HF's
//      non-special added tokens, which always match)
//   3. each segment is normalized (NFC; SentencePiece ▁ for spaces; prefix space)
//   4. pre-tokenizer: regex splits cut it into pieces (HF Split behaviors)
//   5. BPE per piece (bpe.c)
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tok/tok_impl.h"
#include "util/utf8.h"

typedef struct {
    const Tokenizer *t;
    pcre2_match_data *md;
    IntVec *out;
    Err *e;
} EncodeCtx;

static int piece_error(EncodeCtx *c, int rc, const uint8_t *s, size_t n) {
    if (rc == -2)
        return ERR(c->e, ERR_FORMAT, "text piece \"%.*s\" has a symbol with no token and the "
                   "vocabulary has no <unk>", (int)(n > 40 ? 40 : n), (const char *)s);
    return ERR(c->e, ERR_NOMEM, "out of memory while encoding");
}

static int split_run(EncodeCtx *c, int level, const uint8_t *s, size_t n);

// A piece of split step `level` held back because the next segment may still join it
// (every behavior but Isolated and Removed glues neighbours together).
typedef struct {
    size_t start, end;
    bool match;  // the held piece counts as a match for the gluing rules
    bool any;
} Held;

static int flush_held(EncodeCtx *c, int level, const uint8_t *s, Held *h) {
    if (!h->any) return 0;
    h->any = false;
    return split_run(c, level + 1, s + h->start, h->end - h->start);
}

// Takes one segment s[a..b) of step `level`, a match or a gap (after invert), and applies
// the step's behavior, as HF's SplitDelimiterBehavior does on the list of segments.
static int take_segment(EncodeCtx *c, int level, const uint8_t *s, Held *h, size_t a,
                        size_t b, bool match) {
    switch (c->t->splits[level].behavior) {
    case TOK_SPLIT_ISOLATED: return split_run(c, level + 1, s + a, b - a);
    case TOK_SPLIT_REMOVED: return match ? 0 : split_run(c, level + 1, s + a, b - a);
    case TOK_SPLIT_MERGED_PREV:  // a match joins the gap before it
        if (match && h->any && !h->match) {
            h->end = b;
            h->match = true;
            return 0;
        }
        break;
    case TOK_SPLIT_MERGED_NEXT:  // a gap joins the match before it
        if (!match && h->any && h->match) {
            h->end = b;
            h->match = false;
            return 0;
        }
        break;
    case TOK_SPLIT_CONTIGUOUS:  // like segments in a row become one
        if (h->any && h->match == match) {
            h->end = b;
            return 0;
        }
        break;
    }
    if (flush_held(c, level, s, h)) return -1;
    *h = (Held){.start = a, .end = b, .match = match, .any = true};
    return 0;
}

// Runs split step `level` on s[0..n), recursing into the next step for each piece.
static int split_run(EncodeCtx *c, int level, const uint8_t *s, size_t n) {
    const Tokenizer *t = c->t;
    if (n == 0) return 0;
    if (level >= t->n_splits || level >= (int)(sizeof t->splits / sizeof *t->splits)) {
        int rc = bpe_encode_piece(t, s, n, c->out);
        return rc ? piece_error(c, rc, s, n) : 0;
    }
    pcre2_code *re = t->splits[level].re;
    bool inv = t->splits[level].invert;
    Held h = {0};
    size_t pos = 0, gap = 0;
    while (pos <= n) {
        int rc = pcre2_match(re, s, n, pos, PCRE2_NO_UTF_CHECK, c->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return ERR(c->e, ERR_FORMAT, "pre-tokenizer regex failed: %s", (char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {  // empty match: step over one character
            pos = ms + 1;
            while (pos < n && (s[pos] & 0xC0) == 0x80) pos++;
            if (ms >= n) break;
            continue;
        }
        if (ms > gap && take_segment(c, level, s, &h, gap, ms, inv)) return -1;
        if (take_segment(c, level, s, &h, ms, me, !inv)) return -1;
        gap = pos = me;
    }
    if (gap < n && take_segment(c, level, s, &h, gap, n, inv)) return -1;
    return flush_held(c, level, s, &h);
}

// Whether the SentencePiece ▁ goes in front of this segment (at_start: it begins the text).
static bool wants_prepend(const Tokenizer *t, const uint8_t *s, size_t n, bool at_start) {
    if (!t->sp_prepend || (t->sp_prepend_first && !at_start)) return false;
    if (!t->sp_prepend_if_missing) return true;
    bool has = (t->sp_replace_space && s[0] == ' ') ||
               (n >= 3 && memcmp(s, "\xE2\x96\x81", 3) == 0);
    return !has;
}

// Normalizes one segment and pre-tokenizes it.
static int encode_segment(EncodeCtx *c, const uint8_t *s, size_t n, bool at_start) {
    const Tokenizer *t = c->t;
    if (n == 0) return 0;
    uint8_t *nfc = NULL;
    if (t->nfc) {
        utf8proc_ssize_t r = utf8proc_map(s, (utf8proc_ssize_t)n, &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0) return ERR(c->e, ERR_FORMAT, "NFC normalization failed: %s", utf8proc_errmsg(r));
        s = nfc;
        n = (size_t)r;
    }
    int rc;
    bool prepend = wants_prepend(t, s, n, at_start);
    if (prepend || t->sp_replace_space || t->byte_level_prefix_space) {
        Buf b = {0};
        if (prepend) buf_append(&b, "\xE2\x96\x81", 3);
        if (t->byte_level_prefix_space && s[0] != ' ') buf_putc(&b, ' ');
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ' ' && t->sp_replace_space) buf_append(&b, "\xE2\x96\x81", 3);
            else buf_putc(&b, (char)s[i]);
        }
        rc = b.data ? split_run(c, 0, (const uint8_t *)b.data, b.len)
                    : ERR(c->e, ERR_NOMEM, "out of memory");
        buf_free(&b);
    } else {
        rc = split_run(c, 0, s, n);
    }
    free(nfc);
    return rc;
}

// Finds the special token matching at s (longest first), or NULL.
static const TokSpecial *special_at(const Tokenizer *t, const uint8_t *s, size_t n, bool allow) {
    if (!t->special_first[s[0]]) return NULL;
    for (int i = 0; i < t->n_specials; i++) {
        const TokSpecial *sp = &t->specials[i];
        if ((allow || sp->always) && sp->len <= n && memcmp(t->pool + sp->off, s, sp->len) == 0)
            return sp;
    }
    return NULL;
}

static bool any_matchable(const Tokenizer *t, bool allow) {
    for (int i = 0; i < t->n_specials; i++)
        if (allow || t->specials[i].always) return true;
    return false;
}

// Unicode White_Space: what HF's added-token lstrip/rstrip strip (Rust's char::is_whitespace).
static bool is_white_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

// Byte length of the white-space character that ends at s[end] (0 if it is none); the
// text from `start` is valid UTF-8.
static size_t ws_before(const uint8_t *s, size_t start, size_t end) {
    if (end <= start) return 0;
    size_t b = end - 1;
    while (b > start && (s[b] & 0xC0) == 0x80) b--;
    uint32_t cp;
    utf8_decode(s + b, &cp);
    return is_white_space(cp) ? end - b : 0;
}

// Byte length of the white-space character that starts at s[pos] (0 if it is none).
static size_t ws_after(const uint8_t *s, size_t pos, size_t len) {
    if (pos >= len) return 0;
    uint32_t cp;
    int l = utf8_decode(s + pos, &cp);
    return is_white_space(cp) ? (size_t)l : 0;
}

int tok_encode(const Tokenizer *t, const char *text, size_t len, int flags, IntVec *out, Err *e) {
    Buf fixed = {0};
    size_t bad = utf8_find_invalid(text, len);
    if (bad != (size_t)-1) {
        if (!(flags & TOK_REPLACE_INVALID))
            return ERR(e, ERR_FORMAT, "input is not valid UTF-8 at byte %zu (0x%02x)", bad,
                       (unsigned)(uint8_t)text[bad]);
        if (utf8_replace_invalid(text, len, &fixed)) return ERR(e, ERR_NOMEM, "out of memory");
        text = fixed.data;
        len = fixed.len;
    }
    EncodeCtx c = {.t = t, .out = out, .e = e};
    int rc = 0;
    if (t->n_splits) {
        c.md = pcre2_match_data_create(4, NULL);
        if (!c.md) {
            buf_free(&fixed);
            return ERR(e, ERR_NOMEM, "out of memory");
        }
    }
    if ((flags & TOK_ADD_BOS) && t->bos_id >= 0 && ivec_push(out, t->bos_id)) goto oom;

    const uint8_t *s = (const uint8_t *)text;
    bool allow = flags & TOK_ALLOW_SPECIAL;
    if (!any_matchable(t, allow)) {
        rc = encode_segment(&c, s, len, true);
    } else {
        size_t seg = 0;
        for (size_t i = 0; i < len && rc == 0;) {
            const TokSpecial *sp = special_at(t, s + i, len - i, allow);
            if (!sp) {
                i++;
                continue;
            }
            size_t end = i, next = i + sp->len;
            for (size_t w; sp->lstrip && (w = ws_before(s, seg, end));) end -= w;
            for (size_t w; sp->rstrip && (w = ws_after(s, next, len));) next += w;
            rc = encode_segment(&c, s + seg, end - seg, seg == 0);
            if (rc == 0 && ivec_push(out, sp->id)) goto oom;
            seg = i = next;
        }
        if (rc == 0) rc = encode_segment(&c, s + seg, len - seg, seg == 0);
    }
    if (rc == 0 && (flags & TOK_ADD_EOS) && t->eos_id >= 0 && ivec_push(out, t->eos_id)) goto oom;
    pcre2_match_data_free(c.md);
    buf_free(&fixed);
    return rc;
oom:
    pcre2_match_data_free(c.md);
    buf_free(&fixed);
    return ERR(e, ERR_NOMEM, "out of memory while encoding");
}
