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
#include "ngx_http_consent_cache.h"
#include "ngx_http_consent_decide.h"
#include "ngx_http_consent_iab.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_policy.h"
#include "ngx_http_consent_vendor_choice.h"

#include "hiredis_reply.h"
#include "id.h"
#include "record.h"
#include "token.h"

#include <hiredis/hiredis.h>


static ngx_int_t ngx_http_consent_gather(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_subject(ngx_http_request_t *r,
    ngx_http_consent_loc_conf_t *lcf, ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_ask_record(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_uint_t mode);
static ngx_int_t ngx_http_consent_lookup(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_lookup_reply(void *data, void *reply);
static ngx_int_t ngx_http_consent_parse_record(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_str_t *subject,
    redisReply *reply, ngx_http_consent_state_t *st);
static void ngx_http_consent_unknown_purpose(void *data,
    const unsigned char *name, size_t len);
static void ngx_http_consent_apply(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static void ngx_http_consent_apply_vendors(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, consent_decision_t *out);
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

    rc = ngx_http_consent_ask_record(r, ctx, mode);

    if (rc == NGX_AGAIN || rc == NGX_ERROR) {
        return rc;
    }

    ngx_http_consent_apply(r, ctx);

    /* provisional: a record still to be asked for */
    if (rc == NGX_OK) {
        ctx->decided = 1;

        ngx_http_consent_metrics_decision(ctx->source, ctx->regime);

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

    return ngx_http_consent_ask_record(r, ctx, NGX_HTTP_CONSENT_DECIDE_WAIT);
}


/*
 * After a write Redis confirmed: the decision the next request will
 * see, from the new record, the way any other record decides.
 */

void
ngx_http_consent_decide_recorded(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_state_t *st)
{
    ctx->record_subject = ctx->subject;
    ctx->record_state = *st;
    ctx->record = CONSENT_RECORD_FOUND;
    ctx->record_source = CONSENT_SRC_REDIS;
    ctx->record_asked = 1;

    ngx_http_consent_apply(r, ctx);
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
    ngx_str_null(&ctx->token_vendors);
    ngx_str_null(&ctx->subject);

    if (ngx_http_consent_subject(r, lcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_consent_token(r, cmcf, ctx);

    ctx->gpc = ngx_http_consent_gpc(r);

    if (lcf->iab && ngx_http_consent_iab_read(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The subject's record for the decision: NGX_OK when known (or not
 * needed), NGX_DECLINED when only a provisional decision can be made
 * (_PEEK), NGX_AGAIN when the request waits for Redis.
 */

static ngx_int_t
ngx_http_consent_ask_record(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
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
        if (ctx->lookup.pending) {
            return (mode == NGX_HTTP_CONSENT_DECIDE_WAIT)
                   ? ngx_http_consent_wait_for(&ctx->lookup, r)
                   : (mode == NGX_HTTP_CONSENT_DECIDE_NOW)
                     ? NGX_OK : NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (ctx->lookup.pending) {
        /* another subject's answer is on its way: no second lookup */
        if (mode == NGX_HTTP_CONSENT_DECIDE_WAIT) {
            return ngx_http_consent_wait_for(&ctx->lookup, r);
        }

        ctx->record = CONSENT_RECORD_FAILED;
        return (mode == NGX_HTTP_CONSENT_DECIDE_NOW) ? NGX_OK : NGX_DECLINED;
    }

    ctx->record_subject = ctx->subject;
    ctx->record = CONSENT_RECORD_FAILED;

    if (cmcf->zone
        && ngx_http_consent_cache_get(cmcf->zone->data, &ctx->subject,
                                      &ctx->record_state, r->pool)
           == NGX_OK)
    {
        ctx->record_asked = 1;
        ctx->record = ctx->record_state.found ? CONSENT_RECORD_FOUND
                                              : CONSENT_RECORD_ABSENT;
        ctx->record_source = CONSENT_SRC_CACHE;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "consent record of \"%V\" from the cache: %s",
                       &ctx->subject,
                       ctx->record_state.found ? "found" : "none");
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
        ngx_http_consent_metrics_lookup(NGX_HTTP_CONSENT_LOOKUP_DOWN);
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_consent_wait_for(&ctx->lookup, r);
}


static ngx_int_t
ngx_http_consent_lookup(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_http_consent_ctx_t *ctx)
{
    ngx_str_t        key;
    consent_span_t   span;
    size_t           argvlen[CONSENT_HGETALL_ARGS];
    const char      *argv[CONSENT_HGETALL_ARGS];

    if (ngx_http_consent_redis_subject_key(r->pool, cmcf->redis,
                                           &ctx->subject, &key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    span.data = key.data;
    span.len = key.len;

    (void) consent_record_get_argv(&span, argv, argvlen);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "consent record of \"%V\" asked of redis", &ctx->subject);

    ctx->lookup.handler = ngx_http_consent_lookup_reply;
    ctx->lookup.data = ctx;
    ctx->lookup.resume_handler = ngx_http_core_run_phases;

    /* NGX_DECLINED: Redis known down, nobody waits */
    return ngx_http_consent_wait_command(&ctx->lookup, r, 2, argv, argvlen);
}


static void
ngx_http_consent_lookup_reply(void *data, void *reply)
{
    ngx_http_consent_ctx_t *ctx = data;

    ngx_http_request_t            *r;
    ngx_http_consent_main_conf_t  *cmcf;

    r = ctx->lookup.main;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    if (reply == NULL
        || ngx_http_consent_parse_record(r, cmcf, &ctx->record_subject,
                                         reply, &ctx->record_state)
           != NGX_OK)
    {
        ngx_http_consent_metrics_lookup(ctx->lookup.timed_out
                                        ? NGX_HTTP_CONSENT_LOOKUP_TIMEOUT
                                        : NGX_HTTP_CONSENT_LOOKUP_ERROR);
        ctx->record = CONSENT_RECORD_FAILED;
        return;
    }

    ngx_http_consent_metrics_lookup(ctx->record_state.found
                                    ? NGX_HTTP_CONSENT_LOOKUP_HIT
                                    : NGX_HTTP_CONSENT_LOOKUP_MISS);

    if (cmcf->zone) {
        ngx_http_consent_cache_put(cmcf->zone->data, &ctx->record_subject,
                                   &ctx->record_state, ctx->lookup.epoch);
    }

    ctx->record = ctx->record_state.found ? CONSENT_RECORD_FOUND
                                          : CONSENT_RECORD_ABSENT;
    ctx->record_source = CONSENT_SRC_REDIS;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "consent record of \"%V\" from redis: %s",
                   &ctx->record_subject,
                   ctx->record_state.found ? "found" : "none");
}


/*
 * HGETALL: an empty array is "no record"; otherwise field p lists the
 * purposes by name, v the policy version, t the time (the layout and its
 * parse are consent_core/record.c's, shared with consentctl).  Anything
 * else is garbage: logged, and the fail policy decides.
 */

static ngx_int_t
ngx_http_consent_parse_record(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, ngx_str_t *subject,
    redisReply *reply, ngx_http_consent_state_t *st)
{
    ngx_int_t         rc;
    consent_record_t  rec;

    ngx_memzero(st, sizeof(ngx_http_consent_state_t));
    st->purposes = CONSENT_BIT(CONSENT_P_NECESSARY);

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent redis error for subject \"%V\": %*s",
                      subject, (size_t) reply->len, reply->str);
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_ARRAY
        || consent_record_parse(reply, reply->elements,
                                consent_hiredis_element,
                                &cmcf->purposes,
                                ngx_http_consent_unknown_purpose,
                                r->connection->log, &rec, NULL)
           != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent redis: malformed record for subject \"%V\" "
                      "ignored", subject);
        return NGX_ERROR;
    }

    st->purposes = rec.purposes;
    st->policy_version = rec.policy_version;
    st->updated = (time_t) rec.updated;
    st->found = rec.found;

    rc = ngx_http_consent_vendor_record(r, &rec.vr, &st->vendors);

    if (rc == NGX_DECLINED) {
        st->vendors_all = 1;
        return NGX_OK;
    }

    return rc;
}


/* a purpose this configuration no longer knows */

static void
ngx_http_consent_unknown_purpose(void *data, const unsigned char *name,
    size_t len)
{
    ngx_log_error(NGX_LOG_INFO, (ngx_log_t *) data, 0,
                  "consent record: unknown purpose \"%*s\" ignored", len,
                  name);
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
    ngx_http_consent_policy_t      policy;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    ngx_memzero(&in, sizeof(consent_decide_in_t));

    in.all = consent_purposes_all(&cmcf->purposes);
    in.regime = cmcf->regime_purposes[ctx->regime];
    ngx_http_consent_policy(lcf, ngx_time(), &policy);
    in.reconsent_below = (uint32_t) policy.reconsent_below;
    in.fail_open = (cmcf->redis_fail == NGX_HTTP_CONSENT_FAIL_OPEN);
    in.gpc = ctx->gpc;
    in.honour_gpc = lcf->gpc ? 1 : 0;

    in.has_token = ctx->has_token;
    in.token_purposes = ctx->token_purposes;
    in.token_version = ctx->token_version;
    in.token_issued = ctx->token_issued;

    if (ctx->record_asked && !ctx->lookup.pending
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

    ctx->iab_trust = CONSENT_IAB_NONE;

    if (lcf->iab && ctx->iab_read) {
        ctx->iab_trust = consent_iab_trust(&ctx->iab, lcf->iab, ngx_time());
        in.iab = (ctx->iab_trust == CONSENT_IAB_OK);
        in.iab_purposes = consent_iab_purposes(&cmcf->iab_map, &ctx->iab,
                                               in.regime);
        in.us_opt_out = ctx->iab.us_opt_out;
    }

    consent_decide(&in, &out);

    ngx_http_consent_apply_vendors(r, ctx, &out);

    ctx->purposes = out.purposes;
    ctx->source = out.source;
    ctx->recorded = out.recorded;
    ctx->stale = out.stale;
    ctx->policy_version = out.policy_version;
    ctx->issued_at = (time_t) out.issued_at;
}


/*
 * The vendors refused beyond the purposes, as the decision's source has
 * them: the TC string's, the record's, the cookie's.  Out of memory
 * refuses them all: the strict answer.
 */

static void
ngx_http_consent_apply_vendors(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, consent_decision_t *out)
{
    u_char                        *bits;
    ngx_int_t                      rc;
    ngx_http_consent_main_conf_t  *cmcf;

    bits = NULL;

    switch (out->source) {

    case CONSENT_SRC_IAB:
        ctx->vendors_refused = ctx->iab_refused;
        return;

    case CONSENT_SRC_REDIS:
    case CONSENT_SRC_CACHE:
        rc = ctx->record_state.vendors_all
             ? NGX_ERROR
             : ngx_http_consent_vendor_bits(r, ctx->record_state.vendors,
                                            NULL, &bits);
        break;

    case CONSENT_SRC_COOKIE:
        rc = ngx_http_consent_vendor_bits(r, NULL, &ctx->token_vendors,
                                          &bits);
        break;

    default:
        ctx->vendors_refused = NULL;
        return;
    }

    if (rc != NGX_OK) {
        cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
        bits = cmcf->vendors_all;
    }

    ctx->vendors_refused = bits;
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

            /* in the Cookie line, as the subject: stripping copies it */
            ctx->token_vendors.data = (u_char *) tok.vendors;
            ctx->token_vendors.len = tok.vendors_len;

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
    u_char                        *p, *end;
    ngx_table_elt_t               *h;
    ngx_http_consent_list_iter_t   it;

    ngx_http_consent_list_iter_init(&it, &r->headers_in.headers);

    while ((h = ngx_http_consent_list_iter_next(&it)) != NULL) {

        if (h->key.len != sizeof("Sec-GPC") - 1
            || ngx_strncasecmp(h->key.data, (u_char *) "Sec-GPC",
                               sizeof("Sec-GPC") - 1) != 0)
        {
            continue;
        }

        /* the spec's only value is "1"; optional whitespace around it */
        p = h->value.data;
        end = p + h->value.len;

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


