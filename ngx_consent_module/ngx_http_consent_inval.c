/*
 * Copyright (C) ngx_consent_module authors
 *
 * What a worker's Redis connections tell it; see ngx_http_consent_inval.h.
 * The Redis client only reports events: what they mean for the cache and
 * the vendor overrides is decided here.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_cache.h"
#include "ngx_http_consent_inval.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_overrides.h"
#include "ngx_http_consent_redis.h"

#include "id.h"
#include "record.h"


static void ngx_http_consent_inval_ready(void *data, ngx_uint_t subscriber,
    ngx_uint_t again);
static void ngx_http_consent_inval_deaf(void *data, ngx_uint_t stalled);
static void ngx_http_consent_inval_message(void *data, ngx_str_t *payload);


static ngx_http_consent_redis_events_t  ngx_http_consent_inval_events = {
    ngx_http_consent_inval_ready,
    ngx_http_consent_inval_deaf,
    ngx_http_consent_inval_message,
    NULL
};


ngx_int_t
ngx_http_consent_init_process(ngx_cycle_t *cycle)
{
    ngx_http_consent_main_conf_t  *cmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_consent_module);

    ngx_http_consent_metrics_init_process(cycle);

    if (cmcf == NULL || cmcf->redis == NULL) {
        return NGX_OK;
    }

    ngx_http_consent_inval_events.data = cmcf;

    /* nothing is cached until the subscriber listens */
    ngx_http_consent_cache_listening(0);

    return ngx_http_consent_redis_start(cycle, cmcf->redis, cmcf->zone != NULL,
                                        &ngx_http_consent_inval_events);
}


void
ngx_http_consent_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_consent_redis_stop(cycle);
    ngx_http_consent_metrics_exit_process();
}


static void
ngx_http_consent_inval_ready(void *data, ngx_uint_t subscriber,
    ngx_uint_t again)
{
    ngx_http_consent_main_conf_t *cmcf = data;

    if (!subscriber) {
        /* changes to the vendor overrides made meanwhile went unheard */
        ngx_http_consent_overrides_fetch(cmcf);
        return;
    }

    /*
     * Invalidations published while the subscriber was away are lost:
     * forget everything cached rather than serve a withdrawn consent.
     * Either way, states read before it listened are not stored.
     */
    if (again) {
        ngx_http_consent_cache_flush(cmcf->zone->data);

    } else {
        ngx_http_consent_cache_fence(cmcf->zone->data);
    }

    ngx_http_consent_cache_listening(1);

    /* from here on this worker caches what Redis answers */
    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "consent redis: listening to %Vinval%s",
                  &cmcf->redis->prefix, again ? ", cache flushed" : "");
}


static void
ngx_http_consent_inval_deaf(void *data, ngx_uint_t stalled)
{
    ngx_http_consent_main_conf_t *cmcf = data;

    ngx_http_consent_cache_listening(0);

    /* deaf since long before it was noticed: what it missed is unknown */
    if (stalled) {
        ngx_http_consent_cache_flush(cmcf->zone->data);
    }
}


static void
ngx_http_consent_inval_message(void *data, ngx_str_t *payload)
{
    ngx_http_consent_main_conf_t *cmcf = data;

    /* not a subject id: the overrides changed */
    if (consent_inval_is_rules(payload->data, payload->len)) {
        ngx_http_consent_overrides_fetch(cmcf);
        return;
    }

    if (payload->len == 0 || payload->len > CONSENT_ID_MAX
        || cmcf->zone == NULL)
    {
        return;
    }

    /* at info: where and when a withdrawal reached this worker */
    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "consent redis: invalidated \"%V\"", payload);

    ngx_http_consent_cache_delete(cmcf->zone->data, payload);
}
