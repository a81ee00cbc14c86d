/*
 * Copyright (C) ngx_consent_module authors
 *
 * The GPP decoder (gpp.h).  Strings of every section come from the IAB's
 * library (iab/gpp-vectors.mjs, seed 7); headers with chosen ids are
 * built here bit by bit (bitwrite.h), so that the Fibonacci edge cases
 * are exact.
 */

#include "test.h"
#include "gpp.h"
#include "bitwrite.h"


/* a header of Type 3, Version 1 and the ids given as (first, last) */
static size_t
header(char *s, const unsigned *groups, unsigned ngroups)
{
    unsigned  i, last;

    tw_reset();
    tw_put(3, 6);
    tw_put(1, 6);
    tw_put(ngroups, 12);

    for (i = 0, last = 0; i < ngroups; i++) {
        if (groups[2 * i] == groups[2 * i + 1]) {
            tw_put(0, 1);
            tw_fib(groups[2 * i] - last);

        } else {
            tw_put(1, 1);
            tw_fib(groups[2 * i] - last);
            tw_fib(groups[2 * i + 1] - groups[2 * i]);
        }

        last = groups[2 * i + 1];
    }

    tw_seg();
    memcpy(s, tw.out, tw.len + 1);

    return tw.len;
}


/* decodes an exactly sized heap copy: a read past it is an ASan report */
static int
decode(const char *s, size_t len, consent_gpp_t *gpp, consent_err_t *err)
{
    int             rc;
    unsigned char  *p;

    p = malloc(len ? len : 1);
    memcpy(p, s, len);
    rc = consent_gpp_decode(p, len, &test_alloc, gpp, err);
    free(p);

    return rc;
}


static int
decode_s(const char *s, consent_gpp_t *gpp, consent_err_t *err)
{
    err->code = 0;
    return decode(s, strlen(s), gpp, err);
}


/* the spec's header examples, and the library's strings of each section */

typedef struct {
    const char                *gpp;
    unsigned                   id;
    unsigned                   version;
    unsigned                   nsensitive;
    unsigned                   nchild;
    unsigned                   has_gpc;
    unsigned                   nfields;
} test_us_t;

static const test_us_t  us_vectors[] = {
    { "DBABLA~BCUgmmBZmWA", 7, 1, 12, 2, 0, 13 },
    { "DBABLA~BKQBQJagKYA.YA", 7, 1, 12, 2, 1, 13 },
    { "DBABLA~ClRgkRIgBiWk", 7, 2, 16, 3, 0, 13 },
    { "DBABLA~CoZZIZiAZAGA.QA", 7, 2, 16, 3, 1, 13 },
    { "DBABBg~BWIGJUVE", 8, 1, 9, 2, 0, 9 },
    { "DBABBg~BlqkqRBo.YA", 8, 1, 9, 2, 1, 9 },
    { "DBABRg~BqqaqBg", 9, 1, 8, 1, 0, 8 },
    { "DBABJg~BICFaVg.YA", 10, 1, 7, 1, 1, 8 },
    { "DBABFg~BgYhpARA", 11, 1, 8, 1, 0, 9 },
    { "DBABVg~BAaWWGGA.QA", 12, 1, 8, 3, 1, 8 },
    { "DBABAw~BmhCISRQ", 13, 1, 8, 3, 0, 9 },
    { "DBABQw~BlFYSAqg.YA", 14, 1, 8, 3, 1, 9 },
    { "DBABIw~BpWARkWJoA.YA", 15, 1, 11, 3, 1, 9 },
    { "DBABEw~BpWJoCZA.QA", 16, 1, 8, 1, 1, 9 },
    { "DBABUw~BqalJYlpAA.YA", 17, 1, 9, 5, 1, 9 },
    { "DBABCw~BZRKBimA.YA", 18, 1, 8, 1, 1, 9 },
    { "DBABSw~BRBACkkA.QA", 19, 1, 8, 1, 1, 9 },
    { "DBABKw~BBCFiUSU.QA", 20, 1, 8, 3, 1, 9 },
    { "DBABAYA~BYaGBhIEYA.QA", 21, 1, 10, 5, 1, 9 },
    { "DBABQYA~BGJIhYkA.QA", 22, 1, 8, 1, 1, 9 },
    { "DBABIYA~BEBBaApA.QA", 23, 1, 8, 1, 1, 9 },
    { "DBABEYA~BVaA.YA", 24, 1, 0, 0, 1, 8 },
    { "DBABUYA~BoAl", 25, 1, 0, 1, 0, 8 },
    { "DBABUYA~BlBQ.oWk", 25, 1, 8, 1, 0, 8 },
    { "DBABCYA~BWZU.WZo", 26, 1, 8, 1, 0, 8 },
    { "DBABSYA~BloB.AWI", 27, 1, 8, 1, 0, 8 },
};

static const char  tcfeu[] =
    "DBABMA~CQuf10AQuf10Axh3dAIWAAEgAG6o8AAAACyQAAAsIgHgANAISAkYBYwDOQHBARDA"
    "tkBxcDtoITQSiAn5BUQCwgAA.IApwAgAAwAdAFMAA.YAAAAAAAAAAA";
static const char  tcfca[] =
    "DBABDA~BOEFtoAOEHJw5bOBSFTJbTdHtgQAoEeIQAAAC0GAYQyRkQ0VqBZCWUJkoZUDFAy"
    "hNIBgAA.df89gpjdIaA.IApQAcDBYA";


static unsigned
popcount(uint32_t v)
{
    unsigned  n;

    for (n = 0; v; v &= v - 1) {
        n++;
    }

    return n;
}


static void
test_gpp_us(void)
{
    size_t                        i;
    consent_err_t                 err;
    consent_gpp_t                 gpp;
    const test_us_t              *v;
    const consent_gpp_us_t       *us;
    const consent_gpp_section_t  *s;
    static const unsigned char    sens[12] = { 2, 1, 2, 2, 1, 2, 0, 0, 1, 1,
                                               2, 1 };

    for (i = 0; i < sizeof(us_vectors) / sizeof(us_vectors[0]); i++) {
        v = &us_vectors[i];

        CHECK_INT(decode_s(v->gpp, &gpp, &err), 0);
        CHECK_INT(gpp.nsections, 1);
        CHECK_INT(gpp.nskipped, 0);

        s = consent_gpp_section(&gpp, v->id);
        CHECK(s != NULL);
        if (s == NULL) {
            fprintf(stderr, "  vector %s\n", v->gpp);
            continue;
        }

        us = &s->u.us;
        CHECK_INT(us->version, v->version);
        CHECK_INT(us->nsensitive, v->nsensitive);
        CHECK_INT(us->nchild, v->nchild);
        CHECK_INT(us->has_gpc, v->has_gpc);
        CHECK_INT(popcount(us->has), v->nfields);
        CHECK(consent_gpp_section_name(v->id) != NULL);
        test_alloc_reset();
    }

    /* usnat v1, field by field (the library's JSON for this string) */
    CHECK_INT(decode_s("DBABLA~BCUgmmBZmWA", &gpp, &err), 0);
    us = &gpp.sections[0].u.us;
    CHECK_INT(us->field[CONSENT_GPP_SHARING_NOTICE], 0);
    CHECK_INT(us->field[CONSENT_GPP_SHARING_OPT_OUT_NOTICE], 2);
    CHECK_INT(us->field[CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT_NOTICE], 1);
    CHECK_INT(us->field[CONSENT_GPP_SALE_OPT_OUT], 2);
    CHECK_INT(us->field[CONSENT_GPP_PERSONAL_DATA_CONSENTS], 2);
    CHECK_INT(us->field[CONSENT_GPP_MSPA_COVERED_TRANSACTION], 1);
    CHECK(memcmp(us->sensitive, sens, 12) == 0);
    CHECK_INT(us->child[0], 2);
    CHECK_INT(us->child[1], 1);
    CHECK(!CONSENT_GPP_US_HAS(us, CONSENT_GPP_PROCESSING_NOTICE));

    /* usca with GPC set, usmd's MspaMode, usin's sensitive sub-section */
    CHECK_INT(decode_s("DBABBg~BlqkqRBo.YA", &gpp, &err), 0);
    us = &gpp.sections[0].u.us;
    CHECK_INT(us->gpc, 1);
    CHECK_INT(us->field[CONSENT_GPP_SALE_OPT_OUT], 2);
    CHECK_INT(us->field[CONSENT_GPP_MSPA_SERVICE_PROVIDER_MODE], 2);

    CHECK_INT(decode_s("DBABEYA~BUgI", &gpp, &err), 0);
    us = &gpp.sections[0].u.us;
    CHECK_INT(us->field[CONSENT_GPP_MSPA_MODE], 1);
    CHECK_INT(us->field[CONSENT_GPP_SALE_OPT_OUT_NOTICE], 2);
    CHECK_INT(us->field[CONSENT_GPP_ADDITIONAL_DATA_PROCESSING_CONSENT], 2);

    CHECK_INT(decode_s("DBABUYA~BlBQ.oWk", &gpp, &err), 0);
    us = &gpp.sections[0].u.us;
    CHECK_INT(us->sensitive[0], 2);
    CHECK_INT(us->sensitive[3], 1);
    CHECK_INT(us->sensitive[7], 1);

    /* a GPC sub-section of another type is skipped; twice is refused */
    CHECK_INT(decode_s("DBABLA~CoZZIZiAZAGA.wA", &gpp, &err), 0);
    CHECK_INT(gpp.sections[0].sub_skipped, 1);
    CHECK_INT(gpp.sections[0].u.us.has_gpc, 0);
    CHECK_INT(decode_s("DBABLA~CoZZIZiAZAGA.QA.YA", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_DUPLICATE);
    CHECK_INT(decode_s("DBABLA~CoZZIZiAZAGA.", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_EMPTY);
    CHECK_INT(decode_s("DBABRg~BqqaqBg.QA", &gpp, &err), 0);
    CHECK_INT(gpp.sections[0].sub_skipped, 1);

    /* a Version to come is skipped, not read; "not found" by lookup */
    CHECK_INT(decode_s("DBABBg~CWIGJUVE", &gpp, &err), 0);
    CHECK_INT(gpp.nskipped, 1);
    CHECK(consent_gpp_section(&gpp, CONSENT_GPP_USCA) == NULL);

    /* usnat v2 with v1's length: cut short */
    CHECK_INT(decode_s("DBABLA~CCUgmmBZmWA", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_TRUNCATED);

    test_alloc_reset();
}


static void
test_gpp_delegates(void)
{
    consent_err_t               err;
    consent_gpp_t               gpp;
    const consent_gpp_tcfca_t  *ca;

    CHECK_INT(decode_s(tcfeu, &gpp, &err), 0);
    CHECK_INT(gpp.sections[0].id, CONSENT_GPP_TCFEUV2);
    CHECK_INT(gpp.sections[0].u.tcfeu->cmp_id, 3169);
    CHECK_INT(gpp.sections[0].u.tcfeu->cmp_version, 3549);

    CHECK_INT(decode_s("DBABTA~1-NY", &gpp, &err), 0);
    CHECK_INT(gpp.sections[0].u.usp.notice, CONSENT_USP_NA);
    CHECK_INT(gpp.sections[0].u.usp.opt_out_sale, CONSENT_USP_NO);
    CHECK_INT(gpp.sections[0].u.usp.lspa, CONSENT_USP_YES);

    CHECK_INT(decode_s("DBABTA~1-N", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_USP);
    CHECK_INT(decode_s("DBABMA~CQuf10AQ", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_TCFEU);

    CHECK_INT(decode_s(tcfca, &gpp, &err), 0);
    ca = gpp.sections[0].u.tcfca;
    CHECK_INT(ca->version, 1);
    CHECK_INT(ca->created, 15100992000ULL);
    CHECK_INT(ca->last_updated, 15101369401ULL);
    CHECK_INT(ca->cmp_id, 1742);
    CHECK_INT(ca->cmp_version, 82);
    CHECK_INT(ca->consent_screen, 5);
    CHECK_STR(ca->language, "TJ");
    CHECK_INT(ca->vendor_list_version, 1747);
    CHECK_INT(ca->policy_version, 29);
    CHECK(CONSENT_TCF_HAS(ca->purposes_express, 7));
    CHECK(CONSENT_TCF_HAS(ca->purposes_express, 20));
    CHECK(!CONSENT_TCF_HAS(ca->purposes_express, 8));
    CHECK_INT(popcount(ca->special_features_express), 8);
    CHECK_INT(ca->vendors_express.max_id, 0);
    CHECK_INT(consent_tcf_vendor(&ca->vendors_implied, 23), 1);
    CHECK_INT(consent_tcf_vendor(&ca->vendors_implied, 88), 1);
    CHECK_INT(consent_tcf_vendor(&ca->vendors_implied, 24), 0);
    CHECK_INT(ca->has_publisher, 1);
    CHECK_INT(ca->has_disclosed, 1);

    /* the core with no sub-sections; cut inside its vendor range */
    CHECK_INT(decode_s("DBABDA~BOEFtoAOEHJw5bOBSFTJbTdHtgQAoEeIQAAAC0GAYQyRkQ0"
                       "VqBZCWUJkoZUDFAyhNIBgAA", &gpp, &err), 0);
    CHECK_INT(gpp.sections[0].u.tcfca->has_publisher, 0);
    CHECK_INT(decode_s("DBABDA~BOEFtoAOEHJw5bOBSFTJbTdHtgQAoEeIQAAAC0GAYQyRk",
                       &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_TRUNCATED);

    test_alloc_reset();
}


static void
test_gpp_header(void)
{
    char                  s[600];
    size_t                n;
    unsigned              i, g[2 * 70];
    consent_err_t         err;
    consent_gpp_t         gpp;
    static const unsigned  one[] = { 2, 2 };
    static const unsigned  five6[] = { 5, 6 };
    static const unsigned  big[] = { 7, 7, 65535, 65535 };
    static const unsigned  past[] = { 65536, 65536 };
    static const unsigned  group[] = { 7, 9 };
    static const unsigned  wide[] = { 1, 4000000000U };

    /* the spec's examples: DBABM is [2], DBACNY [2, 6], DBABjw [5, 6] */
    CHECK_INT(header(s, one, 1), 5);
    CHECK_STR(s, "DBABM");
    CHECK_INT(header(s, five6, 1), 6);
    CHECK_STR(s, "DBABjw");

    CHECK_INT(decode_s("DBACNY~CQuf10AQuf10Axh3dAIWAAEgAG6o8AAAACyQAAAsIgHgANAI"
                       "SAkYBYwDOQHBARDAtkBxcDtoITQSiAn5BUQCwgAA.IApwAgAAwAdA"
                       "FMAA.YAAAAAAAAAAA~1YNN", &gpp, &err), 0);
    CHECK_INT(gpp.nsections, 2);
    CHECK_INT(gpp.sections[0].id, 2);
    CHECK_INT(gpp.sections[1].id, 6);
    CHECK_INT(decode_s("DBABjw~BOEFtoAOEHJw5bOBSFTJbTdHtgQAoEeIQAAAC0GAYQyRkQ0"
                       "VqBZCWUJkoZUDFAyhNIBgAA~1---", &gpp, &err), 0);
    CHECK_INT(gpp.sections[1].u.usp.notice, CONSENT_USP_NA);

    /* no sections at all */
    CHECK_INT(decode_s("DBAA", &gpp, &err), 0);
    CHECK_INT(gpp.nsections, 0);
    CHECK_INT(gpp.version, 1);

    /* a group of three; a big id, unknown, skipped; one past the max */
    n = header(s, group, 1);
    strcpy(s + n, "~BCUgmmBZmWA~BWIGJUVE~BqqaqBg");
    CHECK_INT(decode_s(s, &gpp, &err), 0);
    CHECK_INT(gpp.sections[2].id, 9);
    CHECK_INT(gpp.nskipped, 0);

    n = header(s, big, 2);
    strcpy(s + n, "~BCUgmmBZmWA~anything-at-all");
    CHECK_INT(decode_s(s, &gpp, &err), 0);
    CHECK_INT(gpp.sections[1].id, 65535);
    CHECK_INT(gpp.sections[1].skipped, 1);
    CHECK_INT(gpp.nskipped, 1);
    CHECK(consent_gpp_section(&gpp, 65535) == NULL);
    CHECK(consent_gpp_section(&gpp, 7) != NULL);
    CHECK(consent_gpp_section_name(65535) == NULL);

    n = header(s, past, 1);
    strcpy(s + n, "~x");
    CHECK_INT(decode_s(s, &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_IDS);

    /* a group of four billion ids: refused before it is expanded */
    n = header(s, wide, 1);
    strcpy(s + n, "~x");
    CHECK_INT(decode_s(s, &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_IDS);

    /* 64 single ids are the most; 65 are too many */
    for (i = 0; i < 65; i++) {
        g[2 * i] = g[2 * i + 1] = 100 + 2 * i;
    }

    n = header(s, g, 64);
    for (i = 0; i < 64; i++) {
        strcpy(s + n, "~A");
        n += 2;
    }
    CHECK_INT(decode_s(s, &gpp, &err), 0);
    CHECK_INT(gpp.nsections, 64);
    CHECK_INT(gpp.nskipped, 64);

    n = header(s, g, 65);
    strcpy(s + n, "~A");
    CHECK_INT(decode_s(s, &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_IDS);

    /* Type, Version; sections fewer or more than ids; empty ones */
    CHECK_INT(decode_s("CBABM~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_HEADER);
    CHECK_INT(decode_s("DCABM~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_HEADER);
    CHECK_INT(decode_s("DBABTA", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_COUNT);
    CHECK_INT(decode_s("DBABTA~1YNN~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_COUNT);
    CHECK_INT(decode_s("DBACNY~~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_EMPTY);
    CHECK_INT(decode_s("~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_EMPTY);
    CHECK_INT(decode_s("DBA.~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_CHAR);

    /*
     * A Fibonacci code that never ends: cut short; zeros past any
     * 32-bit value (bits.c stops at weights over 2^40): too large.  And a
     * count with no entries.
     */
    CHECK_INT(decode_s("DBABAAAAA~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_TRUNCATED);
    CHECK_INT(decode_s("DBABAAAAAAAAAAAAAAA~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_IDS);
    CHECK_INT(decode_s("DBAB~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_TRUNCATED);
    CHECK_INT(decode_s("DB~1YNN", &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_TRUNCATED);

    test_alloc_reset();
}


static void
test_gpp_bytes(void)
{
    char           *big;
    size_t          i, j, len;
    consent_err_t   err;
    consent_gpp_t   gpp;
    static const char  *bad[] = { "DBABTA~1YN+", "DBABTA~1YN/", "DBABTA~1YN=",
                                  "DBABTA ~1YNN", "DBABTA~1YNN\n", "DB%41BTA" };

    CHECK_INT(decode("", 0, &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_LENGTH);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(decode_s(bad[i], &gpp, &err), -1);
        CHECK_INT(err.code, CONSENT_GPP_E_CHAR);
        CHECK_INT(err.at.len, 1);
    }

    CHECK_INT(decode("DBABTA~1YNN\0", 12, &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_CHAR);

    /* the maximum length is read; one byte more is not */
    big = malloc(CONSENT_GPP_MAX_LEN + 1);
    memcpy(big, "DBABTA~1YNN", 11);
    memset(big + 11, 'A', CONSENT_GPP_MAX_LEN + 1 - 11);
    CHECK_INT(decode(big, CONSENT_GPP_MAX_LEN, &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_USP);
    CHECK_INT(decode(big, CONSENT_GPP_MAX_LEN + 1, &gpp, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_LENGTH);
    free(big);

    /*
     * Every prefix of every vector: refused or read, never read past.
     * Those that end inside the header, or in a core with no padding
     * to spare, are refused.
     */
    for (i = 0; i < sizeof(us_vectors) / sizeof(us_vectors[0]); i++) {
        len = strlen(us_vectors[i].gpp);
        for (j = 0; j < len; j++) {
            decode(us_vectors[i].gpp, j, &gpp, &err);
        }
    }

    for (j = 0; j < strlen(tcfca); j++) {
        decode(tcfca, j, &gpp, &err);
    }

    for (j = 0; j < strlen(tcfeu); j++) {
        decode(tcfeu, j, &gpp, &err);
    }

    for (j = 0; j < 14; j++) {
        CHECK_INT(decode("DBABBg~BWIGJUVE", j, &gpp, &err), -1);
    }

    CHECK_INT(decode("DBABBg~BWIGJUVE", 15, &gpp, &err), 0);

    test_alloc_reset();
}


static void
test_gpp_sid(void)
{
    int            n;
    unsigned       ids[4];
    consent_err_t  err;

    n = consent_gpp_sid_parse(U("2,7"), 3, ids, 4, &err);
    CHECK_INT(n, 2);
    CHECK_INT(ids[0], 2);
    CHECK_INT(ids[1], 7);

    n = consent_gpp_sid_parse(U("7_8"), 3, ids, 4, &err);
    CHECK_INT(n, 2);
    CHECK_INT(ids[1], 8);

    CHECK_INT(consent_gpp_sid_parse(U("7"), 1, ids, 4, &err), 1);
    CHECK_INT(consent_gpp_sid_parse(U("-1"), 2, ids, 4, &err), 0);
    CHECK_INT(consent_gpp_sid_parse(U("65535"), 5, ids, 4, &err), 1);
    CHECK_INT(ids[0], 65535);

    CHECK_INT(consent_gpp_sid_parse(U(""), 0, ids, 4, &err), -1);
    CHECK_INT(err.code, CONSENT_GPP_E_SID);
    CHECK_INT(consent_gpp_sid_parse(U("2,,7"), 4, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("2,"), 2, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U(",2"), 2, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("2,7_8"), 5, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("0"), 1, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("65536"), 5, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("9999999999"), 10, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("-2"), 2, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("2 7"), 3, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("1,2,3,4,5"), 9, ids, 4, &err), -1);
    CHECK_INT(consent_gpp_sid_parse(U("1,2,3,4"), 7, ids, 4, &err), 4);
}


void
test_gpp(void)
{
    test_gpp_us();
    test_gpp_delegates();
    test_gpp_header();
    test_gpp_bytes();
    test_gpp_sid();
}
