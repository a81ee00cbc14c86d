/*
 * Copyright (C) ngx_consent_module authors
 *
 * Reading a base64url string as a string of bits, most significant bit
 * first, six a character: how the IAB encodes TCF, GPP sections and
 * their segments.  A read past the end does not read anything: it sets
 * the reader's overrun flag and gives 0, so that a decoder can read a
 * whole structure and check once.
 */

#ifndef _CONSENT_BITS_H_INCLUDED_
#define _CONSENT_BITS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


typedef struct {
    const unsigned char       *p;            /* base64url characters */
    size_t                     nbits;        /* 6 a character */
    size_t                     pos;          /* the next bit */
    unsigned                   overrun:1;    /* a read went past the end */
} consent_bits_t;

/*
 * 0, or -1 when p holds a byte outside the base64url alphabet (A-Z a-z
 * 0-9 - _; the IAB strings carry no padding) or is empty
 */
int consent_bits_init(consent_bits_t *b, const unsigned char *p,
    size_t len);
/* the next n bits (n at most 64) as an unsigned integer */
uint64_t consent_bits_read(consent_bits_t *b, unsigned n);
/*
 * A Fibonacci-coded integer (GPP): bits for 1, 2, 3, 5, 8... ended by
 * two ones in a row.  0 and *v (at least 1), or -1 when the code does
 * not end before the string does or the value would pass UINT32_MAX.
 */
int consent_bits_fibonacci(consent_bits_t *b, uint32_t *v);
/* bits not read yet */
size_t consent_bits_left(const consent_bits_t *b);


#endif /* _CONSENT_BITS_H_INCLUDED_ */
