// schedule.h: the learning rate at each optimizer step — linear warmup, then constant,
// linear or cosine decay to a floor.
#ifndef PT_TRAIN_SCHEDULE_H
#define PT_TRAIN_SCHEDULE_H

typedef enum { SCHED_CONSTANT, SCHED_LINEAR, SCHED_COSINE } ScheduleKind;

typedef struct {
    ScheduleKind kind;
    double lr, min_lr;  // peak and floor
    int warmup;         // steps of linear warmup (step 0 gets lr / warmup)
    int total;          // optimizer steps in the run
} Schedule;

// "constant" | "linear" | "cosine"; -1 if unknown.
int schedule_parse(const char *name);
const char *schedule_name(ScheduleKind k);
// The lr for optimizer step `step` (0-based): (step + 1) / warmup * lr during warmup, then
// decaying from lr at step = warmup towards min_lr, reached at step = total (the
// first step after the run).
double schedule_lr(const Schedule *s, int step);

#endif
