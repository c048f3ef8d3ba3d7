// plot.c: a small SVG line chart (see plot.h) — enough for loss curves, no dependencies.
#include "train/plot.h"

#include <math.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/file.h"

enum { W = 800, H = 480, ML = 70, MR = 20, MT = 40, MB = 50 };  // size and margins (px)

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks.
static double nice_step(double span, int target) {
    double raw = span / target, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void esc(Buf *b, const char *s) {  // XML text
    for (; s && *s; s++) {
        if (*s == '<') buf_append(b, "&lt;", 4);
        else if (*s == '>') buf_append(b, "&gt;", 4);
        else if (*s == '&') buf_append(b, "&amp;", 5);
        else buf_putc(b, *s);
    }
}

int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
             const PlotSeries *s, int n_series, Err *e) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < n_series; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i])) continue;
            x0 = fmin(x0, s[k].x[i]), x1 = fmax(x1, s[k].x[i]);
            y0 = fmin(y0, s[k].y[i]), y1 = fmax(y1, s[k].y[i]);
        }
    if (!isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // nothing to draw yet: empty axes
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    double ys = nice_step(y1 - y0, 6), xs = nice_step(x1 - x0, 8);
    y0 = floor(y0 / ys) * ys, y1 = ceil(y1 / ys) * ys;
    double pw = W - ML - MR, ph = H - MT - MB;
#define PX(v) (ML + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (MT + (y1 - (v)) / (y1 - y0) * ph)

    Buf b = {0};
    buf_appendf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);
    buf_appendf(&b, "<text x=\"%d\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">", W / 2);
    esc(&b, title);
    buf_appendf(&b, "</text>\n");
    for (double v = y0; v <= y1 + ys * 1e-9; v += ys)  // horizontal grid + y ticks
        buf_appendf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                    ML, W - MR, PY(v), PY(v), ML - 6, PY(v) + 4, fabs(v) < ys * 1e-9 ? 0 : v);
    for (double v = ceil(x0 / xs) * xs; v <= x1 + xs * 1e-9; v += xs)  // x ticks
        buf_appendf(&b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                    PX(v), PX(v), H - MB, H - MB + 5, PX(v), H - MB + 18, v);
    buf_appendf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                "stroke=\"#333\"/>\n", ML, MT, pw, ph);
    buf_appendf(&b, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">", ML + pw / 2, H - 12);
    esc(&b, xlabel);
    buf_appendf(&b, "</text>\n<text x=\"16\" y=\"%.0f\" text-anchor=\"middle\" "
                "transform=\"rotate(-90 16 %.0f)\">", MT + ph / 2, MT + ph / 2);
    esc(&b, ylabel);
    buf_appendf(&b, "</text>\n");
    for (int k = 0; k < n_series; k++) {
        if (s[k].points) {
            for (size_t i = 0; i < s[k].n; i++)
                if (isfinite(s[k].y[i]))
                    buf_appendf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
                                PX(s[k].x[i]), PY(s[k].y[i]), s[k].color);
        } else {
            buf_appendf(&b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                        s[k].color);
            for (size_t i = 0; i < s[k].n; i++)
                if (isfinite(s[k].y[i]))
                    buf_appendf(&b, "%.1f,%.1f ", PX(s[k].x[i]), PY(s[k].y[i]));
            buf_appendf(&b, "\"/>\n");
        }
        int ly = MT + 16 + 18 * k;  // legend, top right
        buf_appendf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    "stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">", W - MR - 150, W - MR - 130,
                    ly - 4, ly - 4, s[k].color, W - MR - 124, ly);
        esc(&b, s[k].label);
        buf_appendf(&b, "</text>\n");
    }
    buf_appendf(&b, "</svg>\n");
#undef PX
#undef PY
    if (!b.data) return ERR(e, ERR_NOMEM, "%s: out of memory for the plot", path);
    int rc = file_write_atomic(path, b.data, b.len, e);
    buf_free(&b);
    return rc;
}
