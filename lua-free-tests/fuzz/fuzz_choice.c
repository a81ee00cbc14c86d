/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the consent API's request bodies.
 *
 * The input goes to the JSON reader and to the form reader.  Either
 * accepts it with necessary in the mask and purposes present, or refuses
 * it with a field and a message that are safe to put in a JSON answer.
 * An accepted JSON body must be accepted again with whitespace around it,
 * with the same answer.  The escaper's output must be valid inside a JSON
 * string: no control byte, no byte above 0x7e, every backslash an escape.
 */

#include "consent_core.h"
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
    consent_purposes_t  ps;

    if (size > CONSENT_CHOICE_BODY_MAX) {
        return 0;
    }

    consent_purposes_init(&ps);
    (void) consent_purposes_add(&ps, (const unsigned char *) "research", 8);

    copy = fuzz_copy(data, size);

    rc = consent_choice_json(copy, size, &ps, &ch);

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

        FUZZ_ASSERT(consent_choice_json(padded, size + 2, &ps, &again) == 0);
        FUZZ_ASSERT(again.purposes == ch.purposes);
        FUZZ_ASSERT(again.has_version == ch.has_version);
        FUZZ_ASSERT(again.policy_version == ch.policy_version);

        free(padded);

    } else {
        FUZZ_ASSERT(rc == -1);
        fuzz_check_error(&ch);
    }

    rc = consent_choice_form(copy, size, &ps, &ch);

    if (rc == 0) {
        FUZZ_ASSERT(ch.has_purposes);
        FUZZ_ASSERT(ch.purposes & CONSENT_BIT(CONSENT_P_NECESSARY));
        FUZZ_ASSERT((ch.purposes & ~consent_purposes_all(&ps)) == 0);

    } else {
        FUZZ_ASSERT(rc == -1);
        fuzz_check_error(&ch);
    }

    fuzz_check_escape(copy, size);

    free(copy);

    return 0;
}
