// rng.h: the small seeded generator the data pipeline draws from (shuffles, sampling).
//
// splitmix64 (Steele, Lea, Flood 2014) turns a seed into well-mixed 64-bit words; it seeds
// xoshiro256** (Blackman, Vigna 2018), which makes the draws. Both are a few lines and
// fully determined by the seed, so a shuffle is the same on every machine and build.
#ifndef PT_DATA_RNG_H
#define PT_DATA_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} Rng;

static inline uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// One well-mixed word from two (a seed and a stream: an epoch, a file index, a hash).
static inline uint64_t rng_mix(uint64_t a, uint64_t b) {
    uint64_t x = a ^ (b * 0xd1342543de82ef95ull);
    splitmix64(&x);
    return splitmix64(&x);
}

static inline void rng_seed(Rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);  // never all zero
}

static inline uint64_t rng_next(Rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

// Uniform in [0, n), n > 0, without modulo bias (Lemire's multiply-shift with rejection).
static inline uint64_t rng_below(Rng *r, uint64_t n) {
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t floor = -n % n;
        while (low < floor) {
            m = (unsigned __int128)rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

// Uniform in [0, 1) with 53 bits.
static inline double rng_unit(uint64_t x) { return (double)(x >> 11) * 0x1.0p-53; }

// Fisher–Yates shuffle of a[0..n).
static inline void rng_shuffle_u64(Rng *r, uint64_t *a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        uint64_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

#endif
