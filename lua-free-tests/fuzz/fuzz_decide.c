/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the decision, over every combination of inputs the
 * bytes describe.  Properties: necessary is always granted; nothing
 * outside the configured purposes; with GPC honoured, never advertising
 * or sharing; a record that stands decides alone; with Redis failing,
 * "closed" and no standing cookie leave only necessary.
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
    consent_decide_in_t  in;
    consent_decision_t   out;

    if (size < 30) {
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

    consent_decide(&in, &out);

    FUZZ_ASSERT(out.purposes & CONSENT_BIT(CONSENT_P_NECESSARY));
    FUZZ_ASSERT((out.purposes & ~in.all) == 0);

    if (in.gpc && in.honour_gpc) {
        FUZZ_ASSERT(!(out.purposes & (CONSENT_BIT(CONSENT_P_ADVERTISING)
                                      | CONSENT_BIT(CONSENT_P_SHARING))));
    }

    if (in.record == CONSENT_RECORD_FOUND
        && in.record_version >= in.reconsent_below)
    {
        FUZZ_ASSERT(out.source == in.record_source && out.recorded);
        FUZZ_ASSERT((out.purposes & ~CONSENT_BIT(CONSENT_P_NECESSARY))
                    == (in.record_purposes & in.all
                        & ~CONSENT_BIT(CONSENT_P_NECESSARY)
                        & ~((in.gpc && in.honour_gpc)
                            ? (CONSENT_BIT(CONSENT_P_ADVERTISING)
                               | CONSENT_BIT(CONSENT_P_SHARING)) : 0)));
    }

    if (in.record == CONSENT_RECORD_FAILED && !in.fail_open
        && !(in.has_token && in.token_version >= in.reconsent_below))
    {
        FUZZ_ASSERT(out.purposes == CONSENT_BIT(CONSENT_P_NECESSARY));
        FUZZ_ASSERT(out.source == CONSENT_SRC_FAIL);
    }

    FUZZ_ASSERT(out.stale == 0 || out.recorded == 0);

    return 0;
}
