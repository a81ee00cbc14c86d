/*
 * Copyright (C) ngx_consent_module authors
 *
 * Bits of a base64url string (bits.h).
 */

#include "bits.h"


/* 0-63, or 64 for a byte outside the alphabet */

static unsigned
consent_bits_value(unsigned char c)
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

    if (c == '-') {
        return 62;
    }

    return c == '_' ? 63 : 64;
}


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


uint64_t
consent_bits_read(consent_bits_t *b, unsigned n)
{
    size_t    pos;
    unsigned  i, c;
    uint64_t  v;

    if (n > 64 || b->pos > b->nbits || n > b->nbits - b->pos) {
        b->overrun = 1;
        b->pos = b->nbits;
        return 0;
    }

    v = 0;
    pos = b->pos;

    for (i = 0; i < n; i++, pos++) {
        c = consent_bits_value(b->p[pos / 6]);
        v = (v << 1) | ((c >> (5 - pos % 6)) & 1);
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
