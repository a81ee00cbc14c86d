/*
 * Copyright (C) ngx_consent_module authors
 *
 * Waiting for Redis; see ngx_http_consent_wait.h.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_cache.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_wait.h"


static ngx_int_t ngx_http_consent_wait_start(ngx_http_consent_wait_t *w,
    ngx_http_request_t *r, ngx_uint_t write);
static ngx_int_t ngx_http_consent_wait_queued(ngx_http_consent_wait_t *w,
    ngx_int_t rc);
static void ngx_http_consent_wait_reply(void *data, void *reply);
static void ngx_http_consent_wait_timeout(ngx_event_t *ev);
static void ngx_http_consent_wait_done(ngx_http_consent_wait_t *w,
    void *reply);
static void ngx_http_consent_wait_resume(ngx_event_t *ev);


ngx_int_t
ngx_http_consent_wait_command(ngx_http_consent_wait_t *w,
    ngx_http_request_t *r, int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_int_t  rc;

    if (ngx_http_consent_wait_start(w, r, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_consent_redis_command(argc, argv, argvlen,
                                        ngx_http_consent_wait_reply, w,
                                        &w->cmd);

    return ngx_http_consent_wait_queued(w, rc);
}


ngx_int_t
ngx_http_consent_wait_transaction(ngx_http_consent_wait_t *w,
    ngx_http_request_t *r, ngx_uint_t ncmds,
    ngx_http_consent_redis_argv_t *cmds)
{
    ngx_int_t  rc;

    if (ngx_http_consent_wait_start(w, r, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_consent_redis_transaction(ncmds, cmds,
                                            ngx_http_consent_wait_reply, w,
                                            &w->cmd);

    return ngx_http_consent_wait_queued(w, rc);
}


static ngx_int_t
ngx_http_consent_wait_queued(ngx_http_consent_wait_t *w, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        /* Redis known down: nobody waits for it */
        w->cmd = NULL;

        if (w->timer.timer_set) {
            ngx_del_timer(&w->timer);
        }

        return NGX_DECLINED;
    }

    w->pending = 1;

    return NGX_OK;
}


/*
 * The clock and the epoch start before the command leaves.  A write
 * waits for WAITs too: the one out when it is sent, and its own, which
 * Redis each answer after write_wait at most.
 */

static ngx_int_t
ngx_http_consent_wait_start(ngx_http_consent_wait_t *w,
    ngx_http_request_t *r, ngx_uint_t write)
{
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    if (w->pending) {
        return NGX_ERROR;
    }

    w->main = r->main;
    w->epoch = cmcf->zone ? ngx_http_consent_cache_epoch(cmcf->zone->data)
                          : 0;
    w->sent = ngx_current_msec;
    w->timed_out = 0;
    w->timeout = cmcf->redis->timeout;

    if (write && cmcf->redis->write_replicas) {
        w->timeout += 2 * cmcf->redis->write_wait;
    }

    w->timer.handler = ngx_http_consent_wait_timeout;
    w->timer.data = w;
    w->timer.log = r->connection->log;

    ngx_add_timer(&w->timer, w->timeout);

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_wait_for(ngx_http_consent_wait_t *w, ngx_http_request_t *r)
{
    ngx_uint_t            i;
    ngx_http_request_t  **q;

    if (w->waiters == NULL) {
        w->waiters = ngx_array_create(r->main->pool, 2,
                                      sizeof(ngx_http_request_t *));
        if (w->waiters == NULL) {
            return NGX_ERROR;
        }
    }

    q = w->waiters->elts;

    for (i = 0; i < w->waiters->nelts; i++) {
        if (q[i] == r) {
            return NGX_AGAIN;
        }
    }

    q = ngx_array_push(w->waiters);
    if (q == NULL) {
        return NGX_ERROR;
    }

    *q = r;

    return NGX_AGAIN;
}


static void
ngx_http_consent_wait_reply(void *data, void *reply)
{
    ngx_http_consent_wait_t *w = data;

    w->cmd = NULL;

    if (reply) {
        ngx_http_consent_metrics_latency(ngx_current_msec - w->sent);
    }

    ngx_http_consent_wait_done(w, reply);
}


static void
ngx_http_consent_wait_timeout(ngx_event_t *ev)
{
    ngx_http_consent_wait_t *w = ev->data;

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "consent redis: no answer within %M ms", w->timeout);

    if (w->cmd) {
        ngx_http_consent_redis_cancel(w->cmd);
        w->cmd = NULL;
    }

    w->timed_out = 1;

    ngx_http_consent_wait_done(w, NULL);
}


static void
ngx_http_consent_wait_done(ngx_http_consent_wait_t *w, void *reply)
{
    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    w->pending = 0;

    w->handler(w->data, reply);

    w->resume.handler = ngx_http_consent_wait_resume;
    w->resume.data = w;
    w->resume.log = w->main->connection->log;

    ngx_post_event(&w->resume, &ngx_posted_events);
}


/*
 * Every waiter is posted before any runs: one that finalizes the main
 * request cannot leave another to be run from freed memory, since
 * ngx_http_run_posted_requests() stops on a destroyed connection.
 */

static void
ngx_http_consent_wait_resume(ngx_event_t *ev)
{
    ngx_http_consent_wait_t *w = ev->data;

    ngx_uint_t            i, n;
    ngx_connection_t     *c;
    ngx_http_request_t  **q;

    c = w->main->connection;
    q = w->waiters ? w->waiters->elts : NULL;
    n = w->waiters ? w->waiters->nelts : 0;

    if (w->waiters) {
        w->waiters->nelts = 0;
    }

    for (i = 0; i < n; i++) {
        q[i]->write_event_handler = w->resume_handler;

        if (ngx_http_post_request(q[i], NULL) != NGX_OK) {
            ngx_http_finalize_request(w->main, NGX_HTTP_INTERNAL_SERVER_ERROR);
            break;
        }
    }

    ngx_http_run_posted_requests(c);
}


void
ngx_http_consent_wait_cleanup(ngx_http_consent_wait_t *w)
{
    if (w->cmd) {
        ngx_http_consent_redis_cancel(w->cmd);
        w->cmd = NULL;
    }

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    if (w->resume.posted) {
        ngx_delete_posted_event(&w->resume);
    }

    w->pending = 0;
}
