// local.h: a model directory run by the engine (src/infer) as a synth backend.
#ifndef PT_SYNTH_LOCAL_H
#define PT_SYNTH_LOCAL_H

#include "infer/engine.h"
#include "synth/backend.h"

// Opens the engine on dir (one slot) and checks that the model has embeddings for its
// chat template's tokens (a base model without them cannot hold a conversation).
int local_backend_open(SynthBackend **b, const char *dir, const EngineOptions *eo, Err *e);

#endif
