/*
 * Copyright (C) ngx_consent_module authors
 *
 * Where a refused cookie may sit in the browser, so that it can be
 * expired: the cookie-name check, the Domain= values and the Path= values
 * a script on the page may have used.  Every answer is bounded, whatever
 * the Host and path a client sends.
 */

#ifndef _CONSENT_EXPIRY_H_INCLUDED_
#define _CONSENT_EXPIRY_H_INCLUDED_


#include "consent_core.h"
#include "psl.h"


/* 1 when p is an RFC 6265 cookie-name: an RFC 9110 token */
int consent_cookie_name_is_token(const unsigned char *p, size_t len);

/*
 * The Domain= values a cookie for host may have been set with, most
 * likely first, at most max: with configured domains, those host is or
 * is under, then host itself; without, host's registrable domain (from
 * psl, or its last two labels when psl is NULL), host itself, then the
 * parents in between, nearest the registrable domain first.  None for an
 * IP address, a single label, empty labels, or a byte outside
 * [A-Za-z0-9._-].  The spans point into host or configured.
 */
size_t consent_expiry_domains(const unsigned char *host, size_t len,
    const consent_span_t *configured, size_t nconfigured,
    const consent_psl_t *psl, consent_span_t *out, size_t max);

/*
 * The Path= values a cookie sent with a request for path (as the client
 * sent it, without the query) may have been set with: "/", then for each
 * of the first depth directories both "/dir" (a script's default path)
 * and "/dir/".  Stops at the first byte a Path attribute cannot carry
 * safely.  At most 1 + 2 * depth spans into path (or a static "/").
 */
size_t consent_expiry_paths(const unsigned char *path, size_t len,
    size_t depth, consent_span_t *out);


#endif /* _CONSENT_EXPIRY_H_INCLUDED_ */
