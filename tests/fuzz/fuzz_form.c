// fuzz_form.c: arbitrary bytes as a urlencoded form body (form_parse, what every labeling
// POST goes through), and the same bytes through html_escape.
//
// Properties:
//   - a parsed form's names and values are NUL-free valid UTF-8;
//   - re-encoding every field (each byte as %XX) and parsing again gives the same fields;
//   - a body of only unreserved characters and '&', '=' always parses;
//   - html_escape's output has no < > " ' and no & that does not start one of the five
//     references, and unescaping it gives the input back.
#include "fuzz_common.h"

#include "util/buf.h"
#include "util/form.h"
#include "util/html.h"
#include "util/utf8.h"

static void check_form(const Form *f) {
    for (int i = 0; i < f->n; i++) {
        const char *parts[2] = {f->f[i].name, f->f[i].value};
        for (int k = 0; k < 2; k++)
            FUZZ_ASSERT(utf8_find_invalid(parts[k], strlen(parts[k])) == (size_t)-1, "field %d not UTF-8", i);
    }
}

static void roundtrip(const Form *f) {
    Buf b = {0};
    for (int i = 0; i < f->n; i++) {
        if (i) buf_putc(&b, '&');
        for (const char *p = f->f[i].name; *p; p++) buf_appendf(&b, "%%%02X", (unsigned char)*p);
        buf_putc(&b, '=');
        for (const char *p = f->f[i].value; *p; p++) buf_appendf(&b, "%%%02X", (unsigned char)*p);
    }
    Form g;
    Err e = {0};
    FUZZ_ASSERT(form_parse(&g, b.data ? b.data : "", b.len, &e) == 0, "re-encoded form fails: %s", e.msg);
    // Fields with an empty name and value re-encode to "=", which parses to one field too.
    FUZZ_ASSERT(g.n == f->n, "field count %d -> %d", f->n, g.n);
    for (int i = 0; i < f->n; i++)
        FUZZ_ASSERT(!strcmp(g.f[i].name, f->f[i].name) && !strcmp(g.f[i].value, f->f[i].value), "field %d changed", i);
    form_free(&g);
    buf_free(&b);
}

static void check_escape(const uint8_t *data, size_t size) {
    Buf b = {0};
    FUZZ_ASSERT(html_escape_n(&b, (const char *)data, size) == 0, "escape failed");
    static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    static const char plain[] = "&<>\"'";
    Buf back = {0};
    for (size_t i = 0; i < b.len;) {
        char c = b.data[i];
        FUZZ_ASSERT(c != '<' && c != '>' && c != '"' && c != '\'', "raw %c at %zu", c, i);
        if (c == '&') {
            int k = 0;
            while (k < 5 && strncmp(b.data + i, refs[k], strlen(refs[k]))) k++;
            FUZZ_ASSERT(k < 5, "bare & at %zu", i);
            buf_putc(&back, plain[k]);
            i += strlen(refs[k]);
        } else {
            buf_putc(&back, c);
            i++;
        }
    }
    FUZZ_ASSERT(back.len == size && (!size || !memcmp(back.data, data, size)), "unescape differs");
    buf_free(&b);
    buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Form f;
    Err e = {0};
    if (form_parse(&f, (const char *)data, size, &e) == 0) {
        check_form(&f);
        roundtrip(&f);
        form_free(&f);
    } else {
        bool simple = true;  // only characters that need no decoding
        for (size_t i = 0; i < size; i++)
            simple &= (data[i] >= 'a' && data[i] <= 'z') || data[i] == '&' || data[i] == '=' || data[i] == '_';
        FUZZ_ASSERT(!simple, "a plain form failed: %s", e.msg);
        FUZZ_ASSERT(e.msg[0], "failure without a message");
    }
    check_escape(data, size);
    return 0;
}
