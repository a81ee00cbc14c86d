/*
 * Copyright (C) ngx_consent_module authors
 *
 * What a worker's Redis connections tell it, and what that means: a
 * subject published on <prefix>inval leaves the shared cache, "*rules"
 * has the vendor overrides read again, a subscriber that went deaf or
 * comes back flushes the cache.
 */


#ifndef _NGX_HTTP_CONSENT_INVAL_H_INCLUDED_
#define _NGX_HTTP_CONSENT_INVAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_http_consent_init_process(ngx_cycle_t *cycle);
void ngx_http_consent_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_CONSENT_INVAL_H_INCLUDED_ */
