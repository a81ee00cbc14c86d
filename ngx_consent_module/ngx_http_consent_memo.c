/*
 * Copyright (C) ngx_consent_module authors
 *
 * A worker's memo; see ngx_http_consent_memo.h.
 */


#include "ngx_http_consent_memo.h"


#define NGX_HTTP_CONSENT_MEMO_CHAIN_MAX  8
/* bytes hashed at each end of a key string: the rest is compared */
#define NGX_HTTP_CONSENT_MEMO_HASHED     32


typedef struct ngx_http_consent_memo_entry_s  ngx_http_consent_memo_entry_t;

struct ngx_http_consent_memo_entry_s {
    ngx_queue_t                      lru;
    ngx_http_consent_memo_entry_t   *next;       /* in its bucket */
    ngx_uint_t                       hash;
    ngx_uint_t                       nkey;
    size_t                           len[NGX_HTTP_CONSENT_MEMO_KEYS];
    size_t                           vlen;
    u_char                          *value;      /* after the key */
    u_char                           data[1];
};


static ngx_uint_t ngx_http_consent_memo_hash(ngx_str_t *key, ngx_uint_t n,
    size_t *total);
static void ngx_http_consent_memo_evict(ngx_http_consent_memo_t *m,
    ngx_http_consent_memo_entry_t *e);


ngx_int_t
ngx_http_consent_memo_ready(ngx_http_consent_memo_t *m, ngx_uint_t owner,
    ngx_uint_t size, ngx_log_t *log)
{
    if (m->owner == owner && m->buckets) {
        return NGX_OK;
    }

    /* another configuration's entries mean something else */
    while (m->n) {
        ngx_http_consent_memo_evict(m,
            ngx_queue_data(ngx_queue_last(&m->lru),
                           ngx_http_consent_memo_entry_t, lru));
    }

    if (m->buckets) {
        ngx_free(m->buckets);
    }

    ngx_memzero(m, sizeof(ngx_http_consent_memo_t));
    ngx_queue_init(&m->lru);

    if (size == 0) {
        return NGX_DECLINED;
    }

    m->buckets = ngx_calloc(size * sizeof(void *), log);
    if (m->buckets == NULL) {
        return NGX_DECLINED;
    }

    m->nbuckets = size;
    m->owner = owner;

    return NGX_OK;
}


u_char *
ngx_http_consent_memo_get(ngx_http_consent_memo_t *m, ngx_str_t *key,
    ngx_uint_t n, size_t *len)
{
    u_char                         *p;
    size_t                          total;
    ngx_uint_t                      i, hash;
    ngx_http_consent_memo_entry_t  *e;

    hash = ngx_http_consent_memo_hash(key, n, &total);

    for (e = m->buckets[hash % m->nbuckets]; e; e = e->next) {

        if (e->hash != hash || e->nkey != n) {
            continue;
        }

        p = e->data;

        for (i = 0; i < n; i++) {
            /* an empty string may be a NULL span: memcmp() may not see it */
            if (e->len[i] != key[i].len
                || (key[i].len && ngx_memcmp(p, key[i].data, key[i].len) != 0))
            {
                break;
            }

            p += key[i].len;
        }

        if (i == n) {
            ngx_queue_remove(&e->lru);
            ngx_queue_insert_head(&m->lru, &e->lru);

            *len = e->vlen;
            return e->value;
        }
    }

    return NULL;
}


void
ngx_http_consent_memo_put(ngx_http_consent_memo_t *m, ngx_str_t *key,
    ngx_uint_t n, u_char *value, size_t len, ngx_log_t *log)
{
    u_char                          *p;
    size_t                           total;
    ngx_uint_t                       i, hash, chain;
    ngx_http_consent_memo_entry_t   *e, *last, **bucket;

    hash = ngx_http_consent_memo_hash(key, n, &total);

    if (n > NGX_HTTP_CONSENT_MEMO_KEYS
        || total > NGX_HTTP_CONSENT_MEMO_KEY_MAX)
    {
        return;
    }

    bucket = (ngx_http_consent_memo_entry_t **)
                 &m->buckets[hash % m->nbuckets];
    chain = 0;
    last = NULL;

    for (e = *bucket; e; e = e->next) {
        last = e;
        chain++;
    }

    /* a full bucket loses its oldest entry, a full memo its least used */
    if (chain >= NGX_HTTP_CONSENT_MEMO_CHAIN_MAX) {
        ngx_http_consent_memo_evict(m, last);

    } else if (m->n >= m->nbuckets) {
        ngx_http_consent_memo_evict(m,
            ngx_queue_data(ngx_queue_last(&m->lru),
                           ngx_http_consent_memo_entry_t, lru));
    }

    e = ngx_alloc(sizeof(ngx_http_consent_memo_entry_t) + total + len, log);
    if (e == NULL) {
        return;
    }

    e->hash = hash;
    e->nkey = n;
    p = e->data;

    for (i = 0; i < n; i++) {
        e->len[i] = key[i].len;

        if (key[i].len) {
            p = ngx_cpymem(p, key[i].data, key[i].len);
        }
    }

    e->value = p;
    e->vlen = len;
    ngx_memcpy(p, value, len);

    e->next = *bucket;
    *bucket = e;
    ngx_queue_insert_head(&m->lru, &e->lru);
    m->n++;
}


/* each string's first and last bytes and its length */

static ngx_uint_t
ngx_http_consent_memo_hash(ngx_str_t *key, ngx_uint_t n, size_t *total)
{
    size_t      k, h;
    ngx_uint_t  i, hash;

    hash = n;
    *total = 0;

    for (i = 0; i < n; i++) {
        h = ngx_min(key[i].len, NGX_HTTP_CONSENT_MEMO_HASHED);

        for (k = 0; k < h; k++) {
            hash = ngx_hash(hash, key[i].data[k]);
        }

        for (k = key[i].len - h; k < key[i].len; k++) {
            hash = ngx_hash(hash, key[i].data[k]);
        }

        hash = ngx_hash(hash, (key[i].len & 0xffff));
        *total += key[i].len;
    }

    return hash;
}


static void
ngx_http_consent_memo_evict(ngx_http_consent_memo_t *m,
    ngx_http_consent_memo_entry_t *e)
{
    ngx_http_consent_memo_entry_t  **pe;

    for (pe = (ngx_http_consent_memo_entry_t **)
                  &m->buckets[e->hash % m->nbuckets];
         *pe;
         pe = &(*pe)->next)
    {
        if (*pe == e) {
            *pe = e->next;
            break;
        }
    }

    ngx_queue_remove(&e->lru);
    m->n--;
    ngx_free(e);
}
