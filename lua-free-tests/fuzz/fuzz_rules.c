/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: rule lines, vendor lines, the rule set and matching.
 *
 * The input is a rules file.  Each line goes through consent_rule_parse();
 * the rules it accepts are added to a set, and its "@vendor" lines go
 * through consent_vendor_parse() and consent_ruleset_vendor_set().  The
 * set is compiled and asked about names taken from the rules, from the
 * input and from a fixed list (rules_inputs.c).  Every name is asked
 * twice without a scope, so that the second answer may come from the
 * set's memo of names, and with the scopes of a few hosts (rules_inputs.c
 * again).  Every answer is checked against a model of what rules.h
 * promises, as implemented (rules_model.c).  What the parsers promise of
 * a line, and the set's copy of a vendor line's metadata, are checked
 * field by field (rules_lines.c).
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
#include "rules_model.h"
#include "rules_lines.h"
#include "rules_inputs.h"


#define FUZZ_MAX_LINES       128
#define FUZZ_MAX_REGEX       8
#define FUZZ_MAX_REGEX_LEN   64
#define FUZZ_HOSTS_PER_NAME  3           /* scopes each name is asked in */
#define FUZZ_MAX_SCOPED      2048        /* asks with a scope, per input */
#define FUZZ_MAX_SCOPED_RE   256         /* of those, where regexes answer */
#define FUZZ_ARENA_SIZE      (256 * 1024)
#define FUZZ_MATCH_LIMIT     100000

#define FUZZ_MAX_JIT         16


typedef int (*fuzz_jit_compile_pt)(pcre2_code *code, uint32_t options);


static pcre2_code  *fuzz_jit[FUZZ_MAX_JIT];
static unsigned     fuzz_njit;


/* one input's run: what each phase leaves for the next */
typedef struct {
    fuzz_input_t                  in;
    unsigned char                *p;           /* the input's copy */
    fuzz_str_t                   *lines;

    fuzz_pool_t                   pool;
    consent_alloc_t               a;
    int                           oom;         /* "#oom N" */
    consent_purposes_t            ps;
    consent_ruleset_t            *rs;

    consent_rule_t                sentinel;
    consent_err_t                 perr_sentinel;

    fuzz_rule_t                  *rules;       /* the set's, in order */
    unsigned                      n;
    unsigned                      nregex;
    consent_vendor_meta_t        *vmeta;       /* those the set took */
    unsigned                      nvmeta;
    unsigned                      nvset;       /* vendor lines parsed */

    fuzz_arena_t                  arena;
    fuzz_str_t                   *names;
    size_t                        nnames;
    const fuzz_rule_t           **gwant;       /* a name's global answer */
    fuzz_str_t                   *hosts;
    size_t                        nhosts;
    consent_scope_t              *scopes;      /* a host's, from the set */
    fuzz_scope_t                 *mscopes;     /* and from the model */
    unsigned                     *scoped;      /* hosts in some scope */
    unsigned                      nscoped;

    pcre2_match_data             *md;
    pcre2_match_context          *mctx;
} fuzz_run_t;


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


/* the input's copy, the arrays, the purposes, the allocator, PCRE2's */
static void
fuzz_run_init(fuzz_run_t *run, const uint8_t *data, size_t size)
{
    memset(run, 0, sizeof(fuzz_run_t));

    run->p = fuzz_copy(data, size);
    run->lines = malloc(FUZZ_MAX_LINES * sizeof(fuzz_str_t));
    run->names = malloc(FUZZ_MAX_NAMES * sizeof(fuzz_str_t));
    run->gwant = malloc(FUZZ_MAX_NAMES * sizeof(fuzz_rule_t *));
    run->hosts = malloc(FUZZ_MAX_HOSTS * sizeof(fuzz_str_t));
    run->scopes = malloc(FUZZ_MAX_HOSTS * sizeof(consent_scope_t));
    run->mscopes = malloc(FUZZ_MAX_HOSTS * sizeof(fuzz_scope_t));
    run->scoped = malloc(FUZZ_MAX_HOSTS * sizeof(unsigned));
    run->rules = malloc(FUZZ_MAX_RULES * sizeof(fuzz_rule_t));
    run->vmeta = malloc(FUZZ_MAX_LINES * sizeof(consent_vendor_meta_t));

    run->arena.buf = malloc(FUZZ_ARENA_SIZE);
    run->arena.len = 0;
    run->arena.cap = FUZZ_ARENA_SIZE;

    if (run->lines == NULL || run->names == NULL || run->gwant == NULL
        || run->hosts == NULL || run->scopes == NULL
        || run->mscopes == NULL || run->scoped == NULL
        || run->rules == NULL || run->vmeta == NULL
        || run->arena.buf == NULL)
    {
        abort();
    }

    consent_purposes_init(&run->ps);
    (void) consent_purposes_add(&run->ps, (const unsigned char *) "security",
                                8);

    run->a.alloc = fuzz_pool_alloc;
    run->a.data = &run->pool;

    run->in.p = run->p;
    run->in.size = size;
    run->in.lines = run->lines;
    run->in.nlines = fuzz_split_lines(run->p, size, run->lines,
                                      FUZZ_MAX_LINES);

    if (run->in.nlines) {
        run->pool.fail_at = fuzz_oom_at(&run->lines[0]);
    }

    run->oom = (run->pool.fail_at != 0);

    run->md = pcre2_match_data_create(1, NULL);
    run->mctx = pcre2_match_context_create(NULL);

    if (run->md == NULL || run->mctx == NULL) {
        abort();
    }

    pcre2_set_match_limit(run->mctx, FUZZ_MATCH_LIMIT);
}


static void
fuzz_run_free(fuzz_run_t *run)
{
    unsigned  j;

    for (j = 0; run->rs != NULL && j < run->n; j++) {
        if (run->rules[j].re) {
            pcre2_code_free(run->rules[j].re);
        }
    }

    pcre2_match_context_free(run->mctx);
    pcre2_match_data_free(run->md);
    fuzz_jit_free();
    fuzz_pool_free(&run->pool);

    free(run->arena.buf);
    free(run->vmeta);
    free(run->rules);
    free(run->scoped);
    free(run->mscopes);
    free(run->scopes);
    free(run->hosts);
    free(run->gwant);
    free(run->names);
    free(run->lines);
    free(run->p);
}


/* parse and add */

/* a "@vendor" line the rule parser handed over: parse it, set it */
static void
fuzz_add_vendor(fuzz_run_t *run, const fuzz_str_t *line,
    consent_err_t *perr)
{
    int                           rc, id;
    char                          err[256];
    consent_vendor_meta_t         meta;
    const consent_vendor_meta_t  *m;

    rc = consent_vendor_parse(line->p, line->len, &run->ps, &meta, perr);

    FUZZ_ASSERT(rc == 1 || rc == -1);

    if (rc < 0) {
        fuzz_check_vendor_error(line, perr);
        return;
    }

    FUZZ_ASSERT(memcmp(perr, &run->perr_sentinel, sizeof(consent_err_t))
                == 0);
    fuzz_check_vendor_parsed(line, &run->ps, &meta);

    run->nvset++;

    err[0] = '\0';
    rc = consent_ruleset_vendor_set(run->rs, &meta, err, sizeof(err));

    if (rc != 0) {
        /* only no memory may keep a parsed vendor line out */
        FUZZ_ASSERT(rc == -1 && err[0] != '\0' && run->pool.failed);
        return;
    }

    run->vmeta[run->nvmeta++] = meta;

    /* known by its name, with its metadata, from now on */
    id = consent_ruleset_vendor_find(run->rs, meta.id.data, meta.id.len);
    FUZZ_ASSERT(id >= 0);

    m = consent_ruleset_vendor_meta(run->rs, (unsigned) id);
    FUZZ_ASSERT(m != NULL && fuzz_span_eq(&m->id, &meta.id));
    FUZZ_ASSERT(m->id.data != meta.id.data);
}


/* a parsed rule of line i into the set, and into the model's rules */
static void
fuzz_add_rule(fuzz_run_t *run, consent_rule_t *rule, size_t i)
{
    int           rc;
    char          err[256];
    PCRE2_SIZE    off;
    fuzz_rule_t  *fr;

    fr = &run->rules[run->n];
    fr->re = NULL;

    if (rule->kind == CONSENT_RULE_REGEX) {
        /* keep it fast: few and short regexes */
        if (run->nregex == FUZZ_MAX_REGEX
            || rule->pattern_len > FUZZ_MAX_REGEX_LEN)
        {
            return;
        }

        fr->re = pcre2_compile(rule->pattern, rule->pattern_len,
                               (rule->flags & CONSENT_RULE_ICASE)
                               ? PCRE2_CASELESS : 0,
                               &rc, &off, NULL);
    }

    rule->line = (uint32_t) i + 1;

    err[0] = '\0';
    rc = consent_ruleset_add(run->rs, rule, err, sizeof(err));

    if (rc != 0) {
        FUZZ_ASSERT(rc == -1 && err[0] != '\0');

        /* only a bad regex or no memory may keep a rule out */
        FUZZ_ASSERT(run->pool.failed
                    || (rule->kind == CONSENT_RULE_REGEX && fr->re == NULL));

        if (fr->re) {
            pcre2_code_free(fr->re);
        }

        return;
    }

    FUZZ_ASSERT(rule->kind != CONSENT_RULE_REGEX || fr->re != NULL);

    fr->rule = *rule;
    run->nregex += (rule->kind == CONSENT_RULE_REGEX);
    run->n++;

    FUZZ_ASSERT(consent_ruleset_count(run->rs) == run->n);
}


/* "@vendor", a blank and more, after any blanks */
static int
fuzz_is_vendor_line(const fuzz_str_t *line)
{
    fuzz_str_t  t;

    t = *line;

    while (t.len && (t.p[0] == ' ' || t.p[0] == '\t' || t.p[0] == '\r')) {
        t.p++;
        t.len--;
    }

    return t.len > 8 && memcmp(t.p, "@vendor", 7) == 0
           && (t.p[7] == ' ' || t.p[7] == '\t' || t.p[7] == '\r');
}


/* line i: a blank line or a comment, an error, a vendor line or a rule */
static void
fuzz_add_line(fuzz_run_t *run, size_t i)
{
    int                rc;
    consent_err_t      perr;
    consent_rule_t     rule;
    const fuzz_str_t  *line;

    line = &run->lines[i];

    memcpy(&rule, &run->sentinel, sizeof(consent_rule_t));
    memcpy(&perr, &run->perr_sentinel, sizeof(consent_err_t));

    rc = consent_rule_parse(line->p, line->len, &run->ps, &rule, &perr);

    FUZZ_ASSERT(rc >= -1 && rc <= CONSENT_LINE_VENDOR);

    if (rc >= 0) {
        /* err is for failures only */
        FUZZ_ASSERT(memcmp(&perr, &run->perr_sentinel, sizeof(perr)) == 0);
    }

    FUZZ_ASSERT(fuzz_is_vendor_line(line) == (rc == CONSENT_LINE_VENDOR));

    if (rc == CONSENT_LINE_BLANK) {
        /* a blank line or a comment leaves the rule alone */
        FUZZ_ASSERT(memcmp(&rule, &run->sentinel, sizeof(rule)) == 0);
        return;
    }

    if (rc < 0) {
        fuzz_check_error(line, &run->ps, &perr);
        return;
    }

    if (rc == CONSENT_LINE_VENDOR) {
        fuzz_add_vendor(run, line, &perr);
        return;
    }

    fuzz_check_parsed(line, &run->ps, &rule);
    fuzz_add_rule(run, &rule, i);
}


static void
fuzz_add_lines(fuzz_run_t *run)
{
    size_t  i;

    memset(&run->sentinel, 0x5a, sizeof(consent_rule_t));
    memset(&run->perr_sentinel, 0x5a, sizeof(consent_err_t));

    for (i = 0; i < run->in.nlines && run->n < FUZZ_MAX_RULES; i++) {
        fuzz_add_line(run, i);
    }
}


/* the set's vendors after all the lines */
static void
fuzz_check_vendors(fuzz_run_t *run)
{
    size_t                vlen;
    unsigned              j, v;
    consent_ruleset_t    *rs;
    const unsigned char  *vname;

    rs = run->rs;

    /*
     * A vendor stays known when its rule then ran out of memory; a vendor
     * line may name one that has no rule.
     */
    FUZZ_ASSERT(run->pool.failed
                || consent_ruleset_vendors(rs) <= run->n + run->nvset);

    for (j = 0; j < run->n; j++) {
        FUZZ_ASSERT(consent_ruleset_vendor_find(rs, run->rules[j].rule.vendor,
                                                run->rules[j].rule.vendor_len)
                    >= 0);
    }

    /* each vendor's metadata is that of the last line that set it */
    for (v = 0; v < consent_ruleset_vendors(rs); v++) {
        vname = consent_ruleset_vendor(rs, v, &vlen);
        FUZZ_ASSERT(vname != NULL);

        for (j = run->nvmeta; j > 0; j--) {
            if (run->vmeta[j - 1].id.len == vlen
                && memcmp(run->vmeta[j - 1].id.data, vname, vlen) == 0)
            {
                break;
            }
        }

        if (j == 0) {
            FUZZ_ASSERT(consent_ruleset_vendor_meta(rs, v) == NULL);

        } else {
            fuzz_check_vendor_meta(rs, &run->vmeta[j - 1]);
        }
    }

    FUZZ_ASSERT(consent_ruleset_vendor_meta(rs, consent_ruleset_vendors(rs))
                == NULL);
}


/* 0, or -1 when the set did not compile (and names nothing) */
static int
fuzz_compile(fuzz_run_t *run)
{
    int   rc;
    char  err[256];

    err[0] = '\0';
    rc = consent_ruleset_compile(run->rs, err, sizeof(err));

    if (rc != 0) {
        FUZZ_ASSERT(rc == -1 && err[0] != '\0');

        /* an uncompiled set names nothing */
        FUZZ_ASSERT(consent_ruleset_match(run->rs,
                                          (const unsigned char *) "_ga", 3)
                    == NULL);

        /*
         * No memory, or regexes that compile alone but not together
         * (duplicate group names, for one).
         */
        FUZZ_ASSERT(run->pool.failed || run->nregex > 0);
        return -1;
    }

    /* compiling again is a no-op */
    FUZZ_ASSERT(consent_ruleset_compile(run->rs, err, sizeof(err)) == 0);

    return 0;
}


/* ask */

/* each host's scope and Set-Cookie Domain rule; which are in some scope */
static void
fuzz_check_hosts(fuzz_run_t *run)
{
    unsigned  h;

    run->nscoped = 0;

    for (h = 0; h < run->nhosts; h++) {
        fuzz_check_host(run->rs, run->rules, run->n, &run->hosts[h],
                        &run->scopes[h], &run->mscopes[h]);

        if (run->scopes[h].n) {
            run->scoped[run->nscoped++] = h;
        }
    }
}


/* twice: the second round is answered from the set's memo of names */
static void
fuzz_ask_global(fuzz_run_t *run)
{
    size_t  i, k;

    for (i = 0; i < run->nnames; i++) {
        run->gwant[i] = fuzz_expect_global(run->rules, run->n, run->md,
                                           run->mctx, run->names[i].p,
                                           run->names[i].len);
    }

    for (k = 0; k < 2 * run->nnames; k++) {
        i = k % run->nnames;
        fuzz_check_match(run->rs, run->rules, run->n, NULL, run->gwant[i],
                         run->names[i].p, run->names[i].len, run->oom);
    }
}


/*
 * In the scopes of a few hosts, most of them in some scope.  Where no
 * exact or prefix rule names it, the set may run its regexes on every
 * ask (the memo is for short names): fewer of those.
 */
static void
fuzz_ask_scoped(fuzz_run_t *run)
{
    size_t              i, k;
    unsigned            h, nasks, nslow;
    const fuzz_str_t   *name;
    const fuzz_rule_t  *global;

    nasks = 0;
    nslow = 0;

    for (i = 0; i < run->nnames && nasks < FUZZ_MAX_SCOPED; i++) {
        name = &run->names[i];
        global = run->gwant[i];

        if (run->nregex
            && (global == NULL || global == FUZZ_UNKNOWN
                || global->rule.kind == CONSENT_RULE_REGEX))
        {
            if (nslow + FUZZ_HOSTS_PER_NAME + 1 > FUZZ_MAX_SCOPED_RE) {
                continue;
            }

            nslow += FUZZ_HOSTS_PER_NAME + 1;
        }

        for (k = 0; k <= FUZZ_HOSTS_PER_NAME; k++) {
            if (k == 0) {
                h = (unsigned) (i % run->nhosts);

            } else if (k <= run->nscoped) {
                h = run->scoped[(i * FUZZ_HOSTS_PER_NAME + k)
                                % run->nscoped];

            } else {
                break;
            }

            fuzz_check_match(run->rs, run->rules, run->n, &run->scopes[h],
                             fuzz_expect_in(run->rules, run->n,
                                            &run->mscopes[h], global,
                                            name->p, name->len),
                             name->p, name->len, run->oom);
            nasks++;
        }
    }
}


/*
 * An exact rule, once added, always names its cookie: everywhere, or
 * on its own domain when it is domain-only.
 */
static void
fuzz_check_exact(fuzz_run_t *run)
{
    unsigned               j;
    consent_scope_t       *scope;
    const consent_rule_t  *r, *got;

    /* the first host's scope is done with */
    scope = &run->scopes[0];

    for (j = 0; j < run->n; j++) {
        r = &run->rules[j].rule;

        if (r->kind != CONSENT_RULE_EXACT) {
            continue;
        }

        if (!(r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
            FUZZ_ASSERT(consent_ruleset_match(run->rs, r->pattern,
                                              r->pattern_len)
                        != NULL);
            continue;
        }

        consent_ruleset_scope(run->rs, r->domain, r->domain_len, scope);
        FUZZ_ASSERT(scope->n > 0);

        got = consent_ruleset_match_in(run->rs, scope, r->pattern,
                                       r->pattern_len);
        FUZZ_ASSERT(got != NULL && (got->flags & CONSENT_RULE_DOMAIN_ONLY));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_run_t  run;

    fuzz_run_init(&run, data, size);

    run.rs = consent_ruleset_create(&run.a);

    if (run.rs == NULL) {
        FUZZ_ASSERT(run.pool.failed);
        goto done;
    }

    fuzz_add_lines(&run);
    fuzz_check_vendors(&run);

    if (fuzz_compile(&run) != 0) {
        goto done;
    }

    /* names, then hosts: they share the arena */
    run.nnames = fuzz_names(&run.in, run.rules, run.n, &run.arena,
                            run.names);
    run.nhosts = fuzz_hosts(&run.in, run.rules, run.n, &run.arena,
                            run.hosts);

    fuzz_check_hosts(&run);
    fuzz_ask_global(&run);
    fuzz_ask_scoped(&run);
    fuzz_check_exact(&run);

done:

    fuzz_run_free(&run);

    return 0;
}
