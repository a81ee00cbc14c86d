/*
 * Copyright (C) ngx_consent_module authors
 *
 * Generic helpers on nginx's own structures: header lists (find, add,
 * remove without corrupting the list), the request's Cookie lines (the one
 * place where nginx 1.22's array and 1.23+'s linked list differ), and
 * reading a configuration file whole.
 */


#ifndef _NGX_HTTP_CONSENT_UTIL_H_INCLUDED_
#define _NGX_HTTP_CONSENT_UTIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the Cookie lines of a request, in order, whatever the nginx version */
typedef struct {
#if (nginx_version >= 1023000)
    ngx_table_elt_t            *next;
#else
    ngx_table_elt_t           **elts;
    ngx_uint_t                  i;
    ngx_uint_t                  n;
#endif
} ngx_http_consent_cookie_lines_t;


void ngx_http_consent_cookie_lines_init(ngx_http_consent_cookie_lines_t *it,
    ngx_http_headers_in_t *headers_in);
ngx_table_elt_t *ngx_http_consent_cookie_lines_next(
    ngx_http_consent_cookie_lines_t *it);
/* the sum of the Cookie lines' lengths, plus one per line */
size_t ngx_http_consent_cookie_lines_size(ngx_http_headers_in_t *headers_in);
/* the line goes from the Cookie index and from the header list */
ngx_int_t ngx_http_consent_cookie_line_remove(ngx_pool_t *pool,
    ngx_http_headers_in_t *headers_in, ngx_table_elt_t *h);

/* a subrequest's own copy of the header list and its Cookie index */
ngx_int_t ngx_http_consent_copy_request_headers(ngx_http_request_t *r);

/* removes an element of a header list, leaving the list safe to push to */
ngx_int_t ngx_http_consent_list_delete(ngx_pool_t *pool, ngx_list_t *list,
    ngx_table_elt_t *h);

/* the elements of a header list, in order */
typedef struct {
    ngx_list_part_t            *part;
    ngx_uint_t                  i;
} ngx_http_consent_list_iter_t;

void ngx_http_consent_list_iter_init(ngx_http_consent_list_iter_t *it,
    ngx_list_t *list);
ngx_table_elt_t *ngx_http_consent_list_iter_next(
    ngx_http_consent_list_iter_t *it);

/* the first header called name (any case) in the list, or NULL */
ngx_table_elt_t *ngx_http_consent_find_header(ngx_list_t *list,
    const char *name, size_t len);
/* a live (not deleted) header called name, any case */
ngx_uint_t ngx_http_consent_header_is(ngx_table_elt_t *h, const char *name,
    size_t len);

/* a request header for the upstream; the caller sets its value */
ngx_table_elt_t *ngx_http_consent_add_request_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *lowcase_key);

/* a response header; the value must already be free of CR, LF and NUL */
ngx_table_elt_t *ngx_http_consent_add_header(ngx_http_request_t *r,
    const char *key, size_t key_len, u_char *value, size_t len);
/*
 * A Set-Cookie of the module's own (the consent cookie, an expiry): the
 * response filter knows it by its key and never drops it.
 */
ngx_table_elt_t *ngx_http_consent_add_set_cookie(ngx_http_request_t *r,
    u_char *value, size_t len);
ngx_uint_t ngx_http_consent_is_own_set_cookie(ngx_table_elt_t *h);

/* a whole answer from memory, application/json (HEAD: the head only) */
ngx_int_t ngx_http_consent_send_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);

/* a directive's "name=value" parameter: NGX_OK and *value, or NGX_DECLINED */
ngx_int_t ngx_http_consent_param(ngx_str_t *param, const char *name,
    ngx_str_t *value);
/* a time above 0, in ms or s: NGX_OK, or NGX_DECLINED when it is not one */
ngx_int_t ngx_http_consent_param_msec(ngx_str_t *value, ngx_msec_t *msec);
ngx_int_t ngx_http_consent_param_sec(ngx_str_t *value, time_t *sec);
/* as ngx_http_consent_param_sec(), or "off": 0 */
ngx_int_t ngx_http_consent_param_sec_off(ngx_str_t *value, time_t *sec);

/* a whole configuration file into cf->pool, NUL-terminated */
ngx_int_t ngx_http_consent_read_file(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *content);


#endif /* _NGX_HTTP_CONSENT_UTIL_H_INCLUDED_ */
