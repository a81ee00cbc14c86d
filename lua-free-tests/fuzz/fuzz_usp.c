/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the US Privacy string decoder (usp.c), checked
 * against the spec written out as plainly as possible: four bytes, '1',
 * then three of Y, N, - (either case of Y and N).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usp.h"
#include "fuzz.h"


static int
fuzz_usp_field(unsigned char c)
{
    return strchr("YyNn-", c) != NULL && c != '\0';
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc, want;
    unsigned char  *p;
    consent_usp_t   u, before;
    consent_err_t   err;

    p = fuzz_copy(data, size);

    want = size == 4 && p[0] == '1' && fuzz_usp_field(p[1])
           && fuzz_usp_field(p[2]) && fuzz_usp_field(p[3]);

    memset(&u, 0x5a, sizeof(u));
    before = u;

    rc = consent_usp_decode(p, size, &u, &err);

    FUZZ_ASSERT(rc == (want ? 0 : -1));

    if (rc == 0) {
        FUZZ_ASSERT(u.version == 1);
        FUZZ_ASSERT(u.notice == (p[1] == '-' ? '-' : (p[1] & ~0x20)));
        FUZZ_ASSERT(u.opt_out_sale == (p[2] == '-' ? '-' : (p[2] & ~0x20)));
        FUZZ_ASSERT(u.lspa == (p[3] == '-' ? '-' : (p[3] & ~0x20)));

    } else {
        FUZZ_ASSERT(memcmp(&u, &before, sizeof(u)) == 0);
        FUZZ_ASSERT(err.code >= CONSENT_USP_E_LENGTH
                    && err.code <= CONSENT_USP_E_VALUE);
        FUZZ_ASSERT(err.at.data >= p && err.at.data + err.at.len <= p + size);
    }

    free(p);

    return 0;
}
