/*
 * Copyright (C) ngx_consent_module authors
 *
 * Waiting for Redis, for lookups and writes alike: one command (or one
 * MULTI/EXEC) in flight, bounded by the Redis timeout, and the requests
 * that need its answer suspended until it comes.  The answer is handed
 * to the owner's handler where it arrives; the waiting requests are
 * resumed afterwards from a posted event, through nginx's posted
 * requests, so no request ever runs nested in the Redis reader or a
 * timer, and a subrequest resumes as well as a main request.
 */


#ifndef _NGX_HTTP_CONSENT_WAIT_H_INCLUDED_
#define _NGX_HTTP_CONSENT_WAIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_consent_redis.h"


/* the answer: a redisReply, or NULL (Redis failed or timed out) */
typedef void (*ngx_http_consent_wait_pt)(void *data, void *reply);

typedef struct {
    ngx_http_request_t             *main;      /* whose connection resumes */
    void                           *cmd;       /* in flight, or NULL */
    ngx_event_t                     timer;
    ngx_event_t                     resume;
    ngx_array_t                    *waiters;   /* ngx_http_request_t * */

    ngx_http_consent_wait_pt        handler;
    void                           *data;
    /* what a waiting request runs once resumed */
    ngx_http_event_handler_pt       resume_handler;

    /* the shared cache's invalidation sequence when the command left */
    ngx_atomic_uint_t               epoch;
    ngx_msec_t                      sent;      /* for consent_metrics */
    ngx_msec_t                      timeout;

    unsigned                        pending:1;
    /* the answer is NULL because the timeout passed */
    unsigned                        timed_out:1;
} ngx_http_consent_wait_t;


/*
 * Queue one command, or MULTI, the commands and EXEC (the handler gets
 * EXEC's reply).  NGX_OK: pending; NGX_DECLINED: Redis known down, nothing
 * queued; NGX_ERROR.  w->handler, data and resume_handler are set first.
 */
ngx_int_t ngx_http_consent_wait_command(ngx_http_consent_wait_t *w,
    ngx_http_request_t *r, int argc, const char **argv,
    const size_t *argvlen);
ngx_int_t ngx_http_consent_wait_transaction(ngx_http_consent_wait_t *w,
    ngx_http_request_t *r, ngx_uint_t ncmds,
    ngx_http_consent_redis_argv_t *cmds);

/* r waits for w's answer: NGX_AGAIN, or NGX_ERROR */
ngx_int_t ngx_http_consent_wait_for(ngx_http_consent_wait_t *w,
    ngx_http_request_t *r);

/* the request pool goes: nothing may call back into it */
void ngx_http_consent_wait_cleanup(ngx_http_consent_wait_t *w);


#endif /* _NGX_HTTP_CONSENT_WAIT_H_INCLUDED_ */
