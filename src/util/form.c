// form.c: urlencoded form bodies (see form.h).
#include "util/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

enum { FORM_MAX_FIELDS = 4096 };

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes s[0..n) into a new string; where names it for errors ("the name of field 3",
// "field text").
static char *decode(const char *s, size_t n, const char *where, Err *e) {
    char *out = malloc(n + 1);
    if (!out) return ERR(e, ERR_NOMEM, "out of memory"), NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return ERR(e, ERR_FORMAT, "form: %s: bad %%-escape at byte %zu", where, i), NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == 0) {
            free(out);
            return ERR(e, ERR_FORMAT, "form: %s: NUL byte", where), NULL;
        }
        out[k++] = c;
    }
    out[k] = 0;
    size_t bad = utf8_find_invalid(out, k);
    if (bad < k) {
        free(out);
        return ERR(e, ERR_FORMAT, "form: %s: invalid UTF-8 at byte %zu", where, bad), NULL;
    }
    return out;
}

int form_parse(Form *f, const char *body, size_t len, Err *e) {
    memset(f, 0, sizeof *f);
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > i) {  // empty pieces ("a=1&&b=2") are skipped, as browsers do
            if (f->n == FORM_MAX_FIELDS) {
                form_free(f);
                return ERR(e, ERR_FORMAT, "form: more than %d fields", FORM_MAX_FIELDS);
            }
            FormField *p = realloc(f->f, (size_t)(f->n + 1) * sizeof *p);
            if (!p) return form_free(f), ERR(e, ERR_NOMEM, "out of memory");
            f->f = p;
            const char *eq = memchr(body + i, '=', end - i);
            size_t nend = eq ? (size_t)(eq - body) : end;
            FormField *x = &f->f[f->n];
            char where[96];
            snprintf(where, sizeof where, "the name of field %d", f->n + 1);
            x->name = decode(body + i, nend - i, where, e);
            if (!x->name) return form_free(f), -1;
            snprintf(where, sizeof where, "field %.64s", x->name);
            x->value = eq ? decode(eq + 1, end - nend - 1, where, e) : strdup("");
            if (!x->value) {
                free(x->name);
                form_free(f);
                return eq ? -1 : ERR(e, ERR_NOMEM, "out of memory");
            }
            f->n++;
        }
        i = end + 1;
    }
    return 0;
}

const char *form_get(const Form *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->f[i].name, name)) return f->f[i].value;
    return NULL;
}

void form_free(Form *f) {
    for (int i = 0; i < f->n; i++) {
        free(f->f[i].name);
        free(f->f[i].value);
    }
    free(f->f);
    memset(f, 0, sizeof *f);
}
