// synth.c: the generation loop — topics × per-topic samples × turns, resumable, deduped
// (synth.h).
#include "synth/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "synth/out.h"
#include "util/hashmap.h"

const char *synth_default_user_prompt =
    "You are a curious person chatting with an AI assistant about this topic: {topic}. "
    "Ask one thing at a time, as a real user would: short, specific questions that follow "
    "up on what the assistant just said, dig deeper, or ask for an example. Write only your "
    "next message to the assistant, with no preamble and no quotes.";

static const char *kickoff = "Write your first message to the assistant.";

void synth_options_default(SynthOptions *o) {
    memset(o, 0, sizeof *o);
    o->turns = 3;
    o->per_topic = 1;
    o->user = o->assistant = (SynthSample){.temperature = 1, .top_p = 1, .max_tokens = 256};
    o->user_prompt = synth_default_user_prompt;
    o->near_threshold = 0.8;
    o->fsync_every = 16;
}

static uint64_t mix64(uint64_t x) {  // splitmix64
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t id_key(const char *id) { return hash_bytes(id, strlen(id)); }

// The text dedup compares: every message (full) and the assistant's messages (near).
typedef struct {
    Buf full, near;
} DedupText;

static int dedup_text_add(DedupText *d, const char *role, const char *content) {
    size_t n = strlen(content);
    if (buf_appendf(&d->full, "%s: ", role) || buf_append(&d->full, content, n) ||
        buf_putc(&d->full, '\n'))
        return -1;
    if (!strcmp(role, "assistant") && (buf_append(&d->near, content, n) || buf_putc(&d->near, '\n')))
        return -1;
    return 0;
}

static void dedup_text_free(DedupText *d) {
    buf_free(&d->full);
    buf_free(&d->near);
}

typedef struct {
    U64Set done;
    DedupIndex dedup;
    bool feed_dedup;  // this file's records go into the dedup index (the output's do)
} ResumeState;

// Each existing record: its id is done; an output record also enters the dedup index.
static int on_existing(void *ctx, const cJSON *obj, const char *line, size_t len,
                       const char *where, Err *e) {
    ResumeState *rs = ctx;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "synth_id");
    if (cJSON_IsString(id) && u64set_add(&rs->done, id_key(id->valuestring)) < 0)
        return ERR(e, ERR_NOMEM, "out of memory");
    if (!rs->feed_dedup) return 0;
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(obj, "messages"), *m;
    if (!cJSON_IsArray(msgs)) return 0;  // not a conversation: nothing to compare with
    DedupText dt = {0};
    int rc = 0;
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (cJSON_IsString(role) && cJSON_IsString(content) &&
            (rc = dedup_text_add(&dt, role->valuestring, content->valuestring)))
            break;
    }
    DedupVerdict v;
    if (!rc) rc = dedup_check_add(&rs->dedup, dt.full.data ? dt.full.data : "", dt.full.len,
                                  dt.near.data ? dt.near.data : "", dt.near.len, &v, NULL);
    dedup_text_free(&dt);
    return rc ? ERR(e, ERR_NOMEM, "%s: out of memory", where) : 0;
}

// "{topic}" in the user prompt becomes the topic.
static int user_system(const char *tmpl, const char *topic, Buf *out) {
    out->len = 0;
    const char *p = tmpl, *q;
    while ((q = strstr(p, "{topic}"))) {
        if (buf_append(out, p, (size_t)(q - p)) || buf_append(out, topic, strlen(topic))) return -1;
        p = q + 7;
    }
    return buf_append(out, p, strlen(p)) || buf_reserve(out, 0);
}

// One conversation. *verdict is "written" (the turns are in c), "empty" or "too_long".
static int converse(const SynthOptions *o, const SynthTopic *t, uint64_t cseed, SynthBackend *user,
                    SynthBackend *asst, Conversation *c, const char **verdict, Err *e) {
    Conversation uv = {0};  // the user model's view: roles swapped
    Buf sys = {0}, reply = {0};
    int rc = -1, done = 0;  // done: complete turns in c
    *verdict = "written";
    const char *topic = t->topic ? t->topic : t->question;
    if (user_system(o->user_prompt, topic, &sys) || conv_add(&uv, ROLE_SYSTEM, sys.data, 0, e) ||
        conv_add(&uv, ROLE_USER, kickoff, 0, e))
        goto done;
    if (o->assistant_system && *o->assistant_system && conv_add(c, ROLE_SYSTEM, o->assistant_system, 0, e))
        goto done;
    for (int turn = 0; turn < o->turns; turn++) {
        // The user's message: the seed question first, else the user model's.
        if (turn == 0 && t->question) {
            reply.len = 0;
            if (buf_append(&reply, t->question, strlen(t->question))) goto oom;
        } else {
            SynthSample s = o->user;
            s.seed = mix64(cseed ^ (uint64_t)(2 * turn));
            int r = user->reply(user, &uv, &s, &reply, e);
            if (r < 0) goto done;
            if (r == 1) {  // the user model's context is full: end here
                if (!done) *verdict = "too_long";
                break;
            }
            if (synth_reply_clean(&reply)) goto oom;
            if (!reply.len) break;
        }
        if (conv_add(c, ROLE_USER, reply.data, 0, e) || conv_add(&uv, ROLE_ASSISTANT, reply.data, 0, e))
            goto done;
        SynthSample s = o->assistant;
        s.seed = mix64(cseed ^ (uint64_t)(2 * turn + 1));
        int r = asst->reply(asst, c, &s, &reply, e);
        if (r < 0) goto done;
        if (r == 0 && synth_reply_clean(&reply)) goto oom;
        if (r == 1 || !reply.len) {  // no answer: the question goes, the turns before stay
            free(c->msgs[--c->n].content);
            if (r == 1 && !done) *verdict = "too_long";
            break;
        }
        if (conv_add(c, ROLE_ASSISTANT, reply.data, 1, e) || conv_add(&uv, ROLE_USER, reply.data, 0, e))
            goto done;
        done++;
    }
    if (!done && !strcmp(*verdict, "written")) *verdict = "empty";
    rc = 0;
    goto done;
oom:
    ERR(e, ERR_NOMEM, "out of memory");
done:
    conv_free(&uv);
    buf_free(&sys);
    buf_free(&reply);
    return rc;
}

static char *record_json(const char *id, const SynthTopic *t, const Conversation *c,
                         const char *reason, double sim) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "synth_id", id);
    if (t->topic) cJSON_AddStringToObject(root, "topic", t->topic);
    if (reason) {
        cJSON_AddStringToObject(root, "reason", reason);
        if (!strcmp(reason, "near_dup")) cJSON_AddNumberToObject(root, "similarity", sim);
    }
    char *s = !conv_to_json(root, c, false) ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

int synth_run(const SynthOptions *o, const SynthTopics *topics, SynthBackend *user,
              SynthBackend *assistant, const char *out_path, const char *dropped_path,
              const SynthHooks *hooks, SynthStats *st, Err *e) {
    memset(st, 0, sizeof *st);
    if (o->turns < 1 || o->per_topic < 1) return ERR(e, ERR_ARG, "turns and per-topic must be >= 1");
    ResumeState rs = {0};
    dedup_init(&rs.dedup, o->near_threshold);
    SynthOut out = {.fd = -1}, dropped = {.fd = -1};
    int rc = -1;
    rs.feed_dedup = true;
    if (synth_out_open(&out, out_path, on_existing, &rs, e)) goto done;
    st->existing = out.n_existing;
    st->torn_bytes = out.torn_bytes;
    rs.feed_dedup = false;
    if (synth_out_open(&dropped, dropped_path, on_existing, &rs, e)) goto done;
    st->torn_bytes += dropped.torn_bytes;
    out.fsync_every = dropped.fsync_every = o->fsync_every > 0 ? o->fsync_every : 16;
    for (size_t i = 0; i < topics->n; i++) {
        const SynthTopic *t = &topics->items[i];
        for (int k = 0; k < o->per_topic; k++) {
            if (o->limit > 0 && (long)st->written >= o->limit) {
                rc = 0;
                goto done;
            }
            char id[96];
            synth_make_id(id, sizeof id, o->seed, i, k, t);
            if (u64set_has(&rs.done, id_key(id))) {
                st->done_before++;
                continue;
            }
            Conversation c = {0};
            const char *verdict;
            double sim = 0;
            uint64_t cseed = mix64(o->seed ^ id_key(id));
            if (converse(o, t, cseed, user, assistant, &c, &verdict, e)) {
                conv_free(&c);
                err_prefix(e, "%s: ", id);
                goto done;
            }
            if (!strcmp(verdict, "written")) {
                DedupText dt = {0};
                DedupVerdict v = DEDUP_NEW;
                int bad = 0;
                for (int m = 0; m < c.n && !bad; m++)
                    bad = dedup_text_add(&dt, chat_role_name(c.msgs[m].role), c.msgs[m].content);
                if (!bad) bad = dedup_check_add(&rs.dedup, dt.full.data, dt.full.len,
                                                dt.near.data ? dt.near.data : "", dt.near.len, &v, &sim);
                dedup_text_free(&dt);
                if (bad) {
                    conv_free(&c);
                    ERR(e, ERR_NOMEM, "out of memory");
                    goto done;
                }
                if (v == DEDUP_EXACT) verdict = "exact_dup";
                if (v == DEDUP_NEAR) verdict = "near_dup";
            }
            bool keep = !strcmp(verdict, "written");
            char *json = record_json(id, t, &c, keep ? NULL : verdict, sim);
            int w = json ? synth_out_write(keep ? &out : &dropped, json, strlen(json), e)
                         : ERR(e, ERR_NOMEM, "out of memory");
            free(json);
            if (!w && keep && hooks && hooks->on_written) w = hooks->on_written(hooks->ctx, id, t, &c, e);
            if (!w) {
                u64set_add(&rs.done, id_key(id));
                if (keep) {
                    st->written++;
                    for (int m = 0; m < c.n; m++) st->turns_written += c.msgs[m].role == ROLE_ASSISTANT;
                } else if (!strcmp(verdict, "exact_dup")) {
                    st->exact_dup++;
                } else if (!strcmp(verdict, "near_dup")) {
                    st->near_dup++;
                } else if (!strcmp(verdict, "empty")) {
                    st->empty++;
                } else {
                    st->too_long++;
                }
            }
            conv_free(&c);
            if (w) goto done;
            if (hooks && hooks->progress) hooks->progress(hooks->ctx, st, id, verdict, sim);
        }
    }
    rc = 0;
done:
    if (synth_out_close(&out, rc ? NULL : e)) rc = -1;
    if (synth_out_close(&dropped, rc ? NULL : e)) rc = -1;
    u64set_free(&rs.done);
    dedup_free(&rs.dedup);
    return rc;
}
