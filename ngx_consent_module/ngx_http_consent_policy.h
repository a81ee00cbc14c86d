/*
 * Copyright (C) ngx_consent_module authors
 *
 * The privacy policy's versions: the current one (consent_policy_version,
 * with its re-consent floor) and one announced ahead of its effective
 * date (consent_policy_next), which becomes current at that date on its
 * own, without a reload: each request asks which is in force.
 */


#ifndef _NGX_HTTP_CONSENT_POLICY_H_INCLUDED_
#define _NGX_HTTP_CONSENT_POLICY_H_INCLUDED_


#include "ngx_http_consent_module.h"


typedef struct {
    ngx_uint_t                  version;
    ngx_uint_t                  reconsent_below;
    /* announced and not yet in force: 0 when none */
    ngx_uint_t                  next;
    time_t                      next_effective;
} ngx_http_consent_policy_t;


/* what is in force at now for the location */
void ngx_http_consent_policy(ngx_http_consent_loc_conf_t *lcf, time_t now,
    ngx_http_consent_policy_t *p);

char *ngx_http_consent_policy_version(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_policy_next(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* the location's versions after merging: the next above the current */
char *ngx_http_consent_policy_merge(ngx_conf_t *cf,
    ngx_http_consent_loc_conf_t *prev, ngx_http_consent_loc_conf_t *conf);


#endif /* _NGX_HTTP_CONSENT_POLICY_H_INCLUDED_ */
