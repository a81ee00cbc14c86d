/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_csp; see ngx_http_consent_csp.h.  The rules vendors' domains
 * ("@vendor ... domains=") are kept reversed and sorted, so that a host
 * source is judged by a few binary searches: its host and each parent
 * of it, and for a wildcard ("*.com") the run of domains under its
 * base.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_csp.h"
#include "ngx_http_consent_memo.h"
#include "ngx_http_consent_overrides.h"
#include "ngx_http_consent_util.h"

#include "csp.h"


typedef struct {
    ngx_str_t                      domain;       /* lower case */
    ngx_uint_t                     vendor;
} ngx_http_consent_csp_domain_t;

typedef struct {
    ngx_http_consent_main_conf_t  *cmcf;
    u_char                        *refused;      /* by vendor id */
    ngx_uint_t                     any;          /* one is refused */
} ngx_http_consent_csp_judge_t;

/* distinct (policy, decision) pairs a worker keeps rewritten */
#define NGX_HTTP_CONSENT_CSP_MEMO      256


static ngx_http_consent_memo_t  ngx_http_consent_csp_memo;


static int ngx_libc_cdecl ngx_http_consent_csp_cmp(const void *one,
    const void *two);
static int ngx_http_consent_csp_host(void *data, const u_char *host,
    size_t len, int wildcard);
static ngx_int_t ngx_http_consent_csp_refused_run(
    ngx_http_consent_csp_judge_t *j, const u_char *key, size_t len,
    ngx_uint_t prefix);
static ngx_int_t ngx_http_consent_csp_refused(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_csp_judge_t *j);
static ngx_int_t ngx_http_consent_csp_header(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_csp_judge_t *j,
    ngx_table_elt_t *h);


/* consent_csp_base "POLICY": the policy rewritten where the origin has none */

char *
ngx_http_consent_csp_base(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->csp_base.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a policy, or off";
    }

    /* off: none here, whatever an outer level gave */
    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        ngx_str_set(&lcf->csp_base, "");
        return NGX_CONF_OK;
    }

    for (i = 0; i < value[1].len; i++) {
        if ((value[1].data[i] < 0x20 && value[1].data[i] != '\t')
            || value[1].data[i] == 0x7f)
        {
            return "has a control character";
        }
    }

    lcf->csp_base = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_consent_csp_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf)
{
    size_t                          pos, k;
    ngx_uint_t                      i, n;
    consent_span_t                  d;
    ngx_http_consent_csp_domain_t  *cd;
    const consent_vendor_meta_t    *meta;

    n = consent_ruleset_vendors(cmcf->rules);

    cmcf->vendor_purposes = ngx_pcalloc(cf->pool,
                                        (n + 1) * sizeof(consent_mask_t));
    if (cmcf->vendor_purposes == NULL) {
        return NGX_CONF_ERROR;
    }

    cmcf->csp_domains = ngx_array_create(cf->pool, 16,
                                         sizeof(ngx_http_consent_csp_domain_t));
    if (cmcf->csp_domains == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        cmcf->vendor_purposes[i] = consent_ruleset_vendor_purposes(cmcf->rules,
                                                                   i);

        meta = consent_ruleset_vendor_meta(cmcf->rules, i);
        if (meta == NULL) {
            continue;
        }

        pos = 0;

        while (consent_vendor_domain_next(&meta->domains, &pos, &d)) {
            cd = ngx_array_push(cmcf->csp_domains);
            if (cd == NULL) {
                return NGX_CONF_ERROR;
            }

            /* ".criteo.com", as a cookie's Domain may be written */
            if (d.len && d.data[0] == '.') {
                d.data++;
                d.len--;
            }

            cd->domain.len = d.len;
            cd->domain.data = ngx_pnalloc(cf->pool, d.len + 1);
            if (cd->domain.data == NULL) {
                return NGX_CONF_ERROR;
            }

            /* reversed, "com.criteo": see ngx_http_consent_csp_host() */
            for (k = 0; k < d.len; k++) {
                cd->domain.data[k] = ngx_tolower(d.data[d.len - 1 - k]);
            }

            cd->vendor = i;
        }
    }

    ngx_qsort(cmcf->csp_domains->elts, cmcf->csp_domains->nelts,
              sizeof(ngx_http_consent_csp_domain_t), ngx_http_consent_csp_cmp);

    return NGX_CONF_OK;
}


static int ngx_libc_cdecl
ngx_http_consent_csp_cmp(const void *one, const void *two)
{
    const ngx_http_consent_csp_domain_t  *a = one;
    const ngx_http_consent_csp_domain_t  *b = two;

    ngx_int_t  rc;

    rc = ngx_memn2cmp(a->domain.data, b->domain.data, a->domain.len,
                      b->domain.len);

    return (rc < 0) ? -1 : (rc > 0);
}


ngx_int_t
ngx_http_consent_csp_filter(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_http_consent_loc_conf_t *lcf, ngx_uint_t add_base)
{
    ngx_uint_t                     found;
    ngx_table_elt_t               *h;
    ngx_http_consent_csp_judge_t   j;
    ngx_http_consent_list_iter_t   it;

    j.cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    j.refused = NULL;
    j.any = 0;

    found = 0;
    ngx_http_consent_list_iter_init(&it, &r->headers_out.headers);

    while ((h = ngx_http_consent_list_iter_next(&it)) != NULL) {

        if (!ngx_http_consent_header_is(h, "Content-Security-Policy",
                                        sizeof("Content-Security-Policy") - 1)
            && !ngx_http_consent_header_is(h,
                   "Content-Security-Policy-Report-Only",
                   sizeof("Content-Security-Policy-Report-Only") - 1))
        {
            continue;
        }

        found = 1;

        if (ngx_http_consent_csp_header(r, ctx, &j, h) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (found || lcf->csp_base.len == 0 || !add_base) {
        return NGX_OK;
    }

    h = ngx_http_consent_add_header(r, "Content-Security-Policy",
                                    sizeof("Content-Security-Policy") - 1,
                                    lcf->csp_base.data, lcf->csp_base.len);
    if (h == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_consent_csp_header(r, ctx, &j, h);
}


/*
 * The vendors this decision refuses (none of their purposes granted, or
 * a TC string's refusal), once per request, when a policy is not in the
 * memo
 */

static ngx_int_t
ngx_http_consent_csp_refused(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_csp_judge_t *j)
{
    ngx_uint_t      i, n;
    consent_mask_t  vp;

    n = consent_ruleset_vendors(j->cmcf->rules);

    j->refused = ngx_pcalloc(r->pool, n + 1);
    if (j->refused == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        vp = j->cmcf->vendor_purposes[i] & ~CONSENT_BIT(CONSENT_P_NECESSARY);

        /*
         * A vendor there for necessary only (a CMP's own script) is never
         * refused, nor one the operator switched off at run time.
         */
        j->refused[i] = vp
                        && ((vp & ctx->purposes) == 0
                            || (ctx->vendors_refused
                                && CONSENT_IAB_BIT(ctx->vendors_refused, i)))
                        && !ngx_http_consent_vendor_disabled(i);
        j->any |= j->refused[i];
    }

    /* nobody refused, or no domain known: policies stand as they are */
    j->any = j->any && j->cmcf->csp_domains->nelts;

    return NGX_OK;
}


/*
 * One header's value, replaced by its rewrite when anything changed.  The
 * rewrite depends on the value and the decision alone, and a site sends
 * few distinct policies to few distinct decisions: the worker's memo
 * keeps each (the counts, then the value, empty when unchanged).
 */

static ngx_int_t
ngx_http_consent_csp_header(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    ngx_http_consent_csp_judge_t *j, ngx_table_elt_t *h)
{
    u_char                *out, *v;
    size_t                 len, nrefused;
    ngx_str_t              key[4];
    ngx_uint_t             generation;
    ngx_uint_t             memo;
    consent_csp_result_t   res;

    nrefused = (j->cmcf->vendors_n + 7) / 8;
    len = 0;

    key[0] = h->value;
    key[1].data = (u_char *) &ctx->purposes;
    key[1].len = sizeof(consent_mask_t);
    key[2].data = (u_char *) ctx->vendors_refused;
    key[2].len = ctx->vendors_refused ? nrefused : 0;

    /* vendors switched on or off since: another answer */
    generation = ngx_http_consent_overrides_generation();
    key[3].data = (u_char *) &generation;
    key[3].len = sizeof(ngx_uint_t);

    memo = (ngx_http_consent_memo_ready(&ngx_http_consent_csp_memo,
                                        j->cmcf->generation,
                                        NGX_HTTP_CONSENT_CSP_MEMO,
                                        r->connection->log)
            == NGX_OK);

    v = memo ? ngx_http_consent_memo_get(&ngx_http_consent_csp_memo, key, 4,
                                         &len)
             : NULL;

    if (v && len < sizeof(consent_csp_result_t)) {
        v = NULL;
    }

    if (v) {
        ngx_memcpy(&res, v, sizeof(consent_csp_result_t));
        ctx->csp_unenforceable += res.unenforceable;

        if (len == sizeof(consent_csp_result_t)) {
            return NGX_OK;
        }

        len -= sizeof(consent_csp_result_t);

        out = ngx_pnalloc(r->pool, len);
        if (out == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out, v + sizeof(consent_csp_result_t), len);

        h->value.data = out;
        h->value.len = len;

        return NGX_OK;
    }

    if (j->refused == NULL
        && ngx_http_consent_csp_refused(r, ctx, j) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the counts first, then the value */
    v = ngx_pnalloc(r->pool, sizeof(consent_csp_result_t)
                             + CONSENT_CSP_OUT_SIZE(h->value.len));
    if (v == NULL) {
        return NGX_ERROR;
    }

    out = v + sizeof(consent_csp_result_t);
    len = 0;
    ngx_memzero(&res, sizeof(consent_csp_result_t));

    if (j->any) {
        len = consent_csp_rewrite(h->value.data, h->value.len,
                                  ngx_http_consent_csp_host, j, out, &res);
    }

    ctx->csp_unenforceable += res.unenforceable;
    ngx_memcpy(v, &res, sizeof(consent_csp_result_t));

    if (res.dropped == 0) {
        len = 0;
    }

    if (memo) {
        ngx_http_consent_memo_put(&ngx_http_consent_csp_memo, key, 4, v,
                                  sizeof(consent_csp_result_t) + len,
                                  r->connection->log);
    }

    if (len == 0) {
        return NGX_OK;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "consent csp: %ui host sources dropped, %ui directives "
                   "unenforceable", (ngx_uint_t) res.dropped,
                   (ngx_uint_t) res.unenforceable);

    /* a new value: the old one may be shared with a cached response */
    h->value.data = out;
    h->value.len = len;

    return NGX_OK;
}


/*
 * CONSENT_CSP_DROP, _COVERS or _KEEP for a host source's host.  The
 * domains are kept reversed ("com.criteo"), so the host's parents are
 * the prefixes of its reversed form that end at a dot, and the domains
 * under a wildcard's base are one run of the sorted array.
 */

static int
ngx_http_consent_csp_host(void *data, const u_char *host, size_t len,
    int wildcard)
{
    ngx_http_consent_csp_judge_t *j = data;

    size_t  k;
    u_char  rev[CONSENT_CSP_HOST_MAX + 1];

    if (len > CONSENT_CSP_HOST_MAX) {
        return CONSENT_CSP_KEEP;
    }

    for (k = 0; k < len; k++) {
        rev[k] = host[len - 1 - k];
    }

    /* the host, then each parent of it, as a refused vendor's domain */

    for (k = 1; k <= len; k++) {
        if ((k == len || rev[k] == '.')
            && ngx_http_consent_csp_refused_run(j, rev, k, 0) == NGX_OK)
        {
            return CONSENT_CSP_DROP;
        }
    }

    if (!wildcard) {
        return CONSENT_CSP_KEEP;
    }

    /* "*.com": the refused domains strictly under com, "com." reversed */

    rev[len] = '.';

    return (ngx_http_consent_csp_refused_run(j, rev, len + 1, 1) == NGX_OK)
           ? CONSENT_CSP_COVERS : CONSENT_CSP_KEEP;
}


/*
 * NGX_OK when a refused vendor's reversed domain is key (or, with
 * prefix, starts with key); several vendors may share a domain
 */

static ngx_int_t
ngx_http_consent_csp_refused_run(ngx_http_consent_csp_judge_t *j,
    const u_char *key, size_t len, ngx_uint_t prefix)
{
    ngx_int_t                       rc;
    ngx_uint_t                      lo, hi, mid, n;
    ngx_http_consent_csp_domain_t  *d;

    d = j->cmcf->csp_domains->elts;
    n = j->cmcf->csp_domains->nelts;
    lo = 0;
    hi = n;

    /* the first domain not below the key */

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        rc = ngx_memn2cmp((u_char *) key, d[mid].domain.data, len,
                          d[mid].domain.len);

        if (rc > 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for ( ; lo < n; lo++) {
        if (d[lo].domain.len < len
            || (!prefix && d[lo].domain.len != len)
            || ngx_memcmp(d[lo].domain.data, key, len) != 0)
        {
            break;
        }

        if (j->refused[d[lo].vendor]) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}
