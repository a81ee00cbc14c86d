/*
 * Copyright (C) ngx_consent_module authors
 *
 * The signing keys file (consent_keys) and the key ring it gives, which
 * signs and verifies consent tokens (token.h).
 */

#ifndef _CONSENT_KEYS_H_INCLUDED_
#define _CONSENT_KEYS_H_INCLUDED_


#include "consent_core.h"


#define CONSENT_KEYS_MAX            16
#define CONSENT_KID_MAX             16
#define CONSENT_KEY_MIN             16
#define CONSENT_KEY_MAX             64

typedef struct {
    unsigned char              kid_len;
    char                       kid[CONSENT_KID_MAX];
    unsigned char              key_len;
    unsigned char              key[CONSENT_KEY_MAX];
    /*
     * SHA-256 states with the HMAC pads already absorbed: EVP_MD_CTXs
     * that OpenSSL allocated, owned by the ring the key is on
     */
    void                      *inner;
    void                      *outer;
} consent_key_t;

/* consent_token_verify()'s memory of tokens it checked (token.c) */
typedef struct consent_token_seen_s  consent_token_seen_t;

/*
 * What a ring owns, and who frees it:
 *   - the EVP_MD_CTXs of its keys and scratch: OpenSSL's memory, which no
 *     consent_alloc_t can provide; consent_keyring_free() frees them;
 *   - seen, the cache of verified tokens: from the consent_alloc_t given
 *     to consent_keys_parse(), freed with that allocator's memory (NULL
 *     when none was given).
 * Signing and verifying write to scratch and seen: a ring is for one
 * thread at a time (in nginx, each worker process has its own copy), and
 * those calls take it as non-const.
 */
typedef struct {
    unsigned                   n;
    consent_key_t              keys[CONSENT_KEYS_MAX];
    void                      *scratch;      /* EVP_MD_CTX for one MAC */
    consent_token_seen_t      *seen;
} consent_keyring_t;

/* consent_keys_parse() errors: err->code */
#define CONSENT_KEYS_E_KID          1    /* empty, too long or a bad byte */
#define CONSENT_KEYS_E_NO_KEY       2    /* a kid alone */
#define CONSENT_KEYS_E_FIELD        3    /* more than kid and key */
#define CONSENT_KEYS_E_DUPLICATE    4    /* a kid used twice */
#define CONSENT_KEYS_E_TOO_MANY     5    /* over CONSENT_KEYS_MAX */
#define CONSENT_KEYS_E_BASE64       6
#define CONSENT_KEYS_E_KEY_LONG     7    /* over CONSENT_KEY_MAX bytes */
#define CONSENT_KEYS_E_KEY_SHORT    8    /* under CONSENT_KEY_MIN bytes */
#define CONSENT_KEYS_E_NO_KEYS      9    /* not one key in the file */
#define CONSENT_KEYS_E_CRYPTO       10   /* OpenSSL failed */
#define CONSENT_KEYS_E_NOMEM        11   /* the allocator failed */

/*
 * "kid base64key" a line, '#' comments; the first key signs.  a gives the
 * memory of the ring's cache of verified tokens; NULL for a ring that
 * verifies without one (consentctl checks a key it made).  Returns 0, or
 * -1 with err: code, message, the line and the field at fault.  Give the
 * ring to consent_keyring_free() when done, also after an error.
 */
int consent_keys_parse(const unsigned char *p, size_t len,
    consent_keyring_t *ring, const consent_alloc_t *a, consent_err_t *err);
/*
 * Frees the ring's OpenSSL contexts and wipes its keys: it is then empty
 * (n 0).  The cache's memory is the allocator's.
 */
void consent_keyring_free(consent_keyring_t *ring);


#endif /* _CONSENT_KEYS_H_INCLUDED_ */
