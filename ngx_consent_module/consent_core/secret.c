/*
 * Copyright (C) ngx_consent_module authors
 *
 * A Redis password file's first line.
 */

#include <string.h>

#include "secret.h"


int
consent_secret_parse(const unsigned char *p, size_t len,
    const unsigned char **user, size_t *user_len,
    const unsigned char **password, size_t *password_len)
{
    const unsigned char  *end, *sp;

    end = memchr(p, '\n', len);
    if (end == NULL) {
        end = p + len;
    }

    while (end > p && (end[-1] == '\r' || end[-1] == ' ')) {
        end--;
    }

    *user = p;
    *user_len = 0;

    sp = memchr(p, ' ', end - p);

    if (sp) {
        if (sp == p) {
            return -1;
        }

        *user_len = sp - p;
        p = sp + 1;
    }

    *password = p;
    *password_len = end - p;

    return *password_len ? 0 : -1;
}
