/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: base64url encoding and the lenient decoder.
 *
 * consent_b64_decode() gets the input with output buffers of several
 * sizes, each an exactly sized heap allocation so that ASan reports a
 * single byte written past dstlen.  What it accepts must be canonical:
 * encoding the result gives the input back, less its padding and with
 * the url alphabet.  And the input itself, encoded and decoded, must come
 * back unchanged.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "fuzz.h"



/* decodes into an exactly dstlen-sized heap buffer, which is returned */
static long
fuzz_decode(const unsigned char *src, size_t len, size_t dstlen,
    unsigned char **dst)
{
    long  n;

    *dst = malloc(dstlen ? dstlen : 1);
    if (*dst == NULL) {
        abort();
    }

    n = consent_b64_decode(src, len, *dst, dstlen);

    FUZZ_ASSERT(n >= -1);
    FUZZ_ASSERT(n == -1 || (size_t) n <= dstlen);

    return n;
}


static unsigned char
fuzz_url_alphabet(unsigned char c)
{
    if (c == '+') {
        return '-';
    }

    if (c == '/') {
        return '_';
    }

    return c;
}


static void
fuzz_check_decode(const unsigned char *src, size_t len)
{
    long            n, m;
    size_t          i, full, stripped, elen;
    unsigned char  *dst, *small, *enc;

    /* the largest output any input of this length can have */
    full = len * 3 / 4;

    n = fuzz_decode(src, len, full, &dst);

    if (n < 0) {
        /* rejected with room to spare: rejected with less room, too */
        m = fuzz_decode(src, len, len / 2, &small);
        FUZZ_ASSERT(m == -1);
        free(small);
        free(dst);
        return;
    }

    stripped = len;

    while (stripped && src[stripped - 1] == '=') {
        stripped--;
    }

    FUZZ_ASSERT(len - stripped <= 2);
    FUZZ_ASSERT((size_t) n == stripped * 6 / 8);

    /* canonical: it encodes back to what was decoded */
    enc = malloc(CONSENT_B64_ENCODED_LEN((size_t) n) + 1);
    if (enc == NULL) {
        abort();
    }

    elen = consent_b64url_encode(dst, (size_t) n, enc);

    FUZZ_ASSERT(elen == stripped);

    for (i = 0; i < stripped; i++) {
        FUZZ_ASSERT(enc[i] == fuzz_url_alphabet(src[i]));
    }

    free(enc);

    /* exactly enough room is enough; one byte less is refused */
    m = fuzz_decode(src, len, (size_t) n, &small);
    FUZZ_ASSERT(m == n && memcmp(small, dst, (size_t) n) == 0);
    free(small);

    if (n > 0) {
        m = fuzz_decode(src, len, (size_t) n - 1, &small);
        FUZZ_ASSERT(m == -1);
        free(small);
    }

    free(dst);
}


static void
fuzz_check_round_trip(const unsigned char *src, size_t len)
{
    long            n;
    size_t          elen, i;
    unsigned char  *enc, *dst;

    elen = CONSENT_B64_ENCODED_LEN(len);

    enc = malloc(elen ? elen : 1);
    if (enc == NULL) {
        abort();
    }

    FUZZ_ASSERT(consent_b64url_encode(src, len, enc) == elen);

    for (i = 0; i < elen; i++) {
        FUZZ_ASSERT((enc[i] >= 'A' && enc[i] <= 'Z')
                    || (enc[i] >= 'a' && enc[i] <= 'z')
                    || (enc[i] >= '0' && enc[i] <= '9')
                    || enc[i] == '-' || enc[i] == '_');
    }

    n = fuzz_decode(enc, elen, len, &dst);

    FUZZ_ASSERT(n >= 0 && (size_t) n == len);
    FUZZ_ASSERT(memcmp(dst, src, len) == 0);

    free(dst);

    if (len) {
        n = fuzz_decode(enc, elen, len - 1, &dst);
        FUZZ_ASSERT(n == -1);
        free(dst);
    }

    free(enc);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char  *p;

    p = fuzz_copy(data, size);

    fuzz_check_decode(p, size);
    fuzz_check_round_trip(p, size);

    free(p);

    return 0;
}
