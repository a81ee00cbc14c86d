/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_metrics: counters in shared memory, added to by every worker
 * with atomic adds and kept across reloads, shown in the Prometheus text
 * format.  Each hook below costs a test of one pointer when no location
 * has consent_metrics.
 */


#ifndef _NGX_HTTP_CONSENT_METRICS_H_INCLUDED_
#define _NGX_HTTP_CONSENT_METRICS_H_INCLUDED_


#include "ngx_http_consent_module.h"


/* consent_redis_lookups_total{result=} */
#define NGX_HTTP_CONSENT_LOOKUP_HIT       0
#define NGX_HTTP_CONSENT_LOOKUP_MISS      1
#define NGX_HTTP_CONSENT_LOOKUP_TIMEOUT   2
#define NGX_HTTP_CONSENT_LOOKUP_ERROR     3
#define NGX_HTTP_CONSENT_LOOKUP_DOWN      4   /* circuit open: not asked */


/* consent_metrics; (location) */
char *ngx_http_consent_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* after the rules are read: room for each vendor's entries */
ngx_int_t ngx_http_consent_metrics_postconfiguration(ngx_conf_t *cf);
/* the worker's view of the zone; at exit, its open circuit is closed */
void ngx_http_consent_metrics_init_process(ngx_cycle_t *cycle);
void ngx_http_consent_metrics_exit_process(void);

void ngx_http_consent_metrics_decision(ngx_uint_t source, ngx_uint_t regime);
/* a cookie stripped from a request, or a Set-Cookie dropped */
void ngx_http_consent_metrics_cookie(const consent_rule_t *rule,
    ngx_uint_t set_cookie);
void ngx_http_consent_metrics_required(void);
void ngx_http_consent_metrics_api(ngx_uint_t status);
void ngx_http_consent_metrics_lookup(ngx_uint_t result);
/* a Redis reply that came, ms after its command was queued */
void ngx_http_consent_metrics_latency(ngx_msec_t ms);
/* the worker's lookup connection: circuit opened (1) or closed (0) */
void ngx_http_consent_metrics_circuit(ngx_uint_t open);
/* Sentinel named another primary than the one the worker had */
void ngx_http_consent_metrics_primary_change(void);
/* a write WAIT did not see on enough replicas */
void ngx_http_consent_metrics_unconfirmed(void);


#endif /* _NGX_HTTP_CONSENT_METRICS_H_INCLUDED_ */
