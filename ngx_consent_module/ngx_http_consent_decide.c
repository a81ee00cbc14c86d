/*
 * Copyright (C) ngx_consent_module authors
 *
 * Gathering what the decision needs (ngx_http_consent_decide() in the
 * pure core, consent_core/decide.c, makes it): the region and its regime,
 * the subject, the signed consent cookie, Sec-GPC, and the subject's
 * record from the shared cache or Redis.
 *
 * A Redis lookup suspends only the requests that need its answer (the
 * main request, or its subrequests: each one that arrives meanwhile
 * waits for the same answer) and resumes them from a posted event, so no
 * request ever runs nested in the Redis reader.  The record is asked for
 * once per request, and may be asked for ahead of the decision, in the
 * server's rewrite phase, so that a server-level "set" reads a final
 * answer.
 */


#include "ngx_http_consent_module.h"

#include <hiredis/hiredis.h>


static ngx_int_t ngx_http_consent_gather(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_subject(ngx_http_request_t *r,
    ngx_http_consent_loc_conf_t *lcf, ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_record(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_uint_t mode);
static ngx_int_t ngx_http_consent_lookup(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_wait(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_redis_reply(void *data, void *reply);
static void ngx_http_consent_lookup_timeout(ngx_event_t *ev);
static void ngx_http_consent_lookup_done(ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_resume_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_consent_parse_record(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_str_t *subject,
    redisReply *reply, ngx_http_consent_state_t *st);
static void ngx_http_consent_apply(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_token(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx);
static ngx_uint_t ngx_http_consent_gpc(ngx_http_request_t *r);


/*
 * mode: NGX_HTTP_CONSENT_DECIDE_WAIT may suspend the request on Redis
 * (NGX_AGAIN; it is resumed through its phases); _NOW decides at once,
 * a record not at hand counting as one Redis could not give; _PEEK (a
 * variable read before the rewrite phase) may leave the decision
 * provisional, to be made again.
 */

ngx_int_t
ngx_http_consent_decide(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_uint_t mode)
{
    ngx_int_t  rc;

    if (ctx->decided) {
        return NGX_OK;
    }

    if (ngx_http_consent_gather(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_consent_record(r, ctx, mode);

    if (rc == NGX_AGAIN || rc == NGX_ERROR) {
        return rc;
    }

    ngx_http_consent_apply(r, ctx);

    /* provisional: a record still to be asked for */
    if (rc == NGX_OK) {
        ctx->decided = 1;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "consent decided by %s: purposes 0x%xD, regime %s",
                       consent_source_name(ctx->source),
                       (uint32_t) ctx->purposes,
                       consent_regime_name(ctx->regime));
    }

    return NGX_OK;
}


/*
 * The server's rewrite phase: the record a decision there would need is
 * looked up ahead (the location may still decide with its own settings).
 */

ngx_int_t
ngx_http_consent_prefetch(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    if (ctx->decided) {
        return NGX_OK;
    }

    if (ngx_http_consent_gather(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_consent_record(r, ctx, NGX_HTTP_CONSENT_DECIDE_WAIT);
}


/* the inputs, as this request's configuration reads them */

static ngx_int_t
ngx_http_consent_gather(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    int                            regime;
    ngx_str_t                      region;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    ngx_str_null(&region);

    if (lcf->region) {
        if (ngx_http_complex_value(r, lcf->region, &region) != NGX_OK) {
            return NGX_ERROR;
        }

        while (region.len && (region.data[0] == ' ' || region.data[0] == '\t'))
        {
            region.data++;
            region.len--;
        }

        while (region.len && (region.data[region.len - 1] == ' '
                              || region.data[region.len - 1] == '\t'))
        {
            region.len--;
        }
    }

    ctx->region = region;

    regime = -1;

    if (region.len) {
        regime = consent_regions_lookup(&cmcf->regions, region.data,
                                        region.len);
    }

    ctx->regime = (regime < 0) ? cmcf->default_regime : (ngx_uint_t) regime;

    ctx->operator_subject = 0;
    ctx->has_token = 0;
    ngx_str_null(&ctx->subject);

    if (ngx_http_consent_subject(r, lcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_consent_token(r, cmcf, ctx);

    ctx->gpc = ngx_http_consent_gpc(r);

    return NGX_OK;
}


/*
 * The subject's record for the decision: NGX_OK when known (or not
 * needed), NGX_DECLINED when only a provisional decision can be made
 * (_PEEK), NGX_AGAIN when the request waits for Redis.
 */

static ngx_int_t
ngx_http_consent_record(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_uint_t mode)
{
    ngx_int_t                      rc;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    if (cmcf->redis == NULL || ctx->subject.len == 0) {
        ctx->record = CONSENT_RECORD_NONE;
        return NGX_OK;
    }

    /* asked already, for this very subject */
    if (ctx->record_asked
        && ctx->record_subject.len == ctx->subject.len
        && ngx_strncmp(ctx->record_subject.data, ctx->subject.data,
                       ctx->subject.len) == 0)
    {
        if (ctx->waiting) {
            return (mode == NGX_HTTP_CONSENT_DECIDE_WAIT)
                   ? ngx_http_consent_wait(r, ctx)
                   : (mode == NGX_HTTP_CONSENT_DECIDE_NOW)
                     ? NGX_OK : NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (ctx->waiting) {
        /* another subject's answer is on its way: no second lookup */
        if (mode == NGX_HTTP_CONSENT_DECIDE_WAIT) {
            return ngx_http_consent_wait(r, ctx);
        }

        ctx->record = CONSENT_RECORD_FAILED;
        return (mode == NGX_HTTP_CONSENT_DECIDE_NOW) ? NGX_OK : NGX_DECLINED;
    }

    ctx->record_subject = ctx->subject;
    ctx->record = CONSENT_RECORD_FAILED;

    if (cmcf->zone
        && ngx_http_consent_cache_get(cmcf->zone->data, &ctx->subject,
                                      &ctx->record_state)
           == NGX_OK)
    {
        ctx->record_asked = 1;
        ctx->record = ctx->record_state.found ? CONSENT_RECORD_FOUND
                                              : CONSENT_RECORD_ABSENT;
        ctx->record_source = CONSENT_SRC_CACHE;
        return NGX_OK;
    }

    if (mode == NGX_HTTP_CONSENT_DECIDE_PEEK) {
        /* the rewrite phase will ask Redis */
        return NGX_DECLINED;
    }

    ctx->record_asked = 1;

    if (mode == NGX_HTTP_CONSENT_DECIDE_NOW) {
        /* no time to ask: as if Redis could not answer */
        return NGX_OK;
    }

    rc = ngx_http_consent_lookup(r, cmcf, ctx);

    if (rc == NGX_DECLINED) {
        /* Redis known down: no waiting, the fail policy decides */
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_consent_wait(r, ctx);
}


static ngx_int_t
ngx_http_consent_lookup(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx)
{
    u_char      *key;
    size_t       argvlen[2];
    ngx_int_t    rc;
    const char  *argv[2];

    key = ngx_pnalloc(r->pool, cmcf->redis->prefix.len + 2 + ctx->subject.len);
    if (key == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "HGETALL";
    argvlen[0] = 7;
    argv[1] = (const char *) key;
    argvlen[1] = ngx_sprintf(key, "%Vs:%V", &cmcf->redis->prefix,
                             &ctx->subject)
                 - key;

    rc = ngx_http_consent_redis_command(2, argv, argvlen,
                                        ngx_http_consent_redis_reply, ctx,
                                        &ctx->redis_cmd);
    if (rc != NGX_OK) {
        ctx->redis_cmd = NULL;
        return NGX_DECLINED;
    }

    ctx->main = r->main;
    ctx->waiting = 1;

    ctx->timeout.handler = ngx_http_consent_lookup_timeout;
    ctx->timeout.data = ctx;
    ctx->timeout.log = r->connection->log;

    ngx_add_timer(&ctx->timeout, cmcf->redis->timeout);

    return NGX_OK;
}


/* r waits for the lookup's answer with whoever else does */

static ngx_int_t
ngx_http_consent_wait(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    ngx_uint_t            i;
    ngx_http_request_t  **w;

    if (ctx->waiters == NULL) {
        ctx->waiters = ngx_array_create(r->main->pool, 2,
                                        sizeof(ngx_http_request_t *));
        if (ctx->waiters == NULL) {
            return NGX_ERROR;
        }
    }

    w = ctx->waiters->elts;

    for (i = 0; i < ctx->waiters->nelts; i++) {
        if (w[i] == r) {
            return NGX_AGAIN;
        }
    }

    w = ngx_array_push(ctx->waiters);
    if (w == NULL) {
        return NGX_ERROR;
    }

    *w = r;

    return NGX_AGAIN;
}


static void
ngx_http_consent_redis_reply(void *data, void *reply)
{
    ngx_http_consent_ctx_t *ctx = data;

    ngx_http_request_t            *r;
    ngx_http_consent_main_conf_t  *cmcf;

    r = ctx->main;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    ctx->redis_cmd = NULL;

    if (reply == NULL
        || ngx_http_consent_parse_record(r, cmcf, &ctx->record_subject,
                                         reply, &ctx->record_state)
           != NGX_OK)
    {
        ctx->record = CONSENT_RECORD_FAILED;

    } else {
        /* only here is the epoch of the command at hand (see cache.c) */
        if (cmcf->zone) {
            ngx_http_consent_cache_put(cmcf->zone->data, &ctx->record_subject,
                                       &ctx->record_state,
                                       ngx_http_consent_redis_epoch());
        }

        ctx->record = ctx->record_state.found ? CONSENT_RECORD_FOUND
                                              : CONSENT_RECORD_ABSENT;
        ctx->record_source = CONSENT_SRC_REDIS;
    }

    ngx_http_consent_lookup_done(ctx);
}


static void
ngx_http_consent_lookup_timeout(ngx_event_t *ev)
{
    ngx_http_consent_ctx_t *ctx = ev->data;

    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(ctx->main, ngx_http_consent_module);

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "consent redis lookup timed out after %M ms",
                  cmcf->redis->timeout);

    if (ctx->redis_cmd) {
        ngx_http_consent_redis_cancel(ctx->redis_cmd);
        ctx->redis_cmd = NULL;
    }

    ctx->record = CONSENT_RECORD_FAILED;

    ngx_http_consent_lookup_done(ctx);
}


/*
 * The waiters are resumed from a posted event, outside the Redis reader
 * and the timer, through nginx's posted requests: a subrequest runs its
 * phases again as well as the main request, and a request finalized by
 * another one's run is never touched.
 */

static void
ngx_http_consent_lookup_done(ngx_http_consent_ctx_t *ctx)
{
    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    ctx->waiting = 0;

    ctx->resume.handler = ngx_http_consent_resume_handler;
    ctx->resume.data = ctx;
    ctx->resume.log = ctx->main->connection->log;

    ngx_post_event(&ctx->resume, &ngx_posted_events);
}


static void
ngx_http_consent_resume_handler(ngx_event_t *ev)
{
    ngx_http_consent_ctx_t *ctx = ev->data;

    ngx_uint_t            i;
    ngx_connection_t     *c;
    ngx_http_request_t  **w, *r;

    r = ctx->main;
    c = r->connection;
    w = ctx->waiters ? ctx->waiters->elts : NULL;

    for (i = 0; w && i < ctx->waiters->nelts; i++) {
        w[i]->write_event_handler = ngx_http_core_run_phases;

        if (ngx_http_post_request(w[i], NULL) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            break;
        }
    }

    if (ctx->waiters) {
        ctx->waiters->nelts = 0;
    }

    ngx_http_run_posted_requests(c);
}


/*
 * HGETALL: an empty array is "no record"; otherwise field p lists the
 * purposes by name, v the policy version, t the time.  Anything else is
 * garbage: logged, and the fail policy decides.
 */

static ngx_int_t
ngx_http_consent_parse_record(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_str_t *subject,
    redisReply *reply, ngx_http_consent_state_t *st)
{
    int            i;
    size_t         j;
    ngx_int_t      n;
    ngx_uint_t     have_p;
    redisReply    *k, *v;
    u_char        *p, *end, *name;

    ngx_memzero(st, sizeof(ngx_http_consent_state_t));
    st->purposes = CONSENT_BIT(CONSENT_P_NECESSARY);

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent redis error for subject \"%V\": %*s",
                      subject, (size_t) reply->len, reply->str);
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        goto garbage;
    }

    have_p = 0;

    for (j = 0; j < reply->elements; j += 2) {
        k = reply->element[j];
        v = reply->element[j + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            goto garbage;
        }

        if (k->len != 1) {
            continue;
        }

        switch (k->str[0]) {

        case 'p':
            have_p = 1;
            p = (u_char *) v->str;
            end = p + v->len;

            while (p < end) {
                while (p < end && (*p == ',' || *p == ' ')) {
                    p++;
                }

                name = p;

                while (p < end && *p != ',' && *p != ' ') {
                    p++;
                }

                if (p == name) {
                    break;
                }

                i = consent_purpose_find(&cmcf->purposes, name, p - name);

                if (i < 0) {
                    /* a purpose this configuration no longer knows */
                    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                                  "consent record: unknown purpose \"%*s\" "
                                  "ignored", (size_t) (p - name), name);
                    continue;
                }

                st->purposes |= CONSENT_BIT(i);
            }

            break;

        case 'v':
            n = ngx_atoi((u_char *) v->str, v->len);
            if (n == NGX_ERROR || n > 0xffffffff) {
                goto garbage;
            }

            st->policy_version = (uint32_t) n;
            break;

        case 't':
            n = ngx_atoi((u_char *) v->str, v->len);
            if (n == NGX_ERROR) {
                goto garbage;
            }

            st->updated = (time_t) n;
            break;
        }
    }

    if (reply->elements && !have_p) {
        goto garbage;
    }

    st->found = (reply->elements != 0);

    return NGX_OK;

garbage:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "consent redis: malformed record for subject \"%V\" "
                  "ignored", subject);

    return NGX_ERROR;
}




/*
 * The decision from what was gathered: consent_decide() in the core.
 * Before the record is known (a provisional answer) it stands for none.
 */

static void
ngx_http_consent_apply(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    consent_decide_in_t            in;
    consent_decision_t             out;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    ngx_memzero(&in, sizeof(consent_decide_in_t));

    in.all = consent_purposes_all(&cmcf->purposes);
    in.regime = cmcf->regime_purposes[ctx->regime];
    in.reconsent_below = (uint32_t) lcf->reconsent_below;
    in.fail_open = (cmcf->redis_fail == NGX_HTTP_CONSENT_FAIL_OPEN);
    in.gpc = ctx->gpc;
    in.honour_gpc = lcf->gpc ? 1 : 0;

    in.has_token = ctx->has_token;
    in.token_purposes = ctx->token_purposes;
    in.token_version = ctx->token_version;
    in.token_issued = ctx->token_issued;

    if (ctx->record_asked && !ctx->waiting
        && ctx->record_subject.len == ctx->subject.len
        && ngx_strncmp(ctx->record_subject.data, ctx->subject.data,
                       ctx->subject.len) == 0)
    {
        in.record = ctx->record;
        in.record_source = ctx->record_source;
        in.record_purposes = ctx->record_state.purposes;
        in.record_version = ctx->record_state.policy_version;
        in.record_updated = ctx->record_state.updated;

    } else {
        in.record = (cmcf->redis && ctx->subject.len && ctx->record_asked)
                    ? CONSENT_RECORD_FAILED : CONSENT_RECORD_NONE;
    }

    consent_decide(&in, &out);

    ctx->purposes = out.purposes;
    ctx->source = out.source;
    ctx->recorded = out.recorded;
    ctx->stale = out.stale;
    ctx->policy_version = out.policy_version;
    ctx->issued_at = (time_t) out.issued_at;
}


/*
 * An operator-given subject (a logged-in account) wins over the cookie's
 * id: it is the key looked up in Redis, and a consent cookie issued to
 * another subject does not decide for it.
 */

static ngx_int_t
ngx_http_consent_subject(ngx_http_request_t *r,
    ngx_http_consent_loc_conf_t *lcf, ngx_http_consent_ctx_t *ctx)
{
    ngx_str_t  subject;

    if (lcf->subject == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, lcf->subject, &subject) != NGX_OK) {
        return NGX_ERROR;
    }

    if (subject.len == 0) {
        return NGX_OK;
    }

    /* it becomes part of a Redis key: a plain charset and a bound */

    if (!consent_id_valid(subject.data, subject.len)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "consent subject ignored: not 1 to %d of "
                      "[A-Za-z0-9._:@-]", CONSENT_ID_MAX);
        return NGX_OK;
    }

    ctx->subject = subject;
    ctx->operator_subject = 1;

    return NGX_OK;
}


/* the first consent cookie that verifies, of this subject if one is set */

static void
ngx_http_consent_token(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx)
{
    int                               rc;
    ngx_table_elt_t                  *h;
    consent_token_t                   tok;
    consent_cookie_t                  c;
    consent_cookie_iter_t             it;
    ngx_http_consent_cookie_lines_t   lines;

    if (cmcf->keys == NULL) {
        return;
    }

    ngx_http_consent_cookie_lines_init(&lines, &r->headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {

        consent_cookie_iter_init(&it, h->value.data, h->value.len);

        while (consent_cookie_find(&it, cmcf->cookie_name.data,
                                   cmcf->cookie_name.len, &c))
        {
            rc = consent_token_verify(c.value, c.value_len, cmcf->keys,
                                      (int64_t) ngx_time(),
                                      (int64_t) cmcf->cookie_max_age, &tok);

            if (rc != CONSENT_TOKEN_OK) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "consent cookie rejected: %s",
                              consent_token_strerror(rc));
                continue;
            }

            /* another visitor's choice is not this subject's */
            if (ctx->operator_subject
                && (tok.subject_len != ctx->subject.len
                    || ngx_strncmp(tok.subject, ctx->subject.data,
                                   tok.subject_len) != 0))
            {
                ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "consent cookie of subject \"%*s\" ignored: "
                               "consent_subject differs",
                               tok.subject_len, tok.subject);
                continue;
            }

            if (!ctx->operator_subject) {
                ctx->subject.data = (u_char *) tok.subject;
                ctx->subject.len = tok.subject_len;
            }

            ctx->has_token = 1;
            ctx->token_purposes = tok.purposes;
            ctx->token_version = tok.policy_version;
            ctx->token_issued = tok.issued_at;

            return;
        }
    }
}


static ngx_uint_t
ngx_http_consent_gpc(ngx_http_request_t *r)
{
    u_char           *p, *end;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Sec-GPC") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Sec-GPC",
                               sizeof("Sec-GPC") - 1) != 0)
        {
            continue;
        }

        /* the spec's only value is "1"; optional whitespace around it */
        p = h[i].value.data;
        end = p + h[i].value.len;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if (end - p == 1 && *p == '1') {
            return 1;
        }
    }

    return 0;
}


void
ngx_http_consent_decide_cleanup(ngx_http_consent_ctx_t *ctx)
{
    if (ctx->redis_cmd) {
        ngx_http_consent_redis_cancel(ctx->redis_cmd);
        ctx->redis_cmd = NULL;
    }

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    if (ctx->resume.posted) {
        ngx_delete_posted_event(&ctx->resume);
    }
}
