/*
 * Copyright (C) ngx_consent_module authors
 *
 * The decision's precedence as a table: record > cookie > regime default,
 * the fail policy, the re-consent floor, GPC on top.
 */

#include "test.h"
#include "decide.h"


#define N   CONSENT_BIT(CONSENT_P_NECESSARY)
#define F   CONSENT_BIT(CONSENT_P_FUNCTIONAL)
#define A   CONSENT_BIT(CONSENT_P_ANALYTICS)
#define D   CONSENT_BIT(CONSENT_P_ADVERTISING)
#define P   CONSENT_BIT(CONSENT_P_PERSONALIZATION)
#define S   CONSENT_BIT(CONSENT_P_SHARING)
#define ALL (N | F | A | D | P | S)

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

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&in, 0, sizeof(in));
        in.all = ALL;
        in.regime = cases[i].regime;
        in.gpc = cases[i].gpc;
        in.honour_gpc = 1;
        in.fail_open = cases[i].fail_open;
        in.reconsent_below = cases[i].floor;
        in.has_token = cases[i].token != 0;
        in.token_purposes = cases[i].token;
        in.token_version = cases[i].token_v;
        in.record = cases[i].record;
        in.record_source = CONSENT_SRC_REDIS;
        in.record_purposes = cases[i].record_p;
        in.record_version = cases[i].record_v;

        consent_decide(&in, &out);

        if (out.purposes != cases[i].want || out.source != cases[i].source
            || out.recorded != cases[i].recorded
            || out.stale != cases[i].stale
            || out.policy_version != cases[i].want_v)
        {
            test_failed++;
            fprintf(stderr, "FAIL decide \"%s\": purposes 0x%x source %s "
                    "recorded %u stale %u v %u\n", cases[i].what,
                    (unsigned) out.purposes, consent_source_name(out.source),
                    out.recorded, out.stale, (unsigned) out.policy_version);

        } else {
            test_passed++;
        }
    }

    /* GPC not honoured */
    memset(&in, 0, sizeof(in));
    in.all = ALL;
    in.regime = ALL;
    in.gpc = 1;
    consent_decide(&in, &out);
    CHECK_INT(out.purposes, ALL);

    CHECK(strcmp(consent_source_name(CONSENT_SRC_CACHE), "cache") == 0);
    CHECK(strcmp(consent_source_name(99), "") == 0);
}
