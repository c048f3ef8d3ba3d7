// plot.h: the loss curve as an SVG picture, written beside the metrics.
#ifndef PT_TRAIN_PLOT_H
#define PT_TRAIN_PLOT_H

#include <stddef.h>

#include "util/err.h"

typedef struct {
    const double *x, *y;  // (n) steps and values
    size_t n;
    const char *label;
    const char *color;    // an SVG color, e.g. "#1f77b4"
    int points;           // 1: draw markers (sparse series such as validation), 0: a line
} PlotSeries;

// Writes an SVG line chart of the series to path (atomically): linear axes with rounded
// ticks, a legend, the title on top. Non-finite values are skipped.
int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
             const PlotSeries *s, int n_series, Err *e);

#endif
