/*
 * Copyright (C) ngx_consent_module authors
 *
 * The access-phase handler: has the visitor's purposes decided once per
 * main request (ngx_http_consent_decide.c), then removes the cookies of
 * refused purposes from the Cookie header(s) before the request goes
 * upstream.
 */


#include "ngx_http_consent_module.h"


typedef struct {
    ngx_http_consent_main_conf_t  *cmcf;
    consent_mask_t                 purposes;
    u_char                        *stripped;
    size_t                         stripped_len;
} ngx_http_consent_strip_t;


static void ngx_http_consent_cleanup(void *data);
static ngx_int_t ngx_http_consent_strip(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
static ngx_int_t ngx_http_consent_filter_header(ngx_http_request_t *r,
    ngx_http_consent_strip_t *st, ngx_table_elt_t *h);
static int ngx_http_consent_keep(void *data, const consent_cookie_t *c);


/*
 * Also marks where the ctx lives, for ngx_http_consent_get_ctx() after an
 * internal redirect.  A request going away while Redis still owes it a
 * reply leaves the reply to be read and dropped.
 */

static void
ngx_http_consent_cleanup(void *data)
{
    ngx_http_consent_ctx_t  *ctx = data;

    if (ctx->redis_cmd) {
        ngx_http_consent_redis_cancel(ctx->redis_cmd);
        ctx->redis_cmd = NULL;
    }

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }
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


ngx_int_t
ngx_http_consent_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
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

    rc = ngx_http_consent_decide(r, ctx, 1);

    if (rc == NGX_AGAIN) {
        /* suspended on Redis: notice a client that leaves meanwhile */
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_request_empty_handler;
        return NGX_AGAIN;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the consent API only needs the decision; nothing goes upstream */
    if (lcf->api) {
        return NGX_DECLINED;
    }

    if (!ctx->filtered) {
        ctx->filtered = 1;

        if (ngx_http_consent_strip(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* consent_require, consent_strip_args, the upstream Consent header */
    return ngx_http_consent_upstream(r, ctx, lcf);
}


static ngx_int_t
ngx_http_consent_strip(ngx_http_request_t *r, ngx_http_consent_ctx_t *ctx)
{
    size_t                         len;
    ngx_int_t                      rc;
    ngx_http_request_t            *mr;
    ngx_http_consent_strip_t       st;
    ngx_http_consent_main_conf_t  *cmcf;
#if (nginx_version >= 1023000)
    ngx_table_elt_t               *h, **hp;
#else
    ngx_uint_t                     i;
    ngx_table_elt_t              **h;
#endif

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    /* nothing refused, or nothing to match against: leave the bytes be */
    if (cmcf->nrules == 0
        || (ctx->purposes & consent_purposes_all(&cmcf->purposes))
           == consent_purposes_all(&cmcf->purposes))
    {
        return NGX_OK;
    }

    ngx_memzero(&st, sizeof(ngx_http_consent_strip_t));
    st.cmcf = cmcf;
    st.purposes = ctx->purposes;

    /* subrequests share the main request's headers: filter those */
    mr = r->main;

    /*
     * A stripped name and its comma take no more room than the pair and
     * the ';' it came with, plus one comma for each header line.
     */
    len = 0;

#if (nginx_version >= 1023000)
    for (h = mr->headers_in.cookie; h; h = h->next) {
        len += h->value.len + 1;
    }
#else
    h = mr->headers_in.cookies.elts;

    for (i = 0; i < mr->headers_in.cookies.nelts; i++) {
        len += h[i]->value.len + 1;
    }
#endif

    if (len == 0) {
        return NGX_OK;
    }

    st.stripped = ngx_pnalloc(mr->pool, len);
    if (st.stripped == NULL) {
        return NGX_ERROR;
    }

#if (nginx_version >= 1023000)

    hp = &mr->headers_in.cookie;

    while (*hp) {
        h = *hp;

        rc = ngx_http_consent_filter_header(mr, &st, h);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DONE) {
            *hp = h->next;

            if (ngx_http_consent_list_delete(mr, &mr->headers_in.headers, h)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        hp = &h->next;
    }

#else

    h = mr->headers_in.cookies.elts;

    for (i = 0; i < mr->headers_in.cookies.nelts; /* void */) {

        rc = ngx_http_consent_filter_header(mr, &st, h[i]);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DONE) {
            if (ngx_http_consent_list_delete(mr, &mr->headers_in.headers,
                                             h[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ngx_memmove(&h[i], &h[i + 1], (mr->headers_in.cookies.nelts - i - 1)
                                          * sizeof(ngx_table_elt_t *));
            mr->headers_in.cookies.nelts--;
            continue;
        }

        i++;
    }

#endif

    ctx->stripped.data = st.stripped;
    ctx->stripped.len = st.stripped_len;

    return NGX_OK;
}


/*
 * NGX_OK: kept as is or rewritten; NGX_DONE: every cookie of the line was
 * stripped, so the line itself goes.
 */

static ngx_int_t
ngx_http_consent_filter_header(ngx_http_request_t *r,
    ngx_http_consent_strip_t *st, ngx_table_elt_t *h)
{
    u_char  *out;
    size_t   len, dropped;

    if (h->value.len == 0) {
        return NGX_OK;
    }

    out = ngx_pnalloc(r->pool, CONSENT_COOKIE_FILTER_SIZE(h->value.len));
    if (out == NULL) {
        return NGX_ERROR;
    }

    len = consent_cookie_filter(h->value.data, h->value.len, out,
                                ngx_http_consent_keep, st, &dropped);

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


static int
ngx_http_consent_keep(void *data, const consent_cookie_t *c)
{
    ngx_http_consent_strip_t *st = data;

    const consent_rule_t          *rule;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = st->cmcf;

    if (c->name_len == 0) {
        return 1;
    }

    if (c->name_len == cmcf->cookie_name.len
        && ngx_strncmp(c->name, cmcf->cookie_name.data, c->name_len) == 0)
    {
        return 1;
    }

    rule = ngx_http_consent_rule_active(
               consent_ruleset_match(cmcf->rules, c->name, c->name_len));

    if (rule == NULL || (st->purposes & CONSENT_BIT(rule->purpose))) {
        return 1;
    }

    /* sized in ngx_http_consent_strip() to always fit */
    if (st->stripped_len) {
        st->stripped[st->stripped_len++] = ',';
    }

    ngx_memcpy(st->stripped + st->stripped_len, c->name, c->name_len);
    st->stripped_len += c->name_len;

    return 0;
}


/*
 * Removes one header from a request's header list without moving any
 * element, because headers_in keeps pointers into the list: the part is
 * shortened at either end, or split in two around the element.  Two
 * invariants of ngx_list_t users must hold afterwards: no part but the
 * first may be empty (list walkers read element 0 of every next part), and
 * ngx_list_push() must never write past a block, so when the last part
 * starts later than its block, nalloc is lowered to make the next push
 * start a new part.
 */

ngx_int_t
ngx_http_consent_list_delete(ngx_http_request_t *r, ngx_list_t *list,
    ngx_table_elt_t *h)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part, *prev, *tail;
    ngx_table_elt_t  *elts;

    prev = NULL;

    for (part = &list->part; part; prev = part, part = part->next) {
        elts = part->elts;

        if (h < elts || h >= elts + part->nelts) {
            continue;
        }

        i = h - elts;

        if (part->nelts == 1) {
            if (prev) {
                prev->next = part->next;

                if (list->last == part) {
                    list->last = prev;
                }

            } else if (part->next) {
                /* the first part is embedded in the list: take the next */
                tail = part->next;
                *part = *tail;

                if (list->last == tail) {
                    list->last = part;
                }

            } else {
                part->nelts = 0;
            }

            return NGX_OK;
        }

        if (i == part->nelts - 1) {
            part->nelts--;
            return NGX_OK;
        }

        if (i == 0) {
            part->elts = elts + 1;
            part->nelts--;

            if (list->last == part) {
                list->nalloc = part->nelts;
            }

            return NGX_OK;
        }

        tail = ngx_palloc(r->pool, sizeof(ngx_list_part_t));
        if (tail == NULL) {
            return NGX_ERROR;
        }

        tail->elts = elts + i + 1;
        tail->nelts = part->nelts - i - 1;
        tail->next = part->next;

        part->nelts = i;
        part->next = tail;

        if (list->last == part) {
            list->last = tail;
            list->nalloc = tail->nelts;
        }

        return NGX_OK;
    }

    return NGX_OK;
}
