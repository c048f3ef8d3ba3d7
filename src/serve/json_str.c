// json_str.c: JSON string literals of byte ranges (see json_str.h).
#include "serve/json_str.h"

#include "util/json.h"

cJSON *json_string_n(const char *s, size_t n) {
    Buf b = {0};
    cJSON *item = json_escape(&b, s, n) == 0 ? cJSON_CreateRaw(b.data) : NULL;
    buf_free(&b);
    return item;
}
