/*
 * Copyright (C) ngx_consent_module authors
 *
 * Permissions-Policy merging: the bound holds for every separator style
 * (the review's overflow came from bare ',' separators), members keep
 * their order, ours replace theirs, none twice.
 */

#include "test.h"
#include "permissions_policy.h"


static consent_span_t  feats[] = {
    { (const unsigned char *) "browsing-topics", 15 },
    { (const unsigned char *) "interest-cohort", 15 },
};

#define NFEATS  (sizeof(feats) / sizeof(feats[0]))


/* merges up to 4 values; returns a static NUL-terminated buffer */
static const char *
merge(const char *v0, const char *v1, size_t *bound, size_t *written)
{
    size_t                n, len;
    consent_span_t        v[2];
    static unsigned char  out[131072];

    n = 0;

    if (v0) {
        v[n].data = U(v0);
        v[n++].len = strlen(v0);
    }

    if (v1) {
        v[n].data = U(v1);
        v[n++].len = strlen(v1);
    }

    len = consent_pp_merge_size(v, n, feats, NFEATS);
    CHECK(len < sizeof(out));

    *bound = len;
    *written = consent_pp_merge(v, n, feats, NFEATS, out, len);
    out[*written] = '\0';

    return (const char *) out;
}


static void
check_merge(const char *v0, const char *v1, const char *want)
{
    size_t       bound, written;
    const char  *got;

    got = merge(v0, v1, &bound, &written);

    CHECK(written <= bound);
    CHECK(written > 0);

    if (strcmp(got, want) != 0) {
        test_failed++;
        fprintf(stderr, "FAIL merge(\"%s\", \"%s\") = \"%s\", want \"%s\"\n",
                v0 ? v0 : "", v1 ? v1 : "", got, want);

    } else {
        test_passed++;
    }
}


void
test_permissions_policy(void)
{
    char         big[20000], *p;
    size_t       i, bound, written;
    const char  *got;

    check_merge(NULL, NULL, "browsing-topics=(), interest-cohort=()");
    check_merge("geolocation=()", NULL,
                "geolocation=(), browsing-topics=(), interest-cohort=()");
    /* ours in place of theirs, their order kept */
    check_merge("camera=(), browsing-topics=*, geolocation=(self)", NULL,
                "camera=(), browsing-topics=(), geolocation=(self), "
                "interest-cohort=()");
    /* bare commas, the review's overflow */
    check_merge("a=(),b=(),c=(),d=(),e=(),f=(),g=(),h=()", NULL,
                "a=(), b=(), c=(), d=(), e=(), f=(), g=(), h=(), "
                "browsing-topics=(), interest-cohort=()");
    /* a bare feature name gets "=()" */
    check_merge("browsing-topics,interest-cohort", NULL,
                "browsing-topics=(), interest-cohort=()");
    /* duplicates, across two headers too */
    check_merge("browsing-topics=*, browsing-topics=()",
                "interest-cohort=*, browsing-topics=(self)",
                "browsing-topics=(), interest-cohort=()");
    /* commas inside lists and strings do not split members */
    check_merge("x=(self \"https://a,b\"), y=(\"q,\\\"r\")", NULL,
                "x=(self \"https://a,b\"), y=(\"q,\\\"r\"), "
                "browsing-topics=(), interest-cohort=()");
    /* empty members and whitespace */
    check_merge(" ,, \t, camera=() ,", NULL,
                "camera=(), browsing-topics=(), interest-cohort=()");
    /* parameters on ours are dropped with the allowlist */
    check_merge("browsing-topics=*;report-to=x", NULL,
                "browsing-topics=(), interest-cohort=()");
    /* CR, LF or NUL: the member goes, escaped in a string too */
    check_merge("a=(), b=(\r\n), c=()", NULL,
                "a=(), c=(), browsing-topics=(), interest-cohort=()");
    check_merge("a=(), b=\"\\\r\", c=()", NULL,
                "a=(), c=(), browsing-topics=(), interest-cohort=()");
    /* unbalanced: a browser would drop the whole header, ours with it */
    check_merge("a=(), b=((x, c=()", NULL,
                "a=(), browsing-topics=(), interest-cohort=()");
    check_merge("a=!), b=(\"x), c=()", "d=()",
                "d=(), browsing-topics=(), interest-cohort=()");
    check_merge("a=(\xc3\xa9), b=()", NULL,
                "b=(), browsing-topics=(), interest-cohort=()");

    /* many members of one byte: the tightest case for the bound */
    p = big;

    for (i = 0; i < 2000; i++) {
        *p++ = 'a';
        *p++ = ',';
    }

    *p = '\0';

    got = merge(big, big, &bound, &written);
    CHECK(written > 0 && written <= bound);
    CHECK(strncmp(got, "a, a, a", 7) == 0);

    /* and of feature names alone, each growing by "=()" */
    p = big;

    for (i = 0; i < 1000; i++) {
        p += sprintf(p, "interest-cohort,");
    }

    got = merge(big, NULL, &bound, &written);
    CHECK(written > 0 && written <= bound);
    CHECK(strcmp(got, "interest-cohort=(), browsing-topics=()") == 0);

    /* a buffer one byte short is refused, not overrun */
    {
        unsigned char   out[64];
        consent_span_t  v = { U("geolocation=()"), 14 };
        size_t          need;

        need = consent_pp_merge(&v, 1, feats, NFEATS, out, sizeof(out));
        CHECK(need == strlen("geolocation=(), browsing-topics=(), "
                             "interest-cohort=()"));
        CHECK(consent_pp_merge(&v, 1, feats, NFEATS, out, need - 1) == 0);
    }

    CHECK(consent_pp_feature_valid(U("browsing-topics"), 15));
    CHECK(!consent_pp_feature_valid(U("Browsing"), 8));
    CHECK(!consent_pp_feature_valid(U("a=b"), 3));
    CHECK(!consent_pp_feature_valid(U(""), 0));
}
