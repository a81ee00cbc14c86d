/*
 * Copyright (C) ngx_consent_module authors
 *
 * A bit writer for the tests of the IAB decoders: fields are put most
 * significant bit first, or as GPP's Fibonacci codes, then each segment
 * is written out in base64url, six bits a character, the way the IAB
 * strings are made (bits.h reads them back).  One writer per test file,
 * tw; a header of static functions because the Makefile's unit sources
 * are a fixed list.
 */

#ifndef _CONSENT_BITWRITE_H_INCLUDED_
#define _CONSENT_BITWRITE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>


static const char  bitwrite_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

typedef struct {
    unsigned char  bit[100000];              /* the segment being written */
    size_t         n;
    char           out[20000];               /* segments so far, '.'-joined */
    size_t         len;
} tw_t;

static tw_t  tw;


static inline void
tw_reset(void)
{
    tw.n = 0;
    tw.len = 0;
    tw.out[0] = '\0';
}


/* the low n bits of v */

static inline void
tw_put(uint64_t v, unsigned n)
{
    while (n--) {
        tw.bit[tw.n++] = (unsigned char) ((v >> n) & 1);
    }
}


/* the Fibonacci code of 1 <= v < 2^43: bits for 1, 2, 3, 5..., a closing 1 */

static inline void
tw_fib(uint64_t v)
{
    int       i, top;
    uint64_t  f[64];
    unsigned  bits[64];

    f[0] = 1;
    f[1] = 2;

    for (top = 1; f[top] <= v; top++) {
        f[top + 1] = f[top] + f[top - 1];
    }

    memset(bits, 0, sizeof(bits));

    for (i = top - 1; i >= 0; i--) {
        if (f[i] <= v) {
            bits[i] = 1;
            v -= f[i];
        }
    }

    for (top--; top > 0 && !bits[top]; top--) { /* void */ }

    for (i = 0; i <= top; i++) {
        tw_put(bits[i], 1);
    }

    tw_put(1, 1);
}


/* the bits so far as a segment of out, zero-padded to six; then a new one */

static inline void
tw_seg(void)
{
    size_t    i, j;
    unsigned  c;

    if (tw.len) {
        tw.out[tw.len++] = '.';
    }

    for (i = 0; i < tw.n; i += 6) {
        c = 0;

        for (j = i; j < i + 6; j++) {
            c = (c << 1) | (j < tw.n ? tw.bit[j] : 0);
        }

        tw.out[tw.len++] = bitwrite_b64[c];
    }

    tw.out[tw.len] = '\0';
    tw.n = 0;
}


#endif /* _CONSENT_BITWRITE_H_INCLUDED_ */
