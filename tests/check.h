// check.h: what every C test shares. CHECK prints one line per check ("ok" or "FAIL"
// and what was checked); check_summary prints "N passed, N failed" and gives the exit
// code. A test that cannot run prints why and exits 77 (skip).
#ifndef PT_CHECK_H
#define PT_CHECK_H

#include <stdio.h>

static int check_fails, check_count;

#define CHECK(cond, ...)                            \
    do {                                            \
        check_count++;                              \
        if (cond) printf("ok    ");                 \
        else printf("FAIL  "), check_fails++;       \
        printf(__VA_ARGS__);                        \
        printf("\n");                               \
    } while (0)

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_count - check_fails, check_fails);
    return check_fails ? 1 : 0;
}

#endif
