/*
 * Copyright (C) ngx_consent_module authors
 *
 * Generic helpers on nginx's own structures; see ngx_http_consent_util.h.
 */


#include "ngx_http_consent_util.h"


#define NGX_HTTP_CONSENT_FILE_MAX  (16 * 1024 * 1024)


/* the key of our own Set-Cookie headers: compared by address */
static u_char  ngx_http_consent_own_set_cookie[] = "Set-Cookie";


void
ngx_http_consent_cookie_lines_init(ngx_http_consent_cookie_lines_t *it,
    ngx_http_headers_in_t *headers_in)
{
#if (nginx_version >= 1023000)
    it->next = headers_in->cookie;
#else
    it->elts = headers_in->cookies.elts;
    it->i = 0;
    it->n = headers_in->cookies.nelts;
#endif
}


ngx_table_elt_t *
ngx_http_consent_cookie_lines_next(ngx_http_consent_cookie_lines_t *it)
{
    ngx_table_elt_t  *h;

#if (nginx_version >= 1023000)
    h = it->next;

    if (h) {
        it->next = h->next;
    }
#else
    h = (it->i < it->n) ? it->elts[it->i++] : NULL;
#endif

    return h;
}


size_t
ngx_http_consent_cookie_lines_size(ngx_http_headers_in_t *headers_in)
{
    size_t                            len;
    ngx_table_elt_t                  *h;
    ngx_http_consent_cookie_lines_t   it;

    len = 0;

    ngx_http_consent_cookie_lines_init(&it, headers_in);

    while ((h = ngx_http_consent_cookie_lines_next(&it)) != NULL) {
        len += h->value.len + 1;
    }

    return len;
}


/*
 * A subrequest's headers_in is a copy of the main request's, but the
 * header list's parts are shared: the subrequest gets a list of its own
 * (elements copied by value, so headers_in's other pointers stay valid)
 * and a Cookie index pointing into it.  A list's "last" points into the
 * list itself, so the list is never copied whole.
 */

ngx_int_t
ngx_http_consent_copy_request_headers(ngx_http_request_t *r)
{
    ngx_uint_t                        n;
    ngx_list_t                        old;
    ngx_list_part_t                  *part;
    ngx_table_elt_t                  *h, *copy, *c;
    ngx_http_consent_list_iter_t      it;
    ngx_http_consent_cookie_lines_t   lines;
#if (nginx_version >= 1023000)
    ngx_table_elt_t                 **cookie_tail, *cookie;
#else
    ngx_array_t                       cookies;
    ngx_table_elt_t                 **cp;
#endif

    old = r->headers_in.headers;
    n = 0;

    for (part = &old.part; part; part = part->next) {
        n += part->nelts;
    }

    if (ngx_list_init(&r->headers_in.headers, r->pool, n ? n : 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

#if (nginx_version >= 1023000)
    cookie = NULL;
    cookie_tail = &cookie;
#else
    if (ngx_array_init(&cookies, r->pool, 2, sizeof(ngx_table_elt_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }
#endif

    ngx_http_consent_list_iter_init(&it, &old);

    while ((h = ngx_http_consent_list_iter_next(&it)) != NULL) {

        copy = ngx_list_push(&r->headers_in.headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = *h;

        /* one of the Cookie lines nginx indexed: indexed in the copy too */
        ngx_http_consent_cookie_lines_init(&lines, &r->headers_in);

        while ((c = ngx_http_consent_cookie_lines_next(&lines)) != NULL) {
            if (c != h) {
                continue;
            }

#if (nginx_version >= 1023000)
            copy->next = NULL;
            *cookie_tail = copy;
            cookie_tail = &copy->next;
#else
            cp = ngx_array_push(&cookies);
            if (cp == NULL) {
                return NGX_ERROR;
            }

            *cp = copy;
#endif
            break;
        }
    }

#if (nginx_version >= 1023000)
    r->headers_in.cookie = cookie;
#else
    r->headers_in.cookies = cookies;
#endif

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_cookie_line_remove(ngx_pool_t *pool,
    ngx_http_headers_in_t *headers_in, ngx_table_elt_t *h)
{
#if (nginx_version >= 1023000)
    ngx_table_elt_t  **hp;

    for (hp = &headers_in->cookie; *hp; hp = &(*hp)->next) {
        if (*hp == h) {
            *hp = h->next;
            break;
        }
    }
#else
    ngx_uint_t         i, n;
    ngx_table_elt_t  **elts;

    elts = headers_in->cookies.elts;
    n = headers_in->cookies.nelts;

    for (i = 0; i < n; i++) {
        if (elts[i] == h) {
            ngx_memmove(&elts[i], &elts[i + 1],
                        (n - i - 1) * sizeof(ngx_table_elt_t *));
            headers_in->cookies.nelts--;
            break;
        }
    }
#endif

    return ngx_http_consent_list_delete(pool, &headers_in->headers, h);
}


/*
 * Removes one element from a header list without moving any other,
 * because headers_in keeps pointers into the list: the part is shortened
 * at either end, or split in two around the element.  Two invariants of
 * ngx_list_t must hold afterwards:
 *
 *   - no part but the first is empty (list walkers read element 0 of
 *     every next part);
 *   - ngx_list_push() writes into the last part only below nalloc, so the
 *     last part must own its memory up to nalloc.  A part shortened or
 *     split no longer says how far its block goes: whenever the last part
 *     is touched or replaced, nalloc becomes its nelts, and the next push
 *     starts a new part.  The element removed is never written over.
 */

ngx_int_t
ngx_http_consent_list_delete(ngx_pool_t *pool, ngx_list_t *list,
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

        if (part->nelts > 1) {

            if (i == part->nelts - 1) {
                part->nelts--;

            } else if (i == 0) {
                part->elts = elts + 1;
                part->nelts--;

            } else {
                tail = ngx_palloc(pool, sizeof(ngx_list_part_t));
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

            if (list->last == part) {
                list->nalloc = part->nelts;
            }

            return NGX_OK;
        }

        /* the element was its part's only one: the part goes */

        if (prev) {
            prev->next = part->next;

            if (list->last == part) {
                list->last = prev;
                list->nalloc = prev->nelts;
            }

            return NGX_OK;
        }

        if (part->next) {
            /* the first part is embedded in the list: take the next */
            tail = part->next;
            *part = *tail;

            if (list->last == tail) {
                list->last = part;
                list->nalloc = part->nelts;
            }

            return NGX_OK;
        }

        /* the only part, now empty: it gets a block of its own */
        elts = ngx_palloc(pool, list->nalloc * list->size);
        if (elts == NULL) {
            return NGX_ERROR;
        }

        part->elts = elts;
        part->nelts = 0;

        return NGX_OK;
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_consent_header_is(ngx_table_elt_t *h, const char *name, size_t len)
{
    return h->hash && h->key.len == len
           && ngx_strncasecmp(h->key.data, (u_char *) name, len) == 0;
}


void
ngx_http_consent_list_iter_init(ngx_http_consent_list_iter_t *it,
    ngx_list_t *list)
{
    it->part = &list->part;
    it->i = 0;
}


ngx_table_elt_t *
ngx_http_consent_list_iter_next(ngx_http_consent_list_iter_t *it)
{
    ngx_table_elt_t  *elts;

    while (it->i >= it->part->nelts) {
        if (it->part->next == NULL) {
            return NULL;
        }

        it->part = it->part->next;
        it->i = 0;
    }

    elts = it->part->elts;

    return &elts[it->i++];
}


ngx_table_elt_t *
ngx_http_consent_find_header(ngx_list_t *list, const char *name, size_t len)
{
    ngx_table_elt_t               *h;
    ngx_http_consent_list_iter_t   it;

    ngx_http_consent_list_iter_init(&it, list);

    while ((h = ngx_http_consent_list_iter_next(&it)) != NULL) {
        if (h->key.len == len
            && ngx_strncasecmp(h->key.data, (u_char *) name, len) == 0)
        {
            return h;
        }
    }

    return NULL;
}


ngx_table_elt_t *
ngx_http_consent_add_request_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *lowcase_key)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NULL;
    }

    h->key = *key;
    h->lowcase_key = lowcase_key->data;
    h->hash = ngx_hash_key(lowcase_key->data, lowcase_key->len);
    ngx_str_null(&h->value);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
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


ngx_table_elt_t *
ngx_http_consent_add_set_cookie(ngx_http_request_t *r, u_char *value,
    size_t len)
{
    return ngx_http_consent_add_header(r,
                                (char *) ngx_http_consent_own_set_cookie,
                                sizeof(ngx_http_consent_own_set_cookie) - 1,
                                value, len);
}


ngx_uint_t
ngx_http_consent_is_own_set_cookie(ngx_table_elt_t *h)
{
    return h->key.data == ngx_http_consent_own_set_cookie;
}


ngx_int_t
ngx_http_consent_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

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


ngx_int_t
ngx_http_consent_param(ngx_str_t *param, const char *name, ngx_str_t *value)
{
    size_t  len;

    len = ngx_strlen(name);

    if (param->len < len || ngx_strncmp(param->data, name, len) != 0) {
        return NGX_DECLINED;
    }

    value->data = param->data + len;
    value->len = param->len - len;

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_param_msec(ngx_str_t *value, ngx_msec_t *msec)
{
    *msec = ngx_parse_time(value, 0);

    return (*msec == (ngx_msec_t) NGX_ERROR || *msec == 0)
           ? NGX_DECLINED : NGX_OK;
}


ngx_int_t
ngx_http_consent_param_sec(ngx_str_t *value, time_t *sec)
{
    *sec = ngx_parse_time(value, 1);

    return (*sec == (time_t) NGX_ERROR || *sec <= 0) ? NGX_DECLINED : NGX_OK;
}


ngx_int_t
ngx_http_consent_param_sec_off(ngx_str_t *value, time_t *sec)
{
    if (value->len == 3 && ngx_strncmp(value->data, "off", 3) == 0) {
        *sec = 0;
        return NGX_OK;
    }

    return ngx_http_consent_param_sec(value, sec);
}


ngx_int_t
ngx_http_consent_read_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *content)
{
    ssize_t          n;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = *name;
    file.log = cf->log;

    file.fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", name);
        goto failed;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_CONSENT_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is too large", name);
        goto failed;
    }

    content->len = (size_t) ngx_file_size(&fi);
    content->data = ngx_pnalloc(cf->pool, content->len + 1);
    if (content->data == NULL) {
        goto failed;
    }

    n = ngx_read_file(&file, content->data, content->len, 0);

    if (n == NGX_ERROR) {
        goto failed;
    }

    if ((size_t) n != content->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           ngx_read_file_n " \"%V\" returned only "
                           "%z bytes instead of %uz", name, n, content->len);
        goto failed;
    }

    content->data[content->len] = '\0';

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", name);
    }

    return NGX_OK;

failed:

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", name);
    }

    return NGX_ERROR;
}
