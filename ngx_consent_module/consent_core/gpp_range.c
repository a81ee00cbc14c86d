/*
 * Copyright (C) ngx_consent_module authors
 *
 * GPP's Range(Fibonacci) (gpp_range.h).
 */

#include "gpp.h"
#include "gpp_range.h"


/* a Fibonacci code: 0, or why not */

static int
consent_gpp_fibonacci(consent_bits_t *b, uint32_t *v)
{
    if (consent_bits_fibonacci(b, v) == 0) {
        return 0;
    }

    /* bits.c refuses both a code that never ends and one too large */
    return b->overrun ? CONSENT_GPP_E_TRUNCATED : CONSENT_GPP_E_IDS;
}


int
consent_gpp_range_read(consent_bits_t *b, uint32_t max,
    consent_gpp_range_pt cb, void *data)
{
    int       rc;
    uint32_t  n, i, offset, length;
    uint64_t  first, last;

    n = (uint32_t) consent_bits_read(b, 12);
    last = 0;

    for (i = 0; i < n; i++) {
        if (b->overrun) {
            break;
        }

        length = 0;

        if (consent_bits_read(b, 1)) {
            rc = consent_gpp_fibonacci(b, &offset);
            if (rc == 0) {
                rc = consent_gpp_fibonacci(b, &length);
            }

        } else {
            rc = consent_gpp_fibonacci(b, &offset);
        }

        if (rc != 0) {
            return rc;
        }

        /* 64 bits: two codes of up to UINT32_MAX on top of max */
        first = last + offset;
        last = first + length;

        if (last > max) {
            return CONSENT_GPP_E_IDS;
        }

        rc = cb(data, (uint32_t) first, (uint32_t) last);
        if (rc != 0) {
            return rc;
        }
    }

    return b->overrun ? CONSENT_GPP_E_TRUNCATED : 0;
}
