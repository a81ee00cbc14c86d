/*
 * Copyright (C) ngx_consent_module authors
 *
 * Shared-memory cache of subject states, as limit_req keeps its nodes: an
 * rbtree keyed by a hash of the subject id, ties broken by the id, and an
 * LRU queue.  An allocation failure evicts from the LRU tail and retries,
 * so a full zone degrades to a smaller hit ratio, never to an error.  An
 * entry fits one 256-byte slab chunk unless its subject refused many
 * vendors one by one (3 bytes each, after the id): such an entry, of a
 * larger slab size, takes only what expired, never others' places (its
 * subject could be anyone's, made to flush the zone).  Negative entries
 * ("Redis has no record") are cached too, with their own TTL.  The zone
 * is reused across "nginx -s reload".
 *
 * Invalidations are numbered in the zone, so that a Redis reply read
 * before an invalidation but stored after it (its connection is not the
 * subscriber's: the two race) cannot bring back what was withdrawn.  A
 * Redis command is stamped with the number when it is queued; its reply
 * is stored only if no invalidation since may concern its subject: a
 * ring remembers the hashes of the last ones, a flush counts as all of
 * them, and a ring that has wrapped since the stamp counts as all too.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_cache.h"


/* a power of two: 2 KB of the zone, far more than a lookup's flight */
#define NGX_HTTP_CONSENT_CACHE_RING  512


/* what the zone holds: the public part first, so that sh points to it */
typedef struct {
    ngx_http_consent_cache_sh_t  sh;
    ngx_atomic_t                 seq;      /* invalidations so far */
    ngx_atomic_uint_t            fence;    /* seq of the last flush */
    uint32_t                     ring[NGX_HTTP_CONSENT_CACHE_RING];
    /* for consent_metrics, under the mutex */
    ngx_atomic_uint_t            entries;
    ngx_atomic_uint_t            evictions;
} ngx_http_consent_cache_shctx_t;


typedef struct {
    u_char                       color;
    u_char                       len;
    u_char                       negative;
    u_char                       nvendors;     /* their hashes: after id */
    uint32_t                     purposes;
    uint32_t                     policy_version;
    uint32_t                     pad2;
    time_t                       expire;
    time_t                       updated;
    ngx_queue_t                  queue;
    u_char                       id[1];
} ngx_http_consent_cache_node_t;


static ngx_int_t ngx_http_consent_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_consent_zone_size(ngx_conf_t *cf,
    ngx_str_t *param, ngx_str_t *s, ngx_str_t *name, ssize_t *size);
static void ngx_http_consent_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_rbtree_node_t *ngx_http_consent_cache_find(
    ngx_http_consent_cache_t *cache, ngx_str_t *id, uint32_t hash);
static void ngx_http_consent_cache_evict(ngx_http_consent_cache_t *cache,
    ngx_uint_t n);
static void ngx_http_consent_cache_remove(ngx_http_consent_cache_t *cache,
    ngx_rbtree_node_t *node);
static void ngx_http_consent_cache_note(ngx_http_consent_cache_t *cache,
    uint32_t hash, ngx_uint_t fence);
static ngx_uint_t ngx_http_consent_cache_stale(
    ngx_http_consent_cache_t *cache, uint32_t hash, ngx_atomic_uint_t epoch);


#define ngx_http_consent_cache_shctx(cache)                                   \
    ((ngx_http_consent_cache_shctx_t *) (cache)->shpool->data)


/* per worker: whether its subscriber listens, so invalidations arrive */
static ngx_uint_t  ngx_http_consent_cache_heard;


void
ngx_http_consent_cache_listening(ngx_uint_t listening)
{
    ngx_http_consent_cache_heard = listening;
}


static ngx_int_t
ngx_http_consent_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_consent_cache_t  *ocache = data;

    size_t                           len;
    ngx_http_consent_cache_t        *cache;
    ngx_http_consent_cache_shctx_t  *shctx;

    cache = shm_zone->data;

    if (ocache) {
        /* reload: keep what the workers already learned */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = &ngx_http_consent_cache_shctx(cache)->sh;
        return NGX_OK;
    }

    shctx = ngx_slab_calloc(cache->shpool,
                            sizeof(ngx_http_consent_cache_shctx_t));
    if (shctx == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = shctx;
    cache->sh = &shctx->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_consent_cache_rbtree_insert);
    ngx_queue_init(&cache->sh->lru);

    len = sizeof(" in consent zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in consent zone \"%V\"%Z",
                &shm_zone->shm.name);

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_consent_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t              **p;
    ngx_http_consent_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            cn = (ngx_http_consent_cache_node_t *) &node->color;
            cnt = (ngx_http_consent_cache_node_t *) &temp->color;

            p = (ngx_memn2cmp(cn->id, cnt->id, cn->len, cnt->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_rbtree_node_t *
ngx_http_consent_cache_find(ngx_http_consent_cache_t *cache, ngx_str_t *id,
    uint32_t hash)
{
    ngx_int_t                       rc;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_consent_cache_node_t  *cn;

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_consent_cache_node_t *) &node->color;

        rc = ngx_memn2cmp(id->data, cn->id, id->len, (size_t) cn->len);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_int_t
ngx_http_consent_cache_get(ngx_http_consent_cache_t *cache, ngx_str_t *id,
    ngx_http_consent_state_t *state, ngx_pool_t *pool)
{
    u_char                         *v;
    uint32_t                        hash;
    ngx_int_t                       rc;
    ngx_uint_t                      i;
    ngx_rbtree_node_t              *node;
    ngx_http_consent_cache_node_t  *cn;

    hash = ngx_crc32_short(id->data, id->len);

    ngx_shmtx_lock(&cache->shpool->mutex);

    node = ngx_http_consent_cache_find(cache, id, hash);

    if (node == NULL) {
        rc = NGX_DECLINED;
        goto done;
    }

    cn = (ngx_http_consent_cache_node_t *) &node->color;

    if (cn->expire <= ngx_time()) {
        ngx_http_consent_cache_remove(cache, node);
        rc = NGX_DECLINED;
        goto done;
    }

    state->vendors = NULL;

    /* more than a set holds is no entry this module wrote: a miss */
    if (cn->nvendors > CONSENT_VENDORS_REFUSED_MAX) {
        ngx_http_consent_cache_remove(cache, node);
        rc = NGX_DECLINED;
        goto done;
    }

    if (cn->nvendors) {
        /* no memory: a miss, and Redis is asked */
        state->vendors = ngx_palloc(pool, sizeof(consent_vendor_set_t));
        if (state->vendors == NULL) {
            rc = NGX_DECLINED;
            goto done;
        }

        v = cn->id + cn->len;

        for (i = 0; i < cn->nvendors; i++, v += 3) {
            state->vendors->hash[i] = (v[0] << 16) | (v[1] << 8) | v[2];
        }

        state->vendors->n = cn->nvendors;
    }

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&cache->sh->lru, &cn->queue);

    state->found = !cn->negative;
    state->purposes = cn->purposes;
    state->policy_version = cn->policy_version;
    state->updated = cn->updated;

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


/*
 * epoch: ngx_http_consent_cache_epoch() when the state was asked of Redis,
 * or 0 when that is unknown.  A state an invalidation may have overtaken
 * (any, for 0) is not stored, and the entry it would replace goes too:
 * that can be no newer than what the caller holds.  Nothing is stored
 * either while this worker's subscriber is not listening: nothing would
 * drop the entry when the subject changes.
 */

void
ngx_http_consent_cache_put(ngx_http_consent_cache_t *cache, ngx_str_t *id,
    ngx_http_consent_state_t *state, ngx_atomic_uint_t epoch)
{
    u_char                         *v;
    size_t                          size;
    uint32_t                        hash;
    ngx_uint_t                      i, nvendors;
    ngx_rbtree_node_t              *node;
    ngx_http_consent_cache_node_t  *cn;

    if (id->len == 0 || id->len > 255) {
        return;
    }

    hash = ngx_crc32_short(id->data, id->len);
    nvendors = state->vendors ? state->vendors->n : 0;

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_consent_cache_node_t, id)
           + id->len + 3 * nvendors;

    ngx_shmtx_lock(&cache->shpool->mutex);

    node = ngx_http_consent_cache_find(cache, id, hash);

    /* a record refusing every vendor, not understood: asked each time */
    if (!ngx_http_consent_cache_heard || state->vendors_all
        || ngx_http_consent_cache_stale(cache, hash, epoch))
    {
        if (node) {
            ngx_http_consent_cache_remove(cache, node);
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    /* an entry of another size goes, and a new one comes */
    if (node) {
        cn = (ngx_http_consent_cache_node_t *) &node->color;

        if (cn->nvendors != nvendors) {
            ngx_http_consent_cache_remove(cache, node);
            node = NULL;
        }
    }

    if (node) {
        cn = (ngx_http_consent_cache_node_t *) &node->color;
        ngx_queue_remove(&cn->queue);

    } else {
        /* expired entries first, then the least recently used */
        ngx_http_consent_cache_evict(cache, 0);

        node = ngx_slab_alloc_locked(cache->shpool, size);

        if (node == NULL && nvendors == 0) {
            ngx_http_consent_cache_evict(cache, 8);
            node = ngx_slab_alloc_locked(cache->shpool, size);
        }

        if (node == NULL) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return;
        }

        node->key = hash;

        cn = (ngx_http_consent_cache_node_t *) &node->color;
        cn->len = (u_char) id->len;
        ngx_memcpy(cn->id, id->data, id->len);

        ngx_rbtree_insert(&cache->sh->rbtree, node);
        ngx_http_consent_cache_shctx(cache)->entries++;
    }

    cn->nvendors = (u_char) nvendors;
    v = cn->id + cn->len;

    for (i = 0; i < nvendors; i++) {
        *v++ = (u_char) (state->vendors->hash[i] >> 16);
        *v++ = (u_char) (state->vendors->hash[i] >> 8);
        *v++ = (u_char) state->vendors->hash[i];
    }

    cn->negative = !state->found;
    cn->purposes = state->purposes;
    cn->policy_version = state->policy_version;
    cn->updated = state->updated;
    cn->expire = ngx_time() + (state->found ? cache->ttl : cache->negative_ttl);

    ngx_queue_insert_head(&cache->sh->lru, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* an invalidation: numbered even when nothing is cached for the subject */

void
ngx_http_consent_cache_delete(ngx_http_consent_cache_t *cache, ngx_str_t *id)
{
    uint32_t            hash;
    ngx_rbtree_node_t  *node;

    hash = ngx_crc32_short(id->data, id->len);

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_http_consent_cache_note(cache, hash, 0);

    node = ngx_http_consent_cache_find(cache, id, hash);

    if (node) {
        ngx_http_consent_cache_remove(cache, node);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * The number of the last invalidation.  One aligned word, written under
 * the mutex: read without it, an older value only makes the check
 * stricter.
 */

ngx_atomic_uint_t
ngx_http_consent_cache_epoch(ngx_http_consent_cache_t *cache)
{
    return ngx_http_consent_cache_shctx(cache)->seq;
}


/* called with the mutex held */

static void
ngx_http_consent_cache_note(ngx_http_consent_cache_t *cache, uint32_t hash,
    ngx_uint_t fence)
{
    ngx_atomic_uint_t                n;
    ngx_http_consent_cache_shctx_t  *shctx;

    shctx = ngx_http_consent_cache_shctx(cache);

    n = shctx->seq + 1;
    shctx->ring[n & (NGX_HTTP_CONSENT_CACHE_RING - 1)] = hash;

    if (fence) {
        shctx->fence = n;
    }

    shctx->seq = n;
}


/*
 * Whether an invalidation numbered after epoch may concern the subject.
 * Unsigned differences, so that the numbers may wrap.  Called with the
 * mutex held.
 */

static ngx_uint_t
ngx_http_consent_cache_stale(ngx_http_consent_cache_t *cache, uint32_t hash,
    ngx_atomic_uint_t epoch)
{
    ngx_atomic_uint_t                n, since;
    ngx_http_consent_cache_shctx_t  *shctx;

    /* unknown; a number only ever read before the first subscriber did */
    if (epoch == 0) {
        return 1;
    }

    shctx = ngx_http_consent_cache_shctx(cache);

    since = shctx->seq - epoch;

    if (since == 0) {
        return 0;
    }

    /* a flush since, or more invalidations than the ring remembers */
    if (since > shctx->seq - shctx->fence
        || since > NGX_HTTP_CONSENT_CACHE_RING)
    {
        return 1;
    }

    for (n = epoch + 1; n != shctx->seq + 1; n++) {
        if (shctx->ring[n & (NGX_HTTP_CONSENT_CACHE_RING - 1)] == hash) {
            return 1;
        }
    }

    return 0;
}


/* called with the mutex held */

static void
ngx_http_consent_cache_remove(ngx_http_consent_cache_t *cache,
    ngx_rbtree_node_t *node)
{
    ngx_http_consent_cache_node_t  *cn;

    cn = (ngx_http_consent_cache_node_t *) &node->color;

    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, node);
    ngx_slab_free_locked(cache->shpool, node);
    ngx_http_consent_cache_shctx(cache)->entries--;
}


/*
 * n == 0: drop up to two expired entries from the LRU tail (cheap upkeep
 * on every insert); n > 0: drop n entries whatever their age.
 */

static void
ngx_http_consent_cache_evict(ngx_http_consent_cache_t *cache, ngx_uint_t n)
{
    ngx_uint_t                      i, max;
    ngx_queue_t                    *q;
    ngx_rbtree_node_t              *node;
    ngx_http_consent_cache_node_t  *cn;

    max = n ? n : 2;

    for (i = 0; i < max; i++) {

        if (ngx_queue_empty(&cache->sh->lru)) {
            return;
        }

        q = ngx_queue_last(&cache->sh->lru);
        cn = ngx_queue_data(q, ngx_http_consent_cache_node_t, queue);

        if (n == 0 && cn->expire > ngx_time()) {
            return;
        }

        node = (ngx_rbtree_node_t *)
                   ((u_char *) cn - offsetof(ngx_rbtree_node_t, color));

        ngx_http_consent_cache_remove(cache, node);

        if (n) {
            ngx_http_consent_cache_shctx(cache)->evictions++;
        }
    }
}


/* everything cached goes, and every state asked of Redis before now */

void
ngx_http_consent_cache_flush(ngx_http_consent_cache_t *cache)
{
    ngx_queue_t                    *q;
    ngx_rbtree_node_t              *node;
    ngx_http_consent_cache_node_t  *cn;

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_http_consent_cache_note(cache, 0, 1);

    while (!ngx_queue_empty(&cache->sh->lru)) {
        q = ngx_queue_last(&cache->sh->lru);
        cn = ngx_queue_data(q, ngx_http_consent_cache_node_t, queue);
        node = (ngx_rbtree_node_t *)
                   ((u_char *) cn - offsetof(ngx_rbtree_node_t, color));

        ngx_http_consent_cache_remove(cache, node);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * Every state asked of Redis before now is not stored, what is cached
 * stays: for a subscriber that starts to listen, since invalidations
 * published before it did went unheard.
 */

void
ngx_http_consent_cache_fence(ngx_http_consent_cache_t *cache)
{
    ngx_shmtx_lock(&cache->shpool->mutex);
    ngx_http_consent_cache_note(cache, 0, 1);
    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* consent_zone zone=NAME:SIZE [ttl=TIME] [negative_ttl=TIME] */

char *
ngx_http_consent_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ssize_t                    size;
    ngx_int_t                  rc;
    ngx_str_t                 *value, name, s;
    ngx_uint_t                 i;
    ngx_http_consent_cache_t  *cache;

    if (cmcf->zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_consent_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    cache->ttl = 60;
    cache->negative_ttl = 10;

    size = 0;
    ngx_str_null(&name);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_consent_param(&value[i], "zone=", &s) == NGX_OK) {
            rc = ngx_http_consent_zone_size(cf, &value[i], &s, &name, &size);

        } else if (ngx_http_consent_param(&value[i], "ttl=", &s) == NGX_OK) {
            rc = ngx_http_consent_param_sec(&s, &cache->ttl);

        } else if (ngx_http_consent_param(&value[i], "negative_ttl=", &s)
                   == NGX_OK)
        {
            rc = ngx_http_consent_param_sec(&s, &cache->negative_ttl);

        } else {
            rc = NGX_DECLINED;
        }

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone=NAME:SIZE\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    cmcf->zone = ngx_shared_memory_add(cf, &name, size,
                                       &ngx_http_consent_module);
    if (cmcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cmcf->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    cmcf->zone->init = ngx_http_consent_cache_init_zone;
    cmcf->zone->data = cache;

    return NGX_CONF_OK;
}


/* "NAME:SIZE": NGX_OK, NGX_DECLINED when invalid, NGX_ERROR (said why) */

static ngx_int_t
ngx_http_consent_zone_size(ngx_conf_t *cf, ngx_str_t *param, ngx_str_t *s,
    ngx_str_t *name, ssize_t *size)
{
    u_char     *colon;
    ngx_str_t   sz;

    colon = ngx_strlchr(s->data, s->data + s->len, ':');
    if (colon == NULL) {
        return NGX_DECLINED;
    }

    name->data = s->data;
    name->len = colon - s->data;
    sz.data = colon + 1;
    sz.len = s->data + s->len - sz.data;

    *size = ngx_parse_size(&sz);

    if (name->len == 0 || *size == NGX_ERROR) {
        return NGX_DECLINED;
    }

    if (*size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", param);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* read without the mutex: a scrape may see a count one change behind */

void
ngx_http_consent_cache_stats(ngx_http_consent_cache_t *cache,
    ngx_atomic_uint_t *entries, ngx_atomic_uint_t *evictions,
    ngx_atomic_uint_t *invalidations)
{
    ngx_http_consent_cache_shctx_t  *shctx;

    shctx = ngx_http_consent_cache_shctx(cache);

    *entries = shctx->entries;
    *evictions = shctx->evictions;
    *invalidations = shctx->seq;
}
