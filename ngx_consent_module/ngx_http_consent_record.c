/*
 * Copyright (C) ngx_consent_module authors
 *
 * Recording a visitor's decision, for the consent API.
 *
 * A write is one MULTI/EXEC on the worker's Redis connection: the
 * subject's record (<prefix>s:<id>), a receipt on the <prefix>log stream
 * and the invalidation on <prefix>inval.  Only when EXEC has answered
 * with all three does the visitor get a fresh signed cookie; anything
 * else (Redis down, read-only, slow past its timeout) answers 503 and
 * sets nothing.  A timed-out EXEC may still land in Redis later: the
 * answer then claims nothing it cannot prove, and the next request reads
 * whatever Redis holds.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_expire.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>


/* IAB strings kept in a receipt: at most this long, plain bytes only */
#define NGX_HTTP_CONSENT_IAB_MAX        2048

#define NGX_HTTP_CONSENT_RECEIPT_ARGS   32


typedef struct {
    ngx_http_request_t         *request;
    void                       *cmd;
    ngx_event_t                 timeout;

    consent_mask_t              purposes;       /* as chosen */
    uint32_t                    policy_version;
    time_t                      now;
    ngx_str_t                   subject;        /* the record's key */
    ngx_str_t                   cookie_subject; /* the token's id */
    ngx_uint_t                  action;
    ngx_int_t                   status;         /* 0 while waiting */
    /* the cache's invalidation sequence when the write was queued */
    ngx_atomic_uint_t           epoch;
} ngx_http_consent_record_t;


static ngx_int_t ngx_http_consent_record_receipt(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec,
    const char **argv, size_t *argvlen, ngx_str_t *names);
static void ngx_http_consent_record_iab(ngx_http_request_t *r,
    const char *name, size_t len, ngx_str_t *value);
static void ngx_http_consent_record_reply(void *data, void *reply);
static void ngx_http_consent_record_timeout(ngx_event_t *ev);
static void ngx_http_consent_record_cleanup(void *data);
static void ngx_http_consent_record_finish(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_record_done(ngx_http_request_t *r,
    ngx_http_consent_record_t *rec);
static ngx_int_t ngx_http_consent_record_cookie(ngx_http_request_t *r,
    ngx_http_consent_record_t *rec);
static ngx_int_t ngx_http_consent_record_expire(ngx_http_request_t *r,
    consent_mask_t purposes);


/*
 * Queues the transaction.  NGX_DONE: the request waits for EXEC; any
 * other value is the answer already sent (or a status to send).
 */

ngx_int_t
ngx_http_consent_record_start(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, consent_mask_t purposes,
    uint32_t policy_version, ngx_uint_t action)
{
    u_char                         *key, *p, *v, *t, *names, *ch;
    size_t                          len;
    ngx_int_t                       rc;
    ngx_str_t                       pnames;
    ngx_pool_cleanup_t             *cln;
    ngx_http_consent_record_t         *rec;
    ngx_http_consent_loc_conf_t    *lcf;
    ngx_http_consent_main_conf_t   *cmcf;
    ngx_http_consent_redis_argv_t   cmds[3];
    u_char                          rnd[16];
    const char                     *hset[12], *pub[3];
    const char                     *xadd[NGX_HTTP_CONSENT_RECEIPT_ARGS];
    size_t                          hset_len[12];
    size_t                          xadd_len[NGX_HTTP_CONSENT_RECEIPT_ARGS];
    size_t                          pub_len[3];

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    if (action == NGX_HTTP_CONSENT_WITHDRAW) {
        policy_version = (uint32_t) lcf->policy_version;
    }

    rec = ngx_pcalloc(r->pool, sizeof(ngx_http_consent_record_t));
    if (rec == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rec->request = r;
    rec->purposes = purposes | CONSENT_BIT(CONSENT_P_NECESSARY);
    rec->policy_version = policy_version;
    rec->action = action;
    rec->now = ngx_time();

    /* who: the operator's subject or the cookie's id, else a new id */

    rec->subject = ctx->subject;

    if (rec->subject.len == 0
        || !consent_subject_valid(rec->subject.data, rec->subject.len))
    {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "consent record: RAND_bytes() failed");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rec->cookie_subject.data = ngx_pnalloc(r->pool, 24);
        if (rec->cookie_subject.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rec->cookie_subject.len = consent_b64url_encode(rnd, sizeof(rnd),
                                                 rec->cookie_subject.data);

        if (rec->subject.len == 0) {
            rec->subject = rec->cookie_subject;
        }

    } else {
        rec->cookie_subject = rec->subject;
    }

    /* the record */

    len = consent_purposes_format(&cmcf->purposes,
                                  rec->purposes
                                  & ~CONSENT_BIT(CONSENT_P_NECESSARY),
                                  NULL, 0);

    names = ngx_pnalloc(r->pool, len + 1);
    key = ngx_pnalloc(r->pool, cmcf->redis->prefix.len + 2 + rec->subject.len
                               + cmcf->redis->prefix.len + 5
                               + NGX_INT32_LEN + NGX_TIME_T_LEN);
    if (names == NULL || key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pnames.data = names;
    pnames.len = consent_purposes_format(&cmcf->purposes,
                                         rec->purposes
                                         & ~CONSENT_BIT(CONSENT_P_NECESSARY),
                                         names, len);

    p = ngx_sprintf(key, "%Vs:%V", &cmcf->redis->prefix, &rec->subject);
    v = p;
    p = ngx_sprintf(v, "%uD", rec->policy_version);
    t = p;
    p = ngx_sprintf(t, "%T", rec->now);
    ch = p;
    p = ngx_sprintf(ch, "%Vinval", &cmcf->redis->prefix);

    hset[0] = "HSET";
    hset_len[0] = 4;
    hset[1] = (const char *) key;
    hset_len[1] = v - key;
    hset[2] = "p";
    hset_len[2] = 1;
    hset[3] = (const char *) pnames.data;
    hset_len[3] = pnames.len;
    hset[4] = "v";
    hset_len[4] = 1;
    hset[5] = (const char *) v;
    hset_len[5] = t - v;
    hset[6] = "t";
    hset_len[6] = 1;
    hset[7] = (const char *) t;
    hset_len[7] = ch - t;
    hset[8] = "src";
    hset_len[8] = 3;
    hset[9] = "api";
    hset_len[9] = 3;
    hset[10] = "gpc";
    hset_len[10] = 3;
    hset[11] = ctx->gpc ? "1" : "0";
    hset_len[11] = 1;

    cmds[0].argc = 12;
    cmds[0].argv = hset;
    cmds[0].argvlen = hset_len;

    /* the receipt */

    rc = ngx_http_consent_record_receipt(r, ctx, rec, xadd, xadd_len, &pnames);
    if (rc < 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds[1].argc = (int) rc;
    cmds[1].argv = xadd;
    cmds[1].argvlen = xadd_len;

    /* every worker on every node forgets the old state */

    pub[0] = "PUBLISH";
    pub_len[0] = 7;
    pub[1] = (const char *) ch;
    pub_len[1] = p - ch;
    pub[2] = (const char *) rec->subject.data;
    pub_len[2] = rec->subject.len;

    cmds[2].argc = 3;
    cmds[2].argv = pub;
    cmds[2].argvlen = pub_len;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_consent_redis_transaction(3, cmds,
                                            ngx_http_consent_record_reply, rec,
                                            &rec->cmd);
    if (rc != NGX_OK) {
        rec->cmd = NULL;
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent record: redis unavailable, nothing recorded "
                      "for \"%V\"", &rec->subject);

        return ngx_http_consent_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          NULL,
                                          "consent store unavailable");
    }

    cln->handler = ngx_http_consent_record_cleanup;
    cln->data = rec;

    rec->timeout.handler = ngx_http_consent_record_timeout;
    rec->timeout.data = rec;
    rec->timeout.log = r->connection->log;

    ngx_add_timer(&rec->timeout, cmcf->redis->timeout);

    /* a client that leaves meanwhile ends the request, and the wait */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_DONE;
}


/*
 * XADD <prefix>log [MINID ~ oldest] * subject .. action .. purposes .. v ..
 * t .. src api regime .. gpc .. [region ..] [tcf ..] [gpp ..] [usp ..]
 * [ip ..].  Returns the argument count, or -1.
 */

static ngx_int_t
ngx_http_consent_record_receipt(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec,
    const char **argv, size_t *argvlen, ngx_str_t *names)
{
    u_char                        *buf, *p, *q;
    ngx_str_t                      tcf, gpp, usp;
    ngx_uint_t                     n, i;
    const char                    *regime;
    unsigned int                   mdlen;
    ngx_http_consent_main_conf_t  *cmcf;
    u_char                         md[EVP_MAX_MD_SIZE];

    static const char  hex[] = "0123456789abcdef";

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    /* the stream's name, MINID, v, t and the address hash */
    buf = ngx_pnalloc(r->pool, cmcf->redis->prefix.len + sizeof("log") - 1
                               + NGX_TIME_T_LEN + 3 + NGX_INT32_LEN
                               + NGX_TIME_T_LEN + 32);
    if (buf == NULL) {
        return -1;
    }

    n = 0;

#define NGX_HTTP_CONSENT_ARG(s, l)                                           \
    argv[n] = (const char *) (s); argvlen[n] = (l); n++

    p = ngx_sprintf(buf, "%Vlog", &cmcf->redis->prefix);

    NGX_HTTP_CONSENT_ARG("XADD", 4);
    NGX_HTTP_CONSENT_ARG(buf, p - buf);

    /* trimmed by time as it grows: "~" lets Redis cut whole nodes */
    if (cmcf->receipts_retain) {
        q = p;
        p = ngx_sprintf(q, "%T000",
                        rec->now > cmcf->receipts_retain
                        ? rec->now - cmcf->receipts_retain : 0);

        NGX_HTTP_CONSENT_ARG("MINID", 5);
        NGX_HTTP_CONSENT_ARG("~", 1);
        NGX_HTTP_CONSENT_ARG(q, p - q);
    }

    NGX_HTTP_CONSENT_ARG("*", 1);
    NGX_HTTP_CONSENT_ARG("subject", 7);
    NGX_HTTP_CONSENT_ARG(rec->subject.data, rec->subject.len);
    NGX_HTTP_CONSENT_ARG("action", 6);

    if (rec->action == NGX_HTTP_CONSENT_GRANT) {
        NGX_HTTP_CONSENT_ARG("grant", 5);

    } else {
        NGX_HTTP_CONSENT_ARG("withdraw", 8);
    }

    q = p;
    p = ngx_sprintf(q, "%uD", rec->policy_version);

    NGX_HTTP_CONSENT_ARG("purposes", 8);
    NGX_HTTP_CONSENT_ARG(names->data, names->len);
    NGX_HTTP_CONSENT_ARG("v", 1);
    NGX_HTTP_CONSENT_ARG(q, p - q);

    q = p;
    p = ngx_sprintf(q, "%T", rec->now);

    NGX_HTTP_CONSENT_ARG("t", 1);
    NGX_HTTP_CONSENT_ARG(q, p - q);
    NGX_HTTP_CONSENT_ARG("src", 3);
    NGX_HTTP_CONSENT_ARG("api", 3);

    regime = consent_regime_name(ctx->regime);

    NGX_HTTP_CONSENT_ARG("regime", 6);
    NGX_HTTP_CONSENT_ARG(regime, ngx_strlen(regime));
    NGX_HTTP_CONSENT_ARG("gpc", 3);
    NGX_HTTP_CONSENT_ARG(ctx->gpc ? "1" : "0", 1);

    if (ctx->region.len) {
        NGX_HTTP_CONSENT_ARG("region", 6);
        NGX_HTTP_CONSENT_ARG(ctx->region.data,
                             ngx_min(ctx->region.len, 64));
    }

    /* what the visitor's CMP left, as proof of what was shown */

    ngx_http_consent_record_iab(r, "euconsent-v2", 12, &tcf);
    ngx_http_consent_record_iab(r, "__gpp", 5, &gpp);
    ngx_http_consent_record_iab(r, "usprivacy", 9, &usp);

    if (tcf.len) {
        NGX_HTTP_CONSENT_ARG("tcf", 3);
        NGX_HTTP_CONSENT_ARG(tcf.data, tcf.len);
    }

    if (gpp.len) {
        NGX_HTTP_CONSENT_ARG("gpp", 3);
        NGX_HTTP_CONSENT_ARG(gpp.data, gpp.len);
    }

    if (usp.len) {
        NGX_HTTP_CONSENT_ARG("usp", 3);
        NGX_HTTP_CONSENT_ARG(usp.data, usp.len);
    }

    /*
     * No address unless asked for, and then only a keyed hash of it: the
     * same visitor's receipts link up, the address cannot be read back.
     */
    if (cmcf->receipts_ip) {
        if (HMAC(EVP_sha256(), cmcf->keys->keys[0].key,
                 cmcf->keys->keys[0].key_len,
                 r->connection->addr_text.data,
                 r->connection->addr_text.len, md, &mdlen)
            == NULL)
        {
            return -1;
        }

        q = p;

        for (i = 0; i < 16; i++) {
            *p++ = hex[md[i] >> 4];
            *p++ = hex[md[i] & 0xf];
        }

        NGX_HTTP_CONSENT_ARG("ip", 2);
        NGX_HTTP_CONSENT_ARG(q, p - q);
    }

#undef NGX_HTTP_CONSENT_ARG

    return (ngx_int_t) n;
}


static void
ngx_http_consent_record_iab(ngx_http_request_t *r, const char *name, size_t len,
    ngx_str_t *value)
{
    size_t                            i;
    ngx_table_elt_t                  *h;
    consent_cookie_t                  c;
    consent_cookie_iter_t             it;
    ngx_http_consent_cookie_lines_t   lines;

    ngx_str_null(value);

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
            value->data = (u_char *) c.value;
            value->len = c.value_len;
            return;
        }
    }
}


static void
ngx_http_consent_record_reply(void *data, void *reply)
{
    ngx_http_consent_record_t *rec = data;

    size_t               i;
    redisReply          *rep, *e;
    ngx_http_request_t  *r;

    r = rec->request;
    rep = reply;
    rec->cmd = NULL;

    /* only here is the epoch of the command at hand (see cache.c) */
    rec->epoch = ngx_http_consent_redis_epoch();

    if (rec->timeout.timer_set) {
        ngx_del_timer(&rec->timeout);
    }

    rec->status = NGX_HTTP_SERVICE_UNAVAILABLE;

    if (rep == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent record: redis went away, nothing recorded for "
                      "\"%V\"", &rec->subject);

    } else if (rep->type == REDIS_REPLY_ERROR) {
        /* EXECABORT: a command was refused (read-only, OOM, ACL...) */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent record: redis refused the write for \"%V\": "
                      "%*s", &rec->subject, (size_t) ngx_min(rep->len, 256),
                      rep->str);

    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent record: unexpected EXEC reply for \"%V\"",
                      &rec->subject);

    } else {
        rec->status = NGX_HTTP_OK;

        for (i = 0; i < rep->elements; i++) {
            e = rep->element[i];

            if (e->type == REDIS_REPLY_ERROR) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "consent record: redis failed command %uz of "
                              "the write for \"%V\": %*s", i + 1,
                              &rec->subject,
                              (size_t) ngx_min(e->len, 256), e->str);
                rec->status = NGX_HTTP_SERVICE_UNAVAILABLE;
            }
        }
    }

    /* answered from the event loop, not from inside the Redis reader */
    r->write_event_handler = ngx_http_consent_record_finish;
    ngx_post_event(r->connection->write, &ngx_posted_events);
}


static void
ngx_http_consent_record_timeout(ngx_event_t *ev)
{
    ngx_http_consent_record_t *rec = ev->data;

    ngx_http_request_t            *r;
    ngx_http_consent_main_conf_t  *cmcf;

    r = rec->request;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "consent record: redis did not confirm the write for \"%V\" "
                  "within %M ms", &rec->subject, cmcf->redis->timeout);

    if (rec->cmd) {
        ngx_http_consent_redis_cancel(rec->cmd);
        rec->cmd = NULL;
    }

    rec->status = NGX_HTTP_SERVICE_UNAVAILABLE;

    ngx_http_consent_record_finish(r);
}


static void
ngx_http_consent_record_cleanup(void *data)
{
    ngx_http_consent_record_t  *rec = data;

    if (rec->cmd) {
        ngx_http_consent_redis_cancel(rec->cmd);
        rec->cmd = NULL;
    }

    if (rec->timeout.timer_set) {
        ngx_del_timer(&rec->timeout);
    }
}


static void
ngx_http_consent_record_finish(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_consent_record_t  *rec;

    r->write_event_handler = ngx_http_request_empty_handler;
    r->read_event_handler = ngx_http_block_reading;

    rec = NULL;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_consent_record_cleanup) {
            rec = cln->data;
            break;
        }
    }

    if (rec == NULL || rec->status == 0) {
        return;
    }

    ngx_http_finalize_request(r, ngx_http_consent_record_done(r, rec));
}


static ngx_int_t
ngx_http_consent_record_done(ngx_http_request_t *r,
    ngx_http_consent_record_t *rec)
{
    ngx_http_consent_ctx_t        *ctx;
    ngx_http_consent_state_t       st;
    ngx_http_consent_main_conf_t  *cmcf;

    if (rec->status != NGX_HTTP_OK) {
        return ngx_http_consent_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          NULL,
                                          "consent store unavailable");
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    ctx = ngx_http_consent_get_ctx(r, 0);

    /*
     * This node's cache has the new state at once, so the very next
     * request sees it even before the invalidation comes round.
     */
    if (cmcf->zone) {
        ngx_memzero(&st, sizeof(ngx_http_consent_state_t));
        st.purposes = rec->purposes;
        st.policy_version = rec->policy_version;
        st.updated = rec->now;
        st.found = 1;

        ngx_http_consent_cache_put(cmcf->zone->data, &rec->subject, &st,
                                   rec->epoch);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "consent record: %s for \"%V\" recorded (policy %uD)",
                  rec->action == NGX_HTTP_CONSENT_GRANT
                  ? "choice" : "withdrawal",
                  &rec->subject, rec->policy_version);

    if (ngx_http_consent_record_cookie(r, rec) != NGX_OK
        || ngx_http_consent_record_expire(r, rec->purposes) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the answer shows the state as the next request will see it */
    ctx->purposes = rec->purposes;

    if (ctx->gpc) {
        ctx->purposes &= ~(CONSENT_BIT(CONSENT_P_ADVERTISING)
                           | CONSENT_BIT(CONSENT_P_SHARING));
    }

    ctx->policy_version = rec->policy_version;
    ctx->issued_at = rec->now;
    ctx->subject = rec->subject;
    ctx->source = CONSENT_SRC_REDIS;
    ctx->recorded = 1;
    ctx->stale = 0;

    return ngx_http_consent_api_state(r, ctx);
}


static ngx_int_t
ngx_http_consent_record_cookie(ngx_http_request_t *r,
    ngx_http_consent_record_t *rec)
{
    u_char                        *v, *p;
    size_t                         n;
    consent_token_t                tok;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    ngx_memzero(&tok, sizeof(consent_token_t));
    tok.subject = rec->cookie_subject.data;
    tok.subject_len = rec->cookie_subject.len;
    tok.purposes = rec->purposes;
    tok.policy_version = rec->policy_version;
    tok.issued_at = rec->now;

    v = ngx_pnalloc(r->pool, cmcf->cookie_name.len + 1
                             + CONSENT_TOKEN_MAX_LEN
                             + sizeof("; Path=/; Max-Age=; SameSite=Lax; "
                                      "HttpOnly; Secure") - 1
                             + NGX_TIME_T_LEN);
    if (v == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(v, cmcf->cookie_name.data, cmcf->cookie_name.len);
    *p++ = '=';

    n = consent_token_sign(cmcf->keys, &tok, p, CONSENT_TOKEN_MAX_LEN);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "consent record: cannot sign the consent cookie");
        return NGX_ERROR;
    }

    p += n;
    p = ngx_sprintf(p, "; Path=/; Max-Age=%T; SameSite=Lax; HttpOnly",
                    cmcf->cookie_max_age);

    /* "auto": as the client reached nginx, which a TLS load balancer hides */
    if (cmcf->cookie_secure == NGX_HTTP_CONSENT_SECURE_ON
#if (NGX_HTTP_SSL)
        || (cmcf->cookie_secure == NGX_HTTP_CONSENT_SECURE_AUTO
            && r->connection->ssl)
#endif
       )
    {
        p = ngx_cpymem(p, "; Secure", 8);
    }

    if (ngx_http_consent_add_set_cookie(r, v, p - v) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the rule-matched cookies the browser sent that the new state refuses */

static ngx_int_t
ngx_http_consent_record_expire(ngx_http_request_t *r, consent_mask_t purposes)
{
    ngx_str_t                        *name;
    ngx_array_t                      *names;
    ngx_table_elt_t                  *h;
    consent_cookie_t                  c;
    consent_cookie_iter_t             it;
    const consent_rule_t             *rule;
    ngx_http_consent_cookie_lines_t   lines;
    ngx_http_consent_main_conf_t     *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    if (cmcf->nrules == 0) {
        return NGX_OK;
    }

    names = NULL;

    ngx_http_consent_cookie_lines_init(&lines, &r->headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {

        consent_cookie_iter_init(&it, h->value.data, h->value.len);

        while (consent_cookie_next(&it, &c)) {
            if (c.has_ctl || c.name_len == 0) {
                continue;
            }

            rule = ngx_http_consent_rule_active(
                       consent_ruleset_match(cmcf->rules, c.name,
                                             c.name_len));

            if (rule == NULL || rule->purpose == CONSENT_P_NECESSARY
                || (purposes & CONSENT_BIT(rule->purpose)))
            {
                continue;
            }

            if (names == NULL) {
                names = ngx_array_create(r->pool, 4, sizeof(ngx_str_t));
                if (names == NULL) {
                    return NGX_ERROR;
                }
            }

            name = ngx_array_push(names);
            if (name == NULL) {
                return NGX_ERROR;
            }

            name->data = (u_char *) c.name;
            name->len = c.name_len;
        }
    }

    return ngx_http_consent_expire_cookies(r, names);
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

        if (ngx_strncmp(value[i].data, "retain=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                cmcf->receipts_retain = 0;
                continue;
            }

            t = ngx_parse_time(&s, 1);
            if (t == (time_t) NGX_ERROR || t <= 0) {
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
