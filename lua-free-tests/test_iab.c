/*
 * Copyright (C) ngx_consent_module authors
 *
 * What the IAB strings mean for enforcement (iab.c): which string
 * speaks, the facts read from it, the trust policy, the map onto the
 * module's purposes; and consent_rule_refused() (strip.c), which applies
 * the vendor refusals.  TC strings and US sections are written here
 * field by field (tcfwrite.h), so that each test knows every bit; the
 * IAB's own strings check the same paths on real input.
 */

#include "test.h"
#include "iab.h"
#include "gpp.h"
#include "strip.h"
#include "tcf.h"
#include "usp.h"
#include "tcfwrite.h"


/* a TCF purpose or special feature as consent_iab_t holds it */
#define T(id)  ((uint32_t) 1 << ((id) - 1))

/* the spec's example, TCF v2.3: CmpId 880, vendor consents 1 and 4 */
#define IAB_SPEC_EXAMPLE                                                     \
    "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA"      \
    ".YAAAAAAAAAAA"

/* the v2.0 spec's example: a core segment alone, refused since v2.3 */
#define IAB_CORE_ONLY  "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA"

/*
 * The IAB library's tcfeuv2 section alone (test_gpp.c): CmpId 3169,
 * LastUpdated 17959968000, purposes 2-3, 5-7, 9, 11, 13, 17-20, no
 * special feature, MaxVendorId 0.
 */
static const char  iab_tcfeu[] =
    "DBABMA~CQuf10AQuf10Axh3dAIWAAEgAG6o8AAAACyQAAAsIgHgANAISAkYBYwDOQHBARDA"
    "tkBxcDtoITQSiAn5BUQCwgAA.IApwAgAAwAdAFMAA.YAAAAAAAAAAA";

/* room for whatever the writer holds */
#define IAB_STR  sizeof(tw.out)

#define IAB_BITFIELD  0
#define IAB_RANGES    1


static consent_iab_t   iab;
static unsigned char   iab_refused[4];


/* purposes or features (bit id - 1) as sent: id 1 most significant */

static uint32_t
iab_sent(uint32_t mask, unsigned n)
{
    unsigned  i;
    uint32_t  sent;

    sent = 0;

    for (i = 0; i < n; i++) {
        if (mask & ((uint32_t) 1 << i)) {
            sent |= (uint32_t) 1 << (n - 1 - i);
        }
    }

    return sent;
}


/*
 * A whole TC string: the core c, vendor consents as a bit field (v the
 * ids, 0-terminated) or as ranges (n start, end pairs), no legitimate
 * interests or restrictions, an empty disclosed vendors segment.
 */

static void
iab_tc(char *s, const tw_core_t *c, int how, unsigned max, unsigned n,
    const unsigned *v)
{
    static const unsigned  none[] = { 0 };

    tw_reset();
    tw_core(c);

    if (how == IAB_RANGES) {
        tw_ranges(max, n, v);

    } else {
        tw_bitfield(max, v);
    }

    tw_close(0, none);

    snprintf(s, IAB_STR, "%s", tw.out);
}


/* a TC string of the default core with CmpId cmp and no vendor consent */

static void
iab_tc_cmp(char *s, unsigned cmp)
{
    tw_core_t              c;
    static const unsigned  none[] = { 0 };

    c = tw_core_default;
    c.cmp_id = cmp;
    iab_tc(s, &c, IAB_BITFIELD, 0, 0, none);
}


/* a GPP string: the header for ids (ascending), then the n sections */

static void
iab_gpp(char *s, unsigned n, const unsigned *ids, const char *const *sec)
{
    size_t    len;
    unsigned  i, last;

    tw_reset();
    tw_put(CONSENT_GPP_TYPE, 6);
    tw_put(CONSENT_GPP_VERSION, 6);
    tw_put(n, 12);

    for (i = 0, last = 0; i < n; i++) {
        tw_put(0, 1);
        tw_fib(ids[i] - last);
        last = ids[i];
    }

    tw_seg();

    len = snprintf(s, IAB_STR, "%s", tw.out);

    for (i = 0; i < n; i++) {
        len += snprintf(s + len, IAB_STR - len, "~%s", sec[i]);
    }
}


/* a GPP string of one section */

static void
iab_gpp1(char *s, unsigned id, const char *sec)
{
    iab_gpp(s, 1, &id, &sec);
}


/*
 * The end of a US section of version 1, its opt-outs written: nsensitive
 * sensitive data fields and the known child ones, none set; personal
 * data, an MSPA covered transaction; then a GPC sub-section (gpc < 0 for
 * none); all of it into s.
 */

static void
iab_us_end(char *s, unsigned nsensitive, int gpc)
{
    tw_put(0, 2 * nsensitive);                     /* sensitive data */
    tw_put(0, 2 * 2);                              /* known child */
    tw_put(2, 2);                                  /* PersonalDataConsents */
    tw_put(2, 2);                                  /* MspaCovered... */
    tw_put(0, 2 * 2);                              /* the Mspa modes */
    tw_seg();

    if (gpc >= 0) {
        tw_put(1, 2);                              /* SubsectionType */
        tw_put((unsigned) gpc, 1);
        tw_seg();
    }

    snprintf(s, IAB_STR, "%s", tw.out);
}


/* usnat version 1: every notice given, the three opt-outs as given */

static void
iab_usnat(char *s, unsigned sale, unsigned sharing, unsigned ads, int gpc)
{
    unsigned  i;

    tw_reset();
    tw_put(1, 6);                                  /* Version */

    for (i = 0; i < 6; i++) {
        tw_put(1, 2);                              /* the notices */
    }

    tw_put(sale, 2);
    tw_put(sharing, 2);
    tw_put(ads, 2);
    iab_us_end(s, 12, gpc);
}


/* usca version 1: the notices given, SaleOptOut and SharingOptOut */

static void
iab_usca(char *s, unsigned sale, unsigned sharing, int gpc)
{
    tw_reset();
    tw_put(1, 6);                                  /* Version */
    tw_put(1, 2);                                  /* SaleOptOutNotice */
    tw_put(1, 2);                                  /* SharingOptOut... */
    tw_put(1, 2);                                  /* SensitiveData... */
    tw_put(sale, 2);
    tw_put(sharing, 2);
    iab_us_end(s, 9, gpc);
}


static void
iab_span(consent_span_t *span, const char *s)
{
    span->data = U(s ? s : "");
    span->len = s ? strlen(s) : 0;
}


/*
 * consent_iab_read() of the cookies given (NULL: not sent) into iab and
 * iab_refused, which start zeroed, iab_refused past nvendors too.
 */

static int
iab_read_with(const consent_alloc_t *a, const char *tcf, const char *gpp,
    const char *sid, const char *usp, const uint16_t *gvl, unsigned nvendors)
{
    consent_iab_strings_t  s;

    iab_span(&s.tcf, tcf);
    iab_span(&s.gpp, gpp);
    iab_span(&s.gpp_sid, sid);
    iab_span(&s.usp, usp);

    memset(iab_refused, 0, sizeof(iab_refused));
    memset(&iab, 0xa5, sizeof(iab));

    return consent_iab_read(&s, a, gvl, nvendors, iab_refused, &iab);
}


static int
iab_read(const char *tcf, const char *gpp, const char *sid, const char *usp)
{
    return iab_read_with(&test_alloc, tcf, gpp, sid, usp, NULL, 0);
}


/* nothing read from a TC string: its facts all zero */

static int
iab_no_tcf(void)
{
    return iab.tcf == 0 && iab.tcf_gpp == 0 && iab.cmp_id == 0
           && iab.purposes == 0 && iab.features == 0 && iab.updated == 0
           && iab.vendor_refused == 0 && iab_refused[0] == 0
           && iab_refused[1] == 0;
}


/* the writers against the decoders and the IAB's own strings */

static void
test_iab_writers(void)
{
    char                      s[IAB_STR], sec[IAB_STR];
    consent_err_t             err;
    consent_gpp_t             gpp;
    const consent_gpp_us_t   *us;
    static const unsigned     two[] = { 2 };
    static const unsigned     two6[] = { 2, 6 };
    static const char *const  sec2[] = { "x", "1YNN" };

    /* the spec's headers: DBABM is [2], DBACNY [2, 6] */
    iab_gpp(s, 1, two, sec2);
    CHECK_STR(s, "DBABM~x");
    iab_gpp(s, 2, two6, sec2);
    CHECK_STR(s, "DBACNY~x~1YNN");

    iab_usnat(sec, 1, 2, 0, 1);
    iab_gpp1(s, CONSENT_GPP_USNAT, sec);
    CHECK_INT(consent_gpp_decode(U(s), strlen(s), &test_alloc, &gpp, &err),
              0);
    CHECK_INT(gpp.nsections, 1);
    us = &gpp.sections[0].u.us;
    CHECK_INT(gpp.sections[0].id, CONSENT_GPP_USNAT);
    CHECK_INT(us->version, 1);
    CHECK_INT(us->field[CONSENT_GPP_SALE_OPT_OUT], 1);
    CHECK_INT(us->field[CONSENT_GPP_SHARING_OPT_OUT], 2);
    CHECK_INT(us->field[CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT], 0);
    CHECK_INT(us->field[CONSENT_GPP_MSPA_COVERED_TRANSACTION], 2);
    CHECK_INT(us->has_gpc, 1);
    CHECK_INT(us->gpc, 1);

    iab_usca(sec, 2, 1, -1);
    iab_gpp1(s, CONSENT_GPP_USCA, sec);
    CHECK_INT(consent_gpp_decode(U(s), strlen(s), &test_alloc, &gpp, &err),
              0);
    us = &gpp.sections[0].u.us;
    CHECK_INT(gpp.sections[0].id, CONSENT_GPP_USCA);
    CHECK_INT(us->field[CONSENT_GPP_SALE_OPT_OUT], 2);
    CHECK_INT(us->field[CONSENT_GPP_SHARING_OPT_OUT], 1);
    CHECK_INT(us->field[CONSENT_GPP_MSPA_COVERED_TRANSACTION], 2);
    CHECK_INT(us->has_gpc, 0);

    test_alloc_reset();
}


/* euconsent-v2 alone: the facts of its core */

static void
test_iab_read_tcf(void)
{
    char                   s[IAB_STR];
    tw_core_t              c;
    static const unsigned  none[] = { 0 };

    c = tw_core_default;
    c.cmp_id = 31;
    c.updated = 17489088009ULL;                    /* deciseconds */
    c.pc = iab_sent(T(1) | T(3) | T(4) | T(7) | T(24), 24);
    c.sf = iab_sent(T(1) | T(12), 12);
    iab_tc(s, &c, IAB_BITFIELD, 0, 0, none);

    CHECK_INT(iab_read(s, NULL, NULL, NULL), 0);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab.vendor_refused, 0);
    CHECK_INT(iab.cmp_id, 31);
    CHECK_INT(iab.purposes, T(1) | T(3) | T(4) | T(7) | T(24));
    CHECK_INT(iab.features, T(1) | T(12));
    CHECK_INT(iab.updated, 1748908800);            /* rounded down */
    CHECK_INT(iab.tcf_error, 0);
    CHECK_INT(iab.gpp_error, 0);
    CHECK_INT(iab.sid_error, 0);
    CHECK_INT(iab.usp_error, 0);

    /* at the limits of the fields */
    c.cmp_id = 4095;
    c.updated = (1ULL << 36) - 1;
    c.pc = 0xffffff;
    c.sf = 0xfff;
    iab_tc(s, &c, IAB_BITFIELD, 0, 0, none);
    CHECK_INT(iab_read(s, NULL, NULL, NULL), 0);
    CHECK_INT(iab.cmp_id, 4095);
    CHECK_INT(iab.purposes, 0xffffff);
    CHECK_INT(iab.features, 0xfff);
    CHECK_INT(iab.updated, ((1LL << 36) - 1) / 10);

    c.cmp_id = 0;
    c.updated = 9;
    c.pc = 0;
    c.sf = 0;
    iab_tc(s, &c, IAB_BITFIELD, 0, 0, none);
    CHECK_INT(iab_read(s, NULL, NULL, NULL), 0);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.cmp_id, 0);
    CHECK_INT(iab.purposes, 0);
    CHECK_INT(iab.features, 0);
    CHECK_INT(iab.updated, 0);

    /* the spec's own string */
    CHECK_INT(iab_read(IAB_SPEC_EXAMPLE, NULL, NULL, NULL), 0);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.cmp_id, 880);
    CHECK_INT(iab.updated, 1748908800);
    CHECK_INT(iab.purposes, 0);

    /* nothing sent: nothing read, no error */
    CHECK_INT(iab_read(NULL, NULL, NULL, NULL), 0);
    CHECK(iab_no_tcf());
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab.tcf_error + iab.gpp_error + iab.sid_error
              + iab.usp_error, 0);
    CHECK_INT(iab_read("", "", "", ""), 0);
    CHECK(iab_no_tcf());
    CHECK_INT(iab.tcf_error + iab.gpp_error + iab.sid_error
              + iab.usp_error, 0);

    test_alloc_reset();
}


/* the rules' vendors with a GVL id that the TC string gives no consent */

static void
test_iab_vendors(void)
{
    char                   s[IAB_STR], g[IAB_STR];
    tw_core_t              c;
    static const unsigned  none[] = { 0 };
    static const unsigned  bits[] = { 1, 8, 9, 0 };
    static const unsigned  ranges[] = { 1, 0, 8, 9 };
    static const unsigned  every[] = { 1, 65535 };

    /*
     * Rules vendor i has GVL id gvl[i]: 0 none; 11 and 70 past the
     * string's MaxVendorId of 10; vendors 8 and 9 in the second byte.
     */
    static const uint16_t  gvl[] = { 0, 1, 2, 8, 9, 10, 11, 0, 70, 3, 0,
                                     1 };

    c = tw_core_default;

    /* consents 1, 8, 9: refused 2 (i 2), 10 (5), 11 (6), 70 (8), 3 (9) */
    iab_tc(s, &c, IAB_BITFIELD, 10, 0, bits);
    CHECK_INT(iab_read_with(&test_alloc, s, NULL, NULL, NULL, gvl, 12), 0);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.vendor_refused, 1);
    CHECK_INT(iab_refused[0], 1 << 2 | 1 << 5 | 1 << 6);
    CHECK_INT(iab_refused[1], 1 << 0 | 1 << 1);
    CHECK_INT(iab_refused[2], 0);
    CHECK(CONSENT_IAB_BIT(iab_refused, 8));
    CHECK(!CONSENT_IAB_BIT(iab_refused, 7));
    CHECK(!CONSENT_IAB_BIT(iab_refused, 11));

    /* the same set as ranges */
    iab_tc(s, &c, IAB_RANGES, 10, 2, ranges);
    CHECK_INT(iab_read_with(&test_alloc, s, NULL, NULL, NULL, gvl, 12), 0);
    CHECK_INT(iab.vendor_refused, 1);
    CHECK_INT(iab_refused[0], 1 << 2 | 1 << 5 | 1 << 6);
    CHECK_INT(iab_refused[1], 1 << 0 | 1 << 1);

    /* only the first nvendors are looked at */
    CHECK_INT(iab_read_with(&test_alloc, s, NULL, NULL, NULL, gvl, 2), 0);
    CHECK_INT(iab.vendor_refused, 0);
    CHECK_INT(iab_refused[0], 0);
    CHECK_INT(iab_read_with(&test_alloc, s, NULL, NULL, NULL, gvl, 9), 0);
    CHECK_INT(iab_refused[0], 1 << 2 | 1 << 5 | 1 << 6);
    CHECK_INT(iab_refused[1], 1 << 0);

    /* every vendor consented: none refused */
    iab_tc(s, &c, IAB_RANGES, 65535, 1, every);
    CHECK_INT(iab_read_with(&test_alloc, s, NULL, NULL, NULL, gvl, 12), 0);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.vendor_refused, 0);
    CHECK_INT(iab_refused[0], 0);
    CHECK_INT(iab_refused[1], 0);

    /* no vendor consented: every vendor with a GVL id refused */
    iab_tc(s, &c, IAB_BITFIELD, 0, 0, none);
    CHECK_INT(iab_read_with(&test_alloc, s, NULL, NULL, NULL, gvl, 12), 0);
    CHECK_INT(iab.vendor_refused, 1);
    CHECK_INT(iab_refused[0], 0x7f & ~(1 << 0));
    CHECK_INT(iab_refused[1], 1 << 0 | 1 << 1 | 1 << 3);

    /* the spec's string consents 1 and 4 of MaxVendorId 4 */
    CHECK_INT(iab_read_with(&test_alloc, IAB_SPEC_EXAMPLE, NULL, NULL, NULL,
                            gvl, 12), 0);
    CHECK(!CONSENT_IAB_BIT(iab_refused, 1));
    CHECK(CONSENT_IAB_BIT(iab_refused, 3));        /* GVL 8 */
    CHECK(!CONSENT_IAB_BIT(iab_refused, 11));      /* GVL 1 */

    /* no TC string, or one refused: no vendor refused */
    CHECK_INT(iab_read_with(&test_alloc, NULL, NULL, NULL, "1YYN", gvl, 12),
              0);
    CHECK(iab_no_tcf());
    CHECK_INT(iab_read_with(&test_alloc, IAB_CORE_ONLY, NULL, NULL, NULL,
                            gvl, 12), 0);
    CHECK(iab_no_tcf());

    /* a TC string of GPP that applies: its vendors, not euconsent-v2's */
    iab_tc(s, &c, IAB_RANGES, 65535, 1, every);
    iab_gpp1(g, CONSENT_GPP_TCFEUV2, s);
    iab_tc(s, &c, IAB_BITFIELD, 0, 0, none);
    CHECK_INT(iab_read_with(&test_alloc, s, g, "2", NULL, gvl, 12), 0);
    CHECK_INT(iab.tcf_gpp, 1);
    CHECK_INT(iab.vendor_refused, 0);
    CHECK_INT(iab_refused[0], 0);
    CHECK_INT(iab_read_with(&test_alloc, s, g, "7", NULL, gvl, 12), 0);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.vendor_refused, 1);
    CHECK_INT(iab_refused[0], 0x7e);

    /* the IAB's string has MaxVendorId 0 */
    CHECK_INT(iab_read_with(&test_alloc, NULL, iab_tcfeu, "2", NULL, gvl, 12),
              0);
    CHECK_INT(iab.vendor_refused, 1);
    CHECK_INT(iab_refused[0], 0x7e);

    test_alloc_reset();
}


/* GPP section 2 speaks when __gpp_sid lists 2, and then over euconsent */

static void
test_iab_gpp_tcf(void)
{
    char                   a[IAB_STR], b[IAB_STR], g[IAB_STR];
    char                   u[IAB_STR];
    const char            *sec[2];
    static const unsigned  two7[] = { 2, 7 };
    static const unsigned  two6[] = { 2, 6 };

    iab_tc_cmp(a, 10);
    iab_tc_cmp(b, 20);
    iab_gpp1(g, CONSENT_GPP_TCFEUV2, a);

    CHECK_INT(iab_read(b, g, "2", NULL), 0);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.tcf_gpp, 1);
    CHECK_INT(iab.cmp_id, 10);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab_read(b, g, "7,2", NULL), 0);
    CHECK_INT(iab.cmp_id, 10);
    CHECK_INT(iab_read(b, g, "2_8", NULL), 0);
    CHECK_INT(iab.cmp_id, 10);
    CHECK_INT(iab_read(NULL, g, "2", NULL), 0);
    CHECK_INT(iab.tcf_gpp, 1);
    CHECK_INT(iab.cmp_id, 10);

    /* not listed: euconsent-v2, or no TC string at all */
    CHECK_INT(iab_read(b, g, "7", NULL), 0);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 20);
    CHECK_INT(iab_read(b, g, "-1", NULL), 0);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 20);
    CHECK_INT(iab_read(NULL, g, "7", NULL), 0);
    CHECK(iab_no_tcf());
    CHECK_INT(iab_read(NULL, g, "-1", NULL), 0);
    CHECK(iab_no_tcf());

    /* no __gpp_sid, or one refused: no TC string from GPP */
    CHECK_INT(iab_read(b, g, NULL, NULL), 0);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 20);
    CHECK_INT(iab.sid_error, 0);
    CHECK_INT(iab_read(NULL, g, NULL, NULL), 0);
    CHECK(iab_no_tcf());
    CHECK_INT(iab_read(b, g, "2,,7", NULL), 0);
    CHECK_INT(iab.sid_error, CONSENT_GPP_E_SID);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 20);
    CHECK_INT(iab_read(NULL, g, "two", NULL), 0);
    CHECK_INT(iab.sid_error, CONSENT_GPP_E_SID);
    CHECK(iab_no_tcf());

    /* 2 listed but no section 2: euconsent-v2 */
    iab_usnat(u, 2, 2, 2, -1);
    iab_gpp1(g, CONSENT_GPP_USNAT, u);
    CHECK_INT(iab_read(b, g, "2,7", NULL), 0);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 20);
    CHECK_INT(iab.us, 1);

    /* with a US section: each read for what it is */
    iab_usnat(u, 1, 2, 2, -1);
    sec[0] = a;
    sec[1] = u;
    iab_gpp(g, 2, two7, sec);
    CHECK_INT(iab_read(b, g, "2,7", NULL), 0);
    CHECK_INT(iab.cmp_id, 10);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(b, g, "2", NULL), 0);
    CHECK_INT(iab.cmp_id, 10);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(b, g, "7", NULL), 0);
    CHECK_INT(iab.cmp_id, 20);
    CHECK_INT(iab.us_opt_out, 1);

    sec[1] = "1YYN";
    iab_gpp(g, 2, two6, sec);
    CHECK_INT(iab_read(NULL, g, "2,6", NULL), 0);
    CHECK_INT(iab.tcf_gpp, 1);
    CHECK_INT(iab.cmp_id, 10);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 1);

    /* the IAB's string */
    CHECK_INT(iab_read(IAB_SPEC_EXAMPLE, iab_tcfeu, "2", NULL), 0);
    CHECK_INT(iab.tcf_gpp, 1);
    CHECK_INT(iab.cmp_id, 3169);
    CHECK_INT(iab.updated, 1795996800);
    CHECK_INT(iab.purposes, T(2) | T(3) | T(5) | T(6) | T(7) | T(9) | T(11)
                            | T(13) | T(17) | T(18) | T(19) | T(20));
    CHECK_INT(iab.features, 0);
    CHECK_INT(iab_read(IAB_SPEC_EXAMPLE, iab_tcfeu, "6", NULL), 0);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 880);

    test_alloc_reset();
}


/* one US section's opt-outs: us_opt_out for sid (NULL: none sent) */

static int
iab_us(unsigned id, const char *sec, const char *sid)
{
    char  g[IAB_STR];

    iab_gpp1(g, id, sec);

    if (iab_read(NULL, g, sid, NULL) != 0 || iab.gpp_error || iab.tcf) {
        return -1;
    }

    return iab.us ? iab.us_opt_out : -2;
}


static void
test_iab_gpp_us(void)
{
    char                   u[IAB_STR], c[IAB_STR], g[IAB_STR];
    const char            *sec[2];
    static const unsigned  us78[] = { 7, 8 };

    /* usnat: each opt-out alone; 1 is "opted out", 2 not, 0 and 3 n/a */
    iab_usnat(u, 1, 2, 2, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 1);
    iab_usnat(u, 2, 1, 2, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 1);
    iab_usnat(u, 2, 2, 1, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 1);
    iab_usnat(u, 2, 2, 2, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 0);
    iab_usnat(u, 0, 0, 0, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 0);
    iab_usnat(u, 3, 3, 3, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 0);

    /* the GPC sub-section: 1 is an opt-out, 0 is not */
    iab_usnat(u, 2, 2, 2, 1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 1);
    iab_usnat(u, 2, 2, 2, 0);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7"), 0);

    /* usca has no TargetedAdvertisingOptOut */
    iab_usca(c, 1, 2, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USCA, c, "8"), 1);
    iab_usca(c, 2, 1, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USCA, c, "8"), 1);
    iab_usca(c, 2, 2, -1);
    CHECK_INT(iab_us(CONSENT_GPP_USCA, c, "8"), 0);
    iab_usca(c, 2, 2, 1);
    CHECK_INT(iab_us(CONSENT_GPP_USCA, c, "8"), 1);
    iab_usca(c, 2, 2, 0);
    CHECK_INT(iab_us(CONSENT_GPP_USCA, c, "8"), 0);

    /* a section __gpp_sid does not list is not read */
    iab_usnat(u, 1, 1, 1, 1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "8"), -2);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "2"), -2);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "-1"), -2);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "2,8,9"), -2);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "2,7,9"), 1);

    /* no __gpp_sid, or an invalid one: every US section counts */
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, NULL), 1);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "7,"), 1);
    CHECK_INT(iab.sid_error, CONSENT_GPP_E_SID);
    CHECK_INT(iab_us(CONSENT_GPP_USNAT, u, "0"), 1);
    CHECK_INT(iab.sid_error, CONSENT_GPP_E_SID);

    /* two sections: only the listed one's opt-out counts */
    iab_usnat(u, 2, 2, 2, -1);
    iab_usca(c, 1, 2, -1);
    sec[0] = u;
    sec[1] = c;
    iab_gpp(g, 2, us78, sec);
    CHECK_INT(iab_read(NULL, g, "7", NULL), 0);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, g, "8", NULL), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, g, "7,8", NULL), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, g, NULL, NULL), 0);
    CHECK_INT(iab.us_opt_out, 1);

    /* a section of a Version to come is skipped, not read */
    CHECK_INT(iab_read(NULL, "DBABBg~CWIGJUVE", "8", NULL), 0);
    CHECK_INT(iab.gpp_error, 0);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab_read(NULL, "DBABBg~CWIGJUVE", NULL, "1YNN"), 0);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 0);

    /* uspv1 in GPP: Opt-Out Sale Y */
    CHECK_INT(iab_us(CONSENT_GPP_USPV1, "1YYN", "6"), 1);
    CHECK_INT(iab_us(CONSENT_GPP_USPV1, "1YYN", NULL), 1);
    CHECK_INT(iab_us(CONSENT_GPP_USPV1, "1YYN", "7"), -2);
    CHECK_INT(iab_us(CONSENT_GPP_USPV1, "1YNN", "6"), 0);
    CHECK_INT(iab_us(CONSENT_GPP_USPV1, "1---", "6"), 0);
    CHECK_INT(iab_us(CONSENT_GPP_USPV1, "1NYY", "6"), 1);

    /*
     * The IAB's strings: usca and usco with nothing opted out; usva and
     * usco with TargetedAdvertisingOptOut 1; ustn with SaleOptOut 1 and
     * GPC 1; usnat with SharingOptOut 1 and GPC, ustx with Targeted...
     * 1, usnj with SaleOptOut 1.
     */
    CHECK_INT(iab_read(NULL, "DBACBmA~BIoUIZRI~BEqCSKQ", NULL, NULL), 0);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, "DBABx4A~BVlmmSo~BklJUUQ", "9", NULL), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, "DBABx4A~BVlmmSo~BklJUUQ", "8", NULL), 0);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, "DBABQYA~BlaBZKiA.YA", "22", NULL), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, "DBADLRhg~BihkEhJoUYA.YA~BFkGWpqA~BpViaSgFkA",
                       "16", NULL), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, "DBADLRhg~BihkEhJoUYA.YA~BFkGWpqA~BpViaSgFkA",
                       "7", NULL), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, "DBADLRhg~BihkEhJoUYA.YA~BFkGWpqA~BpViaSgFkA",
                       "8,9", NULL), 0);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);

    test_alloc_reset();
}


/* the usprivacy cookie, alone and with GPP */

static void
test_iab_usp(void)
{
    char  u[IAB_STR], g[IAB_STR];

    CHECK_INT(iab_read(NULL, NULL, NULL, "1YYN"), 0);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK(iab_no_tcf());
    CHECK_INT(iab_read(NULL, NULL, NULL, "1YNN"), 0);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, NULL, NULL, "1---"), 0);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, NULL, NULL, "1NYY"), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, NULL, NULL, "1yyn"), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab.usp_error, 0);

    /* refused: not sent */
    CHECK_INT(iab_read(NULL, NULL, NULL, "1YY"), 0);
    CHECK_INT(iab.usp_error, CONSENT_USP_E_LENGTH);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, NULL, NULL, "1YYNN"), 0);
    CHECK_INT(iab.usp_error, CONSENT_USP_E_LENGTH);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, NULL, NULL, "2YYN"), 0);
    CHECK_INT(iab.usp_error, CONSENT_USP_E_VERSION);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(NULL, NULL, NULL, "1YXN"), 0);
    CHECK_INT(iab.usp_error, CONSENT_USP_E_VALUE);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);

    /* an opt-out of either kind stands; __gpp_sid is not the cookie's */
    iab_usnat(u, 1, 2, 2, -1);
    iab_gpp1(g, CONSENT_GPP_USNAT, u);
    CHECK_INT(iab_read(NULL, g, "7", "1YNN"), 0);
    CHECK_INT(iab.us_opt_out, 1);
    iab_usnat(u, 2, 2, 2, -1);
    iab_gpp1(g, CONSENT_GPP_USNAT, u);
    CHECK_INT(iab_read(NULL, g, "7", "1YYN"), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, g, "-1", "1YYN"), 0);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, g, "7", "1YNN"), 0);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 0);

    test_alloc_reset();
}


/* strings a decoder refuses count as not sent, and are never half-read */

static void
test_iab_invalid(void)
{
    char                   a[IAB_STR], b[IAB_STR], u[IAB_STR];
    char                   g[IAB_STR];
    const char            *sec[2];
    static const unsigned  two7[] = { 2, 7 };

    iab_tc_cmp(b, 20);

    CHECK_INT(iab_read("not a TC string", NULL, NULL, NULL), 0);
    CHECK_INT(iab.tcf_error, CONSENT_TCF_E_BASE64);
    CHECK(iab_no_tcf());
    CHECK_INT(iab_read(IAB_CORE_ONLY, NULL, NULL, NULL), 0);
    CHECK_INT(iab.tcf_error, CONSENT_TCF_E_NO_DISCLOSED);
    CHECK(iab_no_tcf());
    CHECK_INT(iab_read("CQSbk4AQSbk4ANwAAAENAwCgAAAA.IAAA", NULL, NULL, NULL),
              0);
    CHECK_INT(iab.tcf_error, CONSENT_TCF_E_TRUNCATED);
    CHECK(iab_no_tcf());

    /*
     * A refused GPP string whose applicable sections (__gpp_sid's, else
     * its header's) include a US one counts as an opt-out: what it said
     * cannot be known, and a missed opt-out costs the visitor's choice
     */
    CHECK_INT(iab_read(NULL, "DBABTA~1YN", NULL, NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_USP);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, "DBABLA~CCUgmmBZmWA", "7", NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_TRUNCATED);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab_read(NULL, "DBABTA~1YYN~1YYN", NULL, NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_COUNT);
    CHECK_INT(iab.us_opt_out, 1);
    /* ... but not where __gpp_sid says no US section applies */
    CHECK_INT(iab_read(NULL, "DBABLA~CCUgmmBZmWA", "2", NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_TRUNCATED);
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);
    /* ... nor for a header that itself cannot be read */
    CHECK_INT(iab_read(NULL, "AAAA~1YYN", NULL, NULL), 0);
    CHECK(iab.gpp_error != 0);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK_INT(iab_read(b, "DBABMA~CQuf10AQ", "2", NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_TCFEU);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 20);

    /*
     * A GPP string whose TC string is refused: its US section is not
     * read, but it applies, so the visitor counts as opted out;
     * euconsent-v2 speaks for the TCF.
     */
    iab_usnat(u, 1, 1, 1, 1);
    sec[0] = "CQuf10AQ";
    sec[1] = u;
    iab_gpp(g, 2, two7, sec);
    CHECK_INT(iab_read(b, g, "2,7", NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_TCFEU);
    CHECK_INT(iab.us, 1);
    CHECK_INT(iab.us_opt_out, 1);
    CHECK_INT(iab.tcf, 1);
    CHECK_INT(iab.tcf_gpp, 0);
    CHECK_INT(iab.cmp_id, 20);

    /* and a refused US section takes the valid TC string with it */
    iab_tc_cmp(a, 10);
    sec[0] = a;
    sec[1] = "CCUgmmBZmWA";                       /* usnat v2, cut short */
    iab_gpp(g, 2, two7, sec);
    CHECK_INT(iab_read(NULL, g, "2,7", NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_TRUNCATED);
    CHECK(iab_no_tcf());

    /* __gpp_sid refused while GPP is: only GPP's error */
    CHECK_INT(iab_read(NULL, "DBABTA~1YN", "bad", NULL), 0);
    CHECK_INT(iab.gpp_error, CONSENT_GPP_E_USP);
    CHECK_INT(iab.sid_error, 0);

    /* everything refused at once */
    CHECK_INT(iab_read("x", "y", "z", "w"), 0);
    CHECK(iab_no_tcf());
    CHECK_INT(iab.us, 0);
    CHECK_INT(iab.us_opt_out, 0);
    CHECK(iab.tcf_error != 0);
    CHECK(iab.gpp_error != 0);
    CHECK(iab.usp_error != 0);

    test_alloc_reset();
}


/* -1 for every budget short of what the strings need, then the facts */

static unsigned
iab_nomem(const char *tcf, const char *gpp, const char *sid,
    const uint16_t *gvl, unsigned nvendors, consent_iab_t *whole)
{
    unsigned                n;
    const consent_alloc_t  *a = &test_alloc_limited;

    for (n = 0; n < 20; n++) {
        test_alloc_budget = n;

        if (iab_read_with(a, tcf, gpp, sid, "1YYN", gvl, nvendors) == 0) {
            break;
        }
    }

    *whole = iab;

    return n;
}


static void
test_iab_nomem(void)
{
    char                    s[IAB_STR], u[IAB_STR], g[IAB_STR];
    unsigned                n, i;
    tw_core_t               c;
    consent_iab_t           whole;
    unsigned char           refused[2];
    const char             *sec[2];
    const consent_alloc_t  *a = &test_alloc_limited;
    static const unsigned   two7[] = { 2, 7 };
    static const unsigned   bits[] = { 1, 8, 9, 0 };
    static const uint16_t   gvl[] = { 0, 1, 2, 8, 9, 10, 11, 0, 70, 3 };

    c = tw_core_default;
    c.cmp_id = 77;
    iab_tc(s, &c, IAB_BITFIELD, 10, 0, bits);

    /* euconsent-v2: one block for its vendor consents */
    n = iab_nomem(s, NULL, NULL, gvl, 10, &whole);
    CHECK_INT(n, 1);
    CHECK_INT(whole.tcf, 1);
    CHECK_INT(whole.cmp_id, 77);
    CHECK_INT(whole.us_opt_out, 1);

    for (i = 0; i < n; i++) {
        test_alloc_budget = i;
        CHECK_INT(iab_read_with(a, s, NULL, NULL, "1YYN", gvl, 10), -1);
    }

    /*
     * GPP with a TC string and an opt-out: the sections, the TC string,
     * its vendor consents.  Running out of memory is -1 wherever it
     * happens, never GPP read as refused, which would put euconsent-v2
     * in its place.
     */
    iab_usnat(u, 1, 2, 2, -1);
    sec[0] = s;
    sec[1] = u;
    iab_gpp(g, 2, two7, sec);
    iab_tc_cmp(s, 20);

    n = iab_nomem(s, g, "2,7", gvl, 10, &whole);
    CHECK_INT(n, 3);
    CHECK_INT(whole.tcf_gpp, 1);
    CHECK_INT(whole.cmp_id, 77);
    CHECK_INT(whole.vendor_refused, 1);
    CHECK_INT(whole.gpp_error, 0);
    memcpy(refused, iab_refused, sizeof(refused));

    for (i = 0; i < n; i++) {
        test_alloc_budget = i;
        CHECK_INT(iab_read_with(a, s, g, "2,7", "1YYN", gvl, 10), -1);
    }

    /* with enough, what the unlimited allocator gives */
    test_alloc_budget = n;
    CHECK_INT(iab_read_with(a, s, g, "2,7", "1YYN", gvl, 10), 0);
    CHECK(memcmp(&iab, &whole, sizeof(iab)) == 0);
    CHECK(memcmp(iab_refused, refused, sizeof(refused)) == 0);
    CHECK_INT(iab_read_with(&test_alloc, s, g, "2,7", "1YYN", gvl, 10), 0);
    CHECK_INT(iab.cmp_id, 77);
    CHECK(memcmp(iab_refused, refused, sizeof(refused)) == 0);

    test_alloc_reset();
}


/* whether a TC string read may decide */

static void
test_iab_trust(void)
{
    int                   i;
    consent_iab_t         t;
    consent_iab_policy_t  pol;
    const int64_t         up = 1748908800;

    memset(&t, 0, sizeof(t));
    memset(&pol, 0, sizeof(pol));
    pol.cmps[10 >> 3] |= 1 << (10 & 7);
    pol.cmps[4095 >> 3] |= 1 << (4095 & 7);

    /* no TC string: whatever the policy */
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_NONE);
    pol.any_cmp = 1;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_NONE);
    pol.any_cmp = 0;

    t.tcf = 1;
    t.cmp_id = 10;
    t.updated = up;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_OK);

    /* the CMP list: a neighbour is not trusted; any_cmp trusts all */
    t.cmp_id = 11;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_CMP);
    t.cmp_id = 9;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_CMP);
    t.cmp_id = 2;                                  /* 10's bit, byte 0 */
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_CMP);
    t.cmp_id = 0;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_CMP);
    t.cmp_id = 4095;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_OK);
    t.cmp_id = 11;
    pol.any_cmp = 1;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_OK);

    /* past the 12-bit field: never in a list, but any_cmp trusts it */
    memset(pol.cmps, 0xff, sizeof(pol.cmps));
    pol.any_cmp = 0;
    t.cmp_id = 4096;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_CMP);
    t.cmp_id = 100000;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_CMP);
    pol.any_cmp = 1;
    CHECK_INT(consent_iab_trust(&t, &pol, up), CONSENT_IAB_OK);
    t.cmp_id = 10;

    /* a CMP's clock may run a day ahead, not a second more */
    CHECK_INT(consent_iab_trust(&t, &pol, up - CONSENT_IAB_SKEW),
              CONSENT_IAB_OK);
    CHECK_INT(consent_iab_trust(&t, &pol, up - CONSENT_IAB_SKEW - 1),
              CONSENT_IAB_FUTURE);
    CHECK_INT(consent_iab_trust(&t, &pol, 0), CONSENT_IAB_FUTURE);

    /* max_age: exactly as old is still good; 0 is no limit */
    pol.max_age = 100;
    CHECK_INT(consent_iab_trust(&t, &pol, up + 100), CONSENT_IAB_OK);
    CHECK_INT(consent_iab_trust(&t, &pol, up + 101), CONSENT_IAB_EXPIRED);
    CHECK_INT(consent_iab_trust(&t, &pol, up - CONSENT_IAB_SKEW),
              CONSENT_IAB_OK);
    pol.max_age = 0;
    CHECK_INT(consent_iab_trust(&t, &pol, up + 1000000000),
              CONSENT_IAB_OK);
    pol.max_age = 1;
    CHECK_INT(consent_iab_trust(&t, &pol, up + 1000000000),
              CONSENT_IAB_EXPIRED);

    /* the CMP is asked first */
    pol.any_cmp = 0;
    memset(pol.cmps, 0, sizeof(pol.cmps));
    CHECK_INT(consent_iab_trust(&t, &pol, up + 1000000000),
              CONSENT_IAB_CMP);
    CHECK_INT(consent_iab_trust(&t, &pol, 0), CONSENT_IAB_CMP);

    /* read from a string, with the policy's CMP */
    CHECK_INT(iab_read(IAB_SPEC_EXAMPLE, NULL, NULL, NULL), 0);
    pol.cmps[880 >> 3] |= 1 << (880 & 7);
    pol.max_age = 86400 * 390;
    CHECK_INT(consent_iab_trust(&iab, &pol, up + 86400 * 390),
              CONSENT_IAB_OK);
    CHECK_INT(consent_iab_trust(&iab, &pol, up + 86400 * 390 + 1),
              CONSENT_IAB_EXPIRED);

    CHECK_STR(consent_iab_trust_name(CONSENT_IAB_OK), "used");
    CHECK_STR(consent_iab_trust_name(CONSENT_IAB_NONE), "none");
    CHECK_STR(consent_iab_trust_name(CONSENT_IAB_CMP), "untrusted CMP");
    CHECK_STR(consent_iab_trust_name(CONSENT_IAB_EXPIRED), "expired");
    CHECK_STR(consent_iab_trust_name(CONSENT_IAB_FUTURE),
              "updated in the future");

    for (i = CONSENT_IAB_OK; i <= CONSENT_IAB_FUTURE; i++) {
        CHECK(consent_iab_trust_name(i)[0] != '\0');
    }

    CHECK_STR(consent_iab_trust_name(-1), "");
    CHECK_STR(consent_iab_trust_name(CONSENT_IAB_FUTURE + 1), "");

    test_alloc_reset();
}


/* the default map: each requirement missing in turn */

static void
test_iab_purposes(void)
{
    unsigned               id;
    consent_mask_t         want, got;
    consent_iab_t          t;
    consent_iab_map_t      map;
    const consent_mask_t   regime = N | F;

    consent_iab_map_default(&map);
    CHECK_INT(map.mapped, D | A | P);
    CHECK_INT(map.purposes[CONSENT_P_ADVERTISING], T(1) | T(3) | T(4));
    CHECK_INT(map.features[CONSENT_P_ADVERTISING], T(1));
    CHECK_INT(map.purposes[CONSENT_P_ANALYTICS],
              T(1) | T(7) | T(8) | T(9));
    CHECK_INT(map.purposes[CONSENT_P_PERSONALIZATION],
              T(1) | T(5) | T(6));

    memset(&t, 0, sizeof(t));
    t.tcf = 1;
    t.purposes = 0x3ff;                            /* 1-10 */
    t.features = T(1);

    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | D | A | P);
    CHECK_INT(consent_iab_purposes(&map, &t, 0), D | A | P);

    /* one purpose or the special feature missing at a time */
    t.purposes = 0x3ff & ~T(1);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F);
    t.purposes = 0x3ff & ~T(3);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | A | P);
    t.purposes = 0x3ff & ~T(4);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | A | P);
    t.purposes = 0x3ff & ~T(5);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | D | A);
    t.purposes = 0x3ff & ~T(6);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | D | A);
    t.purposes = 0x3ff & ~T(7);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | D | P);
    t.purposes = 0x3ff & ~T(8);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | D | P);
    t.purposes = 0x3ff & ~T(9);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | D | P);
    t.purposes = 0x3ff;
    t.features = 0;
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | A | P);
    t.features = T(1);

    /* purposes 2, 10-24 and features 2-12 are not in the default map */
    for (id = 2; id <= 24; id++) {
        if (id >= 3 && id <= 9) {
            continue;
        }

        t.purposes = (0x3ff | 0xffffff) & ~T(id);
        CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | D | A | P);
    }

    t.purposes = 0x3ff;
    t.features = 0xfff & ~T(1);
    CHECK_INT(consent_iab_purposes(&map, &t, regime), N | F | A | P);

    /* every single purpose alone grants nothing mapped */
    t.features = 0xfff;

    for (id = 1; id <= 24; id++) {
        t.purposes = T(id);
        CHECK_INT(consent_iab_purposes(&map, &t, regime), regime);
    }

    /* a mapped purpose ignores the regime; the others keep it */
    t.purposes = 0;
    t.features = 0;
    want = N | F | D | A | P | S;
    CHECK_INT(consent_iab_purposes(&map, &t, want), N | F | S);

    /* an unmapped purpose: the regime's default again */
    consent_iab_map_clear(&map, CONSENT_P_ADVERTISING);
    CHECK_INT(map.mapped, A | P);
    CHECK_INT(map.purposes[CONSENT_P_ADVERTISING], 0);
    CHECK_INT(map.features[CONSENT_P_ADVERTISING], 0);
    CHECK_INT(consent_iab_purposes(&map, &t, want), N | F | D | S);
    CHECK_INT(consent_iab_purposes(&map, &t, N), N);
    t.purposes = 0x3ff;
    t.features = T(1);
    CHECK_INT(consent_iab_purposes(&map, &t, N), N | A | P);

    /* out of range: nothing changes */
    consent_iab_map_clear(&map, CONSENT_MAX_PURPOSES);
    consent_iab_map_clear(&map, 1000);
    CHECK_INT(map.mapped, A | P);

    /* nothing mapped: the regime */
    consent_iab_map_clear(&map, CONSENT_P_ANALYTICS);
    consent_iab_map_clear(&map, CONSENT_P_PERSONALIZATION);
    CHECK_INT(map.mapped, 0);
    CHECK_INT(consent_iab_purposes(&map, &t, N | A), N | A);

    /* the result is always within mapped | regime */
    consent_iab_map_default(&map);
    t.purposes = 0xffffff;
    t.features = 0xfff;

    for (id = 0; id < 64; id++) {
        want = (consent_mask_t) id * 0x01010101u;
        got = consent_iab_purposes(&map, &t, want);
        CHECK_INT(got & ~(map.mapped | want), 0);
        CHECK_INT(got & ~map.mapped, want & ~map.mapped);
    }
}


/* map lines, one item at a time */

static void
test_iab_map_item(void)
{
    size_t             i;
    consent_err_t      err;
    consent_iab_map_t  map, before;

    static const char  *bad[] = {
        "0", "25", "99", "100", "sf0", "sf13", "sf99", "sf100", "", "sf",
        "s", "s1", "SF1", "x1", "1x", "-1", "+1", " 1", "1 ", "sf 1",
        "sf1x", "fs1", "1.0"
    };

    memset(&map, 0, sizeof(map));

    CHECK_INT(consent_iab_map_item(&map, CONSENT_P_SHARING, U("1"), 1, &err),
              0);
    CHECK_INT(map.purposes[CONSENT_P_SHARING], T(1));
    CHECK_INT(map.mapped, S);
    CHECK_INT(consent_iab_map_item(&map, CONSENT_P_SHARING, U("24"), 2,
                                   &err), 0);
    CHECK_INT(map.purposes[CONSENT_P_SHARING], T(1) | T(24));
    CHECK_INT(consent_iab_map_item(&map, CONSENT_P_SHARING, U("sf1"), 3,
                                   &err), 0);
    CHECK_INT(consent_iab_map_item(&map, CONSENT_P_SHARING, U("sf12"), 4,
                                   &err), 0);
    CHECK_INT(map.features[CONSENT_P_SHARING], T(1) | T(12));
    CHECK_INT(map.purposes[CONSENT_P_SHARING], T(1) | T(24));
    CHECK_INT(consent_iab_map_item(&map, 31, U("9"), 1, &err), 0);
    CHECK_INT(map.purposes[31], T(9));
    CHECK_INT(map.mapped, S | CONSENT_BIT(31));

    /* the items only as long as len says */
    CHECK_INT(consent_iab_map_item(&map, CONSENT_P_FUNCTIONAL, U("2x"), 1,
                                   &err), 0);
    CHECK_INT(map.purposes[CONSENT_P_FUNCTIONAL], T(2));

    before = map;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.code = 0;

        if (consent_iab_map_item(&map, CONSENT_P_ANALYTICS, U(bad[i]),
                                 strlen(bad[i]), &err)
            != -1)
        {
            test_failed++;
            fprintf(stderr, "FAIL map item \"%s\" taken\n", bad[i]);
            continue;
        }

        CHECK_INT(err.code, CONSENT_IAB_E_ITEM);
        CHECK(err.msg != NULL);
        CHECK(err.at.data == U(bad[i]) && err.at.len == strlen(bad[i]));
    }

    /* no purpose 32 or more */
    CHECK_INT(consent_iab_map_item(&map, CONSENT_MAX_PURPOSES, U("1"), 1,
                                   &err), -1);
    CHECK_INT(err.code, CONSENT_IAB_E_ITEM);
    CHECK_INT(consent_iab_map_item(&map, 1000, U("sf1"), 3, &err), -1);
    CHECK_INT(err.code, CONSENT_IAB_E_ITEM);

    /* a refused item changes nothing */
    CHECK(memcmp(&map, &before, sizeof(map)) == 0);

    /* a map from items: sharing needs purpose 10 and feature 2 */
    consent_iab_map_default(&map);
    CHECK_INT(consent_iab_map_item(&map, CONSENT_P_SHARING, U("10"), 2,
                                   &err), 0);
    CHECK_INT(consent_iab_map_item(&map, CONSENT_P_SHARING, U("sf2"), 3,
                                   &err), 0);
    memset(&iab, 0, sizeof(iab));
    iab.purposes = T(10);
    iab.features = T(2);
    CHECK_INT(consent_iab_purposes(&map, &iab, N), N | S);
    iab.features = T(1);
    CHECK_INT(consent_iab_purposes(&map, &iab, N | S), N);
}


/* whether a rule's cookies go: purpose, then vendor; necessary never */

static void
test_iab_rule_refused(void)
{
    consent_rule_t  r;
    unsigned char   refused[2];

    memset(&r, 0, sizeof(r));
    r.purpose = CONSENT_P_ANALYTICS;
    r.vendor_id = 9;
    memset(refused, 0, sizeof(refused));

    CHECK_INT(consent_rule_refused(&r, N | A, NULL), 0);
    CHECK_INT(consent_rule_refused(&r, N | A, refused), 0);
    CHECK_INT(consent_rule_refused(&r, N | D, NULL), 1);
    CHECK_INT(consent_rule_refused(&r, N | D, refused), 1);

    /* its vendor refused: goes even with its purpose granted */
    refused[1] = 1 << 1;
    CHECK_INT(consent_rule_refused(&r, N | A, refused), 1);
    CHECK_INT(consent_rule_refused(&r, N, refused), 1);

    /* another vendor refused: only the purpose counts */
    refused[1] = (unsigned char) ~(1 << 1);
    refused[0] = 0xff;
    CHECK_INT(consent_rule_refused(&r, N | A, refused), 0);
    CHECK_INT(consent_rule_refused(&r, N, refused), 1);

    r.vendor_id = 0;
    CHECK_INT(consent_rule_refused(&r, N | A, refused), 1);
    refused[0] = 0xfe;
    CHECK_INT(consent_rule_refused(&r, N | A, refused), 0);

    /* necessary stays, whatever is granted or refused */
    r.purpose = CONSENT_P_NECESSARY;
    memset(refused, 0xff, sizeof(refused));
    CHECK_INT(consent_rule_refused(&r, 0, refused), 0);
    CHECK_INT(consent_rule_refused(&r, 0, NULL), 0);
    CHECK_INT(consent_rule_refused(&r, N, refused), 0);
    r.vendor_id = 9;
    CHECK_INT(consent_rule_refused(&r, 0, refused), 0);

    /* the highest purpose bit */
    r.purpose = 31;
    CHECK_INT(consent_rule_refused(&r, CONSENT_BIT(31), NULL), 0);
    CHECK_INT(consent_rule_refused(&r, CONSENT_BIT(31), refused), 1);
    CHECK_INT(consent_rule_refused(&r, ~CONSENT_BIT(31), NULL), 1);
}


void
test_iab(void)
{
    test_iab_writers();
    test_iab_read_tcf();
    test_iab_vendors();
    test_iab_gpp_tcf();
    test_iab_gpp_us();
    test_iab_usp();
    test_iab_invalid();
    test_iab_nomem();
    test_iab_trust();
    test_iab_purposes();
    test_iab_map_item();
    test_iab_rule_refused();
}
