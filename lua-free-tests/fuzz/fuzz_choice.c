/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the consent API's request bodies.
 *
 * The input goes to the JSON reader and to the form reader.  Either
 * accepts it with necessary in the mask and purposes present, or refuses
 * it with a field and a message that are safe to put in a JSON answer.
 * Refused vendors are vendors of the rules, each once.
 * An accepted JSON body must be accepted again with whitespace around it,
 * with the same answer.  The escaper's output must be valid inside a JSON
 * string: no control byte, no byte above 0x7e, every backslash an escape.
 */

#include "consent_core.h"
#include "rules.h"
#include "fuzz.h"


static void
fuzz_check_error(const consent_choice_t *ch)
{
    const char  *p;

    FUZZ_ASSERT(ch->field != NULL);
    FUZZ_ASSERT(ch->error[0] != '\0');
    FUZZ_ASSERT(strlen(ch->error) < sizeof(ch->error));

    for (p = ch->error; *p; p++) {
        FUZZ_ASSERT((unsigned char) *p >= 0x20 && (unsigned char) *p < 0x7f);
        FUZZ_ASSERT(*p != '\\');
    }
}


/* a few vendors; the fuzzer finds their names in the dictionary-less way */
static const char *const  fuzz_vendor_lines[] = {
    "@vendor criteo purposes=advertising",
    "@vendor ga purposes=analytics",
    "@vendor a purposes=research",
    "@vendor b.c-d_e",
};

static consent_ruleset_t  *fuzz_rs;


static void *
fuzz_rules_alloc(void *data, size_t size)
{
    return malloc(size);
}


static consent_ruleset_t *
fuzz_rules(const consent_purposes_t *ps)
{
    size_t                  i;
    char                    err[128];
    consent_err_t           e;
    consent_vendor_meta_t   meta;
    static consent_alloc_t  a = { fuzz_rules_alloc, NULL };

    if (fuzz_rs) {
        return fuzz_rs;
    }

    /* kept for the process: built once */
    fuzz_rs = consent_ruleset_create(&a);
    if (fuzz_rs == NULL) {
        abort();
    }

    for (i = 0; i < sizeof(fuzz_vendor_lines) / sizeof(char *); i++) {
        if (consent_vendor_parse((const unsigned char *) fuzz_vendor_lines[i],
                                 strlen(fuzz_vendor_lines[i]), ps, &meta, &e)
            != 1
            || consent_ruleset_vendor_set(fuzz_rs, &meta, err, sizeof(err))
               != 0)
        {
            abort();
        }
    }

    if (consent_ruleset_compile(fuzz_rs, err, sizeof(err)) != 0) {
        abort();
    }

    return fuzz_rs;
}


static void
fuzz_check_vendors(const consent_choice_t *ch)
{
    unsigned  i, j;

    FUZZ_ASSERT(ch->nvendors <= consent_ruleset_vendors(fuzz_rs));
    FUZZ_ASSERT(ch->has_vendors || ch->nvendors == 0);

    for (i = 0; i < ch->nvendors; i++) {
        FUZZ_ASSERT(ch->vendors[i] < consent_ruleset_vendors(fuzz_rs));

        for (j = 0; j < i; j++) {
            FUZZ_ASSERT(ch->vendors[j] != ch->vendors[i]);
        }
    }
}


static void
fuzz_check_escape(const unsigned char *in, size_t len)
{
    size_t          n, i;
    unsigned char  *out;

    n = consent_json_escape(in, len, NULL, 0);
    FUZZ_ASSERT(n >= len && n <= len * 6);

    out = malloc(n ? n : 1);
    if (out == NULL) {
        abort();
    }

    FUZZ_ASSERT(consent_json_escape(in, len, out, n) == n);

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(out[i] >= 0x20 && out[i] < 0x7f);

        if (out[i] == '"') {
            FUZZ_ASSERT(i > 0 && out[i - 1] == '\\');
        }

        if (out[i] == '\\') {
            FUZZ_ASSERT(i + 1 < n);
            FUZZ_ASSERT(out[i + 1] == '"' || out[i + 1] == '\\'
                        || out[i + 1] == 'u');
            i++;
        }
    }

    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    unsigned char      *copy, *padded;
    consent_choice_t    ch, again;
    consent_ruleset_t  *rs;
    consent_purposes_t  ps;

    if (size > CONSENT_CHOICE_BODY_MAX) {
        return 0;
    }

    consent_purposes_init(&ps);
    (void) consent_purposes_add(&ps, (const unsigned char *) "research", 8);

    rs = fuzz_rules(&ps);
    copy = fuzz_copy(data, size);

    rc = consent_choice_json(copy, size, &ps, rs, &ch);

    if (rc == 0) {
        FUZZ_ASSERT(ch.has_purposes);
        FUZZ_ASSERT(ch.purposes & CONSENT_BIT(CONSENT_P_NECESSARY));
        FUZZ_ASSERT((ch.purposes & ~consent_purposes_all(&ps)) == 0);

        padded = malloc(size + 2);
        if (padded == NULL) {
            abort();
        }

        padded[0] = ' ';
        memcpy(padded + 1, copy, size);
        padded[size + 1] = '\n';

        FUZZ_ASSERT(consent_choice_json(padded, size + 2, &ps, rs,
                                        &again) == 0);
        FUZZ_ASSERT(again.purposes == ch.purposes);
        FUZZ_ASSERT(again.has_version == ch.has_version);
        FUZZ_ASSERT(again.policy_version == ch.policy_version);
        FUZZ_ASSERT(again.nvendors == ch.nvendors);
        FUZZ_ASSERT(memcmp(again.vendors, ch.vendors,
                           ch.nvendors * sizeof(uint16_t)) == 0);
        fuzz_check_vendors(&ch);

        free(padded);

    } else {
        FUZZ_ASSERT(rc == -1);
        fuzz_check_error(&ch);
    }

    rc = consent_choice_form(copy, size, &ps, rs, &ch);

    if (rc == 0) {
        FUZZ_ASSERT(ch.has_purposes);
        FUZZ_ASSERT(ch.purposes & CONSENT_BIT(CONSENT_P_NECESSARY));
        FUZZ_ASSERT((ch.purposes & ~consent_purposes_all(&ps)) == 0);
        fuzz_check_vendors(&ch);

    } else {
        FUZZ_ASSERT(rc == -1);
        fuzz_check_error(&ch);
    }

    fuzz_check_escape(copy, size);

    free(copy);

    return 0;
}
