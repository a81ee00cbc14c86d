/*
 * Copyright (C) ngx_consent_module authors
 *
 * Punycode against RFC 3492's own sample strings (section 7.1), the
 * 63-byte limit at its edge, and strict UTF-8: overlongs, surrogates,
 * code points past U+10FFFF, truncated and bad continuation bytes.
 */

#include "test.h"
#include "punycode.h"


/* a UTF-8 string's code points; -1 if it is not strict UTF-8 */
static int
test_code_points(const char *s, uint32_t *cp, size_t max, size_t *ncp)
{
    size_t                i, n, len;
    const unsigned char  *p;

    p = (const unsigned char *) s;
    len = strlen(s);
    *ncp = 0;

    for (i = 0; i < len; i += n) {
        if (*ncp == max) {
            return -1;
        }

        if (p[i] < 0x80) {
            cp[(*ncp)++] = p[i];
            n = 1;
            continue;
        }

        if (consent_utf8_decode(p + i, len - i, &cp[*ncp], &n) != 0) {
            return -1;
        }

        (*ncp)++;
    }

    return 0;
}


static void
test_punycode_samples(void)
{
    static const struct {
        const char  *utf8;
        const char  *alabel;
    } samples[] = {
        /* RFC 3492 7.1 (A) Arabic (Egyptian) */
        { "\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83"
          "\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a"
          "\xd8\x9f", "xn--egbpdaj6bu4bxfgehfvwxn" },
        /* (B) Chinese (simplified) */
        { "\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88"
          "\xe4\xb8\x8d\xe8\xaf\xb4\xe4\xb8\xad\xe6\x96\x87",
          "xn--ihqwcrb4cv8a8dqg056pqjye" },
        /* (C) Chinese (traditional) */
        { "\xe4\xbb\x96\xe5\x80\x91\xe7\x88\xb2\xe4\xbb\x80\xe9\xba\xbd"
          "\xe4\xb8\x8d\xe8\xaa\xaa\xe4\xb8\xad\xe6\x96\x87",
          "xn--ihqwctvzc91f659drss3x8bo0yb" },
        /* (L) 3<nen>B<gumi><kinpachi><sensei> */
        { "3\xe5\xb9\xb4" "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab\xe5\x85\x88"
          "\xe7\x94\x9f", "xn--3B-ww4c5e180e575a65lsy2b" },
        /* (M) <amuro><namie>-with-SUPER-MONKEYS */
        { "\xe5\xae\x89\xe5\xae\xa4\xe5\xa5\x88\xe7\xbe\x8e\xe6\x81\xb5"
          "-with-SUPER-MONKEYS",
          "xn---with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n" },
        /* (Q) <pafii>de<runba> */
        { "\xe3\x83\x91\xe3\x83\x95\xe3\x82\xa3\xe3\x83\xbc" "de"
          "\xe3\x83\xab\xe3\x83\xb3\xe3\x83\x90", "xn--de-jg4avhby1noc0d" },
        /* (R) <sono><supiido><de> */
        { "\xe3\x81\x9d\xe3\x81\xae\xe3\x82\xb9\xe3\x83\x94\xe3\x83\xbc"
          "\xe3\x83\x89\xe3\x81\xa7", "xn--d9juau41awczczp" },
        /* (S) only basic code points */
        { "-> $1.00 <-", "xn---> $1.00 <--" },
        /* the Public Suffix List's own */
        { "\xe5\x85\xac\xe5\x8f\xb8", "xn--55qx5d" },
        { "b\xc3\xbc" "cher", "xn--bcher-kva" },
    };

    size_t         i, ncp, olen;
    uint32_t       cp[64];
    unsigned char  out[CONSENT_PUNYCODE_LABEL_MAX];

    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        CHECK(test_code_points(samples[i].utf8, cp, 59, &ncp) == 0);
        CHECK(consent_punycode_label(cp, ncp, out, &olen) == 0);
        CHECK(olen == strlen(samples[i].alabel)
              && memcmp(out, samples[i].alabel, olen) == 0);
    }
}


/* "xn--" + 58 basic + '-' is 63 bytes; one more does not fit */
static void
test_punycode_limit(void)
{
    size_t         i, olen;
    uint32_t       cp[59];
    unsigned char  out[CONSENT_PUNYCODE_LABEL_MAX];

    for (i = 0; i < 59; i++) {
        cp[i] = 'a';
    }

    CHECK(consent_punycode_label(cp, 58, out, &olen) == 0);
    CHECK(olen == 63 && out[62] == '-');
    CHECK(consent_punycode_label(cp, 59, out, &olen) == -1);

    /* 59 CJK code points: far past 63, stopped without overrunning out */
    for (i = 0; i < 59; i++) {
        cp[i] = 0x4e2d + (uint32_t) i;
    }

    CHECK(consent_punycode_label(cp, 59, out, &olen) == -1);

    /* the largest code point there is, alone */
    cp[0] = 0x10ffff;
    CHECK(consent_punycode_label(cp, 1, out, &olen) == 0);
    CHECK(olen > 4 && memcmp(out, "xn--", 4) == 0);
}


static void
test_utf8_decode(void)
{
    static const struct {
        const char  *bytes;
        size_t       len;
        uint32_t     cp;            /* 0: must be refused */
    } cases[] = {
        { "\xc2\x80", 2, 0x80 },
        { "\xdf\xbf", 2, 0x7ff },
        { "\xe0\xa0\x80", 3, 0x800 },
        { "\xed\x9f\xbf", 3, 0xd7ff },
        { "\xee\x80\x80", 3, 0xe000 },
        { "\xef\xbf\xbf", 3, 0xffff },
        { "\xf0\x90\x80\x80", 4, 0x10000 },
        { "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
        { "\xc0\x80", 2, 0 },               /* overlong NUL */
        { "\xc1\xbf", 2, 0 },               /* overlong */
        { "\xe0\x9f\xbf", 3, 0 },           /* overlong */
        { "\xf0\x8f\xbf\xbf", 4, 0 },       /* overlong */
        { "\xed\xa0\x80", 3, 0 },           /* surrogate */
        { "\xed\xbf\xbf", 3, 0 },           /* surrogate */
        { "\xf4\x90\x80\x80", 4, 0 },       /* past U+10FFFF */
        { "\xf5\x80\x80\x80", 4, 0 },
        { "\xff", 1, 0 },
        { "\x80", 1, 0 },                   /* a lone continuation */
        { "\xe4\xb8", 2, 0 },               /* truncated */
        { "\xe4\x41\x80", 3, 0 },           /* not a continuation */
    };

    size_t    i, n;
    uint32_t  cp;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cp = 0;
        n = 0;

        if (cases[i].cp) {
            CHECK(consent_utf8_decode((const unsigned char *) cases[i].bytes,
                                      cases[i].len, &cp, &n) == 0);
            CHECK(cp == cases[i].cp && n == cases[i].len);

        } else {
            CHECK(consent_utf8_decode((const unsigned char *) cases[i].bytes,
                                      cases[i].len, &cp, &n) == -1);
        }
    }
}


void
test_punycode(void)
{
    test_punycode_samples();
    test_punycode_limit();
    test_utf8_decode();
}
