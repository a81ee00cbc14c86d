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
 * Case-insensitive and domain-only rules live in the same structures under
 * keys of their own (rules_int.h).
 *
 * A set is built once and then only matched against, but matching writes
 * the memo of names and PCRE2's match data: consent_ruleset_match() takes
 * the set as non-const, and a set is for one thread at a time (in nginx,
 * each worker process has its own copy after fork).
 */

#include <string.h>
#include <stdio.h>

#include "rules_int.h"


static void *consent_pcre2_malloc(PCRE2_SIZE size, void *data);
static void consent_pcre2_free(void *p, void *data);
static int consent_rule_copy(consent_ruleset_t *rs, consent_rule_t *r,
    const consent_rule_t *rule);
static size_t consent_rule_key(unsigned mode, const consent_span_t *domain,
    const unsigned char *name, size_t len, unsigned char *buf);
static int consent_trie_insert(consent_ruleset_t *rs, const unsigned char *p,
    size_t len, uint32_t rule);
static int consent_compile_exact(consent_ruleset_t *rs);
static int consent_compile_trie(consent_ruleset_t *rs);
static const consent_rule_t *consent_exact_find(const consent_ruleset_t *rs,
    uint32_t hash, const unsigned char *key, size_t len, unsigned mode);
static uint32_t consent_trie_longest(const consent_ruleset_t *rs,
    const unsigned char *key, size_t len, unsigned mode);
static uint32_t consent_rule_longer(const consent_ruleset_t *rs, uint32_t a,
    uint32_t b);
static const consent_rule_t *consent_match_scoped(consent_ruleset_t *rs,
    const consent_span_t *domain, const unsigned char *name, size_t len);
static const consent_rule_t *consent_match_global(consent_ruleset_t *rs,
    const unsigned char *name, size_t len);
static const consent_rule_t *consent_match_slow(consent_ruleset_t *rs,
    const unsigned char *name, size_t len);


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


uint32_t
consent_rules_hash_lower(const unsigned char *p, size_t len)
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


unsigned
consent_rules_hash_size(unsigned n)
{
    unsigned  size;

    for (size = 16; size < n * 2; size *= 2) { /* void */ }

    return size;
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


void *
consent_rules_grow(consent_ruleset_t *rs, void *old, size_t size,
    unsigned *cap, unsigned n)
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


unsigned char *
consent_rules_strdup(consent_ruleset_t *rs, const unsigned char *p,
    size_t len)
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


#define consent_lower(c)                                                    \
    (((c) >= 'A' && (c) <= 'Z') ? (unsigned char) ((c) | 0x20) : (c))


/*
 * The key of a name in a mode (see rules_int.h) into buf, which has room
 * for CONSENT_KEY_MAX bytes: the caller keeps len within CONSENT_NAME_MAX
 * and the domain within CONSENT_DOMAIN_MAX.
 */

static size_t
consent_rule_key(unsigned mode, const consent_span_t *domain,
    const unsigned char *name, size_t len, unsigned char *buf)
{
    size_t          i;
    unsigned char  *p;

    p = buf;

    if (mode & CONSENT_KEY_SCOPED) {
        for (i = 0; i < domain->len; i++) {
            *p++ = consent_lower(domain->data[i]);
        }

        *p++ = 0x01;
    }

    if (mode & CONSENT_KEY_ICASE) {
        *p++ = 0x02;

        for (i = 0; i < len; i++) {
            *p++ = consent_lower(name[i]);
        }

    } else {
        memcpy(p, name, len);
        p += len;
    }

    return (size_t) (p - buf);
}


int
consent_ruleset_add(consent_ruleset_t *rs, const consent_rule_t *rule,
    char *err, size_t errlen)
{
    int              vendor;
    consent_rule_t  *r;

    if (rs->compiled) {
        snprintf(err, errlen, "rule set already compiled");
        return -1;
    }

    if (rule->pattern_len == 0 || rule->pattern_len > CONSENT_NAME_MAX
        || rule->vendor_len == 0 || rule->vendor_len > CONSENT_VENDOR_MAX
        || rule->kind < CONSENT_RULE_EXACT || rule->kind > CONSENT_RULE_REGEX
        || (rule->domain_len
            && consent_domain_check(rule->domain, rule->domain_len) != 0)
        || ((rule->flags & CONSENT_RULE_DOMAIN_ONLY)
            && (rule->domain_len == 0 || rule->kind == CONSENT_RULE_REGEX)))
    {
        snprintf(err, errlen, "invalid rule");
        return -1;
    }

    if (rule->kind == CONSENT_RULE_REGEX
        && consent_rules_regex_check(rs, rule, err, errlen) != 0)
    {
        return -1;
    }

    vendor = consent_rules_vendor_add(rs, rule->vendor, rule->vendor_len);
    if (vendor < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    r = consent_rules_grow(rs, rs->rules, sizeof(consent_rule_t),
                           &rs->rules_cap, rs->nrules);
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

    if (consent_rule_copy(rs, r, rule) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    rs->nregex += (r->kind == CONSENT_RULE_REGEX);
    rs->nicase += (r->keymode == CONSENT_KEY_ICASE);
    rs->nscoped += ((r->keymode & CONSENT_KEY_SCOPED) != 0);
    rs->nscoped_icase += (r->keymode
                          == (CONSENT_KEY_SCOPED | CONSENT_KEY_ICASE));
    rs->nrules++;

    return 0;
}


/* the set's own copies of the strings, and the key */

static int
consent_rule_copy(consent_ruleset_t *rs, consent_rule_t *r,
    const consent_rule_t *rule)
{
    unsigned        mode;
    consent_span_t  domain;
    unsigned char   key[CONSENT_KEY_MAX];

    r->pattern = consent_rules_strdup(rs, rule->pattern, rule->pattern_len);
    if (r->pattern == NULL) {
        return -1;
    }

    /* kept without the leading dot a cookie Domain may have (RFC 6265) */
    r->domain = NULL;
    r->domain_len = rule->domain_len;

    if (r->domain_len && rule->domain[0] == '.') {
        r->domain_len--;
    }

    if (r->domain_len) {
        r->domain = consent_rules_strdup(rs, rule->domain + rule->domain_len
                                             - r->domain_len, r->domain_len);
        if (r->domain == NULL) {
            return -1;
        }
    }

    mode = CONSENT_KEY_PLAIN;

    if (r->flags & CONSENT_RULE_ICASE) {
        mode |= CONSENT_KEY_ICASE;
    }

    if (r->flags & CONSENT_RULE_DOMAIN_ONLY) {
        mode |= CONSENT_KEY_SCOPED;
    }

    r->keymode = (uint8_t) mode;
    r->key = r->pattern;
    r->key_len = r->pattern_len;

    /* a regex is matched by PCRE2 (icase with (?i)), not by its key */
    if (mode == CONSENT_KEY_PLAIN || r->kind == CONSENT_RULE_REGEX) {
        return 0;
    }

    domain.data = r->domain;
    domain.len = r->domain_len;

    r->key_len = consent_rule_key(mode, &domain, r->pattern, r->pattern_len,
                                  key);
    r->key = consent_rules_strdup(rs, key, r->key_len);

    return r->key ? 0 : -1;
}


int
consent_ruleset_compile(consent_ruleset_t *rs, char *err, size_t errlen)
{
    if (rs->compiled) {
        return 0;
    }

    if (consent_compile_exact(rs) != 0 || consent_compile_trie(rs) != 0
        || consent_rules_compile_domains(rs) != 0
        || consent_rules_compile_scopes(rs) != 0)
    {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (consent_rules_compile_regex(rs, err, errlen) != 0) {
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

    size = consent_rules_hash_size(n);

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

        h = consent_hash(r->key, r->key_len) & rs->exact_mask;

        for ( ;; ) {
            cur = rs->exact[h];

            if (cur == 0) {
                rs->exact[h] = i + 1;
                break;
            }

            other = &rs->rules[cur - 1];

            /* a later rule for the same key overrides: operators load
             * their own rules after the defaults */
            if (other->key_len == r->key_len
                && memcmp(other->key, r->key, r->key_len) == 0)
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
            n = consent_rules_grow(rs, rs->nodes, sizeof(consent_trie_node_t),
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

    n = consent_rules_grow(rs, NULL, sizeof(consent_trie_node_t),
                           &rs->nodes_cap, 0);
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

        if (consent_trie_insert(rs, rs->rules[i].key,
                                rs->rules[i].key_len, i + 1)
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


const consent_rule_t *
consent_ruleset_match(consent_ruleset_t *rs, const unsigned char *name,
    size_t len)
{
    return consent_ruleset_match_in(rs, NULL, name, len);
}


const consent_rule_t *
consent_ruleset_match_in(consent_ruleset_t *rs, const consent_scope_t *scope,
    const unsigned char *name, size_t len)
{
    unsigned               i;
    const consent_rule_t  *r;

    if (rs == NULL || !rs->compiled || len == 0) {
        return NULL;
    }

    if (scope && rs->nscoped) {
        for (i = 0; i < scope->n; i++) {
            r = consent_match_scoped(rs, &scope->domain[i], name, len);
            if (r) {
                return r;
            }
        }
    }

    return consent_match_global(rs, name, len);
}


static const consent_rule_t *
consent_exact_find(const consent_ruleset_t *rs, uint32_t hash,
    const unsigned char *key, size_t len, unsigned mode)
{
    uint32_t               h, cur;
    const consent_rule_t  *r;

    h = hash & rs->exact_mask;

    while ((cur = rs->exact[h]) != 0) {
        r = &rs->rules[cur - 1];

        if (r->key_len == len && r->keymode == mode
            && memcmp(r->key, key, len) == 0)
        {
            return r;
        }

        h = (h + 1) & rs->exact_mask;
    }

    return NULL;
}


/* the rule of the longest prefix of key in the mode: index + 1, or 0 */

static uint32_t
consent_trie_longest(const consent_ruleset_t *rs, const unsigned char *key,
    size_t len, unsigned mode)
{
    size_t                      i;
    uint32_t                    best, node, lo, hi, mid, rule;
    const consent_trie_edge_t  *e;

    best = 0;
    node = 0;

    for (i = 0; i < len; i++) {
        lo = rs->nodes[node].edges;
        hi = lo + rs->nodes[node].nedges;
        e = NULL;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;

            if (rs->edges[mid].label < key[i]) {
                lo = mid + 1;

            } else if (rs->edges[mid].label > key[i]) {
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
        rule = rs->nodes[node].rule;

        if (rule && rs->rules[rule - 1].keymode == mode) {
            best = rule;
        }
    }

    return best;
}


/* of two prefix hits, the longer pattern; the later rule on a tie */

static uint32_t
consent_rule_longer(const consent_ruleset_t *rs, uint32_t a, uint32_t b)
{
    size_t  alen, blen;

    if (a == 0 || b == 0) {
        return a ? a : b;
    }

    alen = rs->rules[a - 1].pattern_len;
    blen = rs->rules[b - 1].pattern_len;

    if (alen != blen) {
        return alen > blen ? a : b;
    }

    return a > b ? a : b;
}


/* the rules that are only for one domain: no memo, as hosts vary */

static const consent_rule_t *
consent_match_scoped(consent_ruleset_t *rs, const consent_span_t *domain,
    const unsigned char *name, size_t len)
{
    size_t                 klen, clen, cut;
    uint32_t               best;
    const consent_rule_t  *r;
    unsigned char          key[CONSENT_KEY_MAX], ikey[CONSENT_KEY_MAX];

    if (domain->len > CONSENT_DOMAIN_MAX) {
        return NULL;
    }

    /* a prefix is at most CONSENT_NAME_MAX bytes: the rest cannot matter */
    cut = len > CONSENT_NAME_MAX ? CONSENT_NAME_MAX : len;

    klen = consent_rule_key(CONSENT_KEY_SCOPED, domain, name, cut, key);
    clen = 0;

    if (rs->nscoped_icase) {
        clen = consent_rule_key(CONSENT_KEY_SCOPED | CONSENT_KEY_ICASE,
                                domain, name, cut, ikey);
    }

    if (len == cut) {
        r = consent_exact_find(rs, consent_hash(key, klen), key, klen,
                               CONSENT_KEY_SCOPED);
        if (r) {
            return r;
        }

        if (clen) {
            r = consent_exact_find(rs, consent_hash(ikey, clen), ikey, clen,
                                   CONSENT_KEY_SCOPED | CONSENT_KEY_ICASE);
            if (r) {
                return r;
            }
        }
    }

    best = consent_trie_longest(rs, key, klen, CONSENT_KEY_SCOPED);

    if (clen) {
        best = consent_rule_longer(rs, best,
                   consent_trie_longest(rs, ikey, clen,
                                        CONSENT_KEY_SCOPED
                                        | CONSENT_KEY_ICASE));
    }

    return best ? &rs->rules[best - 1] : NULL;
}


static const consent_rule_t *
consent_match_global(consent_ruleset_t *rs, const unsigned char *name,
    size_t len)
{
    size_t                 klen;
    uint32_t               hash;
    consent_memo_t        *memo;
    const consent_rule_t  *r;
    unsigned char          key[CONSENT_KEY_MAX];

    hash = consent_hash(name, len);

    r = consent_exact_find(rs, hash, name, len, CONSENT_KEY_PLAIN);
    if (r) {
        return r;
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

    r = NULL;

    if (rs->nicase && len <= CONSENT_NAME_MAX) {
        klen = consent_rule_key(CONSENT_KEY_ICASE, NULL, name, len, key);
        r = consent_exact_find(rs, consent_hash(key, klen), key, klen,
                               CONSENT_KEY_ICASE);
    }

    if (r == NULL) {
        r = consent_match_slow(rs, name, len);
    }

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
    size_t         klen, cut;
    uint32_t       best;
    unsigned char  key[CONSENT_KEY_MAX];

    /* longest prefix, of either case rule */

    best = consent_trie_longest(rs, name, len, CONSENT_KEY_PLAIN);

    if (rs->nicase) {
        cut = len > CONSENT_NAME_MAX ? CONSENT_NAME_MAX : len;
        klen = consent_rule_key(CONSENT_KEY_ICASE, NULL, name, cut, key);
        best = consent_rule_longer(rs, best,
                   consent_trie_longest(rs, key, klen, CONSENT_KEY_ICASE));
    }

    if (best) {
        return &rs->rules[best - 1];
    }

    return consent_rules_match_regex(rs, name, len);
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
