/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: vendors refused one by one (vendor_set.h).
 *
 * The input as a cookie form: decode takes it only in its one form
 * (encoding what it gave gives the input back) and leaves the set empty
 * otherwise.  The input as a record's "vr": every hash it gives is a
 * vendor name's of the input, ascending, each once, at most the most a
 * set holds; names that are not vendor ids are counted, never kept.
 */

#include "vendor_set.h"
#include "fuzz.h"


static void
fuzz_check_set(const consent_vendor_set_t *vs)
{
    unsigned  i;

    FUZZ_ASSERT(vs->n <= CONSENT_VENDORS_REFUSED_MAX);

    for (i = 0; i < vs->n; i++) {
        FUZZ_ASSERT(vs->hash[i] <= CONSENT_VENDOR_HASH_MAX);
        FUZZ_ASSERT(i == 0 || vs->hash[i - 1] < vs->hash[i]);
        FUZZ_ASSERT(consent_vendor_set_has(vs, vs->hash[i]));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    rc, full;
    size_t                 n;
    unsigned               bad, names;
    unsigned char         *copy, *out;
    const unsigned char   *p, *end, *name;
    consent_vendor_set_t   vs, again;

    copy = fuzz_copy(data, size);

    /* the cookie form */
    memset(&vs, 0xa5, sizeof(vs));
    rc = consent_vendor_set_decode(&vs, copy, size);

    if (rc == 0) {
        fuzz_check_set(&vs);
        FUZZ_ASSERT(vs.n * CONSENT_VENDOR_HASH_B64_LEN == size);

        n = consent_vendor_set_encode(&vs, NULL, 0);
        FUZZ_ASSERT(n == size);

        out = malloc(n ? n : 1);
        if (out == NULL) {
            abort();
        }

        FUZZ_ASSERT(consent_vendor_set_encode(&vs, out, n) == n);
        FUZZ_ASSERT(memcmp(out, copy, n) == 0);
        FUZZ_ASSERT(n == 0 || consent_vendor_set_encode(&vs, out, n - 1) == n);
        free(out);

    } else {
        FUZZ_ASSERT(rc == -1);
        FUZZ_ASSERT(vs.n == 0);
    }

    /* the record's names */
    memset(&vs, 0, sizeof(vs));
    bad = 0;
    rc = consent_vendor_set_names(&vs, copy, size, &bad);
    fuzz_check_set(&vs);
    FUZZ_ASSERT(rc == 0 || vs.n == CONSENT_VENDORS_REFUSED_MAX);

    /* the same, name by name: what each gives is in the set */
    memset(&again, 0, sizeof(again));
    p = copy;
    end = copy + size;
    names = 0;
    full = 0;

    while (p < end) {
        name = p;

        while (p < end && *p != ',') {
            p++;
        }

        if (consent_vendor_id_check(name, (size_t) (p - name)) == 0) {
            names++;
            full |= consent_vendor_set_add(&again,
                        consent_vendor_hash(name, (size_t) (p - name))) < 0;

        } else if (p > name) {
            bad--;
        }

        if (p < end) {
            p++;
        }
    }

    FUZZ_ASSERT(bad == 0);
    FUZZ_ASSERT((rc != 0) == full);
    FUZZ_ASSERT(again.n == vs.n
                && memcmp(again.hash, vs.hash, vs.n * sizeof(uint32_t)) == 0);
    FUZZ_ASSERT(vs.n <= names);

    free(copy);

    return 0;
}
