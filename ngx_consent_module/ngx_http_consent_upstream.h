/*
 * Copyright (C) ngx_consent_module authors
 *
 * What the decision changes on the way to the origin, besides cookies:
 * consent_require, consent_strip_args, the Consent header.
 */


#ifndef _NGX_HTTP_CONSENT_UPSTREAM_H_INCLUDED_
#define _NGX_HTTP_CONSENT_UPSTREAM_H_INCLUDED_


#include "ngx_http_consent_module.h"


/* NGX_DECLINED to go on, or the status consent_require answers */
ngx_int_t ngx_http_consent_upstream(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_loc_conf_t *lcf);

char *ngx_http_consent_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_strip_args(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_upstream_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CONSENT_UPSTREAM_H_INCLUDED_ */
