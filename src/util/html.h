// html.h: text into HTML — the one escaping function every page goes through.
#ifndef PT_HTML_H
#define PT_HTML_H

#include <stddef.h>

#include "util/buf.h"

// Appends s (n bytes) with & < > " ' as character references: safe in element content
// and in quoted attribute values alike. Bytes are copied otherwise unchanged, so text
// such as "<|im_end|>" or "<script>" reads back verbatim in the browser.
int html_escape_n(Buf *b, const char *s, size_t n);
int html_escape(Buf *b, const char *s);  // s NUL-terminated; NULL appends nothing

#endif
