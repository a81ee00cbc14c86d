/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: output.  Strings from Redis may hold any bytes: in JSON
 * they are escaped the way the module's consent API escapes them (the
 * core's consent_json_escape()), in plain lines control bytes show as
 * \xHH so that nothing can rewrite the operator's terminal.
 */


#include <string.h>

#include "consentctl.h"


/* input bytes escaped at a time: each becomes at most 6 output bytes */
#define CTL_JSON_CHUNK              256


void
ctl_json_str(const void *p, size_t len)
{
    size_t                n, k;
    const unsigned char  *s;
    unsigned char         out[CTL_JSON_CHUNK * 6];

    s = p;

    putchar('"');

    while (len) {
        n = len < CTL_JSON_CHUNK ? len : CTL_JSON_CHUNK;
        k = consent_json_escape(s, n, out, sizeof(out));
        fwrite(out, 1, k, stdout);
        s += n;
        len -= n;
    }

    putchar('"');
}


void
ctl_json_cstr(const char *s)
{
    ctl_json_str(s, strlen(s));
}


/* how wide ctl_print_plain() prints it */

size_t
ctl_plain_len(const void *p, size_t len)
{
    size_t                i, n;
    const unsigned char  *s;

    s = p;
    n = len;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\') {
            n += 3;
        }
    }

    return n;
}


void
ctl_print_plain(const void *p, size_t len)
{
    size_t                i;
    const unsigned char  *s;

    s = p;

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\') {
            printf("\\x%02x", s[i]);

        } else {
            putchar(s[i]);
        }
    }
}


/*
 * What a server said, for a message: into buf (NUL-terminated, size at
 * least 8), control bytes, '\\' and bytes past ASCII as \xHH as
 * ctl_print_plain() shows them, cut with "..." when it does not fit.
 */

const char *
ctl_plain_buf(const void *p, size_t len, char *buf, size_t size)
{
    size_t                i, n;
    const unsigned char  *s;

    s = p;
    n = 0;

    for (i = 0; i < len; i++) {
        if (n + 4 + 4 > size) {
            memcpy(buf + n, "...", 4);
            return buf;
        }

        if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '\\') {
            snprintf(buf + n, 5, "\\x%02x", s[i]);
            n += 4;

        } else {
            buf[n++] = s[i];
        }
    }

    buf[n] = '\0';

    return buf;
}


/*
 * The next name of a purpose list, split on commas and spaces as the
 * module splits a record's "p": 1 and name/len set, or 0 at the end.
 */

int
ctl_purpose_next(const char **pos, const char *end, const char **name,
    size_t *len)
{
    int                   rc;
    const unsigned char  *p, *n;

    p = (const unsigned char *) *pos;

    rc = consent_record_purpose_next(&p, (const unsigned char *) end, &n,
                                     len);

    *pos = (const char *) p;
    *name = (const char *) n;

    return rc;
}
