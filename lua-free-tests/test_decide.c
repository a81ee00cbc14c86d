/*
 * Copyright (C) ngx_consent_module authors
 *
 * The decision's precedence as a table: record > cookie > a trusted TC
 * string > regime default, the fail policy, the re-consent floor, GPC and
 * the US opt-outs on top.
 */

#include "test.h"
#include "decide.h"


/* token: 0 none, else its purposes; version 0 means "not under the floor" */
typedef struct {
    const char      *what;
    consent_mask_t   regime;
    unsigned         gpc;
    unsigned         fail_open;
    uint32_t         floor;
    consent_mask_t   token;          /* 0: no token */
    uint32_t         token_v;
    unsigned         record;
    consent_mask_t   record_p;
    uint32_t         record_v;
    consent_mask_t   want;
    unsigned         source;
    unsigned         recorded;
    unsigned         stale;
    uint32_t         want_v;
} decide_case_t;

/* a case with the IAB inputs: a trusted TC string's purposes, opt-outs */
typedef struct {
    decide_case_t    c;
    unsigned         iab;
    consent_mask_t   iab_p;
    unsigned         us_opt_out;
} decide_iab_case_t;


static void
decide_run(const decide_case_t *c, unsigned iab, consent_mask_t iab_p,
    unsigned us_opt_out)
{
    consent_decide_in_t  in;
    consent_decision_t   out;

    memset(&in, 0, sizeof(in));
    in.all = ALL;
    in.regime = c->regime;
    in.gpc = c->gpc;
    in.honour_gpc = 1;
    in.fail_open = c->fail_open;
    in.reconsent_below = c->floor;
    in.has_token = c->token != 0;
    in.token_purposes = c->token;
    in.token_version = c->token_v;
    in.record = c->record;
    in.record_source = CONSENT_SRC_REDIS;
    in.record_purposes = c->record_p;
    in.record_version = c->record_v;
    in.iab = iab;
    in.iab_purposes = iab_p;
    in.us_opt_out = us_opt_out;

    consent_decide(&in, &out);

    if (out.purposes != c->want || out.source != c->source
        || out.recorded != c->recorded || out.stale != c->stale
        || out.policy_version != c->want_v)
    {
        test_failed++;
        fprintf(stderr, "FAIL decide \"%s\": purposes 0x%x source %s "
                "recorded %u stale %u v %u\n", c->what,
                (unsigned) out.purposes, consent_source_name(out.source),
                out.recorded, out.stale, (unsigned) out.policy_version);

    } else {
        test_passed++;
    }
}


void
test_decide(void)
{
    size_t               i;
    consent_decide_in_t  in;
    consent_decision_t   out;

    static const decide_case_t  cases[] = {
        { "opt_in default", N, 0, 0, 0, 0, 0, CONSENT_RECORD_NONE, 0, 0,
          N, CONSENT_SRC_DEFAULT, 0, 0, 0 },
        { "opt_out default", ALL, 0, 0, 0, 0, 0, CONSENT_RECORD_NONE, 0, 0,
          ALL, CONSENT_SRC_DEFAULT, 0, 0, 0 },
        { "opt_out + GPC", ALL, 1, 0, 0, 0, 0, CONSENT_RECORD_NONE, 0, 0,
          N | F | A | P, CONSENT_SRC_DEFAULT, 0, 0, 0 },
        { "cookie", N, 0, 0, 0, N | A, 3, CONSENT_RECORD_NONE, 0, 0,
          N | A, CONSENT_SRC_COOKIE, 1, 0, 3 },
        { "cookie + GPC", N, 1, 0, 0, N | A | D, 3, CONSENT_RECORD_NONE, 0,
          0, N | A, CONSENT_SRC_COOKIE, 1, 0, 3 },
        { "cookie under the floor", ALL, 0, 0, 2, N | A, 1,
          CONSENT_RECORD_NONE, 0, 0, ALL, CONSENT_SRC_DEFAULT, 0, 1, 1 },
        { "record beats cookie", N, 0, 0, 0, N | A, 3, CONSENT_RECORD_FOUND,
          N | D, 4, N | D, CONSENT_SRC_REDIS, 1, 0, 4 },
        { "record under the floor", ALL, 0, 0, 5, N | A, 6,
          CONSENT_RECORD_FOUND, N, 4, ALL, CONSENT_SRC_DEFAULT, 0, 1, 4 },
        { "no record: cookie stands", N, 0, 0, 0, N | A, 3,
          CONSENT_RECORD_ABSENT, 0, 0, N | A, CONSENT_SRC_COOKIE, 1, 0, 3 },
        { "no record, no cookie: default", ALL, 0, 0, 0, 0, 0,
          CONSENT_RECORD_ABSENT, 0, 0, ALL, CONSENT_SRC_DEFAULT, 0, 0, 0 },
        { "Redis down, cookie", N, 0, 0, 0, N | A, 3, CONSENT_RECORD_FAILED,
          0, 0, N | A, CONSENT_SRC_COOKIE, 1, 0, 3 },
        { "Redis down, closed", ALL, 0, 0, 0, 0, 0, CONSENT_RECORD_FAILED,
          0, 0, N, CONSENT_SRC_FAIL, 0, 0, 0 },
        { "Redis down, open", ALL, 0, 1, 0, 0, 0, CONSENT_RECORD_FAILED, 0,
          0, ALL, CONSENT_SRC_FAIL, 0, 0, 0 },
        { "Redis down, open + GPC", ALL, 1, 1, 0, 0, 0,
          CONSENT_RECORD_FAILED, 0, 0, N | F | A | P, CONSENT_SRC_FAIL, 0, 0,
          0 },
        { "Redis down, stale cookie, closed", ALL, 0, 0, 2, N | A, 1,
          CONSENT_RECORD_FAILED, 0, 0, N, CONSENT_SRC_FAIL, 0, 1, 1 },
        { "unknown bits dropped", N, 0, 0, 0, 0xffffffff, 1,
          CONSENT_RECORD_NONE, 0, 0, ALL, CONSENT_SRC_COOKIE, 1, 0, 1 },
        { "record without necessary", N, 0, 0, 0, 0, 0, CONSENT_RECORD_FOUND,
          A, 1, N | A, CONSENT_SRC_REDIS, 1, 0, 1 },
    };

    /* a TC string decides only where nothing recorded stands */
    static const decide_iab_case_t  iab_cases[] = {
        { { "IAB over default", ALL, 0, 0, 0, 0, 0, CONSENT_RECORD_NONE, 0,
            0, N | A, CONSENT_SRC_IAB, 0, 0, 0 }, 1, N | A, 0 },
        { { "IAB, no record, no cookie", N, 0, 0, 0, 0, 0,
            CONSENT_RECORD_ABSENT, 0, 0, N | A | D, CONSENT_SRC_IAB, 0, 0,
            0 }, 1, N | A | D, 0 },
        { { "IAB off: its purposes unused", ALL, 0, 0, 0, 0, 0,
            CONSENT_RECORD_NONE, 0, 0, ALL, CONSENT_SRC_DEFAULT, 0, 0, 0 },
          0, N, 0 },
        { { "Redis down, no cookie, closed: IAB", ALL, 0, 0, 0, 0, 0,
            CONSENT_RECORD_FAILED, 0, 0, N | A | D, CONSENT_SRC_IAB, 0, 0,
            0 }, 1, N | A | D, 0 },
        { { "Redis down, no cookie, open: IAB", ALL, 0, 1, 0, 0, 0,
            CONSENT_RECORD_FAILED, 0, 0, N | P, CONSENT_SRC_IAB, 0, 0, 0 },
          1, N | P, 0 },
        { { "record stands over IAB", N, 0, 0, 0, 0, 0,
            CONSENT_RECORD_FOUND, N | D, 4, N | D, CONSENT_SRC_REDIS, 1, 0,
            4 }, 1, N | A, 0 },
        { { "cookie stands over IAB", ALL, 0, 0, 0, N | A, 3,
            CONSENT_RECORD_NONE, 0, 0, N | A, CONSENT_SRC_COOKIE, 1, 0, 3 },
          1, ALL, 0 },
        { { "no record, cookie stands over IAB", ALL, 0, 0, 0, N | A, 3,
            CONSENT_RECORD_ABSENT, 0, 0, N | A, CONSENT_SRC_COOKIE, 1, 0,
            3 }, 1, ALL, 0 },
        { { "Redis down, cookie stands over IAB", ALL, 0, 0, 0, N | A, 3,
            CONSENT_RECORD_FAILED, 0, 0, N | A, CONSENT_SRC_COOKIE, 1, 0,
            3 }, 1, ALL, 0 },
        { { "stale cookie: IAB", ALL, 0, 0, 2, N | A, 1, CONSENT_RECORD_NONE,
            0, 0, N | D, CONSENT_SRC_IAB, 0, 1, 1 }, 1, N | D, 0 },
        { { "Redis down, stale cookie: IAB", ALL, 0, 0, 2, N | A, 1,
            CONSENT_RECORD_FAILED, 0, 0, N | D, CONSENT_SRC_IAB, 0, 1, 1 },
          1, N | D, 0 },
        { { "stale record: IAB", ALL, 0, 0, 5, N | A, 6,
            CONSENT_RECORD_FOUND, N | F, 4, N | P, CONSENT_SRC_IAB, 0, 1,
            4 }, 1, N | P, 0 },
        { { "IAB: unknown bits dropped", N, 0, 0, 0, 0, 0,
            CONSENT_RECORD_NONE, 0, 0, ALL, CONSENT_SRC_IAB, 0, 0, 0 },
          1, 0xffffffff, 0 },
        { { "IAB without necessary", N, 0, 0, 0, 0, 0, CONSENT_RECORD_NONE,
            0, 0, N | A, CONSENT_SRC_IAB, 0, 0, 0 }, 1, A, 0 },
        { { "IAB granting nothing", ALL, 0, 0, 0, 0, 0, CONSENT_RECORD_NONE,
            0, 0, N, CONSENT_SRC_IAB, 0, 0, 0 }, 1, 0, 0 },
        { { "IAB + GPC", N, 1, 0, 0, 0, 0, CONSENT_RECORD_NONE, 0, 0,
            N | A, CONSENT_SRC_IAB, 0, 0, 0 }, 1, N | A | D | S, 0 },

        /* a US opt-out: advertising and sharing off, whoever decided */
        { { "US opt-out, default", ALL, 0, 0, 0, 0, 0, CONSENT_RECORD_NONE,
            0, 0, N | F | A | P, CONSENT_SRC_DEFAULT, 0, 0, 0 }, 0, 0, 1 },
        { { "US opt-out, IAB", N, 0, 0, 0, 0, 0, CONSENT_RECORD_NONE, 0, 0,
            N | A, CONSENT_SRC_IAB, 0, 0, 0 }, 1, N | A | D | S, 1 },
        { { "US opt-out, record", N, 0, 0, 0, 0, 0, CONSENT_RECORD_FOUND,
            ALL, 4, N | F | A | P, CONSENT_SRC_REDIS, 1, 0, 4 }, 1, ALL,
          1 },
        { { "US opt-out, cookie", N, 0, 0, 0, ALL, 3, CONSENT_RECORD_NONE,
            0, 0, N | F | A | P, CONSENT_SRC_COOKIE, 1, 0, 3 }, 0, 0, 1 },
        { { "US opt-out, Redis down, open", ALL, 0, 1, 0, 0, 0,
            CONSENT_RECORD_FAILED, 0, 0, N | F | A | P, CONSENT_SRC_FAIL, 0,
            0, 0 }, 0, 0, 1 },
        { { "US opt-out, Redis down, closed", ALL, 0, 0, 0, 0, 0,
            CONSENT_RECORD_FAILED, 0, 0, N, CONSENT_SRC_FAIL, 0, 0, 0 },
          0, 0, 1 },
        { { "US opt-out + GPC", ALL, 1, 0, 0, 0, 0, CONSENT_RECORD_NONE, 0,
            0, N | F | A | P, CONSENT_SRC_DEFAULT, 0, 0, 0 }, 0, 0, 1 },
        { { "US opt-out, nothing to take", N | A, 0, 0, 0, 0, 0,
            CONSENT_RECORD_NONE, 0, 0, N | A, CONSENT_SRC_DEFAULT, 0, 0, 0 },
          0, 0, 1 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        decide_run(&cases[i], 0, 0, 0);
    }

    for (i = 0; i < sizeof(iab_cases) / sizeof(iab_cases[0]); i++) {
        decide_run(&iab_cases[i].c, iab_cases[i].iab, iab_cases[i].iab_p,
                   iab_cases[i].us_opt_out);
    }

    /* GPC not honoured */
    memset(&in, 0, sizeof(in));
    in.all = ALL;
    in.regime = ALL;
    in.gpc = 1;
    consent_decide(&in, &out);
    CHECK_INT(out.purposes, ALL);

    /* a US opt-out is not GPC: honoured whatever honour_gpc says */
    in.us_opt_out = 1;
    consent_decide(&in, &out);
    CHECK_INT(out.purposes, N | F | A | P);
    in.gpc = 0;
    consent_decide(&in, &out);
    CHECK_INT(out.purposes, N | F | A | P);
    CHECK_INT(out.source, CONSENT_SRC_DEFAULT);

    CHECK(strcmp(consent_source_name(CONSENT_SRC_IAB), "iab") == 0);

    CHECK(strcmp(consent_source_name(CONSENT_SRC_CACHE), "cache") == 0);
    CHECK(strcmp(consent_source_name(99), "") == 0);
}
