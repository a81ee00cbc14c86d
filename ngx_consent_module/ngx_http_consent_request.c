/*
 * Copyright (C) ngx_consent_module authors
 *
 * The request side, first thing in the rewrite phase of every location
 * with "consent on" (so before any "set", "if" or "rewrite" reads a
 * variable): has the visitor's purposes decided once per main request
 * (ngx_http_consent_decide.c), removes the cookies of refused purposes
 * from the Cookie header(s), then applies what the location asks of the
 * decision (ngx_http_consent_upstream.c).
 *
 * Subrequests run the rewrite phase too (they skip the access phase), so
 * a mirror or an SSI include gets the same treatment.  When the main
 * request's own headers were left alone (its location has "consent off"),
 * a subrequest gets a private copy of the header list to strip: the main
 * request's headers are never changed by a subrequest.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_decide.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_overrides.h"
#include "ngx_http_consent_provision.h"
#include "ngx_http_consent_request.h"
#include "ngx_http_consent_rules.h"
#include "ngx_http_consent_upstream.h"

#include "strip.h"


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_consent_ctx_t        *ctx;
    ngx_uint_t                     record;     /* names to ctx->stripped */
} ngx_http_consent_strip_data_t;


static ngx_int_t ngx_http_consent_server_rewrite_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_rewrite_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_find_cookie_variables(ngx_conf_t *cf);
static void ngx_http_consent_cleanup(void *data);
static ngx_int_t ngx_http_consent_strip(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_headers_in_t *headers_in,
    ngx_uint_t record);
static ngx_int_t ngx_http_consent_strip_line(ngx_http_request_t *r,
    consent_strip_t *st, ngx_table_elt_t *h);
static const consent_rule_t *ngx_http_consent_strip_active(void *data,
    const consent_rule_t *rule);
static int ngx_http_consent_strip_note(void *data, const consent_cookie_t *c,
    const consent_rule_t *rule);
static void ngx_http_consent_forget_cookie_variables(ngx_http_request_t *r);


/* a subrequest whose own copy of the headers has been stripped */
static ngx_uint_t  ngx_http_consent_sub_done;


/*
 * Also marks where the ctx lives, for ngx_http_consent_get_ctx() after an
 * internal redirect.  A request going away while Redis still owes it a
 * reply leaves the reply to be read and dropped.
 */

static void
ngx_http_consent_cleanup(void *data)
{
    ngx_http_consent_ctx_t  *ctx = data;

    ngx_http_consent_wait_cleanup(&ctx->lookup);
}


/*
 * Pushed after the rewrite module's handlers, so run before them: the
 * decision is made, and the cookies stripped, before any "set", "if" or
 * "rewrite" reads a variable.  Subrequests, which skip the access phase,
 * run these phases too.
 */

ngx_int_t
ngx_http_consent_request_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *core;

    core = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&core->phases[NGX_HTTP_SERVER_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_consent_server_rewrite_handler;

    h = ngx_array_push(&core->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_consent_rewrite_handler;

    return ngx_http_consent_find_cookie_variables(cf);
}


ngx_http_consent_ctx_t *
ngx_http_consent_get_ctx(ngx_http_request_t *r, ngx_flag_t create)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_request_t      *mr;
    ngx_http_consent_ctx_t  *ctx;

    mr = r->main;

    ctx = ngx_http_get_module_ctx(mr, ngx_http_consent_module);
    if (ctx) {
        return ctx;
    }

    /* an internal redirect zeroed the module ctx but not the pool */
    if (mr->internal) {
        for (cln = mr->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_consent_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(mr, ctx, ngx_http_consent_module);
                return ctx;
            }
        }
    }

    if (!create) {
        return NULL;
    }

    ctx = ngx_pcalloc(mr->pool, sizeof(ngx_http_consent_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(mr->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_consent_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(mr, ctx, ngx_http_consent_module);

    return ctx;
}


/*
 * In the server's rewrite phase (the location is not known yet) a record
 * the decision will need is looked up ahead, so that a variable read by a
 * server-level "set" or "if" is final.
 */

static ngx_int_t
ngx_http_consent_server_rewrite_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_consent_ctx_t       *ctx;
    ngx_http_consent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    if (!lcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_consent_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_consent_prefetch(r, ctx);

    if (rc == NGX_AGAIN) {
        if (r == r->main) {
            r->read_event_handler = ngx_http_test_reading;
            r->write_event_handler = ngx_http_request_empty_handler;
        }

        return NGX_DONE;
    }

    return (rc == NGX_ERROR) ? NGX_HTTP_INTERNAL_SERVER_ERROR : NGX_DECLINED;
}


static ngx_int_t
ngx_http_consent_rewrite_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_uint_t                    provide;
    ngx_http_consent_ctx_t       *ctx;
    ngx_http_consent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    if (!lcf->enable && !lcf->api) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_consent_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_consent_decide(r, ctx, NGX_HTTP_CONSENT_DECIDE_WAIT);

    if (rc == NGX_AGAIN) {
        /* suspended on Redis: resumed by a posted event, from here */
        if (r == r->main) {
            r->read_event_handler = ngx_http_test_reading;
            r->write_event_handler = ngx_http_request_empty_handler;
        }

        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the consent API only needs the decision; nothing goes upstream */
    if (lcf->api) {
        return NGX_DECLINED;
    }

    provide = 0;

    if (r == r->main) {
        if (!ctx->filtered) {
            ctx->filtered = 1;
            provide = lcf->provision_log;

            if (ngx_http_consent_strip(r, ctx, &r->headers_in, 1) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

    } else if (!ctx->filtered
               && ngx_http_get_module_ctx(r, ngx_http_consent_module) == NULL)
    {
        ngx_http_set_ctx(r, &ngx_http_consent_sub_done,
                         ngx_http_consent_module);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "consent strips a copy of the headers for "
                       "subrequest \"%V\"", &r->uri);

        if (ngx_http_consent_copy_request_headers(r) != NGX_OK
            || ngx_http_consent_strip(r, ctx, &r->headers_in, 0) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* consent_require, consent_strip_args, the upstream Consent header */
    rc = ngx_http_consent_upstream(r, ctx, lcf);

    /* logged once the request is done, if an origin got it */
    if (provide && rc == NGX_DECLINED) {
        ctx->provide = 1;
    }

    return rc;
}


static ngx_int_t
ngx_http_consent_strip(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_http_headers_in_t *headers_in, ngx_uint_t record)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_array_t                      *gone;
    consent_mask_t                    all;
    consent_scope_t                   scope;
    consent_strip_t                   st;
    ngx_table_elt_t                  *h, **hp;
    ngx_http_consent_strip_data_t     data;
    ngx_http_consent_cookie_lines_t   lines;
    ngx_http_consent_main_conf_t     *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    all = consent_purposes_all(&cmcf->purposes);

    /* nothing refused, or nothing to match against: leave the bytes be */
    if (cmcf->nrules == 0
        || ((ctx->purposes & all) == all && ctx->vendors_refused == NULL))
    {
        return NGX_OK;
    }

    data.request = r;
    data.ctx = ctx;
    data.record = record;

    ngx_http_consent_scope(r, cmcf->rules, NULL, 0, &scope);

    ngx_memzero(&st, sizeof(consent_strip_t));
    st.rules = cmcf->rules;
    st.scope = &scope;
    st.granted = ctx->purposes;
    st.refused_vendors = ctx->vendors_refused;
    st.keep = cmcf->cookie_name.data;
    st.keep_len = cmcf->cookie_name.len;
    st.active = ngx_http_consent_strip_active;
    st.stripped = ngx_http_consent_strip_note;
    st.stripped_data = &data;

    gone = NULL;

    ngx_http_consent_cookie_lines_init(&lines, headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {

        rc = ngx_http_consent_strip_line(r, &st, h);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DONE) {
            /* every cookie of the line went: the line goes, after the walk */
            if (gone == NULL) {
                gone = ngx_array_create(r->pool, 2, sizeof(ngx_table_elt_t *));
                if (gone == NULL) {
                    return NGX_ERROR;
                }
            }

            hp = ngx_array_push(gone);
            if (hp == NULL) {
                return NGX_ERROR;
            }

            *hp = h;
        }
    }

    hp = gone ? gone->elts : NULL;

    for (i = 0; gone && i < gone->nelts; i++) {
        if (ngx_http_consent_cookie_line_remove(r->pool, headers_in, hp[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* $http_cookie or $cookie_* read before now must not be reused */
    ngx_http_consent_forget_cookie_variables(r);

    return NGX_OK;
}


/*
 * NGX_OK: kept as is or rewritten; NGX_DONE: every cookie of the line was
 * stripped, so the line itself goes.
 */

static ngx_int_t
ngx_http_consent_strip_line(ngx_http_request_t *r, consent_strip_t *st,
    ngx_table_elt_t *h)
{
    u_char  *out;
    size_t   len, dropped;

    if (h->value.len == 0) {
        return NGX_OK;
    }

    /* the output, then scratch space for the names origins may read */
    out = ngx_pnalloc(r->pool, CONSENT_COOKIE_FILTER_SIZE(h->value.len)
                               + CONSENT_STRIP_SCRATCH(h->value.len));
    if (out == NULL) {
        return NGX_ERROR;
    }

    st->scratch = out + CONSENT_COOKIE_FILTER_SIZE(h->value.len);

    len = consent_strip_header(st, h->value.data, h->value.len, out,
                               &dropped);

    if (st->failed) {
        return NGX_ERROR;
    }

    if (dropped == 0) {
        ngx_pfree(r->pool, out);
        return NGX_OK;
    }

    if (len == 0) {
        return NGX_DONE;
    }

    h->value.data = out;
    h->value.len = len;

    return NGX_OK;
}


static const consent_rule_t *
ngx_http_consent_strip_active(void *data, const consent_rule_t *rule)
{
    return ngx_http_consent_rule_active(rule);
}


/* the names stripped, as sent: $consent_stripped and the expiry use them */

static int
ngx_http_consent_strip_note(void *data, const consent_cookie_t *c,
    const consent_rule_t *rule)
{
    ngx_http_consent_strip_data_t *sd = data;

    ngx_str_t               *name;
    ngx_http_consent_ctx_t  *ctx;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sd->request->connection->log, 0,
                   "consent stripped cookie \"%*s\"", c->name_len, c->name);

    if (!sd->record) {
        return 0;
    }

    ngx_http_consent_metrics_cookie(rule, 0);

    ctx = sd->ctx;

    if (ctx->stripped == NULL) {
        ctx->stripped = ngx_array_create(sd->request->pool, 4,
                                         sizeof(ngx_str_t));
        if (ctx->stripped == NULL) {
            return -1;
        }
    }

    name = ngx_array_push(ctx->stripped);
    if (name == NULL) {
        return -1;
    }

    /*
     * The header's original bytes stay for the request's life.  A pair
     * without '=' has no name for the browser: the pair stands for it.
     */
    name->data = (u_char *) (c->name_len ? c->name : c->pair);
    name->len = c->name_len ? c->name_len : c->pair_len;

    return 0;
}


/*
 * nginx caches $http_cookie and $cookie_NAME per request: a value read
 * before the Cookie header was stripped (an "if" in the server block)
 * would otherwise reach the origin through proxy_set_header.
 */

static void
ngx_http_consent_forget_cookie_variables(ngx_http_request_t *r)
{
    ngx_uint_t                     i, *index;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    if (cmcf->cookie_variables == NULL || r->variables == NULL) {
        return;
    }

    index = cmcf->cookie_variables->elts;

    for (i = 0; i < cmcf->cookie_variables->nelts; i++) {
        r->variables[index[i]].valid = 0;
        r->variables[index[i]].not_found = 0;
    }
}


/* the indexed variables derived from the Cookie header, once */

static ngx_int_t
ngx_http_consent_find_cookie_variables(ngx_conf_t *cf)
{
    ngx_uint_t                     i, *index;
    ngx_http_variable_t           *v;
    ngx_http_core_main_conf_t     *core;
    ngx_http_consent_main_conf_t  *cmcf;

    core = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);

    v = core->variables.elts;

    for (i = 0; i < core->variables.nelts; i++) {

        if (!(v[i].name.len == sizeof("http_cookie") - 1
              && ngx_strncasecmp(v[i].name.data, (u_char *) "http_cookie",
                                 v[i].name.len) == 0)
            && !(v[i].name.len > sizeof("cookie_") - 1
                 && ngx_strncasecmp(v[i].name.data, (u_char *) "cookie_",
                                    sizeof("cookie_") - 1) == 0))
        {
            continue;
        }

        if (cmcf->cookie_variables == NULL) {
            cmcf->cookie_variables = ngx_array_create(cf->pool, 4,
                                                      sizeof(ngx_uint_t));
            if (cmcf->cookie_variables == NULL) {
                return NGX_ERROR;
            }
        }

        index = ngx_array_push(cmcf->cookie_variables);
        if (index == NULL) {
            return NGX_ERROR;
        }

        *index = i;
    }

    return NGX_OK;
}
