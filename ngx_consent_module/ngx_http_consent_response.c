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


static ngx_int_t ngx_http_consent_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_drop_set_cookies(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_main_conf_t *cmcf,
    size_t *pp_len);
static ngx_int_t ngx_http_consent_note_dropped(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, const u_char *name, size_t len);

static ngx_int_t ngx_http_consent_expire_one(ngx_http_request_t *r,
    u_char *name, size_t len, ngx_str_t *host);
static ngx_int_t ngx_http_consent_permissions_policy(ngx_http_request_t *r,
    size_t pp_len);
static ngx_uint_t ngx_http_consent_is_header(ngx_table_elt_t *h,
    const char *name, size_t len);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/* the browser APIs an ad-refusing visitor should not have */
static ngx_str_t  ngx_http_consent_pp_features[] = {
    ngx_string("browsing-topics"),
    ngx_string("interest-cohort"),
    ngx_string("attribution-reporting"),
    ngx_string("join-ad-interest-group"),
    ngx_string("run-ad-auction"),
};

#define NGX_HTTP_CONSENT_PP_N                                                \
    (sizeof(ngx_http_consent_pp_features) / sizeof(ngx_str_t))


ngx_int_t
ngx_http_consent_response_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_consent_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_consent_header_filter(ngx_http_request_t *r)
{
    size_t                         pp_len;
    consent_mask_t                 refused;
    ngx_table_elt_t               *h;
    ngx_http_consent_ctx_t        *ctx;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    if (!lcf->enable || r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_consent_get_ctx(r, 0);

    /* no decision (an error before the access phase), or a refusal */
    if (ctx == NULL || !ctx->decided || ctx->blocked || ctx->api) {
        return ngx_http_next_header_filter(r);
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    refused = consent_purposes_all(&cmcf->purposes) & ~ctx->purposes;

    if (refused) {
        if (ngx_http_consent_drop_set_cookies(r, ctx, cmcf, &pp_len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (lcf->expire_rejected && ctx->stripped.len
            && ngx_http_consent_expire_names(r, &ctx->stripped) != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (lcf->permissions_policy
            && (refused & CONSENT_BIT(CONSENT_P_ADVERTISING))
            && ngx_http_consent_permissions_policy(r, pp_len) != NGX_OK)
        {
            return NGX_ERROR;
        }
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


static ngx_uint_t
ngx_http_consent_is_header(ngx_table_elt_t *h, const char *name, size_t len)
{
    return h->hash && h->key.len == len
           && ngx_strncasecmp(h->key.data, (u_char *) name, len) == 0;
}


/*
 * The same walk measures the Permissions-Policy headers to merge: *pp_len
 * is 0 when there are none.
 */

static ngx_int_t
ngx_http_consent_drop_set_cookies(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_main_conf_t *cmcf,
    size_t *pp_len)
{
    ngx_uint_t               i, drop;
    ngx_list_part_t         *part;
    ngx_table_elt_t         *h;
    consent_set_cookie_t     sc;
    const consent_rule_t    *rule;

    part = &r->headers_out.headers.part;
    h = part->elts;
    *pp_len = 0;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_consent_is_header(&h[i], "Permissions-Policy",
                                       sizeof("Permissions-Policy") - 1))
        {
            *pp_len += h[i].value.len + 2;
            continue;
        }

        if (cmcf->nrules == 0
            || !ngx_http_consent_is_header(&h[i], "Set-Cookie",
                                           sizeof("Set-Cookie") - 1))
        {
            continue;
        }

        consent_set_cookie_parse(h[i].value.data, h[i].value.len, &sc);

        /* the consent cookie is the visitor's own record: never touched */
        if (sc.name_len == cmcf->cookie_name.len
            && ngx_strncmp(sc.name, cmcf->cookie_name.data, sc.name_len) == 0)
        {
            continue;
        }

        drop = 0;
        rule = NULL;

        if (sc.name_len) {
            rule = ngx_http_consent_rule_active(
                       consent_ruleset_match(cmcf->rules, sc.name,
                                             sc.name_len));
            drop = rule && !(ctx->purposes & CONSENT_BIT(rule->purpose));
        }

        if (!drop && sc.domain_len) {
            rule = ngx_http_consent_rule_active(
                       consent_ruleset_match_domain(cmcf->rules, sc.domain,
                                                    sc.domain_len));
            drop = rule && !(ctx->purposes & CONSENT_BIT(rule->purpose));
        }

        if (!drop) {
            continue;
        }

        h[i].hash = 0;

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

    ngx_memcpy(p, ctx->dropped.data, ctx->dropped.len);

    if (ctx->dropped.len) {
        p[ctx->dropped.len++] = ',';
    }

    for (i = 0; i < len; i++) {
        p[ctx->dropped.len++] = (name[i] > ' ' && name[i] < 0x7f)
                                ? name[i] : '?';
    }

    ctx->dropped.data = p;

    return NGX_OK;
}


/* names: comma-separated cookie names ($consent_stripped's format) */

ngx_int_t
ngx_http_consent_expire_names(ngx_http_request_t *r, ngx_str_t *names)
{
    u_char      *p, *end, *comma, *q, *seen;
    size_t       len;
    ngx_str_t    host;
    ngx_uint_t   dup, ok;

    host = r->headers_in.server;

    p = names->data;
    end = p + names->len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        len = comma - p;

        /*
         * the name goes into a header: none of the bytes that would end or
         * split it (controls, space, '"', ';', '=', '\\', non-ASCII);
         * other separators stay, browsers keep such names
         */
        ok = (len > 0);

        for (q = p; q < comma; q++) {
            if (*q <= ' ' || *q >= 0x7f || *q == '"' || *q == ';'
                || *q == '=' || *q == '\\')
            {
                ok = 0;
                break;
            }
        }

        /* a name sent twice is expired once */
        dup = 0;

        for (seen = names->data; ok && seen < p; /* void */) {
            q = ngx_strlchr(seen, p, ',');

            if (q == NULL) {
                break;
            }

            if ((size_t) (q - seen) == len && ngx_strncmp(seen, p, len) == 0) {
                dup = 1;
                break;
            }

            seen = q + 1;
        }

        if (ok && !dup
            && ngx_http_consent_expire_one(r, p, len, &host) != NGX_OK)
        {
            return NGX_ERROR;
        }

        p = comma + 1;
    }

    return NGX_OK;
}


/*
 * "NAME=; Max-Age=0; Path=/" for a host-only cookie, and once more with
 * Domain= for the host and each parent of at least two labels: a script
 * may have set the cookie on any of them.  No Domain variants for an IP
 * address or a single-label host.
 */

static ngx_int_t
ngx_http_consent_expire_one(ngx_http_request_t *r, u_char *name, size_t len,
    ngx_str_t *host)
{
    u_char      *v, *p, *d, *end;
    size_t       vlen;
    ngx_uint_t   ip, i;

    static const char  tail[] = "=; Max-Age=0; Path=/";
    static const char  dom[] = "; Domain=";

    vlen = len + sizeof(tail) - 1;

    v = ngx_pnalloc(r->pool, vlen);
    if (v == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(v, name, len);
    ngx_memcpy(p, tail, sizeof(tail) - 1);

    if (ngx_http_consent_add_header(r, "Set-Cookie", 10, v, vlen) == NULL) {
        return NGX_ERROR;
    }

    if (host->len == 0 || ngx_strlchr(host->data, host->data + host->len,
                                      '.') == NULL)
    {
        return NGX_OK;
    }

    ip = 1;

    for (i = 0; i < host->len; i++) {
        if (!((host->data[i] >= '0' && host->data[i] <= '9')
              || host->data[i] == '.'))
        {
            ip = 0;
        }

        /* ngx_http_validate_host() let it through; still, only plain bytes */
        if (host->data[i] <= ' ' || host->data[i] >= 0x7f
            || host->data[i] == ';' || host->data[i] == ':'
            || host->data[i] == '[')
        {
            return NGX_OK;
        }
    }

    if (ip) {
        return NGX_OK;
    }

    d = host->data;
    end = host->data + host->len;

    while (ngx_strlchr(d, end, '.') != NULL) {

        vlen = len + sizeof(tail) - 1 + sizeof(dom) - 1 + (end - d);

        v = ngx_pnalloc(r->pool, vlen);
        if (v == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(v, name, len);
        p = ngx_cpymem(p, tail, sizeof(tail) - 1);
        p = ngx_cpymem(p, dom, sizeof(dom) - 1);
        ngx_memcpy(p, d, end - d);

        if (ngx_http_consent_add_header(r, "Set-Cookie", 10, v, vlen)
            == NULL)
        {
            return NGX_ERROR;
        }

        d = ngx_strlchr(d, end, '.') + 1;
    }

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_consent_add_header(ngx_http_request_t *r, const char *key,
    size_t key_len, u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = key_len;
    h->value.data = value;
    h->value.len = len;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}


/*
 * One Permissions-Policy: the upstream's members in their order, ours in
 * place of members of the same name, the rest of ours appended.  Members
 * are split on commas outside quotes and parentheses (RFC 8941 lists).
 */

static ngx_int_t
ngx_http_consent_permissions_policy(ngx_http_request_t *r, size_t pp_len)
{
    u_char           *out, *o, *p, *end, *m, *k, *k_end;
    size_t            len;
    ngx_uint_t        i, f, used, depth, quoted;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *first;

    static u_char  ours[] = "browsing-topics=(), interest-cohort=(), "
                            "attribution-reporting=(), "
                            "join-ad-interest-group=(), run-ad-auction=()";

    /* the common case: nothing to merge with, a constant value */
    if (pp_len == 0) {
        return ngx_http_consent_add_header(r, "Permissions-Policy",
                                           sizeof("Permissions-Policy") - 1,
                                           ours, sizeof(ours) - 1)
               ? NGX_OK : NGX_ERROR;
    }

    /* ours, ", ", then the upstream members with their separators */
    len = sizeof(ours) - 1 + 2 + pp_len;
    first = NULL;

    out = ngx_pnalloc(r->pool, len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    o = out;
    used = 0;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (!ngx_http_consent_is_header(&h[i], "Permissions-Policy",
                                        sizeof("Permissions-Policy") - 1))
        {
            continue;
        }

        if (first == NULL) {
            first = &h[i];

        } else {
            h[i].hash = 0;
        }

        p = h[i].value.data;
        end = p + h[i].value.len;

        while (p < end) {
            m = p;
            depth = 0;
            quoted = 0;

            for ( /* void */ ; p < end; p++) {
                if (quoted) {
                    if (*p == '\\' && p + 1 < end) {
                        p++;

                    } else if (*p == '"') {
                        quoted = 0;
                    }

                } else if (*p == '"') {
                    quoted = 1;

                } else if (*p == '(') {
                    depth++;

                } else if (*p == ')' && depth) {
                    depth--;

                } else if (*p == ',' && depth == 0) {
                    break;
                }
            }

            k = m;
            k_end = p;
            p++;

            while (k < k_end && (*k == ' ' || *k == '\t')) {
                k++;
            }

            while (k_end > k && (k_end[-1] == ' ' || k_end[-1] == '\t')) {
                k_end--;
            }

            if (k == k_end) {
                continue;
            }

            m = k;

            while (k < k_end && *k != '=' && *k != ';') {
                k++;
            }

            if (o > out) {
                *o++ = ','; *o++ = ' ';
            }

            for (f = 0; f < NGX_HTTP_CONSENT_PP_N; f++) {
                if ((size_t) (k - m) == ngx_http_consent_pp_features[f].len
                    && ngx_strncmp(m, ngx_http_consent_pp_features[f].data,
                                   k - m) == 0)
                {
                    break;
                }
            }

            if (f < NGX_HTTP_CONSENT_PP_N) {
                if (used & (1 << f)) {
                    o -= 2;                     /* a duplicate: drop it */
                    continue;
                }

                used |= 1 << f;
                o = ngx_cpymem(o, m, k - m);
                o = ngx_cpymem(o, "=()", 3);

            } else {
                o = ngx_cpymem(o, m, k_end - m);
            }
        }
    }

    for (f = 0; f < NGX_HTTP_CONSENT_PP_N; f++) {
        if (used & (1 << f)) {
            continue;
        }

        if (o > out) {
            *o++ = ','; *o++ = ' ';
        }

        o = ngx_cpymem(o, ngx_http_consent_pp_features[f].data,
                       ngx_http_consent_pp_features[f].len);
        o = ngx_cpymem(o, "=()", 3);
    }

    if (first) {
        first->value.data = out;
        first->value.len = o - out;
        return NGX_OK;
    }

    return ngx_http_consent_add_header(r, "Permissions-Policy",
                                       sizeof("Permissions-Policy") - 1,
                                       out, o - out)
           ? NGX_OK : NGX_ERROR;
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
