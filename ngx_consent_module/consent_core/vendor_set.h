/*
 * Copyright (C) ngx_consent_module authors
 *
 * The vendors a visitor refused one by one, where their purpose is
 * granted.  Kept by name in the record ("vr", names joined by ','), and
 * as 24-bit hashes of the names where a name is too long or a rules
 * vendor id too unstable: the signed cookie (4 base64url characters a
 * vendor), the shared cache, the per-request set.  A name's hash does not
 * change with the rules; a reload that renames or drops a vendor leaves
 * its hash matching nothing.  Two names of one rule set sharing a hash
 * (one chance in about 3,000 for 100 vendors) are refused together: the
 * stricter answer, never the looser.
 */

#ifndef _CONSENT_VENDOR_SET_H_INCLUDED_
#define _CONSENT_VENDOR_SET_H_INCLUDED_


#include "consent_core.h"
#include "rules.h"


/* vendors refused beyond their purposes: at most this many a visitor */
#define CONSENT_VENDORS_REFUSED_MAX    128

/* a hash in the signed cookie */
#define CONSENT_VENDOR_HASH_B64_LEN    4
#define CONSENT_VENDOR_HASH_MAX        0xffffffu

typedef struct {
    uint32_t                   hash[CONSENT_VENDORS_REFUSED_MAX];
    unsigned                   n;            /* ascending, no repeats */
} consent_vendor_set_t;


/* a vendor name's hash, 0 to CONSENT_VENDOR_HASH_MAX */
uint32_t consent_vendor_hash(const unsigned char *name, size_t len);

/* 1 added, 0 already in, -1 full */
int consent_vendor_set_add(consent_vendor_set_t *vs, uint32_t hash);
int consent_vendor_set_has(const consent_vendor_set_t *vs, uint32_t hash);

/*
 * A record's "vr": vendor names joined by ','.  A name that is not a
 * vendor id (consent_vendor_id_check()) is skipped and counted in *bad.
 * Returns 0, or -1 when more than CONSENT_VENDORS_REFUSED_MAX names:
 * what fits is kept.
 */
int consent_vendor_set_names(consent_vendor_set_t *vs, const unsigned char *p,
    size_t len, unsigned *bad);

/*
 * The cookie's form: CONSENT_VENDOR_HASH_B64_LEN characters a hash, in
 * order.  encode returns the length needed, written when it fits;
 * decode takes only that form (ascending, no repeats, base64url), and
 * returns 0, or -1 with the set empty.
 */
size_t consent_vendor_set_encode(const consent_vendor_set_t *vs,
    unsigned char *out, size_t outlen);
int consent_vendor_set_decode(consent_vendor_set_t *vs,
    const unsigned char *p, size_t len);

/*
 * The rules' vendors by hash: index gets consent_ruleset_vendors(rs)
 * entries (hash << 16 | vendor id), ascending.
 */
void consent_vendor_index(const consent_ruleset_t *rs, uint64_t *index);
/*
 * Sets bit id (CONSENT_IAB_BIT's layout) of bits for every rules vendor
 * whose hash is in the set; returns how many were set.
 */
unsigned consent_vendor_set_bits(const consent_vendor_set_t *vs,
    const uint64_t *index, unsigned n, unsigned char *bits);


#endif /* _CONSENT_VENDOR_SET_H_INCLUDED_ */
