// forward.h: the model's forward over a batch of cached rows — the compute core of the
// inference engine.
//
// A row is one token of one sequence: (id, slot, pos). A forward takes N rows of any mix —
// a prompt chunk of one slot (positions p0..p0+T-1), one new token for each of several
// slots, or both — writes each row's keys and values into its slot's cache at pos, and
// then lets each row attend over its slot's cache positions 0..pos. So a prompt goes
// through in one GEMM-based forward (the rows of a chunk see each other through the
// cache), and a decode step of S sequences is one forward of S rows whose matmuls are
// shared; only attention is per row, over that row's own slot.
//
// Weights come from a loaded Model (model.h: m->w, m->rope_cos/sin) and the layers of
// layers.h. Logits are computed only for the rows asked for (a prompt needs only its last).
// Everything is allocated by kv_model_init; a forward allocates nothing.
// Shapes: S slots, X ctx (positions per slot), R cap_rows, O cap_out, L layers, KVH kv
// heads, D head dim, C hidden, V vocab.
#ifndef PT_INFER_FORWARD_H
#define PT_INFER_FORWARD_H

#include <stdint.h>

#include "model/model.h"
#include "util/err.h"

typedef struct {
    const Model *m;       // borrowed: weights, config, RoPE tables
    int n_slots, ctx;     // S, X
    int cap_rows;         // R: most rows per forward
    int cap_out;          // O: most logits rows per forward
    float *k_cache;       // (S, L, KVH, X, D) keys after RoPE
    float *v_cache;       // (S, L, KVH, X, D)
    // Scratch for R rows.
    float *x;             // (R, C) residual stream
    float *ln;            // (R, C) normed input of attention / MLP
    float *mean, *rstd;   // (R) norm statistics (unused by the engine, needed by the layers)
    float *qkv;           // (R, QKV) [q heads | k heads | v heads]
    float *atty;          // (R, H*D) attention output
    float *proj;          // (R, C) o_proj / down_proj output
    float *fch;           // (R, F) or (R, 2F) [gate | up]
    float *fch_act;       // (R, F)
    float *lnf;           // (O, C) final norm of the rows asked for
    float *logits;        // (O, V) their logits, in the order asked
    float *att;           // (threads, X) attention scores, one row per OpenMP thread
    int n_threads;
} KvModel;

// Sizes the caches and scratch for n_slots slots of ctx positions (ctx <= the model's
// max_position) and forwards of up to cap_rows rows with up to cap_out logits rows.
int kv_model_init(KvModel *km, const Model *m, int n_slots, int ctx, int cap_rows, int cap_out,
                  Err *e);
void kv_model_free(KvModel *km);  // accepts a zeroed KvModel

// Runs rows (N): ids (N), slot (N), pos (N). Every position < pos[n] of slot[n] must be in
// the cache already or among these rows. out_rows (n_out) lists rows whose logits land in
// km->logits (n_out, V) in that order. Errors: ids outside [0, V), positions outside [0, X),
// slots outside [0, S), N or n_out over capacity.
int kv_forward(KvModel *km, const int32_t *ids, const int32_t *slot, const int32_t *pos, int N,
               const int32_t *out_rows, int n_out, Err *e);

#endif
