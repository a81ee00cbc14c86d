/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_api: the endpoint a consent banner talks to.
 *
 *   GET     the visitor's decision as JSON
 *   POST    records a choice (JSON or form body)
 *   DELETE  withdraws every optional purpose
 *
 * This file is the HTTP side: methods, where a write comes from, the
 * body, and the JSON answers.  Recording the decision in Redis and the
 * cookie that follows are ngx_http_consent_record.c.
 */


#include "ngx_http_consent_module.h"


static ngx_int_t ngx_http_consent_api_handler(ngx_http_request_t *r);
static void ngx_http_consent_api_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_api_send(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);
static ngx_int_t ngx_http_consent_api_cross_site(ngx_http_request_t *r);
static u_char *ngx_http_consent_api_purposes(u_char *p,
    consent_purposes_t *ps, consent_mask_t mask);


static ngx_str_t  ngx_http_consent_api_sources[] = {
    ngx_null_string,
    ngx_string("redis"),
    ngx_string("cache"),
    ngx_string("cookie"),
    ngx_string("iab"),
    ngx_string("default"),
    ngx_string("fail")
};


static ngx_int_t
ngx_http_consent_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_table_elt_t              *h;
    ngx_http_consent_ctx_t       *ctx;
    ngx_http_consent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);
    ctx = ngx_http_consent_get_ctx(r, 0);

    if (ctx == NULL || !ctx->decided) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent api: no decision for this request");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the header filter adds nothing of its own to this answer */
    ctx->api = 1;

    /*
     * Under a subject the client may have chosen (consent_subject from a
     * plain cookie, say), anyone could read and rewrite anyone's consent:
     * the operator must vouch for the value first.
     */
    if (ctx->operator_subject && !lcf->subject_trusted) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent api: refused, \"consent_subject\" is not "
                      "marked \"trusted\"");

        return ngx_http_consent_api_error(r, NGX_HTTP_FORBIDDEN, "subject",
                                          "consent_subject is not trusted");
    }

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_consent_api_state(r, ctx);
    }

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE))) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        h = ngx_http_consent_add_header(r, "Allow", 5,
                                        (u_char *) "GET, HEAD, POST, DELETE",
                                        23);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_consent_api_error(r, NGX_HTTP_NOT_ALLOWED, "method",
                                          "use GET, POST or DELETE");
    }

    if (ngx_http_consent_api_cross_site(r)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_consent_api_error(r, NGX_HTTP_FORBIDDEN, "Origin",
                                          "cross-site writes are refused");
    }

    if (r->method == NGX_HTTP_DELETE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        rc = ngx_http_consent_record_start(r, ctx,
                                        CONSENT_BIT(CONSENT_P_NECESSARY), 0,
                                        NGX_HTTP_CONSENT_WITHDRAW);

        if (rc == NGX_DONE) {
            /* kept alive until Redis answers; finalized then */
            r->main->count++;
        }

        return rc;
    }

    /* POST: a bounded body of a known type, or nothing is read */

    h = r->headers_in.content_type;

    if (h == NULL) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                          "Content-Type",
                                          "missing: use application/json");
    }

    if (r->headers_in.content_length_n > CONSENT_CHOICE_BODY_MAX) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST, "body",
                                          "larger than 4096 bytes");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_consent_api_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_consent_api_body(ngx_http_request_t *r)
{
    u_char                        *body, *p, *semi;
    size_t                         len, size, type_len;
    ssize_t                        n;
    ngx_int_t                      rc;
    ngx_buf_t                     *b;
    ngx_chain_t                   *cl;
    consent_choice_t               ch;
    ngx_http_consent_ctx_t        *ctx;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;
    u_char                         msg[128];

    static const char  form[] = "application/x-www-form-urlencoded";

    ctx = ngx_http_consent_get_ctx(r, 0);
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    /* the body, whole, in one buffer (a chunked one may be anywhere) */

    len = 0;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    if (len > CONSENT_CHOICE_BODY_MAX) {
        rc = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST, "body",
                                        "larger than 4096 bytes");
        ngx_http_finalize_request(r, rc);
        return;
    }

    body = ngx_pnalloc(r->pool, len + 1);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = body;

    for (cl = len ? r->request_body->bufs : NULL; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_size(b);

        /* the chunked reader ends with an empty last_buf */
        if (size == 0) {
            continue;
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, size);
            continue;
        }

        if (!b->in_file || b->file == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        n = ngx_read_file(b->file, p, size, b->file_pos);
        if (n != (ssize_t) size) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        p += size;
    }

    /* the media type, without parameters such as charset */

    p = r->headers_in.content_type->value.data;
    type_len = r->headers_in.content_type->value.len;

    semi = ngx_strlchr(p, p + type_len, ';');
    if (semi) {
        type_len = semi - p;
    }

    while (type_len && (p[type_len - 1] == ' ' || p[type_len - 1] == '\t')) {
        type_len--;
    }

    if (type_len == sizeof("application/json") - 1
        && ngx_strncasecmp(p, (u_char *) "application/json", type_len) == 0)
    {
        rc = consent_choice_json(body, len, &cmcf->purposes, &ch);

    } else if (type_len == sizeof(form) - 1
               && ngx_strncasecmp(p, (u_char *) form, type_len) == 0)
    {
        rc = consent_choice_form(body, len, &cmcf->purposes, &ch);

    } else {
        rc = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                        "Content-Type",
                                        "use application/json or "
                                        "application/x-www-form-urlencoded");
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (rc != 0) {
        rc = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST, ch.field,
                                        ch.error);
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (!ch.has_version) {
        ch.policy_version = (uint32_t) lcf->policy_version;
    }

    if (ch.policy_version > lcf->policy_version) {
        ngx_sprintf(msg, "newer than the current policy version %ui%Z",
                    lcf->policy_version);
        rc = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                        "policy_version", (char *) msg);
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (ch.policy_version < lcf->reconsent_below) {
        ngx_sprintf(msg, "below the re-consent floor %ui%Z",
                    lcf->reconsent_below);
        rc = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                        "policy_version", (char *) msg);
        ngx_http_finalize_request(r, rc);
        return;
    }

    rc = ngx_http_consent_record_start(r, ctx, ch.purposes, ch.policy_version,
                                    NGX_HTTP_CONSENT_GRANT);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


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
    ngx_str_t                     *src;
    const char                    *regime;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    len = sizeof("{\"subject\":,\"purposes\":,\"available\":,"
                 "\"policy_version\":,\"current_policy_version\":,"
                 "\"reconsent\":false,\"source\":\"\",\"regime\":\"\","
                 "\"region\":,\"gpc\":false,\"updated\":}\n")
          + 2 * (2 + cmcf->purposes.n * (CONSENT_PURPOSE_NAME_MAX + 3))
          + 2 + ctx->subject.len
          + 2 + consent_json_escape(ctx->region.data, ctx->region.len,
                                    NULL, 0)
          + 3 * NGX_TIME_T_LEN + 32;

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
    src = &ngx_http_consent_api_sources[ctx->source];

    p = ngx_sprintf(p, ",\"current_policy_version\":%ui,\"reconsent\":%s,"
                    "\"source\":\"%V\",\"regime\":\"%s\",\"region\":",
                    lcf->policy_version, ctx->recorded ? "false" : "true",
                    src, regime);

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
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    /* a visitor's own state: never stored by a cache on the way */
    if (ngx_http_consent_add_header(r, "Cache-Control", 13,
                                    (u_char *) "no-store", 8)
        == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * A browser tells where a write comes from: Sec-Fetch-Site, else Origin,
 * which must then name this very host.  A request with neither is not a
 * browser's cross-site one (forms and fetch() send Origin with POST).
 */

static ngx_int_t
ngx_http_consent_api_cross_site(ngx_http_request_t *r)
{
    u_char           *p, *end;
    ngx_str_t        *v, host;
    ngx_table_elt_t  *h;

    h = ngx_http_consent_find_header(&r->headers_in.headers,
                                     "Sec-Fetch-Site", 14);

    if (h) {
        v = &h->value;

        return !((v->len == 11
                  && ngx_strncasecmp(v->data, (u_char *) "same-origin", 11)
                     == 0)
                 || (v->len == 9
                     && ngx_strncasecmp(v->data, (u_char *) "same-site", 9)
                        == 0)
                 || (v->len == 4
                     && ngx_strncasecmp(v->data, (u_char *) "none", 4)
                        == 0));
    }

    h = ngx_http_consent_find_header(&r->headers_in.headers, "Origin", 6);

    if (h == NULL) {
        return 0;
    }

    /* scheme "://" authority, and the authority must be our Host */
    p = h->value.data;
    end = p + h->value.len;

    p = ngx_strlcasestrn(p, end, (u_char *) "://", 3 - 1);
    if (p == NULL) {
        return 1;
    }

    p += 3;

    if (r->headers_in.host == NULL) {
        return 1;
    }

    host = r->headers_in.host->value;

    return !((size_t) (end - p) == host.len
             && ngx_strncasecmp(p, host.data, host.len) == 0);
}


char *
ngx_http_consent_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_consent_main_conf_t  *cmcf;

    if (lcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    lcf->api = 1;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);
    cmcf->api_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_consent_api_handler;

    return NGX_CONF_OK;
}


char *
ngx_http_consent_policy_version(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_int_t   n, floor;
    ngx_str_t  *value;

    if (lcf->policy_version != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n > 0xffffffff) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid policy version \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    floor = 0;

    if (cf->args->nelts == 3) {
        if (value[2].len <= 16
            || ngx_strncmp(value[2].data, "reconsent_below=", 16) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        floor = ngx_atoi(value[2].data + 16, value[2].len - 16);

        /* a floor above the version would ask everyone again, forever */
        if (floor == NGX_ERROR || floor > n) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\": must be a number no greater "
                               "than the policy version", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    lcf->policy_version = (ngx_uint_t) n;
    lcf->reconsent_below = (ngx_uint_t) floor;

    return NGX_CONF_OK;
}
