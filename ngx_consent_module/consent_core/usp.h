/*
 * Copyright (C) ngx_consent_module authors
 *
 * The IAB US Privacy string (the usprivacy cookie, and GPP section 6):
 * four characters, "1YNN": the version, which is 1, then Notice/
 * Opportunity to Opt Out, Opt-Out Sale and LSPA Covered Transaction, each
 * 'Y', 'N' or '-' (not applicable).  Lowercase y and n are taken as Y
 * and N: some CMPs write them and they cannot mean anything else.
 */

#ifndef _CONSENT_USP_H_INCLUDED_
#define _CONSENT_USP_H_INCLUDED_


#include "consent_core.h"


#define CONSENT_USP_LEN             4
#define CONSENT_USP_VERSION         1

/* each field's value */
#define CONSENT_USP_NA              '-'
#define CONSENT_USP_YES             'Y'
#define CONSENT_USP_NO              'N'

/* err->code of consent_usp_decode() */
#define CONSENT_USP_E_LENGTH        1   /* not 4 bytes */
#define CONSENT_USP_E_VERSION       2   /* not '1' */
#define CONSENT_USP_E_VALUE         3   /* a field not Y, N or - */

typedef struct {
    unsigned                   version;      /* always 1 */
    char                       notice;       /* CONSENT_USP_YES, _NO, _NA */
    char                       opt_out_sale;
    char                       lspa;
} consent_usp_t;

/* 0 with *usp filled, or -1 with err (err->at the byte at fault) */
int consent_usp_decode(const unsigned char *p, size_t len, consent_usp_t *usp,
    consent_err_t *err);


#endif /* _CONSENT_USP_H_INCLUDED_ */
