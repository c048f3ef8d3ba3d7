// api_error.h: errors as the OpenAI API reports them, so clients (the openai SDKs) raise
// their usual exceptions: an HTTP status and
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "messages",
//              "code": "context_length_exceeded"}}
// type follows the status as OpenAI's does: "invalid_request_error" for 4xx (the code
// tells a bad key from an unknown model), "server_error" for 5xx.
#ifndef PT_SERVE_API_ERROR_H
#define PT_SERVE_API_ERROR_H

typedef struct {
    int status;        // HTTP status; 0 = no error
    const char *code;  // static, or NULL: "invalid_api_key", "model_not_found", …
    char param[64];    // the request field at fault, or "" for null
    char message[768];
} ApiError;

// Sets a (status, param may be NULL, code may be NULL) and returns -1.
int api_error(ApiError *a, int status, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
// The error's JSON body (malloc'd; NULL when out of memory).
char *api_error_json(const ApiError *a);

#endif
