/*
 * Copyright (C) ngx_consent_module authors
 *
 * Regions and regimes: a country or subdivision code ("FR", "US-CA") maps
 * to the legal regime whose default applies before any consent.
 */

#include <string.h>

#include "consent_core.h"


static const char  *consent_regime_names[CONSENT_REGIMES] = {
    "opt_in", "opt_out", "notice"
};


/* EU27 (and "EL", the EU's code for Greece), EEA, UK, Switzerland */
static const char  *consent_opt_in_default[] = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR",
    "EL", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO",
    "SK", "SI", "ES", "SE", "IS", "LI", "NO", "GB", "UK", "CH", NULL
};


void
consent_regions_init(consent_regions_t *rg)
{
    unsigned  i;

    memset(rg, 0, sizeof(consent_regions_t));

    for (i = 0; consent_opt_in_default[i]; i++) {
        (void) consent_regions_set(rg,
                            (const unsigned char *) consent_opt_in_default[i],
                            2, CONSENT_REGIME_OPT_IN);
    }

    (void) consent_regions_set(rg, (const unsigned char *) "US", 2,
                               CONSENT_REGIME_OPT_OUT);
    (void) consent_regions_set(rg, (const unsigned char *) "JP", 2,
                               CONSENT_REGIME_NOTICE);
}


static int
consent_region_normalize(const unsigned char *p, size_t len, char *out)
{
    size_t         i;
    unsigned char  c;

    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }

    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    if (len == 0 || len > CONSENT_REGION_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= 'a' && c <= 'z') {
            c -= 'a' - 'A';
        }

        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
              || c == '_'))
        {
            return -1;
        }

        out[i] = (char) c;
    }

    out[len] = '\0';

    return (int) len;
}


static int
consent_regions_find(const consent_regions_t *rg, const char *code,
    size_t len)
{
    unsigned  i;

    for (i = 0; i < rg->n; i++) {
        if (rg->map[i].len == len && memcmp(rg->map[i].code, code, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


int
consent_regions_set(consent_regions_t *rg, const unsigned char *code,
    size_t len, unsigned regime)
{
    int   n, i;
    char  norm[CONSENT_REGION_MAX + 1];

    if (regime >= CONSENT_REGIMES) {
        return -1;
    }

    n = consent_region_normalize(code, len, norm);
    if (n < 0) {
        return -1;
    }

    i = consent_regions_find(rg, norm, (size_t) n);

    if (i < 0) {
        if (rg->n == CONSENT_REGIONS_MAX) {
            return -1;
        }

        i = (int) rg->n++;
        memcpy(rg->map[i].code, norm, (size_t) n + 1);
        rg->map[i].len = (unsigned char) n;
    }

    rg->map[i].regime = (unsigned char) regime;

    return 0;
}


int
consent_regions_lookup(const consent_regions_t *rg, const unsigned char *code,
    size_t len)
{
    int    n, i;
    char  *dash;
    char   norm[CONSENT_REGION_MAX + 1];

    n = consent_region_normalize(code, len, norm);
    if (n < 0) {
        return -1;
    }

    i = consent_regions_find(rg, norm, (size_t) n);

    if (i < 0) {
        /* "US-CA" unmapped: the country's regime */
        dash = memchr(norm, '-', (size_t) n);

        if (dash == NULL || dash == norm) {
            return -1;
        }

        i = consent_regions_find(rg, norm, (size_t) (dash - norm));

        if (i < 0) {
            return -1;
        }
    }

    return rg->map[i].regime;
}


int
consent_regime_parse(const unsigned char *p, size_t len)
{
    unsigned  i;

    for (i = 0; i < CONSENT_REGIMES; i++) {
        if (strlen(consent_regime_names[i]) == len
            && memcmp(consent_regime_names[i], p, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


const char *
consent_regime_name(unsigned regime)
{
    return regime < CONSENT_REGIMES ? consent_regime_names[regime] : "";
}


consent_mask_t
consent_regime_default(const consent_purposes_t *ps, unsigned regime)
{
    switch (regime) {

    case CONSENT_REGIME_OPT_OUT:
        return consent_purposes_all(ps);

    case CONSENT_REGIME_NOTICE:
        /* APPI: no third-party provision or behavioural ads before consent */
        return consent_purposes_all(ps)
               & ~(CONSENT_BIT(CONSENT_P_ADVERTISING)
                   | CONSENT_BIT(CONSENT_P_SHARING));

    default:
        return CONSENT_BIT(CONSENT_P_NECESSARY);
    }
}
