/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_rules and consent_rule: rule lines read into the main
 * configuration's rule set while the configuration is parsed.
 */


#ifndef _NGX_HTTP_CONSENT_RULES_H_INCLUDED_
#define _NGX_HTTP_CONSENT_RULES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


char *ngx_http_consent_rules(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_consent_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_CONSENT_RULES_H_INCLUDED_ */
