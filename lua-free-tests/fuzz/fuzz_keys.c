/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the signing keys file, and the Redis password file
 * (consent_secret_parse(), the other secret read the same way).
 *
 * The input is parsed as a keys file.  A ring that parses must be within
 * the documented bounds, survive being written back out as a keys file
 * and parsed again unchanged, and sign a token that it then verifies.
 * Every ring is given to consent_keyring_free(), errors included, so the
 * leak checker sees OpenSSL contexts that a path forgot.
 *
 * The same input is parsed again without an allocator (a ring without a
 * cache, which must verify all the same) and with one that always fails
 * (which may change only the last step: a file that parses fails with
 * CONSENT_KEYS_E_NOMEM, one that does not fails as it did).  An error
 * always has a code, a message, a line and a span inside the input.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "b64.h"
#include "id.h"
#include "keys.h"
#include "secret.h"
#include "token.h"
#include "fuzz.h"



#define FUZZ_LINE_MAX  (CONSENT_KID_MAX + 1                                  \
                        + CONSENT_B64_ENCODED_LEN(CONSENT_KEY_MAX) + 1)

/* the rings of one input: at most one block each */
#define FUZZ_BLOCKS_MAX  4


static void      *fuzz_blocks[FUZZ_BLOCKS_MAX];
static unsigned   fuzz_nblocks;


static void *
fuzz_alloc(void *data, size_t size)
{
    void  *p;

    (void) data;

    if (fuzz_nblocks == FUZZ_BLOCKS_MAX) {
        abort();
    }

    p = malloc(size ? size : 1);
    if (p == NULL) {
        abort();
    }

    /* what a pool hands out is not cleared: neither is this */
    memset(p, 0xa5, size);

    fuzz_blocks[fuzz_nblocks++] = p;

    return p;
}


static void *
fuzz_no_memory(void *data, size_t size)
{
    (void) data;
    (void) size;

    return NULL;
}


static void
fuzz_blocks_free(void)
{
    while (fuzz_nblocks) {
        free(fuzz_blocks[--fuzz_nblocks]);
    }
}


static consent_alloc_t  fuzz_allocator = { fuzz_alloc, NULL };
static consent_alloc_t  fuzz_failing = { fuzz_no_memory, NULL };


static int
fuzz_kid_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-';
}


static void
fuzz_check_error(const unsigned char *p, size_t size,
    const consent_err_t *err)
{
    unsigned  lines;
    size_t    i;

    FUZZ_ASSERT(err->code >= CONSENT_KEYS_E_KID
                && err->code <= CONSENT_KEYS_E_NOMEM);
    FUZZ_ASSERT(err->msg != NULL && err->msg[0] != '\0');
    FUZZ_ASSERT(err->at.data >= p && err->at.data <= p + size
                && err->at.len <= (size_t) (p + size - err->at.data));
    FUZZ_ASSERT(memchr(err->at.data, '\n', err->at.len) == NULL);

    lines = 0;

    for (i = 0; i < size; i++) {
        lines += (p[i] == '\n');
    }

    /* a line that does not end in '\n' counts too */
    FUZZ_ASSERT(err->line <= lines + 1);
    FUZZ_ASSERT(err->line >= 1 || err->code == CONSENT_KEYS_E_NO_KEYS);

    if (err->code == CONSENT_KEYS_E_KID) {
        FUZZ_ASSERT(!consent_token_word_valid(err->at.data, err->at.len,
                                              CONSENT_KID_MAX));
    }
}


static void
fuzz_check_ring(const consent_keyring_t *ring)
{
    unsigned  i, j, k;

    FUZZ_ASSERT(ring->n >= 1 && ring->n <= CONSENT_KEYS_MAX);
    FUZZ_ASSERT(ring->scratch != NULL && ring->seen != NULL);

    for (i = 0; i < ring->n; i++) {
        FUZZ_ASSERT(ring->keys[i].kid_len >= 1
                    && ring->keys[i].kid_len <= CONSENT_KID_MAX);
        FUZZ_ASSERT(ring->keys[i].key_len >= CONSENT_KEY_MIN
                    && ring->keys[i].key_len <= CONSENT_KEY_MAX);
        FUZZ_ASSERT(ring->keys[i].inner != NULL
                    && ring->keys[i].outer != NULL);

        for (k = 0; k < ring->keys[i].kid_len; k++) {
            FUZZ_ASSERT(fuzz_kid_char((unsigned char) ring->keys[i].kid[k]));
        }

        for (j = 0; j < i; j++) {
            FUZZ_ASSERT(ring->keys[j].kid_len != ring->keys[i].kid_len
                        || memcmp(ring->keys[j].kid, ring->keys[i].kid,
                                  ring->keys[i].kid_len) != 0);
        }
    }
}


/* the ring as a keys file, the url alphabet without padding */
/* user and password lie in the first line, trimmed, without '\n' */
static void
fuzz_check_secret(const unsigned char *p, size_t size)
{
    size_t                ulen, plen;
    const unsigned char  *user, *pass, *nl;

    if (consent_secret_parse(p, size, &user, &ulen, &pass, &plen) != 0) {
        return;
    }

    nl = memchr(p, '\n', size);

    FUZZ_ASSERT(plen >= 1);
    FUZZ_ASSERT(pass >= p && pass + plen <= (nl ? nl : p + size));
    FUZZ_ASSERT(memchr(pass, '\n', plen) == NULL);
    FUZZ_ASSERT(pass[plen - 1] != ' ' && pass[plen - 1] != '\r');

    if (ulen) {
        FUZZ_ASSERT(user == p && pass == p + ulen + 1 && p[ulen] == ' ');
        FUZZ_ASSERT(memchr(user, ' ', ulen) == NULL);

    } else {
        FUZZ_ASSERT(pass == p && memchr(pass, ' ', plen) == NULL);
    }
}


static size_t
fuzz_write_ring(const consent_keyring_t *ring, unsigned char *out)
{
    size_t          n, b;
    unsigned        i;
    unsigned char  *p;

    p = out;

    for (i = 0; i < ring->n; i++) {
        memcpy(p, ring->keys[i].kid, ring->keys[i].kid_len);
        p += ring->keys[i].kid_len;
        *p++ = (i & 1) ? '\t' : ' ';

        b = consent_b64url_encode(ring->keys[i].key, ring->keys[i].key_len,
                                  p);
        FUZZ_ASSERT(b == CONSENT_B64_ENCODED_LEN(ring->keys[i].key_len));

        p += b;
        *p++ = '\n';
    }

    n = (size_t) (p - out);

    FUZZ_ASSERT(n <= ring->n * FUZZ_LINE_MAX);

    return n;
}


static void
fuzz_sign_verify(consent_keyring_t *ring, consent_keyring_t *other)
{
    int              rc;
    size_t           n;
    consent_token_t  tok, got;
    unsigned char    out[CONSENT_TOKEN_MAX_LEN];

    memset(&tok, 0, sizeof(consent_token_t));
    tok.subject = (const unsigned char *) "fuzz_subject-1";
    tok.subject_len = 14;
    tok.purposes = 0x0000002d;
    tok.policy_version = 7;
    tok.issued_at = 1700000000;

    n = consent_token_sign(ring, &tok, out, sizeof(out));
    FUZZ_ASSERT(n > 0);

    memset(&got, 0, sizeof(consent_token_t));
    rc = consent_token_verify(out, n, ring, 1700000000, 0, &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_OK);
    FUZZ_ASSERT(got.key == &ring->keys[0]);
    FUZZ_ASSERT(got.purposes == tok.purposes);

    /* the same keys parsed again verify it too */
    memset(&got, 0, sizeof(consent_token_t));
    rc = consent_token_verify(out, n, other, 1700000000, 0, &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_OK);
    FUZZ_ASSERT(got.key == &other->keys[0]);

    /* once more, from the cache of verified tokens this time */
    rc = consent_token_verify(out, n, ring, 1700000000, 0, &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_OK);
}


/* no allocator, or one that fails: only the cache may differ */
static void
fuzz_other_memory(const unsigned char *p, size_t size, int rc0,
    const consent_err_t *err0)
{
    int                rc;
    consent_err_t      err;
    consent_keyring_t  ring;

    rc = consent_keys_parse(p, size, &ring, NULL, &err);
    FUZZ_ASSERT(rc == rc0);

    if (rc == 0) {
        FUZZ_ASSERT(ring.seen == NULL && ring.scratch != NULL);
        fuzz_sign_verify(&ring, &ring);

    } else {
        FUZZ_ASSERT(err.code == err0->code && err.line == err0->line);
    }

    consent_keyring_free(&ring);

    rc = consent_keys_parse(p, size, &ring, &fuzz_failing, &err);
    FUZZ_ASSERT(rc == -1);
    fuzz_check_error(p, size, &err);
    FUZZ_ASSERT(err.code == (rc0 == 0 ? CONSENT_KEYS_E_NOMEM : err0->code));
    FUZZ_ASSERT(ring.seen == NULL);
    consent_keyring_free(&ring);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              n;
    unsigned            i;
    unsigned char      *p, *text;
    consent_err_t       err, err_sentinel;
    consent_keyring_t   ring, again;

    p = fuzz_copy(data, size);

    fuzz_check_secret(p, size);

    memset(&err_sentinel, 0x5a, sizeof(consent_err_t));
    memcpy(&err, &err_sentinel, sizeof(consent_err_t));

    rc = consent_keys_parse(p, size, &ring, &fuzz_allocator, &err);

    FUZZ_ASSERT(rc == 0 || rc == -1);

    fuzz_other_memory(p, size, rc, &err);

    if (rc != 0) {
        fuzz_check_error(p, size, &err);
        consent_keyring_free(&ring);
        fuzz_blocks_free();
        free(p);
        return 0;
    }

    /* err is for failures only */
    FUZZ_ASSERT(memcmp(&err, &err_sentinel, sizeof(err)) == 0);

    fuzz_check_ring(&ring);

    /* written out and parsed again: the same ring */
    text = malloc(ring.n * FUZZ_LINE_MAX);
    if (text == NULL) {
        abort();
    }

    n = fuzz_write_ring(&ring, text);

    rc = consent_keys_parse(text, n, &again, &fuzz_allocator, &err);

    if (rc != 0) {
        fprintf(stderr, "reparse: line %u: %s\n", err.line, err.msg);
    }

    FUZZ_ASSERT(rc == 0);
    FUZZ_ASSERT(again.n == ring.n);

    for (i = 0; i < ring.n; i++) {
        FUZZ_ASSERT(again.keys[i].kid_len == ring.keys[i].kid_len);
        FUZZ_ASSERT(memcmp(again.keys[i].kid, ring.keys[i].kid,
                           ring.keys[i].kid_len) == 0);
        FUZZ_ASSERT(again.keys[i].key_len == ring.keys[i].key_len);
        FUZZ_ASSERT(memcmp(again.keys[i].key, ring.keys[i].key,
                           ring.keys[i].key_len) == 0);
    }

    fuzz_sign_verify(&ring, &again);

    consent_keyring_free(&again);
    consent_keyring_free(&ring);

    /* freed means empty: nothing signs with it any more */
    FUZZ_ASSERT(ring.n == 0);

    fuzz_blocks_free();
    free(text);
    free(p);

    return 0;
}
