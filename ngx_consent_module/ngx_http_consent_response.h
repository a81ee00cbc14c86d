/*
 * Copyright (C) ngx_consent_module authors
 *
 * The response side: refused Set-Cookie headers dropped, rejected
 * cookies expired, Permissions-Policy, the privacy policy link.
 */


#ifndef _NGX_HTTP_CONSENT_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_CONSENT_RESPONSE_H_INCLUDED_


#include "ngx_http_consent_module.h"


ngx_int_t ngx_http_consent_response_init(ngx_conf_t *cf);

char *ngx_http_consent_permissions_policy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_permissions_policy_merge(ngx_conf_t *cf,
    ngx_http_consent_loc_conf_t *prev, ngx_http_consent_loc_conf_t *conf);
char *ngx_http_consent_policy_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CONSENT_RESPONSE_H_INCLUDED_ */
