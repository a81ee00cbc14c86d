/*
 * Copyright (C) ngx_consent_module authors
 */

#include "test.h"


unsigned  test_passed;
unsigned  test_failed;


typedef union test_block_s  test_block_t;

/* a union so that what follows the header stays suitably aligned */
union test_block_s {
    test_block_t  *next;
    long double    align;
};


static test_block_t  *test_blocks;


static void *
test_malloc(void *data, size_t size)
{
    test_block_t  *b;

    (void) data;

    /* calloc: pools in the module hand out memory the core may not clear */
    b = calloc(1, sizeof(test_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = test_blocks;
    test_blocks = b;

    return b + 1;
}


consent_alloc_t  test_alloc = { test_malloc, NULL };


unsigned  test_alloc_budget;


static void *
test_malloc_limited(void *data, size_t size)
{
    if (test_alloc_budget == 0) {
        return NULL;
    }

    test_alloc_budget--;

    return test_malloc(data, size);
}


consent_alloc_t  test_alloc_limited = { test_malloc_limited, NULL };


void
test_alloc_reset(void)
{
    test_block_t  *b, *next;

    for (b = test_blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    test_blocks = NULL;
}



/* a compiled set from rule lines; NULL and a message on error */
consent_ruleset_t *
test_ruleset_err(consent_purposes_t *ps, const char *const *lines,
    char *err, size_t errlen)
{
    consent_ruleset_t  *rs;

    rs = consent_ruleset_create(&test_alloc);
    if (rs == NULL) {
        snprintf(err, errlen, "create failed");
        return NULL;
    }

    for ( /* void */ ; *lines; lines++) {
        if (consent_ruleset_add_line(rs, ps, U(*lines), strlen(*lines), 0,
                                     err, errlen)
            != 0)
        {
            return NULL;
        }
    }

    if (consent_ruleset_compile(rs, err, errlen) != 0) {
        return NULL;
    }

    return rs;
}


/* the same, the message on stderr */
consent_ruleset_t *
test_ruleset(consent_purposes_t *ps, const char *const *lines)
{
    char                err[256];
    consent_ruleset_t  *rs;

    rs = test_ruleset_err(ps, lines, err, sizeof(err));
    if (rs == NULL) {
        fprintf(stderr, "test rule set: %s\n", err);
    }

    return rs;
}


int
main(int argc, char **argv)
{
    static const struct {
        const char  *name;
        void       (*run)(void);
    } tests[] = {
        { "purposes", test_purposes },
        { "regions", test_regions },
        { "cookie", test_cookie },
        { "rules", test_rules },
        { "b64", test_b64 },
        { "id", test_id },
        { "secret", test_secret },
        { "keys", test_keys },
        { "token", test_token },
        { "choice", test_choice },
        { "psl", test_psl },
        { "punycode", test_punycode },
        { "expiry", test_expiry },
        { "pp", test_permissions_policy },
        { "strip", test_strip },
        { "decide", test_decide },
        { "record", test_record },
        { "csv", test_csv },
        { "ocd", test_ocd },
        { "bits", test_bits },
        { "tcf", test_tcf },
        { "usp", test_usp },
        { "gpp", test_gpp },
        { "iab", test_iab },
        { "csp", test_csp },
        { "vendorset", test_vendor_set },
        { "provision", test_provision },
    };

    int       i, j;
    unsigned  before;

    for (i = 0; i < (int) (sizeof(tests) / sizeof(tests[0])); i++) {

        if (argc > 1) {
            for (j = 1; j < argc; j++) {
                if (strcmp(argv[j], tests[i].name) == 0) {
                    break;
                }
            }

            if (j == argc) {
                continue;
            }
        }

        before = test_failed;
        tests[i].run();
        test_alloc_reset();

        printf("%-10s %s\n", tests[i].name,
               test_failed == before ? "ok" : "FAILED");
    }

    printf("%u passed, %u failed\n", test_passed, test_failed);

    return test_failed ? 1 : 0;
}
