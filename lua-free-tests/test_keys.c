/*
 * Copyright (C) ngx_consent_module authors
 *
 * The keys file: what a ring holds, why a file is refused (by code, with
 * the line and the field at fault), and where the ring's memory comes
 * from.
 */

#include "test.h"
#include "keys.h"
#include "token.h"


const char  test_keys_text[] =
    "# kid  key (base64, 32 bytes)\n"
    "k2     AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
    "\n"
    "k1     H/7+/fz7+vn49/b19PPy8fDv7u3s6+rp6Ofm5eTj4uE=\r\n";


static unsigned  test_keys_allocs;


/* counts its calls and fails them all */
static void *
test_keys_no_memory(void *data, size_t size)
{
    (void) data;
    (void) size;

    test_keys_allocs++;

    return NULL;
}


/*
 * text fails on want_line with code, a message that has want in it, and
 * err.at the field at_off bytes into text, at_len long
 */
static void
expect_keys_error(const char *text, unsigned want_line, int code,
    const char *want, size_t at_off, size_t at_len)
{
    int                rc;
    consent_err_t      err;
    consent_keyring_t  ring;

    memset(&err, 0, sizeof(err));
    err.msg = "";
    err.line = (unsigned) -1;
    rc = consent_keys_parse(U(text), strlen(text), &ring, &test_alloc, &err);
    consent_keyring_free(&ring);
    CHECK_INT(rc, -1);
    CHECK_INT(err.line, want_line);
    CHECK_INT(err.code, code);
    CHECK(err.at.data == U(text) + at_off);
    CHECK_INT(err.at.len, at_len);

    if (err.msg == NULL || strstr(err.msg, want) == NULL) {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: keys gave \"%s\", want \"%s\"\n",
                __FILE__, __LINE__, err.msg ? err.msg : "(null)", want);

    } else {
        test_passed++;
    }
}


static void
test_keys_errors(void)
{
    static const char  many[] =
        "a0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a3 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a4 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a5 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a6 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a7 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a8 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "a9 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "b0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "b1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "b2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "b3 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "b4 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "b5 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
        "b6 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n";

    expect_keys_error("", 0, CONSENT_KEYS_E_NO_KEYS, "no keys", 0, 0);
    expect_keys_error("# only a comment\n", 1, CONSENT_KEYS_E_NO_KEYS,
                      "no keys", 17, 0);
    expect_keys_error("k1\n", 1, CONSENT_KEYS_E_NO_KEY, "missing key", 2, 0);
    expect_keys_error("k1 c2hvcnQ=\n", 1, CONSENT_KEYS_E_KEY_SHORT,
                      "too short", 3, 8);
    expect_keys_error("k1 !!!!AAAAAAAAAAAAAAAAAAAAAAAA\n", 1,
                      CONSENT_KEYS_E_BASE64, "bad base64", 3, 28);
    expect_keys_error("k/1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 1,
                      CONSENT_KEYS_E_KID, "bad kid", 0, 3);
    expect_keys_error("k0123456789abcdef AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\n",
                      1, CONSENT_KEYS_E_KID, "bad kid", 0, 17);
    expect_keys_error("a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
                      "a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 2,
                      CONSENT_KEYS_E_DUPLICATE, "duplicate kid", 46, 1);
    expect_keys_error("a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 x\n", 1,
                      CONSENT_KEYS_E_FIELD, "unexpected field", 46, 1);
    expect_keys_error("a AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                      "AAAAAAAAAAAAAAAA\n", 1, CONSENT_KEYS_E_KEY_LONG,
                      "too long", 2, 122);
    expect_keys_error(many, 17, CONSENT_KEYS_E_TOO_MANY, "too many keys",
                      16 * 47, 2);
}


static void
test_keys_memory(void)
{
    int                rc;
    size_t             n;
    consent_err_t      err;
    consent_token_t    tok;
    consent_alloc_t    none;
    consent_keyring_t  ring;
    unsigned char      buf[CONSENT_TOKEN_MAX_LEN];

    /* the cache of verified tokens is the one thing it allocates */
    none.alloc = test_keys_no_memory;
    none.data = NULL;
    test_keys_allocs = 0;

    memset(&err, 0, sizeof(err));
    rc = consent_keys_parse(U(test_keys_text), strlen(test_keys_text), &ring,
                            &none, &err);
    CHECK_INT(rc, -1);
    CHECK_INT(err.code, CONSENT_KEYS_E_NOMEM);
    CHECK(err.msg != NULL);
    CHECK_INT(err.line, 4);
    CHECK_INT(test_keys_allocs, 1);
    CHECK(ring.seen == NULL);
    consent_keyring_free(&ring);

    /* no allocator: a ring without a cache, which still verifies */
    rc = consent_keys_parse(U(test_keys_text), strlen(test_keys_text), &ring,
                            NULL, &err);
    CHECK_INT(rc, 0);
    CHECK(ring.seen == NULL);
    CHECK(ring.scratch != NULL);

    memset(&tok, 0, sizeof(tok));
    tok.subject = U("no-cache");
    tok.subject_len = 8;
    tok.purposes = 5;
    tok.issued_at = 1795000000;
    n = consent_token_sign(&ring, &tok, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK_INT(consent_token_verify(buf, n, &ring, 1795000000, 0, &tok),
              CONSENT_TOKEN_OK);
    CHECK_INT(consent_token_verify(buf, n, &ring, 1795000000, 0, &tok),
              CONSENT_TOKEN_OK);
    CHECK(ring.seen == NULL);

    /* freed: OpenSSL's contexts gone, the keys wiped, nothing signs */
    consent_keyring_free(&ring);
    CHECK_INT(ring.n, 0);
    CHECK(ring.scratch == NULL);
    CHECK(ring.keys[0].inner == NULL && ring.keys[0].outer == NULL);
    CHECK_INT(ring.keys[0].key_len, 0);
    CHECK_INT(consent_token_sign(&ring, &tok, buf, sizeof(buf)), 0);

    /* with an allocator, the cache comes from it */
    rc = consent_keys_parse(U(test_keys_text), strlen(test_keys_text), &ring,
                            &test_alloc, &err);
    CHECK_INT(rc, 0);
    CHECK(ring.seen != NULL);
    consent_keyring_free(&ring);
    CHECK(ring.seen == NULL);
}


void
test_keys(void)
{
    int                rc;
    consent_err_t      err;
    consent_keyring_t  ring;

    memset(&err, 0, sizeof(err));
    rc = consent_keys_parse(U(test_keys_text), strlen(test_keys_text), &ring,
                            &test_alloc, &err);
    CHECK_INT(rc, 0);
    CHECK_INT(err.code, 0);
    CHECK_INT(ring.n, 2);
    CHECK_MEM(ring.keys[0].kid, ring.keys[0].kid_len, "k2");
    CHECK_INT(ring.keys[0].key_len, 32);
    CHECK_INT(ring.keys[0].key[31], 31);
    CHECK_MEM(ring.keys[1].kid, ring.keys[1].kid_len, "k1");
    CHECK_INT(ring.keys[1].key[0], 0x1f);
    consent_keyring_free(&ring);

    test_keys_errors();
    test_keys_memory();
}
