/*
 * Copyright (C) ngx_consent_module authors
 *
 * Set-Cookie response headers, read the way browsers read them (RFC 6265
 * section 5.2), so that what the module drops is what a browser would have
 * stored.  The header itself is never rewritten: a kept Set-Cookie goes
 * out byte-for-byte.
 */

#include <string.h>

#include "consent_core.h"


#define consent_ows(c)  ((c) == ' ' || (c) == '\t')


static int
consent_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


static int
consent_attr_is(const unsigned char *p, size_t len, const char *name)
{
    size_t  i;

    if (strlen(name) != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (consent_lower(p[i]) != (unsigned char) name[i]) {
            return 0;
        }
    }

    return 1;
}


static void
consent_trim(const unsigned char **p, const unsigned char **end)
{
    while (*p < *end && consent_ows(**p)) {
        (*p)++;
    }

    while (*end > *p && consent_ows((*end)[-1])) {
        (*end)--;
    }
}


void
consent_set_cookie_parse(const unsigned char *p, size_t len,
    consent_set_cookie_t *sc)
{
    const unsigned char  *end, *pair_end, *eq, *a, *a_end, *v, *n_end;

    memset(sc, 0, sizeof(consent_set_cookie_t));

    end = p + len;

    sc->has_ctl = memchr(p, '\0', len) != NULL
                  || memchr(p, '\r', len) != NULL
                  || memchr(p, '\n', len) != NULL;

    pair_end = memchr(p, ';', len);
    if (pair_end == NULL) {
        pair_end = end;
    }

    eq = memchr(p, '=', (size_t) (pair_end - p));

    if (eq == NULL) {
        /* no '=': an empty name and this value */
        a = p;
        a_end = pair_end;
        consent_trim(&a, &a_end);
        sc->name = a;
        sc->value = a;
        sc->value_len = (size_t) (a_end - a);

    } else {
        sc->has_eq = 1;

        a = p;
        n_end = eq;
        consent_trim(&a, &n_end);
        sc->name = a;
        sc->name_len = (size_t) (n_end - a);

        v = eq + 1;
        a_end = pair_end;
        consent_trim(&v, &a_end);
        sc->value = v;
        sc->value_len = (size_t) (a_end - v);
    }

    p = pair_end;

    while (p < end) {
        p++;                                    /* the ';' */

        a = p;
        a_end = memchr(p, ';', (size_t) (end - p));
        if (a_end == NULL) {
            a_end = end;
        }

        p = a_end;

        eq = memchr(a, '=', (size_t) (a_end - a));
        n_end = eq ? eq : a_end;
        v = eq ? eq + 1 : a_end;

        consent_trim(&a, &n_end);
        consent_trim(&v, &a_end);

        if (consent_attr_is(a, (size_t) (n_end - a), "domain")) {
            /* RFC 6265 5.2.3: a leading dot is ignored, empty means none */
            if (v < a_end && *v == '.') {
                v++;
            }

            sc->domain = v;
            sc->domain_len = (size_t) (a_end - v);

        } else if (consent_attr_is(a, (size_t) (n_end - a), "path")) {
            sc->path = v;
            sc->path_len = (size_t) (a_end - v);

        } else if (consent_attr_is(a, (size_t) (n_end - a), "secure")) {
            sc->flags |= CONSENT_SC_SECURE;

        } else if (consent_attr_is(a, (size_t) (n_end - a), "httponly")) {
            sc->flags |= CONSENT_SC_HTTPONLY;

        } else if (consent_attr_is(a, (size_t) (n_end - a), "partitioned")) {
            sc->flags |= CONSENT_SC_PARTITIONED;
        }
    }
}


int
consent_domain_match(const unsigned char *host, size_t host_len,
    const unsigned char *domain, size_t domain_len)
{
    size_t  i, off;

    if (host_len && host[0] == '.') {
        host++;
        host_len--;
    }

    if (domain_len && domain[0] == '.') {
        domain++;
        domain_len--;
    }

    if (domain_len == 0 || host_len < domain_len) {
        return 0;
    }

    off = host_len - domain_len;

    if (off && host[off - 1] != '.') {
        return 0;
    }

    for (i = 0; i < domain_len; i++) {
        if (consent_lower(host[off + i]) != consent_lower(domain[i])) {
            return 0;
        }
    }

    return 1;
}
