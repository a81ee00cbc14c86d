/*
 * Copyright (C) ngx_consent_module authors
 *
 * The US sections of GPP: usnat (7, versions 1 and 2) and the states
 * (8-27), one record shape (consent_gpp_us_t), each section with its
 * own list of fields and sub-sections, as the IAB's sections and its
 * reference library @iabgpp/cmpapi 3.2 define them.
 */

#ifndef _CONSENT_GPP_US_H_INCLUDED_
#define _CONSENT_GPP_US_H_INCLUDED_


#include "gpp.h"


/* 1 when id is a US section this file decodes */
int consent_gpp_us_known(unsigned id);
/*
 * Decodes s->text into s->u.us, or sets s->skipped for a Version it does
 * not know.  0, or -1 with err.
 */
int consent_gpp_us_decode(consent_gpp_section_t *s, consent_err_t *err);


#endif /* _CONSENT_GPP_US_H_INCLUDED_ */
