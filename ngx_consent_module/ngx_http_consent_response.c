/*
 * Copyright (C) ngx_consent_module authors
 *
 * The response side: upstream Set-Cookie headers for refused purposes are
 * dropped (by cookie name, or by a Domain that a rule names as a tracker's),
 * rejected cookies the browser still sent are expired, the browser's ad
 * APIs are switched off with Permissions-Policy, and the privacy policy is
 * linked.  Kept headers are never rewritten, and nothing written here
 * comes from the request except names that were checked byte by byte.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_csp.h"
#include "ngx_http_consent_decide.h"
#include "ngx_http_consent_expire.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_rules.h"
#include "ngx_http_consent_overrides.h"
#include "ngx_http_consent_request.h"
#include "ngx_http_consent_response.h"

#include "permissions_policy.h"
#include "strip.h"


static ngx_int_t ngx_http_consent_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_drop_set_cookies(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_main_conf_t *cmcf,
    ngx_uint_t *npp);
static const consent_rule_t *ngx_http_consent_set_cookie_refused(
    ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_http_consent_main_conf_t *cmcf, consent_set_cookie_t *sc);
static ngx_int_t ngx_http_consent_note_dropped(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, const u_char *name, size_t len);
static ngx_int_t ngx_http_consent_pp_header(ngx_http_request_t *r,
    ngx_http_consent_loc_conf_t *lcf, ngx_uint_t npp);
static char *ngx_http_consent_pp_set(ngx_conf_t *cf,
    ngx_http_consent_loc_conf_t *lcf, ngx_str_t *names, ngx_uint_t n);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/*
 * The browser ad APIs switched off by default: the ones current browsers
 * recognise (Chromium logs an error for every unknown feature on every
 * page); consent_permissions_policy can name others.
 */
static ngx_str_t  ngx_http_consent_pp_default[] = {
    ngx_string("browsing-topics"),
    ngx_string("interest-cohort")
};

#define NGX_HTTP_CONSENT_PP_DEFAULT_N                                        \
    (sizeof(ngx_http_consent_pp_default) / sizeof(ngx_str_t))


ngx_int_t
ngx_http_consent_response_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_consent_header_filter;

    return NGX_OK;
}


/*
 * Every answer of a location with "consent on" passes here, including the
 * ones nginx or the module makes itself (a "return", a redirect, an error
 * page, the 204 of consent_require, the consent API's): a Set-Cookie that
 * "add_header" put on them is filtered like an upstream one.  An answer
 * made before the location's rewrite phase decided (a "return" in the
 * server block, a request nginx refused) is decided here, without waiting
 * for Redis, and only filtered: nothing of ours is added to it.
 */

static ngx_int_t
ngx_http_consent_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                     npp, late;
    consent_mask_t                 refused;
    ngx_table_elt_t               *h;
    ngx_http_consent_ctx_t        *ctx;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    if ((!lcf->enable && !lcf->api) || r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_consent_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    late = !ctx->decided;

    if (late
        && ngx_http_consent_decide(r, ctx, NGX_HTTP_CONSENT_DECIDE_NOW)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    refused = consent_purposes_all(&cmcf->purposes) & ~ctx->purposes;
    npp = 0;

    if ((refused || ctx->vendors_refused)
        && ngx_http_consent_drop_set_cookies(r, ctx, cmcf, &npp) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a vendor's hosts go from any policy, as its cookies do */
    if (lcf->csp && lcf->enable && !ctx->api
        && ngx_http_consent_csp_filter(r, ctx, lcf, !late && !ctx->blocked)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a refusal or the API's own answer: nothing of ours is added */
    if (late || ctx->blocked || ctx->api || !lcf->enable) {
        return ngx_http_next_header_filter(r);
    }

    if ((refused || ctx->vendors_refused)
        && lcf->expire_rejected
        && ngx_http_consent_expire_cookies(r, ctx->stripped) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (lcf->pp_features
        && (refused & CONSENT_BIT(CONSENT_P_ADVERTISING))
        && ngx_http_consent_pp_header(r, lcf, npp) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (lcf->policy_link.len) {
        h = ngx_http_consent_add_header(r, "Link", 4, lcf->policy_link.data,
                                        lcf->policy_link.len);
        if (h == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_next_header_filter(r);
}


/*
 * The same walk counts the Permissions-Policy headers to merge into *npp.
 * The module's own Set-Cookie headers (the consent cookie, expiries) are
 * never dropped.
 */

static ngx_int_t
ngx_http_consent_drop_set_cookies(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_main_conf_t *cmcf,
    ngx_uint_t *npp)
{
    ngx_table_elt_t               *h;
    consent_set_cookie_t           sc;
    const consent_rule_t          *rule;
    ngx_http_consent_list_iter_t   it;

    ngx_http_consent_list_iter_init(&it, &r->headers_out.headers);

    while ((h = ngx_http_consent_list_iter_next(&it)) != NULL) {

        if (ngx_http_consent_header_is(h, "Permissions-Policy",
                                       sizeof("Permissions-Policy") - 1))
        {
            (*npp)++;
            continue;
        }

        if (cmcf->nrules == 0
            || ngx_http_consent_is_own_set_cookie(h)
            || !ngx_http_consent_header_is(h, "Set-Cookie",
                                           sizeof("Set-Cookie") - 1))
        {
            continue;
        }

        consent_set_cookie_parse(h->value.data, h->value.len, &sc);

        rule = ngx_http_consent_set_cookie_refused(r, ctx, cmcf, &sc);
        if (rule == NULL) {
            continue;
        }

        h->hash = 0;
        ngx_http_consent_metrics_cookie(rule, 1);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "consent dropped Set-Cookie \"%*s\"", sc.name_len,
                       sc.name);

        if (ngx_http_consent_note_dropped(r, ctx, sc.name, sc.name_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* by the cookie's name, or by a Domain that a rule names as a tracker's */

static const consent_rule_t *
ngx_http_consent_set_cookie_refused(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_main_conf_t *cmcf,
    consent_set_cookie_t *sc)
{
    consent_scope_t        scope;
    const consent_rule_t  *rule;

    /* the consent cookie is the visitor's own record: never touched */
    if (sc->name_len == cmcf->cookie_name.len
        && ngx_strncmp(sc->name, cmcf->cookie_name.data, sc->name_len) == 0)
    {
        return NULL;
    }

    if (sc->name_len) {
        /* where the cookie will live: its Domain, or else this host */
        ngx_http_consent_scope(r, cmcf->rules, sc->domain, sc->domain_len,
                               &scope);

        rule = ngx_http_consent_rule_active(
                   consent_ruleset_match_in(cmcf->rules, &scope, sc->name,
                                            sc->name_len));

        if (rule && consent_rule_refused(rule, ctx->purposes,
                                         ctx->vendors_refused))
        {
            return rule;
        }
    }

    if (sc->domain_len) {
        rule = ngx_http_consent_rule_active(
                   consent_ruleset_match_domain(cmcf->rules, sc->domain,
                                                sc->domain_len));

        if (rule && consent_rule_refused(rule, ctx->purposes,
                                         ctx->vendors_refused))
        {
            return rule;
        }
    }

    return NULL;
}


/* $consent_dropped: names only, and only bytes a header may carry */

static ngx_int_t
ngx_http_consent_note_dropped(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, const u_char *name, size_t len)
{
    u_char  *p;
    size_t   i;

    p = ngx_pnalloc(r->pool, ctx->dropped.len + 1 + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* the first name has no list before it: memcpy(p, NULL, 0) is UB */
    if (ctx->dropped.len) {
        ngx_memcpy(p, ctx->dropped.data, ctx->dropped.len);
        p[ctx->dropped.len++] = ',';
    }

    for (i = 0; i < len; i++) {
        p[ctx->dropped.len++] = (name[i] > ' ' && name[i] < 0x7f)
                                ? name[i] : '?';
    }

    ctx->dropped.data = p;

    return NGX_OK;
}


/*
 * One Permissions-Policy: the upstream's headers merged with the
 * location's features (see consent_core/permissions_policy.c), written
 * into the first of them; the others are dropped.
 */

static ngx_int_t
ngx_http_consent_pp_header(ngx_http_request_t *r,
    ngx_http_consent_loc_conf_t *lcf, ngx_uint_t npp)
{
    u_char                        *out;
    size_t                         len;
    ngx_uint_t                     n;
    consent_span_t                *values;
    ngx_table_elt_t               *h, *first;
    ngx_http_consent_list_iter_t   it;

    /* the common case: nothing to merge with, a value made at startup */
    if (npp == 0) {
        return ngx_http_consent_add_header(r, "Permissions-Policy",
                                           sizeof("Permissions-Policy") - 1,
                                           lcf->pp_value.data,
                                           lcf->pp_value.len)
               ? NGX_OK : NGX_ERROR;
    }

    values = ngx_palloc(r->pool, npp * sizeof(consent_span_t));
    if (values == NULL) {
        return NGX_ERROR;
    }

    first = NULL;
    n = 0;

    ngx_http_consent_list_iter_init(&it, &r->headers_out.headers);

    while ((h = ngx_http_consent_list_iter_next(&it)) != NULL) {

        if (n == npp
            || !ngx_http_consent_header_is(h, "Permissions-Policy",
                                           sizeof("Permissions-Policy") - 1))
        {
            continue;
        }

        if (first == NULL) {
            first = h;

        } else {
            h->hash = 0;
        }

        values[n].data = h->value.data;
        values[n].len = h->value.len;
        n++;
    }

    len = consent_pp_merge_size(values, n, lcf->pp_features->elts,
                                lcf->pp_features->nelts);

    out = ngx_pnalloc(r->pool, len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    len = consent_pp_merge(values, n, lcf->pp_features->elts,
                           lcf->pp_features->nelts, out, len);
    if (len == 0 || first == NULL) {
        return NGX_ERROR;
    }

    first->value.data = out;
    first->value.len = len;

    return NGX_OK;
}


char *
ngx_http_consent_policy_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    u_char      *p;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->policy_link.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] >= 0x7f
            || value[1].data[i] == '<' || value[1].data[i] == '>'
            || value[1].data[i] == '"')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid URL \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        return "needs a URL";
    }

    lcf->policy_link.len = value[1].len
                           + sizeof("<>; rel=\"privacy-policy\"") - 1;
    lcf->policy_link.data = ngx_pnalloc(cf->pool, lcf->policy_link.len);
    if (lcf->policy_link.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = lcf->policy_link.data;
    *p++ = '<';
    p = ngx_cpymem(p, value[1].data, value[1].len);
    ngx_memcpy(p, ">; rel=\"privacy-policy\"",
               sizeof(">; rel=\"privacy-policy\"") - 1);

    return NGX_CONF_OK;
}


/* consent_permissions_policy on | off | feature ... */

char *
ngx_http_consent_permissions_policy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, j;

    if (lcf->pp_features != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->pp_features = NULL;
        return NGX_CONF_OK;
    }

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "on") == 0) {
        return ngx_http_consent_pp_set(cf, lcf, ngx_http_consent_pp_default,
                                       NGX_HTTP_CONSENT_PP_DEFAULT_N);
    }

    if (cf->args->nelts - 1 > CONSENT_PP_FEATURES_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many features (at most %d)",
                           CONSENT_PP_FEATURES_MAX);
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_strcmp(value[i].data, "on") == 0
            || ngx_strcmp(value[i].data, "off") == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" cannot be combined with features",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (!consent_pp_feature_valid(value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid feature \"%V\" (lowercase letters, "
                               "digits and '-')", &value[i]);
            return NGX_CONF_ERROR;
        }

        for (j = 1; j < i; j++) {
            if (value[j].len == value[i].len
                && ngx_strncmp(value[j].data, value[i].data, value[i].len)
                   == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate feature \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }
        }
    }

    return ngx_http_consent_pp_set(cf, lcf, &value[1], cf->args->nelts - 1);
}


char *
ngx_http_consent_permissions_policy_merge(ngx_conf_t *cf,
    ngx_http_consent_loc_conf_t *prev, ngx_http_consent_loc_conf_t *conf)
{
    if (conf->pp_features != NGX_CONF_UNSET_PTR) {
        return NGX_CONF_OK;
    }

    if (prev->pp_features != NGX_CONF_UNSET_PTR) {
        conf->pp_features = prev->pp_features;
        conf->pp_value = prev->pp_value;
        return NGX_CONF_OK;
    }

    return ngx_http_consent_pp_set(cf, conf, ngx_http_consent_pp_default,
                                   NGX_HTTP_CONSENT_PP_DEFAULT_N);
}


/* the features, and the header value when there is nothing to merge */

static char *
ngx_http_consent_pp_set(ngx_conf_t *cf, ngx_http_consent_loc_conf_t *lcf,
    ngx_str_t *names, ngx_uint_t n)
{
    size_t           len;
    ngx_uint_t       i;
    consent_span_t  *f;

    lcf->pp_features = ngx_array_create(cf->pool, n, sizeof(consent_span_t));
    if (lcf->pp_features == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        f = ngx_array_push(lcf->pp_features);
        if (f == NULL) {
            return NGX_CONF_ERROR;
        }

        f->data = names[i].data;
        f->len = names[i].len;
    }

    len = consent_pp_merge_size(NULL, 0, lcf->pp_features->elts, n);

    lcf->pp_value.data = ngx_pnalloc(cf->pool, len);
    if (lcf->pp_value.data == NULL) {
        return NGX_CONF_ERROR;
    }

    lcf->pp_value.len = consent_pp_merge(NULL, 0, lcf->pp_features->elts, n,
                                         lcf->pp_value.data, len);

    return NGX_CONF_OK;
}
