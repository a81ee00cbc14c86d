/*
 * Copyright (C) ngx_consent_module authors
 *
 * The vendors a visitor refused one by one: hashes, their record and
 * cookie forms, and their rules vendor ids (vendor_set.h).
 */

#include <string.h>

#include "b64.h"
#include "vendor_set.h"


uint32_t
consent_vendor_hash(const unsigned char *name, size_t len)
{
    size_t    i;
    uint32_t  h;

    /* FNV-1a, folded to 24 bits: stable, and a cookie's 4 characters */

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h ^= name[i];
        h *= 16777619u;
    }

    return (h >> 24) ^ (h & CONSENT_VENDOR_HASH_MAX);
}


int
consent_vendor_set_has(const consent_vendor_set_t *vs, uint32_t hash)
{
    unsigned  lo, hi, mid;

    lo = 0;
    hi = vs->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (vs->hash[mid] == hash) {
            return 1;
        }

        if (vs->hash[mid] < hash) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return 0;
}


int
consent_vendor_set_add(consent_vendor_set_t *vs, uint32_t hash)
{
    unsigned  i;

    for (i = vs->n; i > 0 && vs->hash[i - 1] >= hash; i--) {
        if (vs->hash[i - 1] == hash) {
            return 0;
        }
    }

    if (vs->n == CONSENT_VENDORS_REFUSED_MAX) {
        return -1;
    }

    memmove(&vs->hash[i + 1], &vs->hash[i], (vs->n - i) * sizeof(uint32_t));
    vs->hash[i] = hash;
    vs->n++;

    return 1;
}


int
consent_vendor_set_names(consent_vendor_set_t *vs, const unsigned char *p,
    size_t len, unsigned *bad)
{
    int                   full;
    const unsigned char  *end, *name;

    end = p + len;
    full = 0;

    while (p < end) {
        name = p;

        while (p < end && *p != ',') {
            p++;
        }

        if (consent_vendor_id_check(name, (size_t) (p - name)) != 0) {
            if (p > name) {
                (*bad)++;
            }

        } else if (consent_vendor_set_add(vs,
                       consent_vendor_hash(name, (size_t) (p - name)))
                   < 0)
        {
            full = 1;
        }

        if (p < end) {
            p++;
        }
    }

    return full ? -1 : 0;
}


size_t
consent_vendor_set_encode(const consent_vendor_set_t *vs, unsigned char *out,
    size_t outlen)
{
    size_t         len;
    unsigned       i;
    unsigned char  raw[3];

    len = (size_t) vs->n * CONSENT_VENDOR_HASH_B64_LEN;

    if (out == NULL || len > outlen) {
        return len;
    }

    for (i = 0; i < vs->n; i++) {
        raw[0] = (unsigned char) (vs->hash[i] >> 16);
        raw[1] = (unsigned char) (vs->hash[i] >> 8);
        raw[2] = (unsigned char) vs->hash[i];

        (void) consent_b64url_encode(raw, 3,
                                     out + i * CONSENT_VENDOR_HASH_B64_LEN);
    }

    return len;
}


int
consent_vendor_set_decode(consent_vendor_set_t *vs, const unsigned char *p,
    size_t len)
{
    int       v;
    size_t    i, k;
    uint32_t  h;

    vs->n = 0;

    if (len % CONSENT_VENDOR_HASH_B64_LEN != 0
        || len / CONSENT_VENDOR_HASH_B64_LEN > CONSENT_VENDORS_REFUSED_MAX)
    {
        return -1;
    }

    for (i = 0; i < len; i += CONSENT_VENDOR_HASH_B64_LEN) {
        h = 0;

        for (k = 0; k < CONSENT_VENDOR_HASH_B64_LEN; k++) {
            v = consent_b64_value(p[i + k], 1);
            if (v < 0) {
                vs->n = 0;
                return -1;
            }

            h = (h << 6) | (uint32_t) v;
        }

        /* ascending and once each: one encoding per set */
        if (vs->n && h <= vs->hash[vs->n - 1]) {
            vs->n = 0;
            return -1;
        }

        vs->hash[vs->n++] = h;
    }

    return 0;
}


void
consent_vendor_index(const consent_ruleset_t *rs, uint64_t *index)
{
    size_t                len;
    unsigned              i, j, n;
    uint64_t              e;
    const unsigned char  *name;

    n = consent_ruleset_vendors(rs);

    /* insertion sort: a few hundred vendors, once a configuration */

    for (i = 0; i < n; i++) {
        name = consent_ruleset_vendor(rs, i, &len);
        e = ((uint64_t) consent_vendor_hash(name, len) << 16) | i;

        for (j = i; j > 0 && index[j - 1] > e; j--) {
            index[j] = index[j - 1];
        }

        index[j] = e;
    }
}


unsigned
consent_vendor_set_bits(const consent_vendor_set_t *vs,
    const uint64_t *index, unsigned n, unsigned char *bits)
{
    unsigned  i, lo, hi, mid, id, set;
    uint64_t  want;

    set = 0;

    for (i = 0; i < vs->n; i++) {
        want = (uint64_t) vs->hash[i] << 16;

        /* the first entry of the hash: several vendors may share it */

        lo = 0;
        hi = n;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;

            if (index[mid] < want) {
                lo = mid + 1;

            } else {
                hi = mid;
            }
        }

        for ( /* void */ ; lo < n && (index[lo] >> 16) == vs->hash[i]; lo++) {
            id = (unsigned) (index[lo] & 0xffff);
            bits[id >> 3] |= (unsigned char) (1 << (id & 7));
            set++;
        }
    }

    return set;
}
