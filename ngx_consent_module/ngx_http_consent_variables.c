/*
 * Copyright (C) ngx_consent_module authors
 *
 * $consent_* variables.  They read the request's decision; one read
 * before the location's rewrite phase decides (an access_log of an
 * answer nginx made early) gets the decision made then, without waiting
 * for Redis, provisional until the rewrite phase has the record.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_decide.h"
#include "ngx_http_consent_iab.h"
#include "ngx_http_consent_request.h"
#include "ngx_http_consent_variables.h"


static ngx_http_consent_ctx_t *ngx_http_consent_variable_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_variable_found(ngx_http_variable_value_t *v,
    u_char *data, size_t len);
static ngx_int_t ngx_http_consent_variable_purposes(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_purpose(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_stripped(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_source(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_regime(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_gpc(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_policy_version(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_iab(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_csp(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_consent_variable_number(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_uint_t n);


static ngx_str_t  ngx_http_consent_sources[] = {
    ngx_null_string,
    ngx_string("redis"),
    ngx_string("cache"),
    ngx_string("cookie"),
    ngx_string("iab"),
    ngx_string("default"),
    ngx_string("fail")
};


static ngx_http_variable_t  ngx_http_consent_vars[] = {

    { ngx_string("consent_purposes"), NULL,
      ngx_http_consent_variable_purposes, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_id"), NULL,
      ngx_http_consent_variable_str,
      offsetof(ngx_http_consent_ctx_t, subject),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_region"), NULL,
      ngx_http_consent_variable_str,
      offsetof(ngx_http_consent_ctx_t, region),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_stripped"), NULL,
      ngx_http_consent_variable_stripped, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_dropped"), NULL,
      ngx_http_consent_variable_str,
      offsetof(ngx_http_consent_ctx_t, dropped),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_source"), NULL,
      ngx_http_consent_variable_source, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_regime"), NULL,
      ngx_http_consent_variable_regime, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_gpc"), NULL,
      ngx_http_consent_variable_gpc, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_policy_version"), NULL,
      ngx_http_consent_variable_policy_version, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_iab"), NULL,
      ngx_http_consent_variable_iab, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("consent_csp_unenforceable"), NULL,
      ngx_http_consent_variable_csp, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_consent_add_variables(ngx_conf_t *cf)
{
    ngx_uint_t            i;
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_consent_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    for (i = 0; i < CONSENT_P_STANDARD; i++) {
        if (ngx_http_consent_add_purpose_variable(cf, i) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_add_purpose_variable(ngx_conf_t *cf, ngx_uint_t purpose)
{
    u_char                        *p;
    ngx_str_t                      name;
    ngx_http_variable_t           *var;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);

    name.len = sizeof("consent_") - 1 + cmcf->purposes.len[purpose];
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(name.data, "consent_", sizeof("consent_") - 1);
    ngx_memcpy(p, cmcf->purposes.name[purpose], cmcf->purposes.len[purpose]);

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_consent_variable_purpose;
    var->data = purpose;

    return NGX_OK;
}


static ngx_http_consent_ctx_t *
ngx_http_consent_variable_ctx(ngx_http_request_t *r)
{
    ngx_http_consent_ctx_t       *ctx;
    ngx_http_consent_loc_conf_t  *lcf;

    ctx = ngx_http_consent_get_ctx(r, 0);

    if (ctx && ctx->decided) {
        return ctx;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    if (!lcf->enable && !lcf->api) {
        return NULL;
    }

    if (ctx == NULL) {
        ctx = ngx_http_consent_get_ctx(r, 1);
        if (ctx == NULL) {
            return NULL;
        }
    }

    /* NGX_AGAIN: a provisional answer while Redis is asked */
    if (ngx_http_consent_decide(r, ctx, NGX_HTTP_CONSENT_DECIDE_PEEK)
        == NGX_ERROR)
    {
        return NULL;
    }

    return ctx;
}


/* a value the request's decision made: cacheable for the request */

static ngx_int_t
ngx_http_consent_variable_found(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_consent_variable_purposes(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    size_t                         len;
    ngx_http_consent_ctx_t        *ctx;
    ngx_http_consent_main_conf_t  *cmcf;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    len = consent_purposes_format(&cmcf->purposes, ctx->purposes, NULL, 0);

    v->data = ngx_pnalloc(r->pool, len);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    len = consent_purposes_format(&cmcf->purposes, ctx->purposes, v->data,
                                  len);

    return ngx_http_consent_variable_found(v, v->data, len);
}


static ngx_int_t
ngx_http_consent_variable_purpose(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_consent_variable_found(v,
               (u_char *) ((ctx->purposes & CONSENT_BIT(data)) ? "1" : "0"), 1);
}


static ngx_int_t
ngx_http_consent_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *s;
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    return ngx_http_consent_variable_found(v, s->data, s->len);
}


/*
 * The names as the browser sent them stay in ctx (the expiry needs them);
 * the variable joins them with ',' and shows bytes outside visible ASCII
 * as '?', as $consent_dropped does, so a log or header built from it
 * carries no control bytes from the client.
 */

static ngx_int_t
ngx_http_consent_variable_stripped(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                  *p;
    size_t                   i, len;
    ngx_str_t               *name;
    ngx_uint_t               n;
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    len = 0;
    name = ctx->stripped ? ctx->stripped->elts : NULL;
    n = ctx->stripped ? ctx->stripped->nelts : 0;

    for (i = 0; i < n; i++) {
        len += name[i].len + 1;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        for (len = 0; len < name[i].len; len++) {
            *p++ = (name[i].data[len] > ' ' && name[i].data[len] < 0x7f)
                   ? name[i].data[len] : '?';
        }
    }

    return ngx_http_consent_variable_found(v, v->data, p - v->data);
}


static ngx_int_t
ngx_http_consent_variable_source(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL || ctx->source == CONSENT_SRC_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_consent_variable_found(v,
               ngx_http_consent_sources[ctx->source].data,
               ngx_http_consent_sources[ctx->source].len);
}


static ngx_int_t
ngx_http_consent_variable_regime(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char              *name;
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = consent_regime_name(ctx->regime);

    return ngx_http_consent_variable_found(v, (u_char *) name,
                                           ngx_strlen(name));
}


static ngx_int_t
ngx_http_consent_variable_gpc(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_consent_variable_found(v,
               (u_char *) (ctx->gpc ? "1" : "0"), 1);
}


/* the policy version the visitor's decision was given under, if any */

static ngx_int_t
ngx_http_consent_variable_policy_version(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL || !(ctx->recorded || ctx->stale)) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_consent_variable_number(r, v, ctx->policy_version);
}


/* what became of the visitor's TC string: used, recorded, cmp, ... */

static ngx_int_t
ngx_http_consent_variable_iab(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                state;
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_consent_iab_state(ctx, &state);

    return ngx_http_consent_variable_found(v, state.data, state.len);
}


/* the CSP directives the response filter had to leave open to a vendor */

static ngx_int_t
ngx_http_consent_variable_csp(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_consent_ctx_t  *ctx;

    ctx = ngx_http_consent_variable_ctx(r);
    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_consent_variable_number(r, v, ctx->csp_unenforceable);
}


static ngx_int_t
ngx_http_consent_variable_number(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_uint_t n)
{
    size_t  len;

    v->data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sprintf(v->data, "%ui", n) - v->data;

    return ngx_http_consent_variable_found(v, v->data, len);
}
