/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the TC string decoder (tcf.c) and the bit reader
 * under it (bits.c).
 *
 * Every block the decoder allocates is counted and freed after each
 * input, so a leak or a write past a vendor set is an ASan report.  What
 * the decoder accepts must be what tcf.h promises: version 2, letters
 * A-Z, masks no wider than their fields, vendor sets bounded by their
 * MaxVendorId, restriction ranges that are not empty, the disclosed
 * vendors segment read; what it refuses must leave the caller's struct
 * as it was, with a known code and err->at inside the input.  The same
 * input read twice reads the same, and a '.' more is always refused.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcf.h"
#include "fuzz.h"


/* a string cannot need more than a few thousand blocks */
#define FUZZ_BLOCKS  8192


static void
fuzz_check_vendors(const consent_tcf_vendors_t *v)
{
    unsigned  id, n;

    FUZZ_ASSERT(v->max_id <= CONSENT_TCF_MAX_VENDOR);
    FUZZ_ASSERT(v->max_id == 0 || v->bits != NULL);

    n = 0;

    for (id = 1; id <= v->max_id; id++) {
        n += (unsigned) consent_tcf_vendor(v, id);
    }

    FUZZ_ASSERT(n <= v->max_id);
    FUZZ_ASSERT(consent_tcf_vendor(v, 0) == 0);
    FUZZ_ASSERT(consent_tcf_vendor(v, v->max_id + 1) == 0);
}


static void
fuzz_check_ok(const consent_tcf_t *t)
{
    unsigned  i, j;

    FUZZ_ASSERT(t->version == CONSENT_TCF_VERSION);
    FUZZ_ASSERT(t->created < (1ULL << 36) && t->last_updated < (1ULL << 36));
    FUZZ_ASSERT(t->cmp_id < 4096 && t->cmp_version < 4096);
    FUZZ_ASSERT(t->consent_screen < 64 && t->policy_version < 64);
    FUZZ_ASSERT(t->vendor_list_version < 4096);

    for (i = 0; i < 2; i++) {
        FUZZ_ASSERT(t->language[i] >= 'A' && t->language[i] <= 'Z');
        FUZZ_ASSERT(t->publisher_cc[i] >= 'A' && t->publisher_cc[i] <= 'Z');
    }

    FUZZ_ASSERT(t->language[2] == '\0' && t->publisher_cc[2] == '\0');
    FUZZ_ASSERT(t->special_features < (1u << 12));
    FUZZ_ASSERT(t->purposes_consent < (1u << 24));
    FUZZ_ASSERT(t->purposes_li < (1u << 24));
    FUZZ_ASSERT(t->pub_consent < (1u << 24) && t->pub_li < (1u << 24));
    FUZZ_ASSERT(t->num_custom < 64);
    FUZZ_ASSERT((t->custom_consent >> t->num_custom) == 0);
    FUZZ_ASSERT((t->custom_li >> t->num_custom) == 0);
    FUZZ_ASSERT(t->has_publisher || t->num_custom == 0);

    fuzz_check_vendors(&t->vendors_consent);
    fuzz_check_vendors(&t->vendors_li);
    fuzz_check_vendors(&t->vendors_disclosed);

    FUZZ_ASSERT(t->nrestrictions == 0 || t->restrictions != NULL);

    for (i = 0; i < t->nrestrictions; i++) {
        FUZZ_ASSERT(t->restrictions[i].purpose < 64);
        FUZZ_ASSERT(t->restrictions[i].type <= CONSENT_TCF_RESTRICT_LI);

        for (j = 0; j < t->restrictions[i].nranges; j++) {
            FUZZ_ASSERT(t->restrictions[i].ranges[j].start >= 1);
            FUZZ_ASSERT(t->restrictions[i].ranges[j].end
                        >= t->restrictions[i].ranges[j].start);
        }
    }
}


/* the parts of a result two reads must agree on */

static int
fuzz_same(const consent_tcf_t *a, const consent_tcf_t *b)
{
    unsigned  id;

    if (a->created != b->created || a->cmp_id != b->cmp_id
        || a->purposes_consent != b->purposes_consent
        || a->custom_li != b->custom_li
        || a->nrestrictions != b->nrestrictions
        || a->vendors_consent.max_id != b->vendors_consent.max_id
        || a->vendors_disclosed.max_id != b->vendors_disclosed.max_id)
    {
        return 0;
    }

    for (id = 1; id <= a->vendors_consent.max_id; id++) {
        if (consent_tcf_vendor(&a->vendors_consent, id)
            != consent_tcf_vendor(&b->vendors_consent, id))
        {
            return 0;
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc;
    unsigned char   *p, *dot;
    consent_tcf_t    t, t2, before;
    fuzz_pool_t      pool;
    consent_err_t    err;
    consent_alloc_t  a;

    p = fuzz_copy(data, size);
    fuzz_pool_init(&pool, 0, &a);

    memset(&t, 0x5a, sizeof(t));
    before = t;

    rc = consent_tcf_decode(p, size, &a, &t, &err);
    FUZZ_ASSERT(rc == 0 || rc == -1);

    if (rc == 0) {
        fuzz_check_ok(&t);

        FUZZ_ASSERT(consent_tcf_decode(p, size, &a, &t2, &err) == 0);
        FUZZ_ASSERT(fuzz_same(&t, &t2));

    } else {
        FUZZ_ASSERT(memcmp(&t, &before, sizeof(t)) == 0);
        FUZZ_ASSERT(err.code >= CONSENT_TCF_E_LENGTH
                    && err.code <= CONSENT_TCF_E_NOMEM);
        FUZZ_ASSERT(err.code != CONSENT_TCF_E_NOMEM);
        FUZZ_ASSERT(err.msg != NULL);
        FUZZ_ASSERT(err.at.data >= p && err.at.len <= size
                    && err.at.data + err.at.len <= p + size);
    }

    /* an empty segment at the end is never a string */
    if (size < CONSENT_TCF_MAX_LEN) {
        dot = malloc(size + 1);
        if (dot == NULL) {
            abort();
        }
        memcpy(dot, data, size);
        dot[size] = '.';
        FUZZ_ASSERT(consent_tcf_decode(dot, size + 1, &a, &t2, &err) == -1);
        free(dot);
    }

    FUZZ_ASSERT(pool.n < FUZZ_BLOCKS);
    fuzz_pool_free(&pool);
    free(p);

    return 0;
}
