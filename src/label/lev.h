// lev.h: edit distance between two UTF-8 texts, counted in code points.
#ifndef PT_LABEL_LEV_H
#define PT_LABEL_LEV_H

#include <stddef.h>
#include <stdint.h>

// Levenshtein distance (insert, delete, substitute: cost 1 each) between a and b as
// sequences of Unicode code points; an invalid byte counts as one unit of its own.
// Returns -1 when the texts are too long to compare in reasonable time (the product of
// their lengths over 4e8: ~1 s) or memory runs out.
int64_t label_levenshtein(const char *a, size_t na, const char *b, size_t nb);

#endif
