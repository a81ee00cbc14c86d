/*
 * Copyright (C) ngx_consent_module authors
 *
 * Making a request's decision: gathering the inputs (region, subject,
 * consent cookie, Sec-GPC, the subject's record from the cache or Redis)
 * for consent_decide() in the core.
 */


#ifndef _NGX_HTTP_CONSENT_DECIDE_H_INCLUDED_
#define _NGX_HTTP_CONSENT_DECIDE_H_INCLUDED_


#include "ngx_http_consent_module.h"


/* ngx_http_consent_decide(): how long it may take */
#define NGX_HTTP_CONSENT_DECIDE_PEEK   0  /* may leave it undecided */
#define NGX_HTTP_CONSENT_DECIDE_WAIT   1  /* may suspend on Redis */
#define NGX_HTTP_CONSENT_DECIDE_NOW    2  /* final, without waiting */


/* NGX_OK (decided, or provisional with _PEEK), NGX_AGAIN, NGX_ERROR */
ngx_int_t ngx_http_consent_decide(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_uint_t mode);
/* the subject's record asked for ahead: NGX_OK, NGX_AGAIN, NGX_ERROR */
ngx_int_t ngx_http_consent_prefetch(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
/* the decision a recorded write leaves: as the next request will see it */
void ngx_http_consent_decide_recorded(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_state_t *st);


#endif /* _NGX_HTTP_CONSENT_DECIDE_H_INCLUDED_ */
