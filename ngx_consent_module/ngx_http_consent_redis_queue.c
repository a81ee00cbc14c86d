/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Redis client's command queue: commands formatted by hiredis into
 * one output buffer, each with a record in the connection's "sent" queue
 * that its reply is matched to in order.  Buffer and records are reused
 * for the worker's life (the heap, not a request pool).
 */


#include "ngx_http_consent_redis_conn.h"


static ngx_int_t ngx_http_consent_redis_reserve(ngx_http_consent_redis_t *rd,
    size_t n);
static ngx_http_consent_redis_cmd_t *ngx_http_consent_redis_cmd_get(
    ngx_http_consent_redis_t *rd);
static ngx_int_t ngx_http_consent_redis_queue(ngx_http_consent_redis_t *rd,
    int argc, const char **argv, const size_t *argvlen,
    ngx_http_consent_redis_cmd_t **cmdp);
static ngx_http_consent_redis_t *ngx_http_consent_redis_open(
    ngx_uint_t write);
static ngx_int_t ngx_http_consent_redis_submit(ngx_uint_t write, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_consent_redis_handler_pt handler, void *data, void **cmdp);
static void ngx_http_consent_redis_post(ngx_http_consent_redis_t *rd);
static void ngx_http_consent_redis_wait_reply(ngx_http_consent_redis_t *rd,
    redisReply *reply);


/* room for n more bytes of output: NGX_DECLINED past the bound */

static ngx_int_t
ngx_http_consent_redis_reserve(ngx_http_consent_redis_t *rd, size_t n)
{
    u_char  *p;
    size_t   need;

    if (rd->out_len + n <= rd->out_cap) {
        return NGX_OK;
    }

    if (rd->out_pos) {
        ngx_memmove(rd->out, rd->out + rd->out_pos, rd->out_len - rd->out_pos);
        rd->out_len -= rd->out_pos;
        rd->out_pos = 0;
    }

    if (rd->out_len + n <= rd->out_cap) {
        return NGX_OK;
    }

    need = ngx_max(rd->out_cap * 2, rd->out_len + n);
    need = ngx_max(need, 16384);

    if (need > NGX_HTTP_CONSENT_REDIS_OUT_MAX) {
        return NGX_DECLINED;
    }

    p = ngx_alloc(need, rd->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (rd->out) {
        ngx_memcpy(p, rd->out, rd->out_len);
        ngx_free(rd->out);
    }

    rd->out = p;
    rd->out_cap = need;

    return NGX_OK;
}


/*
 * A zeroed command record, not yet in any queue, stamped with the cache's
 * invalidation number: queued before Redis can run it, so a state read by
 * the command is no older than any invalidation the stamp counts.
 */

static ngx_http_consent_redis_cmd_t *
ngx_http_consent_redis_cmd_get(ngx_http_consent_redis_t *rd)
{
    ngx_queue_t                   *q;
    ngx_http_consent_redis_cmd_t  *cmd;

    if (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_consent_redis_cmd_t, queue);

    } else {
        cmd = ngx_alloc(sizeof(ngx_http_consent_redis_cmd_t), rd->log);
        if (cmd == NULL) {
            return NULL;
        }
    }

    ngx_memzero(cmd, sizeof(ngx_http_consent_redis_cmd_t));

    return cmd;
}


static ngx_int_t
ngx_http_consent_redis_queue(ngx_http_consent_redis_t *rd, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_consent_redis_cmd_t **cmdp)
{
    int                            n;
    char                          *s;
    ngx_int_t                      rc;
    ngx_http_consent_redis_cmd_t  *cmd;

    s = NULL;
    n = redisFormatCommandArgv(&s, argc, argv, argvlen);
    if (n < 0 || s == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_consent_redis_reserve(rd, n);
    if (rc != NGX_OK) {
        free(s);
        return rc;
    }

    cmd = ngx_http_consent_redis_cmd_get(rd);
    if (cmd == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(rd->out + rd->out_len, s, n);
    rd->out_len += n;
    free(s);

    ngx_queue_insert_tail(&rd->sent, &cmd->queue);

    *cmdp = cmd;

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_redis_internal(ngx_http_consent_redis_t *rd,
    ngx_http_consent_redis_internal_pt handler, int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_http_consent_redis_cmd_t  *cmd;

    if (ngx_http_consent_redis_queue(rd, argc, argv, argvlen, &cmd)
        != NGX_OK)
    {
        ngx_http_consent_redis_fail(rd, "cannot queue a command");
        return NGX_ERROR;
    }

    cmd->internal = handler;

    return NGX_OK;
}


/*
 * The lookup or the write connection, connecting if it is not; NULL when
 * there is none or the circuit is open: nobody waits on a Redis known to
 * be down.  Lookups go to the primary while their replica is down (and
 * nothing is cached then: its subscriber is deaf too).
 */

static ngx_http_consent_redis_t *
ngx_http_consent_redis_open(ngx_uint_t write)
{
    ngx_http_consent_redis_t  *rd;

    rd = ngx_http_consent_redis_lookup;

    /* not to a WAIT's connection: lookups would queue behind WAITs */
    if (ngx_http_consent_redis_writer
        && (write
            || (rd && rd->down && rd->conf->write_replicas == 0)))
    {
        rd = ngx_http_consent_redis_writer;
    }

    if (rd == NULL || rd->down) {
        return NULL;
    }

    if (rd->c == NULL) {
        ngx_http_consent_redis_connect(rd);

        if (rd->c == NULL) {
            return NULL;
        }
    }

    return rd;
}


/*
 * Written once the worker has handled the events at hand: every request
 * that arrived together shares one send(), and Redis answers them with
 * one reply packet.  Before the connection is up, its connect handler
 * writes what is queued.
 */

static void
ngx_http_consent_redis_post(ngx_http_consent_redis_t *rd)
{
    if (rd->connected && !rd->c->write->posted) {
        ngx_post_event(rd->c->write, &ngx_posted_events);
    }
}


ngx_int_t
ngx_http_consent_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_consent_redis_handler_pt handler,
    void *data, void **cmdp)
{
    return ngx_http_consent_redis_submit(0, argc, argv, argvlen, handler,
                                         data, cmdp);
}


ngx_int_t
ngx_http_consent_redis_write_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_consent_redis_handler_pt handler,
    void *data, void **cmdp)
{
    return ngx_http_consent_redis_submit(1, argc, argv, argvlen, handler,
                                         data, cmdp);
}


static ngx_int_t
ngx_http_consent_redis_submit(ngx_uint_t write, int argc, const char **argv,
    const size_t *argvlen, ngx_http_consent_redis_handler_pt handler,
    void *data, void **cmdp)
{
    ngx_int_t                      rc;
    ngx_http_consent_redis_t      *rd;
    ngx_http_consent_redis_cmd_t  *cmd;

    rd = ngx_http_consent_redis_open(write);
    if (rd == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_consent_redis_queue(rd, argc, argv, argvlen, &cmd);
    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    cmd->handler = handler;
    cmd->data = data;
    *cmdp = cmd;

    ngx_http_consent_redis_post(rd);

    return NGX_OK;
}


/*
 * MULTI, the commands, EXEC: queued whole or not at all, so that no other
 * request's command can ever land inside the transaction.  The handler
 * gets EXEC's reply (NULL if the connection failed first); with
 * consent_write_replicas, once the WAIT queued before the next send
 * counted the replicas, or WAIT's reply, see ngx_http_consent_redis.h.
 */

ngx_int_t
ngx_http_consent_redis_transaction(ngx_uint_t ncmds,
    ngx_http_consent_redis_argv_t *cmds,
    ngx_http_consent_redis_handler_pt handler, void *data, void **cmdp)
{
    int                            n[NGX_HTTP_CONSENT_REDIS_TX_MAX + 2];
    char                          *s[NGX_HTTP_CONSENT_REDIS_TX_MAX + 2];
    size_t                         total, multi_len, exec_len;
    ngx_int_t                      rc;
    ngx_uint_t                     i, k;
    const char                    *multi, *exec;
    ngx_http_consent_redis_t      *rd;
    ngx_http_consent_redis_cmd_t  *cmd[NGX_HTTP_CONSENT_REDIS_TX_MAX + 2];

    if (ncmds > NGX_HTTP_CONSENT_REDIS_TX_MAX) {
        return NGX_DECLINED;
    }

    rd = ngx_http_consent_redis_open(1);
    if (rd == NULL) {
        return NGX_DECLINED;
    }

    multi = "MULTI";
    multi_len = 5;
    exec = "EXEC";
    exec_len = 4;

    k = ncmds + 2;
    ngx_memzero(s, sizeof(s));
    ngx_memzero(cmd, sizeof(cmd));
    total = 0;
    rc = NGX_DECLINED;

    for (i = 0; i < k; i++) {
        if (i == 0) {
            n[i] = redisFormatCommandArgv(&s[i], 1, &multi, &multi_len);

        } else if (i == k - 1) {
            n[i] = redisFormatCommandArgv(&s[i], 1, &exec, &exec_len);

        } else {
            n[i] = redisFormatCommandArgv(&s[i], cmds[i - 1].argc,
                                          cmds[i - 1].argv,
                                          cmds[i - 1].argvlen);
        }

        if (n[i] < 0 || s[i] == NULL) {
            goto failed;
        }

        total += n[i];
    }

    if (ngx_http_consent_redis_reserve(rd, total) != NGX_OK) {
        goto failed;
    }

    for (i = 0; i < k; i++) {
        cmd[i] = ngx_http_consent_redis_cmd_get(rd);
        if (cmd[i] == NULL) {
            goto failed;
        }
    }

    /* nothing can fail from here on */

    for (i = 0; i < k; i++) {
        ngx_memcpy(rd->out + rd->out_len, s[i], n[i]);
        rd->out_len += n[i];
        free(s[i]);

        ngx_queue_insert_tail(&rd->sent, &cmd[i]->queue);
    }

    /* the replies to MULTI and to each QUEUED go nowhere: data is NULL */
    cmd[k - 1]->handler = handler;
    cmd[k - 1]->data = data;
    *cmdp = cmd[k - 1];

    if (rd->conf->write_replicas) {
        cmd[k - 1]->wait = 1;
        rd->unwaited++;
    }

    ngx_http_consent_redis_post(rd);

    return NGX_OK;

failed:

    for (i = 0; i < k; i++) {
        if (s[i]) {
            free(s[i]);
        }

        if (cmd[i]) {
            ngx_queue_insert_head(&rd->free, &cmd[i]->queue);
        }
    }

    return rc;
}


/*
 * WAIT N counts the replicas that have every write the connection made
 * before it: one WAIT, queued before a send, confirms every EXEC queued
 * since the last one, so writes arriving together wait for one round
 * trip to the replicas, not one each.  While a WAIT is out (Redis runs
 * nothing else of the connection until it answers), the EXECs sent
 * meanwhile wait for the next one, sent when it answers: a write waits
 * for two WAITs at most.
 */

ngx_int_t
ngx_http_consent_redis_queue_wait(ngx_http_consent_redis_t *rd)
{
    size_t       argvlen[3];
    const char  *argv[3];
    u_char       replicas[NGX_INT_T_LEN], msec[NGX_INT_T_LEN];

    argv[0] = "WAIT";
    argvlen[0] = 4;
    argv[1] = (const char *) replicas;
    argvlen[1] = ngx_sprintf(replicas, "%ui", rd->conf->write_replicas)
                 - replicas;
    argv[2] = (const char *) msec;
    argvlen[2] = ngx_sprintf(msec, "%M", rd->conf->write_wait) - msec;

    rd->unwaited = 0;
    rd->wait_out = 1;

    return ngx_http_consent_redis_internal(rd,
                                           ngx_http_consent_redis_wait_reply,
                                           3, argv, argvlen);
}


/*
 * EXEC's reply, when a WAIT is to confirm it: a transaction that did not
 * run (or a command of it that failed) is answered at once; one that ran
 * waits, its reply kept, for the WAIT after it.
 */

void
ngx_http_consent_redis_exec_reply(ngx_http_consent_redis_t *rd,
    ngx_http_consent_redis_cmd_t *cmd, redisReply *reply)
{
    void        *data;
    size_t       i;

    data = cmd->data;

    if (data == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply->elements; i++) {
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                break;
            }
        }

        if (i == reply->elements) {
            ngx_queue_remove(&cmd->queue);
            ngx_queue_insert_tail(&rd->waiting, &cmd->queue);

            cmd->exec = reply;
            rd->kept = 1;
            return;
        }
    }

    cmd->data = NULL;
    cmd->handler(data, reply);
}


/* WAIT's count: enough replicas have the writes, or the callers hear why */

static void
ngx_http_consent_redis_wait_reply(ngx_http_consent_redis_t *rd,
    redisReply *reply)
{
    void                          *data;
    redisReply                    *exec;
    ngx_queue_t                   *q;
    ngx_http_consent_redis_cmd_t  *cmd;

    rd->wait_out = 0;

    /* the EXECs sent while it was out: their WAIT goes now */
    if (rd->unwaited) {
        ngx_http_consent_redis_post(rd);
    }

    while (!ngx_queue_empty(&rd->waiting)) {
        q = ngx_queue_head(&rd->waiting);
        ngx_queue_remove(q);
        ngx_queue_insert_head(&rd->free, q);

        cmd = ngx_queue_data(q, ngx_http_consent_redis_cmd_t, queue);

        exec = cmd->exec;
        data = cmd->data;
        cmd->exec = NULL;
        cmd->data = NULL;

        if (data) {
            if (reply->type == REDIS_REPLY_INTEGER
                && reply->integer >= (long long) rd->conf->write_replicas)
            {
                cmd->handler(data, exec);

            } else {
                cmd->handler(data, reply);
            }
        }

        freeReplyObject(exec);
    }
}


void
ngx_http_consent_redis_drop_waiting(ngx_http_consent_redis_t *rd)
{
    void                          *data;
    ngx_queue_t                   *q;
    ngx_http_consent_redis_cmd_t  *cmd;

    while (!ngx_queue_empty(&rd->waiting)) {
        q = ngx_queue_head(&rd->waiting);
        ngx_queue_remove(q);
        ngx_queue_insert_head(&rd->free, q);

        cmd = ngx_queue_data(q, ngx_http_consent_redis_cmd_t, queue);

        freeReplyObject(cmd->exec);
        cmd->exec = NULL;

        data = cmd->data;
        cmd->data = NULL;

        if (data) {
            cmd->handler(data, NULL);
        }
    }
}


void
ngx_http_consent_redis_cancel(void *cmd)
{
    ((ngx_http_consent_redis_cmd_t *) cmd)->data = NULL;
}


/* No request is left to hear of a pending command at process exit. */

void
ngx_http_consent_redis_free_queue(ngx_http_consent_redis_t *rd)
{
    ngx_queue_t                   *q;
    ngx_http_consent_redis_cmd_t  *cmd;

    ngx_queue_add(&rd->free, &rd->sent);
    ngx_queue_init(&rd->sent);
    ngx_queue_add(&rd->free, &rd->waiting);
    ngx_queue_init(&rd->waiting);

    while (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_consent_redis_cmd_t, queue);

        if (cmd->exec) {
            freeReplyObject(cmd->exec);
        }

        ngx_free(cmd);
    }

    if (rd->out) {
        ngx_free(rd->out);
        rd->out = NULL;
        rd->out_cap = 0;
    }
}
