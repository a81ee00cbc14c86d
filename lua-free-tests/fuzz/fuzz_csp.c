/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: Content-Security-Policy rewriting.  The first byte
 * picks the refused domains (a bit for each of fuzz_domains), the rest is
 * the header value.  Promised: the output fits CONSENT_CSP_OUT_SIZE (an
 * exactly sized buffer, so ASan sees a byte more); a judge that keeps
 * every host changes nothing; each directive is rewritten on its own, so
 * the ';' and ',' stay where they were and a directive alone rewrites as
 * it does among others; other directives and untouched ones keep their
 * bytes; a rewritten one keeps its blanks, name and the order of its
 * sources, and loses as many as it says; no refused host source is left
 * in a fetch directive not counted unenforceable, and only a directive
 * with '*', a scheme, 'strict-dynamic' or too many sources is counted;
 * rewriting the output again changes nothing.
 */

#include "csp.h"
#include "fuzz.h"


#define fuzz_ws(c)                                                           \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\f' || (c) == '\r')

#define fuzz_sep(c)  ((c) == ';' || (c) == ',')

#define fuzz_lower(c)  (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))

#define fuzz_alpha(c)                                                        \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))

#define fuzz_digit(c)  ((c) >= '0' && (c) <= '9')

/* the core's: more sources in one directive are left as they are */
#define FUZZ_SOURCES_MAX  512


static const char  *fuzz_domains[] = {
    "criteo.com", "doubleclick.net", "google-analytics.com",
    "facebook.net", "ads.example.org", "a", "com", "x.y"
};

#define FUZZ_NDOMAINS  (sizeof(fuzz_domains) / sizeof(fuzz_domains[0]))


static unsigned  fuzz_refused;      /* a bit for each of fuzz_domains */
static int       fuzz_keep_all;


typedef struct {
    const unsigned char  *data;
    size_t                len;
} fuzz_span_t;


/* what the core asks about is a host, lower case, at most 253 bytes */

static int
fuzz_judge(void *data, const unsigned char *host, size_t len, int wildcard)
{
    int       rc, covers;
    size_t    i;
    unsigned  k;

    FUZZ_ASSERT(len >= 1 && len <= 253);
    FUZZ_ASSERT(wildcard == 0 || wildcard == 1);

    for (i = 0; i < len; i++) {
        FUZZ_ASSERT((host[i] >= 'a' && host[i] <= 'z') || fuzz_digit(host[i])
                    || host[i] == '-' || host[i] == '.');
    }

    if (fuzz_keep_all) {
        return CONSENT_CSP_KEEP;
    }

    covers = 0;

    for (k = 0; k < FUZZ_NDOMAINS; k++) {
        if (!(fuzz_refused & (1u << k))) {
            continue;
        }

        rc = consent_csp_host_match(host, len, wildcard,
                                    (const unsigned char *) fuzz_domains[k],
                                    strlen(fuzz_domains[k]));

        FUZZ_ASSERT(rc == CONSENT_CSP_KEEP || rc == CONSENT_CSP_DROP
                    || rc == CONSENT_CSP_COVERS);
        FUZZ_ASSERT(rc != CONSENT_CSP_COVERS || wildcard);

        if (rc == CONSENT_CSP_DROP) {
            return CONSENT_CSP_DROP;
        }

        covers |= (rc == CONSENT_CSP_COVERS);
    }

    return covers ? CONSENT_CSP_COVERS : CONSENT_CSP_KEEP;
}


/* p rewritten into an exactly sized heap buffer, which the caller frees */

static unsigned char *
fuzz_rewrite(const unsigned char *p, size_t len, size_t *n,
    consent_csp_result_t *res)
{
    unsigned char  *in, *out;

    in = fuzz_copy(p, len);
    out = malloc(CONSENT_CSP_OUT_SIZE(len));
    FUZZ_ASSERT(out != NULL);

    *n = consent_csp_rewrite(in, len, fuzz_judge, NULL, out, res);

    FUZZ_ASSERT(*n <= CONSENT_CSP_OUT_SIZE(len));

    free(in);

    return out;
}


/* the blank-separated tokens of a directive, the name first */

static size_t
fuzz_tokens(const unsigned char *p, size_t len, fuzz_span_t *t)
{
    size_t  i, n, start;

    n = 0;
    i = 0;

    for ( ;; ) {
        while (i < len && fuzz_ws(p[i])) {
            i++;
        }

        if (i == len) {
            return n;
        }

        start = i;

        while (i < len && !fuzz_ws(p[i])) {
            i++;
        }

        t[n].data = p + start;
        t[n].len = i - start;
        n++;
    }
}


static int
fuzz_caseeq(const fuzz_span_t *t, const char *s)
{
    size_t  i;

    if (t->len != strlen(s)) {
        return 0;
    }

    for (i = 0; i < t->len; i++) {
        if (fuzz_lower(t->data[i]) != (unsigned char) s[i]) {
            return 0;
        }
    }

    return 1;
}


/*
 * 1 for a host source by the CSP grammar, written out here apart from
 * the core ([scheme "://"] ["*."] host [":" (digits / "*")] ["/" ...]),
 * whose host is a refused domain or under one
 */
static int
fuzz_refused_source(const fuzz_span_t *t)
{
    size_t                i, j, h, start;
    unsigned              k;
    const unsigned char  *p;
    unsigned char         lc[253];

    p = t->data;
    i = 0;

    if (t->len && fuzz_alpha(p[0])) {
        for (j = 1; j < t->len; j++) {
            if (!(fuzz_alpha(p[j]) || fuzz_digit(p[j]) || p[j] == '+'
                  || p[j] == '-' || p[j] == '.'))
            {
                break;
            }
        }

        if (j + 3 <= t->len && p[j] == ':' && p[j + 1] == '/'
            && p[j + 2] == '/')
        {
            i = j + 3;
        }
    }

    if (t->len - i >= 2 && p[i] == '*' && p[i + 1] == '.') {
        i += 2;
    }

    for (h = i; h < t->len && p[h] != ':' && p[h] != '/'; h++) {
        if (h - i == sizeof(lc)) {
            return 0;
        }

        if (!(fuzz_alpha(p[h]) || fuzz_digit(p[h]) || p[h] == '-'
              || p[h] == '.'))
        {
            return 0;
        }

        lc[h - i] = fuzz_lower(p[h]);
    }

    if (h == i) {
        return 0;
    }

    j = h - i;

    if (h < t->len && p[h] == ':') {
        h++;

        if (h < t->len && p[h] == '*') {
            h++;

        } else {
            start = h;

            while (h < t->len && fuzz_digit(p[h])) {
                h++;
            }

            if (h == start) {
                return 0;
            }
        }
    }

    if (h < t->len && p[h] != '/') {
        return 0;
    }

    for (k = 0; k < FUZZ_NDOMAINS; k++) {
        const char  *d = fuzz_domains[k];
        size_t       dl = strlen(d);

        if (!(fuzz_refused & (1u << k))) {
            continue;
        }

        if ((j == dl && memcmp(lc, d, dl) == 0)
            || (j > dl && lc[j - dl - 1] == '.'
                && memcmp(lc + j - dl, d, dl) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* 1 when a source could make a directive unenforceable */
static int
fuzz_opening(const fuzz_span_t *t)
{
    return memchr(t->data, '*', t->len) != NULL
           || (t->len && t->data[t->len - 1] == ':')
           || fuzz_caseeq(t, "'strict-dynamic'");
}


/* one directive, alone and as rewritten among the others */

static void
fuzz_directive(const unsigned char *in, size_t len, const unsigned char *out,
    size_t olen, fuzz_span_t *ti, fuzz_span_t *to, consent_csp_result_t *sum)
{
    int                    fetch, open, none;
    size_t                 n, ni, no, i, j, lead, trail, otrail;
    unsigned char         *alone;
    consent_csp_result_t   res;

    /* alone it rewrites the same */
    alone = fuzz_rewrite(in, len, &n, &res);
    FUZZ_ASSERT(n == olen && memcmp(alone, out, n) == 0);
    free(alone);

    FUZZ_ASSERT(res.unenforceable <= 1);
    FUZZ_ASSERT(res.unenforceable == 0 || res.dropped == 0);
    sum->dropped += res.dropped;
    sum->unenforceable += res.unenforceable;

    ni = fuzz_tokens(in, len, ti);
    fetch = ni && consent_csp_fetch_directive(ti[0].data, ti[0].len);

    if (!fetch || res.dropped == 0) {
        /* as it came */
        FUZZ_ASSERT(olen == len && memcmp(out, in, len) == 0);
        FUZZ_ASSERT(fetch || (res.dropped == 0 && res.unenforceable == 0));
    }

    if (!fetch) {
        return;
    }

    /* only what lets any host in makes a directive unenforceable */
    open = (ni - 1 > FUZZ_SOURCES_MAX);

    for (i = 1; i < ni; i++) {
        open |= fuzz_opening(&ti[i]);
    }

    FUZZ_ASSERT(open || res.unenforceable == 0);

    if (res.unenforceable) {
        return;
    }

    /* no refused vendor's host source is left in it */
    no = fuzz_tokens(out, olen, to);

    for (i = 1; i < no; i++) {
        FUZZ_ASSERT(!fuzz_refused_source(&to[i]));
    }

    if (res.dropped == 0) {
        return;
    }

    /* the blanks before it and its name, the blanks after it */
    lead = (size_t) (ti[0].data + ti[0].len - in);
    FUZZ_ASSERT(olen >= lead && memcmp(out, in, lead) == 0);

    trail = (size_t) (in + len - (ti[ni - 1].data + ti[ni - 1].len));
    otrail = (size_t) (out + olen - (to[no - 1].data + to[no - 1].len));
    FUZZ_ASSERT(trail == otrail
                && memcmp(out + olen - otrail, in + len - trail, trail) == 0);

    /* the sources kept, one space before each */
    for (i = 1; i < no; i++) {
        FUZZ_ASSERT(to[i].data[-1] == ' ' && !fuzz_ws(to[i].data[-2]));
    }

    /* in their order, as many fewer as it says, or 'none' for all */
    for (i = 1, j = 1; i < no; i++, j++) {
        while (j < ni && (ti[j].len != to[i].len
                          || memcmp(ti[j].data, to[i].data, to[i].len) != 0))
        {
            j++;
        }

        if (j == ni) {
            break;
        }
    }

    none = (i < no);

    if (none) {
        FUZZ_ASSERT(no == 2 && to[1].len == 6
                    && memcmp(to[1].data, "'none'", 6) == 0);
        FUZZ_ASSERT(res.dropped == ni - 1);

    } else {
        FUZZ_ASSERT(no >= 2 && res.dropped == ni - no);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                 len, n, n2, i, s, e, os, oe;
    unsigned char         *p, *out, *again, seen[256];
    fuzz_span_t           *ti, *to;
    consent_csp_result_t   res, res2, sum;

    if (size == 0) {
        return 0;
    }

    fuzz_refused = data[0];
    len = size - 1;
    p = fuzz_copy(data + 1, len);

    /* a judge that keeps every host: nothing changes */
    fuzz_keep_all = 1;
    out = fuzz_rewrite(p, len, &n, &res);
    FUZZ_ASSERT(n == len && memcmp(out, p, len) == 0);
    FUZZ_ASSERT(res.dropped == 0);
    free(out);
    fuzz_keep_all = 0;

    out = fuzz_rewrite(p, len, &n, &res);

    /* directive by directive, the separators where they were */
    ti = malloc((len / 2 + 2) * sizeof(fuzz_span_t));
    to = malloc((n / 2 + 2) * sizeof(fuzz_span_t));
    FUZZ_ASSERT(ti != NULL && to != NULL);

    memset(&sum, 0, sizeof(sum));
    s = 0;
    os = 0;

    for ( ;; ) {
        for (e = s; e < len && !fuzz_sep(p[e]); e++) { /* void */ }
        for (oe = os; oe < n && !fuzz_sep(out[oe]); oe++) { /* void */ }

        fuzz_directive(p + s, e - s, out + os, oe - os, ti, to, &sum);

        FUZZ_ASSERT((e == len) == (oe == n));

        if (e == len) {
            break;
        }

        FUZZ_ASSERT(p[e] == out[oe]);
        s = e + 1;
        os = oe + 1;
    }

    FUZZ_ASSERT(sum.dropped == res.dropped);
    FUZZ_ASSERT(sum.unenforceable == res.unenforceable);

    /* nothing more to do on the output */
    again = fuzz_rewrite(out, n, &n2, &res2);
    FUZZ_ASSERT(n2 == n && memcmp(again, out, n) == 0);
    FUZZ_ASSERT(res2.dropped == 0);
    FUZZ_ASSERT(res2.unenforceable == res.unenforceable);

    /* rewriting adds no byte the input did not have, but "'none'" */
    memset(seen, 0, sizeof(seen));

    for (i = 0; i < len; i++) {
        seen[p[i]] = 1;
    }

    for (i = 0; i < 7; i++) {
        seen[(unsigned char) " 'none'"[i]] = 1;
    }

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(seen[out[i]]);
    }

    free(again);
    free(to);
    free(ti);
    free(out);
    free(p);

    return 0;
}
