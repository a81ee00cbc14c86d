/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: where refused cookies are expired.  The input is a
 * Host, a NUL, a request path (and optionally a NUL and configured
 * domains separated by ' ').  The answers are bounded whatever the input:
 * at most max Domain= values, each a suffix of the host on a label
 * boundary (or a configured domain the host is under), only safe bytes;
 * at most 1 + 2 * depth paths, each a prefix of the path (or "/"), with no
 * byte that could end or split a Set-Cookie header.
 */

#include "expiry.h"
#include "fuzz.h"


static int
fuzz_safe(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] <= ' ' || p[i] >= 0x7f || p[i] == ';' || p[i] == ',') {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           i, n, nc, hlen, plen, clen;
    unsigned char   *p, *host, *path, *conf, *z, *a, *b;
    consent_span_t   out[4], paths[1 + 2 * 5], c[4];

    p = fuzz_copy(data, size);
    host = p;
    z = memchr(p, '\0', size);
    hlen = z ? (size_t) (z - p) : size;
    path = z ? z + 1 : p + size;
    z = z ? memchr(path, '\0', p + size - path) : NULL;
    plen = z ? (size_t) (z - path) : (size_t) (p + size - path);
    conf = z ? z + 1 : p + size;
    clen = p + size - conf;

    nc = 0;

    for (a = conf; a < conf + clen && nc < 4; a = b + 1) {
        b = memchr(a, ' ', conf + clen - a);
        b = b ? b : conf + clen;

        if (b > a) {
            c[nc].data = a;
            c[nc].len = b - a;
            nc++;
        }
    }

    n = consent_expiry_domains(host, hlen, c, nc, NULL, out, 4);
    FUZZ_ASSERT(n <= 4);

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(out[i].len > 0 && out[i].len <= hlen);
        FUZZ_ASSERT(fuzz_safe(out[i].data, out[i].len));
        /* a suffix of the host on a label boundary */
        FUZZ_ASSERT(memcmp(host + hlen - out[i].len, out[i].data,
                           out[i].len) == 0
                    || nc > 0);
        FUZZ_ASSERT(out[i].len == hlen
                    || host[hlen - out[i].len - 1] == '.');
    }

    n = consent_expiry_paths(path, plen, 5, paths);
    FUZZ_ASSERT(n >= 1 && n <= 1 + 2 * 5);
    FUZZ_ASSERT(paths[0].len == 1 && paths[0].data[0] == '/');

    for (i = 1; i < n; i++) {
        FUZZ_ASSERT(paths[i].data == path && paths[i].len <= plen);
        FUZZ_ASSERT(fuzz_safe(paths[i].data, paths[i].len));
    }

    (void) consent_cookie_name_is_token(p, size);

    free(p);

    return 0;
}
