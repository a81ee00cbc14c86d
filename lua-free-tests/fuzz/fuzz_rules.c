/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: rule lines, the rule set and matching.
 *
 * The input is a rules file.  Each line goes through consent_rule_parse();
 * the rules it accepts are added to a set, which is compiled and asked
 * about names taken from the rules, from the input and from a fixed list.
 * Every name is asked twice, so that the second answer may come from the
 * set's memo of names.  Every answer is checked against a model of what
 * consent_core.h promises: the last exact rule for the name, else the
 * longest prefix (the last one added of equal prefixes), else the first
 * regex in rule order that matches the whole name, each regex compiled on
 * its own.
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
#include "fuzz.h"



#define FUZZ_MAX_LINES       128
#define FUZZ_MAX_RULES       64
#define FUZZ_MAX_REGEX       8
#define FUZZ_MAX_REGEX_LEN   64
#define FUZZ_MAX_NAMES       256
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


/* the rule the set must answer, NULL, or FUZZ_UNKNOWN */
static const fuzz_rule_t *
fuzz_expect(const fuzz_rule_t *rules, unsigned n, pcre2_match_data *md,
    pcre2_match_context *mctx, const unsigned char *name, size_t len)
{
    int                    m;
    unsigned               i;
    const fuzz_rule_t     *exact, *prefix;
    const consent_rule_t  *r;

    if (len == 0) {
        return NULL;
    }

    exact = NULL;
    prefix = NULL;

    for (i = 0; i < n; i++) {
        r = &rules[i].rule;

        if (r->kind == CONSENT_RULE_EXACT && r->pattern_len == len
            && memcmp(r->pattern, name, len) == 0)
        {
            exact = &rules[i];
        }

        if (r->kind == CONSENT_RULE_PREFIX && r->pattern_len <= len
            && memcmp(r->pattern, name, r->pattern_len) == 0
            && (prefix == NULL
                || r->pattern_len >= prefix->rule.pattern_len))
        {
            prefix = &rules[i];
        }
    }

    if (exact) {
        return exact;
    }

    if (prefix) {
        return prefix;
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
           && a->pattern_len == b->pattern_len
           && memcmp(a->pattern, b->pattern, a->pattern_len) == 0
           && a->vendor_len == b->vendor_len
           && memcmp(a->vendor, b->vendor, a->vendor_len) == 0
           && a->domain_len == blen
           && (blen == 0 || memcmp(a->domain, bdom, blen) == 0);
}


static void
fuzz_check_match(consent_ruleset_t *rs, const fuzz_rule_t *rules,
    unsigned n, pcre2_match_data *md, pcre2_match_context *mctx,
    const unsigned char *name, size_t len, int oom)
{
    int                    id;
    size_t                 vlen;
    unsigned char         *copy;
    const fuzz_rule_t     *want;
    const unsigned char   *v;
    const consent_rule_t  *got;

    /* a private copy: reads past the name are then ASan reports */
    copy = fuzz_copy(name, len);

    got = consent_ruleset_match(rs, copy, len);
    want = fuzz_expect(rules, n, md, mctx, copy, len);

    if (got != NULL) {
        FUZZ_ASSERT(got->index < n);
        FUZZ_ASSERT(fuzz_same_rule(got, &rules[got->index].rule));

        v = consent_ruleset_vendor(rs, got->vendor_id, &vlen);
        FUZZ_ASSERT(v != NULL && v == got->vendor);
        FUZZ_ASSERT(vlen == got->vendor_len);

        id = consent_ruleset_vendor_find(rs, got->vendor, got->vendor_len);
        FUZZ_ASSERT(id == got->vendor_id);
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
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    rc;
    char                   err[256];
    size_t                 i, nlines, nnames, k;
    unsigned               n, nregex, j;
    consent_err_t          perr, perr_sentinel;
    unsigned char         *p;
    fuzz_str_t            *lines, *names;
    fuzz_rule_t           *rules;
    fuzz_pool_t            pool;
    consent_alloc_t        a;
    consent_rule_t         rule, sentinel;
    consent_ruleset_t     *rs;
    consent_purposes_t     ps;
    pcre2_match_data      *md;
    pcre2_match_context   *mctx;
    PCRE2_SIZE             off;

    static const char     *fixed[] = {
        "_ga", "_gid", "_ga_XYZ123", "_fbp", "_gcl_au", "consent",
        "session", "a", "ab", "abc", "__utma", "IDE", "_hjSessionUser_1",
        NULL
    };

    p = fuzz_copy(data, size);
    lines = malloc(FUZZ_MAX_LINES * sizeof(fuzz_str_t));
    names = malloc(FUZZ_MAX_NAMES * sizeof(fuzz_str_t));
    rules = malloc(FUZZ_MAX_RULES * sizeof(fuzz_rule_t));

    if (lines == NULL || names == NULL || rules == NULL) {
        abort();
    }

    n = 0;

    consent_purposes_init(&ps);
    (void) consent_purposes_add(&ps, (const unsigned char *) "security", 8);

    memset(&pool, 0, sizeof(fuzz_pool_t));
    a.alloc = fuzz_alloc;
    a.data = &pool;

    nlines = fuzz_split_lines(p, size, lines, FUZZ_MAX_LINES);

    if (nlines) {
        pool.fail_at = fuzz_oom_at(&lines[0]);
    }

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

        FUZZ_ASSERT(rc >= -1 && rc <= 1);

        if (rc >= 0) {
            /* err is for failures only */
            FUZZ_ASSERT(memcmp(&perr, &perr_sentinel, sizeof(perr)) == 0);
        }

        if (rc == 0) {
            /* a blank line or a comment leaves the rule alone */
            FUZZ_ASSERT(memcmp(&rule, &sentinel, sizeof(rule)) == 0);
            continue;
        }

        if (rc < 0) {
            fuzz_check_error(&lines[i], &ps, &perr);
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

            rules[n].re = pcre2_compile(rule.pattern, rule.pattern_len, 0,
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

    /* a vendor stays known when its rule then ran out of memory */
    FUZZ_ASSERT(pool.failed || consent_ruleset_vendors(rs) <= n);

    for (j = 0; j < n; j++) {
        FUZZ_ASSERT(consent_ruleset_vendor_find(rs, rules[j].rule.vendor,
                                                rules[j].rule.vendor_len)
                    >= 0);
    }

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

    for (j = 0; j < n && nnames + 3 <= FUZZ_MAX_NAMES; j++) {
        /* the pattern itself, one byte more and one byte less */
        names[nnames].p = rules[j].rule.pattern;
        names[nnames].len = rules[j].rule.pattern_len;
        nnames++;

        names[nnames].p = rules[j].rule.pattern;
        names[nnames].len = rules[j].rule.pattern_len - 1;
        nnames++;

        k = (size_t) (rules[j].rule.pattern - p) + rules[j].rule.pattern_len;

        if (k < size) {
            names[nnames].p = rules[j].rule.pattern;
            names[nnames].len = rules[j].rule.pattern_len + 1;
            nnames++;
        }
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

    /* twice: the second round is answered from the set's memo of names */
    for (k = 0; k < 2 * nnames; k++) {
        i = k % nnames;
        fuzz_check_match(rs, rules, n, md, mctx, names[i].p, names[i].len,
                         pool.fail_at != 0);
    }

    /* an exact rule, once added, always names its cookie */
    for (j = 0; j < n; j++) {
        if (rules[j].rule.kind == CONSENT_RULE_EXACT) {
            FUZZ_ASSERT(consent_ruleset_match(rs, rules[j].rule.pattern,
                                              rules[j].rule.pattern_len)
                        != NULL);
        }
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

    free(rules);
    free(names);
    free(lines);
    free(p);

    return 0;
}
