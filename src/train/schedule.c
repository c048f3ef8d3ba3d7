// schedule.c: warmup then decay (see schedule.h). Computed in double from the step alone,
// so a resumed run gets the same rates.
#include "train/schedule.h"

#include <math.h>
#include <string.h>

int schedule_parse(const char *name) {
    if (!strcmp(name, "constant")) return SCHED_CONSTANT;
    if (!strcmp(name, "linear")) return SCHED_LINEAR;
    if (!strcmp(name, "cosine")) return SCHED_COSINE;
    return -1;
}

const char *schedule_name(ScheduleKind k) {
    return k == SCHED_LINEAR ? "linear" : k == SCHED_COSINE ? "cosine" : "constant";
}

double schedule_lr(const Schedule *s, int step) {
    if (step < s->warmup) return s->lr * (step + 1) / s->warmup;
    if (s->kind == SCHED_CONSTANT) return s->lr;
    // From lr at step = warmup towards min_lr at step = total (one past the last step,
    // so that the last step still learns something).
    int span = s->total - s->warmup;
    double x = span > 0 ? (double)(step - s->warmup) / span : 1.0;  // 0 .. 1
    if (x > 1.0) x = 1.0;
    double f = s->kind == SCHED_LINEAR ? 1.0 - x : 0.5 * (1.0 + cos(M_PI * x));
    return s->min_lr + (s->lr - s->min_lr) * f;
}
