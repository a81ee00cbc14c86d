/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_gpc_json: /.well-known/gpc.json.
 */


#ifndef _NGX_HTTP_CONSENT_GPC_JSON_H_INCLUDED_
#define _NGX_HTTP_CONSENT_GPC_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


char *ngx_http_consent_gpc_json(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CONSENT_GPC_JSON_H_INCLUDED_ */
