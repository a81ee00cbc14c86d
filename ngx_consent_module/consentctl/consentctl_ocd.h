/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl rules import-ocd: the Open Cookie Database CSV as a rules
 * file on stdout.
 */

#ifndef _CONSENTCTL_OCD_H_INCLUDED_
#define _CONSENTCTL_OCD_H_INCLUDED_


#include "consentctl.h"


int ctl_rules_import_ocd(ctl_t *ctl, int argc, char **argv);


#endif /* _CONSENTCTL_OCD_H_INCLUDED_ */
