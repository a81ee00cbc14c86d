/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the decision, over every combination of inputs the
 * bytes describe.  Properties: necessary is always granted; nothing
 * outside the configured purposes; with GPC honoured, or a US opt-out,
 * never advertising or sharing; a record that stands decides alone; a
 * trusted TC string decides where no record or cookie stands, and only
 * there; with Redis failing, "closed", no standing cookie and no TC
 * string leave only necessary.
 */

#include "decide.h"
#include "fuzz.h"


static uint32_t
fuzz_u32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned             standing, opt_out;
    consent_mask_t       ads;
    consent_decide_in_t  in;
    consent_decision_t   out;

    if (size < 33) {
        return 0;
    }

    memset(&in, 0, sizeof(in));
    in.all = fuzz_u32(data) | CONSENT_BIT(CONSENT_P_NECESSARY);
    in.regime = fuzz_u32(data + 4) & in.all;
    in.reconsent_below = data[8];
    in.fail_open = data[9] & 1;
    in.gpc = (data[9] >> 1) & 1;
    in.honour_gpc = (data[9] >> 2) & 1;
    in.has_token = (data[9] >> 3) & 1;
    in.record = (data[9] >> 4) & 3;
    in.record_source = (data[9] >> 6) & 1 ? CONSENT_SRC_CACHE
                                          : CONSENT_SRC_REDIS;
    in.token_purposes = fuzz_u32(data + 10);
    in.token_version = data[14];
    in.token_issued = fuzz_u32(data + 15);
    in.record_purposes = fuzz_u32(data + 19);
    in.record_version = data[23];
    in.record_updated = fuzz_u32(data + 24);
    in.iab = data[28] & 1;
    in.us_opt_out = (data[28] >> 1) & 1;
    in.iab_purposes = fuzz_u32(data + 29);

    consent_decide(&in, &out);

    ads = CONSENT_BIT(CONSENT_P_ADVERTISING) | CONSENT_BIT(CONSENT_P_SHARING);
    opt_out = (in.gpc && in.honour_gpc) || in.us_opt_out;

    /* what was asked for and still counts: a record, else the cookie */
    standing = (in.record == CONSENT_RECORD_FOUND)
               ? in.record_version >= in.reconsent_below
               : in.has_token && in.token_version >= in.reconsent_below;

    FUZZ_ASSERT(out.purposes & CONSENT_BIT(CONSENT_P_NECESSARY));
    FUZZ_ASSERT((out.purposes & ~in.all) == 0);
    FUZZ_ASSERT(out.source >= CONSENT_SRC_REDIS
                && out.source <= CONSENT_SRC_FAIL);

    if (opt_out) {
        FUZZ_ASSERT(!(out.purposes & ads));
    }

    /* a standing decision is recorded; none is, and a TC string speaks */
    FUZZ_ASSERT(out.recorded == standing);

    if (in.iab && !standing) {
        FUZZ_ASSERT(out.source == CONSENT_SRC_IAB);
        FUZZ_ASSERT(out.purposes
                    == (((in.iab_purposes & in.all) & ~(opt_out ? ads : 0))
                        | CONSENT_BIT(CONSENT_P_NECESSARY)));

    } else {
        FUZZ_ASSERT(out.source != CONSENT_SRC_IAB);
    }

    if (in.record == CONSENT_RECORD_FOUND
        && in.record_version >= in.reconsent_below)
    {
        FUZZ_ASSERT(out.source == in.record_source && out.recorded);
        FUZZ_ASSERT((out.purposes & ~CONSENT_BIT(CONSENT_P_NECESSARY))
                    == (in.record_purposes & in.all
                        & ~CONSENT_BIT(CONSENT_P_NECESSARY)
                        & ~(opt_out ? ads : 0)));
    }

    /* without a record, a standing cookie decides, Redis up or down */
    if (in.record != CONSENT_RECORD_FOUND && standing) {
        FUZZ_ASSERT(out.source == CONSENT_SRC_COOKIE && out.from_token);
        FUZZ_ASSERT(out.purposes
                    == (((in.token_purposes & in.all) & ~(opt_out ? ads : 0))
                        | CONSENT_BIT(CONSENT_P_NECESSARY)));
    }

    if (in.record == CONSENT_RECORD_FAILED && !in.fail_open
        && !(in.has_token && in.token_version >= in.reconsent_below)
        && !in.iab)
    {
        FUZZ_ASSERT(out.purposes == CONSENT_BIT(CONSENT_P_NECESSARY));
        FUZZ_ASSERT(out.source == CONSENT_SRC_FAIL);
    }

    FUZZ_ASSERT(out.stale == 0 || out.recorded == 0);

    return 0;
}
