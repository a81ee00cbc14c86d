/*
 * Copyright (C) ngx_consent_module authors
 *
 * The signed consent token.  A token is checked in the order that never
 * lets an attacker learn more than "no": shape, key, signature (constant
 * time), and only then what the signed fields say (expiry).
 */

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64.h"
#include "id.h"
#include "token.h"


#define CONSENT_SIG_LEN      32
#define CONSENT_SIG_B64_LEN  43
#define CONSENT_FUTURE_SKEW  300


/*
 * Tokens whose signature checked out recently, by their exact bytes:
 * a browser sends the same token on every request, and a hit costs one
 * constant-time comparison instead of an HMAC.
 */
#define CONSENT_TOKEN_CACHE_SIZE    256

struct consent_token_seen_s {
    unsigned char              len;          /* 0: empty */
    unsigned char              key;          /* index in the ring */
    unsigned char              subject_off;
    unsigned char              subject_len;
    unsigned char              vendors_off;
    unsigned char              vendors_len;
    consent_mask_t             purposes;
    uint32_t                   policy_version;
    int64_t                    issued_at;
    unsigned char              token[CONSENT_TOKEN_SEEN_LEN];
};

/* a token's fields, as parsed or as remembered */
typedef struct {
    const unsigned char       *subject;
    size_t                     subject_len;
    const unsigned char       *kid;
    size_t                     kid_len;
    const unsigned char       *sig;          /* CONSENT_SIG_B64_LEN bytes */
    const unsigned char       *vendors;
    size_t                     vendors_len;
    consent_mask_t             mask;
    uint64_t                   pv;
    uint64_t                   iat;
} consent_token_fields_t;


static int consent_token_parse(const unsigned char *p, size_t len,
    consent_token_fields_t *tf);
static int consent_parse_uint(const unsigned char *p, size_t len,
    size_t max_digits, uint64_t max, uint64_t *out);
static int consent_hex_mask(const unsigned char *p, size_t len,
    consent_mask_t *mask);
static const consent_key_t *consent_key_find(const consent_keyring_t *ring,
    const unsigned char *kid, size_t len);
static int consent_hmac(consent_keyring_t *ring, const consent_key_t *key,
    const unsigned char *p, size_t len, unsigned char *mac);


consent_token_seen_t *
consent_token_cache_create(const consent_alloc_t *a)
{
    size_t                 size;
    consent_token_seen_t  *seen;

    size = CONSENT_TOKEN_CACHE_SIZE * sizeof(consent_token_seen_t);

    seen = a->alloc(a->data, size);
    if (seen == NULL) {
        return NULL;
    }

    /* zeroed: the allocator may hand out used memory */
    memset(seen, 0, size);

    return seen;
}


static int
consent_parse_uint(const unsigned char *p, size_t len, size_t max_digits,
    uint64_t max, uint64_t *out)
{
    size_t    i;
    uint64_t  v;

    if (len == 0 || len > max_digits) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (uint64_t) (p[i] - '0');
    }

    if (v > max) {
        return -1;
    }

    *out = v;

    return 0;
}


static int
consent_hex_mask(const unsigned char *p, size_t len, consent_mask_t *mask)
{
    size_t    i;
    uint32_t  v;

    if (len != 8) {
        return -1;
    }

    v = 0;

    for (i = 0; i < 8; i++) {
        v <<= 4;

        if (p[i] >= '0' && p[i] <= '9') {
            v |= (uint32_t) (p[i] - '0');

        } else if (p[i] >= 'a' && p[i] <= 'f') {
            v |= (uint32_t) (p[i] - 'a' + 10);

        } else {
            return -1;
        }
    }

    *mask = v;

    return 0;
}


static const consent_key_t *
consent_key_find(const consent_keyring_t *ring, const unsigned char *kid,
    size_t len)
{
    unsigned  i;

    for (i = 0; i < ring->n; i++) {
        if (ring->keys[i].kid_len == len
            && memcmp(ring->keys[i].kid, kid, len) == 0)
        {
            return &ring->keys[i];
        }
    }

    return NULL;
}


/* HMAC-SHA256 from the key's prepared states (keys.c), in ring->scratch */

static int
consent_hmac(consent_keyring_t *ring, const consent_key_t *key,
    const unsigned char *p, size_t len, unsigned char *mac)
{
    unsigned int   n;
    EVP_MD_CTX    *ctx;
    unsigned char  inner[CONSENT_SIG_LEN];

    ctx = ring->scratch;

    if (ctx == NULL || key->inner == NULL
        || EVP_MD_CTX_copy_ex(ctx, key->inner) != 1
        || EVP_DigestUpdate(ctx, p, len) != 1
        || EVP_DigestFinal_ex(ctx, inner, &n) != 1
        || n != CONSENT_SIG_LEN
        || EVP_MD_CTX_copy_ex(ctx, key->outer) != 1
        || EVP_DigestUpdate(ctx, inner, sizeof(inner)) != 1
        || EVP_DigestFinal_ex(ctx, mac, &n) != 1
        || n != CONSENT_SIG_LEN)
    {
        return -1;
    }

    return 0;
}


/* the shape of a token: 0 with its fields, or -1 (malformed) */

static int
consent_token_parse(const unsigned char *p, size_t len,
    consent_token_fields_t *tf)
{
    size_t                 flen[8];
    unsigned               nf, last;
    const unsigned char   *f[8], *q, *end;
    consent_vendor_set_t   vs;

    end = p + len;
    nf = 0;
    f[0] = p;

    for (q = p; q < end; q++) {
        if (*q == '.') {
            if (nf == 7) {
                return -1;
            }

            flen[nf] = (size_t) (q - f[nf]);
            f[++nf] = q + 1;
        }
    }

    flen[nf] = (size_t) (end - f[nf]);

    /* version 1 has 7 fields, version 2 the vendors before the signature */

    if (flen[0] != 1
        || !((f[0][0] == '0' + CONSENT_TOKEN_VERSION && nf == 6)
             || (f[0][0] == '0' + CONSENT_TOKEN_VERSION_VENDORS && nf == 7)))
    {
        return -1;
    }

    last = nf;

    if (flen[last] != CONSENT_SIG_B64_LEN
        || !consent_subject_valid(f[2], flen[2])
        || consent_hex_mask(f[3], flen[3], &tf->mask) != 0
        || consent_parse_uint(f[4], flen[4], 10, 0xffffffffu, &tf->pv) != 0
        || consent_parse_uint(f[5], flen[5], 13, 1000000000000ull,
                              &tf->iat)
           != 0
        || tf->iat == 0)
    {
        return -1;
    }

    tf->vendors = NULL;
    tf->vendors_len = 0;

    if (nf == 7) {
        if (flen[6] == 0 || consent_vendor_set_decode(&vs, f[6], flen[6]) != 0)
        {
            return -1;
        }

        tf->vendors = f[6];
        tf->vendors_len = flen[6];
    }

    tf->kid = f[1];
    tf->kid_len = flen[1];
    tf->subject = f[2];
    tf->subject_len = flen[2];
    tf->sig = f[last];

    return 0;
}


int
consent_token_verify(const unsigned char *p, size_t len,
    consent_keyring_t *ring, int64_t now, int64_t max_age,
    consent_token_t *tok)
{
    const unsigned char     *q;
    const consent_key_t     *key;
    consent_token_seen_t    *seen;
    consent_token_fields_t   tf;
    unsigned char            mac[CONSENT_SIG_LEN];
    unsigned char            sig[CONSENT_SIG_B64_LEN];

    if (len == 0 || len > CONSENT_TOKEN_MAX_LEN) {
        return CONSENT_TOKEN_MALFORMED;
    }

    /*
     * Seen before, byte for byte: its fields were parsed and its signature
     * checked then.  The slot comes from the signature, which is random for
     * valid tokens: good enough as a hash.  A token of valid shape always
     * gets a slot, where a verified one is remembered below.
     */
    seen = NULL;

    if (ring->seen && len > CONSENT_SIG_B64_LEN) {
        q = p + len - CONSENT_SIG_B64_LEN;
        seen = &ring->seen[(q[0] | (q[1] << 7) | (q[2] << 14))
                           % CONSENT_TOKEN_CACHE_SIZE];

        if (seen->len == len && seen->key < ring->n
            && CRYPTO_memcmp(seen->token, p, len) == 0)
        {
            key = &ring->keys[seen->key];
            tf.subject = p + seen->subject_off;
            tf.subject_len = seen->subject_len;
            tf.mask = seen->purposes;
            tf.pv = seen->policy_version;
            tf.iat = (uint64_t) seen->issued_at;
            tf.vendors = seen->vendors_len ? p + seen->vendors_off : NULL;
            tf.vendors_len = seen->vendors_len;
            goto signed_ok;
        }
    }

    if (consent_token_parse(p, len, &tf) != 0) {
        return CONSENT_TOKEN_MALFORMED;
    }

    key = consent_key_find(ring, tf.kid, tf.kid_len);
    if (key == NULL) {
        return CONSENT_TOKEN_UNKNOWN_KEY;
    }

    if (consent_hmac(ring, key, p, (size_t) (tf.sig - 1 - p), mac) != 0) {
        return CONSENT_TOKEN_BAD_SIGNATURE;
    }

    (void) consent_b64url_encode(mac, CONSENT_SIG_LEN, sig);

    if (CRYPTO_memcmp(sig, tf.sig, CONSENT_SIG_B64_LEN) != 0) {
        return CONSENT_TOKEN_BAD_SIGNATURE;
    }

    if (seen && len <= CONSENT_TOKEN_SEEN_LEN) {
        memcpy(seen->token, p, len);
        seen->len = (unsigned char) len;
        seen->key = (unsigned char) (key - ring->keys);
        seen->subject_off = (unsigned char) (tf.subject - p);
        seen->subject_len = (unsigned char) tf.subject_len;
        seen->vendors_off = (unsigned char) (tf.vendors ? tf.vendors - p : 0);
        seen->vendors_len = (unsigned char) tf.vendors_len;
        seen->purposes = tf.mask;
        seen->policy_version = (uint32_t) tf.pv;
        seen->issued_at = (int64_t) tf.iat;
    }

signed_ok:

    /* signed, so what it says can be believed */

    if ((int64_t) tf.iat > now + CONSENT_FUTURE_SKEW) {
        return CONSENT_TOKEN_FUTURE;
    }

    if (max_age > 0 && now - (int64_t) tf.iat > max_age) {
        return CONSENT_TOKEN_EXPIRED;
    }

    tok->key = key;
    tok->subject = tf.subject;
    tok->subject_len = tf.subject_len;
    tok->purposes = tf.mask;
    tok->policy_version = (uint32_t) tf.pv;
    tok->issued_at = (int64_t) tf.iat;
    tok->vendors = tf.vendors;
    tok->vendors_len = tf.vendors_len;

    return CONSENT_TOKEN_OK;
}


size_t
consent_token_sign(consent_keyring_t *ring, const consent_token_t *tok,
    unsigned char *out, size_t outlen)
{
    int                    n;
    size_t                 len, max;
    unsigned char         *p;
    const consent_key_t   *key;
    consent_vendor_set_t   vs;
    unsigned char          mac[CONSENT_SIG_LEN];
    char                   tail[64];

    if (ring == NULL || ring->n == 0
        || !consent_subject_valid(tok->subject, tok->subject_len)
        || tok->issued_at <= 0
        || (tok->vendors_len
            && consent_vendor_set_decode(&vs, tok->vendors, tok->vendors_len)
               != 0))
    {
        return 0;
    }

    key = &ring->keys[0];

    n = snprintf(tail, sizeof(tail), ".%08x.%u.%lld",
                 (unsigned) tok->purposes, (unsigned) tok->policy_version,
                 (long long) tok->issued_at);
    if (n < 0 || (size_t) n >= sizeof(tail)) {
        return 0;
    }

    len = 2 + key->kid_len + 1 + tok->subject_len + (size_t) n;
    max = CONSENT_TOKEN_V1_MAX_LEN;

    if (tok->vendors_len) {
        len += 1 + tok->vendors_len;
        max += 1 + tok->vendors_len;
    }

    if (len + 1 + CONSENT_SIG_B64_LEN > outlen
        || len + 1 + CONSENT_SIG_B64_LEN > max)
    {
        return 0;
    }

    p = out;
    *p++ = tok->vendors_len ? '0' + CONSENT_TOKEN_VERSION_VENDORS
                            : '0' + CONSENT_TOKEN_VERSION;
    *p++ = '.';
    memcpy(p, key->kid, key->kid_len);
    p += key->kid_len;
    *p++ = '.';
    memcpy(p, tok->subject, tok->subject_len);
    p += tok->subject_len;
    memcpy(p, tail, (size_t) n);
    p += n;

    if (tok->vendors_len) {
        *p++ = '.';
        memcpy(p, tok->vendors, tok->vendors_len);
        p += tok->vendors_len;
    }

    if (consent_hmac(ring, key, out, len, mac) != 0) {
        return 0;
    }

    *p++ = '.';
    (void) consent_b64url_encode(mac, CONSENT_SIG_LEN, p);

    return len + 1 + CONSENT_SIG_B64_LEN;
}


const char *
consent_token_strerror(int rc)
{
    switch (rc) {
    case CONSENT_TOKEN_OK:
        return "ok";
    case CONSENT_TOKEN_MALFORMED:
        return "malformed";
    case CONSENT_TOKEN_UNKNOWN_KEY:
        return "unknown key";
    case CONSENT_TOKEN_BAD_SIGNATURE:
        return "bad signature";
    case CONSENT_TOKEN_EXPIRED:
        return "expired";
    case CONSENT_TOKEN_FUTURE:
        return "issued in the future";
    }

    return "unknown error";
}
