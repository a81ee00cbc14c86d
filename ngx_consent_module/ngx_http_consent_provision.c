/*
 * Copyright (C) ngx_consent_module authors
 *
 * The provision log: after stripping, the vendors whose cookies a
 * subject's request still carries are logged in <prefix>pv:<id>, "f:V"
 * set once (HSETNX) and "l:V" every day (HSET), with the record's
 * retention (consent_record_ttl).  A memo in shared memory, one word per
 * (subject, vendor), keeps the writes to one a day across workers and
 * reloads.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_overrides.h"
#include "ngx_http_consent_provision.h"
#include "ngx_http_consent_rules.h"

#include "provision.h"
#include "record.h"

#include <hiredis/hiredis.h>


/* a request's vendors logged at most: its Redis commands stay few */
#define NGX_HTTP_CONSENT_PROVISION_MAX    16

/* 65,536 pairs remembered: 512 KB, and room for the slab pool's pages */
#define NGX_HTTP_CONSENT_PROVISION_SLOTS  65536
#define NGX_HTTP_CONSENT_PROVISION_ZONE                                      \
    (NGX_HTTP_CONSENT_PROVISION_SLOTS * sizeof(uint64_t) + 64 * 1024)


typedef struct {
    ngx_str_t                      field;     /* "f:V", then "l:V" */
    consent_provision_memo_t       memo;
} ngx_http_consent_provided_t;


static ngx_int_t ngx_http_consent_provision_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_consent_provision_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_consent_provision_upstream(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_provision(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static const consent_rule_t *ngx_http_consent_provision_active(void *data,
    const consent_rule_t *rule);
static void ngx_http_consent_provision_reply(void *data, void *reply);
static ngx_array_t *ngx_http_consent_provision_due(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, uint16_t *ids, ngx_uint_t n,
    volatile uint64_t *slots);
static ngx_int_t ngx_http_consent_provision_write(ngx_http_request_t *r,
    ngx_str_t *key, ngx_array_t *due);


char *
ngx_http_consent_provision_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    char                          *rv;
    ngx_str_t                      name;
    ngx_shm_zone_t                *zone;
    ngx_http_consent_main_conf_t  *cmcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK || !lcf->provision_log) {
        return rv;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);

    if (cmcf->provision_zone) {
        return NGX_CONF_OK;
    }

    ngx_str_set(&name, "consent_provision");

    zone = ngx_shared_memory_add(cf, &name, NGX_HTTP_CONSENT_PROVISION_ZONE,
                                 &ngx_http_consent_module);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    /* a consent_zone of the same name has the module's tag too */
    if (zone->data || zone->init) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    zone->init = ngx_http_consent_provision_init_zone;
    cmcf->provision_zone = zone;

    return NGX_CONF_OK;
}


/* a reload keeps the memo: the day's writes are not done again */

static ngx_int_t
ngx_http_consent_provision_init_zone(ngx_shm_zone_t *zone, void *data)
{
    size_t            size;
    uint64_t         *slots;
    ngx_slab_pool_t  *shpool;

    if (data) {
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    size = NGX_HTTP_CONSENT_PROVISION_SLOTS * sizeof(uint64_t);

    slots = ngx_slab_calloc(shpool, size);
    if (slots == NULL) {
        return NGX_ERROR;
    }

    shpool->data = slots;
    zone->data = slots;

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_provision_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *core;

    core = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&core->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_consent_provision_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_consent_provision_handler(ngx_http_request_t *r)
{
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_consent_module);

    if (ctx == NULL || !ctx->provide || r != r->main
        || !ngx_http_consent_provision_upstream(r))
    {
        return NGX_OK;
    }

    ctx->provide = 0;

    /* the log phase cannot fail a request: a failure only logs less */
    (void) ngx_http_consent_provision(r, ctx);

    return NGX_OK;
}


/*
 * Whether the request reached an origin: bytes of it were sent to an
 * upstream peer (not a request answered by "return", a file, a cache
 * hit or an access check, nor one whose every peer refused it).
 */

static ngx_uint_t
ngx_http_consent_provision_upstream(ngx_http_request_t *r)
{
    ngx_uint_t                  i;
    ngx_http_upstream_state_t  *state;

    if (r->upstream_states == NULL) {
        return 0;
    }

    state = r->upstream_states->elts;

    for (i = 0; i < r->upstream_states->nelts; i++) {
        if (state[i].peer && state[i].bytes_sent > 0) {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_consent_provision(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    long                               len;
    u_char                            *seen;
    unsigned                           n;
    uint16_t                           ids[NGX_HTTP_CONSENT_PROVISION_MAX];
    ngx_str_t                          key;
    ngx_uint_t                         i;
    ngx_array_t                       *due;
    consent_scope_t                    scope;
    ngx_table_elt_t                   *h;
    volatile uint64_t                 *slots;
    ngx_http_consent_provided_t       *pv;
    ngx_http_consent_main_conf_t      *cmcf;
    ngx_http_consent_cookie_lines_t    lines;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    /* a subject with a record: an erased one's cookie brings no log back */
    if (ctx->subject.len == 0 || ctx->record != CONSENT_RECORD_FOUND
        || cmcf->nrules == 0 || cmcf->redis == NULL
        || cmcf->provision_zone == NULL || cmcf->provision_zone->data == NULL)
    {
        return NGX_OK;
    }

    seen = ngx_pcalloc(r->pool, consent_ruleset_vendors(cmcf->rules) / 8 + 1);
    if (seen == NULL) {
        return NGX_ERROR;
    }

    ngx_http_consent_scope(r, cmcf->rules, NULL, 0, &scope);

    n = 0;
    ngx_http_consent_cookie_lines_init(&lines, &r->headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {
        (void) consent_provision_scan(cmcf->rules, &scope,
                                      ngx_http_consent_provision_active,
                                      NULL, cmcf->cookie_name.data,
                                      cmcf->cookie_name.len, h->value.data,
                                      h->value.len, seen, ids, &n,
                                      NGX_HTTP_CONSENT_PROVISION_MAX);
    }

    if (n == 0) {
        return NGX_OK;
    }

    slots = cmcf->provision_zone->data;

    due = ngx_http_consent_provision_due(r, ctx, ids, n, slots);
    if (due == NULL) {
        return NGX_ERROR;
    }

    if (due->nelts == 0) {
        return NGX_OK;
    }

    key.len = consent_redis_key_size(CONSENT_REDIS_PROVISION,
                                     cmcf->redis->prefix.len,
                                     ctx->subject.len);
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.len == 0 || key.data == NULL) {
        return NGX_ERROR;
    }

    len = consent_redis_key(CONSENT_REDIS_PROVISION,
                            cmcf->redis->prefix.data, cmcf->redis->prefix.len,
                            ctx->subject.data, ctx->subject.len, key.data,
                            key.len);
    if (len < 0) {
        return NGX_ERROR;
    }

    key.len = (size_t) len;

    if (ngx_http_consent_provision_write(r, &key, due) != NGX_OK) {
        /* Redis down or the queue full: tomorrow's memo is not set */
        return NGX_OK;
    }

    pv = due->elts;

    for (i = 0; i < due->nelts; i++) {
        slots[pv[i].memo.slot] = pv[i].memo.word;
    }

    return NGX_OK;
}


static const consent_rule_t *
ngx_http_consent_provision_active(void *data, const consent_rule_t *rule)
{
    return ngx_http_consent_rule_active(rule);
}


/* the vendors carried whose day the memo has not seen, "f:V" ready */

static ngx_array_t *
ngx_http_consent_provision_due(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, uint16_t *ids, ngx_uint_t n,
    volatile uint64_t *slots)
{
    u_char                        *p;
    size_t                         len;
    ngx_uint_t                     i;
    ngx_array_t                   *due;
    const u_char                  *name;
    ngx_http_consent_provided_t   *pv;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    due = ngx_array_create(r->pool, n, sizeof(ngx_http_consent_provided_t));
    if (due == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        name = consent_ruleset_vendor(cmcf->rules, ids[i], &len);
        if (name == NULL) {
            continue;
        }

        pv = ngx_array_push(due);
        if (pv == NULL) {
            return NULL;
        }

        consent_provision_memo_key(ctx->subject.data, ctx->subject.len,
                                   name, len, ngx_time(),
                                   NGX_HTTP_CONSENT_PROVISION_SLOTS,
                                   &pv->memo);

        if (slots[pv->memo.slot] == pv->memo.word) {
            due->nelts--;
            continue;
        }

        p = ngx_pnalloc(r->pool, CONSENT_PROVISION_F_LEN + len);
        if (p == NULL) {
            return NULL;
        }

        ngx_memcpy(p, CONSENT_PROVISION_F_FIRST, CONSENT_PROVISION_F_LEN);
        ngx_memcpy(p + CONSENT_PROVISION_F_LEN, name, len);

        pv->field.data = p;
        pv->field.len = CONSENT_PROVISION_F_LEN + len;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "consent provision of \"%V\" to \"%*s\" due today",
                       &ctx->subject, len, name);
    }

    return due;
}


/*
 * HSETNX key f:V now, per vendor; HSET key l:V now...; EXPIRE key ttl.
 * Each reply is dropped: nothing waits, and a failed write is tried
 * again the next time the vendor's cookies pass.
 */

static ngx_int_t
ngx_http_consent_provision_write(ngx_http_request_t *r, ngx_str_t *key,
    ngx_array_t *due)
{
    int                            argc;
    void                          *cmd;
    u_char                        *now, *ttl;
    size_t                        *argvlen;
    ngx_uint_t                     i;
    const char                   **argv;
    ngx_http_consent_provided_t   *pv;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    pv = due->elts;

    argv = ngx_palloc(r->pool, (2 + 2 * due->nelts) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (2 + 2 * due->nelts) * sizeof(size_t));
    now = ngx_pnalloc(r->pool, 2 * NGX_TIME_T_LEN);

    if (argv == NULL || argvlen == NULL || now == NULL) {
        return NGX_ERROR;
    }

    ttl = ngx_sprintf(now, "%T", ngx_time());

    argv[0] = "HSETNX";
    argvlen[0] = 6;
    argv[1] = (const char *) key->data;
    argvlen[1] = key->len;
    argv[3] = (const char *) now;
    argvlen[3] = ttl - now;

    for (i = 0; i < due->nelts; i++) {
        argv[2] = (const char *) pv[i].field.data;
        argvlen[2] = pv[i].field.len;

        /* its reply says whether the day was written: the slot, + 1 */
        if (ngx_http_consent_redis_write_command(4, argv, argvlen,
                                         ngx_http_consent_provision_reply,
                                         (void *) (pv[i].memo.slot + 1),
                                         &cmd)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        /* the same bytes as "l:V" for the HSET */
        ngx_memcpy(pv[i].field.data, CONSENT_PROVISION_F_LAST,
                   CONSENT_PROVISION_F_LEN);
    }

    argc = 2;
    argv[0] = "HSET";
    argvlen[0] = 4;

    for (i = 0; i < due->nelts; i++) {
        argv[argc] = (const char *) pv[i].field.data;
        argvlen[argc++] = pv[i].field.len;
        argv[argc] = (const char *) now;
        argvlen[argc++] = ttl - now;
    }

    if (ngx_http_consent_redis_write_command(argc, argv, argvlen, NULL,
                                             NULL, &cmd)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (cmcf->record_ttl == 0) {
        return NGX_OK;
    }

    argv[0] = "EXPIRE";
    argvlen[0] = 6;
    argv[2] = (const char *) ttl;
    argvlen[2] = ngx_sprintf(ttl, "%T", cmcf->record_ttl) - ttl;

    if (ngx_http_consent_redis_write_command(3, argv, argvlen, NULL, NULL,
                                             &cmd)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A write Redis did not take (the connection lost, an error such as
 * WRONGTYPE or READONLY): the memo forgets the day, so the vendor's next
 * request tries again.
 */

static void
ngx_http_consent_provision_reply(void *data, void *reply)
{
    uintptr_t                      slot;
    redisReply                    *rr;
    volatile uint64_t             *slots;
    ngx_http_consent_main_conf_t  *cmcf;

    rr = reply;

    if (rr && rr->type != REDIS_REPLY_ERROR) {
        return;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_consent_module);

    if (cmcf == NULL || cmcf->provision_zone == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "consent provision log not written: %s",
                  rr ? rr->str : "no answer");

    slot = (uintptr_t) data - 1;
    slots = cmcf->provision_zone->data;

    if (slot < NGX_HTTP_CONSENT_PROVISION_SLOTS) {
        slots[slot] = 0;
    }
}
