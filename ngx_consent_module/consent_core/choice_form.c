/*
 * Copyright (C) ngx_consent_module authors
 *
 * The consent API's form body (application/x-www-form-urlencoded):
 * purposes=analytics,advertising&policy_version=3&vendors_refused=criteo
 * (names split on ',' and ' ', keys may repeat).
 */

#include <string.h>

#include "choice_int.h"


static int consent_form_decode(const unsigned char *p, size_t len,
    unsigned char *out, size_t outlen, size_t *olen);
static int consent_form_names(consent_choice_t *ch,
    const consent_purposes_t *ps, const consent_ruleset_t *rs,
    const unsigned char *p, size_t len);


/* percent-decoding, '+' as a space; -1 on a bad escape */

static int
consent_form_decode(const unsigned char *p, size_t len, unsigned char *out,
    size_t outlen, size_t *olen)
{
    size_t    n, i;
    unsigned  c, h, l;

    n = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c == '+') {
            c = ' ';

        } else if (c == '%') {
            if (len - i < 3) {
                return -1;
            }

            h = p[i + 1] | 0x20;
            l = p[i + 2] | 0x20;

            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f'))
                || !((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f')))
            {
                return -1;
            }

            h = (h <= '9') ? h - '0' : h - 'a' + 10;
            l = (l <= '9') ? l - '0' : l - 'a' + 10;
            c = (h << 4) | l;
            i += 2;
        }

        if (n < outlen) {
            out[n] = (unsigned char) c;
        }

        n++;
    }

    *olen = n;

    return 0;
}


/* "a,b" or "a b": purposes (ps given) or vendors (ps NULL) */

static int
consent_form_names(consent_choice_t *ch, const consent_purposes_t *ps,
    const consent_ruleset_t *rs, const unsigned char *p, size_t len)
{
    const unsigned char  *s, *end, *name;

    end = p + len;

    for (s = p; s < end; /* void */) {
        while (s < end && (*s == ',' || *s == ' ')) {
            s++;
        }

        name = s;

        while (s < end && *s != ',' && *s != ' ') {
            s++;
        }

        if (s == name) {
            continue;
        }

        if ((ps ? consent_choice_name(ch, ps, name, (size_t) (s - name))
                : consent_choice_vendor(ch, rs, name, (size_t) (s - name)))
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


int
consent_choice_form(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, const consent_ruleset_t *rs,
    consent_choice_t *ch)
{
    size_t                klen, vlen, n;
    uint64_t              v;
    const unsigned char  *end, *amp, *eq;
    unsigned char         key[16];
    unsigned char         val[CONSENT_CHOICE_BODY_MAX];

    memset(ch, 0, sizeof(consent_choice_t));
    ch->purposes = CONSENT_BIT(CONSENT_P_NECESSARY);

    end = p + len;

    while (p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(p, '=', (size_t) (amp - p));
        if (eq == NULL) {
            eq = amp;
        }

        if (consent_form_decode(p, (size_t) (eq - p), key, sizeof(key),
                                &klen)
            != 0)
        {
            consent_choice_error(ch, "body", "bad percent-encoding%s", "");
            return -1;
        }

        vlen = 0;

        if (eq < amp
            && consent_form_decode(eq + 1, (size_t) (amp - eq - 1), val,
                                   sizeof(val), &vlen)
               != 0)
        {
            consent_choice_error(ch, "body", "bad percent-encoding%s", "");
            return -1;
        }

        if (vlen > sizeof(val)) {
            vlen = sizeof(val);
        }

        if (klen == 8 && memcmp(key, "purposes", 8) == 0) {
            ch->has_purposes = 1;

            /* "a,b", "a b", or purposes=a&purposes=b */
            if (consent_form_names(ch, ps, NULL, val, vlen) != 0) {
                return -1;
            }

        } else if (klen == 15 && memcmp(key, "vendors_refused", 15) == 0) {
            ch->has_vendors = 1;

            if (consent_form_names(ch, NULL, rs, val, vlen) != 0) {
                return -1;
            }

        } else if (klen == 14 && memcmp(key, "policy_version", 14) == 0) {
            if (ch->has_version) {
                consent_choice_error(ch, "policy_version",
                                     "duplicate field%s", "");
                return -1;
            }

            v = 0;

            for (n = 0; n < vlen; n++) {
                if (val[n] < '0' || val[n] > '9' || v > UINT32_MAX) {
                    break;
                }

                v = v * 10 + (val[n] - '0');
            }

            if (vlen == 0 || n != vlen || v > UINT32_MAX) {
                consent_choice_error(ch, "policy_version",
                                    "must be an integer from 0 to "
                                    "4294967295%s", "");
                return -1;
            }

            ch->policy_version = (uint32_t) v;
            ch->has_version = 1;
        }

        p = (amp < end) ? amp + 1 : end;
    }

    if (!ch->has_purposes) {
        consent_choice_error(ch, "purposes", "missing%s", "");
        return -1;
    }

    return 0;
}


