/*
 * Copyright (C) ngx_consent_module authors
 *
 * What the decision changes on the way to the origin, after the cookies:
 * consent_require answers a request itself when a purpose is missing,
 * consent_strip_args removes tracking query parameters, and the Consent
 * header tells the origin the decision as an RFC 8941 dictionary.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_upstream.h"


static ngx_int_t ngx_http_consent_strip_query(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_loc_conf_t *lcf);
static ngx_uint_t ngx_http_consent_arg_refused(
    ngx_http_consent_loc_conf_t *lcf, consent_mask_t purposes, u_char *name,
    size_t len);
static ngx_int_t ngx_http_consent_set_upstream_header(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_loc_conf_t *lcf);


ngx_int_t
ngx_http_consent_upstream(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_http_consent_loc_conf_t *lcf)
{
    if (lcf->require != NGX_CONF_UNSET_UINT
        && (lcf->require & ~(ngx_uint_t) ctx->purposes))
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "consent_require refused: %ui",
                       lcf->require_status);

        /* the answer carries no cookies of ours either */
        if (r == r->main) {
            ctx->blocked = 1;
            ngx_http_consent_metrics_required();
        }

        return lcf->require_status;
    }

    if (lcf->strip_args && r->args.len
        && ngx_http_consent_strip_query(r, ctx, lcf) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A subrequest shares the main request's header list, which already
     * has the header, unless it was given a list of its own to strip.
     */
    if (r != r->main
        && ngx_http_get_module_ctx(r, ngx_http_consent_module) == NULL)
    {
        return NGX_DECLINED;
    }

    if (lcf->upstream_header.len
        && ngx_http_consent_set_upstream_header(r, ctx, lcf) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


static ngx_uint_t
ngx_http_consent_arg_refused(ngx_http_consent_loc_conf_t *lcf,
    consent_mask_t purposes, u_char *name, size_t len)
{
    ngx_uint_t               i;
    ngx_http_consent_arg_t  *a;

    a = lcf->strip_args->elts;

    for (i = 0; i < lcf->strip_args->nelts; i++) {

        if (purposes & CONSENT_BIT(a[i].purpose)) {
            continue;
        }

        if (a[i].prefix ? (len >= a[i].name.len)
                        : (len == a[i].name.len))
        {
            if (ngx_strncmp(name, a[i].name.data, a[i].name.len) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


/*
 * Parameters are matched by their name as sent (not percent-decoded, as
 * trackers append them); everything kept is copied byte for byte.
 */

static ngx_int_t
ngx_http_consent_strip_query(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_loc_conf_t *lcf)
{
    u_char      *p, *end, *amp, *eq, *out, *o, *uri;
    size_t       path_len;
    ngx_uint_t   dropped;

    out = ngx_pnalloc(r->pool, r->args.len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    o = out;
    dropped = 0;
    p = r->args.data;
    end = p + r->args.len;

    while (p < end) {
        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        eq = ngx_strlchr(p, amp, '=');
        if (eq == NULL) {
            eq = amp;
        }

        if (eq > p
            && ngx_http_consent_arg_refused(lcf, ctx->purposes, p,
                                            (size_t) (eq - p)))
        {
            dropped++;

        } else if (amp > p) {
            if (o > out) {
                *o++ = '&';
            }

            o = ngx_cpymem(o, p, amp - p);
        }

        p = amp + 1;
    }

    if (dropped == 0) {
        return NGX_OK;
    }

    r->args.data = out;
    r->args.len = o - out;

    /*
     * proxy_pass without a URI part sends the unparsed URI as it came, so
     * that one is rebuilt: the path exactly as the client sent it, only
     * the query changed.  Were the path rebuilt from r->uri instead, it
     * would go out decoded, with "//" merged and dot segments resolved.
     */
    if (r->valid_unparsed_uri) {
        p = ngx_strlchr(r->unparsed_uri.data,
                        r->unparsed_uri.data + r->unparsed_uri.len, '?');
        path_len = p ? (size_t) (p - r->unparsed_uri.data)
                     : r->unparsed_uri.len;

        uri = ngx_pnalloc(r->pool, path_len + 1 + r->args.len);
        if (uri == NULL) {
            return NGX_ERROR;
        }

        o = ngx_cpymem(uri, r->unparsed_uri.data, path_len);

        if (r->args.len) {
            *o++ = '?';
            o = ngx_cpymem(o, r->args.data, r->args.len);
        }

        r->unparsed_uri.data = uri;
        r->unparsed_uri.len = o - uri;
    }

    return NGX_OK;
}


/*
 * The value depends on the decision alone and a site sees few distinct
 * decisions, so each worker keeps the values it built.  A kept value is
 * never changed (a request suspended on its body may still point at it):
 * a slot holds the first value built for it, and a decision whose slot
 * holds another one gets a value of its own, in its request's pool.
 */

typedef struct {
    void                          *conf;
    consent_mask_t                 purposes;
    uint32_t                       version;
    ngx_uint_t                     gpc;
    ngx_uint_t                     tcf;
    ngx_str_t                      value;
} ngx_http_consent_dict_t;

#define NGX_HTTP_CONSENT_DICTS  64

static ngx_http_consent_dict_t  ngx_http_consent_dicts[NGX_HTTP_CONSENT_DICTS];
static ngx_cycle_t             *ngx_http_consent_dicts_cycle;


static ngx_int_t
ngx_http_consent_dictionary(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_main_conf_t *cmcf,
    ngx_str_t *value)
{
    u_char                   *p;
    size_t                    len;
    ngx_uint_t                n, tcf;
    ngx_pool_t               *pool;
    ngx_http_consent_dict_t  *d;

    /* the values live in the cycle's pool: none survives a new cycle */
    if (ngx_http_consent_dicts_cycle != ngx_cycle) {
        ngx_memzero(ngx_http_consent_dicts, sizeof(ngx_http_consent_dicts));
        ngx_http_consent_dicts_cycle = (ngx_cycle_t *) ngx_cycle;
    }

    /* a TC string decided: the origin may want to read it itself */
    tcf = (ctx->source == CONSENT_SRC_IAB);

    d = &ngx_http_consent_dicts[(ctx->purposes ^ (ctx->policy_version << 3)
                                 ^ (ctx->gpc << 9) ^ (tcf << 10))
                                % NGX_HTTP_CONSENT_DICTS];

    if (d->conf == cmcf && d->purposes == ctx->purposes
        && d->version == ctx->policy_version && d->gpc == ctx->gpc
        && d->tcf == tcf)
    {
        *value = d->value;
        return NGX_OK;
    }

    /* a free slot gets a value for the worker's life, else the request's */
    pool = (d->conf == NULL) ? ngx_cycle->pool : r->pool;

    /* "name=?1, " per optional purpose, then gpc and the policy version */
    len = sizeof("gpc=?0, v=") - 1 + NGX_INT32_LEN + sizeof(", tcf=?1") - 1;

    for (n = 1; n < cmcf->purposes.n; n++) {
        len += cmcf->purposes.len[n] + sizeof("=?0, ") - 1;
    }

    value->data = ngx_pnalloc(pool, len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    p = value->data;

    for (n = 1; n < cmcf->purposes.n; n++) {
        p = ngx_cpymem(p, cmcf->purposes.name[n], cmcf->purposes.len[n]);
        p = ngx_cpymem(p, (ctx->purposes & CONSENT_BIT(n)) ? "=?1, " : "=?0, ",
                       sizeof("=?0, ") - 1);
    }

    p = ngx_sprintf(p, "gpc=?%d, v=%uD", ctx->gpc ? 1 : 0,
                    ctx->policy_version);

    if (tcf) {
        p = ngx_cpymem(p, ", tcf=?1", sizeof(", tcf=?1") - 1);
    }

    value->len = p - value->data;

    if (pool == ngx_cycle->pool) {
        d->purposes = ctx->purposes;
        d->version = ctx->policy_version;
        d->gpc = ctx->gpc;
        d->tcf = tcf;
        d->value = *value;
        d->conf = cmcf;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_consent_set_upstream_header(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_loc_conf_t *lcf)
{
    ngx_str_t                      value;
    ngx_table_elt_t               *h, *ours;
    ngx_http_consent_list_iter_t   it;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    if (ngx_http_consent_dictionary(r, ctx, cmcf, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the client's value is replaced, never passed on, and only once */
    ours = NULL;

    ngx_http_consent_list_iter_init(&it, &r->headers_in.headers);

    while ((h = ngx_http_consent_list_iter_next(&it)) != NULL) {

        if (h == ours
            || h->key.len != lcf->upstream_header.len
            || ngx_strncasecmp(h->key.data, lcf->upstream_header.data,
                               h->key.len) != 0)
        {
            continue;
        }

        if (ours == NULL) {
            ours = h;
            continue;
        }

        if (ngx_http_consent_list_delete(r->pool, &r->headers_in.headers, h)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* the list may have been split: walk it again from the start */
        ngx_http_consent_list_iter_init(&it, &r->headers_in.headers);
    }

    if (ours == NULL) {
        ours = ngx_http_consent_add_request_header(r, &lcf->upstream_header,
                                                   &lcf->upstream_header_lc);
        if (ours == NULL) {
            return NGX_ERROR;
        }
    }

    ours->value = value;

    return NGX_OK;
}


char *
ngx_http_consent_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_int_t                      i, status;
    ngx_str_t                     *value;
    ngx_uint_t                     n, mask;
    ngx_http_consent_main_conf_t  *cmcf;

    if (lcf->require != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);
    value = cf->args->elts;
    mask = 0;
    status = NGX_HTTP_NO_CONTENT;

    for (n = 1; n < cf->args->nelts; n++) {

        if (ngx_strncmp(value[n].data, "status=", 7) == 0) {
            status = ngx_atoi(value[n].data + 7, value[n].len - 7);

            if (status != NGX_HTTP_NO_CONTENT && status != NGX_HTTP_FORBIDDEN
                && status != 451)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": the status may be 204, "
                                   "403 or 451", &value[n]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        i = consent_purpose_find(&cmcf->purposes, value[n].data,
                                 value[n].len);
        if (i < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown purpose \"%V\"", &value[n]);
            return NGX_CONF_ERROR;
        }

        mask |= CONSENT_BIT(i);
    }

    if (mask == 0) {
        return "needs at least one purpose";
    }

    lcf->require = mask;
    lcf->require_status = (ngx_uint_t) status;

    return NGX_CONF_OK;
}


char *
ngx_http_consent_strip_args(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_int_t                      purpose;
    ngx_str_t                     *value;
    ngx_uint_t                     n, i;
    ngx_http_consent_arg_t        *a;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);
    value = cf->args->elts;

    purpose = consent_purpose_find(&cmcf->purposes, value[1].data,
                                   value[1].len);
    if (purpose < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown purpose \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (purpose == CONSENT_P_NECESSARY) {
        return "cannot strip arguments for \"necessary\", it is never "
               "refused";
    }

    if (lcf->strip_args == NGX_CONF_UNSET_PTR) {
        lcf->strip_args = ngx_array_create(cf->pool, 8,
                                           sizeof(ngx_http_consent_arg_t));
        if (lcf->strip_args == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (n = 2; n < cf->args->nelts; n++) {

        a = ngx_array_push(lcf->strip_args);
        if (a == NULL) {
            return NGX_CONF_ERROR;
        }

        a->name = value[n];
        a->purpose = (ngx_uint_t) purpose;
        a->prefix = 0;

        if (a->name.len && a->name.data[a->name.len - 1] == '*') {
            a->prefix = 1;
            a->name.len--;
        }

        if (a->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid argument name \"%V\"", &value[n]);
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < a->name.len; i++) {
            if (a->name.data[i] == '&' || a->name.data[i] == '='
                || a->name.data[i] == '*')
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid argument name \"%V\"", &value[n]);
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_consent_upstream_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->upstream_header.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&lcf->upstream_header, "");
        return NGX_CONF_OK;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] >= 0x7f
            || value[1].data[i] == ':')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    lcf->upstream_header = value[1];

    lcf->upstream_header_lc.len = value[1].len;
    lcf->upstream_header_lc.data = ngx_pnalloc(cf->pool, value[1].len);
    if (lcf->upstream_header_lc.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_strlow(lcf->upstream_header_lc.data, value[1].data, value[1].len);

    return NGX_CONF_OK;
}
