/*
 * Copyright (C) ngx_consent_module authors
 *
 * Purpose sets, regions and regime defaults.
 */

#include "test.h"


void
test_purposes(void)
{
    int                   rc, i;
    size_t                n, bad_len;
    consent_mask_t        mask, again;
    consent_purposes_t    ps;
    const unsigned char  *bad;
    unsigned char         out[128];
    char                  name[16];

    consent_purposes_init(&ps);
    CHECK_INT(ps.n, CONSENT_P_STANDARD);
    CHECK_INT(consent_purpose_find(&ps, U("necessary"), 9),
              CONSENT_P_NECESSARY);
    CHECK_INT(consent_purpose_find(&ps, U("sharing"), 7), CONSENT_P_SHARING);
    CHECK_INT(consent_purpose_find(&ps, U("Sharing"), 7), -1);
    CHECK_INT(consent_purposes_all(&ps), 0x3f);

    /* custom purposes: plain lowercase names only, no duplicates */
    CHECK_INT(consent_purposes_add(&ps, U("research"), 8), 6);
    CHECK_INT(consent_purposes_add(&ps, U("research"), 8),
              CONSENT_PURPOSE_DUPLICATE);
    CHECK_INT(consent_purposes_add(&ps, U("Research"), 8),
              CONSENT_PURPOSE_INVALID);
    CHECK_INT(consent_purposes_add(&ps, U("9lives"), 6),
              CONSENT_PURPOSE_INVALID);
    CHECK_INT(consent_purposes_add(&ps, U("a-b"), 3),
              CONSENT_PURPOSE_INVALID);
    CHECK_INT(consent_purposes_add(&ps, U(""), 0), CONSENT_PURPOSE_INVALID);
    CHECK_INT(consent_purposes_add(&ps,
                  U("abcdefghijklmnopqrstuvwxyzabcdef"), 32),
              CONSENT_PURPOSE_INVALID);
    CHECK_INT(consent_purposes_all(&ps), 0x7f);

    for (i = 7; i < CONSENT_MAX_PURPOSES; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        CHECK_INT(consent_purposes_add(&ps, U(name), strlen(name)), i);
    }

    CHECK_INT(consent_purposes_add(&ps, U("onemore"), 7),
              CONSENT_PURPOSE_FULL);
    CHECK_INT(consent_purposes_all(&ps), 0xffffffff);

    consent_purposes_init(&ps);

    /* necessary is always in; commas and spaces both separate */
    rc = consent_purposes_parse(&ps, U(""), 0, &mask, &bad, &bad_len);
    CHECK_INT(rc, 0);
    CHECK_INT(mask, CONSENT_BIT(CONSENT_P_NECESSARY));

    rc = consent_purposes_parse(&ps, U(" analytics, advertising ,,sharing"),
                                33, &mask, &bad, &bad_len);
    CHECK_INT(rc, 0);
    CHECK_INT(mask, CONSENT_BIT(CONSENT_P_NECESSARY)
                    | CONSENT_BIT(CONSENT_P_ANALYTICS)
                    | CONSENT_BIT(CONSENT_P_ADVERTISING)
                    | CONSENT_BIT(CONSENT_P_SHARING));

    rc = consent_purposes_parse(&ps, U("analytics,tracking"), 18, &mask,
                                &bad, &bad_len);
    CHECK_INT(rc, -1);
    CHECK_MEM(bad, bad_len, "tracking");

    /* format: purpose order, round trips through parse */
    n = consent_purposes_format(&ps, mask, out, sizeof(out));
    CHECK_MEM(out, n, "necessary,analytics");

    n = consent_purposes_format(&ps, 0x3f, out, sizeof(out));
    CHECK_MEM(out, n, "necessary,functional,analytics,advertising,"
                      "personalization,sharing");
    rc = consent_purposes_parse(&ps, out, n, &again, &bad, &bad_len);
    CHECK_INT(rc, 0);
    CHECK_INT(again, 0x3f);

    /* too small: the size needed, nothing written */
    memset(out, 'z', sizeof(out));
    n = consent_purposes_format(&ps, 0x3f, out, 10);
    CHECK_INT(n, 66);
    CHECK_INT(out[0], 'z');
    CHECK_INT(consent_purposes_format(&ps, 0, out, sizeof(out)), 0);
}


void
test_regions(void)
{
    consent_mask_t      all;
    consent_regions_t   rg;
    consent_purposes_t  ps;

    consent_regions_init(&rg);
    consent_purposes_init(&ps);

    CHECK_INT(consent_regions_lookup(&rg, U("FR"), 2), CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regions_lookup(&rg, U("de"), 2), CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regions_lookup(&rg, U("EL"), 2), CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regions_lookup(&rg, U("NO"), 2), CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regions_lookup(&rg, U("GB"), 2), CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regions_lookup(&rg, U("CH"), 2), CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regions_lookup(&rg, U("US"), 2),
              CONSENT_REGIME_OPT_OUT);
    CHECK_INT(consent_regions_lookup(&rg, U("JP"), 2), CONSENT_REGIME_NOTICE);

    /* a subdivision falls back to its country until mapped itself */
    CHECK_INT(consent_regions_lookup(&rg, U("us-ca"), 5),
              CONSENT_REGIME_OPT_OUT);
    CHECK_INT(consent_regions_set(&rg, U("US-CA"), 5, CONSENT_REGIME_OPT_IN),
              0);
    CHECK_INT(consent_regions_lookup(&rg, U("US-CA"), 5),
              CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regions_lookup(&rg, U("US-TX"), 5),
              CONSENT_REGIME_OPT_OUT);

    /* a later mapping replaces an earlier one */
    CHECK_INT(consent_regions_set(&rg, U("jp"), 2, CONSENT_REGIME_OPT_IN), 0);
    CHECK_INT(consent_regions_lookup(&rg, U("JP"), 2), CONSENT_REGIME_OPT_IN);

    CHECK_INT(consent_regions_lookup(&rg, U("BR"), 2), -1);
    CHECK_INT(consent_regions_lookup(&rg, U(""), 0), -1);
    CHECK_INT(consent_regions_lookup(&rg, U("-CA"), 3), -1);
    CHECK_INT(consent_regions_lookup(&rg, U("F\r\nR"), 4), -1);
    CHECK_INT(consent_regions_lookup(&rg, U("XXXXXXXXXXXXXXXXXXXXXX"), 22),
              -1);

    CHECK_INT(consent_regime_parse(U("opt_in"), 6), CONSENT_REGIME_OPT_IN);
    CHECK_INT(consent_regime_parse(U("opt_out"), 7), CONSENT_REGIME_OPT_OUT);
    CHECK_INT(consent_regime_parse(U("notice"), 6), CONSENT_REGIME_NOTICE);
    CHECK_INT(consent_regime_parse(U("opt"), 3), -1);
    CHECK(strcmp(consent_regime_name(CONSENT_REGIME_NOTICE), "notice") == 0);

    /* GDPR: nothing optional before consent; CCPA: all until opt-out;
     * APPI: no ads or third-party sharing before consent */
    all = consent_purposes_all(&ps);
    CHECK_INT(consent_regime_default(&ps, CONSENT_REGIME_OPT_IN),
              CONSENT_BIT(CONSENT_P_NECESSARY));
    CHECK_INT(consent_regime_default(&ps, CONSENT_REGIME_OPT_OUT), all);
    CHECK_INT(consent_regime_default(&ps, CONSENT_REGIME_NOTICE),
              all & ~(CONSENT_BIT(CONSENT_P_ADVERTISING)
                      | CONSENT_BIT(CONSENT_P_SHARING)));
}
