/*
 * Copyright (C) ngx_consent_module authors
 *
 * RFC 3492 Punycode for one IDN label ("公司" -> "xn--55qx5d"), and the
 * strict UTF-8 decoding it needs.  No Unicode mapping (IDNA's UTS 46) is
 * done: callers hand in code points already as they should be encoded.
 */

#ifndef _CONSENT_PUNYCODE_H_INCLUDED_
#define _CONSENT_PUNYCODE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* a DNS label's limit, which the encoded label must keep */
#define CONSENT_PUNYCODE_LABEL_MAX  63


/*
 * The UTF-8 sequence p starts (p[0] from 0x80 up, len at least 1) into
 * *cp, its length into *n; -1 if it is not strict UTF-8: no overlongs, no
 * surrogates, up to U+10FFFF.
 */
int consent_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp,
    size_t *n);

/*
 * The ncp code points (fewer than 60, each at most U+10FFFF) as an
 * A-label into out, which has room for 63 bytes: "xn--", the basic code
 * points as they are, '-' if there were any, then the deltas.  0, or -1
 * when the label would be longer than 63 bytes.
 */
int consent_punycode_label(const uint32_t *cp, size_t ncp,
    unsigned char *out, size_t *olen);


#endif /* _CONSENT_PUNYCODE_H_INCLUDED_ */
