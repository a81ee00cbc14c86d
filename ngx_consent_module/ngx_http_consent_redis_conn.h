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
#define NGX_HTTP_CONSENT_SENTINEL_TIMEOUT_MIN  1000


typedef struct ngx_http_consent_redis_s  ngx_http_consent_redis_t;

typedef void (*ngx_http_consent_redis_internal_pt)(
    ngx_http_consent_redis_t *rd, redisReply *reply);

typedef struct {
    ngx_queue_t                          queue;
    ngx_http_consent_redis_handler_pt    handler;
    ngx_http_consent_redis_internal_pt   internal;
    void                                *data;    /* NULL: requester gone */
    /* an EXEC that a WAIT confirms: its reply, kept until WAIT counts */
    redisReply                          *exec;
    unsigned                             wait:1;
} ngx_http_consent_redis_cmd_t;


/* what a connection is for */
#define NGX_HTTP_CONSENT_REDIS_LOOKUP       0
#define NGX_HTTP_CONSENT_REDIS_SUBSCRIBER   1
#define NGX_HTTP_CONSENT_REDIS_WRITE        2
#define NGX_HTTP_CONSENT_REDIS_SENTINEL     3

struct ngx_http_consent_redis_s {
    ngx_http_consent_redis_conf_t       *conf;
    ngx_http_consent_redis_events_t     *events;
    ngx_log_t                           *log;

    ngx_uint_t                           kind;
    /* where it connects: a configured address or the primary found */
    ngx_addr_t                          *addr;
    ngx_str_t                           *user;
    ngx_str_t                           *password;
    /* how long a pipeline may wait for its next reply */
    ngx_msec_t                           timeout;

    ngx_peer_connection_t                peer;
    ngx_connection_t                    *c;
    redisReader                         *reader;

    ngx_queue_t                          sent;
    ngx_queue_t                          free;
    /* EXECs that ran, their replies kept until the WAIT after them */
    ngx_queue_t                          waiting;
    /* EXECs queued since the last WAIT: one WAIT goes before a send */
    ngx_uint_t                           unwaited;

    u_char                              *out;
    size_t                               out_pos;
    size_t                               out_len;
    size_t                               out_cap;

    ngx_event_t                          reconnect;
    ngx_event_t                          ping;     /* the subscriber's */
    ngx_msec_t                           backoff;
    ngx_str_t                            channel;

    unsigned                             subscriber:1;
    /* it must reach the primary: ROLE checked, READONLY means it moved */
    unsigned                             primary:1;
    /* the reply being handled is kept by a command: not freed */
    unsigned                             kept:1;
    /* a WAIT is out: the next one waits for its answer */
    unsigned                             wait_out:1;
    unsigned                             connected:1;
    unsigned                             ready:1;
    unsigned                             down:1;
    unsigned                             was_ready:1;
    /* the subscriber went deaf: what it missed is unknown */
    unsigned                             stalled:1;
};


/*
 * The worker's lookup connection, and its write connection to the
 * primary when it has one of its own (a read replica, or WAIT, which
 * would hold up the lookups behind it); else writes go to the lookup
 * connection.
 */
extern ngx_http_consent_redis_t  *ngx_http_consent_redis_lookup;
extern ngx_http_consent_redis_t  *ngx_http_consent_redis_writer;


/* ngx_http_consent_redis.c */
ngx_http_consent_redis_t *ngx_http_consent_redis_create(ngx_cycle_t *cycle,
    ngx_http_consent_redis_conf_t *conf,
    ngx_http_consent_redis_events_t *events, ngx_uint_t kind,
    ngx_addr_t *addr);
void ngx_http_consent_redis_connect(ngx_http_consent_redis_t *rd);
void ngx_http_consent_redis_fail(ngx_http_consent_redis_t *rd,
    const char *reason);
/* closed without a failure: connected again after delay */
void ngx_http_consent_redis_restart(ngx_http_consent_redis_t *rd,
    const char *reason, ngx_msec_t delay);
void ngx_http_consent_redis_free(ngx_http_consent_redis_t *rd);
/* the primary moved: every connection to it reconnects now */
void ngx_http_consent_redis_primary_moved(void);

/* ngx_http_consent_sentinel.c */
ngx_int_t ngx_http_consent_sentinel_start(ngx_cycle_t *cycle,
    ngx_http_consent_redis_conf_t *conf);
void ngx_http_consent_sentinel_stop(void);
/* the primary as last found: socklen 0 until a Sentinel named it */
ngx_addr_t *ngx_http_consent_sentinel_primary(void);
/* a connection to the primary failed or was refused: ask again */
void ngx_http_consent_sentinel_ask(void);
/* SENTINEL get-master-addr-by-name's reply, in the handshake */
void ngx_http_consent_sentinel_answer(ngx_http_consent_redis_t *rd,
    redisReply *reply);
/* a Sentinel failed: the next one is tried; 1 once all were */
ngx_uint_t ngx_http_consent_sentinel_next(ngx_http_consent_redis_t *rd);

/* ngx_http_consent_redis_handshake.c */
extern const char  *ngx_http_consent_redis_kind_name[];

ngx_int_t ngx_http_consent_redis_handshake(ngx_http_consent_redis_t *rd);
void ngx_http_consent_redis_ping_handler(ngx_event_t *ev);
ngx_uint_t ngx_http_consent_redis_is_message(redisReply *reply);
void ngx_http_consent_redis_message(ngx_http_consent_redis_t *rd,
    redisReply *reply);
/* the subscriber's pipeline: written now */
ngx_int_t ngx_http_consent_redis_flush(ngx_http_consent_redis_t *rd);

/* ngx_http_consent_redis_queue.c */
ngx_int_t ngx_http_consent_redis_internal(ngx_http_consent_redis_t *rd,
    ngx_http_consent_redis_internal_pt handler, int argc, const char **argv,
    const size_t *argvlen);
void ngx_http_consent_redis_free_queue(ngx_http_consent_redis_t *rd);
/* one WAIT for the EXECs queued since the last, before they are sent */
ngx_int_t ngx_http_consent_redis_queue_wait(ngx_http_consent_redis_t *rd);
void ngx_http_consent_redis_exec_reply(ngx_http_consent_redis_t *rd,
    ngx_http_consent_redis_cmd_t *cmd, redisReply *reply);
/* everyone waiting for a WAIT hears the connection is gone */
void ngx_http_consent_redis_drop_waiting(ngx_http_consent_redis_t *rd);


#endif /* _NGX_HTTP_CONSENT_REDIS_CONN_H_INCLUDED_ */
