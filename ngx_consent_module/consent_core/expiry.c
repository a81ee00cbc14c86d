/*
 * Copyright (C) ngx_consent_module authors
 *
 * Where a refused cookie may sit in the browser; see expiry.h.
 */

#include <string.h>

#include "expiry.h"


static const unsigned char  consent_root_path[] = "/";


int
consent_cookie_name_is_token(const unsigned char *p, size_t len)
{
    size_t  i;

    static const char  tchar_extra[] = "!#$%&'*+-.^_`|~";

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
            || (p[i] >= '0' && p[i] <= '9'))
        {
            continue;
        }

        if (p[i] == '\0' || strchr(tchar_extra, p[i]) == NULL) {
            return 0;
        }
    }

    return 1;
}


static int
consent_domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}


/* 1 when host is d or under it, on a label boundary, any case */
static int
consent_under(const unsigned char *host, size_t len, const unsigned char *d,
    size_t dlen)
{
    size_t  i, off;

    if (dlen == 0 || dlen > len) {
        return 0;
    }

    off = len - dlen;

    if (off && host[off - 1] != '.') {
        return 0;
    }

    for (i = 0; i < dlen; i++) {
        if ((host[off + i] | 0x20) != (d[i] | 0x20)) {
            return 0;
        }
    }

    return 1;
}


static size_t
consent_add_domain(consent_span_t *out, size_t n, size_t max,
    const unsigned char *p, size_t len)
{
    size_t  i;

    if (n >= max) {
        return n;
    }

    for (i = 0; i < n; i++) {
        if (out[i].len == len && out[i].data == p) {
            return n;
        }
    }

    out[n].data = p;
    out[n].len = len;

    return n + 1;
}


size_t
consent_expiry_domains(const unsigned char *host, size_t len,
    const consent_span_t *configured, size_t nconfigured,
    const consent_psl_t *psl, consent_span_t *out, size_t max)
{
    size_t                i, n, reg, dots, digits;
    const unsigned char  *p;

    if (len == 0 || len > 253 || max == 0) {
        return 0;
    }

    dots = 0;
    digits = 0;

    for (i = 0; i < len; i++) {
        if (!consent_domain_char(host[i])) {
            return 0;
        }

        if (host[i] == '.') {
            if (i == 0 || i == len - 1 || host[i - 1] == '.') {
                return 0;
            }

            dots++;

        } else if (host[i] >= '0' && host[i] <= '9') {
            digits++;
        }
    }

    /* a single label, or an IPv4 address: host-only cookies only */
    if (dots == 0 || digits + dots == len) {
        return 0;
    }

    n = 0;

    if (nconfigured) {
        for (i = 0; i < nconfigured; i++) {
            if (consent_under(host, len, configured[i].data,
                              configured[i].len))
            {
                p = host + len - configured[i].len;
                n = consent_add_domain(out, n, max, p, configured[i].len);
            }
        }

        if (n == 0) {
            /* not one of the operator's names: nothing but host-only */
            return 0;
        }

        return consent_add_domain(out, n, max, host, len);
    }

    if (psl) {
        reg = consent_psl_registrable(psl, host, len);

        if (reg == 0) {
            /* a public suffix itself: no browser keeps such a cookie */
            return 0;
        }

    } else {
        /* the last two labels */
        for (reg = len - 1; reg > 0 && host[reg - 1] != '.'; reg--) {
            /* void */
        }

        for (reg--; reg > 0 && host[reg - 1] != '.'; reg--) {
            /* void */
        }

        reg = len - reg;
    }

    n = consent_add_domain(out, 0, max, host + len - reg, reg);
    n = consent_add_domain(out, n, max, host, len);

    if (reg == len) {
        return n;
    }

    /* the parents between, from the registrable domain outwards */
    for (p = host + len - reg - 1; n < max && p > host; /* void */) {

        /* p is on the '.' before the current parent: step one label out */
        for (p--; p > host && p[-1] != '.'; p--) {
            /* void */
        }

        if (p == host) {
            break;
        }

        n = consent_add_domain(out, n, max, p, host + len - p);
        p--;
    }

    return n;
}


size_t
consent_expiry_paths(const unsigned char *path, size_t len, size_t depth,
    consent_span_t *out)
{
    size_t  i, n, levels;

    out[0].data = consent_root_path;
    out[0].len = 1;
    n = 1;

    if (len == 0 || path[0] != '/') {
        return n;
    }

    levels = 0;

    for (i = 1; i < len && levels < depth; i++) {

        if (path[i] <= ' ' || path[i] >= 0x7f || path[i] == ';'
            || path[i] == ',' || path[i] == '"' || path[i] == '\\'
            || path[i] == '?' || path[i] == '#')
        {
            break;
        }

        if (path[i] != '/' || path[i - 1] == '/') {
            continue;
        }

        /* "/dir" as a script's default path, "/dir/" as written */
        out[n].data = path;
        out[n].len = i;
        out[n + 1].data = path;
        out[n + 1].len = i + 1;
        n += 2;
        levels++;
    }

    return n;
}
