/*
 * Copyright (C) ngx_consent_module authors
 *
 * JSON string escaping for what the consent API answers.
 */

#include <string.h>

#include "consent_core.h"


size_t
consent_json_escape(const unsigned char *p, size_t len, unsigned char *out,
    size_t outlen)
{
    size_t               n, k, i;
    unsigned char        e[6];
    static const char    hex[] = "0123456789abcdef";

    n = 0;

    for (i = 0; i < len; i++) {
        n += (p[i] == '"' || p[i] == '\\') ? 2
             : (p[i] < 0x20 || p[i] >= 0x7f) ? 6 : 1;
    }

    if (out == NULL || n > outlen) {
        return n;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            e[0] = '\\';
            e[1] = p[i];
            k = 2;

        } else if (p[i] < 0x20 || p[i] >= 0x7f) {
            /* control bytes, and bytes that may not be UTF-8 */
            e[0] = '\\';
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[p[i] >> 4];
            e[5] = hex[p[i] & 0xf];
            k = 6;

        } else {
            e[0] = p[i];
            k = 1;
        }

        memcpy(out + n, e, k);
        n += k;
    }

    return n;
}
