/*
 * Copyright (C) ngx_consent_module authors
 *
 * IAB strings at the edge; see ngx_http_consent_iab.h.
 *
 * Decoding a TC string costs more than the rest of a request, and a
 * visitor sends the same one on every request until the CMP writes a
 * new one.  So each worker keeps what a set of strings says in a memo
 * (ngx_http_consent_memo.h) keyed by the strings' bytes; what a request
 * takes from it is copied, since the entry may go while the request
 * waits on Redis.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_iab.h"
#include "ngx_http_consent_memo.h"
#include "ngx_http_consent_util.h"

#include "iab.h"


/* 13 months of 30 days, the CNIL's limit on keeping a consent */
#define NGX_HTTP_CONSENT_IAB_MAX_AGE    (390 * 86400)

#define NGX_HTTP_CONSENT_IAB_NSTRINGS   4


static void ngx_http_consent_iab_strings(ngx_http_request_t *r,
    consent_span_t *s);
static ngx_int_t ngx_http_consent_iab_decode(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, consent_span_t *s,
    ngx_http_consent_ctx_t *ctx, size_t nrefused);
static void *ngx_http_consent_iab_alloc(void *data, size_t size);
static char *ngx_http_consent_iab_cmps(ngx_conf_t *cf, ngx_str_t *list,
    consent_iab_policy_t *policy);


static ngx_http_consent_memo_t  ngx_http_consent_iab_memo;


/* consent_iab off | on cmp=ID[,ID...]|any [max_age=TIME|off] */

char *
ngx_http_consent_iab(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    time_t                         age;
    ngx_str_t                     *value, s;
    ngx_uint_t                     i, cmp;
    consent_iab_policy_t          *policy;

    if (lcf->iab != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no options with \"off\"";
        }

        lcf->iab = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "on") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be \"on\" or "
                           "\"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    policy = ngx_pcalloc(cf->pool, sizeof(consent_iab_policy_t));
    if (policy == NULL) {
        return NGX_CONF_ERROR;
    }

    policy->max_age = NGX_HTTP_CONSENT_IAB_MAX_AGE;
    cmp = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (!cmp && ngx_http_consent_param(&value[i], "cmp=", &s) == NGX_OK) {
            cmp = 1;

            if (ngx_http_consent_iab_cmps(cf, &s, policy) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_consent_param(&value[i], "max_age=", &s) == NGX_OK) {
            if (ngx_http_consent_param_sec_off(&s, &age) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": a time such as 13M, "
                                   "or off", &value[i]);
                return NGX_CONF_ERROR;
            }

            policy->max_age = age;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    /* which CMP writes the site's strings is the operator's to say */
    if (!cmp) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"consent_iab on\" needs cmp=ID[,ID...] (the "
                           "IAB CMP ids trusted) or cmp=any");
        return NGX_CONF_ERROR;
    }

    lcf->iab = policy;

    return NGX_CONF_OK;
}


static char *
ngx_http_consent_iab_cmps(ngx_conf_t *cf, ngx_str_t *list,
    consent_iab_policy_t *policy)
{
    u_char     *p, *end, *comma;
    ngx_int_t   id;

    if (list->len == 3 && ngx_strncmp(list->data, "any", 3) == 0) {
        policy->any_cmp = 1;
        return NGX_CONF_OK;
    }

    p = list->data;
    end = p + list->len;

    do {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        id = ngx_atoi(p, comma - p);

        if (id < 1 || id > CONSENT_IAB_CMP_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid CMP id \"%*s\": 1 to %d, or "
                               "cmp=any", (size_t) (comma - p), p,
                               CONSENT_IAB_CMP_MAX);
            return NGX_CONF_ERROR;
        }

        policy->cmps[id >> 3] |= (u_char) (1u << (id & 7));
        p = comma + 1;

    } while (comma < end);

    return NGX_CONF_OK;
}


/* consent_iab_map PURPOSE ITEM... | PURPOSE off: replaces its mapping */

char *
ngx_http_consent_iab_map(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    int             p;
    ngx_str_t      *value;
    ngx_uint_t      i;
    consent_err_t   err;

    value = cf->args->elts;

    p = consent_purpose_find(&cmcf->purposes, value[1].data, value[1].len);
    if (p < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown purpose \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (p == CONSENT_P_NECESSARY) {
        return "cannot map \"necessary\": it is always granted";
    }

    if (cmcf->iab_map_set & CONSENT_BIT(p)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "purpose \"%V\" is mapped twice", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->iab_map_set |= CONSENT_BIT(p);
    consent_iab_map_clear(&cmcf->iab_map, p);

    if (cf->args->nelts == 3 && ngx_strcmp(value[2].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (consent_iab_map_item(&cmcf->iab_map, p, value[i].data,
                                 value[i].len, &err)
            != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid item \"%V\": %s", &value[i],
                               err.msg);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_consent_iab_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf)
{
    ngx_uint_t                    i, n, with_gvl;
    const consent_vendor_meta_t  *meta;

    ngx_conf_init_value(cmcf->iab_cache, 1024);

    n = consent_ruleset_vendors(cmcf->rules);
    with_gvl = 0;

    cmcf->vendor_gvl = ngx_pcalloc(cf->pool, (n + 1) * sizeof(uint16_t));
    if (cmcf->vendor_gvl == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        meta = consent_ruleset_vendor_meta(cmcf->rules, i);

        if (meta && meta->gvl) {
            cmcf->vendor_gvl[i] = meta->gvl;
            with_gvl++;
        }
    }

    /* no vendor to check: the TCF vendor sections are never looked at */
    cmcf->nvendors = with_gvl ? n : 0;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_consent_iab_read(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    u_char                        *v;
    size_t                         len, nrefused;
    ngx_str_t                      key[NGX_HTTP_CONSENT_IAB_NSTRINGS];
    ngx_uint_t                     i, memo;
    consent_span_t                 s[NGX_HTTP_CONSENT_IAB_NSTRINGS];
    ngx_http_consent_main_conf_t  *cmcf;

    if (ctx->iab_read) {
        return NGX_OK;
    }

    ctx->iab_read = 1;
    ngx_memzero(&ctx->iab, sizeof(consent_iab_t));
    ctx->iab_refused = NULL;

    ngx_http_consent_iab_strings(r, s);

    for (i = 0; i < NGX_HTTP_CONSENT_IAB_NSTRINGS; i++) {
        key[i].data = (u_char *) s[i].data;
        key[i].len = s[i].len;
        ctx->iab_sent |= (s[i].len != 0);
    }

    if (!ctx->iab_sent) {
        return NGX_OK;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    nrefused = (cmcf->nvendors + 7) / 8;
    len = 0;

    memo = (ngx_http_consent_memo_ready(&ngx_http_consent_iab_memo,
                                        cmcf->generation,
                                        (ngx_uint_t) cmcf->iab_cache,
                                        r->connection->log)
            == NGX_OK);

    /* a memo entry: the facts, then the refused vendors if any */

    v = memo ? ngx_http_consent_memo_get(&ngx_http_consent_iab_memo, key,
                                         NGX_HTTP_CONSENT_IAB_NSTRINGS, &len)
             : NULL;

    /* an entry of another shape is not this configuration's: a miss */
    if (v && len != sizeof(consent_iab_t)
        && len != sizeof(consent_iab_t) + nrefused)
    {
        v = NULL;
    }

    if (v) {
        ngx_memcpy(&ctx->iab, v, sizeof(consent_iab_t));

        if (len > sizeof(consent_iab_t)) {
            ctx->iab_refused = ngx_pnalloc(r->pool, nrefused);
            if (ctx->iab_refused == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(ctx->iab_refused, v + sizeof(consent_iab_t), nrefused);
        }

        return NGX_OK;
    }

    if (ngx_http_consent_iab_decode(r, cmcf, s, ctx, nrefused) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!memo) {
        return NGX_OK;
    }

    len = sizeof(consent_iab_t) + (ctx->iab_refused ? nrefused : 0);

    v = ngx_pnalloc(r->pool, len);
    if (v == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(v, &ctx->iab, sizeof(consent_iab_t));

    if (ctx->iab_refused) {
        ngx_memcpy(v + sizeof(consent_iab_t), ctx->iab_refused, nrefused);
    }

    ngx_http_consent_memo_put(&ngx_http_consent_iab_memo, key,
                              NGX_HTTP_CONSENT_IAB_NSTRINGS, v, len,
                              r->connection->log);

    return NGX_OK;
}


/* the first cookie of each name, over every Cookie line */

static void
ngx_http_consent_iab_strings(ngx_http_request_t *r, consent_span_t *s)
{
    ngx_table_elt_t                  *h;
    ngx_http_consent_cookie_lines_t   lines;

    static const consent_span_t  names[NGX_HTTP_CONSENT_IAB_NSTRINGS] = {
        { (u_char *) "euconsent-v2", sizeof("euconsent-v2") - 1 },
        { (u_char *) "__gpp", sizeof("__gpp") - 1 },
        { (u_char *) "__gpp_sid", sizeof("__gpp_sid") - 1 },
        { (u_char *) "usprivacy", sizeof("usprivacy") - 1 }
    };

    ngx_memzero(s, NGX_HTTP_CONSENT_IAB_NSTRINGS * sizeof(consent_span_t));

    ngx_http_consent_cookie_lines_init(&lines, &r->headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {
        consent_cookie_find_each(h->value.data, h->value.len, names,
                                 NGX_HTTP_CONSENT_IAB_NSTRINGS, s);
    }
}


static ngx_int_t
ngx_http_consent_iab_decode(ngx_http_request_t *r,
    ngx_http_consent_main_conf_t *cmcf, consent_span_t *s,
    ngx_http_consent_ctx_t *ctx, size_t nrefused)
{
    u_char                 *refused;
    consent_alloc_t         a;
    consent_iab_strings_t   strings;

    strings.tcf = s[0];
    strings.gpp = s[1];
    strings.gpp_sid = s[2];
    strings.usp = s[3];

    a.alloc = ngx_http_consent_iab_alloc;
    a.data = r->pool;

    refused = ngx_pcalloc(r->pool, nrefused + 1);
    if (refused == NULL) {
        return NGX_ERROR;
    }

    if (consent_iab_read(&strings, &a, cmcf->vendor_gvl, cmcf->nvendors,
                         refused, &ctx->iab)
        != 0)
    {
        return NGX_ERROR;
    }

    if (ctx->iab.vendor_refused) {
        ctx->iab_refused = refused;
    }

    if (ctx->iab.tcf_error || ctx->iab.gpp_error || ctx->iab.sid_error
        || ctx->iab.usp_error)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "consent IAB strings partly ignored: error codes "
                      "euconsent-v2 %d, __gpp %d, __gpp_sid %d, "
                      "usprivacy %d", ctx->iab.tcf_error,
                      ctx->iab.gpp_error, ctx->iab.sid_error,
                      ctx->iab.usp_error);
    }

    return NGX_OK;
}


static void *
ngx_http_consent_iab_alloc(void *data, size_t size)
{
    return ngx_palloc((ngx_pool_t *) data, size);
}


void
ngx_http_consent_iab_state(ngx_http_consent_ctx_t *ctx, ngx_str_t *s)
{
    ngx_str_null(s);

    if (!ctx->iab_sent || (!ctx->iab.tcf && !ctx->iab.tcf_error)) {
        return;
    }

    if (!ctx->iab.tcf) {
        ngx_str_set(s, "invalid");
        return;
    }

    switch (ctx->iab_trust) {

    case CONSENT_IAB_OK:
        if (ctx->source == CONSENT_SRC_IAB) {
            ngx_str_set(s, "used");

        } else {
            ngx_str_set(s, "recorded");
        }
        break;

    case CONSENT_IAB_CMP:
        ngx_str_set(s, "cmp");
        break;

    case CONSENT_IAB_EXPIRED:
        ngx_str_set(s, "expired");
        break;

    case CONSENT_IAB_FUTURE:
        ngx_str_set(s, "future");
        break;

    default:
        break;
    }
}
