/*
 * Copyright (C) ngx_consent_module authors
 *
 * What every libFuzzer target here shares.
 */

#ifndef _CONSENT_FUZZ_H_INCLUDED_
#define _CONSENT_FUZZ_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"


/* a property the code promises: a violation is a finding, like a crash */
#define FUZZ_ASSERT(cond)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: property violated: %s\n",                \
                    __FILE__, __LINE__, #cond);                              \
            abort();                                                         \
        }                                                                    \
    } while (0)


/*
 * An exactly sized heap copy: a read one byte past its end is an ASan
 * report, where libFuzzer's own buffer may have slack.
 */
static inline unsigned char *
fuzz_copy(const void *src, size_t len)
{
    unsigned char  *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    memcpy(p, src, len);

    return p;
}


/*
 * A consent_alloc_t over malloc that remembers every block, so that each
 * input frees what it took (fuzz_pool_free()), and that can fail: the
 * fail_at-th allocation and every later one give NULL (0: never), to walk
 * the out-of-memory paths.  An nginx pool does not clear memory either,
 * so neither does this.
 */
typedef struct {
    void                 **blocks;
    size_t                 n;
    size_t                 cap;
    size_t                 bytes;
    size_t                 count;       /* allocations asked for */
    size_t                 fail_at;
    unsigned               failed:1;
} fuzz_pool_t;

/* beyond these an input is only slow, not interesting: refused */
#define FUZZ_POOL_BLOCK_MAX  (64 * 1024 * 1024)
#define FUZZ_POOL_TOTAL_MAX  (256 * 1024 * 1024)


static inline void *
fuzz_pool_alloc(void *data, size_t size)
{
    void         *p, **b;
    size_t        cap;
    fuzz_pool_t  *pool = data;

    pool->count++;

    if ((pool->fail_at && pool->count >= pool->fail_at)
        || size > FUZZ_POOL_BLOCK_MAX || pool->bytes > FUZZ_POOL_TOTAL_MAX)
    {
        pool->failed = 1;
        return NULL;
    }

    if (pool->n == pool->cap) {
        cap = pool->cap ? pool->cap * 2 : 64;

        b = realloc(pool->blocks, cap * sizeof(void *));
        if (b == NULL) {
            abort();
        }

        pool->blocks = b;
        pool->cap = cap;
    }

    p = malloc(size ? size : 1);
    if (p == NULL) {
        abort();
    }

    /* not zeroed, as an nginx pool: the code must clear what it uses */
    memset(p, 0xa5, size);

    pool->blocks[pool->n++] = p;
    pool->bytes += size;

    return p;
}


/* an empty pool failing from fail_at (0: never), and a allocating from it */

static inline void
fuzz_pool_init(fuzz_pool_t *pool, size_t fail_at, consent_alloc_t *a)
{
    memset(pool, 0, sizeof(fuzz_pool_t));
    pool->fail_at = fail_at;
    a->alloc = fuzz_pool_alloc;
    a->data = pool;
}


static inline void
fuzz_pool_free(fuzz_pool_t *pool)
{
    size_t  i;

    for (i = 0; i < pool->n; i++) {
        free(pool->blocks[i]);
    }

    free(pool->blocks);
    memset(pool, 0, sizeof(fuzz_pool_t));
}


#endif /* _CONSENT_FUZZ_H_INCLUDED_ */
