/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_api: the endpoint a consent banner talks to.
 *
 *   GET     the visitor's decision as JSON
 *   POST    records a choice (JSON or form body)
 *   DELETE  withdraws every optional purpose
 *
 * This file takes the request: methods, where a write comes from, the
 * body, then the write (ngx_http_consent_record.c) and its outcome.  The
 * answers themselves are ngx_http_consent_api_answer.c.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_api.h"
#include "ngx_http_consent_api_answer.h"
#include "ngx_http_consent_decide.h"
#include "ngx_http_consent_policy.h"
#include "ngx_http_consent_record.h"
#include "ngx_http_consent_request.h"


static ngx_int_t ngx_http_consent_api_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_api_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *field, const char *error);
static ngx_int_t ngx_http_consent_api_cross_site(ngx_http_request_t *r);
static void ngx_http_consent_api_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_api_read_body(ngx_http_request_t *r,
    ngx_str_t *body, ngx_int_t *answer);
static ngx_int_t ngx_http_consent_api_choice(ngx_http_request_t *r,
    ngx_str_t *body, consent_choice_t *ch, ngx_int_t *answer);
static ngx_int_t ngx_http_consent_api_write(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, consent_mask_t purposes,
    uint32_t policy_version, ngx_http_consent_vendor_choice_t *vendors,
    ngx_uint_t action);
static void ngx_http_consent_api_written(ngx_http_request_t *r);
static ngx_int_t ngx_http_consent_api_clear(ngx_http_request_t *r);


#define NGX_HTTP_CONSENT_CLEAR_COOKIES  0x01
#define NGX_HTTP_CONSENT_CLEAR_STORAGE  0x02


static ngx_int_t
ngx_http_consent_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_consent_ctx_t       *ctx;
    ngx_http_consent_policy_t     policy;
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
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "consent api: refused, \"consent_subject\" is not "
                      "marked \"trusted\"");

        return ngx_http_consent_api_refuse(r, NGX_HTTP_FORBIDDEN, "subject",
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
        if (ngx_http_consent_add_header(r, "Allow", 5,
                                        (u_char *) "GET, HEAD, POST, DELETE",
                                        23)
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_consent_api_refuse(r, NGX_HTTP_NOT_ALLOWED, "method",
                                           "use GET, POST or DELETE");
    }

    if (ngx_http_consent_api_cross_site(r)) {
        return ngx_http_consent_api_refuse(r, NGX_HTTP_FORBIDDEN, "Origin",
                                           "cross-site writes are refused");
    }

    if (r->method == NGX_HTTP_DELETE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        ngx_http_consent_policy(lcf, ngx_time(), &policy);

        rc = ngx_http_consent_api_write(r, ctx,
                                        CONSENT_BIT(CONSENT_P_NECESSARY),
                                        (uint32_t) policy.version,
                                        NULL, NGX_HTTP_CONSENT_WITHDRAW);

        if (rc == NGX_DONE) {
            /* kept alive until Redis answers; finalized then */
            r->main->count++;
        }

        return rc;
    }

    /* POST: a bounded body of a known type, or nothing is read */

    if (r->headers_in.content_type == NULL) {
        return ngx_http_consent_api_refuse(r, NGX_HTTP_BAD_REQUEST,
                                           "Content-Type",
                                           "missing: use application/json");
    }

    if (r->headers_in.content_length_n > CONSENT_CHOICE_BODY_MAX) {
        return ngx_http_consent_api_refuse(r, NGX_HTTP_BAD_REQUEST, "body",
                                           "larger than 16384 bytes");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_consent_api_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* an error answer to a request whose body is not wanted */

static ngx_int_t
ngx_http_consent_api_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *field, const char *error)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_consent_api_error(r, status, field, error);
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


static void
ngx_http_consent_api_body(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_str_t                          body;
    const char                        *error;
    consent_choice_t                   ch;
    ngx_http_consent_ctx_t            *ctx;
    ngx_http_consent_vendor_choice_t  *vc;

    ctx = ngx_http_consent_get_ctx(r, 0);
    ngx_str_null(&body);

    if (ngx_http_consent_api_read_body(r, &body, &rc) != NGX_OK
        || ngx_http_consent_api_choice(r, &body, &ch, &rc) != NGX_OK)
    {
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* a choice replaces the earlier one: no vendors_refused, none */
    vc = ngx_palloc(r->pool, sizeof(ngx_http_consent_vendor_choice_t));
    if (vc == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_consent_vendor_choice(r, &ch, ch.purposes, vc, &error);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                        "vendors_refused", error);
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_consent_api_write(r, ctx, ch.purposes, ch.policy_version,
                                    vc, NGX_HTTP_CONSENT_GRANT);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * The body, whole, in one buffer (a chunked one may be anywhere).  NGX_OK,
 * or NGX_DECLINED with *answer (sent, or a status) to finalize with.
 */

static ngx_int_t
ngx_http_consent_api_read_body(ngx_http_request_t *r, ngx_str_t *body,
    ngx_int_t *answer)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    len = 0;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    if (len > CONSENT_CHOICE_BODY_MAX) {
        *answer = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST, "body",
                                             "larger than 16384 bytes");
        return NGX_DECLINED;
    }

    *answer = NGX_HTTP_INTERNAL_SERVER_ERROR;

    body->data = ngx_pnalloc(r->pool, len + 1);
    if (body->data == NULL) {
        return NGX_DECLINED;
    }

    body->len = len;
    p = body->data;

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
            return NGX_DECLINED;
        }

        n = ngx_read_file(b->file, p, size, b->file_pos);
        if (n != (ssize_t) size) {
            return NGX_DECLINED;
        }

        p += size;
    }

    return NGX_OK;
}


/*
 * The choice the body holds, by its media type (parameters such as
 * charset aside), and its policy version against the location's.
 * NGX_OK, or NGX_DECLINED with *answer to finalize with.
 */

static ngx_int_t
ngx_http_consent_api_choice(ngx_http_request_t *r, ngx_str_t *body,
    consent_choice_t *ch, ngx_int_t *answer)
{
    u_char                        *p, *semi;
    size_t                         type_len;
    ngx_int_t                      rc;
    ngx_http_consent_policy_t      policy;
    ngx_http_consent_loc_conf_t   *lcf;
    ngx_http_consent_main_conf_t  *cmcf;
    u_char                         msg[128];

    static const char  form[] = "application/x-www-form-urlencoded";

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

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
        rc = consent_choice_json(body->data, body->len, &cmcf->purposes,
                                 cmcf->rules, ch);

    } else if (type_len == sizeof(form) - 1
               && ngx_strncasecmp(p, (u_char *) form, type_len) == 0)
    {
        rc = consent_choice_form(body->data, body->len, &cmcf->purposes,
                                 cmcf->rules, ch);

    } else {
        *answer = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                        "Content-Type",
                                        "use application/json or "
                                        "application/x-www-form-urlencoded");
        return NGX_DECLINED;
    }

    if (rc != 0) {
        *answer = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                             ch->field, ch->error);
        return NGX_DECLINED;
    }

    ngx_http_consent_policy(lcf, ngx_time(), &policy);

    if (!ch->has_version) {
        ch->policy_version = (uint32_t) policy.version;
    }

    /* the announced version may be agreed to before it is in force */
    if (ch->policy_version > policy.version
        && ch->policy_version != policy.next)
    {
        ngx_sprintf(msg, "newer than the current policy version %ui%Z",
                    policy.version);
        *answer = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                             "policy_version", (char *) msg);
        return NGX_DECLINED;
    }

    if (ch->policy_version < policy.reconsent_below) {
        ngx_sprintf(msg, "below the re-consent floor %ui%Z",
                    policy.reconsent_below);
        *answer = ngx_http_consent_api_error(r, NGX_HTTP_BAD_REQUEST,
                                             "policy_version", (char *) msg);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * NGX_DONE: the request waits for Redis and is answered from
 * ngx_http_consent_api_written(); else the answer, or a status.
 */

static ngx_int_t
ngx_http_consent_api_write(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx,
    consent_mask_t purposes, uint32_t policy_version,
    ngx_http_consent_vendor_choice_t *vendors, ngx_uint_t action)
{
    ngx_int_t                   rc;
    ngx_http_consent_record_t  *rec;

    rec = ngx_pcalloc(r->pool, sizeof(ngx_http_consent_record_t));
    if (rec == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rec->purposes = purposes;
    rec->policy_version = policy_version;
    rec->vendors = vendors;
    rec->action = action;
    ctx->write = rec;

    rc = ngx_http_consent_record_write(r, ctx, rec,
                                       ngx_http_consent_api_written);

    if (rc == NGX_AGAIN) {
        /* a client that leaves meanwhile ends the request, and the wait */
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_request_empty_handler;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_consent_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          NULL, "consent store unavailable");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * Redis answered (or did not in time): the visitor gets a fresh signed
 * cookie and the state only for a write Redis confirmed.
 */

static void
ngx_http_consent_api_written(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_consent_ctx_t     *ctx;
    ngx_http_consent_state_t    st;
    ngx_http_consent_record_t  *rec;

    r->write_event_handler = ngx_http_request_empty_handler;
    r->read_event_handler = ngx_http_block_reading;

    ctx = ngx_http_consent_get_ctx(r, 0);
    rec = ctx->write;

    if (rec->status != NGX_HTTP_OK) {
        rc = ngx_http_consent_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                        "consent store unavailable");
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* the answer shows the state as the next request will see it */
    ngx_memzero(&st, sizeof(ngx_http_consent_state_t));
    st.purposes = rec->purposes;
    st.policy_version = rec->policy_version;
    st.updated = rec->now;
    st.vendors = ngx_http_consent_record_vendors(rec);
    st.found = 1;

    ctx->subject = rec->subject;
    ngx_http_consent_decide_recorded(r, ctx, &st);

    /* the cookies of refused purposes and vendors expire in the browser */
    if (ngx_http_consent_api_cookie(r, rec) != NGX_OK
        || ngx_http_consent_api_expire(r, rec->purposes, ctx->vendors_refused)
           != NGX_OK
        || (rec->action == NGX_HTTP_CONSENT_WITHDRAW
            && ngx_http_consent_api_clear(r) != NGX_OK))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_consent_api_state(r, ctx));
}


/*
 * A withdrawal's Clear-Site-Data: what scripts of refused vendors left in
 * the browser (localStorage, IndexedDB...) goes with their cookies.
 */

static ngx_int_t
ngx_http_consent_api_clear(ngx_http_request_t *r)
{
    ngx_str_t                     v;
    ngx_http_consent_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    switch (lcf->clear_site_data) {

    case 0:
        return NGX_OK;

    case NGX_HTTP_CONSENT_CLEAR_COOKIES:
        ngx_str_set(&v, "\"cookies\"");
        break;

    case NGX_HTTP_CONSENT_CLEAR_STORAGE:
        ngx_str_set(&v, "\"storage\"");
        break;

    default:
        ngx_str_set(&v, "\"cookies\", \"storage\"");
        break;
    }

    return ngx_http_consent_add_header(r, "Clear-Site-Data", 15, v.data, v.len)
           ? NGX_OK : NGX_ERROR;
}


char *
ngx_http_consent_clear_site_data(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, bits;

    if (lcf->clear_site_data != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    bits = 0;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->clear_site_data = 0;
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_strcmp(value[i].data, "cookies") == 0) {
            bits |= NGX_HTTP_CONSENT_CLEAR_COOKIES;

        } else if (ngx_strcmp(value[i].data, "storage") == 0) {
            bits |= NGX_HTTP_CONSENT_CLEAR_STORAGE;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" (cookies, storage, or "
                               "off alone)", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    lcf->clear_site_data = bits;

    return NGX_CONF_OK;
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
