/*
 * Copyright (C) ngx_consent_module authors
 *
 * Recording a visitor's decision in Redis, for the consent API.
 *
 * A write is one MULTI/EXEC on the worker's Redis connection: the
 * subject's record (<prefix>s:<id>), a receipt on the <prefix>log stream
 * and the invalidation on <prefix>inval.  Only an EXEC that answered with
 * all three is a success; anything else (Redis down, read-only, slow past
 * its timeout) is not, and the API says so.  A timed-out EXEC may still
 * land in Redis later: the answer then claims nothing it cannot prove,
 * and the next request reads whatever Redis holds.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_cache.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_record.h"

#include "b64.h"
#include "id.h"
#include "record.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>


/* IAB strings kept in a receipt: at most this long, plain bytes only */
#define NGX_HTTP_CONSENT_IAB_MAX        2048

/* the four commands of a write, and what their arguments point into */
typedef struct {
    ngx_http_consent_redis_argv_t   cmds[4];
    const char                     *hset[CONSENT_HSET_ARGS];
    size_t                          hset_len[CONSENT_HSET_ARGS];
    const char                     *expire[CONSENT_EXPIRE_ARGS];
    size_t                          expire_len[CONSENT_EXPIRE_ARGS];
    unsigned char                   expire_scratch[CONSENT_EXPIRE_SCRATCH];
    const char                     *xadd[CONSENT_XADD_ARGS];
    size_t                          xadd_len[CONSENT_XADD_ARGS];
    const char                     *pub[CONSENT_PUBLISH_ARGS];
    size_t                          pub_len[CONSENT_PUBLISH_ARGS];
    unsigned char                   hset_scratch[CONSENT_HSET_SCRATCH];
    unsigned char                   xadd_scratch[CONSENT_XADD_SCRATCH];
    /* the receipt's address hash, hex */
    u_char                          ip[32];
    consent_write_t                 w;
} ngx_http_consent_write_t;


static ngx_int_t ngx_http_consent_record_subject(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec);
static ngx_int_t ngx_http_consent_record_commands(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec,
    ngx_http_consent_write_t *w);
static ngx_int_t ngx_http_consent_record_ip(ngx_http_request_t *r,
    u_char *out);
static void ngx_http_consent_record_iab(ngx_http_request_t *r,
    const char *name, size_t len, consent_span_t *value);
static void ngx_http_consent_record_reply(void *data, void *reply);
static void ngx_http_consent_record_cleanup(void *data);


ngx_int_t
ngx_http_consent_record_write(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec,
    ngx_http_event_handler_pt done)
{
    ngx_int_t                  rc;
    ngx_pool_cleanup_t        *cln;
    ngx_http_consent_write_t   w;

    rec->purposes |= CONSENT_BIT(CONSENT_P_NECESSARY);
    rec->now = ngx_time();
    rec->status = 0;

    if (ngx_http_consent_record_subject(r, ctx, rec) != NGX_OK
        || ngx_http_consent_record_commands(r, ctx, rec, &w) != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    rec->wait.handler = ngx_http_consent_record_reply;
    rec->wait.data = rec;
    rec->wait.resume_handler = done;

    /* formatted into the connection's buffer at once: w may go */
    rc = ngx_http_consent_wait_transaction(&rec->wait, r, 4, w.cmds);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent record: redis unavailable, nothing recorded "
                      "for \"%V\"", &rec->subject);

        rec->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_consent_record_cleanup;
    cln->data = rec;

    return ngx_http_consent_wait_for(&rec->wait, r);
}


/* who: the operator's subject or the cookie's id, else a new id */

static ngx_int_t
ngx_http_consent_record_subject(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec)
{
    u_char  rnd[16];

    rec->subject = ctx->subject;

    if (rec->subject.len
        && consent_subject_valid(rec->subject.data, rec->subject.len))
    {
        rec->cookie_subject = rec->subject;
        return NGX_OK;
    }

    /* an id a cookie can carry, the record's key too if there is none */
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "consent record: RAND_bytes() failed");
        return NGX_ERROR;
    }

    rec->cookie_subject.data = ngx_pnalloc(r->pool,
                                           CONSENT_B64_ENCODED_LEN(16));
    if (rec->cookie_subject.data == NULL) {
        return NGX_ERROR;
    }

    rec->cookie_subject.len = consent_b64url_encode(rnd, sizeof(rnd),
                                             rec->cookie_subject.data);

    if (rec->subject.len == 0) {
        rec->subject = rec->cookie_subject;
    }

    return NGX_OK;
}


/*
 * HSET <prefix>s:<id> p .. v .. t .. src api gpc .., the receipt, and
 * PUBLISH <prefix>inval <id>: every worker on every node forgets the old
 * state.  The layout is consent_core/record.c's, shared with consentctl.
 */

static ngx_int_t
ngx_http_consent_record_commands(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec,
    ngx_http_consent_write_t *w)
{
    int                            n[4];
    size_t                         len;
    u_char                        *names;
    ngx_str_t                      key;
    consent_span_t                 skey, log, inval;
    const char                    *regime;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    len = consent_record_purposes_format(&cmcf->purposes, rec->purposes,
                                         NULL, 0);

    names = ngx_pnalloc(r->pool, len + 1);
    if (names == NULL
        || ngx_http_consent_redis_subject_key(r->pool, cmcf->redis,
                                              &rec->subject, &key)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&w->w, sizeof(consent_write_t));

    w->w.subject.data = rec->subject.data;
    w->w.subject.len = rec->subject.len;
    w->w.purposes.data = names;
    w->w.purposes.len = consent_record_purposes_format(&cmcf->purposes,
                                                       rec->purposes, names,
                                                       len);
    w->w.policy_version = rec->policy_version;
    w->w.time = rec->now;

    if (rec->vendors) {
        w->w.vendors_refused.data = rec->vendors->names.data;
        w->w.vendors_refused.len = rec->vendors->names.len;
    }

    ngx_str_set(&w->w.src, CONSENT_WRITER_API);
    w->w.gpc = ctx->gpc;

    if (rec->action == NGX_HTTP_CONSENT_GRANT) {
        ngx_str_set(&w->w.action, CONSENT_ACTION_GRANT);

    } else {
        ngx_str_set(&w->w.action, CONSENT_ACTION_WITHDRAW);
    }

    regime = consent_regime_name(ctx->regime);
    w->w.regime.data = (const unsigned char *) regime;
    w->w.regime.len = ngx_strlen(regime);
    w->w.region.data = ctx->region.data;
    w->w.region.len = ctx->region.len;
    w->w.retain = cmcf->receipts_retain;

    /* what the visitor's CMP left, as proof of what was shown */
    ngx_http_consent_record_iab(r, "euconsent-v2", 12, &w->w.tcf);
    ngx_http_consent_record_iab(r, "__gpp", 5, &w->w.gpp);
    ngx_http_consent_record_iab(r, "usprivacy", 9, &w->w.usp);

    if (cmcf->receipts_ip) {
        if (ngx_http_consent_record_ip(r, w->ip) != NGX_OK) {
            return NGX_ERROR;
        }

        w->w.ip.data = w->ip;
        w->w.ip.len = sizeof(w->ip);
    }

    skey.data = key.data;
    skey.len = key.len;
    log.data = cmcf->redis->log.data;
    log.len = cmcf->redis->log.len;
    inval.data = cmcf->redis->inval.data;
    inval.len = cmcf->redis->inval.len;

    n[0] = consent_record_set_argv(&skey, &w->w, w->hset_scratch,
                                   sizeof(w->hset_scratch), w->hset,
                                   w->hset_len);
    n[1] = consent_receipt_argv(&log, &w->w, w->xadd_scratch,
                                sizeof(w->xadd_scratch), w->xadd,
                                w->xadd_len);
    n[2] = consent_inval_argv(&inval, rec->subject.data, rec->subject.len,
                              w->pub, w->pub_len);
    n[3] = consent_record_expire_argv(&skey, cmcf->record_ttl,
                                      w->expire_scratch,
                                      sizeof(w->expire_scratch), w->expire,
                                      w->expire_len);

    if (n[0] < 0 || n[1] < 0 || n[2] < 0 || n[3] < 0) {
        return NGX_ERROR;
    }

    w->cmds[0].argc = n[0];
    w->cmds[0].argv = w->hset;
    w->cmds[0].argvlen = w->hset_len;
    w->cmds[1].argc = n[1];
    w->cmds[1].argv = w->xadd;
    w->cmds[1].argvlen = w->xadd_len;
    w->cmds[2].argc = n[2];
    w->cmds[2].argv = w->pub;
    w->cmds[2].argvlen = w->pub_len;

    /* the retention from this decision, in the same transaction */
    w->cmds[3].argc = n[3];
    w->cmds[3].argv = w->expire;
    w->cmds[3].argvlen = w->expire_len;

    return NGX_OK;
}


/*
 * No address in a receipt unless asked for, and then only a keyed hash
 * of it: the same visitor's receipts link up, the address cannot be read
 * back.
 */

static ngx_int_t
ngx_http_consent_record_ip(ngx_http_request_t *r, u_char *out)
{
    ngx_uint_t                     i;
    unsigned int                   mdlen;
    ngx_http_consent_main_conf_t  *cmcf;
    u_char                         md[EVP_MAX_MD_SIZE];

    static const char  hex[] = "0123456789abcdef";

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    if (HMAC(EVP_sha256(), cmcf->keys->keys[0].key,
             cmcf->keys->keys[0].key_len, r->connection->addr_text.data,
             r->connection->addr_text.len, md, &mdlen)
        == NULL)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < 16; i++) {
        *out++ = hex[md[i] >> 4];
        *out++ = hex[md[i] & 0xf];
    }

    return NGX_OK;
}


static void
ngx_http_consent_record_iab(ngx_http_request_t *r, const char *name, size_t len,
    consent_span_t *value)
{
    size_t                            i;
    ngx_table_elt_t                  *h;
    consent_cookie_t                  c;
    consent_cookie_iter_t             it;
    ngx_http_consent_cookie_lines_t   lines;

    value->data = NULL;
    value->len = 0;

    ngx_http_consent_cookie_lines_init(&lines, &r->headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {

        consent_cookie_iter_init(&it, h->value.data, h->value.len);

        if (!consent_cookie_find(&it, (const unsigned char *) name, len, &c)
            || c.value_len == 0 || c.value_len > NGX_HTTP_CONSENT_IAB_MAX)
        {
            continue;
        }

        /* base64url, '.', '~' and '_' make up TCF, GPP and US Privacy */
        for (i = 0; i < c.value_len; i++) {
            if (!((c.value[i] >= 'a' && c.value[i] <= 'z')
                  || (c.value[i] >= 'A' && c.value[i] <= 'Z')
                  || (c.value[i] >= '0' && c.value[i] <= '9')
                  || c.value[i] == '-' || c.value[i] == '_'
                  || c.value[i] == '.' || c.value[i] == '~'))
            {
                break;
            }
        }

        if (i == c.value_len) {
            value->data = c.value;
            value->len = c.value_len;
            return;
        }
    }
}


/*
 * EXEC's answer, from inside the Redis reader: only the status is set
 * here, and this node's cache takes the new state at once (unless an
 * invalidation came first: see ngx_http_consent_cache_put()), so that the
 * very next request sees it even before the invalidation comes round.
 */

static void
ngx_http_consent_record_reply(void *data, void *reply)
{
    ngx_http_consent_record_t *rec = data;

    size_t                         i;
    ngx_log_t                     *log;
    redisReply                    *rep, *e;
    ngx_http_consent_state_t       st;
    ngx_http_consent_main_conf_t  *cmcf;

    rep = reply;
    log = rec->wait.main->connection->log;
    cmcf = ngx_http_get_module_main_conf(rec->wait.main,
                                         ngx_http_consent_module);

    rec->status = NGX_HTTP_SERVICE_UNAVAILABLE;

    if (rep == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "consent record: redis went away or did not confirm "
                      "in time, nothing recorded for \"%V\"", &rec->subject);
        return;
    }

    /* WAIT's count: the primary has it, too few replicas confirmed it */
    if (rep->type == REDIS_REPLY_INTEGER) {
        ngx_http_consent_metrics_unconfirmed();

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "consent record: %L of %ui replicas confirmed the "
                      "write for \"%V\" within %M ms, answered 503",
                      (int64_t) rep->integer, cmcf->redis->write_replicas,
                      &rec->subject, cmcf->redis->write_wait);
        return;
    }

    if (rep->type == REDIS_REPLY_ERROR) {
        /* EXECABORT: a command was refused (read-only, OOM, ACL...) */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "consent record: redis refused the write for \"%V\": "
                      "%*s", &rec->subject, (size_t) ngx_min(rep->len, 256),
                      rep->str);
        return;
    }

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "consent record: unexpected EXEC reply for \"%V\"",
                      &rec->subject);
        return;
    }

    for (i = 0; i < rep->elements; i++) {
        e = rep->element[i];

        if (e->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "consent record: redis failed command %uz of "
                          "the write for \"%V\": %*s", i + 1, &rec->subject,
                          (size_t) ngx_min(e->len, 256), e->str);
            return;
        }
    }

    rec->status = NGX_HTTP_OK;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "consent record: %s for \"%V\" recorded (policy %uD)",
                  rec->action == NGX_HTTP_CONSENT_GRANT
                  ? "choice" : "withdrawal",
                  &rec->subject, rec->policy_version);

    if (cmcf->zone) {
        ngx_memzero(&st, sizeof(ngx_http_consent_state_t));
        st.purposes = rec->purposes;
        st.policy_version = rec->policy_version;
        st.updated = rec->now;
        st.vendors = ngx_http_consent_record_vendors(rec);
        st.found = 1;

        ngx_http_consent_cache_put(cmcf->zone->data, &rec->subject, &st,
                                   rec->wait.epoch);
    }
}


consent_vendor_set_t *
ngx_http_consent_record_vendors(ngx_http_consent_record_t *rec)
{
    return (rec->vendors && rec->vendors->set.n) ? &rec->vendors->set : NULL;
}


static void
ngx_http_consent_record_cleanup(void *data)
{
    ngx_http_consent_record_t  *rec = data;

    ngx_http_consent_wait_cleanup(&rec->wait);
}


char *
ngx_http_consent_record_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    time_t      t;
    ngx_str_t  *value;

    if (cmcf->record_ttl != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* Redis refuses an EXPIRE past its limits: 100 years is plenty */
    if (ngx_http_consent_param_sec_off(&value[1], &t) != NGX_OK
        || t > (time_t) 100 * 365 * 86400)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" (a time up to 100y, or "
                           "off)", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->record_ttl = t;

    return NGX_CONF_OK;
}


char *
ngx_http_consent_receipts(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    time_t      t;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    if (cmcf->receipts_retain != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    cmcf->receipts_retain = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_consent_param(&value[i], "retain=", &s) == NGX_OK) {
            if (ngx_http_consent_param_sec_off(&s, &t) != NGX_OK) {
                goto invalid;
            }

            cmcf->receipts_retain = t;
            continue;
        }

        if (ngx_strcmp(value[i].data, "ip=hash") == 0) {
            cmcf->receipts_ip = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "ip=off") == 0) {
            cmcf->receipts_ip = 0;
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" (retain=TIME|off, "
                       "ip=hash|off)", &value[i]);
    return NGX_CONF_ERROR;
}
