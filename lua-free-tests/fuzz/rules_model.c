/*
 * Copyright (C) ngx_consent_module authors
 *
 * fuzz_rules: the model of the rule set, and the checks of its answers
 * against it.  The model is what rules.h promises, as implemented:
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
 */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rules_model.h"


unsigned char
fuzz_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}


/* ASCII case ignored, as consent_lower() does */
int
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
void
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


void
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
const fuzz_rule_t *
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
const fuzz_rule_t *
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
const fuzz_rule_t *
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
void
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
void
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
