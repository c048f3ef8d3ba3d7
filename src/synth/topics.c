// topics.c: the topic list synth works through, and the id of each conversation (synth.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "synth/synth.h"
#include "util/file.h"
#include "util/hashmap.h"

static char *dup_trim(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t' || *s == '\r')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static int push(SynthTopics *t, char *topic, char *question, Err *e) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        SynthTopic *p = realloc(t->items, cap * sizeof *p);
        if (!p) {
            free(topic);
            free(question);
            return ERR(e, ERR_NOMEM, "out of memory");
        }
        t->items = p;
        t->cap = cap;
    }
    t->items[t->n++] = (SynthTopic){topic, question};
    return 0;
}

static int json_field(const cJSON *j, const char *name, char **out, const char *where, Err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) return ERR(e, ERR_FORMAT, "%s: %s: expected a string", where, name);
    if (!(*out = dup_trim(v->valuestring, strlen(v->valuestring)))) return ERR(e, ERR_NOMEM, "out of memory");
    if (!**out) {
        free(*out);
        *out = NULL;
    }
    return 0;
}

int synth_topics_load(const char *path, SynthTopics *t, Err *e) {
    memset(t, 0, sizeof *t);
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return -1;
    size_t k = 0;
    while (k < len && strchr(" \t\r\n", data[k])) k++;
    bool jsonl = k < len && data[k] == '{';
    size_t line = 0, pos = 0;
    int rc = 0;
    while (pos < len && !rc) {
        char *nl = memchr(data + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
        const char *s = data + pos;
        pos += n + 1;
        line++;
        char *txt = dup_trim(s, n);
        if (!txt) {
            rc = ERR(e, ERR_NOMEM, "out of memory");
            break;
        }
        if (!*txt || (!jsonl && txt[0] == '#')) {
            free(txt);
            continue;
        }
        char where[1200];
        snprintf(where, sizeof where, "%s:%zu", path, line);
        if (!jsonl) {
            size_t m = strlen(txt);
            rc = txt[m - 1] == '?' ? push(t, NULL, txt, e) : push(t, txt, NULL, e);
            continue;
        }
        cJSON *j = cJSON_Parse(txt);
        free(txt);
        char *topic = NULL, *question = NULL;
        if (!cJSON_IsObject(j)) {
            rc = ERR(e, ERR_FORMAT, "%s: expected a JSON object {\"topic\": …, \"question\": …}", where);
        } else if (!json_field(j, "topic", &topic, where, e) &&
                   !json_field(j, "question", &question, where, e)) {
            if (!topic && !question)
                rc = ERR(e, ERR_FORMAT, "%s: expected a non-empty \"topic\" or \"question\"", where);
            else {
                rc = push(t, topic, question, e);  // takes both, even on failure
                topic = question = NULL;
            }
        } else {
            rc = -1;
        }
        free(topic);
        free(question);
        cJSON_Delete(j);
    }
    free(data);
    if (!rc && t->n == 0) rc = ERR(e, ERR_FORMAT, "%s: no topics or questions", path);
    if (rc) synth_topics_free(t);
    return rc;
}

void synth_topics_free(SynthTopics *t) {
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].topic);
        free(t->items[i].question);
    }
    free(t->items);
    memset(t, 0, sizeof *t);
}

void synth_make_id(char *out, size_t n, uint64_t seed, size_t index, int k, const SynthTopic *t) {
    // The text's hash: an edited entry is a new conversation, an unchanged one keeps its id.
    const char *a = t->topic ? t->topic : "", *b = t->question ? t->question : "";
    uint64_t h = hash_bytes(a, strlen(a)) * 31 + hash_bytes(b, strlen(b));
    snprintf(out, n, "s%llu-t%zu-k%d-%08x", (unsigned long long)seed, index, k,
             (unsigned)(h ^ (h >> 32)));
}
