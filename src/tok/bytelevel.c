// bytelevel.c: GPT-2's byte-level alphabet, which byte-level BPE vocabularies (GPT-2,
// Llama 3, Qwen, tokenizer.json files we write) use to spell raw bytes as printable text.
//
// Bytes 0x21..0x7E, 0xA1..0xAC and 0xAE..0xFF stand for themselves (as code points); the
// other 68 bytes (controls, space, DEL, NBSP, soft hyphen), in order, are U+0100..U+0143.
// So ' ' (0x20) is U+0120 "Ġ" and '\n' (0x0A) is U+010A "Ċ".
#include "tok/tok_impl.h"
#include "util/utf8.h"

static int printable(uint32_t c) {
    return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
}

uint32_t tok_byte_level_char(uint8_t b) {
    if (printable(b)) return b;
    if (b <= 0x20) return 0x100 + b;                // 0..32
    if (b >= 0x7F && b <= 0xA0) return 0x121 + (b - 0x7F);  // 33..66
    return 0x143;                                    // 67: 0xAD
}

int tok_byte_level_json(Buf *b, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char u[4];
        uint32_t cp = tok_byte_level_char(p[i]);
        if ((cp == '"' || cp == '\\') && buf_putc(b, '\\')) return -1;
        if (buf_append(b, u, (size_t)utf8_encode(cp, u))) return -1;
    }
    return 0;
}

static int byte_of_code_point(uint32_t cp) {
    if (printable(cp)) return (int)cp;
    if (cp < 0x100 || cp > 0x143) return -1;
    uint32_t n = cp - 0x100;
    if (n <= 0x20) return (int)n;
    if (n <= 0x42) return (int)(n - 0x21 + 0x7F);
    return 0xAD;
}

int tok_byte_level_decode(const char *key, size_t len, uint8_t *out) {
    const uint8_t *s = (const uint8_t *)key;
    int n = 0;
    for (size_t i = 0; i < len;) {
        int l = utf8_seq_len(s + i, len - i);
        if (!l) return -1;
        uint32_t cp;
        utf8_decode(s + i, &cp);
        int b = byte_of_code_point(cp);
        if (b < 0) return -1;
        out[n++] = (uint8_t)b;
        i += (size_t)l;
    }
    return n;
}
