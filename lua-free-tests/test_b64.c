/*
 * Copyright (C) ngx_consent_module authors
 *
 * base64: url alphabet out, either alphabet in, one encoding per value.
 */

#include "test.h"
#include "b64.h"


void
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
