/*
 * Copyright (C) ngx_consent_module authors
 *
 * The consent API's answers: the visitor's state and errors as JSON
 * (never stored by a cache on the way), and after a confirmed write the
 * fresh signed consent cookie and the expiry of the tracking cookies the
 * new state refuses.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_api_answer.h"
#include "ngx_http_consent_expire.h"
#include "ngx_http_consent_overrides.h"
#include "ngx_http_consent_policy.h"
#include "ngx_http_consent_record.h"
#include "ngx_http_consent_rules.h"

#include "strip.h"
#include "token.h"


static ngx_int_t ngx_http_consent_api_send(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);
static u_char *ngx_http_consent_api_purposes(u_char *p,
    consent_purposes_t *ps, consent_mask_t mask);


static u_char *
ngx_http_consent_api_purposes(u_char *p, consent_purposes_t *ps,
    consent_mask_t mask)
{
    ngx_uint_t  i, first;

    *p++ = '[';
    first = 1;

    for (i = 0; i < ps->n; i++) {
        if (!(mask & CONSENT_BIT(i))) {
            continue;
        }

        if (!first) {
            *p++ = ',';
        }

        first = 0;

        /* purpose names are [a-z0-9_]: nothing to escape */
        *p++ = '"';
        p = ngx_cpymem(p, ps->name[i], ps->len[i]);
        *p++ = '"';
    }

    *p++ = ']';

    return p;
}


ngx_int_t
ngx_http_consent_api_state(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx)
{
    u_char                        *body, *p;
    size_t                         len;
    const char                    *regime;
    const u_char                  *vendors;
    ngx_http_consent_policy_t      policy;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    ngx_http_consent_policy(lcf, ngx_time(), &policy);

    /* the recorded choice's own refusals, not a TC string's */
    vendors = ctx->recorded ? ctx->vendors_refused : NULL;

    len = sizeof("{\"subject\":,\"purposes\":,\"available\":,"
                 "\"policy_version\":,\"current_policy_version\":,"
                 "\"reconsent\":false,\"source\":\"\",\"regime\":\"\","
                 "\"region\":,\"gpc\":false,\"updated\":,"
                 "\"next_policy_version\":,\"next_policy_effective\":,"
                 "\"vendors_refused\":}\n")
          + 2 * (2 + cmcf->purposes.n * (CONSENT_PURPOSE_NAME_MAX + 3))
          + 2 + ctx->subject.len
          + 2 + consent_json_escape(ctx->region.data, ctx->region.len,
                                    NULL, 0)
          + 5 * NGX_TIME_T_LEN + 32
          + ngx_http_consent_vendor_json_len(cmcf, vendors);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"subject\":", 11);

    /* subject ids are [A-Za-z0-9._:@-]: nothing to escape */
    if (ctx->subject.len) {
        p = ngx_sprintf(p, "\"%V\"", &ctx->subject);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_cpymem(p, ",\"purposes\":", 12);
    p = ngx_http_consent_api_purposes(p, &cmcf->purposes, ctx->purposes);
    p = ngx_cpymem(p, ",\"available\":", 13);
    p = ngx_http_consent_api_purposes(p, &cmcf->purposes,
                                      consent_purposes_all(&cmcf->purposes));

    p = ngx_cpymem(p, ",\"policy_version\":", 18);

    if (ctx->recorded || ctx->stale) {
        p = ngx_sprintf(p, "%uD", ctx->policy_version);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    regime = consent_regime_name(ctx->regime);

    p = ngx_sprintf(p, ",\"current_policy_version\":%ui,\"reconsent\":%s,"
                    "\"source\":\"%s\",\"regime\":\"%s\",\"region\":",
                    policy.version, ctx->recorded ? "false" : "true",
                    consent_source_name(ctx->source), regime);

    if (ctx->region.len) {
        *p++ = '"';
        p += consent_json_escape(ctx->region.data, ctx->region.len, p,
                                 body + len - p);
        *p++ = '"';

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_sprintf(p, ",\"gpc\":%s,\"updated\":",
                    ctx->gpc ? "true" : "false");

    if (ctx->recorded && ctx->issued_at) {
        p = ngx_sprintf(p, "%T", ctx->issued_at);

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    /* announced, not yet in force: a banner tells of it ahead */
    if (policy.next) {
        p = ngx_sprintf(p, ",\"next_policy_version\":%ui,"
                        "\"next_policy_effective\":%T", policy.next,
                        policy.next_effective);

    } else {
        p = ngx_cpymem(p, ",\"next_policy_version\":null,"
                       "\"next_policy_effective\":null",
                       sizeof(",\"next_policy_version\":null,"
                              "\"next_policy_effective\":null") - 1);
    }

    p = ngx_cpymem(p, ",\"vendors_refused\":", 19);
    p = ngx_http_consent_vendor_json(p, cmcf, vendors);
    p = ngx_cpymem(p, "}\n", 2);

    return ngx_http_consent_api_send(r, NGX_HTTP_OK, body, p - body);
}


ngx_int_t
ngx_http_consent_api_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *field, const char *error)
{
    u_char  *body, *p;
    size_t   len, flen, elen;

    flen = field ? ngx_strlen(field) : 0;
    elen = ngx_strlen(error);

    len = sizeof("{\"error\":\"\",\"field\":\"\"}\n")
          + consent_json_escape((u_char *) error, elen, NULL, 0)
          + consent_json_escape((u_char *) field, flen, NULL, 0);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"error\":\"", 10);
    p += consent_json_escape((u_char *) error, elen, p, body + len - p);

    if (field) {
        p = ngx_cpymem(p, "\",\"field\":\"", 11);
        p += consent_json_escape((u_char *) field, flen, p, body + len - p);
    }

    p = ngx_cpymem(p, "\"}\n", 3);

    return ngx_http_consent_api_send(r, status, body, p - body);
}


static ngx_int_t
ngx_http_consent_api_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    if (r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE)) {
        ngx_http_consent_metrics_api(status);
    }

    /* a visitor's own state: never stored by a cache on the way */
    if (ngx_http_consent_add_header(r, "Cache-Control", 13,
                                    (u_char *) "no-store", 8)
        == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_consent_send_json(r, status, body, len);
}


/*
 * A browser tells where a write comes from: Sec-Fetch-Site, else Origin,
 * which must then name this very host.  A request with neither is not a
 * browser's cross-site one (forms and fetch() send Origin with POST).
 */

ngx_int_t
ngx_http_consent_api_cookie(ngx_http_request_t *r,
    ngx_http_consent_record_t *rec)
{
    u_char                        *v, *p;
    size_t                         n;
    consent_token_t                tok;
    consent_vendor_set_t          *vendors;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    ngx_memzero(&tok, sizeof(consent_token_t));

    /* refused vendors make it a version 2 token */
    vendors = ngx_http_consent_record_vendors(rec);

    if (vendors) {
        tok.vendors_len = consent_vendor_set_encode(vendors, NULL, 0);
        tok.vendors = ngx_pnalloc(r->pool, tok.vendors_len);
        if (tok.vendors == NULL) {
            return NGX_ERROR;
        }

        (void) consent_vendor_set_encode(vendors, (u_char *) tok.vendors,
                                         tok.vendors_len);
    }

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

ngx_int_t
ngx_http_consent_api_expire(ngx_http_request_t *r, consent_mask_t purposes,
    const u_char *vendors)
{
    ngx_str_t                        *name;
    ngx_array_t                      *names;
    ngx_table_elt_t                  *h;
    consent_scope_t                   scope;
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
    ngx_http_consent_scope(r, cmcf->rules, NULL, 0, &scope);

    ngx_http_consent_cookie_lines_init(&lines, &r->headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {

        consent_cookie_iter_init(&it, h->value.data, h->value.len);

        while (consent_cookie_next(&it, &c)) {
            if (c.has_ctl || c.name_len == 0) {
                continue;
            }

            rule = ngx_http_consent_rule_active(
                       consent_ruleset_match_in(cmcf->rules, &scope, c.name,
                                                c.name_len));

            if (rule == NULL || !consent_rule_refused(rule, purposes, vendors))
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


