// api_error.c: OpenAI-shaped error bodies (see api_error.h).
#include "serve/api_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int api_error(ApiError *a, int status, const char *param, const char *code, const char *fmt, ...) {
    a->status = status;
    a->code = code;
    snprintf(a->param, sizeof a->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    return -1;
}

// OpenAI's API says "invalid_request_error" for every client error (a bad key and an
// unknown model included: the code tells them apart) and "server_error" for its own.
static const char *error_type(int status) {
    return status >= 500 ? "server_error" : "invalid_request_error";
}

char *api_error_json(const ApiError *a) {
    cJSON *root = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(root, "error");
    if (!err) {
        cJSON_Delete(root);
        return NULL;
    }
    cJSON_AddStringToObject(err, "message", a->message);
    cJSON_AddStringToObject(err, "type", error_type(a->status));
    if (a->param[0]) cJSON_AddStringToObject(err, "param", a->param);
    else cJSON_AddNullToObject(err, "param");
    if (a->code) cJSON_AddStringToObject(err, "code", a->code);
    else cJSON_AddNullToObject(err, "code");
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}
