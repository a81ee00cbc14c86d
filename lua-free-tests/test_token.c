/*
 * Copyright (C) ngx_consent_module authors
 *
 * The signed consent token: every byte of a token matters, and only the
 * keys on the ring ever verify.
 */

/* before test.h: OpenSSL names parameters N, A, P, as test.h's macros */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "test.h"
#include "b64.h"
#include "keys.h"
#include "token.h"


#define NOW  1795000000


static size_t
sign(consent_keyring_t *ring, const char *subject,
    consent_mask_t purposes, int64_t iat, unsigned char *out, size_t outlen)
{
    consent_token_t  tok;

    memset(&tok, 0, sizeof(tok));
    tok.subject = U(subject);
    tok.subject_len = strlen(subject);
    tok.purposes = purposes;
    tok.policy_version = 3;
    tok.issued_at = iat;

    return consent_token_sign(ring, &tok, out, outlen);
}


static void
test_token_roundtrip(consent_keyring_t *ring)
{
    int              rc;
    size_t           n;
    consent_token_t  tok;
    unsigned char    buf[CONSENT_TOKEN_MAX_LEN];

    n = sign(ring, "v-123_abc", 0x0000000d, NOW - 10, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK(n > 3 && memcmp(buf, "1.k2.v-123_abc.0000000d.3.", 26) == 0);

    memset(&tok, 0, sizeof(tok));
    rc = consent_token_verify(buf, n, ring, NOW, 86400, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_OK);
    CHECK_MEM(tok.subject, tok.subject_len, "v-123_abc");
    CHECK_INT(tok.purposes, 0x0000000d);
    CHECK_INT(tok.policy_version, 3);
    CHECK_INT(tok.issued_at, NOW - 10);
    CHECK(tok.key == &ring->keys[0]);

    /* too small an output buffer, invalid subjects, no time */
    CHECK_INT(sign(ring, "v1", 1, NOW, buf, 20), 0);
    CHECK_INT(sign(ring, "a.b", 1, NOW, buf, sizeof(buf)), 0);
    CHECK_INT(sign(ring, "", 1, NOW, buf, sizeof(buf)), 0);
    CHECK_INT(sign(ring, "v1", 1, 0, buf, sizeof(buf)), 0);
}


static void
test_token_tamper(consent_keyring_t *ring)
{
    int              rc;
    size_t           n, i, bad;
    unsigned         b;
    consent_token_t  tok;
    unsigned char    buf[CONSENT_TOKEN_MAX_LEN], t[CONSENT_TOKEN_MAX_LEN];

    n = sign(ring, "visitor42", 0x0000003f, NOW - 100, buf, sizeof(buf));
    CHECK(n > 0);

    /* verified once, so it is in the ring's cache of seen tokens: the
     * tampered copies below must still all fail */
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 0, &tok),
              CONSENT_TOKEN_OK);
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 0, &tok),
              CONSENT_TOKEN_OK);
    CHECK_MEM(tok.subject, tok.subject_len, "visitor42");

    /* every byte, every other value of it: never OK */
    bad = 0;

    for (i = 0; i < n; i++) {
        for (b = 0; b < 256; b++) {
            if (b == buf[i]) {
                continue;
            }

            memcpy(t, buf, n);
            t[i] = (unsigned char) b;

            if (consent_token_verify(t, n, ring, NOW, 0, &tok)
                == CONSENT_TOKEN_OK)
            {
                bad++;
            }
        }
    }

    CHECK_INT(bad, 0);

    /* every truncation, and one byte more */
    bad = 0;

    for (i = 0; i < n; i++) {
        if (consent_token_verify(buf, i, ring, NOW, 0, &tok)
            == CONSENT_TOKEN_OK)
        {
            bad++;
        }
    }

    CHECK_INT(bad, 0);

    memcpy(t, buf, n);
    t[n] = 'A';
    rc = consent_token_verify(t, n + 1, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_MALFORMED);

    /* a signature moved onto other fields */
    memcpy(t, buf, n);
    memcpy(t + 5, "visitor43", 9);
    rc = consent_token_verify(t, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_BAD_SIGNATURE);

    memcpy(t, buf, n);
    t[21] = '0';
    rc = consent_token_verify(t, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_BAD_SIGNATURE);

    CHECK_INT(consent_token_verify(U(""), 0, ring, NOW, 0, &tok),
              CONSENT_TOKEN_MALFORMED);
    CHECK_INT(consent_token_verify(U("......"), 6, ring, NOW, 0, &tok),
              CONSENT_TOKEN_MALFORMED);
}


static void
test_token_keys(consent_keyring_t *ring)
{
    int                rc;
    size_t             n;
    consent_err_t      err;
    consent_token_t    tok;
    consent_keyring_t  old, other;
    unsigned char      buf[CONSENT_TOKEN_MAX_LEN];

    /* signed with k1 while it was the signing key */
    rc = consent_keys_parse(U("k1 H/7+/fz7+vn49/b19PPy8fDv7u3s"
                              "6+rp6Ofm5eTj4uE="), 47, &old, &test_alloc,
                            &err);
    CHECK_INT(rc, 0);
    n = sign(&old, "rotated", 1, NOW - 5, buf, sizeof(buf));
    CHECK(n > 0);

    /* still valid after rotation: k1 is on the ring, not first */
    rc = consent_token_verify(buf, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_OK);
    CHECK(tok.key == &ring->keys[1]);

    /* the same kid with a different key */
    rc = consent_keys_parse(U("k2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh0"),
                            46, &other, &test_alloc, &err);
    CHECK_INT(rc, 0);
    n = sign(&other, "forged", 1, NOW - 5, buf, sizeof(buf));
    rc = consent_token_verify(buf, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_BAD_SIGNATURE);

    /* a kid nobody knows */
    consent_keyring_free(&other);
    rc = consent_keys_parse(U("k9 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
                            46, &other, &test_alloc, &err);
    CHECK_INT(rc, 0);
    n = sign(&other, "forged", 1, NOW - 5, buf, sizeof(buf));
    rc = consent_token_verify(buf, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_UNKNOWN_KEY);

    consent_keyring_free(&old);
    consent_keyring_free(&other);
}


static void
test_token_time(consent_keyring_t *ring)
{
    size_t           n;
    consent_token_t  tok;
    unsigned char    buf[CONSENT_TOKEN_MAX_LEN];

    n = sign(ring, "old", 1, NOW - 86401, buf, sizeof(buf));
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 86400, &tok),
              CONSENT_TOKEN_EXPIRED);
    /* max_age 0: no expiry */
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 0, &tok),
              CONSENT_TOKEN_OK);

    n = sign(ring, "edge", 1, NOW - 86400, buf, sizeof(buf));
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 86400, &tok),
              CONSENT_TOKEN_OK);

    /* a little clock skew is fine, the far future is not */
    n = sign(ring, "skew", 1, NOW + 60, buf, sizeof(buf));
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 86400, &tok),
              CONSENT_TOKEN_OK);
    n = sign(ring, "future", 1, NOW + 3600, buf, sizeof(buf));
    CHECK_INT(consent_token_verify(buf, n, ring, NOW, 86400, &tok),
              CONSENT_TOKEN_FUTURE);
}


/* the pre-keyed HMAC agrees with OpenSSL's one-shot HMAC() */
static void
test_token_hmac(consent_keyring_t *ring)
{
    size_t          n, dot;
    unsigned int    mac_len;
    unsigned char   buf[CONSENT_TOKEN_MAX_LEN], mac[32], b64[64];
    unsigned char  *sig;

    n = sign(ring, "hmac-check", 0x21, NOW, buf, sizeof(buf));
    CHECK(n > 44);
    if (n <= 44) {
        return;
    }

    dot = n - 44;
    sig = buf + dot + 1;
    CHECK_INT(buf[dot], '.');

    CHECK(HMAC(EVP_sha256(), ring->keys[0].key, ring->keys[0].key_len,
               buf, dot, mac, &mac_len) != NULL);
    CHECK_INT(mac_len, 32);
    CHECK_INT(consent_b64url_encode(mac, 32, b64), 43);
    CHECK(memcmp(b64, sig, 43) == 0);
}


void
test_token(void)
{
    int                rc;
    consent_err_t      err;
    consent_keyring_t  ring;

    rc = consent_keys_parse(U(test_keys_text), strlen(test_keys_text), &ring,
                            &test_alloc, &err);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        return;
    }

    test_token_roundtrip(&ring);
    test_token_tamper(&ring);
    test_token_keys(&ring);
    test_token_time(&ring);
    test_token_hmac(&ring);

    consent_keyring_free(&ring);
}
