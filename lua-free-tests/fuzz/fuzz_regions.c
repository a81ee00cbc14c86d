/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: region codes and regimes.
 *
 * The whole input is looked up as a region code and parsed as a regime
 * name.  Then each line is "CODE [REGIME]": with a regime that parses the
 * code is mapped to it (into a copy of the default table), and a code
 * that was mapped must then look up, in any letter case, to that regime.
 * Lookups follow the header: exact code first, then the country before
 * the '-'.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "fuzz.h"



static consent_regions_t  fuzz_defaults;
static int                fuzz_ready;


static int
fuzz_lookup(const consent_regions_t *rg, const unsigned char *code,
    size_t len)
{
    int             rc;
    unsigned char  *p;

    /* a private copy: reads past the code are then ASan reports */
    p = fuzz_copy(code, len);

    rc = consent_regions_lookup(rg, p, len);

    FUZZ_ASSERT(rc >= -1 && rc < CONSENT_REGIMES);

    free(p);

    return rc;
}


static void
fuzz_check_regime(const unsigned char *p, size_t len)
{
    int          r;
    const char  *name;

    r = consent_regime_parse(p, len);

    FUZZ_ASSERT(r >= -1 && r < CONSENT_REGIMES);

    if (r >= 0) {
        name = consent_regime_name((unsigned) r);
        FUZZ_ASSERT(strlen(name) == len && memcmp(name, p, len) == 0);
    }
}


static void
fuzz_init(void)
{
    unsigned        r;
    const char     *name;
    consent_purposes_t  ps;

    consent_regions_init(&fuzz_defaults);

    FUZZ_ASSERT(fuzz_lookup(&fuzz_defaults, (const unsigned char *) "fr", 2)
                == CONSENT_REGIME_OPT_IN);
    FUZZ_ASSERT(fuzz_lookup(&fuzz_defaults, (const unsigned char *) "US-CA",
                            5)
                == CONSENT_REGIME_OPT_OUT);
    FUZZ_ASSERT(fuzz_lookup(&fuzz_defaults, (const unsigned char *) "JP", 2)
                == CONSENT_REGIME_NOTICE);

    consent_purposes_init(&ps);

    for (r = 0; r < CONSENT_REGIMES; r++) {
        name = consent_regime_name(r);
        FUZZ_ASSERT(consent_regime_parse((const unsigned char *) name,
                                         strlen(name))
                    == (int) r);
        FUZZ_ASSERT(consent_regime_default(&ps, r)
                    & CONSENT_BIT(CONSENT_P_NECESSARY));
    }

    FUZZ_ASSERT(consent_regime_name(CONSENT_REGIMES)[0] == '\0');

    fuzz_ready = 1;
}


/* trims spaces and tabs as the core does, upper-cases into out */
static size_t
fuzz_normalize(const unsigned char *p, size_t len, unsigned char *out,
    int upper)
{
    size_t  i;

    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }

    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
        len--;
    }

    for (i = 0; i < len; i++) {
        out[i] = p[i];

        if (upper && out[i] >= 'a' && out[i] <= 'z') {
            out[i] -= 'a' - 'A';

        } else if (!upper && out[i] >= 'A' && out[i] <= 'Z') {
            out[i] += 'a' - 'A';
        }
    }

    return len;
}


static void
fuzz_line(consent_regions_t *rg, const unsigned char *p, size_t len)
{
    int                   r, rc, before;
    size_t                clen, n, i;
    unsigned char        *buf;
    const unsigned char  *sp, *code, *regime;

    fuzz_lookup(rg, p, len);

    sp = memchr(p, ' ', len);

    code = p;
    clen = sp ? (size_t) (sp - p) : len;
    regime = sp ? sp + 1 : p + len;

    fuzz_check_regime(regime, (size_t) (p + len - regime));
    r = consent_regime_parse(regime, (size_t) (p + len - regime));

    if (r < 0) {
        /* no regime: a number from the line, mostly out of range */
        r = (len > 0) ? p[len - 1] : 0;
    }

    before = fuzz_lookup(rg, code, clen);
    n = rg->n;

    rc = consent_regions_set(rg, code, clen, (unsigned) r);

    FUZZ_ASSERT(rc == 0 || rc == -1);
    FUZZ_ASSERT(rg->n <= CONSENT_REGIONS_MAX);

    if (rc != 0) {
        /* nothing changed */
        FUZZ_ASSERT(rg->n == n);
        FUZZ_ASSERT(fuzz_lookup(rg, code, clen) == before);
        return;
    }

    FUZZ_ASSERT(r < CONSENT_REGIMES);
    FUZZ_ASSERT(rg->n == n || rg->n == n + 1);
    FUZZ_ASSERT(fuzz_lookup(rg, code, clen) == r);

    /* case-insensitive */
    buf = malloc(clen ? clen : 1);
    if (buf == NULL) {
        abort();
    }

    for (i = 0; i < 2; i++) {
        n = fuzz_normalize(code, clen, buf, (int) i);
        FUZZ_ASSERT(fuzz_lookup(rg, buf, n) == r);
    }

    /* a subdivision of a mapped code falls back on it */
    if (n + 3 <= CONSENT_REGION_MAX && memchr(buf, '-', n) == NULL) {
        free(buf);

        buf = malloc(n + 3);
        if (buf == NULL) {
            abort();
        }

        (void) fuzz_normalize(code, clen, buf, 1);
        memcpy(buf + n, "-ZZ", 3);

        rc = fuzz_lookup(rg, buf, n + 3);

        if (rc != r) {
            /* only if that subdivision has a mapping of its own */
            FUZZ_ASSERT(rc >= 0);
        }
    }

    free(buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t      *line, *end, *eol;
    consent_regions_t  *rg;

    if (!fuzz_ready) {
        fuzz_init();
    }

    fuzz_lookup(&fuzz_defaults, data, size);
    fuzz_check_regime(data, size);

    rg = malloc(sizeof(consent_regions_t));
    if (rg == NULL) {
        abort();
    }

    memcpy(rg, &fuzz_defaults, sizeof(consent_regions_t));

    line = data;
    end = data + size;

    while (line < end) {
        eol = memchr(line, '\n', (size_t) (end - line));
        if (eol == NULL) {
            eol = end;
        }

        fuzz_line(rg, line, (size_t) (eol - line));
        line = eol + 1;
    }

    free(rg);

    return 0;
}
