/*
 * Copyright (C) ngx_consent_module authors
 *
 * IAB strings at the edge (consent_iab, consent_iab_map,
 * consent_iab_cache): the visitor's CMP cookies read once per request,
 * decoded by the core (consent_core/iab.h) through a per-worker cache of
 * what each distinct set of strings says.
 */


#ifndef _NGX_HTTP_CONSENT_IAB_H_INCLUDED_
#define _NGX_HTTP_CONSENT_IAB_H_INCLUDED_


#include "ngx_http_consent_module.h"


char *ngx_http_consent_iab(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_consent_iab_map(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* after the rules compiled: the GVL id of each rules vendor */
char *ngx_http_consent_iab_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf);

/* the request's IAB strings into ctx->iab, once; NGX_ERROR on no memory */
ngx_int_t ngx_http_consent_iab_read(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
/* after the decision: what $consent_iab says, "" when nothing was sent */
void ngx_http_consent_iab_state(ngx_http_consent_ctx_t *ctx, ngx_str_t *s);


#endif /* _NGX_HTTP_CONSENT_IAB_H_INCLUDED_ */
