/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_rules and consent_rule: rule lines read into the main
 * configuration's rule set while the configuration is parsed, and the
 * scope a request gives the set's domain-only rules.
 */


#ifndef _NGX_HTTP_CONSENT_RULES_H_INCLUDED_
#define _NGX_HTTP_CONSENT_RULES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "rules.h"


char *ngx_http_consent_rules(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_consent_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
/*
 * Where a domain-only rule may apply: the scope of a Set-Cookie's Domain,
 * or, with none (len 0), of the request's Host
 */
void ngx_http_consent_scope(ngx_http_request_t *r, consent_ruleset_t *rules,
    const u_char *domain, size_t len, consent_scope_t *scope);


#endif /* _NGX_HTTP_CONSENT_RULES_H_INCLUDED_ */
