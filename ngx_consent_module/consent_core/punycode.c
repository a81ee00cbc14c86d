/*
 * Copyright (C) ngx_consent_module authors
 *
 * RFC 3492 Punycode (section 6.3, encoding only) with its parameters for
 * IDNA (section 5), and strict UTF-8 decoding.
 */

#include <string.h>

#include "punycode.h"


#define CONSENT_PUNY_BASE       36
#define CONSENT_PUNY_TMIN       1
#define CONSENT_PUNY_TMAX       26
#define CONSENT_PUNY_SKEW       38
#define CONSENT_PUNY_DAMP       700


static int consent_punycode_digits(uint32_t q, uint32_t bias,
    unsigned char *out, size_t *o);
static uint32_t consent_punycode_adapt(uint32_t delta, uint32_t npoints,
    int first);


int
consent_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp,
    size_t *n)
{
    size_t    j, need;
    uint32_t  c;

    c = p[0];

    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        c &= 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        c &= 0x0f;

    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        c &= 0x07;

    } else {
        return -1;
    }

    if (len - 1 < need) {
        return -1;
    }

    for (j = 1; j <= need; j++) {
        if ((p[j] & 0xc0) != 0x80) {
            return -1;
        }

        c = (c << 6) | (p[j] & 0x3f);
    }

    if ((need == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
        || (need == 3 && (c < 0x10000 || c > 0x10ffff)))
    {
        return -1;
    }

    *cp = c;
    *n = need + 1;

    return 0;
}


int
consent_punycode_label(const uint32_t *cp, size_t ncp, unsigned char *out,
    size_t *olen)
{
    size_t    j, o, b, h;
    uint32_t  n, m, delta, bias;

    memcpy(out, "xn--", 4);
    o = 4;

    for (j = 0; j < ncp; j++) {
        if (cp[j] < 0x80) {
            out[o++] = (unsigned char) cp[j];
        }
    }

    b = o - 4;

    if (b) {
        if (o == CONSENT_PUNYCODE_LABEL_MAX) {
            return -1;
        }

        out[o++] = '-';
    }

    /* ncp < 60 and c <= 0x10ffff keep delta far below 2^32 */
    h = b;
    n = 0x80;
    delta = 0;
    bias = 72;

    while (h < ncp) {
        m = 0xffffffff;

        for (j = 0; j < ncp; j++) {
            if (cp[j] >= n && cp[j] < m) {
                m = cp[j];
            }
        }

        delta += (m - n) * (uint32_t) (h + 1);
        n = m;

        for (j = 0; j < ncp; j++) {
            if (cp[j] < n) {
                delta++;
                continue;
            }

            if (cp[j] != n) {
                continue;
            }

            if (consent_punycode_digits(delta, bias, out, &o) != 0) {
                return -1;
            }

            bias = consent_punycode_adapt(delta, (uint32_t) (h + 1), h == b);
            delta = 0;
            h++;
        }

        delta++;
        n++;
    }

    *olen = o;

    return 0;
}


/*
 * q as a generalized variable-length integer, appended to out at *o;
 * -1 when the label would grow past 63 bytes.
 */
static int
consent_punycode_digits(uint32_t q, uint32_t bias, unsigned char *out,
    size_t *o)
{
    uint32_t  k, t, d;

    for (k = CONSENT_PUNY_BASE; /* void */; k += CONSENT_PUNY_BASE) {
        t = (k <= bias) ? CONSENT_PUNY_TMIN
            : (k >= bias + CONSENT_PUNY_TMAX) ? CONSENT_PUNY_TMAX
            : k - bias;

        if (q < t) {
            break;
        }

        d = t + (q - t) % (CONSENT_PUNY_BASE - t);
        q = (q - t) / (CONSENT_PUNY_BASE - t);

        if (*o == CONSENT_PUNYCODE_LABEL_MAX) {
            return -1;
        }

        out[(*o)++] = (unsigned char) (d < 26 ? 'a' + d : '0' + d - 26);
    }

    if (*o == CONSENT_PUNYCODE_LABEL_MAX) {
        return -1;
    }

    out[(*o)++] = (unsigned char) (q < 26 ? 'a' + q : '0' + q - 26);

    return 0;
}


static uint32_t
consent_punycode_adapt(uint32_t delta, uint32_t npoints, int first)
{
    uint32_t  k;

    delta = first ? delta / CONSENT_PUNY_DAMP : delta / 2;
    delta += delta / npoints;

    for (k = 0;
         delta > ((CONSENT_PUNY_BASE - CONSENT_PUNY_TMIN) * CONSENT_PUNY_TMAX)
                 / 2;
         k += CONSENT_PUNY_BASE)
    {
        delta /= CONSENT_PUNY_BASE - CONSENT_PUNY_TMIN;
    }

    return k + ((CONSENT_PUNY_BASE - CONSENT_PUNY_TMIN + 1) * delta)
               / (delta + CONSENT_PUNY_SKEW);
}
