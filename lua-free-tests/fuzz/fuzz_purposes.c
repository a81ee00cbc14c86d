/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: purpose sets.
 *
 * Every line but the last is offered to consent_purposes_add() after the
 * six standard purposes; the last line is a purpose list for
 * consent_purposes_parse().  Checked: add answers as documented, a parsed
 * mask always has necessary and only declared purposes, and formatting a
 * mask then parsing the result gives the mask back (less undeclared bits,
 * plus necessary).  consent_purposes_format() writes into exactly sized
 * heap buffers, so ASan sees it write one byte too many.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "fuzz.h"



#define FUZZ_NECESSARY  CONSENT_BIT(CONSENT_P_NECESSARY)


static int
fuzz_name_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONSENT_PURPOSE_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || p[i] == '_'
              || (i > 0 && p[i] >= '0' && p[i] <= '9')))
        {
            return 0;
        }
    }

    return 1;
}


static void
fuzz_add(consent_purposes_t *ps, const unsigned char *name, size_t len)
{
    int       rc, found;
    unsigned  n;

    n = ps->n;
    found = consent_purpose_find(ps, name, len);

    rc = consent_purposes_add(ps, name, len);

    if (rc >= 0) {
        FUZZ_ASSERT(fuzz_name_valid(name, len));
        FUZZ_ASSERT(found < 0);
        FUZZ_ASSERT((unsigned) rc == n && ps->n == n + 1);
        FUZZ_ASSERT(consent_purpose_find(ps, name, len) == rc);
        FUZZ_ASSERT(ps->len[rc] == len);
        FUZZ_ASSERT(memcmp(ps->name[rc], name, len) == 0);
        FUZZ_ASSERT(ps->name[rc][len] == '\0');
        return;
    }

    FUZZ_ASSERT(ps->n == n);

    switch (rc) {

    case CONSENT_PURPOSE_INVALID:
        FUZZ_ASSERT(!fuzz_name_valid(name, len));
        break;

    case CONSENT_PURPOSE_DUPLICATE:
        FUZZ_ASSERT(fuzz_name_valid(name, len) && found >= 0);
        break;

    case CONSENT_PURPOSE_FULL:
        FUZZ_ASSERT(fuzz_name_valid(name, len) && found < 0);
        FUZZ_ASSERT(n == CONSENT_MAX_PURPOSES);
        break;

    default:
        FUZZ_ASSERT(0 && "unknown result");
    }
}


/* formats mask into an exactly sized heap buffer */
static unsigned char *
fuzz_format(const consent_purposes_t *ps, consent_mask_t mask, size_t *len)
{
    size_t          need, n;
    unsigned char  *out;

    need = consent_purposes_format(ps, mask, NULL, 0);

    out = malloc(need ? need : 1);
    if (out == NULL) {
        abort();
    }

    /* one byte short: nothing written, the same length asked for */
    if (need) {
        n = consent_purposes_format(ps, mask, out, need - 1);
        FUZZ_ASSERT(n == need);
    }

    n = consent_purposes_format(ps, mask, out, need);
    FUZZ_ASSERT(n == need);

    *len = n;

    return out;
}


static void
fuzz_round_trip(const consent_purposes_t *ps, consent_mask_t mask)
{
    int                   rc;
    size_t                n, i, words;
    unsigned char        *s;
    consent_mask_t        again;
    const unsigned char  *bad;
    size_t                bad_len;

    s = fuzz_format(ps, mask, &n);

    /* names joined by single commas */
    words = (n != 0);

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(s[i] != ' ' && s[i] != '\t');

        if (s[i] == ',') {
            FUZZ_ASSERT(i > 0 && i + 1 < n && s[i + 1] != ',');
            words++;
        }
    }

    FUZZ_ASSERT(words == (size_t) __builtin_popcount(
                             mask & consent_purposes_all(ps)));

    bad = NULL;
    again = 0;

    rc = consent_purposes_parse(ps, s, n, &again, &bad, &bad_len);

    FUZZ_ASSERT(rc == 0);
    FUZZ_ASSERT(again == ((mask & consent_purposes_all(ps))
                          | FUZZ_NECESSARY));

    free(s);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    size_t                i, len, bad_len;
    unsigned char        *p, *line, *end, *eol;
    consent_mask_t        mask, all;
    consent_purposes_t    ps;
    const unsigned char  *bad;

    p = fuzz_copy(data, size);

    consent_purposes_init(&ps);

    FUZZ_ASSERT(ps.n == CONSENT_P_STANDARD);
    FUZZ_ASSERT(consent_purpose_find(&ps, (const unsigned char *) "necessary",
                                     9)
                == CONSENT_P_NECESSARY);

    /* all lines but the last: purposes to declare */

    line = p;
    end = p + size;

    for ( ;; ) {
        eol = memchr(line, '\n', (size_t) (end - line));
        if (eol == NULL) {
            break;
        }

        fuzz_add(&ps, line, (size_t) (eol - line));
        line = eol + 1;
    }

    FUZZ_ASSERT(ps.n >= CONSENT_P_STANDARD && ps.n <= CONSENT_MAX_PURPOSES);

    all = consent_purposes_all(&ps);

    FUZZ_ASSERT(ps.n == 32 ? all == 0xffffffff
                           : all == CONSENT_BIT(ps.n) - 1);

    /* the last line: a purpose list */

    len = (size_t) (end - line);
    bad = NULL;
    bad_len = 0;
    mask = 0;

    rc = consent_purposes_parse(&ps, line, len, &mask, &bad, &bad_len);

    if (rc == 0) {
        FUZZ_ASSERT(mask & FUZZ_NECESSARY);
        FUZZ_ASSERT((mask & ~all) == 0);

        fuzz_round_trip(&ps, mask);

    } else {
        FUZZ_ASSERT(rc == -1);
        FUZZ_ASSERT(bad != NULL && bad >= line && bad_len > 0);
        FUZZ_ASSERT(bad + bad_len <= end);
        FUZZ_ASSERT(consent_purpose_find(&ps, bad, bad_len) < 0);

        for (i = 0; i < bad_len; i++) {
            FUZZ_ASSERT(bad[i] != ',' && bad[i] != ' ' && bad[i] != '\t');
        }

        /* without somewhere to say what was wrong */
        rc = consent_purposes_parse(&ps, line, len, &mask, NULL, NULL);
        FUZZ_ASSERT(rc == -1);
    }

    /* masks from the input's first bytes, undeclared bits included */
    for (i = 0; i + 4 <= size && i < 32; i += 4) {
        mask = (consent_mask_t) p[i] << 24 | (consent_mask_t) p[i + 1] << 16
               | (consent_mask_t) p[i + 2] << 8 | p[i + 3];

        fuzz_round_trip(&ps, mask);
    }

    fuzz_round_trip(&ps, 0);
    fuzz_round_trip(&ps, 0xffffffff);

    free(p);

    return 0;
}
