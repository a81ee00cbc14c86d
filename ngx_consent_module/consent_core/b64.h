/*
 * Copyright (C) ngx_consent_module authors
 *
 * base64: the url alphabet without padding out (token signatures), either
 * alphabet with or without padding in (keys files).
 */

#ifndef _CONSENT_B64_H_INCLUDED_
#define _CONSENT_B64_H_INCLUDED_


#include <stddef.h>


#define CONSENT_B64_ENCODED_LEN(n)  (((n) * 4 + 2) / 3)

/* writes CONSENT_B64_ENCODED_LEN(len) bytes to dst and returns that */
size_t consent_b64url_encode(const unsigned char *src, size_t len,
    unsigned char *dst);
/*
 * Decodes the standard or the url alphabet, padding optional, into at
 * most dstlen bytes.  Returns the length, or -1 on bad input, leftover
 * bits that are not zero (one encoding per value) or too small a dst.
 */
long consent_b64_decode(const unsigned char *src, size_t len,
    unsigned char *dst, size_t dstlen);


/* one character's 6 bits, or -1; url_only: '+' and '/' are not */
int consent_b64_value(unsigned char c, int url_only);


#endif /* _CONSENT_B64_H_INCLUDED_ */
