/*
 * Copyright (C) ngx_consent_module authors
 *
 * Cookie rules.  Matching cost must not grow with the rule count, so each
 * kind has one structure built once at configuration time:
 *   exact names  - an open-addressing hash (FNV-1a, linear probing);
 *   prefixes     - a byte trie whose children are sorted edge arrays, so a
 *                  lookup is one binary search per name byte;
 *   regexes      - one PCRE2 alternation, JIT-compiled, each branch ending
 *                  in (*MARK:n) so the match tells which rule it was.
 * All memory comes from the caller's allocator, PCRE2's included, but for
 * the JIT code, which consent_ruleset_free() releases.
 *
 * A set is built once and then only matched against, but matching writes
 * the memo of names and PCRE2's match data: consent_ruleset_match() takes
 * the set as non-const, and a set is for one thread at a time (in nginx,
 * each worker process has its own copy after fork).
 */

#include <string.h>
#include <stdio.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "consent_core.h"


#define CONSENT_REGEX_MATCH_LIMIT  100000


typedef struct {
    uint32_t                   rule;        /* rule index + 1, or 0 */
    uint32_t                   first_child; /* build: linked children */
    uint32_t                   next;
    uint32_t                   edges;       /* compiled: first edge */
    uint16_t                   nedges;
    unsigned char              label;
} consent_trie_node_t;

typedef struct {
    unsigned char              label;
    uint32_t                   node;
} consent_trie_edge_t;

typedef struct {
    unsigned char             *name;
    size_t                     len;
} consent_vendor_t;

/*
 * Sites send the same few dozen cookie names on every request: remembering
 * the answer for a name makes a prefix or regex hit cost one hash probe,
 * however many rules there are.  Names longer than the slot are just not
 * remembered; a flood of random names only evicts entries.
 */
#define CONSENT_MEMO_SIZE          1024
#define CONSENT_MEMO_NAME          46

typedef struct {
    uint32_t                   hash;
    uint32_t                   rule;        /* rule index + 1, or 0 */
    uint8_t                    len;         /* 0: empty slot */
    unsigned char              name[CONSENT_MEMO_NAME];
} consent_memo_t;

struct consent_ruleset_s {
    consent_alloc_t            alloc;

    consent_rule_t            *rules;
    unsigned                   nrules;
    unsigned                   rules_cap;

    consent_vendor_t          *vendors;
    unsigned                   nvendors;
    unsigned                   vendors_cap;

    uint32_t                  *exact;
    uint32_t                   exact_mask;

    consent_trie_node_t       *nodes;
    unsigned                   nnodes;
    unsigned                   nodes_cap;
    consent_trie_edge_t       *edges;

    uint32_t                  *domains;     /* rule index + 1, by domain= */
    uint32_t                   domains_mask;

    /* names that missed the exact hash, with what prefix/regex said */
    consent_memo_t            *memo;

    unsigned                   nregex;
    pcre2_general_context     *gctx;
    /* from gctx: compiled code comes from the allocator too */
    pcre2_compile_context     *cctx;
    pcre2_code                *re;
    /* written by every regex match, as memo is by every lookup */
    pcre2_match_data          *md;
    pcre2_match_context       *mctx;
    int                        jit;
    int                        compiled;
};


static void *consent_pcre2_malloc(PCRE2_SIZE size, void *data);
static void consent_pcre2_free(void *p, void *data);
static void *consent_grow(consent_ruleset_t *rs, void *old, size_t size,
    unsigned *cap, unsigned n);
static unsigned char *consent_strdup(consent_ruleset_t *rs,
    const unsigned char *p, size_t len);
static int consent_vendor_add(consent_ruleset_t *rs, const unsigned char *p,
    size_t len);
static int consent_trie_insert(consent_ruleset_t *rs, const unsigned char *p,
    size_t len, uint32_t rule);
static int consent_compile_exact(consent_ruleset_t *rs);
static int consent_compile_trie(consent_ruleset_t *rs);
static int consent_compile_regex(consent_ruleset_t *rs, char *err,
    size_t errlen);
static const consent_rule_t *consent_match_slow(consent_ruleset_t *rs,
    const unsigned char *name, size_t len);
static int consent_compile_domains(consent_ruleset_t *rs);
static uint32_t consent_hash_lower(const unsigned char *p, size_t len);
static int consent_domain_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);


static uint32_t
consent_hash(const unsigned char *p, size_t len)
{
    uint32_t  h;

    h = 2166136261u;

    while (len--) {
        h ^= *p++;
        h *= 16777619u;
    }

    return h;
}


static void *
consent_pcre2_malloc(PCRE2_SIZE size, void *data)
{
    const consent_alloc_t  *a = data;

    return a->alloc(a->data, size);
}


static void
consent_pcre2_free(void *p, void *data)
{
    /* the caller's allocator owns it: freed with the pool */
    (void) p;
    (void) data;
}


consent_ruleset_t *
consent_ruleset_create(const consent_alloc_t *a)
{
    consent_ruleset_t  *rs;

    rs = a->alloc(a->data, sizeof(consent_ruleset_t));
    if (rs == NULL) {
        return NULL;
    }

    memset(rs, 0, sizeof(consent_ruleset_t));
    rs->alloc = *a;

    rs->gctx = pcre2_general_context_create(consent_pcre2_malloc,
                                            consent_pcre2_free, &rs->alloc);
    if (rs->gctx == NULL) {
        return NULL;
    }

    return rs;
}


static void *
consent_grow(consent_ruleset_t *rs, void *old, size_t size, unsigned *cap,
    unsigned n)
{
    void      *p;
    unsigned   ncap;

    if (n < *cap) {
        return old;
    }

    ncap = *cap ? *cap * 2 : 16;

    p = rs->alloc.alloc(rs->alloc.data, size * ncap);
    if (p == NULL) {
        return NULL;
    }

    if (old) {
        memcpy(p, old, size * n);
    }

    *cap = ncap;

    return p;
}


static unsigned char *
consent_strdup(consent_ruleset_t *rs, const unsigned char *p, size_t len)
{
    unsigned char  *s;

    s = rs->alloc.alloc(rs->alloc.data, len + 1);
    if (s == NULL) {
        return NULL;
    }

    memcpy(s, p, len);
    s[len] = '\0';

    return s;
}


static int
consent_vendor_add(consent_ruleset_t *rs, const unsigned char *p, size_t len)
{
    int                id;
    consent_vendor_t  *v;

    id = consent_ruleset_vendor_find(rs, p, len);
    if (id >= 0) {
        return id;
    }

    if (rs->nvendors >= 65535) {
        return -1;
    }

    v = consent_grow(rs, rs->vendors, sizeof(consent_vendor_t),
                     &rs->vendors_cap, rs->nvendors);
    if (v == NULL) {
        return -1;
    }

    rs->vendors = v;

    v[rs->nvendors].name = consent_strdup(rs, p, len);
    if (v[rs->nvendors].name == NULL) {
        return -1;
    }

    v[rs->nvendors].len = len;

    return (int) rs->nvendors++;
}


int
consent_ruleset_add(consent_ruleset_t *rs, const consent_rule_t *rule,
    char *err, size_t errlen)
{
    int              vendor, rc;
    PCRE2_SIZE       off;
    pcre2_code      *re;
    consent_rule_t  *r;
    unsigned char    msg[128];

    if (rs->compiled) {
        snprintf(err, errlen, "rule set already compiled");
        return -1;
    }

    if (rule->pattern_len == 0 || rule->pattern_len > CONSENT_NAME_MAX
        || rule->vendor_len == 0 || rule->vendor_len > CONSENT_VENDOR_MAX
        || rule->kind < CONSENT_RULE_EXACT || rule->kind > CONSENT_RULE_REGEX)
    {
        snprintf(err, errlen, "invalid rule");
        return -1;
    }

    if (rule->kind == CONSENT_RULE_REGEX) {
        if (rs->cctx == NULL) {
            rs->cctx = pcre2_compile_context_create(rs->gctx);
            if (rs->cctx == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }

        /* alone, so that a bad one is reported with its own line */
        re = pcre2_compile(rule->pattern, rule->pattern_len, 0, &rc, &off,
                           rs->cctx);
        if (re == NULL) {
            pcre2_get_error_message(rc, msg, sizeof(msg));
            snprintf(err, errlen, "bad regex: %s at offset %zu", msg,
                     (size_t) off);
            return -1;
        }

        pcre2_code_free(re);
        rs->nregex++;
    }

    vendor = consent_vendor_add(rs, rule->vendor, rule->vendor_len);
    if (vendor < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    r = consent_grow(rs, rs->rules, sizeof(consent_rule_t), &rs->rules_cap,
                     rs->nrules);
    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    rs->rules = r;
    r = &rs->rules[rs->nrules];

    *r = *rule;
    r->index = rs->nrules;
    r->vendor_id = (uint16_t) vendor;
    r->vendor = rs->vendors[vendor].name;
    r->pattern = consent_strdup(rs, rule->pattern, rule->pattern_len);

    if (r->pattern == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    /* kept without the leading dot a cookie Domain may have (RFC 6265) */
    r->domain = NULL;
    r->domain_len = rule->domain_len;

    if (r->domain_len && rule->domain[0] == '.') {
        r->domain_len--;
    }

    if (r->domain_len) {
        r->domain = consent_strdup(rs, rule->domain + rule->domain_len
                                       - r->domain_len, r->domain_len);
        if (r->domain == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }

    rs->nrules++;

    return 0;
}


int
consent_ruleset_compile(consent_ruleset_t *rs, char *err, size_t errlen)
{
    if (rs->compiled) {
        return 0;
    }

    if (consent_compile_exact(rs) != 0 || consent_compile_trie(rs) != 0
        || consent_compile_domains(rs) != 0)
    {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (consent_compile_regex(rs, err, errlen) != 0) {
        return -1;
    }

    /* zeroed: the allocator may hand out used memory */
    rs->memo = rs->alloc.alloc(rs->alloc.data,
                               CONSENT_MEMO_SIZE * sizeof(consent_memo_t));
    if (rs->memo == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    memset(rs->memo, 0, CONSENT_MEMO_SIZE * sizeof(consent_memo_t));

    rs->compiled = 1;

    return 0;
}


static int
consent_compile_exact(consent_ruleset_t *rs)
{
    unsigned         i, n, size;
    uint32_t         h, cur;
    consent_rule_t  *r, *other;

    n = 0;

    for (i = 0; i < rs->nrules; i++) {
        n += (rs->rules[i].kind == CONSENT_RULE_EXACT);
    }

    /* load factor at most 1/2 keeps probe chains short */
    for (size = 16; size < n * 2; size *= 2) { /* void */ }

    rs->exact = rs->alloc.alloc(rs->alloc.data, size * sizeof(uint32_t));
    if (rs->exact == NULL) {
        return -1;
    }

    memset(rs->exact, 0, size * sizeof(uint32_t));
    rs->exact_mask = size - 1;

    for (i = 0; i < rs->nrules; i++) {
        r = &rs->rules[i];

        if (r->kind != CONSENT_RULE_EXACT) {
            continue;
        }

        h = consent_hash(r->pattern, r->pattern_len) & rs->exact_mask;

        for ( ;; ) {
            cur = rs->exact[h];

            if (cur == 0) {
                rs->exact[h] = i + 1;
                break;
            }

            other = &rs->rules[cur - 1];

            /* a later rule for the same name overrides: operators load
             * their own rules after the defaults */
            if (other->pattern_len == r->pattern_len
                && memcmp(other->pattern, r->pattern, r->pattern_len) == 0)
            {
                rs->exact[h] = i + 1;
                break;
            }

            h = (h + 1) & rs->exact_mask;
        }
    }

    return 0;
}


static int
consent_trie_insert(consent_ruleset_t *rs, const unsigned char *p,
    size_t len, uint32_t rule)
{
    size_t                i;
    uint32_t              node, child;
    consent_trie_node_t  *n;

    node = 0;

    for (i = 0; i < len; i++) {

        for (child = rs->nodes[node].first_child; child;
             child = rs->nodes[child].next)
        {
            if (rs->nodes[child].label == p[i]) {
                break;
            }
        }

        if (child == 0) {
            n = consent_grow(rs, rs->nodes, sizeof(consent_trie_node_t),
                             &rs->nodes_cap, rs->nnodes);
            if (n == NULL) {
                return -1;
            }

            rs->nodes = n;
            child = rs->nnodes++;

            memset(&n[child], 0, sizeof(consent_trie_node_t));
            n[child].label = p[i];
            n[child].next = n[node].first_child;
            n[node].first_child = child;
            n[node].nedges++;
        }

        node = child;
    }

    rs->nodes[node].rule = rule;

    return 0;
}


static int
consent_compile_trie(consent_ruleset_t *rs)
{
    unsigned              i, e, k, nedges;
    uint32_t              child;
    consent_trie_edge_t   tmp;
    consent_trie_node_t  *n;

    n = consent_grow(rs, NULL, sizeof(consent_trie_node_t), &rs->nodes_cap,
                     0);
    if (n == NULL) {
        return -1;
    }

    rs->nodes = n;
    rs->nnodes = 1;
    memset(&n[0], 0, sizeof(consent_trie_node_t));

    for (i = 0; i < rs->nrules; i++) {
        if (rs->rules[i].kind != CONSENT_RULE_PREFIX) {
            continue;
        }

        if (consent_trie_insert(rs, rs->rules[i].pattern,
                                rs->rules[i].pattern_len, i + 1)
            != 0)
        {
            return -1;
        }
    }

    /* every node but the root is one edge */
    nedges = rs->nnodes;

    rs->edges = rs->alloc.alloc(rs->alloc.data,
                                nedges * sizeof(consent_trie_edge_t));
    if (rs->edges == NULL) {
        return -1;
    }

    e = 0;

    for (i = 0; i < rs->nnodes; i++) {
        n = &rs->nodes[i];
        n->edges = e;

        for (child = n->first_child; child; child = rs->nodes[child].next) {
            rs->edges[e].label = rs->nodes[child].label;
            rs->edges[e].node = child;

            /* insertion sort by label: a node has few children */
            for (k = e; k > n->edges
                        && rs->edges[k - 1].label > rs->edges[k].label; k--)
            {
                tmp = rs->edges[k - 1];
                rs->edges[k - 1] = rs->edges[k];
                rs->edges[k] = tmp;
            }

            e++;
        }
    }

    return 0;
}


static int
consent_compile_regex(consent_ruleset_t *rs, char *err, size_t errlen)
{
    int                    rc;
    size_t                 len, n;
    unsigned               i;
    PCRE2_SIZE             off;
    unsigned char         *pat, *p;
    consent_rule_t        *r;
    unsigned char          msg[128];

    if (rs->nregex == 0) {
        return 0;
    }

    /* \A(?:(?:re)\z(*MARK:i)|...) */
    len = sizeof("\\A(?:)") + 1;

    for (i = 0; i < rs->nrules; i++) {
        if (rs->rules[i].kind == CONSENT_RULE_REGEX) {
            len += rs->rules[i].pattern_len
                   + sizeof("(?:)\\z(*MARK:4294967295)|");
        }
    }

    pat = rs->alloc.alloc(rs->alloc.data, len);
    if (pat == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    p = pat;
    memcpy(p, "\\A(?:", 5);
    p += 5;
    n = 0;

    for (i = 0; i < rs->nrules; i++) {
        r = &rs->rules[i];

        if (r->kind != CONSENT_RULE_REGEX) {
            continue;
        }

        if (n++) {
            *p++ = '|';
        }

        memcpy(p, "(?:", 3);
        p += 3;
        memcpy(p, r->pattern, r->pattern_len);
        p += r->pattern_len;
        p += sprintf((char *) p, ")\\z(*MARK:%u)", i);
    }

    *p++ = ')';

    /* made by consent_ruleset_add() with the first regex */
    if (rs->cctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    rs->re = pcre2_compile(pat, (size_t) (p - pat), 0, &rc, &off, rs->cctx);
    if (rs->re == NULL) {
        pcre2_get_error_message(rc, msg, sizeof(msg));
        snprintf(err, errlen, "bad regex alternation: %s at offset %zu", msg,
                 (size_t) off);
        return -1;
    }

    rs->jit = (pcre2_jit_compile(rs->re, PCRE2_JIT_COMPLETE) == 0);

    rs->md = pcre2_match_data_create_from_pattern(rs->re, rs->gctx);
    rs->mctx = pcre2_match_context_create(rs->gctx);

    if (rs->md == NULL || rs->mctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    /* a pathological operator regex must not stall a worker */
    pcre2_set_match_limit(rs->mctx, CONSENT_REGEX_MATCH_LIMIT);

    return 0;
}


const consent_rule_t *
consent_ruleset_match(consent_ruleset_t *rs, const unsigned char *name,
    size_t len)
{
    uint32_t               h, hash, cur;
    consent_memo_t        *memo;
    const consent_rule_t  *r;

    if (rs == NULL || !rs->compiled || len == 0) {
        return NULL;
    }

    /* exact */

    hash = consent_hash(name, len);
    h = hash & rs->exact_mask;

    while ((cur = rs->exact[h]) != 0) {
        r = &rs->rules[cur - 1];

        if (r->pattern_len == len && memcmp(r->pattern, name, len) == 0) {
            return r;
        }

        h = (h + 1) & rs->exact_mask;
    }

    memo = NULL;

    if (rs->memo && len <= CONSENT_MEMO_NAME) {
        memo = &rs->memo[hash % CONSENT_MEMO_SIZE];

        if (memo->len == len && memo->hash == hash
            && memcmp(memo->name, name, len) == 0)
        {
            return memo->rule ? &rs->rules[memo->rule - 1] : NULL;
        }
    }

    r = consent_match_slow(rs, name, len);

    if (memo) {
        memo->hash = hash;
        memo->rule = r ? (uint32_t) (r - rs->rules) + 1 : 0;
        memo->len = (uint8_t) len;
        memcpy(memo->name, name, len);
    }

    return r;
}


static const consent_rule_t *
consent_match_slow(consent_ruleset_t *rs, const unsigned char *name,
    size_t len)
{
    int                         rc;
    size_t                      i;
    uint32_t                    best, node, lo, hi, mid;
    unsigned long               idx;
    const unsigned char        *mark, *q;
    const consent_trie_edge_t  *e;

    /* longest prefix */

    best = 0;
    node = 0;

    for (i = 0; i < len; i++) {
        lo = rs->nodes[node].edges;
        hi = lo + rs->nodes[node].nedges;
        e = NULL;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;

            if (rs->edges[mid].label < name[i]) {
                lo = mid + 1;

            } else if (rs->edges[mid].label > name[i]) {
                hi = mid;

            } else {
                e = &rs->edges[mid];
                break;
            }
        }

        if (e == NULL) {
            break;
        }

        node = e->node;

        if (rs->nodes[node].rule) {
            best = rs->nodes[node].rule;
        }
    }

    if (best) {
        return &rs->rules[best - 1];
    }

    /* regexes */

    /* any length: the match limit bounds the cost, not the name */
    if (rs->re == NULL) {
        return NULL;
    }

    if (rs->jit) {
        rc = pcre2_jit_match(rs->re, name, len, 0, 0, rs->md, rs->mctx);

    } else {
        rc = pcre2_match(rs->re, name, len, 0, 0, rs->md, rs->mctx);
    }

    if (rc < 0) {
        return NULL;
    }

    mark = pcre2_get_mark(rs->md);
    if (mark == NULL) {
        return NULL;
    }

    idx = 0;

    for (q = mark; *q >= '0' && *q <= '9'; q++) {
        idx = idx * 10 + (unsigned long) (*q - '0');
    }

    if (*q != '\0' || q == mark || idx >= rs->nrules) {
        return NULL;
    }

    return &rs->rules[idx];
}


static uint32_t
consent_hash_lower(const unsigned char *p, size_t len)
{
    uint32_t       h;
    unsigned char  c;

    h = 2166136261u;

    while (len--) {
        c = *p++;
        h ^= (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
        h *= 16777619u;
    }

    return h;
}


static int
consent_domain_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
    return alen == blen && consent_domain_match(a, alen, b, blen);
}


static int
consent_compile_domains(consent_ruleset_t *rs)
{
    unsigned         i, n, size;
    uint32_t         h, cur;
    consent_rule_t  *r, *other;

    n = 0;

    for (i = 0; i < rs->nrules; i++) {
        n += (rs->rules[i].domain_len != 0);
    }

    for (size = 16; size < n * 2; size *= 2) { /* void */ }

    rs->domains = rs->alloc.alloc(rs->alloc.data, size * sizeof(uint32_t));
    if (rs->domains == NULL) {
        return -1;
    }

    memset(rs->domains, 0, size * sizeof(uint32_t));
    rs->domains_mask = size - 1;

    for (i = 0; i < rs->nrules; i++) {
        r = &rs->rules[i];

        if (r->domain_len == 0) {
            continue;
        }

        h = consent_hash_lower(r->domain, r->domain_len) & rs->domains_mask;

        for ( ;; ) {
            cur = rs->domains[h];

            if (cur == 0) {
                rs->domains[h] = i + 1;
                break;
            }

            other = &rs->rules[cur - 1];

            /* as with names, a later rule for the same domain overrides */
            if (consent_domain_eq(other->domain, other->domain_len,
                                  r->domain, r->domain_len))
            {
                rs->domains[h] = i + 1;
                break;
            }

            h = (h + 1) & rs->domains_mask;
        }
    }

    return 0;
}


const consent_rule_t *
consent_ruleset_match_domain(const consent_ruleset_t *rs,
    const unsigned char *domain, size_t len)
{
    uint32_t               h, cur;
    const consent_rule_t  *r;

    if (rs == NULL || !rs->compiled || rs->domains == NULL) {
        return NULL;
    }

    if (len && domain[0] == '.') {
        domain++;
        len--;
    }

    /* the domain itself, then each parent: the most specific rule wins */
    while (len) {
        h = consent_hash_lower(domain, len) & rs->domains_mask;

        while ((cur = rs->domains[h]) != 0) {
            r = &rs->rules[cur - 1];

            if (consent_domain_eq(domain, len, r->domain, r->domain_len)) {
                return r;
            }

            h = (h + 1) & rs->domains_mask;
        }

        while (len && *domain != '.') {
            domain++;
            len--;
        }

        if (len) {
            domain++;
            len--;
        }
    }

    return NULL;
}


void
consent_ruleset_free(consent_ruleset_t *rs)
{
    if (rs == NULL) {
        return;
    }

    /* the JIT code lives outside the caller's allocator */
    if (rs->re) {
        pcre2_code_free(rs->re);
        rs->re = NULL;
    }
}


unsigned
consent_ruleset_count(const consent_ruleset_t *rs)
{
    return rs->nrules;
}


unsigned
consent_ruleset_vendors(const consent_ruleset_t *rs)
{
    return rs->nvendors;
}


const unsigned char *
consent_ruleset_vendor(const consent_ruleset_t *rs, unsigned id, size_t *len)
{
    if (id >= rs->nvendors) {
        return NULL;
    }

    *len = rs->vendors[id].len;

    return rs->vendors[id].name;
}


int
consent_ruleset_vendor_find(const consent_ruleset_t *rs,
    const unsigned char *name, size_t len)
{
    unsigned  i;

    for (i = 0; i < rs->nvendors; i++) {
        if (rs->vendors[i].len == len
            && memcmp(rs->vendors[i].name, name, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}
