/*
 * Copyright (C) ngx_consent_module authors
 *
 * Expiring refused cookies the browser still holds: Set-Cookie
 * NAME=; Max-Age=0 for each place a script may have set it (Path and
 * Domain variants), bounded whatever the client sends.
 */


#ifndef _NGX_HTTP_CONSENT_EXPIRE_H_INCLUDED_
#define _NGX_HTTP_CONSENT_EXPIRE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* at most this many distinct names, and expiry headers, a response */
#define NGX_HTTP_CONSENT_EXPIRE_NAMES    32
#define NGX_HTTP_CONSENT_EXPIRE_HEADERS  128
/* Domain= variants (besides host-only) and request path levels */
#define NGX_HTTP_CONSENT_EXPIRE_DOMAINS  4
#define NGX_HTTP_CONSENT_EXPIRE_DEPTH    3


/*
 * names: ngx_str_t cookie names as the browser sent them; a name that is
 * not an RFC 6265 token is never written into a header, duplicates are
 * expired once.
 */
ngx_int_t ngx_http_consent_expire_cookies(ngx_http_request_t *r,
    ngx_array_t *names);

char *ngx_http_consent_cookie_domain(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_public_suffix_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CONSENT_EXPIRE_H_INCLUDED_ */
