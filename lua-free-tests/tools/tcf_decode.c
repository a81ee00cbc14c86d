/*
 * Copyright (C) ngx_consent_module authors
 *
 * tcf_decode: the core's reading of TC strings, for the cross-check with
 * the IAB reference library (iab/check-tcf.sh).  Built with plain cc and
 * the core sources, as build/strip_cookie is.
 *
 *   tcf_decode < lines
 *
 * Each input line is a TC string, or a JSON line of iab/tcf-vectors.mjs
 * ({"s":"...",...}: only "s" is read).  Each output line is a JSON object
 * of the shape tcf-vectors.mjs prints: id lists as "1-3,7" ranges, a
 * vendor set as {"max": MaxVendorId, "ids": ranges}, publisher
 * restrictions as [purpose, type, ranges] sorted by purpose and type;
 * or {"s":..., "error": code, "msg": ...} when the core refuses it.
 *
 * Exit status 0, or 2 on a read error or out of memory.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "tcf.h"


#define TOOL_MAX_VENDOR  65536

/* every block of one string, freed before the next */
typedef struct {
    void       **blocks;
    size_t       n;
    size_t       cap;
} tool_pool_t;


static void *
tool_alloc(void *data, size_t size)
{
    void         *p, **nb;
    tool_pool_t  *pool = data;

    if (pool->n == pool->cap) {
        pool->cap = pool->cap ? pool->cap * 2 : 64;
        nb = realloc(pool->blocks, pool->cap * sizeof(void *));
        if (nb == NULL) {
            return NULL;
        }
        pool->blocks = nb;
    }

    p = malloc(size ? size : 1);
    if (p != NULL) {
        pool->blocks[pool->n++] = p;
    }

    return p;
}


static void
tool_pool_reset(tool_pool_t *pool)
{
    size_t  i;

    for (i = 0; i < pool->n; i++) {
        free(pool->blocks[i]);
    }

    pool->n = 0;
}


/* a JSON string: the input may be anything when it is not a vector */

static void
tool_string(const char *s)
{
    const unsigned char  *p;

    putchar('"');

    for (p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x7f) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }

    putchar('"');
}


/* ids of a bit map as "1-3,7" */

static void
tool_ranges(const unsigned char *map, unsigned max)
{
    unsigned  id, start;
    int       first;

    first = 1;
    putchar('"');

    for (id = 1; id <= max; id++) {
        if (!(map[id / 8] & (1u << (id % 8)))) {
            continue;
        }

        start = id;

        while (id + 1 <= max && (map[(id + 1) / 8] & (1u << ((id + 1) % 8)))) {
            id++;
        }

        printf(first ? "" : ",");
        first = 0;

        if (start == id) {
            printf("%u", id);
        } else {
            printf("%u-%u", start, id);
        }
    }

    putchar('"');
}


/* a purpose mask (bit id - 1) as ranges */

static void
tool_mask(uint64_t mask, unsigned n)
{
    unsigned       id;
    unsigned char  map[9];

    memset(map, 0, sizeof(map));

    for (id = 1; id <= n; id++) {
        if (CONSENT_TCF_HAS(mask, id)) {
            map[id / 8] |= (unsigned char) (1u << (id % 8));
        }
    }

    tool_ranges(map, n);
}


static void
tool_vendors(const char *name, const consent_tcf_vendors_t *v,
    unsigned char *map)
{
    unsigned  id;

    memset(map, 0, TOOL_MAX_VENDOR / 8 + 1);

    for (id = 1; id <= v->max_id; id++) {
        if (consent_tcf_vendor(v, id)) {
            map[id / 8] |= (unsigned char) (1u << (id % 8));
        }
    }

    printf(",\"%s\":{\"max\":%u,\"ids\":", name, v->max_id);
    tool_ranges(map, v->max_id);
    putchar('}');
}


/*
 * The restrictions of one purpose and type, merged as the library merges
 * them (one set per purpose and type), in that order.
 */

static void
tool_restrictions(const consent_tcf_t *t, unsigned char *map)
{
    int                         first, found;
    unsigned                    purpose, type, i, j, id;
    const consent_tcf_range_t  *r;

    printf(",\"publisherRestrictions\":[");
    first = 1;

    for (purpose = 0; purpose < 64; purpose++) {
        for (type = 0; type < 4; type++) {
            memset(map, 0, TOOL_MAX_VENDOR / 8 + 1);
            found = 0;

            for (i = 0; i < t->nrestrictions; i++) {
                if (t->restrictions[i].purpose != purpose
                    || t->restrictions[i].type != type)
                {
                    continue;
                }

                for (j = 0; j < t->restrictions[i].nranges; j++) {
                    r = &t->restrictions[i].ranges[j];
                    for (id = r->start; id <= r->end; id++) {
                        map[id / 8] |= (unsigned char) (1u << (id % 8));
                    }
                }

                found = 1;
            }

            if (!found) {
                continue;
            }

            printf("%s[%u,%u,", first ? "" : ",", purpose, type);
            tool_ranges(map, TOOL_MAX_VENDOR - 1);
            putchar(']');
            first = 0;
        }
    }

    putchar(']');
}


static void
tool_print(const char *s, const consent_tcf_t *t, unsigned char *map)
{
    printf("{\"s\":");
    tool_string(s);
    printf(",\"version\":%u,\"created\":%llu,"
           "\"lastUpdated\":%llu,\"cmpId\":%u,\"cmpVersion\":%u,"
           "\"consentScreen\":%u,\"consentLanguage\":\"%s\","
           "\"vendorListVersion\":%u,\"policyVersion\":%u,"
           "\"isServiceSpecific\":%u,\"useNonStandardTexts\":%u",
           t->version, (unsigned long long) t->created,
           (unsigned long long) t->last_updated, t->cmp_id, t->cmp_version,
           t->consent_screen, t->language, t->vendor_list_version,
           t->policy_version, t->is_service_specific,
           t->use_non_standard_texts);

    printf(",\"specialFeatureOptins\":");
    tool_mask(t->special_features, 12);
    printf(",\"purposeConsents\":");
    tool_mask(t->purposes_consent, 24);
    printf(",\"purposeLegitimateInterests\":");
    tool_mask(t->purposes_li, 24);
    printf(",\"purposeOneTreatment\":%u,\"publisherCountryCode\":\"%s\"",
           t->purpose_one_treatment, t->publisher_cc);

    tool_vendors("vendorConsents", &t->vendors_consent, map);
    tool_vendors("vendorLegitimateInterests", &t->vendors_li, map);
    tool_restrictions(t, map);
    tool_vendors("vendorsDisclosed", &t->vendors_disclosed, map);

    if (!t->has_publisher) {
        printf(",\"publisherTC\":null}\n");
        return;
    }

    printf(",\"publisherTC\":{\"consents\":");
    tool_mask(t->pub_consent, 24);
    printf(",\"li\":");
    tool_mask(t->pub_li, 24);
    printf(",\"numCustom\":%u,\"customConsents\":", t->num_custom);
    tool_mask(t->custom_consent, t->num_custom);
    printf(",\"customLi\":");
    tool_mask(t->custom_li, t->num_custom);
    printf("}}\n");
}


int
main(void)
{
    char             *line, *s, *e;
    size_t            cap;
    ssize_t           n;
    tool_pool_t       pool;
    consent_tcf_t     t;
    consent_err_t     err;
    unsigned char    *map;
    consent_alloc_t   a;

    line = NULL;
    cap = 0;
    memset(&pool, 0, sizeof(pool));
    a.alloc = tool_alloc;
    a.data = &pool;

    map = malloc(TOOL_MAX_VENDOR / 8 + 1);
    if (map == NULL) {
        return 2;
    }

    while ((n = getline(&line, &cap, stdin)) != -1) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }

        s = line;

        /* a vectors line: the string is the value of "s", first */
        if (strncmp(s, "{\"s\":\"", 6) == 0) {
            s += 6;
            e = strchr(s, '"');
            if (e == NULL) {
                return 2;
            }
            *e = '\0';
        }

        if (consent_tcf_decode((unsigned char *) s, strlen(s), &a, &t, &err)
            == 0)
        {
            tool_print(s, &t, map);

        } else if (err.code == CONSENT_TCF_E_NOMEM) {
            return 2;

        } else {
            printf("{\"s\":");
            tool_string(s);
            printf(",\"error\":%d,\"msg\":\"%s\"}\n", err.code, err.msg);
        }

        tool_pool_reset(&pool);
    }

    free(line);
    free(pool.blocks);
    free(map);

    return ferror(stdin) ? 2 : 0;
}
