/*
 * Copyright (C) ngx_consent_module authors
 *
 * Purpose sets: names <-> bits.  Bit order is the declaration order, so the
 * standard six keep their bits whatever an operator adds after them.
 */

#include <string.h>

#include "consent_core.h"


static const char  *consent_standard_purposes[CONSENT_P_STANDARD] = {
    "necessary", "functional", "analytics", "advertising",
    "personalization", "sharing"
};


void
consent_purposes_init(consent_purposes_t *ps)
{
    unsigned  i;

    memset(ps, 0, sizeof(consent_purposes_t));

    for (i = 0; i < CONSENT_P_STANDARD; i++) {
        (void) consent_purposes_add(ps,
                           (const unsigned char *) consent_standard_purposes[i],
                           strlen(consent_standard_purposes[i]));
    }
}


int
consent_purposes_add(consent_purposes_t *ps, const unsigned char *name,
    size_t len)
{
    size_t         i;
    unsigned char  c;

    if (len == 0 || len > CONSENT_PURPOSE_NAME_MAX) {
        return CONSENT_PURPOSE_INVALID;
    }

    /* names end up in variable names and JSON keys: keep them plain */
    for (i = 0; i < len; i++) {
        c = name[i];

        if (!((c >= 'a' && c <= 'z') || c == '_'
              || (i > 0 && c >= '0' && c <= '9')))
        {
            return CONSENT_PURPOSE_INVALID;
        }
    }

    if (consent_purpose_find(ps, name, len) >= 0) {
        return CONSENT_PURPOSE_DUPLICATE;
    }

    if (ps->n >= CONSENT_MAX_PURPOSES) {
        return CONSENT_PURPOSE_FULL;
    }

    memcpy(ps->name[ps->n], name, len);
    ps->name[ps->n][len] = '\0';
    ps->len[ps->n] = (unsigned char) len;

    return (int) ps->n++;
}


int
consent_purpose_find(const consent_purposes_t *ps, const unsigned char *name,
    size_t len)
{
    unsigned  i;

    for (i = 0; i < ps->n; i++) {
        if (ps->len[i] == len && memcmp(ps->name[i], name, len) == 0) {
            return (int) i;
        }
    }

    return -1;
}


consent_mask_t
consent_purposes_all(const consent_purposes_t *ps)
{
    if (ps->n >= 32) {
        return (consent_mask_t) 0xffffffff;
    }

    return (consent_mask_t) ((CONSENT_BIT(ps->n)) - 1);
}


int
consent_purposes_parse(const consent_purposes_t *ps, const unsigned char *p,
    size_t len, consent_mask_t *mask, const unsigned char **bad,
    size_t *bad_len)
{
    int                   i;
    const unsigned char  *end, *start;

    *mask = CONSENT_BIT(CONSENT_P_NECESSARY);
    end = p + len;

    while (p < end) {

        while (p < end && (*p == ',' || *p == ' ' || *p == '\t')) {
            p++;
        }

        start = p;

        while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        if (p == start) {
            break;
        }

        i = consent_purpose_find(ps, start, (size_t) (p - start));

        if (i < 0) {
            if (bad) {
                *bad = start;
                *bad_len = (size_t) (p - start);
            }

            return -1;
        }

        *mask |= CONSENT_BIT(i);
    }

    return 0;
}


size_t
consent_purposes_format(const consent_purposes_t *ps, consent_mask_t mask,
    unsigned char *out, size_t outlen)
{
    size_t    need;
    unsigned  i;

    need = 0;

    for (i = 0; i < ps->n; i++) {
        if (!(mask & CONSENT_BIT(i))) {
            continue;
        }

        need += (need ? 1 : 0) + ps->len[i];
    }

    if (out == NULL || need > outlen) {
        return need;
    }

    need = 0;

    for (i = 0; i < ps->n; i++) {
        if (!(mask & CONSENT_BIT(i))) {
            continue;
        }

        if (need) {
            out[need++] = ',';
        }

        memcpy(out + need, ps->name[i], ps->len[i]);
        need += ps->len[i];
    }

    return need;
}
