/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: rule lines, vendor lines, the rule set and matching.
 *
 * The input is a rules file.  Each line goes through consent_rule_parse();
 * the rules it accepts are added to a set, and its "@vendor" lines go
 * through consent_vendor_parse() and consent_ruleset_vendor_set().  The
 * set is compiled and asked about names taken from the rules (as written,
 * in other cases, as the set's own keys would spell them, longer than a
 * rule can be), from the input and from a fixed list.  Every name is asked
 * twice without a scope, so that the second answer may come from the
 * set's memo of names, and with the scopes of a few hosts: the domains of
 * domain-only rules, under them, in upper case, at the length limit, a
 * few fixed ones and some words of the input.  Every answer is checked
 * against a model of what rules.h promises, as implemented:
 *   - a scope is the distinct domains of domain-only rules the host is or
 *     is under (one leading and one trailing dot ignored, ASCII case
 *     ignored), longest first, at most CONSENT_SCOPE_MAX of them;
 *   - for each scope domain in order, among the domain-only rules of that
 *     domain, then among the rules that are not domain-only: the last
 *     case-sensitive exact rule for the name, else the last icase one,
 *     else the longest prefix of either kind (the last one added of equal
 *     lengths);
 *   - else the first regex in rule order that matches the whole name,
 *     each regex compiled on its own (caseless for icase);
 *   - consent_ruleset_match_domain(): for the domain and then each parent,
 *     the last rule that is not domain-only with that domain=.
 * A vendor line's metadata is checked field by field, and the set's copy
 * against the last line that set it.
 *
 * A first line "#oom N" makes the N-th allocation and all later ones fail,
 * to walk the out-of-memory paths (it is a comment to the rule parser).
 *
 * Memory comes from a malloc-based consent_alloc_t that remembers every
 * block and frees them all after each input.  The one thing the allocator
 * cannot see is the executable memory of PCRE2's JIT: the core never calls
 * pcre2_code_free() (the module's pool just goes away), so the target
 * wraps pcre2_jit_compile() to note the code and free it after each input,
 * or a long run would grow by a kilobyte or so per regex rule set.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "consent_core.h"
#include "rules.h"
#include "fuzz.h"



#define FUZZ_MAX_LINES       128
#define FUZZ_MAX_RULES       64
#define FUZZ_MAX_REGEX       8
#define FUZZ_MAX_REGEX_LEN   64
#define FUZZ_MAX_NAMES       640
#define FUZZ_MAX_RULE_NAMES  512         /* of those, made from rules */
#define FUZZ_RULE_NAMES      12          /* made from one rule, at most */
#define FUZZ_MAX_HOSTS       32
#define FUZZ_DOMAIN_HOSTS    5           /* made from one domain, at most */
#define FUZZ_HOSTS_PER_NAME  3           /* scopes each name is asked in */
#define FUZZ_MAX_SCOPED      2048        /* asks with a scope, per input */
#define FUZZ_MAX_SCOPED_RE   256         /* of those, where regexes answer */
#define FUZZ_ARENA_SIZE      (256 * 1024)
#define FUZZ_LONG_NAME       300         /* > CONSENT_NAME_MAX */
#define FUZZ_MATCH_LIMIT     100000

#define FUZZ_UNKNOWN         ((const fuzz_rule_t *) -1)
#define FUZZ_MAX_JIT         16


/* the allocator */

typedef struct {
    void                 **blocks;
    size_t                 n;
    size_t                 cap;
    size_t                 bytes;
    size_t                 count;       /* allocations asked for */
    size_t                 fail_at;     /* 0: never fail */
    unsigned               failed:1;
} fuzz_pool_t;


typedef int (*fuzz_jit_compile_pt)(pcre2_code *code, uint32_t options);


static pcre2_code  *fuzz_jit[FUZZ_MAX_JIT];
static unsigned     fuzz_njit;


typedef struct {
    consent_rule_t         rule;        /* spans point into the input */
    pcre2_code            *re;          /* regex compiled on its own */
} fuzz_rule_t;


typedef struct {
    const unsigned char   *p;
    size_t                 len;
} fuzz_str_t;


/*
 * A host's scope as the model sees it: domains as a rule wrote them, and
 * the rules of each (a bit a rule: FUZZ_MAX_RULES is at most 64)
 */
typedef struct {
    fuzz_str_t             domain[CONSENT_SCOPE_MAX];
    uint64_t               rules[CONSENT_SCOPE_MAX];
    unsigned               n;
} fuzz_scope_t;


/* names and hosts made here, freed after each input */
typedef struct {
    unsigned char         *buf;
    size_t                 len;
    size_t                 cap;
} fuzz_arena_t;


static void *
fuzz_alloc(void *data, size_t size)
{
    void         *p, **b;
    size_t        cap;
    fuzz_pool_t  *pool = data;

    pool->count++;

    if ((pool->fail_at && pool->count >= pool->fail_at)
        || size > 64 * 1024 * 1024 || pool->bytes > 256 * 1024 * 1024)
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

    pool->blocks[pool->n++] = p;
    pool->bytes += size;

    return p;
}


static void
fuzz_pool_free(fuzz_pool_t *pool)
{
    size_t  i;

    for (i = 0; i < pool->n; i++) {
        free(pool->blocks[i]);
    }

    free(pool->blocks);
    memset(pool, 0, sizeof(fuzz_pool_t));
}


/* PCRE2's JIT */

int
pcre2_jit_compile(pcre2_code *code, uint32_t options)
{
    int                         rc;
    static fuzz_jit_compile_pt  real;

    if (real == NULL) {
        real = (fuzz_jit_compile_pt) dlsym(RTLD_NEXT, "pcre2_jit_compile_8");

        if (real == NULL) {
            fprintf(stderr, "fuzz: no pcre2_jit_compile_8: %s\n", dlerror());
            abort();
        }
    }

    if (fuzz_njit == FUZZ_MAX_JIT) {
        /* not expected: one compiled set per input; run it without JIT */
        return PCRE2_ERROR_JIT_BADOPTION;
    }

    rc = real(code, options);

    if (rc == 0) {
        fuzz_jit[fuzz_njit++] = code;
    }

    return rc;
}


static void
fuzz_jit_free(void)
{
    unsigned  i;

    /* frees the JIT code; the rest is the pool's, freed with a no-op */
    for (i = 0; i < fuzz_njit; i++) {
        pcre2_code_free(fuzz_jit[i]);
    }

    fuzz_njit = 0;
}


/* the model */

static unsigned char
fuzz_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}


static unsigned char
fuzz_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char) (c & ~0x20) : c;
}


/* ASCII case ignored, as consent_lower() does */
static int
fuzz_caseeq(const unsigned char *a, const unsigned char *b, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (fuzz_lower(a[i]) != fuzz_lower(b[i])) {
            return 0;
        }
    }

    return 1;
}


/* a rule's domain= without the leading dot a set's copy drops */
static void
fuzz_rule_domain(const consent_rule_t *r, fuzz_str_t *d)
{
    d->p = r->domain;
    d->len = r->domain_len;

    if (d->len && d->p[0] == '.') {
        d->p++;
        d->len--;
    }
}


/* host is d or under it; host has its dots taken off already */
static int
fuzz_host_in(const unsigned char *host, size_t len, const fuzz_str_t *d)
{
    if (d->len == 0 || len < d->len) {
        return 0;
    }

    if (len > d->len && host[len - d->len - 1] != '.') {
        return 0;
    }

    return fuzz_caseeq(host + len - d->len, d->p, d->len);
}


static void
fuzz_expect_scope(const fuzz_rule_t *rules, unsigned n,
    const unsigned char *host, size_t len, fuzz_scope_t *scope)
{
    unsigned              i, k, m;
    fuzz_str_t            d, tmp;
    fuzz_str_t            all[FUZZ_MAX_RULES];
    const consent_rule_t  *r;

    scope->n = 0;

    if (len && host[0] == '.') {
        host++;
        len--;
    }

    if (len && host[len - 1] == '.') {
        len--;
    }

    if (len == 0 || len > CONSENT_DOMAIN_MAX) {
        return;
    }

    m = 0;

    for (i = 0; i < n; i++) {
        r = &rules[i].rule;

        if (!(r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
            continue;
        }

        fuzz_rule_domain(r, &d);

        if (!fuzz_host_in(host, len, &d)) {
            continue;
        }

        for (k = 0; k < m; k++) {
            if (all[k].len == d.len && fuzz_caseeq(all[k].p, d.p, d.len)) {
                break;
            }
        }

        if (k < m) {
            continue;
        }

        /* most specific, that is longest, first */
        all[m++] = d;

        for (k = m - 1; k > 0 && all[k - 1].len < all[k].len; k--) {
            tmp = all[k - 1];
            all[k - 1] = all[k];
            all[k] = tmp;
        }
    }

    for (k = 0; k < m && k < CONSENT_SCOPE_MAX; k++) {
        scope->domain[k] = all[k];
        scope->rules[k] = 0;

        for (i = 0; i < n; i++) {
            r = &rules[i].rule;

            if (!(r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
                continue;
            }

            fuzz_rule_domain(r, &d);

            if (d.len == all[k].len && fuzz_caseeq(d.p, all[k].p, d.len)) {
                scope->rules[k] |= (uint64_t) 1 << i;
            }
        }
    }

    scope->n = k;
}


static int
fuzz_regex_matches(const fuzz_rule_t *fr, pcre2_match_data *md,
    pcre2_match_context *mctx, const unsigned char *name, size_t len)
{
    int  rc;

    rc = pcre2_match(fr->re, name, len, 0,
                     PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, mctx);

    if (rc >= 0) {
        return 1;
    }

    return (rc == PCRE2_ERROR_NOMATCH) ? 0 : -1;
}


/* the rules that are not domain-only: a bit a rule */
static uint64_t
fuzz_global_rules(const fuzz_rule_t *rules, unsigned n)
{
    unsigned  i;
    uint64_t  mask;

    mask = 0;

    for (i = 0; i < n; i++) {
        if (!(rules[i].rule.flags & CONSENT_RULE_DOMAIN_ONLY)) {
            mask |= (uint64_t) 1 << i;
        }
    }

    return mask;
}


/*
 * Of the exact and prefix rules in mask (the domain-only rules of a scope
 * domain, or the rules that are not domain-only): the last case-sensitive
 * exact rule, else the last icase one, else the longest prefix, the later
 * rule of equal ones.
 */
static const fuzz_rule_t *
fuzz_expect_names(const fuzz_rule_t *rules, unsigned n, uint64_t mask,
    const unsigned char *name, size_t len)
{
    int                    icase, eq;
    unsigned               i;
    const fuzz_rule_t     *cs, *ci, *prefix;
    const consent_rule_t  *r;

    cs = NULL;
    ci = NULL;
    prefix = NULL;

    for (i = 0; i < n; i++) {
        r = &rules[i].rule;

        if (!(mask & ((uint64_t) 1 << i))) {
            continue;
        }

        if (r->kind == CONSENT_RULE_REGEX || r->pattern_len > len) {
            continue;
        }

        icase = (r->flags & CONSENT_RULE_ICASE) != 0;

        eq = icase ? fuzz_caseeq(r->pattern, name, r->pattern_len)
                   : memcmp(r->pattern, name, r->pattern_len) == 0;

        if (!eq) {
            continue;
        }

        if (r->kind == CONSENT_RULE_EXACT) {
            if (r->pattern_len != len) {
                continue;
            }

            if (icase) {
                ci = &rules[i];

            } else {
                cs = &rules[i];
            }

            continue;
        }

        if (prefix == NULL || r->pattern_len >= prefix->rule.pattern_len) {
            prefix = &rules[i];
        }
    }

    if (cs) {
        return cs;
    }

    if (ci) {
        return ci;
    }

    return prefix;
}


/* the answer without a scope: the rule, NULL, or FUZZ_UNKNOWN */
static const fuzz_rule_t *
fuzz_expect_global(const fuzz_rule_t *rules, unsigned n,
    pcre2_match_data *md, pcre2_match_context *mctx,
    const unsigned char *name, size_t len)
{
    int                 m;
    unsigned            i;
    const fuzz_rule_t  *fr;

    if (len == 0) {
        return NULL;
    }

    fr = fuzz_expect_names(rules, n, fuzz_global_rules(rules, n), name,
                           len);
    if (fr) {
        return fr;
    }

    if (len > CONSENT_NAME_MAX) {
        /* regexes see names up to the longest pattern a rule may have */
        return FUZZ_UNKNOWN;
    }

    for (i = 0; i < n; i++) {
        if (rules[i].rule.kind != CONSENT_RULE_REGEX) {
            continue;
        }

        m = fuzz_regex_matches(&rules[i], md, mctx, name, len);

        if (m < 0) {
            /* the match limit: the set may give up as well */
            return FUZZ_UNKNOWN;
        }

        if (m) {
            return &rules[i];
        }
    }

    return NULL;
}


/* with a scope: its domains' rules first, then the global answer */
static const fuzz_rule_t *
fuzz_expect_in(const fuzz_rule_t *rules, unsigned n,
    const fuzz_scope_t *scope, const fuzz_rule_t *global,
    const unsigned char *name, size_t len)
{
    unsigned            k;
    const fuzz_rule_t  *fr;

    if (len == 0) {
        return NULL;
    }

    for (k = 0; scope != NULL && k < scope->n; k++) {
        fr = fuzz_expect_names(rules, n, scope->rules[k], name, len);
        if (fr) {
            return fr;
        }
    }

    return global;
}


/* consent_ruleset_match_domain(): the domain, then each parent */
static const fuzz_rule_t *
fuzz_expect_domain(const fuzz_rule_t *rules, unsigned n,
    const unsigned char *host, size_t len)
{
    size_t                 k;
    unsigned               i;
    fuzz_str_t             d;
    const fuzz_rule_t     *last;
    const consent_rule_t  *r;

    if (len && host[0] == '.') {
        host++;
        len--;
    }

    for (k = 0; k < len; k++) {
        if (k && host[k - 1] != '.') {
            continue;
        }

        last = NULL;

        for (i = 0; i < n; i++) {
            r = &rules[i].rule;

            if (r->domain_len == 0 || (r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
                continue;
            }

            fuzz_rule_domain(r, &d);

            if (d.len == len - k && fuzz_caseeq(d.p, host + k, d.len)) {
                last = &rules[i];
            }
        }

        if (last) {
            return last;
        }
    }

    return NULL;
}


/* a: the set's copy, which keeps the domain without its leading dot */
static int
fuzz_same_rule(const consent_rule_t *a, const consent_rule_t *b)
{
    size_t                blen;
    const unsigned char  *bdom;

    bdom = b->domain;
    blen = b->domain_len;

    if (blen && bdom[0] == '.') {
        bdom++;
        blen--;
    }

    return a->kind == b->kind && a->purpose == b->purpose
           && a->flags == b->flags
           && a->pattern_len == b->pattern_len
           && memcmp(a->pattern, b->pattern, a->pattern_len) == 0
           && a->vendor_len == b->vendor_len
           && memcmp(a->vendor, b->vendor, a->vendor_len) == 0
           && a->domain_len == blen
           && (blen == 0 || memcmp(a->domain, bdom, blen) == 0);
}


/*
 * One name, without a scope (scope NULL: consent_ruleset_match()) or in
 * one; want is the model's answer.
 */
static void
fuzz_check_match(consent_ruleset_t *rs, const fuzz_rule_t *rules,
    unsigned n, const consent_scope_t *scope, const fuzz_rule_t *want,
    const unsigned char *name, size_t len, int oom)
{
    int                    id;
    size_t                 vlen;
    unsigned               k;
    unsigned char         *copy;
    const unsigned char   *v;
    const consent_rule_t  *got;

    /* a private copy: reads past the name are then ASan reports */
    copy = fuzz_copy(name, len);

    if (scope) {
        got = consent_ruleset_match_in(rs, scope, copy, len);

    } else {
        got = consent_ruleset_match(rs, copy, len);
    }

    if (got != NULL) {
        FUZZ_ASSERT(got->index < n);
        FUZZ_ASSERT(fuzz_same_rule(got, &rules[got->index].rule));

        v = consent_ruleset_vendor(rs, got->vendor_id, &vlen);
        FUZZ_ASSERT(v != NULL && v == got->vendor);
        FUZZ_ASSERT(vlen == got->vendor_len);

        id = consent_ruleset_vendor_find(rs, got->vendor, got->vendor_len);
        FUZZ_ASSERT(id == got->vendor_id);

        /* a domain-only rule only in a scope of its own domain */
        if (got->flags & CONSENT_RULE_DOMAIN_ONLY) {
            FUZZ_ASSERT(scope != NULL);

            for (k = 0; k < scope->n; k++) {
                if (scope->domain[k].len == got->domain_len
                    && fuzz_caseeq(scope->domain[k].data, got->domain,
                                   got->domain_len))
                {
                    break;
                }
            }

            FUZZ_ASSERT(k < scope->n);
        }
    }

    if (want == FUZZ_UNKNOWN) {
        /* still: only a regex could have answered */
        FUZZ_ASSERT(got == NULL || got->kind == CONSENT_RULE_REGEX);

    } else if (want == NULL) {
        FUZZ_ASSERT(got == NULL);

    } else if (oom && want->rule.kind == CONSENT_RULE_REGEX && got == NULL) {
        /* PCRE2 takes its match frames from the allocator, too */

    } else {
        FUZZ_ASSERT(got != NULL);
        FUZZ_ASSERT(got->index == (unsigned) (want - rules));
    }

    free(copy);
}


/* a host's scope against the model's, and its Set-Cookie Domain rule */
static void
fuzz_check_host(consent_ruleset_t *rs, const fuzz_rule_t *rules,
    unsigned n, const fuzz_str_t *host, consent_scope_t *scope,
    fuzz_scope_t *mscope)
{
    size_t                 i;
    unsigned               k;
    unsigned char         *copy;
    const fuzz_rule_t     *want;
    const consent_rule_t  *got;

    copy = fuzz_copy(host->p, host->len);

    memset(scope, 0x5a, sizeof(consent_scope_t));
    consent_ruleset_scope(rs, copy, host->len, scope);
    fuzz_expect_scope(rules, n, copy, host->len, mscope);

    FUZZ_ASSERT(scope->n == mscope->n);

    for (k = 0; k < scope->n; k++) {
        /* the set's own lower-case copy, not the host's bytes */
        FUZZ_ASSERT(scope->domain[k].len == mscope->domain[k].len);
        FUZZ_ASSERT(scope->domain[k].data < copy
                    || scope->domain[k].data >= copy + host->len);

        for (i = 0; i < scope->domain[k].len; i++) {
            FUZZ_ASSERT(scope->domain[k].data[i]
                        == fuzz_lower(mscope->domain[k].p[i]));
        }
    }

    got = consent_ruleset_match_domain(rs, copy, host->len);
    want = fuzz_expect_domain(rules, n, copy, host->len);

    if (want == NULL) {
        FUZZ_ASSERT(got == NULL);

    } else {
        FUZZ_ASSERT(got != NULL && got->index == (unsigned) (want - rules));
        FUZZ_ASSERT(!(got->flags & CONSENT_RULE_DOMAIN_ONLY));
        FUZZ_ASSERT(fuzz_same_rule(got, &want->rule));
    }

    free(copy);
}


/* vendor lines */

static int
fuzz_in_line(const fuzz_str_t *line, const consent_span_t *s)
{
    return s->data >= line->p && s->data <= line->p + line->len
           && s->len <= (size_t) (line->p + line->len - s->data);
}


static int
fuzz_span_eq(const consent_span_t *a, const consent_span_t *b)
{
    return (a->data == NULL) == (b->data == NULL) && a->len == b->len
           && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


/* what consent_vendor_parse() promises of each field it gave */
static void
fuzz_check_vendor_parsed(const fuzz_str_t *line,
    const consent_purposes_t *ps, const consent_vendor_meta_t *m)
{
    size_t                 i, pos;
    unsigned               nd;
    consent_span_t         d;
    const consent_span_t  *text[2], *url[2];

    FUZZ_ASSERT(m->id.data != NULL && fuzz_in_line(line, &m->id));
    FUZZ_ASSERT(consent_vendor_id_check(m->id.data, m->id.len) == 0);

    text[0] = &m->name;
    text[1] = &m->controller;
    url[0] = &m->policy;
    url[1] = &m->optout;

    for (i = 0; i < 2; i++) {
        if (text[i]->data) {
            FUZZ_ASSERT(fuzz_in_line(line, text[i]));
            FUZZ_ASSERT(consent_vendor_text_check(text[i]->data,
                                                  text[i]->len) == 0);

            /* nothing that could end a header or a JSON string */
            FUZZ_ASSERT(memchr(text[i]->data, '"', text[i]->len) == NULL);
            FUZZ_ASSERT(memchr(text[i]->data, '\\', text[i]->len) == NULL);
            FUZZ_ASSERT(memchr(text[i]->data, '\r', text[i]->len) == NULL);
        }

        if (url[i]->data) {
            FUZZ_ASSERT(fuzz_in_line(line, url[i]));
            FUZZ_ASSERT(consent_vendor_url_check(url[i]->data,
                                                 url[i]->len) == 0);
            FUZZ_ASSERT(url[i]->len <= CONSENT_VENDOR_URL_MAX);
        }
    }

    if (m->domains.data) {
        FUZZ_ASSERT(fuzz_in_line(line, &m->domains));

        nd = 0;
        pos = 0;

        while (consent_vendor_domain_next(&m->domains, &pos, &d)) {
            FUZZ_ASSERT(consent_domain_check(d.data, d.len) == 0);
            nd++;
        }

        FUZZ_ASSERT(nd == m->ndomains && nd > 0
                    && nd <= CONSENT_VENDOR_DOMAINS_MAX);

    } else {
        FUZZ_ASSERT(m->ndomains == 0);
    }

    FUZZ_ASSERT(ps->n >= 32
                || (m->purposes & ~(CONSENT_BIT(ps->n) - 1)) == 0);

    FUZZ_ASSERT(m->country[0] == '\0'
                || (m->country[0] >= 'A' && m->country[0] <= 'Z'
                    && m->country[1] >= 'A' && m->country[1] <= 'Z'
                    && m->country[2] == '\0'));
}


/* a failed vendor line: a code, a message and the field, in the line */
static void
fuzz_check_vendor_error(const fuzz_str_t *line, const consent_err_t *err)
{
    FUZZ_ASSERT(err->code >= CONSENT_RULE_E_FIELD
                && err->code <= CONSENT_RULE_E_VALUE);
    FUZZ_ASSERT(err->msg != NULL && err->msg[0] != '\0');
    FUZZ_ASSERT(fuzz_in_line(line, &err->at));
}


/* the set's copy of a vendor's metadata: the last line that set it */
static void
fuzz_check_vendor_meta(const consent_ruleset_t *rs,
    const consent_vendor_meta_t *want)
{
    int                           id;
    const consent_vendor_meta_t  *m;

    id = consent_ruleset_vendor_find(rs, want->id.data, want->id.len);
    FUZZ_ASSERT(id >= 0);

    m = consent_ruleset_vendor_meta(rs, (unsigned) id);
    FUZZ_ASSERT(m != NULL);

    FUZZ_ASSERT(fuzz_span_eq(&m->id, &want->id));
    FUZZ_ASSERT(fuzz_span_eq(&m->name, &want->name));
    FUZZ_ASSERT(fuzz_span_eq(&m->controller, &want->controller));
    FUZZ_ASSERT(fuzz_span_eq(&m->policy, &want->policy));
    FUZZ_ASSERT(fuzz_span_eq(&m->optout, &want->optout));
    FUZZ_ASSERT(fuzz_span_eq(&m->domains, &want->domains));
    FUZZ_ASSERT(m->purposes == want->purposes);
    FUZZ_ASSERT(m->ndomains == want->ndomains);
    FUZZ_ASSERT(m->gvl == want->gvl);
    FUZZ_ASSERT(memcmp(m->country, want->country, 3) == 0);
}


/* names and hosts made here */

static unsigned char *
fuzz_arena_take(fuzz_arena_t *a, size_t len)
{
    unsigned char  *p;

    if (a->cap - a->len < len) {
        return NULL;
    }

    p = a->buf + a->len;
    a->len += len;

    return p;
}


/*
 * prefix, then s in a case (0: as is, 'l', 'u'), then suffix; fill pads
 * with 'x' to that length.  Returns 0, or -1 when there is no room.
 */
static int
fuzz_make(fuzz_arena_t *a, fuzz_str_t *out, const char *prefix,
    const unsigned char *s, size_t len, int c, const char *suffix,
    size_t fill)
{
    size_t          i, plen, slen, total;
    unsigned char  *p;

    plen = strlen(prefix);
    slen = strlen(suffix);
    total = plen + len + slen;

    if (total < fill) {
        total = fill;
    }

    p = fuzz_arena_take(a, total);
    if (p == NULL) {
        return -1;
    }

    memcpy(p, prefix, plen);

    for (i = 0; i < len; i++) {
        p[plen + i] = (c == 'l') ? fuzz_lower(s[i])
                      : (c == 'u') ? fuzz_upper(s[i]) : s[i];
    }

    memcpy(p + plen + len, suffix, slen);
    memset(p + plen + len + slen, 'x', total - plen - len - slen);

    out->p = p;
    out->len = total;

    return 0;
}


/* the input */

static size_t
fuzz_split_lines(const unsigned char *p, size_t len, fuzz_str_t *lines,
    size_t max)
{
    size_t                n;
    const unsigned char  *end, *eol;

    n = 0;
    end = p + len;

    while (p < end && n < max) {
        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            eol = end;
        }

        lines[n].p = p;
        lines[n].len = (size_t) (eol - p);
        n++;

        p = eol + 1;
    }

    return n;
}


static size_t
fuzz_split_words(const fuzz_str_t *line, fuzz_str_t *words, size_t max)
{
    size_t                n;
    const unsigned char  *p, *end, *start;

    n = 0;
    p = line->p;
    end = p + line->len;

    while (p < end && n < max) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
            p++;
        }

        start = p;

        while (p < end && *p != ' ' && *p != '\t' && *p != '\r') {
            p++;
        }

        if (p > start) {
            words[n].p = start;
            words[n].len = (size_t) (p - start);
            n++;
        }
    }

    return n;
}


static size_t
fuzz_oom_at(const fuzz_str_t *line)
{
    size_t  i, v;

    if (line->len < 6 || memcmp(line->p, "#oom ", 5) != 0) {
        return 0;
    }

    v = 0;

    for (i = 5; i < line->len && i < 12; i++) {
        if (line->p[i] < '0' || line->p[i] > '9') {
            break;
        }

        v = v * 10 + (size_t) (line->p[i] - '0');
    }

    return v;
}


/* a code, a message, and the field at fault, which lies in the line */
static void
fuzz_check_error(const fuzz_str_t *line, const consent_purposes_t *ps,
    const consent_err_t *err)
{
    const unsigned char  *end;

    end = line->p + line->len;

    FUZZ_ASSERT(err->code >= CONSENT_RULE_E_FIELD
                && err->code <= CONSENT_RULE_E_DOMAIN);
    FUZZ_ASSERT(err->msg != NULL && err->msg[0] != '\0');
    FUZZ_ASSERT(err->at.data >= line->p && err->at.data <= end
                && err->at.len <= (size_t) (end - err->at.data));
    FUZZ_ASSERT(memchr(err->at.data, '\n', err->at.len) == NULL);

    switch (err->code) {

    case CONSENT_RULE_E_NO_PURPOSE:
    case CONSENT_RULE_E_NO_VENDOR:
        /* missing: where it would have started */
        FUZZ_ASSERT(err->at.len == 0);
        break;

    case CONSENT_RULE_E_UNKNOWN_PURPOSE:
        FUZZ_ASSERT(err->at.len > 0);
        FUZZ_ASSERT(consent_purpose_find(ps, err->at.data, err->at.len) < 0);
        break;

    case CONSENT_RULE_E_REGEX:
        FUZZ_ASSERT(err->at.len > 1 && err->at.data[0] == '~');
        break;

    default:
        FUZZ_ASSERT(err->at.len > 0);
    }
}


static void
fuzz_check_parsed(const fuzz_str_t *line, const consent_purposes_t *ps,
    const consent_rule_t *r)
{
    const unsigned char  *end;

    end = line->p + line->len;

    FUZZ_ASSERT(r->kind >= CONSENT_RULE_EXACT
                && r->kind <= CONSENT_RULE_REGEX);
    FUZZ_ASSERT(r->pattern_len > 0 && r->pattern_len <= CONSENT_NAME_MAX);
    FUZZ_ASSERT(r->pattern >= line->p && r->pattern + r->pattern_len <= end);
    FUZZ_ASSERT(r->vendor_len > 0 && r->vendor_len <= CONSENT_VENDOR_MAX);
    FUZZ_ASSERT(r->vendor >= line->p && r->vendor + r->vendor_len <= end);
    FUZZ_ASSERT(r->purpose < ps->n);
    FUZZ_ASSERT(r->domain_len == 0
                || (r->domain >= line->p
                    && r->domain + r->domain_len <= end));
    FUZZ_ASSERT(memchr(r->pattern, '\n', r->pattern_len) == NULL);
    FUZZ_ASSERT(memchr(r->vendor, '\n', r->vendor_len) == NULL);

    /* the options: domain-only needs a domain and no regex */
    FUZZ_ASSERT((r->flags & ~(CONSENT_RULE_ICASE | CONSENT_RULE_DOMAIN_ONLY))
                == 0);
    FUZZ_ASSERT(r->domain_len == 0
                || consent_domain_check(r->domain, r->domain_len) == 0);
    FUZZ_ASSERT(!(r->flags & CONSENT_RULE_DOMAIN_ONLY)
                || (r->domain_len != 0 && r->kind != CONSENT_RULE_REGEX));
}


/* a name as the set keys it (rules_int.h): a request may send one */
static int
fuzz_make_key(fuzz_arena_t *a, fuzz_str_t *out, const fuzz_str_t *d,
    const unsigned char *name, size_t len, int icase)
{
    size_t          i, total;
    unsigned char  *p, *q;

    total = (d ? d->len + 1 : 0) + (icase ? 1 : 0) + len;

    p = fuzz_arena_take(a, total);
    if (p == NULL) {
        return -1;
    }

    q = p;

    if (d) {
        for (i = 0; i < d->len; i++) {
            *q++ = fuzz_lower(d->p[i]);
        }

        *q++ = 0x01;
    }

    if (icase) {
        *q++ = 0x02;
    }

    for (i = 0; i < len; i++) {
        *q++ = icase ? fuzz_lower(name[i]) : name[i];
    }

    out->p = p;
    out->len = total;

    return 0;
}


/* the names of a rule: as written, in other cases, longer, as keys */
static size_t
fuzz_rule_names(const fuzz_rule_t *fr, const unsigned char *input,
    size_t size, fuzz_arena_t *a, fuzz_str_t *names)
{
    size_t                 n, k;
    fuzz_str_t             d;
    const consent_rule_t  *r;

    r = &fr->rule;
    n = 0;

    /* the pattern itself, one byte more and one byte less */
    names[n].p = r->pattern;
    names[n].len = r->pattern_len;
    n++;

    names[n].p = r->pattern;
    names[n].len = r->pattern_len - 1;
    n++;

    k = (size_t) (r->pattern - input) + r->pattern_len;

    if (k < size) {
        names[n].p = r->pattern;
        names[n].len = r->pattern_len + 1;
        n++;
    }

    if (r->kind == CONSENT_RULE_REGEX) {
        return n;
    }

    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 'l', "",
                    0) == 0);
    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 'u', "",
                    0) == 0);

    if (r->kind == CONSENT_RULE_PREFIX) {
        n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 'u',
                        "q", 0) == 0);
    }

    /* longer than any rule: a prefix still names it, an exact rule not */
    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len,
                    (r->flags & CONSENT_RULE_ICASE) ? 'u' : 0, "",
                    FUZZ_LONG_NAME) == 0);

    /* the set's own keys, and a marker byte after the name */
    n += (fuzz_make_key(a, &names[n], NULL, r->pattern, r->pattern_len, 1)
          == 0);
    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 0,
                    "\x01", 0) == 0);

    if (r->flags & CONSENT_RULE_DOMAIN_ONLY) {
        fuzz_rule_domain(r, &d);

        n += (fuzz_make_key(a, &names[n], &d, r->pattern, r->pattern_len, 0)
              == 0);
        n += (fuzz_make_key(a, &names[n], &d, r->pattern, r->pattern_len, 1)
              == 0);
    }

    return n;
}


/* hosts of a domain-only rule's domain: it, under it, upper case */
static size_t
fuzz_domain_hosts(const consent_rule_t *r, fuzz_arena_t *a,
    fuzz_str_t *hosts, int at_limit)
{
    size_t          n, total, extra;
    fuzz_str_t      d;
    unsigned char  *p;

    n = 0;

    hosts[n].p = r->domain;
    hosts[n].len = r->domain_len;
    n++;

    n += (fuzz_make(a, &hosts[n], "a.", r->domain, r->domain_len, 0, "", 0)
          == 0);
    n += (fuzz_make(a, &hosts[n], "", r->domain, r->domain_len, 'u', ".",
                    0) == 0);

    if (!at_limit) {
        return n;
    }

    /* under it, CONSENT_DOMAIN_MAX bytes long and one more */
    fuzz_rule_domain(r, &d);

    for (extra = 0; extra < 2; extra++) {
        total = CONSENT_DOMAIN_MAX + extra;

        if (d.len + 2 > total) {
            break;
        }

        p = fuzz_arena_take(a, total);
        if (p == NULL) {
            break;
        }

        memset(p, 'x', total - d.len - 1);
        p[total - d.len - 1] = '.';
        memcpy(p + total - d.len, d.p, d.len);

        hosts[n].p = p;
        hosts[n].len = total;
        n++;
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                           rc, id, isv, oom, limit;
    char                          err[256];
    size_t                        i, nlines, nnames, nhosts, k, vlen;
    unsigned                      n, nregex, j, h, nscoped, nasks, nslow;
    unsigned                      nvset;
    unsigned                      nvmeta, v;
    consent_err_t                 perr, perr_sentinel;
    unsigned char                *p;
    fuzz_str_t                   *lines, *names, *hosts, t;
    fuzz_rule_t                  *rules;
    fuzz_pool_t                   pool;
    fuzz_arena_t                  arena;
    fuzz_scope_t                 *mscopes;
    consent_alloc_t               a;
    consent_rule_t                rule, sentinel;
    consent_scope_t              *scopes;
    consent_ruleset_t            *rs;
    consent_purposes_t            ps;
    consent_vendor_meta_t         meta, *vmeta;
    pcre2_match_data             *md;
    pcre2_match_context          *mctx;
    PCRE2_SIZE                    off;
    unsigned                     *scoped;
    const fuzz_rule_t           **gwant;
    const consent_rule_t         *r, *got;
    const unsigned char          *vname;
    const consent_vendor_meta_t  *m;

    static const char            *fixed[] = {
        "_ga", "_gid", "_ga_XYZ123", "_fbp", "_gcl_au", "consent",
        "session", "a", "ab", "abc", "__utma", "IDE", "_hjSessionUser_1",
        "_GA", "uid", "UID", "\x02_ga", "\x01", "\x02",
        NULL
    };

    static const char            *fixed_hosts[] = {
        "", ".", "example.com", "WWW.Example.COM.", ".example.com",
        "a..b.example.com", "com",
        NULL
    };

    p = fuzz_copy(data, size);
    lines = malloc(FUZZ_MAX_LINES * sizeof(fuzz_str_t));
    names = malloc(FUZZ_MAX_NAMES * sizeof(fuzz_str_t));
    gwant = malloc(FUZZ_MAX_NAMES * sizeof(fuzz_rule_t *));
    hosts = malloc(FUZZ_MAX_HOSTS * sizeof(fuzz_str_t));
    scopes = malloc(FUZZ_MAX_HOSTS * sizeof(consent_scope_t));
    mscopes = malloc(FUZZ_MAX_HOSTS * sizeof(fuzz_scope_t));
    scoped = malloc(FUZZ_MAX_HOSTS * sizeof(unsigned));
    rules = malloc(FUZZ_MAX_RULES * sizeof(fuzz_rule_t));
    vmeta = malloc(FUZZ_MAX_LINES * sizeof(consent_vendor_meta_t));

    arena.buf = malloc(FUZZ_ARENA_SIZE);
    arena.len = 0;
    arena.cap = FUZZ_ARENA_SIZE;

    if (lines == NULL || names == NULL || gwant == NULL || hosts == NULL
        || scopes == NULL || mscopes == NULL || scoped == NULL
        || rules == NULL || vmeta == NULL || arena.buf == NULL)
    {
        abort();
    }

    n = 0;
    nvset = 0;
    nvmeta = 0;

    consent_purposes_init(&ps);
    (void) consent_purposes_add(&ps, (const unsigned char *) "security", 8);

    memset(&pool, 0, sizeof(fuzz_pool_t));
    a.alloc = fuzz_alloc;
    a.data = &pool;

    nlines = fuzz_split_lines(p, size, lines, FUZZ_MAX_LINES);

    if (nlines) {
        pool.fail_at = fuzz_oom_at(&lines[0]);
    }

    oom = (pool.fail_at != 0);

    md = pcre2_match_data_create(1, NULL);
    mctx = pcre2_match_context_create(NULL);

    if (md == NULL || mctx == NULL) {
        abort();
    }

    pcre2_set_match_limit(mctx, FUZZ_MATCH_LIMIT);

    rs = consent_ruleset_create(&a);

    if (rs == NULL) {
        FUZZ_ASSERT(pool.failed);
        goto done;
    }

    /* parse and add */

    nregex = 0;

    memset(&sentinel, 0x5a, sizeof(consent_rule_t));
    memset(&perr_sentinel, 0x5a, sizeof(consent_err_t));

    for (i = 0; i < nlines && n < FUZZ_MAX_RULES; i++) {
        memcpy(&rule, &sentinel, sizeof(consent_rule_t));
        memcpy(&perr, &perr_sentinel, sizeof(consent_err_t));

        rc = consent_rule_parse(lines[i].p, lines[i].len, &ps, &rule, &perr);

        FUZZ_ASSERT(rc >= -1 && rc <= CONSENT_LINE_VENDOR);

        if (rc >= 0) {
            /* err is for failures only */
            FUZZ_ASSERT(memcmp(&perr, &perr_sentinel, sizeof(perr)) == 0);
        }

        /* "@vendor", a blank and more, after any blanks */
        t = lines[i];

        while (t.len && (t.p[0] == ' ' || t.p[0] == '\t' || t.p[0] == '\r'))
        {
            t.p++;
            t.len--;
        }

        isv = t.len > 8 && memcmp(t.p, "@vendor", 7) == 0
              && (t.p[7] == ' ' || t.p[7] == '\t' || t.p[7] == '\r');

        FUZZ_ASSERT(isv == (rc == CONSENT_LINE_VENDOR));

        if (rc == CONSENT_LINE_BLANK) {
            /* a blank line or a comment leaves the rule alone */
            FUZZ_ASSERT(memcmp(&rule, &sentinel, sizeof(rule)) == 0);
            continue;
        }

        if (rc < 0) {
            fuzz_check_error(&lines[i], &ps, &perr);
            continue;
        }

        if (rc == CONSENT_LINE_VENDOR) {
            rc = consent_vendor_parse(lines[i].p, lines[i].len, &ps, &meta,
                                      &perr);

            FUZZ_ASSERT(rc == 1 || rc == -1);

            if (rc < 0) {
                fuzz_check_vendor_error(&lines[i], &perr);
                continue;
            }

            FUZZ_ASSERT(memcmp(&perr, &perr_sentinel, sizeof(perr)) == 0);
            fuzz_check_vendor_parsed(&lines[i], &ps, &meta);

            nvset++;

            err[0] = '\0';
            rc = consent_ruleset_vendor_set(rs, &meta, err, sizeof(err));

            if (rc != 0) {
                /* only no memory may keep a parsed vendor line out */
                FUZZ_ASSERT(rc == -1 && err[0] != '\0' && pool.failed);
                continue;
            }

            vmeta[nvmeta++] = meta;

            /* known by its name, with its metadata, from now on */
            id = consent_ruleset_vendor_find(rs, meta.id.data, meta.id.len);
            FUZZ_ASSERT(id >= 0);

            m = consent_ruleset_vendor_meta(rs, (unsigned) id);
            FUZZ_ASSERT(m != NULL && fuzz_span_eq(&m->id, &meta.id));
            FUZZ_ASSERT(m->id.data != meta.id.data);

            continue;
        }

        fuzz_check_parsed(&lines[i], &ps, &rule);

        rules[n].re = NULL;

        if (rule.kind == CONSENT_RULE_REGEX) {
            /* keep it fast: few and short regexes */
            if (nregex == FUZZ_MAX_REGEX
                || rule.pattern_len > FUZZ_MAX_REGEX_LEN)
            {
                continue;
            }

            rules[n].re = pcre2_compile(rule.pattern, rule.pattern_len,
                                        (rule.flags & CONSENT_RULE_ICASE)
                                        ? PCRE2_CASELESS : 0,
                                        &rc, &off, NULL);
        }

        rule.line = (uint32_t) i + 1;

        err[0] = '\0';
        rc = consent_ruleset_add(rs, &rule, err, sizeof(err));

        if (rc != 0) {
            FUZZ_ASSERT(rc == -1 && err[0] != '\0');

            /* only a bad regex or no memory may keep a rule out */
            FUZZ_ASSERT(pool.failed
                        || (rule.kind == CONSENT_RULE_REGEX
                            && rules[n].re == NULL));

            if (rules[n].re) {
                pcre2_code_free(rules[n].re);
            }

            continue;
        }

        FUZZ_ASSERT(rule.kind != CONSENT_RULE_REGEX || rules[n].re != NULL);

        rules[n].rule = rule;
        nregex += (rule.kind == CONSENT_RULE_REGEX);
        n++;

        FUZZ_ASSERT(consent_ruleset_count(rs) == n);
    }

    /*
     * A vendor stays known when its rule then ran out of memory; a vendor
     * line may name one that has no rule.
     */
    FUZZ_ASSERT(pool.failed || consent_ruleset_vendors(rs) <= n + nvset);

    for (j = 0; j < n; j++) {
        FUZZ_ASSERT(consent_ruleset_vendor_find(rs, rules[j].rule.vendor,
                                                rules[j].rule.vendor_len)
                    >= 0);
    }

    /* each vendor's metadata is that of the last line that set it */
    for (v = 0; v < consent_ruleset_vendors(rs); v++) {
        vname = consent_ruleset_vendor(rs, v, &vlen);
        FUZZ_ASSERT(vname != NULL);

        for (j = nvmeta; j > 0; j--) {
            if (vmeta[j - 1].id.len == vlen
                && memcmp(vmeta[j - 1].id.data, vname, vlen) == 0)
            {
                break;
            }
        }

        if (j == 0) {
            FUZZ_ASSERT(consent_ruleset_vendor_meta(rs, v) == NULL);

        } else {
            fuzz_check_vendor_meta(rs, &vmeta[j - 1]);
        }
    }

    FUZZ_ASSERT(consent_ruleset_vendor_meta(rs, consent_ruleset_vendors(rs))
                == NULL);

    err[0] = '\0';
    rc = consent_ruleset_compile(rs, err, sizeof(err));

    if (rc != 0) {
        FUZZ_ASSERT(rc == -1 && err[0] != '\0');

        /* an uncompiled set names nothing */
        FUZZ_ASSERT(consent_ruleset_match(rs, (const unsigned char *) "_ga",
                                          3)
                    == NULL);

        /*
         * No memory, or regexes that compile alone but not together
         * (duplicate group names, for one).
         */
        FUZZ_ASSERT(pool.failed || nregex > 0);
        goto done;
    }

    /* compiling again is a no-op */
    FUZZ_ASSERT(consent_ruleset_compile(rs, err, sizeof(err)) == 0);

    /* names to ask about */

    nnames = 0;

    for (i = 0; fixed[i] && nnames < FUZZ_MAX_NAMES; i++) {
        names[nnames].p = (const unsigned char *) fixed[i];
        names[nnames].len = strlen(fixed[i]);
        nnames++;
    }

    for (j = 0; j < n && nnames + FUZZ_RULE_NAMES <= FUZZ_MAX_RULE_NAMES;
         j++)
    {
        nnames += fuzz_rule_names(&rules[j], p, size, &arena,
                                  names + nnames);
    }

    /* raw lines (names never contain '\n' but may be anything else) */
    for (i = 0; i < nlines && nnames < FUZZ_MAX_NAMES; i++) {
        names[nnames++] = lines[i];
    }

    /* and the words of every line */
    for (i = 0; i < nlines && nnames < FUZZ_MAX_NAMES; i++) {
        nnames += fuzz_split_words(&lines[i], names + nnames,
                                   FUZZ_MAX_NAMES - nnames);
    }

    /* hosts to ask about */

    nhosts = 0;
    limit = 1;

    for (i = 0; fixed_hosts[i] && nhosts < FUZZ_MAX_HOSTS; i++) {
        hosts[nhosts].p = (const unsigned char *) fixed_hosts[i];
        hosts[nhosts].len = strlen(fixed_hosts[i]);
        nhosts++;
    }

    for (j = 0; j < n && nhosts + FUZZ_DOMAIN_HOSTS <= FUZZ_MAX_HOSTS; j++) {
        r = &rules[j].rule;

        if (!(r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
            continue;
        }

        for (h = 0; h < j; h++) {
            if ((rules[h].rule.flags & CONSENT_RULE_DOMAIN_ONLY)
                && rules[h].rule.domain_len == r->domain_len
                && fuzz_caseeq(rules[h].rule.domain, r->domain,
                               r->domain_len))
            {
                break;
            }
        }

        if (h < j) {
            continue;
        }

        /* the length limit for the first domain */
        nhosts += fuzz_domain_hosts(r, &arena, hosts + nhosts, limit);
        limit = 0;
    }

    /* the domain= of rules and words of the input, last lines first */
    for (j = 0; j < n && nhosts < FUZZ_MAX_HOSTS; j++) {
        if (rules[j].rule.domain_len
            && !(rules[j].rule.flags & CONSENT_RULE_DOMAIN_ONLY))
        {
            hosts[nhosts].p = rules[j].rule.domain;
            hosts[nhosts].len = rules[j].rule.domain_len;
            nhosts++;
        }
    }

    for (i = nlines; i > 0 && nhosts < FUZZ_MAX_HOSTS; i--) {
        k = FUZZ_MAX_HOSTS - nhosts;
        nhosts += fuzz_split_words(&lines[i - 1], hosts + nhosts,
                                   k < 4 ? k : 4);
    }

    nscoped = 0;

    for (h = 0; h < nhosts; h++) {
        fuzz_check_host(rs, rules, n, &hosts[h], &scopes[h], &mscopes[h]);

        if (scopes[h].n) {
            scoped[nscoped++] = h;
        }
    }

    /* twice: the second round is answered from the set's memo of names */
    for (i = 0; i < nnames; i++) {
        gwant[i] = fuzz_expect_global(rules, n, md, mctx, names[i].p,
                                      names[i].len);
    }

    for (k = 0; k < 2 * nnames; k++) {
        i = k % nnames;
        fuzz_check_match(rs, rules, n, NULL, gwant[i], names[i].p,
                         names[i].len, oom);
    }

    /*
     * In the scopes of a few hosts, most of them in some scope.  Where no
     * exact or prefix rule names it, the set may run its regexes on every
     * ask (the memo is for short names): fewer of those.
     */
    nasks = 0;
    nslow = 0;

    for (i = 0; i < nnames && nasks < FUZZ_MAX_SCOPED; i++) {
        if (nregex
            && (gwant[i] == NULL || gwant[i] == FUZZ_UNKNOWN
                || gwant[i]->rule.kind == CONSENT_RULE_REGEX))
        {
            if (nslow + FUZZ_HOSTS_PER_NAME + 1 > FUZZ_MAX_SCOPED_RE) {
                continue;
            }

            nslow += FUZZ_HOSTS_PER_NAME + 1;
        }

        for (k = 0; k <= FUZZ_HOSTS_PER_NAME; k++) {
            if (k == 0) {
                h = (unsigned) (i % nhosts);

            } else if (k <= nscoped) {
                h = scoped[(i * FUZZ_HOSTS_PER_NAME + k) % nscoped];

            } else {
                break;
            }

            fuzz_check_match(rs, rules, n, &scopes[h],
                             fuzz_expect_in(rules, n, &mscopes[h], gwant[i],
                                            names[i].p, names[i].len),
                             names[i].p, names[i].len, oom);
            nasks++;
        }
    }

    /*
     * An exact rule, once added, always names its cookie: everywhere, or
     * on its own domain when it is domain-only.
     */
    for (j = 0; j < n; j++) {
        r = &rules[j].rule;

        if (r->kind != CONSENT_RULE_EXACT) {
            continue;
        }

        if (!(r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
            FUZZ_ASSERT(consent_ruleset_match(rs, r->pattern, r->pattern_len)
                        != NULL);
            continue;
        }

        consent_ruleset_scope(rs, r->domain, r->domain_len, &scopes[0]);
        FUZZ_ASSERT(scopes[0].n > 0);

        got = consent_ruleset_match_in(rs, &scopes[0], r->pattern,
                                       r->pattern_len);
        FUZZ_ASSERT(got != NULL && (got->flags & CONSENT_RULE_DOMAIN_ONLY));
    }

done:

    for (j = 0; rs != NULL && j < n; j++) {
        if (rules[j].re) {
            pcre2_code_free(rules[j].re);
        }
    }

    pcre2_match_context_free(mctx);
    pcre2_match_data_free(md);
    fuzz_jit_free();
    fuzz_pool_free(&pool);

    free(arena.buf);
    free(vmeta);
    free(rules);
    free(scoped);
    free(mscopes);
    free(scopes);
    free(hosts);
    free(gwant);
    free(names);
    free(lines);
    free(p);

    return 0;
}
