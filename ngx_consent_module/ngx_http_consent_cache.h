/*
 * Copyright (C) ngx_consent_module authors
 *
 * The shared-memory cache of subject records (consent_zone), and the
 * invalidation sequence that keeps a stale Redis reply out of it.
 */


#ifndef _NGX_HTTP_CONSENT_CACHE_H_INCLUDED_
#define _NGX_HTTP_CONSENT_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "vendor_set.h"


/* a subject's record, from Redis or the shared cache */
typedef struct {
    uint32_t                    purposes;
    uint32_t                    policy_version;
    time_t                      updated;
    /* vendors refused one by one, or NULL; all: a "vr" not understood */
    consent_vendor_set_t       *vendors;
    unsigned                    vendors_all:1;
    unsigned                    found:1;
} ngx_http_consent_state_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;
} ngx_http_consent_cache_sh_t;


typedef struct {
    ngx_http_consent_cache_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
    time_t                        ttl;
    time_t                        negative_ttl;
} ngx_http_consent_cache_t;


/* consent_zone zone=name:size [ttl=time] [negative_ttl=time] */
char *ngx_http_consent_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

ngx_int_t ngx_http_consent_cache_get(ngx_http_consent_cache_t *cache,
    ngx_str_t *id, ngx_http_consent_state_t *state, ngx_pool_t *pool);
/*
 * epoch: ngx_http_consent_cache_epoch() when the state was asked of Redis;
 * a state asked before an invalidation that may concern it is not stored.
 */
void ngx_http_consent_cache_put(ngx_http_consent_cache_t *cache,
    ngx_str_t *id, ngx_http_consent_state_t *state, ngx_atomic_uint_t epoch);
ngx_atomic_uint_t ngx_http_consent_cache_epoch(
    ngx_http_consent_cache_t *cache);

/* entries now, entries pushed out for room, invalidations received */
void ngx_http_consent_cache_stats(ngx_http_consent_cache_t *cache,
    ngx_atomic_uint_t *entries, ngx_atomic_uint_t *evictions,
    ngx_atomic_uint_t *invalidations);
/* what the invalidation subscriber tells the cache */
void ngx_http_consent_cache_delete(ngx_http_consent_cache_t *cache,
    ngx_str_t *id);
void ngx_http_consent_cache_flush(ngx_http_consent_cache_t *cache);
void ngx_http_consent_cache_fence(ngx_http_consent_cache_t *cache);
/* whether this worker hears invalidations: if not, it stores nothing */
void ngx_http_consent_cache_listening(ngx_uint_t listening);


#endif /* _NGX_HTTP_CONSENT_CACHE_H_INCLUDED_ */
