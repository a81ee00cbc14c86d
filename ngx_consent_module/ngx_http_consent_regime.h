/*
 * Copyright (C) ngx_consent_module authors
 *
 * Which law a visitor's region falls under, and what each regime grants
 * before any choice: consent_regime, consent_default_regime and
 * consent_regime_purposes.
 */


#ifndef _NGX_HTTP_CONSENT_REGIME_H_INCLUDED_
#define _NGX_HTTP_CONSENT_REGIME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* consent_regime opt_in|opt_out|notice REGION... */
char *ngx_http_consent_regime(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* consent_default_regime opt_in|opt_out|notice */
char *ngx_http_consent_default_regime(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* consent_regime_purposes REGIME PURPOSE... */
char *ngx_http_consent_regime_purposes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CONSENT_REGIME_H_INCLUDED_ */
