/*
 * Copyright (C) ngx_consent_module authors
 *
 * A rule set's regexes: each checked alone when added, then all of them
 * joined into one PCRE2 alternation, JIT-compiled, each branch ending in
 * (*MARK:n) so that a match tells which rule it was.
 */

#include <string.h>
#include <stdio.h>

#include "rules_int.h"


#define CONSENT_REGEX_MATCH_LIMIT  100000


/* alone, so that a bad one is reported with its own line */

int
consent_rules_regex_check(consent_ruleset_t *rs, const consent_rule_t *rule,
    char *err, size_t errlen)
{
    int            rc;
    uint32_t       options;
    PCRE2_SIZE     off;
    pcre2_code    *re;
    unsigned char  msg[128];

    if (rs->cctx == NULL) {
        rs->cctx = pcre2_compile_context_create(rs->gctx);
        if (rs->cctx == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }

    options = (rule->flags & CONSENT_RULE_ICASE) ? PCRE2_CASELESS : 0;

    re = pcre2_compile(rule->pattern, rule->pattern_len, options, &rc, &off,
                       rs->cctx);
    if (re == NULL) {
        pcre2_get_error_message(rc, msg, sizeof(msg));
        snprintf(err, errlen, "bad regex: %s at offset %zu", msg,
                 (size_t) off);
        return -1;
    }

    pcre2_code_free(re);

    return 0;
}


int
consent_rules_compile_regex(consent_ruleset_t *rs, char *err, size_t errlen)
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

    /* \A(?:(?:re)\z(*MARK:i)|...), an icase re as (?:(?i)re) */
    len = sizeof("\\A(?:)") + 1;

    for (i = 0; i < rs->nrules; i++) {
        if (rs->rules[i].kind == CONSENT_RULE_REGEX) {
            len += rs->rules[i].pattern_len
                   + sizeof("(?:(?i))\\z(*MARK:4294967295)|");
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

        if (r->flags & CONSENT_RULE_ICASE) {
            memcpy(p, "(?i)", 4);
            p += 4;
        }

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
consent_rules_match_regex(consent_ruleset_t *rs, const unsigned char *name,
    size_t len)
{
    int                   rc;
    unsigned long         idx;
    const unsigned char  *mark, *q;

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
