// train_json.c: writes a trained BPE vocabulary (train.h's BpeVocab) as a Hugging Face
// tokenizer.json: model BPE with byte-level keys, merges as "a b" strings, a Split +
// ByteLevel pre-tokenizer, a ByteLevel decoder and the special tokens as added_tokens —
// the layout HF tokenizers and transformers.js load.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_impl.h"
#include "tok/train.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/json.h"
#include "util/utf8.h"

// Written by hand rather than through a JSON tree so that the layout is the familiar
// one (one vocabulary entry and one merge per line).

static int json_added_tokens(Buf *b, const BpeVocab *v) {
    int rc = buf_appendf(b, "  \"added_tokens\": [");
    for (int i = 0; i < v->n_specials && !rc; i++) {
        rc = buf_appendf(b, "%s\n    {\"id\": %d, \"content\": ", i ? "," : "", v->n_tokens + i) ||
             json_escape(b, v->specials[i], strlen(v->specials[i])) ||
             buf_appendf(b, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                            "\"normalized\": false, \"special\": true}");
    }
    return rc || buf_appendf(b, "%s],\n", v->n_specials ? "\n  " : "");
}

static int json_pipeline(Buf *b, const BpeVocab *v) {
    return buf_appendf(b, "  \"normalizer\": null,\n"
                          "  \"pre_tokenizer\": {\n"
                          "    \"type\": \"Sequence\",\n"
                          "    \"pretokenizers\": [\n"
                          "      {\"type\": \"Split\", \"pattern\": {\"Regex\": ") ||
           json_escape(b, v->pattern, strlen(v->pattern)) ||
           buf_appendf(b, "}, \"behavior\": \"Isolated\", \"invert\": false},\n"
                          "      {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                          "\"trim_offsets\": true, \"use_regex\": false}\n"
                          "    ]\n"
                          "  },\n"
                          "  \"post_processor\": null,\n"
                          "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                          "\"trim_offsets\": true, \"use_regex\": true},\n");
}

// model: vocab in id order, merges as "left right" (no byte-level token holds a space,
// so the space is unambiguous, and every tokenizers version reads this form).
static int json_model(Buf *b, const BpeVocab *v) {
    int rc = buf_appendf(b, "  \"model\": {\n"
                            "    \"type\": \"BPE\",\n"
                            "    \"dropout\": null,\n"
                            "    \"unk_token\": null,\n"
                            "    \"continuing_subword_prefix\": null,\n"
                            "    \"end_of_word_suffix\": null,\n"
                            "    \"fuse_unk\": false,\n"
                            "    \"byte_fallback\": false,\n"
                            "    \"ignore_merges\": false,\n"
                            "    \"vocab\": {");
    for (int32_t id = 0; id < v->n_tokens && !rc; id++)
        rc = buf_appendf(b, "%s\n      \"", id ? "," : "") ||
             tok_byte_level_json(b, v->pool + v->tok_off[id], v->tok_len[id]) ||
             buf_appendf(b, "\": %d", id);
    rc = rc || buf_appendf(b, "\n    },\n    \"merges\": [");
    for (int32_t k = 0; k < v->n_merges && !rc; k++) {
        const BpeMerge *m = &v->merges[k];
        rc = buf_appendf(b, "%s\n      \"", k ? "," : "") ||
             tok_byte_level_json(b, v->pool + v->tok_off[m->left], v->tok_len[m->left]) ||
             buf_putc(b, ' ') ||
             tok_byte_level_json(b, v->pool + v->tok_off[m->right], v->tok_len[m->right]) ||
             buf_putc(b, '"');
    }
    return rc || buf_appendf(b, "%s]\n  }\n", v->n_merges ? "\n    " : "");
}

int bpe_vocab_to_json(const BpeVocab *v, char **json, Err *e) {
    Buf b = {0};
    int rc = buf_appendf(&b, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n"
                             "  \"padding\": null,\n") ||
             json_added_tokens(&b, v) || json_pipeline(&b, v) || json_model(&b, v) ||
             buf_appendf(&b, "}\n");
    if (rc) {
        buf_free(&b);
        return ERR(e, ERR_NOMEM, "out of memory writing tokenizer.json");
    }
    *json = b.data;
    return 0;
}

int bpe_vocab_save(const BpeVocab *v, const char *path, Err *e) {
    char *json;
    if (bpe_vocab_to_json(v, &json, e)) return -1;
    int rc = file_write_atomic(path, json, strlen(json), e);
    free(json);
    return rc;
}
