/*
 * Copyright (C) ngx_consent_module authors
 *
 * base64url out, base64 in either alphabet.
 */

#include <stdint.h>

#include "b64.h"


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


int
consent_b64_value(unsigned char c, int url_only)
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

    if (c == '-' || (c == '+' && !url_only)) {
        return 62;
    }

    if (c == '_' || (c == '/' && !url_only)) {
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
        v = consent_b64_value(src[i], 0);
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
