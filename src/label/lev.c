// lev.c: Levenshtein distance over code points — how much a labeler changed a draft.
//
// Characters, not bytes: "é" → "e" is one edit, as a labeler sees it. The classic
// dynamic program keeps two rows of the (na+1)x(nb+1) table, so memory is O(nb).
#include "label/lev.h"

#include <stdlib.h>

#include "util/utf8.h"

// Decodes s into malloc'd code points; an invalid byte becomes 0x110000 + byte, a value
// no code point takes, so two equal invalid bytes still match.
static uint32_t *decode(const char *s, size_t n, size_t *out_n) {
    uint32_t *cp = malloc((n ? n : 1) * sizeof *cp);
    if (!cp) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int l = utf8_seq_len((const uint8_t *)s + i, n - i);
        if (l > 0) {
            utf8_decode((const uint8_t *)s + i, &cp[k++]);
            i += (size_t)l;
        } else
            cp[k++] = 0x110000u + (uint8_t)s[i++];
    }
    *out_n = k;
    return cp;
}

int64_t label_levenshtein(const char *a, size_t na, const char *b, size_t nb) {
    size_t n, m;
    uint32_t *x = decode(a, na, &n), *y = decode(b, nb, &m);
    int64_t *row = NULL, result = -1;
    if (!x || !y) goto out;
    if ((double)n * (double)m > 4e8) goto out;
    if (!(row = malloc((m + 1) * sizeof *row))) goto out;
    for (size_t j = 0; j <= m; j++) row[j] = (int64_t)j;
    for (size_t i = 1; i <= n; i++) {
        int64_t diag = row[0];  // D[i-1][j-1]
        row[0] = (int64_t)i;
        for (size_t j = 1; j <= m; j++) {
            int64_t up = row[j];  // D[i-1][j]
            int64_t best = diag + (x[i - 1] != y[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    result = row[m];
out:
    free(x);
    free(y);
    free(row);
    return result;
}
