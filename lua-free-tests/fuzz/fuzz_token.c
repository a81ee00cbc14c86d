/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the signed consent token.
 *
 * The input is first verified as a token, as a client would send it, with
 * a fixed two-key ring and several clocks.  Then its first bytes become
 * the fields of a token that is signed and checked: it must verify and
 * give its fields back, an output buffer one byte short must be refused
 * (exactly sized heap buffers, so ASan sees any overrun), and flipping
 * any one byte, truncating or extending it must stop it from verifying.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "id.h"
#include "keys.h"
#include "token.h"
#include "fuzz.h"



#define FUZZ_NOW        1700000000LL
#define FUZZ_IAT_MAX    1000000000000LL
#define FUZZ_SKEW       300


/* the same ring as the seeds in corpus/token/ were signed with */
static const char  fuzz_keys[] =
    "# fuzz keyring: the first key signs\n"
    "fuzz-2024 UYB2l_8QCuekvDCQJqQGovUlWuz4ZqwMP4-rhTB2GGY\n"
    "old_key 9EqvTSrGU-ihY6FyRWniJxqHGX0\n";

static const char  fuzz_subject_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static consent_keyring_t  fuzz_ring;
static consent_keyring_t  fuzz_empty_ring;
static int                fuzz_ready;


typedef struct {
    const uint8_t         *pos;
    const uint8_t         *end;
} fuzz_reader_t;


static unsigned
fuzz_byte(fuzz_reader_t *r)
{
    return (r->pos < r->end) ? *r->pos++ : 0;
}


static uint64_t
fuzz_uint(fuzz_reader_t *r, unsigned n)
{
    uint64_t  v;

    v = 0;

    while (n--) {
        v = (v << 8) | fuzz_byte(r);
    }

    return v;
}


/* for the ring's cache, which lives as long as the process */
static void *
fuzz_alloc(void *data, size_t size)
{
    void  *p;

    (void) data;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        abort();
    }

    return p;
}


static consent_alloc_t  fuzz_allocator = { fuzz_alloc, NULL };


static void
fuzz_init(void)
{
    consent_err_t  err;

    memset(&err, 0, sizeof(consent_err_t));

    if (consent_keys_parse((const unsigned char *) fuzz_keys,
                           sizeof(fuzz_keys) - 1, &fuzz_ring, &fuzz_allocator,
                           &err)
        != 0 || fuzz_ring.n != 2)
    {
        fprintf(stderr, "fuzz keyring: line %u: %s\n", err.line,
                err.msg ? err.msg : "?");
        abort();
    }

    memset(&fuzz_empty_ring, 0, sizeof(consent_keyring_t));

    fuzz_ready = 1;
}


static int
fuzz_verify(const unsigned char *p, size_t len, consent_keyring_t *ring,
    int64_t now, int64_t max_age, consent_token_t *tok)
{
    int                   rc;
    consent_vendor_set_t  vs;

    memset(tok, 0, sizeof(consent_token_t));

    rc = consent_token_verify(p, len, ring, now, max_age, tok);

    FUZZ_ASSERT(rc >= CONSENT_TOKEN_OK && rc <= CONSENT_TOKEN_FUTURE);
    FUZZ_ASSERT(consent_token_strerror(rc) != NULL);

    if (rc != CONSENT_TOKEN_OK) {
        return rc;
    }

    FUZZ_ASSERT(len <= CONSENT_TOKEN_MAX_LEN);
    FUZZ_ASSERT(tok->key >= &ring->keys[0] && tok->key < &ring->keys[ring->n]);
    FUZZ_ASSERT(tok->subject >= p);
    FUZZ_ASSERT(tok->subject + tok->subject_len <= p + len);
    FUZZ_ASSERT(consent_subject_valid(tok->subject, tok->subject_len));
    FUZZ_ASSERT(tok->issued_at > 0 && tok->issued_at <= FUZZ_IAT_MAX);
    FUZZ_ASSERT(tok->issued_at <= now + FUZZ_SKEW);
    FUZZ_ASSERT(max_age <= 0 || now - tok->issued_at <= max_age);

    /* version 2: the vendors in their one form, inside the token */
    FUZZ_ASSERT((tok->vendors_len != 0) == (p[0] == '2'));

    if (tok->vendors_len) {
        FUZZ_ASSERT(tok->vendors > p
                    && tok->vendors + tok->vendors_len < p + len);
        FUZZ_ASSERT(consent_vendor_set_decode(&vs, tok->vendors,
                                              tok->vendors_len) == 0);
        FUZZ_ASSERT(vs.n * CONSENT_VENDOR_HASH_B64_LEN == tok->vendors_len);
    }

    return rc;
}


/* a verdict on the token itself rather than on the clock */
static int
fuzz_structural(int rc)
{
    return rc == CONSENT_TOKEN_MALFORMED || rc == CONSENT_TOKEN_UNKNOWN_KEY
           || rc == CONSENT_TOKEN_BAD_SIGNATURE;
}


/* the client-sent token: anything goes, nothing may break */
static void
fuzz_verify_input(const uint8_t *data, size_t size)
{
    int               rc, rc0;
    int64_t           now;
    unsigned          i;
    unsigned char    *p;
    consent_token_t   tok;
    fuzz_reader_t     r;

    static const int64_t  clocks[][2] = {
        { FUZZ_NOW, 0 },
        { FUZZ_NOW, 395 * 86400 },
        { 0, 0 },
        { 1, 1 },
        { FUZZ_IAT_MAX + 1000, 60 },
        { 4000000000000LL, 395 * 86400 }
    };

    p = fuzz_copy(data, size);

    /* the key and signature checks come before any clock check */
    rc0 = fuzz_verify(p, size, &fuzz_ring, clocks[0][0], clocks[0][1], &tok);

    for (i = 1; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
        rc = fuzz_verify(p, size, &fuzz_ring, clocks[i][0], clocks[i][1],
                         &tok);

        FUZZ_ASSERT(fuzz_structural(rc) == fuzz_structural(rc0));
        FUZZ_ASSERT(!fuzz_structural(rc) || rc == rc0);
    }

    r.pos = data;
    r.end = data + size;
    now = (int64_t) (fuzz_uint(&r, 6) % (uint64_t) (2 * FUZZ_IAT_MAX));

    (void) fuzz_verify(p, size, &fuzz_ring, now, (int64_t) fuzz_byte(&r),
                       &tok);

    /* no keys, no token */
    rc = fuzz_verify(p, size, &fuzz_empty_ring, FUZZ_NOW, 0, &tok);
    FUZZ_ASSERT(rc != CONSENT_TOKEN_OK);

    free(p);
}


/* signs a token made of the input's first bytes and checks it */
static void
fuzz_sign_verify(const uint8_t *data, size_t size)
{
    int               rc, raw, valid;
    size_t            n, n2, i, pos;
    unsigned          flags;
    unsigned char    *out, *out2, *bad;
    consent_token_t   tok, got;
    fuzz_reader_t     r;
    consent_vendor_set_t  vs;
    unsigned char     subject[CONSENT_SUBJECT_MAX + 8];
    unsigned char     vendors[CONSENT_VENDORS_REFUSED_MAX
                              * CONSENT_VENDOR_HASH_B64_LEN];

    r.pos = data;
    r.end = data + size;

    flags = fuzz_byte(&r);
    raw = (flags & 0x80) != 0;

    memset(&tok, 0, sizeof(consent_token_t));

    /* 0 and 65..71 are too short or too long */
    tok.subject_len = fuzz_byte(&r) % (CONSENT_SUBJECT_MAX + 8);

    for (i = 0; i < tok.subject_len; i++) {
        subject[i] = (unsigned char) fuzz_byte(&r);

        if (!raw) {
            subject[i] = (unsigned char) fuzz_subject_chars[subject[i] & 63];
        }
    }

    tok.subject = subject;
    tok.purposes = (consent_mask_t) fuzz_uint(&r, 4);
    tok.policy_version = (uint32_t) fuzz_uint(&r, 4);
    tok.issued_at = (int64_t) (fuzz_uint(&r, 5) % FUZZ_IAT_MAX) + 1;

    switch (flags & 0x0f) {
    case 0:
        tok.issued_at = 0;
        break;
    case 1:
        tok.issued_at = -tok.issued_at;
        break;
    case 2:
        tok.issued_at = FUZZ_IAT_MAX;
        break;
    }

    /* 0x40: refused vendors, so version 2, up to the most a token takes */
    if (flags & 0x40) {
        memset(&vs, 0, sizeof(vs));
        n = fuzz_byte(&r) % (CONSENT_VENDORS_REFUSED_MAX + 1);

        for (i = 0; i < n; i++) {
            (void) consent_vendor_set_add(&vs, (uint32_t) fuzz_uint(&r, 3));
        }

        tok.vendors = vendors;
        tok.vendors_len = consent_vendor_set_encode(&vs, vendors,
                                                    sizeof(vendors));
    }

    valid = consent_subject_valid(tok.subject, tok.subject_len)
            && tok.issued_at > 0;

    out = malloc(CONSENT_TOKEN_MAX_LEN);
    if (out == NULL) {
        abort();
    }

    n = consent_token_sign(&fuzz_ring, &tok, out, CONSENT_TOKEN_MAX_LEN);

    /* the fuzz kid is short enough for any valid subject to fit */
    FUZZ_ASSERT((n != 0) == valid);

    if (n == 0) {
        free(out);
        return;
    }

    FUZZ_ASSERT(n <= CONSENT_TOKEN_MAX_LEN);

    /* an exactly sized buffer works and gives the same token */
    out2 = malloc(n);
    if (out2 == NULL) {
        abort();
    }

    n2 = consent_token_sign(&fuzz_ring, &tok, out2, n);
    FUZZ_ASSERT(n2 == n && memcmp(out2, out, n) == 0);

    /* one byte less is refused, and nothing is written past it */
    n2 = consent_token_sign(&fuzz_ring, &tok, out2, n - 1);
    FUZZ_ASSERT(n2 == 0);

    free(out2);

    /* it verifies, with the first key, and gives its fields back */
    rc = fuzz_verify(out, n, &fuzz_ring, tok.issued_at, 0, &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_OK);
    FUZZ_ASSERT(got.key == &fuzz_ring.keys[0]);
    FUZZ_ASSERT(got.subject_len == tok.subject_len);
    FUZZ_ASSERT(memcmp(got.subject, tok.subject, tok.subject_len) == 0);
    FUZZ_ASSERT(got.purposes == tok.purposes);
    FUZZ_ASSERT(got.policy_version == tok.policy_version);
    FUZZ_ASSERT(got.issued_at == tok.issued_at);
    FUZZ_ASSERT(got.vendors_len == tok.vendors_len);
    FUZZ_ASSERT(tok.vendors_len == 0
                || memcmp(got.vendors, tok.vendors, tok.vendors_len) == 0);

    /* the clock: 5 minutes of skew, then the future; max_age */
    rc = fuzz_verify(out, n, &fuzz_ring, tok.issued_at - FUZZ_SKEW, 0, &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_OK);
    rc = fuzz_verify(out, n, &fuzz_ring, tok.issued_at - FUZZ_SKEW - 1, 0,
                     &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_FUTURE);
    rc = fuzz_verify(out, n, &fuzz_ring, tok.issued_at + 10, 10, &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_OK);
    rc = fuzz_verify(out, n, &fuzz_ring, tok.issued_at + 10, 9, &got);
    FUZZ_ASSERT(rc == CONSENT_TOKEN_EXPIRED);

    /* a ring without the signing key does not know it */
    rc = fuzz_verify(out, n, &fuzz_empty_ring, tok.issued_at, 0, &got);
    FUZZ_ASSERT(rc != CONSENT_TOKEN_OK);

    /* any one byte changed: not a valid token */
    bad = malloc(n + 1);
    if (bad == NULL) {
        abort();
    }

    pos = fuzz_byte(&r) % n;
    memcpy(bad, out, n);
    bad[pos] ^= (unsigned char) (fuzz_byte(&r) | 1);

    rc = fuzz_verify(bad, n, &fuzz_ring, tok.issued_at, 0, &got);
    FUZZ_ASSERT(rc != CONSENT_TOKEN_OK);

    /* and every position with a fixed change, too */
    for (i = 0; i < n; i++) {
        memcpy(bad, out, n);
        bad[i] = (bad[i] == 'A') ? 'B' : 'A';

        rc = fuzz_verify(bad, n, &fuzz_ring, tok.issued_at, 0, &got);
        FUZZ_ASSERT(rc != CONSENT_TOKEN_OK);
    }

    /* truncated or extended */
    rc = fuzz_verify(out, n - 1, &fuzz_ring, tok.issued_at, 0, &got);
    FUZZ_ASSERT(rc != CONSENT_TOKEN_OK);

    memcpy(bad, out, n);
    bad[n] = (unsigned char) fuzz_subject_chars[fuzz_byte(&r) & 63];

    rc = fuzz_verify(bad, n + 1, &fuzz_ring, tok.issued_at, 0, &got);
    FUZZ_ASSERT(rc != CONSENT_TOKEN_OK);

    free(bad);
    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_ready) {
        fuzz_init();
    }

    fuzz_verify_input(data, size);
    fuzz_sign_verify(data, size);

    return 0;
}
