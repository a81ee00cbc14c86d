/*
 * Copyright (C) ngx_consent_module authors
 *
 * Content-Security-Policy rewriting: refused vendors' host sources leave
 * fetch directives, byte for byte everything else stays; a directive a
 * refused vendor would still get through is left whole and counted.  And
 * a vendor's purposes, which say whether it is refused.
 */

#include "test.h"
#include "csp.h"
#include "vendors_json.h"


/* the refused vendors' domains the next rewrite judges hosts against */
static const char  *csp_refused_default[] = {
    "criteo.com", "doubleclick.net", "ads.example.org", NULL
};

static const char *const  *csp_refused = csp_refused_default;

/* what the callback was last asked, and how often */
static char      csp_asked[300];
static int       csp_asked_wildcard;
static unsigned  csp_asked_n;


/* the module's judge: DROP before COVERS, as any refused domain says */

static int
csp_judge(void *data, const unsigned char *host, size_t len, int wildcard)
{
    int                 rc, covers;
    const char *const  *d;

    (void) data;

    csp_asked_n++;
    csp_asked_wildcard = wildcard;

    if (len < sizeof(csp_asked)) {
        memcpy(csp_asked, host, len);
        csp_asked[len] = '\0';
    }

    covers = 0;

    for (d = csp_refused; *d; d++) {
        rc = consent_csp_host_match(host, len, wildcard, U(*d), strlen(*d));

        if (rc == CONSENT_CSP_DROP) {
            return CONSENT_CSP_DROP;
        }

        covers |= (rc == CONSENT_CSP_COVERS);
    }

    return covers ? CONSENT_CSP_COVERS : CONSENT_CSP_KEEP;
}


/*
 * in rewritten into an exactly sized heap buffer (ASan sees an overrun):
 * NUL-terminated output, whose length is *outlen; the caller frees it
 */
static char *
csp_rw(const char *in, size_t len, size_t *outlen, consent_csp_result_t *res)
{
    unsigned char  *src, *out;
    size_t          n;

    src = malloc(len ? len : 1);
    out = malloc(CONSENT_CSP_OUT_SIZE(len) + 1);
    if (src == NULL || out == NULL) {
        abort();
    }

    memcpy(src, in, len);
    memset(out, 0xa5, CONSENT_CSP_OUT_SIZE(len) + 1);

    n = consent_csp_rewrite(src, len, csp_judge, NULL, out, res);

    /* the byte past the bound is never written */
    CHECK(n <= CONSENT_CSP_OUT_SIZE(len));
    CHECK(out[CONSENT_CSP_OUT_SIZE(len)] == 0xa5);

    out[n] = '\0';
    *outlen = n;
    free(src);

    return (char *) out;
}


/*
 * in gives want, with the counts given; rewriting want again drops
 * nothing more and leaves it as it is (an already rewritten header)
 */
static void
csp_check_len(const char *in, size_t len, const char *want, size_t wlen,
    unsigned dropped, unsigned unenforceable, int line)
{
    char                  *got, *again;
    size_t                 n, n2;
    consent_csp_result_t   res, res2;

    got = csp_rw(in, len, &n, &res);

    if (n != wlen || memcmp(got, want, n) != 0
        || res.dropped != dropped || res.unenforceable != unenforceable)
    {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: \"%.*s\" gave \"%.*s\" (%u, %u), "
                "want \"%.*s\" (%u, %u)\n", __FILE__, line,
                (int) (len > 200 ? 200 : len), in,
                (int) (n > 200 ? 200 : n), got, res.dropped,
                res.unenforceable, (int) (wlen > 200 ? 200 : wlen), want,
                dropped, unenforceable);
        free(got);
        return;
    }

    test_passed++;

    again = csp_rw(got, n, &n2, &res2);

    if (n2 != n || memcmp(again, got, n) != 0 || res2.dropped != 0
        || res2.unenforceable != unenforceable)
    {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: rewriting \"%.*s\" again gave "
                "\"%.*s\" (%u, %u)\n", __FILE__, line,
                (int) (n > 200 ? 200 : n), got, (int) (n2 > 200 ? 200 : n2),
                again, res2.dropped, res2.unenforceable);

    } else {
        test_passed++;
    }

    free(again);
    free(got);
}


#define csp_check(in, want, dropped, unenforceable)                          \
    csp_check_len(in, strlen(in), want, strlen(want), dropped,               \
                  unenforceable, __LINE__)

/* left byte for byte as it came, with nothing dropped */
#define csp_same(in, unenforceable)                                          \
    csp_check_len(in, strlen(in), in, strlen(in), 0, unenforceable, __LINE__)


static void
test_csp_host_match(void)
{
    static const struct {
        const char  *host;
        int          wildcard;
        const char  *domain;
        int          want;
    } t[] = {
        { "criteo.com", 0, "criteo.com", CONSENT_CSP_DROP },
        { "ads.criteo.com", 0, "criteo.com", CONSENT_CSP_DROP },
        { "a.b.c.criteo.com", 0, "criteo.com", CONSENT_CSP_DROP },
        /* a parent is some other host */
        { "criteo.com", 0, "ads.criteo.com", CONSENT_CSP_KEEP },
        { "com", 0, "criteo.com", CONSENT_CSP_KEEP },
        /* "*.criteo.com": hosts under criteo.com only */
        { "criteo.com", 1, "criteo.com", CONSENT_CSP_DROP },
        { "ads.criteo.com", 1, "criteo.com", CONSENT_CSP_DROP },
        /* a wildcard over the domain and others */
        { "criteo.com", 1, "ads.criteo.com", CONSENT_CSP_COVERS },
        { "com", 1, "criteo.com", CONSENT_CSP_COVERS },
        { "com", 1, "a.b.criteo.com", CONSENT_CSP_COVERS },
        /* unrelated */
        { "example.com", 0, "criteo.com", CONSENT_CSP_KEEP },
        { "example.com", 1, "criteo.com", CONSENT_CSP_KEEP },
        { "criteo.net", 1, "criteo.com", CONSENT_CSP_KEEP },
        { "criteo.com.evil.net", 0, "criteo.com", CONSENT_CSP_KEEP },
        /* a suffix that is not a label */
        { "xcriteo.com", 0, "criteo.com", CONSENT_CSP_KEEP },
        { "xcriteo.com", 1, "criteo.com", CONSENT_CSP_KEEP },
        { "riteo.com", 1, "criteo.com", CONSENT_CSP_KEEP },
        { "om", 1, "criteo.com", CONSENT_CSP_KEEP },
        { "criteo.com", 0, "xcriteo.com", CONSENT_CSP_KEEP },
        { "criteo.com", 1, "xcriteo.com", CONSENT_CSP_KEEP },
        /* empty */
        { "", 0, "criteo.com", CONSENT_CSP_KEEP },
        { "", 1, "criteo.com", CONSENT_CSP_KEEP },
        { "criteo.com", 0, "", CONSENT_CSP_KEEP },
        { "criteo.com", 1, "", CONSENT_CSP_KEEP },
        { "", 0, "", CONSENT_CSP_KEEP },
    };

    size_t  i;
    int     rc;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        rc = consent_csp_host_match(U(t[i].host), strlen(t[i].host),
                                    t[i].wildcard, U(t[i].domain),
                                    strlen(t[i].domain));

        if (rc != t[i].want) {
            test_failed++;
            fprintf(stderr, "FAIL %s:%d: host_match(\"%s%s\", \"%s\") = %d, "
                    "want %d\n", __FILE__, __LINE__,
                    t[i].wildcard ? "*." : "", t[i].host, t[i].domain, rc,
                    t[i].want);

        } else {
            test_passed++;
        }
    }
}


static const char  *csp_fetch_names[] = {
    "child-src", "connect-src", "default-src", "fenced-frame-src",
    "font-src", "frame-src", "img-src", "manifest-src", "media-src",
    "object-src", "prefetch-src", "script-src", "script-src-attr",
    "script-src-elem", "style-src", "style-src-attr", "style-src-elem",
    "worker-src", NULL
};


static void
test_csp_fetch_directive(void)
{
    char          in[128], want[128], upper[32], c;
    size_t        i, k;
    const char  **name;

    static const char  *other[] = {
        "frame-ancestors", "report-uri", "report-to", "base-uri",
        "form-action", "sandbox", "upgrade-insecure-requests",
        "block-all-mixed-content", "navigate-to", "plugin-types",
        "require-trusted-types-for", "trusted-types", "webrtc", "src",
        "script", "-src", "", NULL
    };

    for (name = csp_fetch_names; *name; name++) {
        CHECK_INT(consent_csp_fetch_directive(U(*name), strlen(*name)), 1);

        for (k = 0; (*name)[k]; k++) {
            c = (*name)[k];
            upper[k] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
        }

        upper[k] = '\0';
        CHECK_INT(consent_csp_fetch_directive(U(upper), k), 1);

        /* a prefix of it, or it and one more byte, is not it */
        CHECK_INT(consent_csp_fetch_directive(U(*name), k - 1), 0);
        snprintf(in, sizeof(in), "%sx", *name);
        CHECK_INT(consent_csp_fetch_directive(U(in), k + 1), 0);

        /* each is rewritten, in either case */
        snprintf(in, sizeof(in), "%s 'self' https://ads.criteo.com", *name);
        snprintf(want, sizeof(want), "%s 'self'", *name);
        csp_check(in, want, 1, 0);

        snprintf(in, sizeof(in), "%s criteo.com", upper);
        snprintf(want, sizeof(want), "%s 'none'", upper);
        csp_check(in, want, 1, 0);
    }

    for (i = 0; other[i]; i++) {
        CHECK_INT(consent_csp_fetch_directive(U(other[i]), strlen(other[i])),
                  0);
    }

    CHECK_INT(consent_csp_fetch_directive(U("script-src\0"), 11), 0);
}


static void
test_csp_sources(void)
{
    /* host sources with and without scheme, port and path */
    csp_check("script-src 'self' https://ads.criteo.com:443/x.js",
              "script-src 'self'", 1, 0);
    csp_check("script-src 'self' criteo.com", "script-src 'self'", 1, 0);
    csp_check("script-src 'self' static.criteo.com/js/ld.js",
              "script-src 'self'", 1, 0);
    csp_check("script-src 'self' http://criteo.com", "script-src 'self'",
              1, 0);
    csp_check("script-src 'self' https://criteo.com/",
              "script-src 'self'", 1, 0);
    csp_check("connect-src 'self' wss://rt.criteo.com:8443/ws",
              "connect-src 'self'", 1, 0);
    csp_check("connect-src 'self' https://criteo.com:*",
              "connect-src 'self'", 1, 0);
    /* a port without a scheme is a host source too */
    csp_check("script-src 'self' criteo.com:443", "script-src 'self'", 1, 0);
    csp_check("script-src 'self' ads.criteo.com:*/x.js",
              "script-src 'self'", 1, 0);
    csp_check("script-src 'self' 1.criteo.com:8080", "script-src 'self'",
              1, 0);
    /* whatever the scheme: the browser asks the host */
    csp_check("script-src 'self' chrome-extension://criteo.com",
              "script-src 'self'", 1, 0);

    /* the refused domain and under it go, a parent stays */
    csp_check("img-src 'self' doubleclick.net", "img-src 'self'", 1, 0);
    csp_check("img-src 'self' stats.g.doubleclick.net",
              "img-src 'self'", 1, 0);
    csp_check("img-src 'self' ads.example.org x.ads.example.org",
              "img-src 'self'", 2, 0);
    csp_same("img-src 'self' example.org www.example.org", 0);
    csp_same("img-src 'self' https://example.org:443/ads/", 0);
    /* suffixes that are not labels, and lookalikes */
    csp_same("img-src xcriteo.com criteo.com.evil.net criteo.co", 0);
    csp_same("img-src criteo.net https://criteocdn.com", 0);

    /* a wildcard under a refused domain goes */
    csp_check("script-src 'self' *.criteo.com", "script-src 'self'", 1, 0);
    csp_check("script-src 'self' https://*.criteo.com:*",
              "script-src 'self'", 1, 0);
    csp_check("script-src 'self' *.static.criteo.com/x/",
              "script-src 'self'", 1, 0);
    csp_check("script-src 'self' *.ads.example.org",
              "script-src 'self'", 1, 0);

    /* one that covers a refused domain among others: left, counted */
    csp_same("script-src 'self' *.com criteo.com", 1);
    csp_same("script-src 'self' https://*.example.org", 1);
    csp_same("script-src 'self' *.net:443", 1);
    /* and one that covers none */
    csp_same("script-src 'self' *.example.com", 0);

    /* what lets any host in: left, counted */
    csp_same("script-src * criteo.com", 1);
    csp_same("script-src 'self' https: criteo.com", 1);
    csp_same("script-src 'self' http: criteo.com", 1);
    csp_same("connect-src 'self' ws: criteo.com", 1);
    csp_same("connect-src 'self' wss: criteo.com", 1);
    csp_same("script-src 'self' HTTPS: criteo.com", 1);
    csp_same("script-src 'self' Wss: criteo.com", 1);
    csp_same("script-src 'self' https://* criteo.com", 1);
    csp_same("script-src 'self' http://*:8080 criteo.com", 1);
    csp_same("script-src 'self' https://*/js/ criteo.com", 1);
    csp_same("script-src 'self' *:443 criteo.com", 1);
    csp_same("script-src 'nonce-abc' 'strict-dynamic' criteo.com", 1);
    csp_same("script-src 'nonce-abc' 'STRICT-DYNAMIC' criteo.com", 1);
    csp_same("default-src 'Strict-Dynamic' https://criteo.com", 1);
    /* even with nothing refused in it */
    csp_same("script-src 'self' https:", 1);
    csp_same("img-src *", 1);
    csp_same("default-src 'strict-dynamic'", 1);

    /* keywords, nonces, hashes and other schemes stay */
    csp_check("script-src 'self' 'unsafe-inline' 'unsafe-eval' "
              "'nonce-r4nd0m+/=' 'sha256-B2yPHKaXnvFWtRChIbabYmUBFZdVfKKXHbW"
              "tTidDVF8=' 'wasm-unsafe-eval' 'report-sample' data: blob: "
              "criteo.com https://cdn.example.net",
              "script-src 'self' 'unsafe-inline' 'unsafe-eval' "
              "'nonce-r4nd0m+/=' 'sha256-B2yPHKaXnvFWtRChIbabYmUBFZdVfKKXHbW"
              "tTidDVF8=' 'wasm-unsafe-eval' 'report-sample' data: blob: "
              "https://cdn.example.net", 1, 0);
    csp_check("media-src mediastream: filesystem: criteo.com",
              "media-src mediastream: filesystem:", 1, 0);
    csp_same("img-src 'self' data: blob: 'unsafe-inline'", 0);

    /* every source gone: 'none' */
    csp_check("frame-src criteo.com https://*.doubleclick.net",
              "frame-src 'none'", 2, 0);
    csp_check("img-src criteo.com", "img-src 'none'", 1, 0);
    csp_check("img-src 'none' criteo.com", "img-src 'none'", 1, 0);

    /* case: names, schemes and hosts */
    csp_check("SCRIPT-SRC 'self' HTTPS://ADS.CRITEO.COM",
              "SCRIPT-SRC 'self'", 1, 0);
    csp_check("Img-Src Ads.Criteo.Com data:", "Img-Src data:", 1, 0);
    csp_check("script-src *.CRITEO.com 'self'", "script-src 'self'", 1, 0);
    csp_same("script-src *.COM 'self'", 1);

    /* not hosts a browser would match: kept */
    csp_same("img-src criteo.com_x", 0);
    csp_same("img-src ads.criteo.com\x80", 0);
    csp_same("img-src https://user@criteo.com", 0);
    csp_same("img-src crit*eo.com *criteo.com *.*.criteo.com", 0);
    csp_same("img-src https:// https://*. //criteo.com", 0);
    csp_same("img-src criteo.com:x 'criteo.com' \"criteo.com\"", 0);
    csp_same("img-src [::1]:80 criteo.com@x", 0);
}


static void
test_csp_directives(void)
{
    /* other directives are left as they are, refused hosts and all */
    csp_same("frame-ancestors criteo.com", 0);
    csp_same("frame-ancestors *", 0);
    csp_same("report-uri https://criteo.com/csp", 0);
    csp_same("report-to criteo", 0);
    csp_same("base-uri https://criteo.com", 0);
    csp_same("form-action https://criteo.com 'self'", 0);
    csp_same("sandbox allow-scripts allow-same-origin", 0);
    csp_same("upgrade-insecure-requests", 0);
    csp_same("navigate-to criteo.com", 0);
    csp_same("script-src-x criteo.com", 0);
    csp_check("frame-ancestors criteo.com; frame-src criteo.com 'self'; "
              "report-uri https://criteo.com/r; upgrade-insecure-requests",
              "frame-ancestors criteo.com; frame-src 'self'; "
              "report-uri https://criteo.com/r; upgrade-insecure-requests",
              1, 0);

    /* a fetch directive with no sources */
    csp_same("script-src", 0);
    csp_same("script-src   ", 0);
    csp_same("script-src;img-src;", 0);

    /* several policies, each directive of each */
    csp_check("script-src criteo.com 'self', img-src criteo.com; "
              "frame-ancestors criteo.com,default-src * criteo.com",
              "script-src 'self', img-src 'none'; "
              "frame-ancestors criteo.com,default-src * criteo.com", 2, 1);
    csp_check("default-src 'self' criteo.com,default-src 'self' criteo.com",
              "default-src 'self',default-src 'self'", 2, 0);
    csp_check("img-src https:,img-src *.com,img-src criteo.com",
              "img-src https:,img-src *.com,img-src 'none'", 1, 2);

    /* separators and the blanks around them as sent */
    csp_check("  script-src  \t criteo.com   'self'\t ;  img-src 'self'  ",
              "  script-src 'self'\t ;  img-src 'self'  ", 1, 0);
    csp_check("script-src 'self' criteo.com ; img-src criteo.com ;",
              "script-src 'self' ; img-src 'none' ;", 2, 0);
    csp_check(" , script-src a.net criteo.com b.net ,",
              " , script-src a.net b.net ,", 1, 0);
    csp_check("script-src\tcriteo.com\t'self'", "script-src 'self'", 1, 0);
    csp_check("img-src\r\ncriteo.com\f", "img-src 'none'\f", 1, 0);
    csp_check("\timg-src criteo.com\t", "\timg-src 'none'\t", 1, 0);
    /* blanks between sources kept become one space */
    csp_check("img-src a.net\t\t b.net criteo.com  c.net",
              "img-src a.net b.net c.net", 1, 0);

    /* empty directives and policies */
    csp_check(";;script-src criteo.com;;", ";;script-src 'none';;", 1, 0);
    csp_check(",,img-src criteo.com,,", ",,img-src 'none',,", 1, 0);
    csp_same("", 0);
    csp_same(" ", 0);
    csp_same(";", 0);
    csp_same(",", 0);
    csp_same(" ; , ;\t", 0);

    /* a NUL is no blank: part of a name or a source */
    csp_check_len("img-src\0 criteo.com", 19, "img-src\0 criteo.com", 19, 0, 0,
                  __LINE__);
    csp_check_len("img-src criteo.com\0", 19, "img-src criteo.com\0", 19, 0, 0,
                  __LINE__);
}


static void
test_csp_limits(void)
{
    char                  *in, *want, *got, *p;
    size_t                 i, n, len;
    consent_csp_result_t   res;
    static const char     *one[] = { "a", NULL };

    in = malloc(65536);
    want = malloc(65536);
    if (in == NULL || want == NULL) {
        abort();
    }

    /* a host of 253 bytes is judged, of 254 kept */
    memset(in, 'x', 300);
    memcpy(in, "img-src ", 8);
    memcpy(in + 8 + 253 - 11, ".criteo.com", 11);
    in[8 + 253] = '\0';
    csp_check(in, "img-src 'none'", 1, 0);

    memset(in, 'x', 300);
    memcpy(in, "img-src ", 8);
    memcpy(in + 8 + 254 - 11, ".criteo.com", 11);
    in[8 + 254] = '\0';
    csp_same(in, 0);

    /* the host of "*.host" counts, not the "*." */
    memset(in, 'x', 300);
    memcpy(in, "img-src *.", 10);
    memcpy(in + 10 + 253 - 11, ".criteo.com", 11);
    in[10 + 253] = '\0';
    csp_check(in, "img-src 'none'", 1, 0);

    /* and its port or path do not */
    memcpy(in + 10 + 253, ":443/a/b/c/d", 13);
    csp_check(in, "img-src 'none'", 1, 0);

    /* 512 sources are rewritten */
    p = in + sprintf(in, "img-src");

    for (i = 0; i < 511; i++) {
        p += sprintf(p, " h%zu.example.net", i);
    }

    sprintf(p, " criteo.com");
    len = (size_t) (p - in);
    memcpy(want, in, len);
    memcpy(want + len, "", 1);
    csp_check(in, want, 1, 0);

    /* more are left whole, and counted when that lets a vendor in */
    sprintf(p, " criteo.com 'self'");
    csp_same(in, 1);
    sprintf(p, " 'self' criteo.com");
    csp_same(in, 1);
    memcpy(in, "IMG", 3);
    csp_same(in, 1);
    sprintf(p, " 'self' h.example.net");
    csp_same(in, 0);

    /* a refused host first, then more than 512 */
    p = in + sprintf(in, "img-src criteo.com");

    for (i = 0; i < 600; i++) {
        p += sprintf(p, " h%zu.example.net", i);
    }

    csp_same(in, 1);

    /* the next directive is rewritten as ever */
    sprintf(p, "; img-src 'self' criteo.com");
    got = csp_rw(in, strlen(in), &n, &res);
    CHECK(n == strlen(in) - 11);
    CHECK(memcmp(got, in, n) == 0);
    CHECK_INT(res.dropped, 1);
    CHECK_INT(res.unenforceable, 1);
    free(got);

    /*
     * The most a rewrite grows: the shortest fetch directive with a one
     * byte host that goes, "img-src a;" (10 bytes) as "img-src 'none';"
     * (15), over and over.
     */
    csp_refused = one;

    p = in;

    for (i = 0; i < 4000; i++) {
        memcpy(p, "img-src a;", 10);
        p += 10;
    }

    len = (size_t) (p - in);
    got = csp_rw(in, len, &n, &res);
    CHECK_INT(n, len / 10 * 15);
    CHECK(n <= CONSENT_CSP_OUT_SIZE(len));
    CHECK_INT(res.dropped, 4000);
    CHECK_INT(res.unenforceable, 0);
    CHECK(memcmp(got, "img-src 'none';img-src 'none';", 30) == 0);
    free(got);

    /* and with no separator at all */
    csp_check("img-src a", "img-src 'none'", 1, 0);
    CHECK(14 <= CONSENT_CSP_OUT_SIZE(9));
    csp_check("img-src a,img-src a", "img-src 'none',img-src 'none'", 2, 0);

    csp_refused = csp_refused_default;

    free(want);
    free(in);
}


static char *
csp_ask(const char *in, consent_csp_result_t *res)
{
    size_t  n;

    csp_asked_n = 0;
    csp_asked[0] = '\0';
    csp_asked_wildcard = -1;

    return csp_rw(in, strlen(in), &n, res);
}


static void
test_csp_asked(void)
{
    char                  *got;
    consent_csp_result_t   res;

    /* the callback gets the host alone, lower case, and the wildcard */
    got = csp_ask("script-src HTTPS://*.Ads.CRITEO.com:443/Path", &res);
    CHECK_INT(csp_asked_n, 1);
    CHECK_STR(csp_asked, "ads.criteo.com");
    CHECK_INT(csp_asked_wildcard, 1);
    free(got);

    got = csp_ask("img-src Criteo.COM:443", &res);
    CHECK_INT(csp_asked_n, 1);
    CHECK_STR(csp_asked, "criteo.com");
    CHECK_INT(csp_asked_wildcard, 0);
    free(got);

    got = csp_ask("img-src www.Example.NET/a:b", &res);
    CHECK_INT(csp_asked_n, 1);
    CHECK_STR(csp_asked, "www.example.net");
    CHECK_INT(res.dropped, 0);
    free(got);

    /* keywords, schemes and other directives are not asked about */
    got = csp_ask("script-src 'self' 'nonce-x' data: blob: https: *; "
                  "frame-ancestors criteo.com; report-uri /r", &res);
    CHECK_INT(csp_asked_n, 0);
    CHECK_INT(res.unenforceable, 1);
    free(got);
}


static consent_mask_t
csp_vendor_purposes(consent_ruleset_t *rs, const char *name)
{
    int  id;

    id = consent_ruleset_vendor_find(rs, U(name), strlen(name));
    CHECK(id >= 0);

    return (id < 0) ? 0xdead : consent_ruleset_vendor_purposes(rs, id);
}


static void
test_csp_vendor_purposes(void)
{
    consent_ruleset_t   *rs;
    consent_purposes_t   ps;

    static const char  *lines[] = {
        /* purposes= says it, whatever the rules name */
        "@vendor Criteo purposes=advertising,sharing domains=criteo.com",
        "cto_bundle advertising Criteo",
        "cto_pref functional Criteo",
        /* none said: the rules' */
        "_ga analytics Google",
        "_gid analytics Google",
        "_gcl_* advertising Google",
        "IDE advertising Google domain=doubleclick.net",
        "@vendor Google name=\"Google\" domains=google.com,doubleclick.net",
        /* neither: none */
        "@vendor NoRules domains=example.org",
        "@vendor MetaOnly purposes=functional",
        "sess necessary Site",
        "NID personalization Site",
        /* a later line replaces the purposes an earlier one gave */
        "@vendor Later purposes=sharing",
        "@vendor Later name=Later",
        "l functional Later",
        NULL
    };

    consent_purposes_init(&ps);

    rs = test_ruleset(&ps, lines);
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    CHECK_INT(csp_vendor_purposes(rs, "Criteo"),
              CONSENT_BIT(CONSENT_P_ADVERTISING)
              | CONSENT_BIT(CONSENT_P_SHARING));
    CHECK_INT(csp_vendor_purposes(rs, "Google"),
              CONSENT_BIT(CONSENT_P_ANALYTICS)
              | CONSENT_BIT(CONSENT_P_ADVERTISING));
    CHECK_INT(csp_vendor_purposes(rs, "NoRules"), 0);
    CHECK_INT(csp_vendor_purposes(rs, "MetaOnly"),
              CONSENT_BIT(CONSENT_P_FUNCTIONAL));
    CHECK_INT(csp_vendor_purposes(rs, "Site"),
              CONSENT_BIT(CONSENT_P_NECESSARY)
              | CONSENT_BIT(CONSENT_P_PERSONALIZATION));
    CHECK_INT(csp_vendor_purposes(rs, "Later"),
              CONSENT_BIT(CONSENT_P_FUNCTIONAL));

    /* an id past the last: none */
    CHECK_INT(consent_ruleset_vendors(rs), 6);
    CHECK_INT(consent_ruleset_vendor_purposes(rs, consent_ruleset_vendors(rs)),
              0);
    CHECK_INT(consent_ruleset_vendor_purposes(rs, 65535), 0);
    CHECK_INT(consent_ruleset_vendor_purposes(rs, (unsigned) -1), 0);

    consent_ruleset_free(rs);
}


/*
 * The vendor list (vendors_json.c) groups vendors by the same purposes:
 * the exact document, measured then written, and a buffer one byte
 * short left unwritten
 */

static void
test_csp_vendor_list(void)
{
    size_t               len, n;
    unsigned char        buf[2048];
    consent_ruleset_t   *rs;
    consent_purposes_t   ps;

    static const char  *lines[] = {
        "@vendor Criteo name=\"Criteo\" controller=\"Criteo SA\" "
        "purposes=advertising country=FR policy=https://c.example/p "
        "optout=https://c.example/o gvl=91 domains=criteo.com,criteo.net "
        "storage=criteo_id,cto_*",
        "cto_bundle advertising Criteo",
        "_ga analytics Google",
        "_gcl_au advertising Google",
        "sess necessary Site",
        "@vendor Yahoo name=\"\xe3\x83\xa4\xe3\x83\x95\xe3\x83\xbc\" "
        "country=JP",
        "_yjsu personalization Yahoo",
        NULL
    };

    static const char  want[] =
        "{\"purposes\":["
        "{\"purpose\":\"analytics\",\"vendors\":["
        "{\"id\":\"Google\",\"name\":\"Google\"}]},"
        "{\"purpose\":\"advertising\",\"vendors\":["
        "{\"id\":\"Criteo\",\"name\":\"Criteo\",\"controller\":"
        "\"Criteo SA\",\"country\":\"FR\",\"policy\":"
        "\"https://c.example/p\",\"optout\":\"https://c.example/o\","
        "\"gvl\":91,\"domains\":[\"criteo.com\",\"criteo.net\"],"
        "\"storage\":[\"criteo_id\",\"cto_*\"]},"
        "{\"id\":\"Google\",\"name\":\"Google\"}]},"
        "{\"purpose\":\"personalization\",\"vendors\":["
        "{\"id\":\"Yahoo\",\"name\":\"\xe3\x83\xa4\xe3\x83\x95"
        "\xe3\x83\xbc\",\"country\":\"JP\"}]}"
        "]}\n";

    consent_purposes_init(&ps);

    rs = test_ruleset(&ps, lines);
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    len = consent_vendors_json(rs, &ps, NULL, 0);
    CHECK_INT(len, strlen(want));
    CHECK(len < sizeof(buf));

    memset(buf, 'x', sizeof(buf));
    n = consent_vendors_json(rs, &ps, buf, len);
    CHECK_INT(n, len);
    CHECK_MEM(buf, n, want);

    /* short by one: measured, the missing byte never written */
    memset(buf, 'x', sizeof(buf));
    n = consent_vendors_json(rs, &ps, buf, len - 1);
    CHECK_INT(n, len);
    CHECK(buf[len - 1] == 'x');

    consent_ruleset_free(rs);

    /* no vendor at all: an empty list */
    rs = test_ruleset(&ps, (const char *[]) { NULL });
    CHECK(rs != NULL);
    if (rs) {
        n = consent_vendors_json(rs, &ps, buf, sizeof(buf));
        CHECK_MEM(buf, n, "{\"purposes\":[]}\n");
        consent_ruleset_free(rs);
    }
}


void
test_csp(void)
{
    test_csp_host_match();
    test_csp_fetch_directive();
    test_csp_sources();
    test_csp_directives();
    test_csp_limits();
    test_csp_asked();
    test_csp_vendor_purposes();
    test_csp_vendor_list();
}
