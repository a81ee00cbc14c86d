/*
 * Copyright (C) ngx_consent_module authors
 *
 * The decision: which purposes this visitor granted, and where that came
 * from.  First that applies: the subject's record (shared cache, then
 * Redis, suspending only this request), the signed consent cookie, the
 * regime default of the visitor's region; then Sec-GPC on top.  A
 * decision given under a policy version below the re-consent floor
 * counts as none: the visitor is asked again.
 */


#include "ngx_http_consent_module.h"

#include <hiredis/hiredis.h>


static ngx_int_t ngx_http_consent_subject(ngx_http_request_t *r,
    ngx_http_consent_loc_conf_t *lcf, ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_lookup(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_redis_reply(void *data, void *reply);
static void ngx_http_consent_lookup_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_consent_parse_record(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_str_t *subject,
    redisReply *reply, ngx_http_consent_state_t *st);
static void ngx_http_consent_apply_fail(ngx_http_consent_main_conf_t *cmcf,
    ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_apply_record(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx,
    ngx_http_consent_state_t *st, ngx_uint_t source);
static void ngx_http_consent_finish(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_resume(ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_decide_cookie(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_verify_cookies(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx,
    ngx_table_elt_t *h);
static ngx_uint_t ngx_http_consent_gpc(ngx_http_request_t *r);


/*
 * may_wait: the access phase may suspend the request on Redis (NGX_AGAIN);
 * a variable read earlier may not, and gets a provisional answer that the
 * access phase then replaces.
 */

ngx_int_t
ngx_http_consent_decide(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_uint_t may_wait)
{
    int                            regime;
    ngx_int_t                      rc;
    ngx_str_t                      region;
    ngx_http_consent_state_t       st;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    if (ctx->decided) {
        return NGX_OK;
    }

    if (ctx->waiting) {
        return NGX_AGAIN;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    /* region and its regime */

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
    ctx->purposes = cmcf->regime_purposes[ctx->regime];
    ctx->source = NGX_HTTP_CONSENT_SRC_DEFAULT;
    ctx->has_cookie = 0;
    ctx->recorded = 0;
    ctx->stale = 0;
    ctx->operator_subject = 0;
    ngx_str_null(&ctx->subject);

    if (ngx_http_consent_subject(r, lcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the signed cookie's copy of the decision beats the default */

    ngx_http_consent_decide_cookie(r, cmcf, ctx);

    ctx->gpc = ngx_http_consent_gpc(r);

    /* the authoritative record: shared cache, then Redis */

    if (cmcf->redis && ctx->subject.len) {

        if (cmcf->zone
            && ngx_http_consent_cache_get(cmcf->zone->data, &ctx->subject,
                                          &st)
               == NGX_OK)
        {
            if (st.found) {
                ngx_http_consent_apply_record(r, cmcf, ctx, &st,
                                              NGX_HTTP_CONSENT_SRC_CACHE);
            }

        } else if (may_wait == NGX_HTTP_CONSENT_DECIDE_WAIT) {
            rc = ngx_http_consent_lookup(r, cmcf, ctx);

            if (rc == NGX_AGAIN || rc == NGX_ERROR) {
                return rc;
            }

            /* Redis known down: no waiting, the fail policy decides */
            ngx_http_consent_apply_fail(cmcf, ctx);

        } else if (may_wait == NGX_HTTP_CONSENT_DECIDE_NOW) {
            /* no time to ask: as if Redis could not answer */
            ngx_http_consent_apply_fail(cmcf, ctx);

        } else {
            /* provisional: the rewrite phase will ask Redis */
            return NGX_OK;
        }
    }

    ngx_http_consent_finish(r, ctx);

    return NGX_OK;
}


static void
ngx_http_consent_finish(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    ngx_http_consent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    /* whatever the source, GPC is an opt-out of sale, sharing and ads */
    if (ctx->gpc && lcf->gpc) {
        ctx->purposes &= ~(CONSENT_BIT(CONSENT_P_ADVERTISING)
                           | CONSENT_BIT(CONSENT_P_SHARING));
    }

    ctx->purposes |= CONSENT_BIT(CONSENT_P_NECESSARY);
    ctx->decided = 1;
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

    ctx->request = r;
    ctx->waiting = 1;

    ctx->timeout.handler = ngx_http_consent_lookup_timeout;
    ctx->timeout.data = ctx;
    ctx->timeout.log = r->connection->log;

    ngx_add_timer(&ctx->timeout, cmcf->redis->timeout);

    return NGX_AGAIN;
}


static void
ngx_http_consent_redis_reply(void *data, void *reply)
{
    ngx_http_consent_ctx_t *ctx = data;

    ngx_http_request_t            *r;
    ngx_http_consent_state_t       st;
    ngx_http_consent_main_conf_t  *cmcf;

    r = ctx->request;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    ctx->redis_cmd = NULL;

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    if (reply == NULL
        || ngx_http_consent_parse_record(r, cmcf, &ctx->subject, reply, &st)
           != NGX_OK)
    {
        ngx_http_consent_apply_fail(cmcf, ctx);

    } else {
        if (cmcf->zone) {
            ngx_http_consent_cache_put(cmcf->zone->data, &ctx->subject, &st,
                                       ngx_http_consent_redis_epoch());
        }

        if (st.found) {
            ngx_http_consent_apply_record(r, cmcf, ctx, &st,
                                          NGX_HTTP_CONSENT_SRC_REDIS);
        }
    }

    ngx_http_consent_finish(r, ctx);
    ngx_http_consent_resume(ctx);
}


static void
ngx_http_consent_lookup_timeout(ngx_event_t *ev)
{
    ngx_http_consent_ctx_t *ctx = ev->data;

    ngx_http_request_t            *r;
    ngx_http_consent_main_conf_t  *cmcf;

    r = ctx->request;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "consent redis lookup timed out after %M ms",
                  cmcf->redis->timeout);

    if (ctx->redis_cmd) {
        ngx_http_consent_redis_cancel(ctx->redis_cmd);
        ctx->redis_cmd = NULL;
    }

    ngx_http_consent_apply_fail(cmcf, ctx);
    ngx_http_consent_finish(r, ctx);
    ngx_http_consent_resume(ctx);
}


/*
 * Resumed through a posted event rather than from inside the Redis read
 * loop, so that no request ever runs nested in another one's callback.
 */

static void
ngx_http_consent_resume(ngx_http_consent_ctx_t *ctx)
{
    ngx_http_request_t  *r;

    r = ctx->request;
    ctx->waiting = 0;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_post_event(r->connection->write, &ngx_posted_events);
}


/*
 * The subject's record decides, unless it was given under a policy
 * version below the floor: then it is no decision, and neither is the
 * cookie issued with it.
 */

static void
ngx_http_consent_apply_record(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx,
    ngx_http_consent_state_t *st, ngx_uint_t source)
{
    ngx_http_consent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    ctx->policy_version = st->policy_version;
    ctx->issued_at = st->updated;

    if (st->policy_version < lcf->reconsent_below) {
        ctx->purposes = cmcf->regime_purposes[ctx->regime];
        ctx->source = NGX_HTTP_CONSENT_SRC_DEFAULT;
        ctx->recorded = 0;
        ctx->stale = 1;
        return;
    }

    ctx->purposes = st->purposes & consent_purposes_all(&cmcf->purposes);
    ctx->source = source;
    ctx->recorded = 1;
    ctx->stale = 0;
}


/*
 * closed: the signed cookie if there is one, else nothing optional;
 * open: the cookie, else the regime default.  Traffic flows either way.
 */

static void
ngx_http_consent_apply_fail(ngx_http_consent_main_conf_t *cmcf,
    ngx_http_consent_ctx_t *ctx)
{
    if (ctx->has_cookie) {
        ctx->purposes = ctx->cookie_purposes;
        ctx->source = NGX_HTTP_CONSENT_SRC_COOKIE;
        return;
    }

    ctx->source = NGX_HTTP_CONSENT_SRC_FAIL;
    ctx->recorded = 0;

    if (cmcf->redis_fail == NGX_HTTP_CONSENT_FAIL_CLOSED) {
        ctx->purposes = CONSENT_BIT(CONSENT_P_NECESSARY);

    } else {
        ctx->purposes = cmcf->regime_purposes[ctx->regime];
    }
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


static void
ngx_http_consent_decide_cookie(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx)
{
#if (nginx_version >= 1023000)
    ngx_table_elt_t   *h;
#else
    ngx_uint_t         i;
    ngx_table_elt_t  **h;
#endif

    if (cmcf->keys == NULL) {
        return;
    }

#if (nginx_version >= 1023000)

    for (h = r->headers_in.cookie; h; h = h->next) {
        if (ngx_http_consent_verify_cookies(r, cmcf, ctx, h) == NGX_OK) {
            return;
        }
    }

#else

    h = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        if (ngx_http_consent_verify_cookies(r, cmcf, ctx, h[i]) == NGX_OK) {
            return;
        }
    }

#endif
}


static ngx_int_t
ngx_http_consent_verify_cookies(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx,
    ngx_table_elt_t *h)
{
    int                           rc;
    consent_token_t               tok;
    consent_cookie_t              c;
    consent_cookie_iter_t         it;
    ngx_http_consent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

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

        ctx->policy_version = tok.policy_version;
        ctx->issued_at = (time_t) tok.issued_at;
        ctx->subject.data = (u_char *) tok.subject;
        ctx->subject.len = tok.subject_len;

        /* still this browser's id, but its choice is asked for again */
        if (tok.policy_version < lcf->reconsent_below) {
            ctx->stale = 1;
            return NGX_OK;
        }

        /* bits of purposes this configuration does not know are dropped */
        ctx->purposes = tok.purposes & consent_purposes_all(&cmcf->purposes);
        ctx->cookie_purposes = ctx->purposes;
        ctx->has_cookie = 1;
        ctx->recorded = 1;
        ctx->source = NGX_HTTP_CONSENT_SRC_COOKIE;

        return NGX_OK;
    }

    return NGX_DECLINED;
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
}
