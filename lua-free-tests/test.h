/*
 * Copyright (C) ngx_consent_module authors
 *
 * A minimal unit-test harness: no framework is packaged for this in
 * Debian's base set, and the core needs only counted checks that name the
 * failing line.
 */

#ifndef _CONSENT_TEST_H_INCLUDED_
#define _CONSENT_TEST_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "rules.h"


extern unsigned  test_passed;
extern unsigned  test_failed;


#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            test_passed++;                                                   \
        } else {                                                             \
            test_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                    \
    } while (0)

#define CHECK_INT(got, want)                                                 \
    do {                                                                     \
        long long  g_ = (long long) (got), w_ = (long long) (want);          \
        if (g_ == w_) {                                                      \
            test_passed++;                                                   \
        } else {                                                             \
            test_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s == %lld, want %lld\n",           \
                    __FILE__, __LINE__, #got, g_, w_);                       \
        }                                                                    \
    } while (0)

#define CHECK_STR(got, want)                                                 \
    do {                                                                     \
        const char  *g_ = (got);                                             \
        CHECK_MEM(g_, strlen(g_), want);                                     \
    } while (0)

#define CHECK_MEM(got, got_len, want)                                        \
    do {                                                                     \
        size_t  wl_ = strlen(want);                                          \
        if ((size_t) (got_len) == wl_                                        \
            && memcmp((got), (want), wl_) == 0)                              \
        {                                                                    \
            test_passed++;                                                   \
        } else {                                                             \
            test_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s == \"%.*s\", want \"%s\"\n",     \
                    __FILE__, __LINE__, #got, (int) (got_len),               \
                    (const char *) (got), want);                             \
        }                                                                    \
    } while (0)

#define U(s)  ((const unsigned char *) (s))

/*
 * The module's purposes as mask bits, for tables of what is granted.
 * Short names: a system header that uses them (OpenSSL's) goes before
 * this one.
 */
#define N    CONSENT_BIT(CONSENT_P_NECESSARY)
#define F    CONSENT_BIT(CONSENT_P_FUNCTIONAL)
#define A    CONSENT_BIT(CONSENT_P_ANALYTICS)
#define D    CONSENT_BIT(CONSENT_P_ADVERTISING)
#define P    CONSENT_BIT(CONSENT_P_PERSONALIZATION)
#define S    CONSENT_BIT(CONSENT_P_SHARING)
#define ALL  (N | F | A | D | P | S)


/* malloc-backed allocator whose blocks test_alloc_reset() frees */
extern consent_alloc_t  test_alloc;
void test_alloc_reset(void);

/*
 * test_alloc for test_alloc_budget more blocks, then NULL for every one
 * after: set the budget, then walk the out-of-memory paths one by one
 */
extern consent_alloc_t  test_alloc_limited;
extern unsigned         test_alloc_budget;

/* a keys file of two keys, k2 (which signs) and k1 */
extern const char  test_keys_text[];

/* a consent API body (JSON, or a form) with test_choice.c's purposes */
int test_choice_body(int as_form, const char *s,
    const consent_ruleset_t *rules, consent_choice_t *ch);

/*
 * A compiled rule set (test_alloc) from rules, "@vendor" and blank lines:
 * NULL on error, with the message in err, or for test_ruleset() on stderr
 */
consent_ruleset_t *test_ruleset_err(consent_purposes_t *ps,
    const char *const *lines, char *err, size_t errlen);
consent_ruleset_t *test_ruleset(consent_purposes_t *ps,
    const char *const *lines);

void test_cookie(void);
void test_rules(void);
void test_b64(void);
void test_id(void);
void test_secret(void);
void test_keys(void);
void test_token(void);
void test_purposes(void);
void test_regions(void);
void test_choice(void);
void test_psl(void);
void test_punycode(void);
void test_expiry(void);
void test_permissions_policy(void);
void test_strip(void);
void test_decide(void);
void test_record(void);
void test_csv(void);
void test_ocd(void);
void test_bits(void);
void test_tcf(void);
void test_usp(void);
void test_gpp(void);
void test_iab(void);
void test_csp(void);
void test_vendor_set(void);
void test_provision(void);


#endif /* _CONSENT_TEST_H_INCLUDED_ */
