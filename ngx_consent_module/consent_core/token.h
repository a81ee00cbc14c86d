/*
 * Copyright (C) ngx_consent_module authors
 *
 * The signed consent token, the value of the consent cookie:
 *
 *   1.kid.subject.purposes.policy_version.issued_at.signature
 *   2.kid.subject.purposes.policy_version.issued_at.vendors.signature
 *
 * signed and verified with a key ring (keys.h).  Version 2 adds the
 * vendors refused one by one (vendor_set.h's cookie form, never empty);
 * a token without such vendors is still written as version 1, which every
 * release reads.
 */

#ifndef _CONSENT_TOKEN_H_INCLUDED_
#define _CONSENT_TOKEN_H_INCLUDED_


#include "consent_core.h"
#include "keys.h"
#include "vendor_set.h"


#define CONSENT_TOKEN_VERSION       1
#define CONSENT_TOKEN_VERSION_VENDORS  2
/* version 1's longest, and what each refused vendor adds to it */
#define CONSENT_TOKEN_V1_MAX_LEN    192
#define CONSENT_TOKEN_MAX_LEN                                              \
    (CONSENT_TOKEN_V1_MAX_LEN + 1                                         \
     + CONSENT_VENDORS_REFUSED_MAX * CONSENT_VENDOR_HASH_B64_LEN)

typedef struct {
    const consent_key_t       *key;          /* verify: the key that matched */
    const unsigned char       *subject;
    size_t                     subject_len;
    consent_mask_t             purposes;
    uint32_t                   policy_version;
    int64_t                    issued_at;
    /* the refused vendors' cookie form; length 0: none (version 1) */
    const unsigned char       *vendors;
    size_t                     vendors_len;
} consent_token_t;

/* consent_token_verify()'s verdicts */
#define CONSENT_TOKEN_OK            0
#define CONSENT_TOKEN_MALFORMED     1
#define CONSENT_TOKEN_UNKNOWN_KEY   2
#define CONSENT_TOKEN_BAD_SIGNATURE 3
#define CONSENT_TOKEN_EXPIRED       4
#define CONSENT_TOKEN_FUTURE        5

/*
 * Either version: purposes as 8 lowercase hex digits, the subject as
 * consent_subject_valid() (id.h) says, vendors as
 * consent_vendor_set_decode() takes them, the signature the base64url
 * HMAC-SHA256 of everything before its dot.  max_age 0 means no expiry;
 * issued_at more than 5 minutes ahead of now is refused.  Returns the
 * verdict: CONSENT_TOKEN_OK with tok filled, tok->subject and tok->vendors
 * pointing into p.  Tokens that verify are remembered in the ring's cache,
 * when it has one and they are at most CONSENT_TOKEN_SEEN_LEN long.
 */
int consent_token_verify(const unsigned char *p, size_t len,
    consent_keyring_t *ring, int64_t now, int64_t max_age,
    consent_token_t *tok);
#define CONSENT_TOKEN_SEEN_LEN      255

/*
 * Signs with ring->keys[0], version 2 when tok->vendors_len is not 0;
 * returns the length, or 0 if out is too small or tok cannot be signed
 * (no keys, a bad subject or vendors, issued_at not above 0).
 */
size_t consent_token_sign(consent_keyring_t *ring, const consent_token_t *tok,
    unsigned char *out, size_t outlen);
/* a verdict for people */
const char *consent_token_strerror(int rc);

/*
 * Zeroed memory for a ring's cache of verified tokens, from a; NULL when
 * out of memory.  consent_keys_parse() calls it.
 */
consent_token_seen_t *consent_token_cache_create(const consent_alloc_t *a);


#endif /* _CONSENT_TOKEN_H_INCLUDED_ */
