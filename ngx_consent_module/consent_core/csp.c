/*
 * Copyright (C) ngx_consent_module authors
 *
 * Content-Security-Policy rewriting (csp.h), after CSP Level 3's "parse
 * a serialized CSP": policies split on ',', directives on ';', a
 * directive's name and its source expressions on ASCII whitespace.
 */

#include <string.h>

#include "csp.h"


/* more source expressions in one directive are left as they are */
#define CONSENT_CSP_SOURCES_MAX     512

#define consent_csp_ws(c)                                                    \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\f' || (c) == '\r')

/* a source expression's verdict */
#define CONSENT_CSP_SRC_KEEP        0
#define CONSENT_CSP_SRC_DROP        1
#define CONSENT_CSP_SRC_OPEN        2    /* lets any refused vendor in */


typedef struct {
    const unsigned char       *data;
    size_t                     len;
} consent_csp_token_t;


static size_t consent_csp_directive(const unsigned char *p,
    const unsigned char *end, consent_csp_host_pt host, void *data,
    unsigned char *out, consent_csp_result_t *res);
static int consent_csp_source(const unsigned char *p, size_t len,
    consent_csp_host_pt host, void *data);
static int consent_csp_caseeq(const unsigned char *p, size_t len,
    const char *s);


static const char  *consent_csp_fetch[] = {
    "child-src", "connect-src", "default-src", "fenced-frame-src",
    "font-src", "frame-src", "img-src", "manifest-src", "media-src",
    "object-src", "prefetch-src", "script-src", "script-src-attr",
    "script-src-elem", "style-src", "style-src-attr", "style-src-elem",
    "worker-src", NULL
};


size_t
consent_csp_rewrite(const unsigned char *p, size_t len,
    consent_csp_host_pt host, void *data, unsigned char *out,
    consent_csp_result_t *res)
{
    unsigned char        *o;
    const unsigned char  *end, *seg;

    memset(res, 0, sizeof(consent_csp_result_t));

    o = out;
    end = p + len;

    while (p < end) {
        seg = p;

        /* a directive ends at ';', and a policy at ','; both are kept */
        while (p < end && *p != ';' && *p != ',') {
            p++;
        }

        o += consent_csp_directive(seg, p, host, data, o, res);

        if (p < end) {
            *o++ = *p++;
        }
    }

    return (size_t) (o - out);
}


int
consent_csp_fetch_directive(const unsigned char *name, size_t len)
{
    unsigned  i;

    for (i = 0; consent_csp_fetch[i]; i++) {
        if (consent_csp_caseeq(name, len, consent_csp_fetch[i])) {
            return 1;
        }
    }

    return 0;
}


/* one directive's bytes, between separators, rewritten into out */

static size_t
consent_csp_directive(const unsigned char *p, const unsigned char *end,
    consent_csp_host_pt host, void *data, unsigned char *out,
    consent_csp_result_t *res)
{
    int                   verdict, open;
    size_t                n, i, kept, dropped;
    unsigned char        *o;
    const unsigned char  *q, *s, *name, *name_end, *last;
    consent_csp_token_t   src[CONSENT_CSP_SOURCES_MAX];
    unsigned char         drop[CONSENT_CSP_SOURCES_MAX];

    q = p;

    while (q < end && consent_csp_ws(*q)) {
        q++;
    }

    name = q;

    while (q < end && !consent_csp_ws(*q)) {
        q++;
    }

    name_end = q;

    if (!consent_csp_fetch_directive(name, (size_t) (name_end - name))) {
        goto verbatim;
    }

    /* the source expressions, each judged */

    n = 0;
    dropped = 0;
    open = 0;
    last = name_end;

    for ( ;; ) {
        while (q < end && consent_csp_ws(*q)) {
            q++;
        }

        if (q == end) {
            break;
        }

        s = q;

        while (q < end && !consent_csp_ws(*q)) {
            q++;
        }

        last = q;

        verdict = consent_csp_source(s, (size_t) (q - s), host, data);

        /* more than can be rewritten are still judged, to be counted */
        if (n < CONSENT_CSP_SOURCES_MAX) {
            src[n].data = s;
            src[n].len = (size_t) (q - s);
            drop[n] = (verdict == CONSENT_CSP_SRC_DROP);
        }

        dropped += (verdict == CONSENT_CSP_SRC_DROP);
        open |= (verdict == CONSENT_CSP_SRC_OPEN);
        n++;
    }

    if (open || (dropped && n > CONSENT_CSP_SOURCES_MAX)) {
        res->unenforceable++;
        goto verbatim;
    }

    if (dropped == 0) {
        goto verbatim;
    }

    res->dropped += (unsigned) dropped;

    /* leading blanks, the name, the sources kept, trailing blanks */

    o = out;
    o = (unsigned char *) memcpy(o, p, (size_t) (name_end - p))
        + (name_end - p);
    kept = 0;

    for (i = 0; i < n; i++) {
        if (drop[i]) {
            continue;
        }

        *o++ = ' ';
        o = (unsigned char *) memcpy(o, src[i].data, src[i].len)
            + src[i].len;
        kept++;
    }

    if (kept == 0) {
        o = (unsigned char *) memcpy(o, " 'none'", 7) + 7;
    }

    o = (unsigned char *) memcpy(o, last, (size_t) (end - last))
        + (end - last);

    return (size_t) (o - out);

verbatim:

    memcpy(out, p, (size_t) (end - p));

    return (size_t) (end - p);
}


/*
 * One source expression: keywords, nonces and hashes are kept, except
 * 'strict-dynamic'; '*' and network schemes open the directive; a host
 * source ([scheme://]host[:port][/path]) is the caller's to judge.
 */

static int
consent_csp_source(const unsigned char *p, size_t len,
    consent_csp_host_pt host, void *data)
{
    int                   wildcard, rc;
    size_t                i, hlen;
    const unsigned char  *h, *end;
    unsigned char         lc[CONSENT_CSP_HOST_MAX];

    if (len && p[0] == '\'') {
        return consent_csp_caseeq(p, len, "'strict-dynamic'")
               ? CONSENT_CSP_SRC_OPEN : CONSENT_CSP_SRC_KEEP;
    }

    if (len == 1 && p[0] == '*') {
        return CONSENT_CSP_SRC_OPEN;
    }

    end = p + len;

    /* a scheme source, "https:", or a host source's scheme */

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (i && ((p[i] >= '0' && p[i] <= '9') || p[i] == '+'
                        || p[i] == '-' || p[i] == '.'))))
        {
            break;
        }
    }

    h = p;

    if (i && i < len && p[i] == ':') {

        if (i + 1 == len) {
            /* a whole scheme: only the network ones reach vendors */
            return (consent_csp_caseeq(p, i, "http")
                    || consent_csp_caseeq(p, i, "https")
                    || consent_csp_caseeq(p, i, "ws")
                    || consent_csp_caseeq(p, i, "wss"))
                   ? CONSENT_CSP_SRC_OPEN : CONSENT_CSP_SRC_KEEP;
        }

        if (len - i >= 3 && p[i + 1] == '/' && p[i + 2] == '/') {
            h = p + i + 3;

        } else if (!((p[i + 1] >= '0' && p[i + 1] <= '9') || p[i + 1] == '*'))
        {
            /* not "host:port" without a scheme ("criteo.com:443") */
            return CONSENT_CSP_SRC_KEEP;
        }
    }

    wildcard = 0;

    if (end - h >= 1 && h[0] == '*') {
        if (end - h == 1 || h[1] == ':' || h[1] == '/') {
            /* a scheme and a lone star: any host */
            return CONSENT_CSP_SRC_OPEN;
        }

        if (h[1] != '.') {
            return CONSENT_CSP_SRC_KEEP;
        }

        wildcard = 1;
        h += 2;
    }

    for (hlen = 0; h + hlen < end && h[hlen] != ':' && h[hlen] != '/';
         hlen++)
    {
        if (hlen == CONSENT_CSP_HOST_MAX) {
            return CONSENT_CSP_SRC_KEEP;
        }

        lc[hlen] = h[hlen];

        if (lc[hlen] >= 'A' && lc[hlen] <= 'Z') {
            lc[hlen] |= 0x20;

        } else if (!((lc[hlen] >= 'a' && lc[hlen] <= 'z')
                     || (lc[hlen] >= '0' && lc[hlen] <= '9')
                     || lc[hlen] == '-' || lc[hlen] == '.'))
        {
            /* not a host browsers would match: nothing to take out */
            return CONSENT_CSP_SRC_KEEP;
        }
    }

    if (hlen == 0) {
        return CONSENT_CSP_SRC_KEEP;
    }

    rc = host(data, lc, hlen, wildcard);

    return (rc == CONSENT_CSP_DROP) ? CONSENT_CSP_SRC_DROP
           : (rc == CONSENT_CSP_COVERS) ? CONSENT_CSP_SRC_OPEN
           : CONSENT_CSP_SRC_KEEP;
}


/* 1 when a is b or under it ("x.b"): both lower case */

static int
consent_csp_under(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
    if (alen == blen) {
        return memcmp(a, b, blen) == 0;
    }

    return alen > blen && a[alen - blen - 1] == '.'
           && memcmp(a + alen - blen, b, blen) == 0;
}


int
consent_csp_host_match(const unsigned char *host, size_t len, int wildcard,
    const unsigned char *domain, size_t dlen)
{
    if (len == 0 || dlen == 0) {
        return CONSENT_CSP_KEEP;
    }

    if (consent_csp_under(host, len, domain, dlen)) {
        /* "*.criteo.com" matches only hosts under criteo.com too */
        return CONSENT_CSP_DROP;
    }

    if (wildcard && dlen > len && domain[dlen - len - 1] == '.'
        && memcmp(domain + dlen - len, host, len) == 0)
    {
        return CONSENT_CSP_COVERS;
    }

    return CONSENT_CSP_KEEP;
}


/* p is s, ASCII case ignored */

static int
consent_csp_caseeq(const unsigned char *p, size_t len, const char *s)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (s[i] == '\0' || c != (unsigned char) s[i]) {
            return 0;
        }
    }

    return s[len] == '\0';
}
