/*
 * Copyright (C) ngx_consent_module authors
 *
 * The US Privacy string (usp.h).
 */

#include "usp.h"


/* 'Y', 'N' or '-', or 0 for anything else */

static char
consent_usp_value(unsigned char c)
{
    switch (c) {

    case 'Y':
    case 'y':
        return CONSENT_USP_YES;

    case 'N':
    case 'n':
        return CONSENT_USP_NO;

    case '-':
        return CONSENT_USP_NA;

    default:
        return 0;
    }
}


int
consent_usp_decode(const unsigned char *p, size_t len, consent_usp_t *usp,
    consent_err_t *err)
{
    size_t  i;
    char    v[3];

    if (len != CONSENT_USP_LEN) {
        return consent_fail(err, CONSENT_USP_E_LENGTH,
                            "US Privacy string not 4 characters", p, len);
    }

    if (p[0] != '0' + CONSENT_USP_VERSION) {
        return consent_fail(err, CONSENT_USP_E_VERSION,
                            "US Privacy string version is not 1", p, 1);
    }

    for (i = 0; i < 3; i++) {
        v[i] = consent_usp_value(p[i + 1]);

        if (v[i] == 0) {
            return consent_fail(err, CONSENT_USP_E_VALUE,
                                "US Privacy field not Y, N or -",
                                p + i + 1, 1);
        }
    }

    usp->version = CONSENT_USP_VERSION;
    usp->notice = v[0];
    usp->opt_out_sale = v[1];
    usp->lspa = v[2];

    return 0;
}
