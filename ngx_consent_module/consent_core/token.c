/*
 * Copyright (C) ngx_consent_module authors
 *
 * base64url, the signing keys file and the signed consent token.  A token
 * is checked in the order that never lets an attacker learn more than
 * "no": shape, key, signature (constant time), and only then what the
 * signed fields say (expiry).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "consent_core.h"


#define CONSENT_SIG_LEN      32
#define CONSENT_SIG_B64_LEN  43
#define CONSENT_FUTURE_SKEW  300
#define CONSENT_HMAC_BLOCK   64


#define consent_xor(dst, src, n)                                             \
    do {                                                                     \
        size_t  x_;                                                          \
        for (x_ = 0; x_ < (n); x_++) {                                       \
            (dst)[x_] ^= (src)[x_];                                          \
        }                                                                    \
    } while (0)


static int consent_key_prepare(consent_key_t *key);


static const char  consent_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


size_t
consent_b64url_encode(const unsigned char *src, size_t len,
    unsigned char *dst)
{
    unsigned char  *d;

    d = dst;

    while (len >= 3) {
        *d++ = consent_b64url[src[0] >> 2];
        *d++ = consent_b64url[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = consent_b64url[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = consent_b64url[src[2] & 0x3f];
        src += 3;
        len -= 3;
    }

    if (len) {
        *d++ = consent_b64url[src[0] >> 2];

        if (len == 1) {
            *d++ = consent_b64url[(src[0] & 0x03) << 4];

        } else {
            *d++ = consent_b64url[((src[0] & 0x03) << 4) | (src[1] >> 4)];
            *d++ = consent_b64url[(src[1] & 0x0f) << 2];
        }
    }

    return (size_t) (d - dst);
}


static int
consent_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+' || c == '-') {
        return 62;
    }

    if (c == '/' || c == '_') {
        return 63;
    }

    return -1;
}


long
consent_b64_decode(const unsigned char *src, size_t len, unsigned char *dst,
    size_t dstlen)
{
    int       v;
    size_t    i, n, pad;
    uint32_t  acc;
    unsigned  bits;

    pad = 0;

    while (len && src[len - 1] == '=') {
        len--;
        pad++;
    }

    if (pad > 2 || (pad && (len + pad) % 4 != 0) || len % 4 == 1) {
        return -1;
    }

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        v = consent_b64_value(src[i]);
        if (v < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;

            if (n >= dstlen) {
                return -1;
            }

            dst[n++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    /* leftover bits must be zero: one encoding per value */
    if (acc != 0) {
        return -1;
    }

    return (long) n;
}


int
consent_secret_parse(const unsigned char *p, size_t len,
    const unsigned char **user, size_t *user_len,
    const unsigned char **password, size_t *password_len)
{
    const unsigned char  *end, *sp;

    end = memchr(p, '\n', len);
    if (end == NULL) {
        end = p + len;
    }

    while (end > p && (end[-1] == '\r' || end[-1] == ' ')) {
        end--;
    }

    *user = p;
    *user_len = 0;

    sp = memchr(p, ' ', end - p);

    if (sp) {
        if (sp == p) {
            return -1;
        }

        *user_len = sp - p;
        p = sp + 1;
    }

    *password = p;
    *password_len = end - p;

    return *password_len ? 0 : -1;
}


static int
consent_kid_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-';
}


int
consent_keys_parse(const unsigned char *p, size_t len,
    consent_keyring_t *ring, unsigned *err_line, const char **err)
{
    long                  n;
    size_t                i, kid_len, b64_len;
    unsigned              line, k;
    const unsigned char  *end, *eol, *kid, *b64, *q;
    consent_key_t        *key;

    memset(ring, 0, sizeof(consent_keyring_t));

    end = p + len;
    line = 0;

    while (p < end) {
        line++;
        *err_line = line;

        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            eol = end;
        }

        q = p;
        p = (eol < end) ? eol + 1 : end;

        while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) {
            q++;
        }

        if (q == eol || *q == '#') {
            continue;
        }

        kid = q;

        while (q < eol && *q != ' ' && *q != '\t') {
            q++;
        }

        kid_len = (size_t) (q - kid);

        while (q < eol && (*q == ' ' || *q == '\t')) {
            q++;
        }

        b64 = q;

        while (q < eol && *q != ' ' && *q != '\t' && *q != '\r') {
            q++;
        }

        b64_len = (size_t) (q - b64);

        while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) {
            q++;
        }

        if (kid_len == 0 || kid_len > CONSENT_KID_MAX) {
            *err = "bad kid";
            return -1;
        }

        for (i = 0; i < kid_len; i++) {
            if (!consent_kid_char(kid[i])) {
                *err = "bad kid";
                return -1;
            }
        }

        if (b64_len == 0) {
            *err = "missing key";
            return -1;
        }

        if (q != eol) {
            *err = "unexpected field";
            return -1;
        }

        for (k = 0; k < ring->n; k++) {
            if (ring->keys[k].kid_len == kid_len
                && memcmp(ring->keys[k].kid, kid, kid_len) == 0)
            {
                *err = "duplicate kid";
                return -1;
            }
        }

        if (ring->n == CONSENT_KEYS_MAX) {
            *err = "too many keys";
            return -1;
        }

        key = &ring->keys[ring->n];

        n = consent_b64_decode(b64, b64_len, key->key, CONSENT_KEY_MAX);

        if (n < 0) {
            /* longer than the maximum also lands here: say which */
            n = (long) (b64_len * 3 / 4);
            *err = (n > CONSENT_KEY_MAX + 2) ? "key too long"
                                             : "bad base64 key";
            memset(key, 0, sizeof(consent_key_t));
            return -1;
        }

        if (n < CONSENT_KEY_MIN) {
            *err = "key too short";
            memset(key, 0, sizeof(consent_key_t));
            return -1;
        }

        memcpy(key->kid, kid, kid_len);
        key->kid_len = (unsigned char) kid_len;
        key->key_len = (unsigned char) n;
        ring->n++;

        if (consent_key_prepare(key) != 0) {
            *err = "cannot set up HMAC-SHA256";
            return -1;
        }
    }

    if (ring->n == 0) {
        *err_line = line;
        *err = "no keys";
        return -1;
    }

    ring->scratch = EVP_MD_CTX_new();
    ring->seen = calloc(CONSENT_TOKEN_CACHE_SIZE,
                        sizeof(consent_token_seen_t));

    if (ring->scratch == NULL || ring->seen == NULL) {
        *err = "cannot set up HMAC-SHA256";
        return -1;
    }

    return 0;
}


int
consent_subject_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONSENT_SUBJECT_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!consent_kid_char(p[i])) {
            return 0;
        }
    }

    return 1;
}


int
consent_id_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONSENT_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!consent_kid_char(p[i])
            && p[i] != '.' && p[i] != ':' && p[i] != '@')
        {
            return 0;
        }
    }

    return 1;
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


/*
 * HMAC (RFC 2104) from SHA-256 states keyed once per key: the one-shot
 * HMAC() looks the digest up and sets the key on every call, which cost
 * ten times the hashing itself on the request path.
 */

static int
consent_key_prepare(consent_key_t *key)
{
    size_t          i;
    EVP_MD_CTX     *ctx[2];
    unsigned char   pad[CONSENT_HMAC_BLOCK];
    static const unsigned char  fill[2] = { 0x36, 0x5c };

    ctx[0] = EVP_MD_CTX_new();
    ctx[1] = EVP_MD_CTX_new();
    key->inner = ctx[0];
    key->outer = ctx[1];

    if (ctx[0] == NULL || ctx[1] == NULL) {
        return -1;
    }

    for (i = 0; i < 2; i++) {
        /* keys are at most one block long, so they are used as they are */
        memset(pad, fill[i], sizeof(pad));
        consent_xor(pad, key->key, key->key_len);

        if (EVP_DigestInit_ex(ctx[i], EVP_sha256(), NULL) != 1
            || EVP_DigestUpdate(ctx[i], pad, sizeof(pad)) != 1)
        {
            OPENSSL_cleanse(pad, sizeof(pad));
            return -1;
        }
    }

    OPENSSL_cleanse(pad, sizeof(pad));

    return 0;
}


void
consent_keyring_free(consent_keyring_t *ring)
{
    unsigned  i;

    for (i = 0; i < CONSENT_KEYS_MAX; i++) {
        EVP_MD_CTX_free(ring->keys[i].inner);
        EVP_MD_CTX_free(ring->keys[i].outer);
        ring->keys[i].inner = NULL;
        ring->keys[i].outer = NULL;
    }

    EVP_MD_CTX_free(ring->scratch);
    ring->scratch = NULL;
    free(ring->seen);
    ring->seen = NULL;
    OPENSSL_cleanse(ring->keys, sizeof(ring->keys));
    ring->n = 0;
}


static int
consent_hmac(const consent_keyring_t *ring, const consent_key_t *key,
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


int
consent_token_verify(const unsigned char *p, size_t len,
    const consent_keyring_t *ring, int64_t now, int64_t max_age,
    consent_token_t *tok)
{
    size_t                 flen[7];
    uint64_t               pv, iat;
    unsigned               nf;
    const unsigned char   *f[7], *q, *end;
    const consent_key_t   *key;
    consent_mask_t         mask;
    consent_token_seen_t  *seen;
    unsigned char          mac[CONSENT_SIG_LEN];
    unsigned char          sig[CONSENT_SIG_B64_LEN];

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
            f[2] = p + seen->subject_off;
            flen[2] = seen->subject_len;
            mask = seen->purposes;
            pv = seen->policy_version;
            iat = (uint64_t) seen->issued_at;
            goto signed_ok;
        }
    }

    end = p + len;
    nf = 0;
    f[0] = p;

    for (q = p; q < end; q++) {
        if (*q == '.') {
            if (nf == 6) {
                return CONSENT_TOKEN_MALFORMED;
            }

            flen[nf] = (size_t) (q - f[nf]);
            f[++nf] = q + 1;
        }
    }

    if (nf != 6) {
        return CONSENT_TOKEN_MALFORMED;
    }

    flen[6] = (size_t) (end - f[6]);

    if (flen[0] != 1 || f[0][0] != '0' + CONSENT_TOKEN_VERSION
        || flen[6] != CONSENT_SIG_B64_LEN
        || !consent_subject_valid(f[2], flen[2])
        || consent_hex_mask(f[3], flen[3], &mask) != 0
        || consent_parse_uint(f[4], flen[4], 10, 0xffffffffu, &pv) != 0
        || consent_parse_uint(f[5], flen[5], 13, 1000000000000ull, &iat)
           != 0
        || iat == 0)
    {
        return CONSENT_TOKEN_MALFORMED;
    }

    key = consent_key_find(ring, f[1], flen[1]);
    if (key == NULL) {
        return CONSENT_TOKEN_UNKNOWN_KEY;
    }

    if (consent_hmac(ring, key, p, (size_t) (f[6] - 1 - p), mac) != 0) {
        return CONSENT_TOKEN_BAD_SIGNATURE;
    }

    (void) consent_b64url_encode(mac, CONSENT_SIG_LEN, sig);

    if (CRYPTO_memcmp(sig, f[6], CONSENT_SIG_B64_LEN) != 0) {
        return CONSENT_TOKEN_BAD_SIGNATURE;
    }

    if (seen) {
        memcpy(seen->token, p, len);
        seen->len = (unsigned char) len;
        seen->key = (unsigned char) (key - ring->keys);
        seen->subject_off = (unsigned char) (f[2] - p);
        seen->subject_len = (unsigned char) flen[2];
        seen->purposes = mask;
        seen->policy_version = (uint32_t) pv;
        seen->issued_at = (int64_t) iat;
    }

signed_ok:

    /* signed, so what it says can be believed */

    if ((int64_t) iat > now + CONSENT_FUTURE_SKEW) {
        return CONSENT_TOKEN_FUTURE;
    }

    if (max_age > 0 && now - (int64_t) iat > max_age) {
        return CONSENT_TOKEN_EXPIRED;
    }

    tok->key = key;
    tok->subject = f[2];
    tok->subject_len = flen[2];
    tok->purposes = mask;
    tok->policy_version = (uint32_t) pv;
    tok->issued_at = (int64_t) iat;

    return CONSENT_TOKEN_OK;
}


size_t
consent_token_sign(const consent_keyring_t *ring, const consent_token_t *tok,
    unsigned char *out, size_t outlen)
{
    int                   n;
    size_t                len;
    const consent_key_t  *key;
    unsigned char         mac[CONSENT_SIG_LEN];
    char                  tail[64];

    if (ring == NULL || ring->n == 0
        || !consent_subject_valid(tok->subject, tok->subject_len)
        || tok->issued_at <= 0)
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

    if (len + 1 + CONSENT_SIG_B64_LEN > outlen
        || len + 1 + CONSENT_SIG_B64_LEN > CONSENT_TOKEN_MAX_LEN)
    {
        return 0;
    }

    out[0] = '0' + CONSENT_TOKEN_VERSION;
    out[1] = '.';
    memcpy(out + 2, key->kid, key->kid_len);
    out[2 + key->kid_len] = '.';
    memcpy(out + 3 + key->kid_len, tok->subject, tok->subject_len);
    memcpy(out + 3 + key->kid_len + tok->subject_len, tail, (size_t) n);

    if (consent_hmac(ring, key, out, len, mac) != 0) {
        return 0;
    }

    out[len] = '.';
    (void) consent_b64url_encode(mac, CONSENT_SIG_LEN, out + len + 1);

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
