/*
 * Copyright (C) ngx_consent_module authors
 *
 * base64, the keys file and the signed consent token: every byte of a
 * token matters, and only the keys on the ring ever verify.
 */

#include "test.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>


#define NOW  1795000000


static const char  keys_text[] =
    "# kid  key (base64, 32 bytes)\n"
    "k2     AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
    "\n"
    "k1     H/7+/fz7+vn49/b19PPy8fDv7u3s6+rp6Ofm5eTj4uE=\r\n";


static void
test_b64(void)
{
    long           n;
    size_t         i, len;
    unsigned char  raw[64], enc[96], dec[64];

    for (i = 0; i < sizeof(raw); i++) {
        raw[i] = (unsigned char) (i * 37 + 11);
    }

    for (len = 0; len <= sizeof(raw); len++) {
        n = (long) consent_b64url_encode(raw, len, enc);
        CHECK_INT(n, CONSENT_B64_ENCODED_LEN(len));
        CHECK(memchr(enc, '=', (size_t) n) == NULL);
        CHECK(memchr(enc, '+', (size_t) n) == NULL);
        CHECK(memchr(enc, '/', (size_t) n) == NULL);

        n = consent_b64_decode(enc, (size_t) n, dec, sizeof(dec));
        CHECK_INT(n, len);
        CHECK(memcmp(dec, raw, len) == 0);
    }

    /* standard alphabet and padding are accepted too */
    n = consent_b64_decode(U("+/+/"), 4, dec, sizeof(dec));
    CHECK_INT(n, 3);
    CHECK(dec[0] == 0xfb && dec[1] == 0xff && dec[2] == 0xbf);
    n = consent_b64_decode(U("YQ=="), 4, dec, sizeof(dec));
    CHECK_INT(n, 1);
    CHECK_INT(dec[0], 'a');

    CHECK_INT(consent_b64_decode(U("a"), 1, dec, sizeof(dec)), -1);
    CHECK_INT(consent_b64_decode(U("ab!d"), 4, dec, sizeof(dec)), -1);
    CHECK_INT(consent_b64_decode(U("ab=d"), 4, dec, sizeof(dec)), -1);

    /* never writes past dstlen */
    memset(dec, 0x55, sizeof(dec));
    CHECK_INT(consent_b64_decode(U("AAAAAAAA"), 8, dec, 5), -1);
    CHECK_INT(dec[5], 0x55);
}


static void
expect_keys_error(const char *text, unsigned want_line, const char *want)
{
    int                rc;
    unsigned           line;
    const char        *err;
    consent_keyring_t  ring;

    err = "";
    line = 0;
    rc = consent_keys_parse(U(text), strlen(text), &ring, &line, &err);
    consent_keyring_free(&ring);
    CHECK_INT(rc, -1);
    CHECK_INT(line, want_line);

    if (strstr(err, want) == NULL) {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: keys gave \"%s\", want \"%s\"\n",
                __FILE__, __LINE__, err, want);

    } else {
        test_passed++;
    }
}


static void
test_keys(void)
{
    int                rc;
    unsigned           line;
    const char        *err;
    consent_keyring_t  ring;

    rc = consent_keys_parse(U(keys_text), strlen(keys_text), &ring, &line,
                            &err);
    CHECK_INT(rc, 0);
    CHECK_INT(ring.n, 2);
    CHECK_MEM(ring.keys[0].kid, ring.keys[0].kid_len, "k2");
    CHECK_INT(ring.keys[0].key_len, 32);
    CHECK_INT(ring.keys[0].key[31], 31);
    CHECK_MEM(ring.keys[1].kid, ring.keys[1].kid_len, "k1");
    CHECK_INT(ring.keys[1].key[0], 0x1f);
    consent_keyring_free(&ring);

    expect_keys_error("", 0, "no keys");
    expect_keys_error("# only a comment\n", 1, "no keys");
    expect_keys_error("k1\n", 1, "missing key");
    expect_keys_error("k1 c2hvcnQ=\n", 1, "too short");
    expect_keys_error("k1 !!!!AAAAAAAAAAAAAAAAAAAAAAAA\n", 1, "bad base64");
    expect_keys_error("k/1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 1,
                      "bad kid");
    expect_keys_error("a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
                      "a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 2,
                      "duplicate kid");
    expect_keys_error("a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 x\n", 1,
                      "unexpected field");
    expect_keys_error("a AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                      "AAAAAAAAAAAAAAAA\n", 1, "too long");
}


static size_t
sign(const consent_keyring_t *ring, const char *subject,
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
test_token_roundtrip(const consent_keyring_t *ring)
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
test_token_tamper(const consent_keyring_t *ring)
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
test_token_keys(const consent_keyring_t *ring)
{
    int                rc;
    size_t             n;
    unsigned           line;
    const char        *err;
    consent_token_t    tok;
    consent_keyring_t  old, other;
    unsigned char      buf[CONSENT_TOKEN_MAX_LEN];

    /* signed with k1 while it was the signing key */
    rc = consent_keys_parse(U("k1 H/7+/fz7+vn49/b19PPy8fDv7u3s"
                              "6+rp6Ofm5eTj4uE="), 47, &old, &line, &err);
    CHECK_INT(rc, 0);
    n = sign(&old, "rotated", 1, NOW - 5, buf, sizeof(buf));
    CHECK(n > 0);

    /* still valid after rotation: k1 is on the ring, not first */
    rc = consent_token_verify(buf, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_OK);
    CHECK(tok.key == &ring->keys[1]);

    /* the same kid with a different key */
    rc = consent_keys_parse(U("k2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh0"),
                            46, &other, &line, &err);
    CHECK_INT(rc, 0);
    n = sign(&other, "forged", 1, NOW - 5, buf, sizeof(buf));
    rc = consent_token_verify(buf, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_BAD_SIGNATURE);

    /* a kid nobody knows */
    consent_keyring_free(&other);
    rc = consent_keys_parse(U("k9 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
                            46, &other, &line, &err);
    CHECK_INT(rc, 0);
    n = sign(&other, "forged", 1, NOW - 5, buf, sizeof(buf));
    rc = consent_token_verify(buf, n, ring, NOW, 0, &tok);
    CHECK_INT(rc, CONSENT_TOKEN_UNKNOWN_KEY);

    consent_keyring_free(&old);
    consent_keyring_free(&other);
}


static void
test_token_time(const consent_keyring_t *ring)
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


static void
test_subject(void)
{
    char  s[CONSENT_SUBJECT_MAX + 2];
    char  id[CONSENT_ID_MAX + 1];

    CHECK(consent_subject_valid(U("abc-DEF_123"), 11));
    CHECK(!consent_subject_valid(U(""), 0));
    CHECK(!consent_subject_valid(U("a b"), 3));
    CHECK(!consent_subject_valid(U("a.b"), 3));
    CHECK(!consent_subject_valid(U("a\r\n"), 3));
    CHECK(!consent_subject_valid(U("s:1"), 3));

    memset(s, 'a', sizeof(s));
    CHECK(consent_subject_valid(U(s), CONSENT_SUBJECT_MAX));
    CHECK(!consent_subject_valid(U(s), CONSENT_SUBJECT_MAX + 1));

    /* ids that may name a Redis key: the token's and a few more bytes */
    CHECK(consent_id_valid(U("abc-DEF_123"), 11));
    CHECK(consent_id_valid(U("user@shop.example:42"), 20));
    CHECK(!consent_id_valid(U(""), 0));
    CHECK(!consent_id_valid(U("a b"), 3));
    CHECK(!consent_id_valid(U("a/b"), 3));
    CHECK(!consent_id_valid(U("a*"), 2));
    CHECK(!consent_id_valid(U("a\r\n"), 3));
    CHECK(!consent_id_valid(U("a\0b"), 3));
    CHECK(!consent_id_valid(U("caf\xc3\xa9"), 5));
    CHECK(!consent_id_valid(U("{x}"), 3));
    memset(id, '.', sizeof(id));
    CHECK(consent_id_valid(U(id), CONSENT_ID_MAX));
    CHECK(!consent_id_valid(U(id), CONSENT_ID_MAX + 1));
}


/* a Redis password file's first line, as the module and consentctl read it */
static void
test_secret(void)
{
    size_t                ulen, plen;
    const unsigned char  *user, *pass;

#define SECRET(text)                                                         \
    consent_secret_parse(U(text), sizeof(text) - 1, &user, &ulen, &pass,     \
                         &plen)

    CHECK_INT(SECRET("s3cr3t"), 0);
    CHECK_INT(ulen, 0);
    CHECK_MEM(pass, plen, "s3cr3t");

    CHECK_INT(SECRET("app s3cr3t \r\nsecond line\n"), 0);
    CHECK_MEM(user, ulen, "app");
    CHECK_MEM(pass, plen, "s3cr3t");

    /* only the first space splits: the rest belongs to the password */
    CHECK_INT(SECRET("app pass with spaces\n"), 0);
    CHECK_MEM(user, ulen, "app");
    CHECK_MEM(pass, plen, "pass with spaces");

    /* bytes are bytes: NUL inside the password is kept */
    /* trailing spaces go first: "app " is a password, not a user */
    CHECK_INT(SECRET("app \n"), 0);
    CHECK_INT(ulen, 0);
    CHECK_MEM(pass, plen, "app");

    CHECK_INT(SECRET("p\0w"), 0);
    CHECK_INT(plen, 3);

    CHECK_INT(SECRET(""), -1);
    CHECK_INT(SECRET("\n"), -1);
    CHECK_INT(SECRET("  \r\n"), -1);
    CHECK_INT(SECRET(" s3cr3t"), -1);        /* an empty user */
    CHECK_INT(SECRET("\nsecond line"), -1);  /* the first line counts */

#undef SECRET
}


/* the pre-keyed HMAC agrees with OpenSSL's one-shot HMAC() */
static void
test_token_hmac(const consent_keyring_t *ring)
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
    unsigned           line;
    const char        *err;
    consent_keyring_t  ring;

    test_b64();
    test_keys();
    test_subject();
    test_secret();

    rc = consent_keys_parse(U(keys_text), strlen(keys_text), &ring, &line,
                            &err);
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
