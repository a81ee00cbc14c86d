/*
 * Copyright (C) ngx_consent_module authors
 *
 * A worker's memo of costly answers that depend only on bytes a request
 * carries: what a visitor's IAB strings say, a response's policy
 * rewritten for a decision.  Keyed by up to four byte strings, compared
 * in full (a hash collision never hands one request another's answer);
 * the least recently used entry goes when it is full, and a bucket holds
 * a bounded number of entries, so keys made to collide only push out
 * each other.  What a lookup returns is the memo's: copy it before the
 * next put.
 */


#ifndef _NGX_HTTP_CONSENT_MEMO_H_INCLUDED_
#define _NGX_HTTP_CONSENT_MEMO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_CONSENT_MEMO_KEYS      4
/* keys longer than this in all are not kept */
#define NGX_HTTP_CONSENT_MEMO_KEY_MAX   8192


typedef struct {
    ngx_uint_t                  owner;       /* the configuration's */
    void                      **buckets;
    ngx_uint_t                  nbuckets;
    ngx_uint_t                  n;
    ngx_queue_t                 lru;
} ngx_http_consent_memo_t;


/*
 * The memo ready for owner's entries, size at most (emptied when it held
 * another owner's): NGX_OK, or NGX_DECLINED when size is 0 or memory
 * ran out (nothing is kept then).  owner is a configuration's
 * generation, never 0: unlike its address, never reused by another.
 */
ngx_int_t ngx_http_consent_memo_ready(ngx_http_consent_memo_t *m,
    ngx_uint_t owner, ngx_uint_t size, ngx_log_t *log);
/* the value kept for the key (n byte strings), or NULL */
u_char *ngx_http_consent_memo_get(ngx_http_consent_memo_t *m, ngx_str_t *key,
    ngx_uint_t n, size_t *len);
/* keeps a copy of value for the key; nothing when memory runs out */
void ngx_http_consent_memo_put(ngx_http_consent_memo_t *m, ngx_str_t *key,
    ngx_uint_t n, u_char *value, size_t len, ngx_log_t *log);


#endif /* _NGX_HTTP_CONSENT_MEMO_H_INCLUDED_ */
