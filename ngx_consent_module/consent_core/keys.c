/*
 * Copyright (C) ngx_consent_module authors
 *
 * The signing keys file, one "kid base64key" a line, into a key ring whose
 * keys are ready for HMAC-SHA256.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64.h"
#include "id.h"
#include "keys.h"
#include "token.h"


#define CONSENT_HMAC_BLOCK   64


#define consent_xor(dst, src, n)                                             \
    do {                                                                     \
        size_t  x_;                                                          \
        for (x_ = 0; x_ < (n); x_++) {                                       \
            (dst)[x_] ^= (src)[x_];                                          \
        }                                                                    \
    } while (0)


/* one line's fields: the kid, the key, and where the line's text stops */
typedef struct {
    const unsigned char       *kid;
    size_t                     kid_len;
    const unsigned char       *b64;
    size_t                     b64_len;
    const unsigned char       *rest;
    const unsigned char       *eol;
} consent_keys_line_t;


static int consent_keys_error(consent_err_t *err, int code, const char *msg,
    unsigned line, const unsigned char *at, size_t len);
static void consent_keys_split(const unsigned char *q,
    const unsigned char *eol, consent_keys_line_t *ln);
static int consent_keys_add(consent_keyring_t *ring,
    const consent_keys_line_t *ln, unsigned line, consent_err_t *err);
static int consent_key_prepare(consent_key_t *key);


static int
consent_keys_error(consent_err_t *err, int code, const char *msg,
    unsigned line, const unsigned char *at, size_t len)
{
    consent_fail(err, code, msg, at, len);
    err->line = line;

    return -1;
}


int
consent_keys_parse(const unsigned char *p, size_t len,
    consent_keyring_t *ring, const consent_alloc_t *a, consent_err_t *err)
{
    unsigned              line;
    const unsigned char  *end, *eol, *q;
    consent_keys_line_t   ln;

    memset(ring, 0, sizeof(consent_keyring_t));

    end = p + len;
    line = 0;

    while (p < end) {
        line++;

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

        consent_keys_split(q, eol, &ln);

        if (consent_keys_add(ring, &ln, line, err) != 0) {
            return -1;
        }
    }

    if (ring->n == 0) {
        return consent_keys_error(err, CONSENT_KEYS_E_NO_KEYS, "no keys",
                                  line, end, 0);
    }

    ring->scratch = EVP_MD_CTX_new();

    if (ring->scratch == NULL) {
        return consent_keys_error(err, CONSENT_KEYS_E_CRYPTO,
                                  "cannot set up HMAC-SHA256", line, end, 0);
    }

    if (a) {
        ring->seen = consent_token_cache_create(a);

        if (ring->seen == NULL) {
            return consent_keys_error(err, CONSENT_KEYS_E_NOMEM,
                                      "cannot set up HMAC-SHA256", line, end,
                                      0);
        }
    }

    return 0;
}


/* q is on the line's first field, eol its end */

static void
consent_keys_split(const unsigned char *q, const unsigned char *eol,
    consent_keys_line_t *ln)
{
    ln->kid = q;

    while (q < eol && *q != ' ' && *q != '\t') {
        q++;
    }

    ln->kid_len = (size_t) (q - ln->kid);

    while (q < eol && (*q == ' ' || *q == '\t')) {
        q++;
    }

    ln->b64 = q;

    while (q < eol && *q != ' ' && *q != '\t' && *q != '\r') {
        q++;
    }

    ln->b64_len = (size_t) (q - ln->b64);

    while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) {
        q++;
    }

    ln->rest = q;
    ln->eol = eol;
}


static int
consent_keys_add(consent_keyring_t *ring, const consent_keys_line_t *ln,
    unsigned line, consent_err_t *err)
{
    long            n;
    unsigned        k;
    consent_key_t  *key;

    if (!consent_token_word_valid(ln->kid, ln->kid_len, CONSENT_KID_MAX)) {
        return consent_keys_error(err, CONSENT_KEYS_E_KID, "bad kid", line,
                                  ln->kid, ln->kid_len);
    }

    if (ln->b64_len == 0) {
        return consent_keys_error(err, CONSENT_KEYS_E_NO_KEY, "missing key",
                                  line, ln->b64, 0);
    }

    if (ln->rest != ln->eol) {
        return consent_keys_error(err, CONSENT_KEYS_E_FIELD,
                                  "unexpected field", line, ln->rest,
                                  (size_t) (ln->eol - ln->rest));
    }

    for (k = 0; k < ring->n; k++) {
        if (ring->keys[k].kid_len == ln->kid_len
            && memcmp(ring->keys[k].kid, ln->kid, ln->kid_len) == 0)
        {
            return consent_keys_error(err, CONSENT_KEYS_E_DUPLICATE,
                                      "duplicate kid", line, ln->kid,
                                      ln->kid_len);
        }
    }

    if (ring->n == CONSENT_KEYS_MAX) {
        return consent_keys_error(err, CONSENT_KEYS_E_TOO_MANY,
                                  "too many keys", line, ln->kid,
                                  ln->kid_len);
    }

    key = &ring->keys[ring->n];

    n = consent_b64_decode(ln->b64, ln->b64_len, key->key, CONSENT_KEY_MAX);

    if (n < 0) {
        memset(key, 0, sizeof(consent_key_t));

        /* longer than the maximum also lands here: say which */
        if ((long) (ln->b64_len * 3 / 4) > CONSENT_KEY_MAX + 2) {
            return consent_keys_error(err, CONSENT_KEYS_E_KEY_LONG,
                                      "key too long", line, ln->b64,
                                      ln->b64_len);
        }

        return consent_keys_error(err, CONSENT_KEYS_E_BASE64,
                                  "bad base64 key", line, ln->b64,
                                  ln->b64_len);
    }

    if (n < CONSENT_KEY_MIN) {
        memset(key, 0, sizeof(consent_key_t));
        return consent_keys_error(err, CONSENT_KEYS_E_KEY_SHORT,
                                  "key too short", line, ln->b64,
                                  ln->b64_len);
    }

    memcpy(key->kid, ln->kid, ln->kid_len);
    key->kid_len = (unsigned char) ln->kid_len;
    key->key_len = (unsigned char) n;
    ring->n++;

    /* counted first: consent_keyring_free() frees what this allocated */
    if (consent_key_prepare(key) != 0) {
        return consent_keys_error(err, CONSENT_KEYS_E_CRYPTO,
                                  "cannot set up HMAC-SHA256", line, ln->kid,
                                  ln->kid_len);
    }

    return 0;
}


/*
 * HMAC (RFC 2104) from SHA-256 states keyed once per key: the one-shot
 * HMAC() looks the digest up and sets the key on every call, which cost
 * ten times the hashing itself on the request path.  token.c finishes
 * each MAC from these states.
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

    /* the allocator's, freed with the rest of its memory */
    ring->seen = NULL;

    OPENSSL_cleanse(ring->keys, sizeof(ring->keys));
    ring->n = 0;
}
