/*
 * Copyright (C) ngx_consent_module authors
 *
 * A hiredis reply as the core's parsers read it (consent_reply_elt_pt in
 * record.h), for the two programs that talk to Redis through hiredis: the
 * module and consentctl.  The core itself never includes hiredis, so
 * this is a header of its own, used only by them.
 */

#ifndef _CONSENT_HIREDIS_REPLY_H_INCLUDED_
#define _CONSENT_HIREDIS_REPLY_H_INCLUDED_


#include <hiredis/hiredis.h>

#include "consent_core.h"


/* element i of an array reply: a span for a string, data NULL otherwise */
static inline void
consent_hiredis_element(const void *reply, size_t i, consent_span_t *elt)
{
    const redisReply  *e;

    e = ((const redisReply *) reply)->element[i];

    if (e->type == REDIS_REPLY_STRING) {
        elt->data = (const unsigned char *) e->str;
        elt->len = e->len;

    } else {
        elt->data = NULL;
        elt->len = 0;
    }
}


#endif /* _CONSENT_HIREDIS_REPLY_H_INCLUDED_ */
