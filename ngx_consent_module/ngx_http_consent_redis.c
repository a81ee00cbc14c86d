/*
 * Copyright (C) ngx_consent_module authors
 *
 * A non-blocking Redis client on the nginx event loop.
 *
 * Why nginx peer connections feeding a hiredis redisReader, rather than
 * hiredis's async context with an event adapter: nginx then owns the
 * socket, its events and every timer (hiredis 0.14 has no async timeouts
 * at all), connects exactly like an upstream does, and no hiredis code
 * ever touches a file descriptor.  hiredis does what it is good at:
 * formatting commands (redisFormatCommandArgv, binary safe) and parsing
 * replies (redisReader).
 *
 * Each worker keeps one persistent connection for lookups, commands
 * pipelined and replies matched to waiters in order (Redis answers in
 * order), and one subscriber connection on <prefix>inval that drops
 * published subject ids from the shared cache.  A connection that fails,
 * stalls past the timeout or speaks garbage is closed; the circuit then
 * opens: lookups are refused at once (the caller applies its fail policy)
 * until a reconnect, with exponential backoff, answers PING.
 *
 * The subscriber only ever reads, so a peer gone without a FIN or RST
 * would leave it deaf for good: it sends PING every "ping", and an
 * unanswered one stalls its pipeline like any command.
 *
 * With consent_redis_read, lookups and the subscriber go to that replica
 * and writes to the primary on a connection of their own.  The
 * subscriber listens where lookups read: the replica delivers an
 * invalidation after it applied the write (one replication stream), so
 * a lookup it answers later never reads the state the invalidation
 * withdrew.  With Sentinel, the primary's address is the one the
 * Sentinels last named (ngx_http_consent_sentinel.c); a connection to it
 * checks ROLE first, and a refusal (READONLY) or a failure asks them
 * again.
 */


#include "ngx_http_consent_redis_conn.h"
#include "ngx_http_consent_metrics.h"


ngx_http_consent_redis_t         *ngx_http_consent_redis_lookup;
ngx_http_consent_redis_t         *ngx_http_consent_redis_writer;
static ngx_http_consent_redis_t  *ngx_http_consent_redis_inval;


static void ngx_http_consent_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_consent_redis_write_handler(ngx_event_t *wev);
static void ngx_http_consent_redis_read_handler(ngx_event_t *rev);
static void ngx_http_consent_redis_dispatch(ngx_http_consent_redis_t *rd,
    redisReply *reply);
static ngx_uint_t ngx_http_consent_redis_readonly(redisReply *reply);
static void ngx_http_consent_redis_drop(ngx_http_consent_redis_t *rd);
static void ngx_http_consent_redis_close(ngx_http_consent_redis_t *rd);
static void ngx_http_consent_redis_update_timer(ngx_http_consent_redis_t *rd,
    ngx_uint_t progress);


/* process life: a worker's connections, told of to events */

ngx_int_t
ngx_http_consent_redis_start(ngx_cycle_t *cycle,
    ngx_http_consent_redis_conf_t *conf, ngx_uint_t subscribe,
    ngx_http_consent_redis_events_t *events)
{
    ngx_addr_t                *primary, *read;
    ngx_http_consent_redis_t  *rd;

    primary = conf->sentinels ? ngx_http_consent_sentinel_primary()
                              : conf->addr;
    read = conf->read ? conf->read : primary;

    rd = ngx_http_consent_redis_create(cycle, conf, events,
                                       NGX_HTTP_CONSENT_REDIS_LOOKUP, read);
    if (rd == NULL) {
        return NGX_ERROR;
    }

    ngx_http_consent_redis_lookup = rd;

    if (conf->read || conf->write_replicas) {
        rd = ngx_http_consent_redis_create(cycle, conf, events,
                                           NGX_HTTP_CONSENT_REDIS_WRITE,
                                           primary);
        if (rd == NULL) {
            return NGX_ERROR;
        }

        ngx_http_consent_redis_writer = rd;
    }

    if (subscribe) {
        rd = ngx_http_consent_redis_create(cycle, conf, events,
                                           NGX_HTTP_CONSENT_REDIS_SUBSCRIBER,
                                           read);
        if (rd == NULL) {
            return NGX_ERROR;
        }

        ngx_http_consent_redis_inval = rd;
        ngx_http_consent_redis_connect(rd);
    }

    if (conf->sentinels
        && ngx_http_consent_sentinel_start(cycle, conf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_consent_redis_connect(ngx_http_consent_redis_lookup);

    if (ngx_http_consent_redis_writer) {
        ngx_http_consent_redis_connect(ngx_http_consent_redis_writer);
    }

    return NGX_OK;
}


void
ngx_http_consent_redis_stop(ngx_cycle_t *cycle)
{
    ngx_http_consent_sentinel_stop();

    if (ngx_http_consent_redis_lookup) {
        ngx_http_consent_redis_free(ngx_http_consent_redis_lookup);
        ngx_http_consent_redis_lookup = NULL;
    }

    if (ngx_http_consent_redis_writer) {
        ngx_http_consent_redis_free(ngx_http_consent_redis_writer);
        ngx_http_consent_redis_writer = NULL;
    }

    if (ngx_http_consent_redis_inval) {
        ngx_http_consent_redis_free(ngx_http_consent_redis_inval);
        ngx_http_consent_redis_inval = NULL;
    }
}


/* what the connection holds from the heap goes before the cycle pool */

void
ngx_http_consent_redis_free(ngx_http_consent_redis_t *rd)
{
    ngx_http_consent_redis_close(rd);
    ngx_http_consent_redis_free_queue(rd);
}


ngx_http_consent_redis_t *
ngx_http_consent_redis_create(ngx_cycle_t *cycle,
    ngx_http_consent_redis_conf_t *conf,
    ngx_http_consent_redis_events_t *events, ngx_uint_t kind,
    ngx_addr_t *addr)
{
    ngx_uint_t                 subscriber;
    ngx_http_consent_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_consent_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    subscriber = (kind == NGX_HTTP_CONSENT_REDIS_SUBSCRIBER
                  || kind == NGX_HTTP_CONSENT_REDIS_SENTINEL);

    rd->conf = conf;
    rd->events = events;
    rd->log = cycle->log;
    rd->kind = kind;
    rd->addr = addr;
    rd->subscriber = subscriber;
    rd->primary = (kind != NGX_HTTP_CONSENT_REDIS_SENTINEL
                   && (kind == NGX_HTTP_CONSENT_REDIS_WRITE
                       || conf->read == NULL));
    rd->backoff = NGX_HTTP_CONSENT_REDIS_BACKOFF_MIN;

    if (kind == NGX_HTTP_CONSENT_REDIS_SENTINEL) {
        rd->user = &conf->sentinel_user;
        rd->password = &conf->sentinel_password;

    } else {
        rd->user = &conf->user;
        rd->password = &conf->password;
    }

    /* WAIT holds the write connection's pipeline up to write_wait */
    rd->timeout = conf->timeout;

    if (kind == NGX_HTTP_CONSENT_REDIS_WRITE && conf->write_replicas) {
        rd->timeout += conf->write_wait;
    }

    /* a Sentinel may be far away, and nothing waits for it */
    if (kind == NGX_HTTP_CONSENT_REDIS_SENTINEL) {
        rd->timeout = ngx_max(rd->timeout,
                              NGX_HTTP_CONSENT_SENTINEL_TIMEOUT_MIN);
    }

    ngx_queue_init(&rd->sent);
    ngx_queue_init(&rd->free);
    ngx_queue_init(&rd->waiting);

    rd->reconnect.handler = ngx_http_consent_redis_reconnect_handler;
    rd->reconnect.data = rd;
    rd->reconnect.log = cycle->log;
    /* a pending reconnect must not hold up a graceful shutdown */
    rd->reconnect.cancelable = 1;

    if (subscriber) {
        rd->ping.handler = ngx_http_consent_redis_ping_handler;
        rd->ping.data = rd;
        rd->ping.log = cycle->log;
        rd->ping.cancelable = 1;

        if (kind == NGX_HTTP_CONSENT_REDIS_SENTINEL) {
            ngx_str_set(&rd->channel, "+switch-master");

        } else {
            rd->channel = rd->conf->inval;
        }
    }

    return rd;
}


/* connection */

void
ngx_http_consent_redis_connect(ngx_http_consent_redis_t *rd)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (rd->addr->socklen == 0) {
        /*
         * No Sentinel has named the primary yet (a round trip after the
         * worker starts): it connects this then, and until then the
         * circuit is open.
         */
        if (!rd->down && rd->kind == NGX_HTTP_CONSENT_REDIS_LOOKUP) {
            ngx_http_consent_metrics_circuit(1);
        }

        rd->down = 1;
        return;
    }

    ngx_memzero(&rd->peer, sizeof(ngx_peer_connection_t));

    rd->peer.sockaddr = rd->addr->sockaddr;
    rd->peer.socklen = rd->addr->socklen;
    rd->peer.name = &rd->addr->name;
    rd->peer.get = ngx_event_get_peer;
    rd->peer.log = rd->log;
    rd->peer.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&rd->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (rd->peer.connection) {
            ngx_close_connection(rd->peer.connection);
            rd->peer.connection = NULL;
        }

        ngx_http_consent_redis_fail(rd, "connect failed");
        return;
    }

    c = rd->peer.connection;
    c->data = rd;
    c->log = rd->log;
    c->read->log = rd->log;
    c->write->log = rd->log;
    c->read->handler = ngx_http_consent_redis_read_handler;
    c->write->handler = ngx_http_consent_redis_write_handler;

    rd->c = c;
    rd->connected = 0;
    rd->ready = 0;

    rd->reader = redisReaderCreate();
    if (rd->reader == NULL) {
        ngx_http_consent_redis_fail(rd, "out of memory");
        return;
    }

    if (ngx_http_consent_redis_handshake(rd) != NGX_OK) {
        return;
    }

    if (rc == NGX_OK) {
        /* a unix socket connects at once */
        ngx_http_consent_redis_write_handler(c->write);
        return;
    }

    ngx_add_timer(c->write, rd->kind == NGX_HTTP_CONSENT_REDIS_SENTINEL
                            ? ngx_max(rd->conf->connect_timeout,
                                      NGX_HTTP_CONSENT_SENTINEL_TIMEOUT_MIN)
                            : rd->conf->connect_timeout);
}


static void
ngx_http_consent_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_consent_redis_t  *rd = ev->data;

    if (rd->c == NULL) {
        ngx_http_consent_redis_connect(rd);
    }
}


static void
ngx_http_consent_redis_write_handler(ngx_event_t *wev)
{
    int                        err;
    socklen_t                  len;
    ngx_connection_t          *c;
    ngx_http_consent_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (wev->timedout) {
        ngx_http_consent_redis_fail(rd, rd->connected ? "write timed out"
                                                      : "connect timed out");
        return;
    }

    if (!rd->connected) {
        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len)
            == -1)
        {
            err = ngx_socket_errno;
        }

        if (err) {
            ngx_log_error(NGX_LOG_INFO, rd->log, err,
                          "consent redis connect() to %V failed",
                          &rd->addr->name);
            ngx_http_consent_redis_fail(rd, "connect failed");
            return;
        }

        rd->connected = 1;

        if (wev->timer_set) {
            ngx_del_timer(wev);
        }
    }

    if (ngx_http_consent_redis_flush(rd) != NGX_OK) {
        ngx_http_consent_redis_fail(rd, "write failed");
    }
}


ngx_int_t
ngx_http_consent_redis_flush(ngx_http_consent_redis_t *rd)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = rd->c;

    if (rd->unwaited && !rd->wait_out
        && ngx_http_consent_redis_queue_wait(rd) != NGX_OK)
    {
        return NGX_ERROR;
    }

    while (rd->out_pos < rd->out_len) {
        n = c->send(c, rd->out + rd->out_pos, rd->out_len - rd->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        rd->out_pos += n;
    }

    if (rd->out_pos == rd->out_len) {
        rd->out_pos = 0;
        rd->out_len = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_consent_redis_update_timer(rd, 0);

    return NGX_OK;
}


static void
ngx_http_consent_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                    n;
    redisReply                *reply;
    ngx_connection_t          *c;
    ngx_http_consent_redis_t  *rd;
    ngx_uint_t                 progress;
    u_char                     buf[16384];

    c = rev->data;
    rd = c->data;
    progress = 0;

    if (rev->timedout) {
        /*
         * A subscriber that stopped answering may have been deaf since
         * long before its PING: what it missed is unknown, and the
         * reconnect may take seconds.
         */
        if (rd->kind == NGX_HTTP_CONSENT_REDIS_SUBSCRIBER && rd->ready) {
            rd->stalled = 1;
            ngx_http_consent_redis_fail(rd, "no reply within the timeout, "
                                            "the cache is flushed at once");
            return;
        }

        ngx_http_consent_redis_fail(rd, "timed out waiting for a reply");
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_consent_redis_fail(rd, "connection closed");
            return;
        }

        if (redisReaderFeed(rd->reader, (const char *) buf, n) != REDIS_OK) {
            ngx_http_consent_redis_fail(rd, "out of memory");
            return;
        }

        /* an endless bulk string must not eat the worker's memory */
        if (rd->reader->len - rd->reader->pos
            > NGX_HTTP_CONSENT_REDIS_REPLY_MAX)
        {
            ngx_http_consent_redis_fail(rd, "reply too large");
            return;
        }

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(rd->reader, (void **) &reply)
                != REDIS_OK)
            {
                ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                              "consent redis %V: protocol error: %s",
                              &rd->addr->name, rd->reader->errstr);
                ngx_http_consent_redis_fail(rd, "protocol error");
                return;
            }

            if (reply == NULL) {
                break;
            }

            progress = 1;
            ngx_http_consent_redis_dispatch(rd, reply);

            if (rd->kept) {
                rd->kept = 0;

            } else {
                freeReplyObject(reply);
            }

            if (rd->c != c) {
                /* the reply closed the connection */
                return;
            }
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_consent_redis_fail(rd, "read event failed");
        return;
    }

    ngx_http_consent_redis_update_timer(rd, progress);
}


/*
 * A stalled pipeline: no reply within the timeout since the last reply (or
 * since the first command, when none was waiting).  New commands do not
 * push the deadline, so a Redis that stopped answering trips the breaker
 * under any load.
 */

static void
ngx_http_consent_redis_update_timer(ngx_http_consent_redis_t *rd,
    ngx_uint_t progress)
{
    ngx_event_t  *rev;

    if (rd->c == NULL || !rd->connected) {
        return;
    }

    rev = rd->c->read;

    if (ngx_queue_empty(&rd->sent)) {
        if (rev->timer_set) {
            ngx_del_timer(rev);
        }

        return;
    }

    /*
     * ngx_add_timer() keeps a set timer that would move by less than
     * NGX_TIMER_LAZY_DELAY (300 ms), far more than a Redis timeout: to push
     * the deadline it must be deleted first.
     */
    if (progress && rev->timer_set) {
        ngx_del_timer(rev);
    }

    if (!rev->timer_set) {
        ngx_add_timer(rev, rd->timeout);
    }
}


static void
ngx_http_consent_redis_dispatch(ngx_http_consent_redis_t *rd,
    redisReply *reply)
{
    ngx_queue_t                   *q;
    ngx_http_consent_redis_cmd_t  *cmd;

    /* a message may come before the reply to a PING, never in place of it */
    if (rd->subscriber && rd->ready
        && (ngx_queue_empty(&rd->sent)
            || ngx_http_consent_redis_is_message(reply)))
    {
        ngx_http_consent_redis_message(rd, reply);
        return;
    }

    if (ngx_queue_empty(&rd->sent)) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis %V: unexpected reply", &rd->addr->name);
        ngx_http_consent_redis_fail(rd, "protocol error");
        return;
    }

    q = ngx_queue_head(&rd->sent);
    ngx_queue_remove(q);
    cmd = ngx_queue_data(q, ngx_http_consent_redis_cmd_t, queue);

    ngx_queue_insert_head(&rd->free, q);

    if (cmd->internal) {
        cmd->internal(rd, reply);

    } else if (cmd->wait) {
        ngx_http_consent_redis_exec_reply(rd, cmd, reply);

    } else if (cmd->data) {
        cmd->handler(cmd->data, reply);
    }

    /*
     * A primary turned replica refuses writes; a failover demoted it.
     * Whoever waited heard the refusal; the connection goes to the new
     * primary, asking the Sentinels where that is.  (A fixed address
     * stays where it is: only the write is refused, as it always was.)
     */
    if (!rd->primary || rd->c == NULL
        || !ngx_http_consent_redis_readonly(reply))
    {
        return;
    }

    if (rd->conf->sentinels) {
        ngx_http_consent_redis_fail(rd, "the primary is a replica now "
                                        "(READONLY)");
        return;
    }

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "consent redis %V: READONLY: a replica, writes are "
                  "refused (consent_redis names the primary, or Sentinel)",
                  &rd->addr->name);
}


static ngx_uint_t
ngx_http_consent_redis_readonly(redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR && reply->len >= 8
           && ngx_strncmp(reply->str, "READONLY", 8) == 0;
}


void
ngx_http_consent_redis_fail(ngx_http_consent_redis_t *rd, const char *reason)
{
    if (!rd->down) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis %V: %s%s%s, %s", &rd->addr->name,
                      rd->kind == NGX_HTTP_CONSENT_REDIS_LOOKUP
                      ? "" : ngx_http_consent_redis_kind_name[rd->kind],
                      rd->kind == NGX_HTTP_CONSENT_REDIS_LOOKUP ? "" : ": ",
                      reason,
                      rd->kind == NGX_HTTP_CONSENT_REDIS_SUBSCRIBER
                      ? "nothing is cached until it listens again, then the "
                        "cache is flushed"
                      : rd->kind == NGX_HTTP_CONSENT_REDIS_LOOKUP
                      ? "lookups fail fast until it answers again"
                      : rd->kind == NGX_HTTP_CONSENT_REDIS_WRITE
                      ? "writes answer 503 until it answers again"
                      : "asking the next");

    } else {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "consent redis %V: probe: %s", &rd->addr->name, reason);
    }

    /* open the circuit before anyone hears of the failure */
    rd->down = 1;

    if (rd->kind == NGX_HTTP_CONSENT_REDIS_LOOKUP) {
        ngx_http_consent_metrics_circuit(1);
    }

    ngx_http_consent_redis_drop(rd);
    ngx_http_consent_redis_close(rd);

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    /* the next Sentinel at once, the backoff once every one failed */
    if (rd->kind == NGX_HTTP_CONSENT_REDIS_SENTINEL
        && !ngx_http_consent_sentinel_next(rd))
    {
        ngx_add_timer(&rd->reconnect, 1);
        return;
    }

    ngx_add_timer(&rd->reconnect, rd->backoff);

    rd->backoff *= 2;
    if (rd->backoff > NGX_HTTP_CONSENT_REDIS_BACKOFF_MAX) {
        rd->backoff = NGX_HTTP_CONSENT_REDIS_BACKOFF_MAX;
    }

    /* the primary may have moved: the Sentinels know where */
    if (rd->primary && rd->conf->sentinels) {
        ngx_http_consent_sentinel_ask();
    }
}


/*
 * Not a failure: the connection is to go elsewhere (the primary moved,
 * a Sentinel is to be asked again).  The circuit stays as it was.
 */

void
ngx_http_consent_redis_restart(ngx_http_consent_redis_t *rd,
    const char *reason, ngx_msec_t delay)
{
    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "consent redis %V: %s %s", &rd->addr->name,
                  ngx_http_consent_redis_kind_name[rd->kind], reason);

    ngx_http_consent_redis_drop(rd);
    ngx_http_consent_redis_close(rd);

    rd->backoff = NGX_HTTP_CONSENT_REDIS_BACKOFF_MIN;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (delay) {
        ngx_add_timer(&rd->reconnect, delay);
        return;
    }

    ngx_http_consent_redis_connect(rd);
}


/* everyone waiting hears the connection is gone; a subscriber is deaf */

static void
ngx_http_consent_redis_drop(ngx_http_consent_redis_t *rd)
{
    ngx_queue_t                   *q;
    ngx_http_consent_redis_cmd_t  *cmd;

    if (rd->kind == NGX_HTTP_CONSENT_REDIS_SUBSCRIBER && rd->ready) {
        rd->events->deaf(rd->events->data, rd->stalled);
    }

    rd->ready = 0;
    rd->stalled = 0;

    while (!ngx_queue_empty(&rd->sent)) {
        q = ngx_queue_head(&rd->sent);
        ngx_queue_remove(q);
        ngx_queue_insert_head(&rd->free, q);

        cmd = ngx_queue_data(q, ngx_http_consent_redis_cmd_t, queue);

        if (cmd->data && cmd->handler) {
            cmd->handler(cmd->data, NULL);
        }
    }

    ngx_http_consent_redis_drop_waiting(rd);
}


/* every connection to the primary goes to where it is now */

void
ngx_http_consent_redis_primary_moved(void)
{
    ngx_uint_t                 i;
    ngx_http_consent_redis_t  *rd[3];

    rd[0] = ngx_http_consent_redis_lookup;
    rd[1] = ngx_http_consent_redis_writer;
    rd[2] = ngx_http_consent_redis_inval;

    for (i = 0; i < 3; i++) {
        if (rd[i] && rd[i]->primary) {
            ngx_http_consent_redis_restart(rd[i], "to the primary now", 0);
        }
    }
}


static void
ngx_http_consent_redis_close(ngx_http_consent_redis_t *rd)
{
    if (rd->c) {
        ngx_close_connection(rd->c);
        rd->c = NULL;
    }

    if (rd->reader) {
        redisReaderFree(rd->reader);
        rd->reader = NULL;
    }

    rd->connected = 0;
    rd->out_pos = 0;
    rd->out_len = 0;
    rd->unwaited = 0;
    rd->wait_out = 0;

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    if (rd->ping.timer_set) {
        ngx_del_timer(&rd->ping);
    }
}
