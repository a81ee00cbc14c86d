/*
 * Copyright (C) ngx_consent_module authors
 *
 * The request side: the per-request context, and the rewrite-phase
 * handlers that have the decision made and the Cookie header stripped.
 */


#ifndef _NGX_HTTP_CONSENT_REQUEST_H_INCLUDED_
#define _NGX_HTTP_CONSENT_REQUEST_H_INCLUDED_


#include "ngx_http_consent_module.h"


/* the main request's context, found again after an internal redirect */
ngx_http_consent_ctx_t *ngx_http_consent_get_ctx(ngx_http_request_t *r,
    ngx_flag_t create);

/* the phase handlers, and what they need once the configuration is read */
ngx_int_t ngx_http_consent_request_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_CONSENT_REQUEST_H_INCLUDED_ */
