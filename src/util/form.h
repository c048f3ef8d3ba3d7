// form.h: HTML form bodies (application/x-www-form-urlencoded) into name/value pairs.
#ifndef PT_FORM_H
#define PT_FORM_H

#include <stddef.h>

#include "util/err.h"

typedef struct {
    char *name, *value;  // decoded, NUL-terminated, valid UTF-8
} FormField;

typedef struct {
    FormField *f;
    int n;
} Form;

// Decodes body: fields split at '&', name and value at the first '=', '+' is a space and
// %XX a byte. A bad escape, a NUL byte or invalid UTF-8 in a decoded name or value is an
// error naming the field. At most 4096 fields.
int form_parse(Form *f, const char *body, size_t len, Err *e);
// The value of the first field called name; NULL if none.
const char *form_get(const Form *f, const char *name);
void form_free(Form *f);

#endif
