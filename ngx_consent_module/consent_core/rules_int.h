/*
 * Copyright (C) ngx_consent_module authors
 *
 * A rule set's insides, shared by rules.c (names), rules_domain.c
 * (domains and scopes) and rules_vendor.c (vendors).  Nothing outside
 * those three files includes this.
 */

#ifndef _CONSENT_RULES_INT_H_INCLUDED_
#define _CONSENT_RULES_INT_H_INCLUDED_


#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules.h"


/*
 * What the exact hash and the prefix trie are keyed on.  A plain rule's
 * key is its pattern; an icase rule's is 0x02 and the pattern in lower
 * case; a domain-only rule's starts with its domain in lower case and
 * 0x01.  Rule patterns never hold control bytes, so keys of different
 * modes never collide; a name from a request may, so a lookup also
 * checks the mode of what it finds.
 */
#define CONSENT_KEY_PLAIN          0
#define CONSENT_KEY_ICASE          1
#define CONSENT_KEY_SCOPED         2

#define CONSENT_KEY_MAX            (CONSENT_DOMAIN_MAX + 2 + CONSENT_NAME_MAX)


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
    consent_vendor_meta_t      meta;
    unsigned                   has_meta:1;
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

    /* the domains of domain-only rules, lower case, and their hash */
    consent_span_t            *scopes;
    unsigned                   nscopes;
    uint32_t                  *scope_hash;  /* scope index + 1 */
    uint32_t                   scope_mask;

    /* names that missed the exact hash, with what prefix/regex said */
    consent_memo_t            *memo;

    unsigned                   nregex;
    unsigned                   nicase;      /* icase, not domain-only */
    unsigned                   nscoped;     /* domain-only rules */
    unsigned                   nscoped_icase;
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


void *consent_rules_grow(consent_ruleset_t *rs, void *old, size_t size,
    unsigned *cap, unsigned n);
unsigned char *consent_rules_strdup(consent_ruleset_t *rs,
    const unsigned char *p, size_t len);
uint32_t consent_rules_hash_lower(const unsigned char *p, size_t len);
/* a power of two at least twice n: load factor at most 1/2 */
unsigned consent_rules_hash_size(unsigned n);

int consent_rules_vendor_add(consent_ruleset_t *rs, const unsigned char *p,
    size_t len);

int consent_rules_regex_check(consent_ruleset_t *rs,
    const consent_rule_t *rule, char *err, size_t errlen);
int consent_rules_compile_regex(consent_ruleset_t *rs, char *err,
    size_t errlen);
const consent_rule_t *consent_rules_match_regex(consent_ruleset_t *rs,
    const unsigned char *name, size_t len);

int consent_rules_compile_domains(consent_ruleset_t *rs);
int consent_rules_compile_scopes(consent_ruleset_t *rs);


#endif /* _CONSENT_RULES_INT_H_INCLUDED_ */
