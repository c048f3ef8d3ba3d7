// view.c: the colored token view (see view.h). Layout, for each conversation:
//   1. the text as the model sees it, token by token on alternating backgrounds,
//      special tokens in bold white on magenta (two shades), loss targets underlined;
//   2. the ids, targets in bold green;
//   3. counts: tokens and targets.
#include "chat/view.h"

#include "util/utf8.h"

// Pastel 256-color backgrounds with dark text, in the spirit of tiktokenizer.
static const int palette[] = {153, 223, 194, 217, 189, 230};
#define NPAL (sizeof palette / sizeof *palette)

// Writes token bytes so that whitespace stays visible: '\n' as ↵ and a real newline,
// '\t' as →; invalid UTF-8 fragments (half a character) as \xNN.
static int put_visible(Buf *out, const uint8_t *p, size_t n) {
    int rc = 0;
    for (size_t i = 0; i < n && !rc;) {
        int l = utf8_seq_len(p + i, n - i);
        if (p[i] == '\n') rc = buf_append(out, "\xE2\x86\xB5\n", 4);
        else if (p[i] == '\t') rc = buf_append(out, "\xE2\x86\x92", 3);
        else if (l == 1 && p[i] < 0x20) rc = buf_appendf(out, "\\x%02x", p[i]);
        else if (l) {
            rc = buf_append(out, p + i, (size_t)l);
            i += (size_t)l;
            continue;
        } else rc = buf_appendf(out, "\\x%02x", p[i]);
        i++;
    }
    return rc;
}

int chat_view_tokens(const Tokenizer *t, const int32_t *ids, const int32_t *mask, size_t n,
                     bool color, Buf *out, Err *e) {
    int rc = 0;
    size_t targets = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len;
        const uint8_t *p = tok_token_bytes(t, ids[i], &len);
        if (!p) return ERR(e, ERR_ARG, "id %d at position %zu is not in the vocabulary", ids[i], i);
        bool target = mask && mask[i], special = tok_is_special(t, ids[i]);
        targets += target;
        if (color) {
            // Two shades of magenta so that neighbouring special tokens stay apart.
            if (special) rc = buf_appendf(out, "\x1b[1;97;48;5;%dm", i % 2 ? 127 : 163);
            else rc = buf_appendf(out, "\x1b[38;5;16;48;5;%dm", palette[i % NPAL]);
            if (!rc && target) rc = buf_append(out, "\x1b[4m", 4);
            if (!rc) rc = put_visible(out, p, len);
            if (!rc) rc = buf_append(out, "\x1b[0m", 4);
        } else {
            rc = buf_putc(out, target ? '{' : '[');
            if (!rc) rc = put_visible(out, p, len);
            if (!rc) rc = buf_putc(out, target ? '}' : ']');
        }
    }
    if (!rc) rc = buf_append(out, "\n\n", 2);
    for (size_t i = 0; i < n && !rc; i++) {
        bool target = mask && mask[i];
        if (color && target) rc = buf_appendf(out, "%s\x1b[1;32m%d\x1b[0m", i ? " " : "", ids[i]);
        else if (!color && target) rc = buf_appendf(out, "%s%d*", i ? " " : "", ids[i]);
        else rc = buf_appendf(out, "%s%d", i ? " " : "", ids[i]);
    }
    if (!rc)
        rc = buf_appendf(out, "\n\n%zu tokens, %zu with loss%s\n", n, targets,
                         color ? " (underlined / green)" : " (marked { } and *)");
    return rc ? ERR(e, ERR_NOMEM, "out of memory") : 0;
}
