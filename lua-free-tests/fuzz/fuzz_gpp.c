/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the GPP decoder and __gpp_sid.
 *
 * consent_gpp_decode() gets the input as an exactly sized heap copy, its
 * memory from an allocator that keeps every block and frees them all
 * after (as an nginx pool would), so ASan sees a read past the input and
 * LeakSanitizer a block the decoder lost track of.  What it returns must
 * hold together: sections in the input, ids ascending, the skipped
 * count right; on failure a known code and the fault inside the input.
 * A second run fails the allocator at the nth call, n from the input:
 * refused cleanly, never half-filled.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpp.h"
#include "fuzz.h"


static int
fuzz_inside(const unsigned char *p, size_t len, const unsigned char *q,
    size_t qlen)
{
    return q >= p && q <= p + len && qlen <= (size_t) (p + len - q);
}


static void
fuzz_check(const unsigned char *p, size_t len, size_t fail_at)
{
    int                           rc;
    unsigned                      i, skipped;
    fuzz_pool_t                   pool;
    consent_err_t                 err;
    consent_gpp_t                 gpp;
    consent_alloc_t               a;
    const consent_gpp_section_t  *s;

    fuzz_pool_init(&pool, fail_at, &a);

    memset(&gpp, 0xa5, sizeof(gpp));
    rc = consent_gpp_decode(p, len, &a, &gpp, &err);

    FUZZ_ASSERT(rc == 0 || rc == -1);

    if (rc == -1) {
        FUZZ_ASSERT(err.code >= CONSENT_GPP_E_LENGTH
                    && err.code <= CONSENT_GPP_E_NOMEM);
        FUZZ_ASSERT(err.msg != NULL);
        FUZZ_ASSERT(err.code == CONSENT_GPP_E_LENGTH
                    || fuzz_inside(p, len, err.at.data, err.at.len));
        FUZZ_ASSERT(fail_at || err.code != CONSENT_GPP_E_NOMEM);
        fuzz_pool_free(&pool);
        return;
    }

    FUZZ_ASSERT(len > 0 && len <= CONSENT_GPP_MAX_LEN);
    FUZZ_ASSERT(gpp.version == CONSENT_GPP_VERSION);
    FUZZ_ASSERT(gpp.nsections <= CONSENT_GPP_MAX_SECTIONS);

    skipped = 0;

    for (i = 0; i < gpp.nsections; i++) {
        s = &gpp.sections[i];

        FUZZ_ASSERT(s->id >= 1 && s->id <= CONSENT_GPP_MAX_ID);
        FUZZ_ASSERT(i == 0 || s->id > gpp.sections[i - 1].id);
        FUZZ_ASSERT(s->text.len > 0);
        FUZZ_ASSERT(fuzz_inside(p, len, s->text.data, s->text.len));
        FUZZ_ASSERT(memchr(s->text.data, '~', s->text.len) == NULL);

        skipped += s->skipped;

        if (s->skipped) {
            FUZZ_ASSERT(consent_gpp_section(&gpp, s->id) == NULL);
            continue;
        }

        FUZZ_ASSERT(consent_gpp_section(&gpp, s->id) == s);

        if (s->id >= CONSENT_GPP_USNAT && s->id <= CONSENT_GPP_USRI) {
            FUZZ_ASSERT(s->u.us.nsensitive <= CONSENT_GPP_SENSITIVE_MAX);
            FUZZ_ASSERT(s->u.us.nchild <= CONSENT_GPP_CHILD_MAX);
        }

        if (s->id == CONSENT_GPP_TCFCAV1) {
            FUZZ_ASSERT(s->u.tcfca->language[0] >= 'A'
                        && s->u.tcfca->language[0] <= 'Z');
            FUZZ_ASSERT(consent_tcf_vendor(&s->u.tcfca->vendors_express,
                                           s->u.tcfca->vendors_express.max_id
                                           + 1) == 0);
        }
    }

    FUZZ_ASSERT(skipped == gpp.nskipped);

    fuzz_pool_free(&pool);
}


static void
fuzz_sid(const unsigned char *p, size_t len)
{
    int            n, i;
    unsigned       ids[8];
    consent_err_t  err;

    n = consent_gpp_sid_parse(p, len, ids, 8, &err);

    FUZZ_ASSERT(n >= -1 && n <= 8);
    FUZZ_ASSERT(n != -1 || err.code == CONSENT_GPP_E_SID);

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(ids[i] >= 1 && ids[i] <= CONSENT_GPP_MAX_ID);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char  *p;

    p = fuzz_copy(data, size);

    fuzz_check(p, size, 0);
    fuzz_check(p, size, size ? 1 + data[size - 1] % 8 : 1);
    fuzz_sid(p, size);

    free(p);

    return 0;
}
