// corpus.h: a synthetic "internet" for the demo's pretraining — a few MB of small web
// pages, generated from templates and the word lists in world.h, deterministic from a seed.
//
// Pages: short articles (countries, animals, planets, seasons), FAQ pages, forum threads,
// "N tips for …" lists, recipes, news snippets, arithmetic tables and practice sheets
// ("3 + 4 = 7", "2 × 3 = 6", operands 1..DEMO_MAX_OPERAND), worked sums in prose, and
// Chinese pages on the same topics ("北京是中国的首都。", "2加2等于4"). They teach the
// facts and number formats; they never contain the chat protocol, so a base model trained
// on them answers a question by continuing a web page. See docs/demo.md.
#ifndef PT_DEMO_CORPUS_H
#define PT_DEMO_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

// What demo_corpus writes after every document: GPT-2's end-of-text spelling, so the
// buffer can be split on it, or a tokenizer can register it as a special token (BPE
// training cuts special spellings out first) and pretraining sees one id between pages.
// No document contains it, nor "<|" at all.
#define DEMO_DOC_SEP "<|endoftext|>"

// Called once per document, in order; text is UTF-8, len bytes, NUL-terminated, borrowed
// for the call. Returning non-zero stops generation (demo_corpus_each returns -1 then,
// with e as the callback left it).
typedef int (*DemoDocFn)(void *ctx, const char *text, size_t len, Err *e);

// Generates documents until their total size reaches `bytes` (the last one crosses it).
// Document i depends on (seed, i) only, so a smaller corpus is a prefix of a larger one.
int demo_corpus_each(uint64_t seed, size_t bytes, DemoDocFn fn, void *ctx, Err *e);

// Appends the documents to out, each followed by DEMO_DOC_SEP, until out has grown by
// at least `bytes` (separators included).
int demo_corpus(uint64_t seed, size_t bytes, Buf *out, Err *e);

#endif
