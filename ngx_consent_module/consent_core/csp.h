/*
 * Copyright (C) ngx_consent_module authors
 *
 * A Content-Security-Policy rewritten for a decision: from each fetch
 * directive (script-src, connect-src, img-src, frame-src, default-src,
 * ...) the host sources that belong to a vendor the visitor refused are
 * taken out, so that the browser itself refuses the vendor's script,
 * pixel or frame, whatever storage it would use.
 *
 * The caller says what a host is (consent_csp_host_pt): a refused
 * vendor's (DROP), one whose wildcard reaches a refused vendor's domain
 * as well as others' ("*.com": COVERS), or anything else (KEEP).  A
 * directive that would still let a refused vendor through after the
 * drops ('*', a network scheme such as https:, a covering wildcard, or
 * 'strict-dynamic', which makes browsers ignore host sources) is left
 * byte for byte as it was and counted as unenforceable.  A directive
 * whose every source goes becomes 'none'.  Other directives, and the
 * bytes between directives and policies, are copied as they came.
 */

#ifndef _CONSENT_CSP_H_INCLUDED_
#define _CONSENT_CSP_H_INCLUDED_


#include "consent_core.h"


/* the longest host a callback is given */
#define CONSENT_CSP_HOST_MAX        253

#define CONSENT_CSP_KEEP            0
#define CONSENT_CSP_DROP            1
#define CONSENT_CSP_COVERS          2

/* host: lower case, without scheme, port or path; wildcard for "*." */
typedef int (*consent_csp_host_pt)(void *data, const unsigned char *host,
    size_t len, int wildcard);

/* what a rewrite did */
typedef struct {
    unsigned                   dropped;      /* host sources taken out */
    unsigned                   unenforceable;  /* directives left as is */
} consent_csp_result_t;

/* the most a rewrite of len bytes can write */
#define CONSENT_CSP_OUT_SIZE(len)   (5 * (len) + 8)

/*
 * A header value (one or more policies joined by ',') into out
 * (CONSENT_CSP_OUT_SIZE(len) bytes), returning the output length.
 * Hosts longer than 253 bytes are kept.  Nothing is allocated.
 */
size_t consent_csp_rewrite(const unsigned char *p, size_t len,
    consent_csp_host_pt host, void *data, unsigned char *out,
    consent_csp_result_t *res);

/*
 * A host source (lower case; wildcard for "*.host") against one vendor
 * domain (lower case): DROP when every host it matches is the domain or
 * under it, COVERS when it is a wildcard matching the domain among
 * others ("*.com" for "criteo.com"), else KEEP.
 */
int consent_csp_host_match(const unsigned char *host, size_t len,
    int wildcard, const unsigned char *domain, size_t dlen);

/* 1 when a directive name (any case) is a fetch directive */
int consent_csp_fetch_directive(const unsigned char *name, size_t len);


#endif /* _CONSENT_CSP_H_INCLUDED_ */
