/*
 * Copyright (C) ngx_consent_module authors
 *
 * fuzz_rules: the rules the target added, and the model of what the set
 * should answer for them (rules_model.c).
 */

#ifndef _CONSENT_FUZZ_RULES_MODEL_H_INCLUDED_
#define _CONSENT_FUZZ_RULES_MODEL_H_INCLUDED_


#include <stdint.h>

#include <pcre2.h>

#include "consent_core.h"
#include "rules.h"


/* a scope keeps its rules as bits of a uint64_t: at most 64 */
#define FUZZ_MAX_RULES       64

/* the model's answer where the set may answer with a regex or not at all */
#define FUZZ_UNKNOWN         ((const fuzz_rule_t *) -1)


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


unsigned char fuzz_lower(unsigned char c);
int fuzz_caseeq(const unsigned char *a, const unsigned char *b, size_t len);
void fuzz_rule_domain(const consent_rule_t *r, fuzz_str_t *d);

void fuzz_expect_scope(const fuzz_rule_t *rules, unsigned n,
    const unsigned char *host, size_t len, fuzz_scope_t *scope);
const fuzz_rule_t *fuzz_expect_global(const fuzz_rule_t *rules, unsigned n,
    pcre2_match_data *md, pcre2_match_context *mctx,
    const unsigned char *name, size_t len);
const fuzz_rule_t *fuzz_expect_in(const fuzz_rule_t *rules, unsigned n,
    const fuzz_scope_t *scope, const fuzz_rule_t *global,
    const unsigned char *name, size_t len);
const fuzz_rule_t *fuzz_expect_domain(const fuzz_rule_t *rules, unsigned n,
    const unsigned char *host, size_t len);

void fuzz_check_match(consent_ruleset_t *rs, const fuzz_rule_t *rules,
    unsigned n, const consent_scope_t *scope, const fuzz_rule_t *want,
    const unsigned char *name, size_t len, int oom);
void fuzz_check_host(consent_ruleset_t *rs, const fuzz_rule_t *rules,
    unsigned n, const fuzz_str_t *host, consent_scope_t *scope,
    fuzz_scope_t *mscope);


#endif /* _CONSENT_FUZZ_RULES_MODEL_H_INCLUDED_ */
