/*
 * Copyright (C) ngx_consent_module authors
 *
 * Reading a whole input file (rules files, the cookie database CSV) with
 * a bound, and a message that names it when that fails.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consentctl.h"


char *
ctl_read_file(const char *path, const char *what, size_t max,
    const char *hint, size_t *len)
{
    FILE    *f;
    char    *buf, *nb;
    size_t   n, cap;

    f = fopen(path, "rb");
    if (f == NULL) {
        ctl_error("cannot open %s \"%s\": %s%s", what, path, strerror(errno),
                  hint);
        return NULL;
    }

    cap = 64 * 1024;
    n = 0;

    buf = malloc(cap);
    if (buf == NULL) {
        ctl_error("out of memory");
        fclose(f);
        return NULL;
    }

    for ( ;; ) {
        n += fread(buf + n, 1, cap - n, f);

        if (ferror(f)) {
            ctl_error("cannot read %s \"%s\": %s", what, path,
                      strerror(errno));
            goto failed;
        }

        if (n < cap) {
            break;
        }

        if (cap >= max) {
            ctl_error("%s \"%s\" is over %zu bytes", what, path, max);
            goto failed;
        }

        nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            ctl_error("out of memory");
            goto failed;
        }

        buf = nb;
        cap *= 2;
    }

    fclose(f);
    *len = n;

    return buf;

failed:

    fclose(f);
    free(buf);

    return NULL;
}
