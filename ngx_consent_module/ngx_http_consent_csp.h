/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_csp and consent_csp_base: the response's Content-Security-Policy
 * (and -Report-Only) without the host sources of vendors the decision
 * refuses (consent_core/csp.h), so the browser refuses their scripts,
 * pixels and frames whatever storage they would use.
 */


#ifndef _NGX_HTTP_CONSENT_CSP_H_INCLUDED_
#define _NGX_HTTP_CONSENT_CSP_H_INCLUDED_


#include "ngx_http_consent_module.h"


char *ngx_http_consent_csp_base(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* after the rules compiled: each vendor's purposes and domains */
char *ngx_http_consent_csp_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf);
/*
 * The response's policies rewritten for the request's decision, and
 * consent_csp_base's added where there is none, if add_base
 */
ngx_int_t ngx_http_consent_csp_filter(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_loc_conf_t *lcf,
    ngx_uint_t add_base);


#endif /* _NGX_HTTP_CONSENT_CSP_H_INCLUDED_ */
