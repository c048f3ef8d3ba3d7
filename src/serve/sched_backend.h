// sched_backend.h: the server's own engine as a synth backend (src/synth/backend.h), so
// the labeling app can ask the served model for drafts while it serves the API: each
// reply is one more request to the scheduler, batched with whatever else runs.
#ifndef PT_SERVE_SCHED_BACKEND_H
#define PT_SERVE_SCHED_BACKEND_H

#include "serve/gen_request.h"
#include "serve/sched.h"
#include "synth/backend.h"

// s and m are borrowed and must outlive the backend. reply() may be called from any
// thread, several at once.
int sched_backend_open(SynthBackend **b, Sched *s, const ServeModel *m, Err *e);

#endif
