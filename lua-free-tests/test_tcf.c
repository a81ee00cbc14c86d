/*
 * Copyright (C) ngx_consent_module authors
 *
 * The TC string decoder (tcf.c).  Strings are
 * made here by a small bit writer, field by field, so that each test
 * changes one field and knows where every bit is; the spec's own example
 * checks the writer and the decoder agree with the IAB.
 */

#include "test.h"
#include "tcf.h"
#include "tcfwrite.h"


/* the spec's example, TCF v2.3: core, disclosed vendors, publisher TC */
#define TCF_SPEC_EXAMPLE                                                     \
    "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA"      \
    ".YAAAAAAAAAAA"

/* the v2.0 spec's example: a core segment alone, invalid since v2.3 */
#define TCF_CORE_ONLY  "COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA"


/* a whole valid string: core, no restrictions, a small disclosed set */

static void
tw_simple(const tw_core_t *c)
{
    static const unsigned  none[] = { 0 };
    static const unsigned  d[] = { 2, 0 };

    tw_reset();
    tw_core(c);
    tw_bitfield(0, none);
    tw_close(2, d);
}


static int
tcf(const char *s, consent_tcf_t *t, consent_err_t *err)
{
    return consent_tcf_decode(U(s), strlen(s), &test_alloc, t, err);
}


/* the error code of decoding s, or 0 */

static int
tcf_code(const char *s)
{
    consent_tcf_t  t;
    consent_err_t  err;

    if (tcf(s, &t, &err) == 0) {
        return 0;
    }

    return err.code;
}


static void
test_tcf_spec(void)
{
    consent_tcf_t  t;
    consent_err_t  err;

    CHECK_INT(tcf(TCF_SPEC_EXAMPLE, &t, &err), 0);
    CHECK_INT(t.version, 2);
    CHECK_INT(t.created, 17489088000ULL);          /* 2025-06-03 */
    CHECK_INT(t.last_updated, 17489088000ULL);
    CHECK_INT(t.cmp_id, 880);
    CHECK_INT(t.cmp_version, 0);
    CHECK_INT(t.consent_screen, 0);
    CHECK_STR(t.language, "EN");
    CHECK_INT(t.vendor_list_version, 48);
    CHECK_INT(t.policy_version, 2);
    CHECK_INT(t.is_service_specific, 1);
    CHECK_INT(t.use_non_standard_texts, 0);
    CHECK_INT(t.special_features, 0);
    CHECK_INT(t.purposes_consent, 0);
    CHECK_INT(t.purposes_li, 0);
    CHECK_INT(t.purpose_one_treatment, 0);
    CHECK_STR(t.publisher_cc, "DE");
    CHECK_INT(t.vendors_consent.max_id, 4);
    CHECK(consent_tcf_vendor(&t.vendors_consent, 1));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 4));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 5));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 0));
    CHECK_INT(t.vendors_li.max_id, 0);
    CHECK(!consent_tcf_vendor(&t.vendors_li, 1));
    CHECK_INT(t.nrestrictions, 0);
    CHECK_INT(t.vendors_disclosed.max_id, 404);
    CHECK_INT(t.vendors_disclosed.range, 1);
    CHECK(consent_tcf_vendor(&t.vendors_disclosed, 5));
    CHECK(!consent_tcf_vendor(&t.vendors_disclosed, 6));
    CHECK(consent_tcf_vendor(&t.vendors_disclosed, 100));
    CHECK(!consent_tcf_vendor(&t.vendors_disclosed, 403));
    CHECK(consent_tcf_vendor(&t.vendors_disclosed, 404));
    CHECK_INT(t.has_publisher, 1);
    CHECK_INT(t.num_custom, 0);
    CHECK_INT(t.has_allowed, 0);

    /* the core alone was a whole string before v2.3 */
    CHECK_INT(tcf(TCF_CORE_ONLY, &t, &err), -1);
    CHECK_INT(err.code, CONSENT_TCF_E_NO_DISCLOSED);
    CHECK_INT(tcf_code(TCF_CORE_ONLY ".YAAAAAAAAAAA"),
              CONSENT_TCF_E_NO_DISCLOSED);
    CHECK_INT(tcf_code(TCF_CORE_ONLY ".IDKQA4AAgAKAGQAygAAA"), 0);

    test_alloc_reset();
}


/* each field of the core alone at its limits */

static void
test_tcf_fields(void)
{
    tw_core_t      c;
    consent_tcf_t  t;
    consent_err_t  err;

    c = tw_core_default;
    tw_simple(&c);
    CHECK_INT(tcf(tw.out, &t, &err), 0);
    CHECK_INT(t.created, 17489088000ULL);
    CHECK_INT(t.last_updated, 17489088001ULL);
    CHECK_INT(t.cmp_version, 7);
    CHECK_INT(t.consent_screen, 1);
    CHECK_STR(t.language, "EN");
    CHECK_INT(t.policy_version, 5);
    CHECK_INT(t.special_features, 0x1);            /* feature 1 */
    CHECK(CONSENT_TCF_HAS(t.special_features, 1));
    CHECK(!CONSENT_TCF_HAS(t.special_features, 2));
    CHECK(CONSENT_TCF_HAS(t.purposes_consent, 1));
    CHECK(CONSENT_TCF_HAS(t.purposes_consent, 2));
    CHECK(!CONSENT_TCF_HAS(t.purposes_consent, 3));
    CHECK(CONSENT_TCF_HAS(t.purposes_consent, 24));
    CHECK(!CONSENT_TCF_HAS(t.purposes_consent, 25));
    CHECK(!CONSENT_TCF_HAS(t.purposes_consent, 0));
    CHECK_INT(t.purposes_li, 0x2);                 /* purpose 2 */
    CHECK_STR(t.publisher_cc, "DE");
    CHECK(consent_tcf_vendor(&t.vendors_disclosed, 2));
    CHECK(!consent_tcf_vendor(&t.vendors_disclosed, 1));

    /* every field at its largest */
    c.created = c.updated = (1ULL << 36) - 1;
    c.cmp_id = c.cmp_version = c.vlv = 4095;
    c.screen = c.policy = 63;
    c.lang[0] = c.lang[1] = c.cc[0] = c.cc[1] = 25;
    c.flags = 7;
    c.sf = 0xfff;
    c.pc = c.pli = 0xffffff;
    tw_simple(&c);
    CHECK_INT(tcf(tw.out, &t, &err), 0);
    CHECK_INT(t.created, (1ULL << 36) - 1);
    CHECK_INT(t.last_updated, (1ULL << 36) - 1);
    CHECK_INT(t.cmp_id, 4095);
    CHECK_INT(t.cmp_version, 4095);
    CHECK_INT(t.vendor_list_version, 4095);
    CHECK_INT(t.consent_screen, 63);
    CHECK_INT(t.policy_version, 63);
    CHECK_STR(t.language, "ZZ");
    CHECK_STR(t.publisher_cc, "ZZ");
    CHECK_INT(t.is_service_specific, 1);
    CHECK_INT(t.use_non_standard_texts, 1);
    CHECK_INT(t.purpose_one_treatment, 1);
    CHECK_INT(t.special_features, 0xfff);
    CHECK_INT(t.purposes_consent, 0xffffff);
    CHECK_INT(t.purposes_li, 0xffffff);

    /* and at its smallest */
    memset(&c, 0, sizeof(c));
    c.version = 2;
    tw_simple(&c);
    CHECK_INT(tcf(tw.out, &t, &err), 0);
    CHECK_INT(t.created, 0);
    CHECK_INT(t.cmp_id, 0);
    CHECK_STR(t.language, "AA");
    CHECK_STR(t.publisher_cc, "AA");
    CHECK_INT(t.is_service_specific, 0);
    CHECK_INT(t.purposes_consent, 0);

    /* one flag at a time lands in its own field */
    c.flags = 2;
    c.sf = 0x001;                                  /* feature 12 */
    c.pc = 0x000001;                               /* purpose 24 */
    c.pli = 0x800000;                              /* purpose 1 */
    tw_simple(&c);
    CHECK_INT(tcf(tw.out, &t, &err), 0);
    CHECK_INT(t.is_service_specific, 0);
    CHECK_INT(t.use_non_standard_texts, 1);
    CHECK_INT(t.purpose_one_treatment, 0);
    CHECK_INT(t.special_features, 0x800);
    CHECK_INT(t.purposes_consent, 0x800000);
    CHECK_INT(t.purposes_li, 0x1);

    test_alloc_reset();
}


/* letters past Z, versions other than 2 */

static void
test_tcf_fields_bad(void)
{
    tw_core_t  c;

    memset(&c, 0, sizeof(c));
    c.version = 2;
    c.lang[1] = 26;
    tw_simple(&c);
    CHECK_INT(tcf_code(tw.out), CONSENT_TCF_E_FIELD);
    c.lang[1] = 0;
    c.cc[0] = 63;
    tw_simple(&c);
    CHECK_INT(tcf_code(tw.out), CONSENT_TCF_E_FIELD);
    c.cc[0] = 0;
    c.version = 1;
    tw_simple(&c);
    CHECK_INT(tcf_code(tw.out), CONSENT_TCF_E_VERSION);
    c.version = 3;
    tw_simple(&c);
    CHECK_INT(tcf_code(tw.out), CONSENT_TCF_E_VERSION);
    c.version = 0;
    tw_simple(&c);
    CHECK_INT(tcf_code(tw.out), CONSENT_TCF_E_VERSION);

    test_alloc_reset();
}


/*
 * The vendor consent section as the caller wants it: RANGE_LIE and
 * BITFIELD_LIE announce more than they hold; a range section's r holds
 * start, end pairs (end 0 for a single id), a bit field's the ids set.
 */

#define TW_BITFIELD      0
#define TW_RANGES        1
#define TW_RANGE_LIE     2
#define TW_BITFIELD_LIE  3

static int
tw_vendors_case(int how, unsigned max, unsigned n, const unsigned *r,
    consent_tcf_t *t)
{
    static const unsigned  none[] = { 0 };
    consent_err_t          err;

    tw_reset();
    tw_core(&tw_core_default);

    switch (how) {

    case TW_BITFIELD:
        tw_bitfield(max, r);
        break;

    case TW_RANGES:
        tw_ranges(max, n, r);
        break;

    case TW_RANGE_LIE:
        tw_put(max, 16);
        tw_put(1, 1);
        tw_put(4095, 12);                          /* 4095, one written */
        tw_put(0, 1);
        tw_put(3, 16);
        break;

    default:
        tw_put(max, 16);
        tw_put(0, 1);
        tw_put(0xff, 8);                           /* 8 bits of max */
    }

    tw_close(0, none);

    return tcf(tw.out, t, &err) == 0 ? 0 : err.code;
}


static void
test_tcf_vendors(void)
{
    consent_tcf_t          t;
    static const unsigned  ids[] = { 1, 8, 9, 65535, 0 };
    static const unsigned  some[] = { 1, 0, 3, 8, 65535, 0 };
    static const unsigned  whole[] = { 1, 65535 };
    static const unsigned  same[] = { 4, 4, 5, 0 };   /* IsARange, 4-4 */
    static const unsigned  empty[] = { 5, 4 };
    static const unsigned  zero[] = { 0, 0 };
    static const unsigned  past[] = { 5, 11 };
    static const unsigned  past1[] = { 11, 0 };
    static const unsigned  unordered[] = { 5, 0, 3, 0 };
    static const unsigned  overlap[] = { 2, 5, 5, 7 };

    CHECK_INT(tw_vendors_case(TW_BITFIELD, 65535, 0, ids, &t), 0);
    CHECK_INT(t.vendors_consent.max_id, 65535);
    CHECK_INT(t.vendors_consent.range, 0);
    CHECK(consent_tcf_vendor(&t.vendors_consent, 1));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 2));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 7));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 8));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 9));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 10));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 65534));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 65535));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 65536));

    CHECK_INT(tw_vendors_case(TW_RANGES, 65535, 3, some, &t), 0);
    CHECK_INT(t.vendors_consent.range, 1);
    CHECK(consent_tcf_vendor(&t.vendors_consent, 1));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 2));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 3));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 8));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 9));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 65535));

    CHECK_INT(tw_vendors_case(TW_RANGES, 65535, 1, whole, &t), 0);
    CHECK(consent_tcf_vendor(&t.vendors_consent, 1));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 40000));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 65535));

    CHECK_INT(tw_vendors_case(TW_RANGES, 10, 0, NULL, &t), 0);
    CHECK_INT(t.vendors_consent.max_id, 10);
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 1));
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 10));

    CHECK_INT(tw_vendors_case(TW_RANGES, 5, 2, same, &t), 0);
    CHECK(!consent_tcf_vendor(&t.vendors_consent, 3));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 4));
    CHECK(consent_tcf_vendor(&t.vendors_consent, 5));

    CHECK_INT(tw_vendors_case(TW_RANGES, 10, 1, empty, &t),
              CONSENT_TCF_E_RANGE);
    CHECK_INT(tw_vendors_case(TW_RANGES, 10, 1, zero, &t),
              CONSENT_TCF_E_RANGE);
    CHECK_INT(tw_vendors_case(TW_RANGES, 10, 1, past, &t),
              CONSENT_TCF_E_RANGE);
    CHECK_INT(tw_vendors_case(TW_RANGES, 10, 1, past1, &t),
              CONSENT_TCF_E_RANGE);
    CHECK_INT(tw_vendors_case(TW_RANGES, 10, 2, unordered, &t),
              CONSENT_TCF_E_RANGE);
    CHECK_INT(tw_vendors_case(TW_RANGES, 10, 2, overlap, &t),
              CONSENT_TCF_E_RANGE);
    CHECK_INT(tw_vendors_case(TW_RANGE_LIE, 10, 0, NULL, &t),
              CONSENT_TCF_E_TRUNCATED);
    CHECK_INT(tw_vendors_case(TW_BITFIELD_LIE, 65535, 0, NULL, &t),
              CONSENT_TCF_E_TRUNCATED);

    test_alloc_reset();
}


/* core with restrictions written by the caller, then disclosed vendors */

static int
tw_restrictions_case(unsigned n, const unsigned *r, consent_tcf_t *t)
{
    unsigned               i, j, k;
    consent_err_t          err;
    static const unsigned  none[] = { 0 };

    tw_reset();
    tw_core(&tw_core_default);
    tw_bitfield(0, none);
    tw_bitfield(0, none);
    tw_put(n, 12);

    /* per restriction: purpose, type, entries, then start/end pairs */
    for (i = 0, k = 0; i < n; i++) {
        tw_put(r[k], 6);
        tw_put(r[k + 1], 2);
        tw_put(r[k + 2], 12);
        j = r[k + 2];
        k += 3;
        for ( ; j; j--, k += 2) {
            tw_put(r[k + 1] != 0, 1);
            tw_put(r[k], 16);
            if (r[k + 1]) {
                tw_put(r[k + 1], 16);
            }
        }
    }

    tw_seg();
    tw_put(1, 3);
    tw_bitfield(0, none);
    tw_seg();

    return tcf(tw.out, t, &err) == 0 ? 0 : err.code;
}


static void
test_tcf_restrictions(void)
{
    consent_tcf_t  t;

    static const unsigned  ok[] = {
        1, 0, 2,   7, 0,   9, 12,
        63, 2, 1,  65535, 0,
        2, 1, 0
    };
    static const unsigned  type3[] = { 1, 3, 1, 7, 0 };
    static const unsigned  empty[] = { 1, 1, 1, 9, 8 };
    static const unsigned  zero[] = { 1, 1, 1, 0, 0 };

    CHECK_INT(tw_restrictions_case(3, ok, &t), 0);
    CHECK_INT(t.nrestrictions, 3);
    CHECK_INT(t.restrictions[0].purpose, 1);
    CHECK_INT(t.restrictions[0].type, CONSENT_TCF_RESTRICT_NOT_ALLOWED);
    CHECK_INT(t.restrictions[0].nranges, 2);
    CHECK_INT(t.restrictions[0].ranges[0].start, 7);
    CHECK_INT(t.restrictions[0].ranges[0].end, 7);
    CHECK_INT(t.restrictions[0].ranges[1].start, 9);
    CHECK_INT(t.restrictions[0].ranges[1].end, 12);
    CHECK_INT(t.restrictions[1].purpose, 63);
    CHECK_INT(t.restrictions[1].type, CONSENT_TCF_RESTRICT_LI);
    CHECK_INT(t.restrictions[1].ranges[0].start, 65535);
    CHECK_INT(t.restrictions[2].type, CONSENT_TCF_RESTRICT_CONSENT);
    CHECK_INT(t.restrictions[2].nranges, 0);

    CHECK_INT(tw_restrictions_case(1, type3, &t), CONSENT_TCF_E_FIELD);
    CHECK_INT(tw_restrictions_case(1, empty, &t), CONSENT_TCF_E_RANGE);
    CHECK_INT(tw_restrictions_case(1, zero, &t), CONSENT_TCF_E_RANGE);

    /* 4095 restrictions announced, none written */
    CHECK_INT(tw_restrictions_case(0, NULL, &t), 0);
    tw_reset();
    tw_core(&tw_core_default);
    tw_put(0, 17);
    tw_put(0, 17);
    tw_put(4095, 12);
    tw_seg();
    tw_put(1, 3);
    tw_put(0, 17);
    tw_seg();
    CHECK_INT(tcf_code(tw.out), CONSENT_TCF_E_TRUNCATED);

    /* one restriction of 4095 entries, one written */
    tw_reset();
    tw_core(&tw_core_default);
    tw_put(0, 17);
    tw_put(0, 17);
    tw_put(1, 12);
    tw_put(1, 6);
    tw_put(1, 2);
    tw_put(4095, 12);
    tw_put(0, 1);
    tw_put(7, 16);
    tw_seg();
    tw_put(1, 3);
    tw_put(0, 17);
    tw_seg();
    CHECK_INT(tcf_code(tw.out), CONSENT_TCF_E_TRUNCATED);

    test_alloc_reset();
}


/* the segments after the core: their fields, order, repeats, types */

static void
test_tcf_segments(void)
{
    char                   core[200];
    static char            s[20500];
    consent_tcf_t          t;
    consent_err_t          err;
    static const unsigned  none[] = { 0 };

    tw_reset();
    tw_core(&tw_core_default);
    tw_bitfield(0, none);
    tw_bitfield(0, none);
    tw_put(0, 12);
    tw_seg();
    strcpy(core, tw.out);

    /* publisher TC with 63 custom purposes: custom 1 and 63 */
    tw_reset();
    tw_put(3, 3);
    tw_put(0x800001, 24);
    tw_put(0x000002, 24);
    tw_put(63, 6);
    tw_put(0x4000000000000001ULL, 63);
    tw_put(0x2, 63);
    tw_seg();
    snprintf(s, sizeof(s), "%s.%s.IAAA", core, tw.out);

    CHECK_INT(tcf(s, &t, &err), 0);
    CHECK_INT(t.has_publisher, 1);
    CHECK_INT(t.pub_consent, 0x800001);            /* purposes 1 and 24 */
    CHECK_INT(t.pub_li, 0x400000);                 /* purpose 23 */
    CHECK_INT(t.num_custom, 63);
    CHECK(CONSENT_TCF_HAS(t.custom_consent, 1));
    CHECK(CONSENT_TCF_HAS(t.custom_consent, 63));
    CHECK(!CONSENT_TCF_HAS(t.custom_consent, 2));
    CHECK(CONSENT_TCF_HAS(t.custom_li, 62));
    CHECK(!CONSENT_TCF_HAS(t.custom_li, 63));
    CHECK_INT(t.vendors_disclosed.max_id, 0);

    /* "IAAA": type 1, MaxVendorId 0; "QAAA" type 2; others */
    snprintf(s, sizeof(s), "%s.IAAA.QAAA", core);
    CHECK_INT(tcf(s, &t, &err), 0);
    CHECK_INT(t.has_allowed, 1);
    CHECK_INT(t.has_publisher, 0);
    snprintf(s, sizeof(s), "%s.QAAA", core);
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_NO_DISCLOSED);
    snprintf(s, sizeof(s), "%s.Q__A.IAAA", core);     /* 8190 bits? */
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_TRUNCATED);

    snprintf(s, sizeof(s), "%s.IAAA.IAAA", core);
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_DUPLICATE);
    snprintf(s, sizeof(s), "%s.IAAA.YAAAAAAAAAAA.YAAAAAAAAAAA", core);
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_DUPLICATE);
    snprintf(s, sizeof(s), "%s.IAAA.%s", core, core);
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_DUPLICATE);
    snprintf(s, sizeof(s), "%s.IAAA.gAAA", core);     /* type 4 */
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_SEGMENT);
    snprintf(s, sizeof(s), "%s.IAAA._AAA", core);     /* type 7 */
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_SEGMENT);
    snprintf(s, sizeof(s), "%s.IAAA.", core);
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_SEGMENT);
    snprintf(s, sizeof(s), "%s..IAAA", core);
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_SEGMENT);
    snprintf(s, sizeof(s), ".%s.IAAA", core);
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_SEGMENT);

    /* any order after the core */
    snprintf(s, sizeof(s), "%s.YAAAAAAAAAAA.IAAA", core);
    CHECK_INT(tcf(s, &t, &err), 0);
    CHECK_INT(t.has_publisher, 1);

    /* a publisher TC cut in its custom purposes */
    snprintf(s, sizeof(s), "%s.IAAA.YAAAAAAABA", core);  /* 8 custom */
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_TRUNCATED);

    /* bad base64url in either segment, with err->at on that segment */
    snprintf(s, sizeof(s), "%s.IA+A", core);
    CHECK_INT(tcf(s, &t, &err), -1);
    CHECK_INT(err.code, CONSENT_TCF_E_BASE64);
    CHECK(err.at.data == U(s) + strlen(core) + 1 && err.at.len == 4);
    snprintf(s, sizeof(s), "%s.IAAA", core);
    s[3] = '=';
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_BASE64);
    s[3] = ' ';
    CHECK_INT(tcf_code(s), CONSENT_TCF_E_BASE64);
    CHECK_INT(consent_tcf_decode(U("CA\0A.IAAA"), 9, &test_alloc, &t, &err),
              -1);
    CHECK_INT(err.code, CONSENT_TCF_E_BASE64);

    test_alloc_reset();
}


/* the length limit: 16384 bytes are read, one more is refused */

static void
test_tcf_length(void)
{
    char          *s;
    size_t         n;
    consent_tcf_t  t;
    consent_err_t  err;

    CHECK_INT(consent_tcf_decode(U(""), 0, &test_alloc, &t, &err), -1);
    CHECK_INT(err.code, CONSENT_TCF_E_LENGTH);

    s = malloc(CONSENT_TCF_MAX_LEN + 2);
    if (s == NULL) {
        CHECK(0);
        return;
    }

    /* trailing 'A's are zero padding of the last segment */
    strcpy(s, TCF_SPEC_EXAMPLE);
    n = strlen(s);
    memset(s + n, 'A', CONSENT_TCF_MAX_LEN + 1 - n);
    s[CONSENT_TCF_MAX_LEN + 1] = '\0';

    CHECK_INT(consent_tcf_decode(U(s), CONSENT_TCF_MAX_LEN, &test_alloc, &t,
                                 &err), 0);
    CHECK_INT(t.vendors_disclosed.max_id, 404);
    CHECK_INT(consent_tcf_decode(U(s), CONSENT_TCF_MAX_LEN + 1, &test_alloc,
                                 &t, &err), -1);
    CHECK_INT(err.code, CONSENT_TCF_E_LENGTH);

    free(s);
    test_alloc_reset();
}


/*
 * A string whose every bit is a field: each segment cut at each length,
 * the other segments kept, must be refused, and never read as if whole.
 */

static void
test_tcf_truncated(void)
{
    char                   full[20000], cut[20000];
    size_t                 seg, start, end, k, pos;
    consent_tcf_t          t;
    consent_err_t          err;
    static const unsigned  vc[] = { 1, 3, 0 };
    static const unsigned  r[] = { 2, 9, 20, 0 };
    static const unsigned  rs[] = { 4, 1, 2, 7, 0, 9, 12 };

    /* 36 + 6 fields of the core then sections: fill to whole characters */
    tw_reset();
    tw_core(&tw_core_default);
    tw_bitfield(5, vc);
    tw_ranges(20, 2, r);
    tw_put(1, 12);
    tw_put(rs[0], 6);
    tw_put(rs[1], 2);
    tw_put(rs[2], 12);
    tw_put(0, 1);
    tw_put(rs[3], 16);
    tw_put(1, 1);
    tw_put(rs[5], 16);
    tw_put(rs[6], 16);
    CHECK_INT(tw.n % 6, 0);
    tw_seg();
    tw_put(1, 3);
    tw_ranges(20, 1, r);                           /* 3 + 62 bits ... */
    tw_put(0, 1);                                  /* ... + 1: 66 */
    CHECK_INT(tw.n % 6, 0);
    tw_seg();
    tw_put(3, 3);
    tw_put(0xabcdef, 24);
    tw_put(0x123456, 24);
    tw_put(3, 6);
    tw_put(5, 3);
    tw_put(2, 3);
    tw_put(0, 3);                                  /* padding: 66 */
    tw_seg();

    strcpy(full, tw.out);
    CHECK_INT(tcf(full, &t, &err), 0);
    CHECK_INT(t.nrestrictions, 1);
    CHECK_INT(t.custom_consent, 5);                /* 101 -> 1 and 3 */

    /*
     * The last segment ends in 3 padding bits, so cutting its last
     * character loses a field bit too: no cut of any segment is whole.
     */

    start = 0;

    for (seg = 0; seg < 3; seg++) {
        end = start;
        while (full[end] && full[end] != '.') {
            end++;
        }

        for (k = start; k < end; k++) {
            /* segment seg keeps its first k - start characters */
            pos = k;
            memcpy(cut, full, k);
            strcpy(cut + pos, full + end);

            if (tcf(cut, &t, &err) == 0) {
                fprintf(stderr, "FAIL read whole: %s\n", cut);
                CHECK(0);
                continue;
            }

            CHECK(err.code == CONSENT_TCF_E_TRUNCATED
                  || err.code == CONSENT_TCF_E_SEGMENT
                  || err.code == CONSENT_TCF_E_VERSION);
        }

        start = end + 1;
    }

    /*
     * Every prefix of the whole string: only "core.disclosed" is a string
     * of its own.
     */
    end = strrchr(full, '.') - full;

    for (k = 0; k < strlen(full); k++) {
        CHECK_INT(consent_tcf_decode(U(full), k, &test_alloc, &t, &err),
                  k == end ? 0 : -1);
    }

    test_alloc_reset();
}


/*
 * The spec's example ends segments in padding: a prefix that is read at
 * all reads every field of the segments it keeps.
 */

static void
test_tcf_truncated_spec(void)
{
    size_t         k, end;
    consent_tcf_t  t;
    consent_err_t  err;

    end = strrchr(TCF_SPEC_EXAMPLE, '.') - TCF_SPEC_EXAMPLE;

    for (k = 1; k < strlen(TCF_SPEC_EXAMPLE); k++) {
        if (consent_tcf_decode(U(TCF_SPEC_EXAMPLE), k, &test_alloc, &t, &err)
            != 0)
        {
            continue;
        }

        CHECK_INT(t.vendors_disclosed.max_id, 404);
        CHECK(consent_tcf_vendor(&t.vendors_disclosed, 404));

        if (t.has_publisher) {
            CHECK(k >= strlen(TCF_SPEC_EXAMPLE) - 2);
        } else {
            CHECK(k <= end && k >= end - 3);     /* 99 bits of 120 */
        }
    }

    test_alloc_reset();
}


/* out of memory after n blocks; failures leave *tcf untouched */

static void
test_tcf_nomem(void)
{
    unsigned               n;
    consent_tcf_t          t, before;
    consent_err_t          err;
    static const unsigned  ok[] = { 1, 0, 1, 7, 0, 2, 1, 1, 9, 0 };

    CHECK_INT(tw_restrictions_case(2, ok, &t), 0);

    for (n = 0; n < 10; n++) {
        test_alloc_budget = n;
        memset(&t, 0xab, sizeof(t));
        before = t;

        if (consent_tcf_decode(U(tw.out), strlen(tw.out),
                               &test_alloc_limited, &t, &err)
            == 0)
        {
            break;
        }

        CHECK_INT(err.code, CONSENT_TCF_E_NOMEM);
        CHECK(memcmp(&t, &before, sizeof(t)) == 0);
    }

    /* restrictions, two range lists: three blocks */
    CHECK_INT(n, 3);

    /* a string refused late, its core read: *t as it was */
    memset(&t, 0xab, sizeof(t));
    before = t;
    CHECK_INT(tcf(TCF_CORE_ONLY ".IDK", &t, &err), -1);
    CHECK_INT(err.code, CONSENT_TCF_E_TRUNCATED);
    CHECK(memcmp(&t, &before, sizeof(t)) == 0);

    test_alloc_reset();
}


void
test_tcf(void)
{
    test_tcf_spec();
    test_tcf_fields();
    test_tcf_fields_bad();
    test_tcf_vendors();
    test_tcf_restrictions();
    test_tcf_segments();
    test_tcf_length();
    test_tcf_truncated();
    test_tcf_truncated_spec();
    test_tcf_nomem();
}
