/*
 * Copyright (C) ngx_consent_module authors
 *
 * Bits of a base64url string (bits.h).
 */

#include "bits.h"


/* 0-63 for a base64url byte, 64 for any other: read once a character */

static const unsigned char  consent_bits_values[256] = {
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
    64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
};

#define consent_bits_value(c)  consent_bits_values[(unsigned char) (c)]


int
consent_bits_init(consent_bits_t *b, const unsigned char *p, size_t len)
{
    size_t  i;

    b->p = p;
    b->nbits = len * 6;
    b->pos = 0;
    b->overrun = 0;

    if (len == 0) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (consent_bits_value(p[i]) == 64) {
            return -1;
        }
    }

    return 0;
}


/*
 * A character's bits at a time, not a bit at a time: a 1,200-vendor bit
 * field is 200 characters, and the decoders read fields of 1 to 36 bits
 * that mostly lie within one or two of them.
 */

uint64_t
consent_bits_read(consent_bits_t *b, unsigned n)
{
    size_t    pos;
    unsigned  c, off, take;
    uint64_t  v;

    if (n > 64 || b->pos > b->nbits || n > b->nbits - b->pos) {
        b->overrun = 1;
        b->pos = b->nbits;
        return 0;
    }

    v = 0;
    pos = b->pos;

    while (n) {
        c = consent_bits_value(b->p[pos / 6]);
        off = (unsigned) (pos % 6);
        take = 6 - off;

        if (take > n) {
            take = n;
        }

        v = (v << take) | ((c >> (6 - off - take)) & ((1u << take) - 1));
        pos += take;
        n -= take;
    }

    b->pos = pos;

    return v;
}


int
consent_bits_fibonacci(consent_bits_t *b, uint32_t *v)
{
    unsigned  bit, prev;
    uint64_t  sum, f1, f2, t;

    sum = 0;
    prev = 0;
    f1 = 1;     /* the weight of the next bit */
    f2 = 1;     /* the weight before it */

    for ( ;; ) {
        bit = (unsigned) consent_bits_read(b, 1);

        if (b->overrun) {
            return -1;
        }

        if (bit && prev) {
            break;
        }

        if (bit) {
            sum += f1;

            if (sum > UINT32_MAX) {
                return -1;
            }
        }

        prev = bit;

        t = f1 + f2;
        f2 = f1;
        f1 = t;

        if (f1 > ((uint64_t) 1 << 40)) {
            /* no uint32_t needs a weight this large: a run of zeros */
            return -1;
        }
    }

    if (sum == 0) {
        return -1;
    }

    *v = (uint32_t) sum;

    return 0;
}


size_t
consent_bits_left(const consent_bits_t *b)
{
    return b->nbits - b->pos;
}
