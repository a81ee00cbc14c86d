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
 * After the request's cookies are stripped: what is left of each vendor
 * is logged for the subject, at most once a day per vendor.  Nothing
 * waits: the writes go down the lookup connection unanswered, and a
 * Redis that is down skips them (the day is tried again).
 */
ngx_int_t ngx_http_consent_provision(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);


#endif /* _NGX_HTTP_CONSENT_PROVISION_H_INCLUDED_ */
