/*
 * Copyright (C) ngx_consent_module authors
 *
 * A rule set's domains.  Two questions, each answered by a hash of
 * domains probed once per label of the domain asked about, so the cost
 * grows with the labels, not with the rules:
 *   - which rule names a Set-Cookie Domain as a tracker's (domain= of a
 *     rule that applies anywhere);
 *   - which domains of domain-only rules a host is in (its scope).
 */

#include <string.h>

#include "rules_int.h"


static int consent_domain_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);
static int consent_scope_insert(consent_ruleset_t *rs, consent_rule_t *r);
static int consent_parent(const unsigned char **domain, size_t *len);


static int
consent_domain_eq(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
    return alen == blen && consent_domain_match(a, alen, b, blen);
}


/* to the parent domain: 0 when there is none */

static int
consent_parent(const unsigned char **domain, size_t *len)
{
    while (*len && **domain != '.') {
        (*domain)++;
        (*len)--;
    }

    if (*len == 0) {
        return 0;
    }

    (*domain)++;
    (*len)--;

    return *len != 0;
}


int
consent_rules_compile_domains(consent_ruleset_t *rs)
{
    unsigned         i, n, size;
    uint32_t         h, cur;
    consent_rule_t  *r, *other;

    n = 0;

    for (i = 0; i < rs->nrules; i++) {
        n += (rs->rules[i].domain_len != 0);
    }

    size = consent_rules_hash_size(n);

    rs->domains = rs->alloc.alloc(rs->alloc.data, size * sizeof(uint32_t));
    if (rs->domains == NULL) {
        return -1;
    }

    memset(rs->domains, 0, size * sizeof(uint32_t));
    rs->domains_mask = size - 1;

    for (i = 0; i < rs->nrules; i++) {
        r = &rs->rules[i];

        /* a domain-only rule is about its name on the domain, not all */
        if (r->domain_len == 0 || (r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
            continue;
        }

        h = consent_rules_hash_lower(r->domain, r->domain_len)
            & rs->domains_mask;

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

    if (len == 0) {
        return NULL;
    }

    /* the domain itself, then each parent: the most specific rule wins */
    do {
        h = consent_rules_hash_lower(domain, len) & rs->domains_mask;

        while ((cur = rs->domains[h]) != 0) {
            r = &rs->rules[cur - 1];

            if (consent_domain_eq(domain, len, r->domain, r->domain_len)) {
                return r;
            }

            h = (h + 1) & rs->domains_mask;
        }

    } while (consent_parent(&domain, &len));

    return NULL;
}


int
consent_rules_compile_scopes(consent_ruleset_t *rs)
{
    unsigned  i, size;

    if (rs->nscoped == 0) {
        return 0;
    }

    size = consent_rules_hash_size(rs->nscoped);

    rs->scopes = rs->alloc.alloc(rs->alloc.data,
                                 rs->nscoped * sizeof(consent_span_t));
    rs->scope_hash = rs->alloc.alloc(rs->alloc.data,
                                     size * sizeof(uint32_t));
    if (rs->scopes == NULL || rs->scope_hash == NULL) {
        return -1;
    }

    memset(rs->scope_hash, 0, size * sizeof(uint32_t));
    rs->scope_mask = size - 1;

    for (i = 0; i < rs->nrules; i++) {
        if ((rs->rules[i].flags & CONSENT_RULE_DOMAIN_ONLY)
            && consent_scope_insert(rs, &rs->rules[i]) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* the rule's domain, once, in lower case as its key has it */

static int
consent_scope_insert(consent_ruleset_t *rs, consent_rule_t *r)
{
    size_t           i;
    uint32_t         h, cur;
    unsigned char   *d;
    consent_span_t  *s;

    h = consent_rules_hash_lower(r->domain, r->domain_len) & rs->scope_mask;

    while ((cur = rs->scope_hash[h]) != 0) {
        s = &rs->scopes[cur - 1];

        if (consent_domain_eq(s->data, s->len, r->domain, r->domain_len)) {
            return 0;
        }

        h = (h + 1) & rs->scope_mask;
    }

    d = consent_rules_strdup(rs, r->domain, r->domain_len);
    if (d == NULL) {
        return -1;
    }

    for (i = 0; i < r->domain_len; i++) {
        if (d[i] >= 'A' && d[i] <= 'Z') {
            d[i] |= 0x20;
        }
    }

    s = &rs->scopes[rs->nscopes++];
    s->data = d;
    s->len = r->domain_len;
    rs->scope_hash[h] = rs->nscopes;

    return 0;
}


void
consent_ruleset_scope(const consent_ruleset_t *rs, const unsigned char *host,
    size_t len, consent_scope_t *scope)
{
    uint32_t               h, cur;
    const consent_span_t  *s;

    scope->n = 0;

    if (rs == NULL || !rs->compiled || rs->nscopes == 0) {
        return;
    }

    if (len && host[0] == '.') {
        host++;
        len--;
    }

    /* "example.com." is example.com */
    if (len && host[len - 1] == '.') {
        len--;
    }

    if (len == 0 || len > CONSENT_DOMAIN_MAX) {
        return;
    }

    do {
        h = consent_rules_hash_lower(host, len) & rs->scope_mask;

        while ((cur = rs->scope_hash[h]) != 0) {
            s = &rs->scopes[cur - 1];

            if (consent_domain_eq(host, len, s->data, s->len)) {
                scope->domain[scope->n++] = *s;
                break;
            }

            h = (h + 1) & rs->scope_mask;
        }

    } while (scope->n < CONSENT_SCOPE_MAX && consent_parent(&host, &len));
}
