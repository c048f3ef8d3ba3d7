// llama2c_random.c: writes a llama2.c checkpoint (legacy version-0 .bin, the format run.c
// reads) of a given shape with seeded random weights, so llama2.c's run.c and posttrain
// (after `posttrain convert`) decode the very same model in bench/decode/run.sh.
//
//   llama2c_random OUT.bin DIM HIDDEN LAYERS HEADS KV_HEADS VOCAB SEQ_LEN
//
// Shared classifier (positive vocab_size); norm weights 1; matrices uniform in
// [-0.04, 0.04] (std ~0.023, about a trained small model's); freq_cis as run.c's export.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static float uniform(float a) {  // xorshift64*: in [-a, a)
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    uint32_t r = (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 40);  // 24 bits
    return a * ((float)r / (float)(1u << 23) - 1.0f);
}

// n floats of a (matrices) or the constant c (a == 0).
static int put(FILE *f, size_t n, float a, float c) {
    float buf[4096];
    while (n > 0) {
        size_t k = n < 4096 ? n : 4096;
        for (size_t i = 0; i < k; i++) buf[i] = a > 0 ? uniform(a) : c;
        if (fwrite(buf, sizeof(float), k, f) != k) return -1;
        n -= k;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: llama2c_random OUT.bin DIM HIDDEN LAYERS HEADS KV_HEADS VOCAB "
                        "SEQ_LEN\n");
        return 2;
    }
    int32_t h[7];
    for (int i = 0; i < 7; i++) h[i] = atoi(argv[2 + i]);
    size_t C = h[0], F = h[1], L = h[2], H = h[3], KVH = h[4], V = h[5], S = h[6];
    if (!C || !F || !L || !H || !KVH || !V || !S || C % H) {
        fprintf(stderr, "llama2c_random: bad shape\n");
        return 2;
    }
    size_t D = C / H;
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    const float a = 0.04f;
    int rc = fwrite(h, sizeof h, 1, f) != 1;
    rc |= put(f, V * C, a, 0);            // token_embedding (V,C), also the classifier
    rc |= put(f, L * C, 0, 1);            // rms_att
    rc |= put(f, L * C * C, a, 0);        // wq
    rc |= put(f, L * KVH * D * C, a, 0);  // wk
    rc |= put(f, L * KVH * D * C, a, 0);  // wv
    rc |= put(f, L * C * C, a, 0);        // wo
    rc |= put(f, L * C, 0, 1);            // rms_ffn
    rc |= put(f, L * F * C, a, 0);        // w1
    rc |= put(f, L * C * F, a, 0);        // w2
    rc |= put(f, L * F * C, a, 0);        // w3
    rc |= put(f, C, 0, 1);                // rms_final
    for (int part = 0; part < 2 && !rc; part++)  // freq_cis_real, freq_cis_imag (S, D/2)
        for (size_t t = 0; t < S && !rc; t++)
            for (size_t i = 0; i < D / 2 && !rc; i++) {
                double ang = t * pow(10000.0, -2.0 * i / D);
                float v = (float)(part ? sin(ang) : cos(ang));
                rc |= fwrite(&v, sizeof v, 1, f) != 1;
            }
    if (fclose(f) || rc) {
        fprintf(stderr, "llama2c_random: writing %s failed\n", argv[1]);
        return 1;
    }
    return 0;
}
