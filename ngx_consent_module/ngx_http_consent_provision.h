/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_provision_log: which vendors' cookies a subject's requests
 * carried to the origin, first and last time, in Redis (see
 * consent_core/provision.h), for disclosure exports.
 */


#ifndef _NGX_HTTP_CONSENT_PROVISION_H_INCLUDED_
#define _NGX_HTTP_CONSENT_PROVISION_H_INCLUDED_


#include "ngx_http_consent_module.h"


/* consent_provision_log on|off */
char *ngx_http_consent_provision_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * The log phase's handler: for a request marked in the rewrite phase
 * (ctx->provide) that an upstream peer got, what is left of each vendor's
 * cookies is logged for the subject, at most once a day per vendor.
 * Nothing waits: the writes go down the lookup connection, and a Redis
 * that is down or refuses them leaves the day to be tried again.
 */
ngx_int_t ngx_http_consent_provision_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_CONSENT_PROVISION_H_INCLUDED_ */
