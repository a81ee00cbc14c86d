/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Redis client's insides, shared by its connection side
 * (ngx_http_consent_redis.c) and its command queue
 * (ngx_http_consent_redis_queue.c); the rest of the module sees only
 * ngx_http_consent_redis.h.
 */


#ifndef _NGX_HTTP_CONSENT_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_CONSENT_REDIS_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include <hiredis/hiredis.h>

#include "ngx_http_consent_redis.h"


#define NGX_HTTP_CONSENT_REDIS_BACKOFF_MIN   100
#define NGX_HTTP_CONSENT_REDIS_BACKOFF_MAX   5000
#define NGX_HTTP_CONSENT_REDIS_REPLY_MAX     (1024 * 1024)
#define NGX_HTTP_CONSENT_REDIS_OUT_MAX       (4 * 1024 * 1024)


typedef struct ngx_http_consent_redis_s  ngx_http_consent_redis_t;

typedef void (*ngx_http_consent_redis_internal_pt)(
    ngx_http_consent_redis_t *rd, redisReply *reply);

typedef struct {
    ngx_queue_t                          queue;
    ngx_http_consent_redis_handler_pt    handler;
    ngx_http_consent_redis_internal_pt   internal;
    void                                *data;    /* NULL: requester gone */
} ngx_http_consent_redis_cmd_t;

struct ngx_http_consent_redis_s {
    ngx_http_consent_redis_conf_t       *conf;
    ngx_http_consent_redis_events_t     *events;
    ngx_log_t                           *log;

    ngx_peer_connection_t                peer;
    ngx_connection_t                    *c;
    redisReader                         *reader;

    ngx_queue_t                          sent;
    ngx_queue_t                          free;

    u_char                              *out;
    size_t                               out_pos;
    size_t                               out_len;
    size_t                               out_cap;

    ngx_event_t                          reconnect;
    ngx_event_t                          ping;     /* the subscriber's */
    ngx_msec_t                           backoff;
    ngx_str_t                            channel;

    unsigned                             subscriber:1;
    unsigned                             connected:1;
    unsigned                             ready:1;
    unsigned                             down:1;
    unsigned                             was_ready:1;
    /* the subscriber went deaf: what it missed is unknown */
    unsigned                             stalled:1;
};


/* the worker's lookup connection, which every request command goes to */
extern ngx_http_consent_redis_t  *ngx_http_consent_redis_lookup;


/* ngx_http_consent_redis.c */
void ngx_http_consent_redis_connect(ngx_http_consent_redis_t *rd);
void ngx_http_consent_redis_fail(ngx_http_consent_redis_t *rd,
    const char *reason);

/* ngx_http_consent_redis_queue.c */
ngx_int_t ngx_http_consent_redis_internal(ngx_http_consent_redis_t *rd,
    ngx_http_consent_redis_internal_pt handler, int argc, const char **argv,
    const size_t *argvlen);
void ngx_http_consent_redis_free_queue(ngx_http_consent_redis_t *rd);


#endif /* _NGX_HTTP_CONSENT_REDIS_CONN_H_INCLUDED_ */
