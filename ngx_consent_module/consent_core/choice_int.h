/*
 * Copyright (C) ngx_consent_module authors
 *
 * What the JSON (choice.c) and form (choice_form.c) readers of the
 * consent API's bodies share: errors and the names they take.
 */

#ifndef _CONSENT_CHOICE_INT_H_INCLUDED_
#define _CONSENT_CHOICE_INT_H_INCLUDED_


#include "consent_core.h"


/* field at fault, and why: fmt has one %s, for arg */
void consent_choice_error(consent_choice_t *ch, const char *field,
    const char *fmt, const char *arg);
/* a purpose name into ch->purposes: 0, or -1 with the error set */
int consent_choice_name(consent_choice_t *ch, const consent_purposes_t *ps,
    const unsigned char *name, size_t len);
/* a vendor name into ch->vendors: 0, or -1 with the error set */
int consent_choice_vendor(consent_choice_t *ch, const consent_ruleset_t *rs,
    const unsigned char *name, size_t len);


#endif /* _CONSENT_CHOICE_INT_H_INCLUDED_ */
