/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the Set-Cookie parser and cookie-domain matching.
 *
 * Every span the parser reports must lie inside the input (an exactly
 * sized heap copy), the name and value must not carry
 * the ';' that ends the pair, and has_ctl must say whether the header has
 * NUL, CR or LF.  A domain always matches itself and its parents.
 */

#include "consent_core.h"
#include "fuzz.h"


#define FUZZ_INSIDE(p, n, base, len)                                         \
    FUZZ_ASSERT((n) == 0                                                     \
                || ((p) >= (base) && (p) + (n) <= (base) + (len)))


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    ctl;
    size_t                 i;
    unsigned char         *p;
    const unsigned char   *d;
    consent_set_cookie_t   sc;

    p = fuzz_copy(data, size);

    consent_set_cookie_parse(p, size, &sc);

    FUZZ_INSIDE(sc.name, sc.name_len, p, size);
    FUZZ_INSIDE(sc.value, sc.value_len, p, size);
    FUZZ_INSIDE(sc.domain, sc.domain_len, p, size);
    FUZZ_INSIDE(sc.path, sc.path_len, p, size);
    FUZZ_ASSERT(sc.name_len == 0 || memchr(sc.name, ';', sc.name_len) == NULL);
    FUZZ_ASSERT(sc.value_len == 0
                || memchr(sc.value, ';', sc.value_len) == NULL);
    FUZZ_ASSERT(sc.domain_len == 0
                || memchr(sc.domain, ';', sc.domain_len) == NULL);
    FUZZ_ASSERT(sc.has_eq || sc.name_len == 0);

    ctl = 0;

    for (i = 0; i < size; i++) {
        if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n') {
            ctl = 1;
        }
    }

    FUZZ_ASSERT(sc.has_ctl == (unsigned) ctl);

    /* a domain matches itself and each parent after a dot */
    if (sc.domain_len && sc.domain[0] != '.') {
        FUZZ_ASSERT(consent_domain_match(sc.domain, sc.domain_len,
                                         sc.domain, sc.domain_len));

        for (i = 0; i + 1 < sc.domain_len; i++) {
            if (sc.domain[i] == '.' && sc.domain[i + 1] != '.') {
                d = sc.domain + i + 1;
                FUZZ_ASSERT(consent_domain_match(sc.domain, sc.domain_len,
                                d, sc.domain_len - i - 1));
            }
        }
    }

    /* and never reads outside either span */
    if (size > 2) {
        (void) consent_domain_match(p, size / 2, p + size / 2,
                                    size - size / 2);
    }

    free(p);

    return 0;
}
