// vmath.h: exp for the hot loops (softmax, cross-entropy, SiLU, GELU's tanh) in a form the
// compiler vectorizes: libm's expf is a scalar call, and the loss alone takes B*T*V of them.
//
// exp(x) = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 (ln 2 split in two parts so
// the reduction is exact enough), |r| <= ln2/2, e^r by its Taylor polynomial of degree 7
// (truncation error below 1e-8 relative); 2^n is built in the exponent bits. Inputs are
// clamped to the range where the result is a normal float. The loops that call these
// vectorize only with -fno-trapping-math (the Makefile's BASE_CFLAGS): otherwise gcc keeps
// the clamps as branches.
#ifndef PT_MODEL_VMATH_H
#define PT_MODEL_VMATH_H

#include <math.h>
#include <stdint.h>


static inline float vexpf(float x) {
    x = x < -87.0f ? -87.0f : x;  // not fminf/fmaxf: their NaN rules block vectorizing
    x = x > 88.0f ? 88.0f : x;
    // round to nearest by the 1.5 * 2^23 trick: exact for |x / ln 2| < 2^22
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f;  // ln 2, high part (exact in float)
    r = r - n * 1.428606765330187e-06f;    // ln 2, low part
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union { int32_t i; float f; } s = {.i = ((int32_t)n + 127) << 23};
    return p * s.f;
}

// tanh(u) = 1 - 2 / (1 + e^{2u}): saturates to +-1 cleanly at the clamps.

static inline float vtanhf(float u) { return 1.0f - 2.0f / (1.0f + vexpf(2.0f * u)); }


static inline float vsigmoidf(float x) { return 1.0f / (1.0f + vexpf(-x)); }

#endif
