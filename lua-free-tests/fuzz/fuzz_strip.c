/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: which cookies of a Cookie header go.  The first input
 * byte is the granted purposes, the rest a Cookie header.  Every name an
 * origin may read lies inside the pair or is made in the scratch space
 * and is never longer than the segment; the output holds the kept pairs
 * in order; a pair is dropped exactly when strip_match says so, and the
 * consent cookie is never dropped.
 */

#include "strip.h"
#include "provision.h"
#include "fuzz.h"


static consent_ruleset_t  *fuzz_rs;
static consent_purposes_t  fuzz_ps;


/* the rules live for the process: every block stays reachable from here */
static void   **fuzz_blocks;
static size_t   fuzz_nblocks;


static void *
fuzz_alloc(void *data, size_t size)
{
    void  *p, **b;

    (void) data;

    b = realloc(fuzz_blocks, (fuzz_nblocks + 1) * sizeof(void *));
    p = calloc(1, size ? size : 1);
    FUZZ_ASSERT(b != NULL && p != NULL);

    fuzz_blocks = b;
    fuzz_blocks[fuzz_nblocks++] = p;

    return p;
}


static consent_alloc_t  fuzz_allocator = { fuzz_alloc, NULL };


static void
fuzz_init(void)
{
    size_t           i;
    char             err[256];
    consent_err_t    e;
    consent_rule_t   rule;

    static const char  *lines[] = {
        "_ga analytics google",
        "_ga_* analytics google",
        "_fbp advertising meta",
        "~_pk_(id|ses)\\..* analytics matomo",
        "a advertising x",
    };

    consent_purposes_init(&fuzz_ps);
    fuzz_rs = consent_ruleset_create(&fuzz_allocator);
    FUZZ_ASSERT(fuzz_rs != NULL);

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        FUZZ_ASSERT(consent_rule_parse((const unsigned char *) lines[i],
                                       strlen(lines[i]), &fuzz_ps, &rule, &e)
                    == 1);
        FUZZ_ASSERT(consent_ruleset_add(fuzz_rs, &rule, err, sizeof(err))
                    == 0);
    }

    FUZZ_ASSERT(consent_ruleset_compile(fuzz_rs, err, sizeof(err)) == 0);
}


typedef struct {
    const consent_cookie_t    *c;
    const unsigned char       *scratch;
    size_t                     scratch_len;
} fuzz_names_t;


static int
fuzz_name(void *data, const unsigned char *name, size_t len)
{
    fuzz_names_t  *fn = data;

    FUZZ_ASSERT(len > 0 && len <= fn->c->segment_len);
    FUZZ_ASSERT((name >= fn->c->segment
                 && name + len <= fn->c->segment + fn->c->segment_len)
                || (name >= fn->scratch
                    && name + len <= fn->scratch + fn->scratch_len));

    return 0;
}


static void
fuzz_provision(const unsigned char *p, size_t len)
{
    unsigned        nvendors, set, i, n, bits;
    uint16_t        ids[8];
    unsigned char  *vendors;

    nvendors = consent_ruleset_vendors(fuzz_rs);
    vendors = calloc(nvendors / 8 + 2, 1);
    FUZZ_ASSERT(vendors != NULL);

    n = 0;
    set = consent_provision_scan(fuzz_rs, NULL, NULL, NULL,
                                 (const unsigned char *) "consent", 7, p, len,
                                 vendors, ids, &n, 8);
    FUZZ_ASSERT(set == n && n <= 8);

    bits = 0;

    for (i = 0; i < (nvendors / 8 + 2) * 8; i++) {
        if ((vendors[i >> 3] >> (i & 7)) & 1) {
            FUZZ_ASSERT(i < nvendors);
            bits++;
        }
    }

    FUZZ_ASSERT(bits == set);

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(ids[i] < nvendors);
        FUZZ_ASSERT((vendors[ids[i] >> 3] >> (ids[i] & 7)) & 1);
    }

    free(vendors);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                 n, dropped, kept;
    unsigned char         *p, *out, *scratch;
    consent_strip_t        st;
    consent_cookie_t       c;
    fuzz_names_t           fn;
    consent_cookie_iter_t  it;

    if (fuzz_rs == NULL) {
        fuzz_init();
    }

    if (size < 1) {
        return 0;
    }

    p = fuzz_copy(data + 1, size - 1);
    size--;

    out = malloc(CONSENT_COOKIE_FILTER_SIZE(size) + 1);
    scratch = malloc(CONSENT_STRIP_SCRATCH(size));
    FUZZ_ASSERT(out != NULL && scratch != NULL);

    memset(&st, 0, sizeof(st));
    st.rules = fuzz_rs;
    st.granted = data[0] | CONSENT_BIT(CONSENT_P_NECESSARY);
    st.keep = (const unsigned char *) "consent";
    st.keep_len = 7;
    st.scratch = scratch;

    n = consent_strip_header(&st, p, size, out, &dropped);
    FUZZ_ASSERT(n <= CONSENT_COOKIE_FILTER_SIZE(size));

    /* each pair: its names in bounds, and kept exactly when not matched */
    kept = 0;
    consent_cookie_iter_init(&it, p, size);

    while (consent_cookie_next(&it, &c)) {
        fn.c = &c;
        fn.scratch = scratch;
        fn.scratch_len = CONSENT_STRIP_SCRATCH(size);

        (void) consent_cookie_origin_names(&c, scratch, fuzz_name, &fn);

        if (!c.has_ctl && consent_strip_match(&st, &c) == NULL) {
            kept++;
            FUZZ_ASSERT(memmem(out, n, c.pair, c.pair_len) != NULL);

        } else if (c.name_len == 7 && memcmp(c.name, "consent", 7) == 0) {
            FUZZ_ASSERT(c.has_ctl);
        }
    }

    FUZZ_ASSERT(kept > 0 || n == 0);

    /* the provision log reads what went on: bits within the vendors */
    fuzz_provision(out, n);

    free(scratch);
    free(out);
    free(p);

    return 0;
}
