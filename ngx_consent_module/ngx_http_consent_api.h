/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_api: the endpoint a consent banner talks to, and the policy
 * versions it records decisions under.
 */


#ifndef _NGX_HTTP_CONSENT_API_H_INCLUDED_
#define _NGX_HTTP_CONSENT_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


char *ngx_http_consent_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
/* consent_clear_site_data [cookies] [storage] | off */
char *ngx_http_consent_clear_site_data(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CONSENT_API_H_INCLUDED_ */
