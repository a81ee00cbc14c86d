/*
 * Copyright (C) ngx_consent_module authors
 *
 * What a Redis connection says first, and what keeps a subscriber's
 * alive: AUTH, ROLE (is this the primary?), the Sentinel's question,
 * SELECT and PING or SUBSCRIBE, whose answer makes it ready; the
 * subscriber's PING; the messages it hears.  The connection itself is
 * ngx_http_consent_redis.c's.
 */


#include "ngx_http_consent_redis_conn.h"
#include "ngx_http_consent_metrics.h"


static ngx_int_t ngx_http_consent_redis_handshake_more(
    ngx_http_consent_redis_t *rd);
static void ngx_http_consent_redis_role_reply(ngx_http_consent_redis_t *rd,
    redisReply *reply);
static void ngx_http_consent_redis_handshake_reply(
    ngx_http_consent_redis_t *rd, redisReply *reply);
static void ngx_http_consent_redis_ready_reply(ngx_http_consent_redis_t *rd,
    redisReply *reply);
static void ngx_http_consent_redis_pong(ngx_http_consent_redis_t *rd,
    redisReply *reply);


const char  *ngx_http_consent_redis_kind_name[] = {
    "connection", "subscriber", "write connection", "Sentinel"
};


/*
 * The handshake goes first in the pipeline, lookups queue behind it:
 * AUTH, ROLE for the primary found through Sentinel, then SELECT and
 * PING, or SUBSCRIBE for a subscriber, whose answer makes the connection
 * ready.  A Sentinel is asked for the primary before it subscribes.
 */

ngx_int_t
ngx_http_consent_redis_handshake(ngx_http_consent_redis_t *rd)
{
    int           n;
    const char   *argv[3];
    size_t        argvlen[3];

    if (rd->password->len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        n = 1;

        if (rd->user->len) {
            argv[n] = (const char *) rd->user->data;
            argvlen[n++] = rd->user->len;
        }

        argv[n] = (const char *) rd->password->data;
        argvlen[n++] = rd->password->len;

        if (ngx_http_consent_redis_internal(rd,
                                        ngx_http_consent_redis_handshake_reply,
                                        n, argv, argvlen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (rd->kind == NGX_HTTP_CONSENT_REDIS_SENTINEL) {
        argv[0] = "SENTINEL";
        argvlen[0] = 8;
        argv[1] = "get-master-addr-by-name";
        argvlen[1] = 23;
        argv[2] = (const char *) rd->conf->master.data;
        argvlen[2] = rd->conf->master.len;

        if (ngx_http_consent_redis_internal(rd,
                                          ngx_http_consent_sentinel_answer,
                                          3, argv, argvlen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (rd->primary && rd->conf->sentinels) {
        /* a Sentinel's answer may be stale: the primary says itself */
        argv[0] = "ROLE";
        argvlen[0] = 4;

        if (ngx_http_consent_redis_internal(rd,
                                          ngx_http_consent_redis_role_reply,
                                          1, argv, argvlen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_consent_redis_handshake_more(rd);
}


static ngx_int_t
ngx_http_consent_redis_handshake_more(ngx_http_consent_redis_t *rd)
{
    const char   *argv[2];
    size_t        argvlen[2];
    u_char        db[NGX_INT_T_LEN];

    if (rd->subscriber) {
        argv[0] = "SUBSCRIBE";
        argvlen[0] = 9;
        argv[1] = (const char *) rd->channel.data;
        argvlen[1] = rd->channel.len;

        return ngx_http_consent_redis_internal(rd,
                                         ngx_http_consent_redis_ready_reply,
                                         2, argv, argvlen);
    }

    if (rd->conf->db) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", rd->conf->db) - db;

        if (ngx_http_consent_redis_internal(rd,
                                        ngx_http_consent_redis_handshake_reply,
                                        2, argv, argvlen)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    argv[0] = "PING";
    argvlen[0] = 4;

    return ngx_http_consent_redis_internal(rd,
                                         ngx_http_consent_redis_ready_reply,
                                         1, argv, argvlen);
}


static void
ngx_http_consent_redis_handshake_reply(ngx_http_consent_redis_t *rd,
    redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis %V: handshake refused: %*s",
                      &rd->addr->name, (size_t) reply->len, reply->str);
        ngx_http_consent_redis_fail(rd, "handshake refused");
    }
}


static void
ngx_http_consent_redis_ready_reply(ngx_http_consent_redis_t *rd,
    redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis %V: %*s",
                      &rd->addr->name, (size_t) reply->len, reply->str);
        ngx_http_consent_redis_fail(rd, "not ready");
        return;
    }

    if (rd->down && rd->was_ready) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "consent redis %V: %s up again", &rd->addr->name,
                      ngx_http_consent_redis_kind_name[rd->kind]);
    }

    if (rd->subscriber) {
        ngx_add_timer(&rd->ping, rd->conf->ping);
    }

    if (rd->kind == NGX_HTTP_CONSENT_REDIS_LOOKUP) {
        ngx_http_consent_metrics_circuit(0);
    }

    rd->ready = 1;
    rd->down = 0;
    rd->stalled = 0;
    rd->backoff = NGX_HTTP_CONSENT_REDIS_BACKOFF_MIN;

    if (rd->kind == NGX_HTTP_CONSENT_REDIS_LOOKUP
        || rd->kind == NGX_HTTP_CONSENT_REDIS_SUBSCRIBER)
    {
        rd->events->ready(rd->events->data, rd->subscriber, rd->was_ready);
    }

    rd->was_ready = 1;
}


/* ROLE's first element: "master", or this is not the primary */

static void
ngx_http_consent_redis_role_reply(ngx_http_consent_redis_t *rd,
    redisReply *reply)
{
    redisReply  *role;

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1) {
        role = reply->element[0];

        if (role->type == REDIS_REPLY_STRING && role->len == 6
            && ngx_strncmp(role->str, "master", 6) == 0)
        {
            return;
        }

        if (role->type == REDIS_REPLY_STRING) {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "consent redis %V: named the primary, but its "
                          "role is \"%*s\"", &rd->addr->name,
                          (size_t) ngx_min(role->len, 32), role->str);
            ngx_http_consent_redis_fail(rd, "not the primary");
            return;
        }
    }

    /*
     * An ACL user without +role, a proxy that does not know it: the
     * check is skipped, READONLY still tells a demoted primary.
     */
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "consent redis %V: ROLE refused (%*s), the primary "
                      "is taken as Sentinel named it", &rd->addr->name,
                      (size_t) ngx_min(reply->len, 128), reply->str);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "consent redis %V: unexpected reply to ROLE",
                  &rd->addr->name);
    ngx_http_consent_redis_fail(rd, "not the primary");
}


/*
 * The subscriber sends one PING at a time, and only when nothing else
 * waits: an unanswered one stalls the pipeline, which fails the
 * connection after the timeout (see update_timer).
 */

void
ngx_http_consent_redis_ping_handler(ngx_event_t *ev)
{
    size_t                     argvlen[1];
    const char                *argv[1];
    ngx_http_consent_redis_t  *rd;

    rd = ev->data;

    if (!rd->ready || ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (ngx_queue_empty(&rd->sent)) {
        argv[0] = "PING";
        argvlen[0] = 4;

        if (ngx_http_consent_redis_internal(rd, ngx_http_consent_redis_pong,
                                            1, argv, argvlen)
            != NGX_OK)
        {
            return;
        }

        if (ngx_http_consent_redis_flush(rd) != NGX_OK) {
            ngx_http_consent_redis_fail(rd, "write failed");
            return;
        }
    }

    ngx_add_timer(ev, rd->conf->ping);
}


/* subscribed, PING answers ["pong", ""] */

static void
ngx_http_consent_redis_pong(ngx_http_consent_redis_t *rd, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1
        && reply->element[0]->type == REDIS_REPLY_STRING
        && reply->element[0]->len == 4
        && ngx_strncasecmp((u_char *) reply->element[0]->str,
                           (u_char *) "pong", 4) == 0)
    {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis %V: PING refused: %*s",
                      &rd->addr->name, (size_t) reply->len, reply->str);

    } else {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis %V: unexpected reply to PING",
                      &rd->addr->name);
    }

    ngx_http_consent_redis_fail(rd, "protocol error");
}


/* ["message", channel, payload]: what the subscriber hears unasked */

ngx_uint_t
ngx_http_consent_redis_is_message(redisReply *reply)
{
    return reply->type == REDIS_REPLY_ARRAY && reply->elements == 3
           && reply->element[0]->type == REDIS_REPLY_STRING
           && reply->element[0]->len == 7
           && ngx_strncmp(reply->element[0]->str, "message", 7) == 0;
}


void
ngx_http_consent_redis_message(ngx_http_consent_redis_t *rd,
    redisReply *reply)
{
    ngx_str_t  payload;

    /* ["message", channel, payload] */
    if (!ngx_http_consent_redis_is_message(reply)
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    payload.data = (u_char *) reply->element[2]->str;
    payload.len = reply->element[2]->len;

    rd->events->message(rd->events->data, &payload);
}
