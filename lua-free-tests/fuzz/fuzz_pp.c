/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: Permissions-Policy merging.  The input is split on
 * NUL bytes into header values (the last piece, when it starts with '#',
 * lists features instead).  The output must fit the computed bound, carry
 * no CR, LF or NUL, hold each feature exactly once as "feature=()", and
 * the merge must be idempotent: merging the output again changes nothing.
 */

#include "permissions_policy.h"
#include "fuzz.h"


#define FUZZ_VALUES  8


static size_t
fuzz_count(const unsigned char *p, size_t len, const consent_span_t *f)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i + f->len + 3 <= len; i++) {
        if ((i == 0 || p[i - 1] == ' ')
            && memcmp(p + i, f->data, f->len) == 0
            && memcmp(p + i + f->len, "=()", 3) == 0
            && (i + f->len + 3 == len || p[i + f->len + 3] == ','))
        {
            n++;
        }
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           i, n, nf, len, bound, again_len;
    unsigned char   *p, *end, *q, *out, *again;
    consent_span_t   v[FUZZ_VALUES], f[4], o;

    static consent_span_t  dflt[] = {
        { (const unsigned char *) "browsing-topics", 15 },
        { (const unsigned char *) "interest-cohort", 15 },
    };

    p = fuzz_copy(data, size);
    end = p + size;
    n = 0;
    nf = 0;

    for (q = p; q <= end && n < FUZZ_VALUES; /* void */) {
        unsigned char  *z = memchr(q, '\0', end - q);

        if (z == NULL) {
            z = end;
        }

        if (z - q > 1 && q[0] == '#') {
            /* features: '#'-separated, valid names only */
            unsigned char  *a = q + 1, *b;

            while (a < z && nf < 4) {
                b = memchr(a, '#', z - a);
                b = b ? b : z;

                if (consent_pp_feature_valid(a, b - a)) {
                    f[nf].data = a;
                    f[nf].len = b - a;
                    nf++;
                }

                a = b + 1;
            }

        } else {
            v[n].data = q;
            v[n].len = z - q;
            n++;
        }

        q = z + 1;
    }

    if (nf == 0) {
        memcpy(f, dflt, sizeof(dflt));
        nf = 2;
    }

    /* the same feature twice is refused by nginx -t: not tested here */
    for (i = 1; i < nf; i++) {
        size_t  j;

        for (j = 0; j < i; j++) {
            if (f[i].len == f[j].len
                && memcmp(f[i].data, f[j].data, f[j].len) == 0)
            {
                nf = i;
                break;
            }
        }
    }

    bound = consent_pp_merge_size(v, n, f, nf);
    out = malloc(bound ? bound : 1);
    FUZZ_ASSERT(out != NULL);

    len = consent_pp_merge(v, n, f, nf, out, bound);

    FUZZ_ASSERT(len > 0 && len <= bound);
    FUZZ_ASSERT(memchr(out, '\r', len) == NULL);
    FUZZ_ASSERT(memchr(out, '\n', len) == NULL);
    FUZZ_ASSERT(memchr(out, '\0', len) == NULL);

    for (i = 0; i < nf; i++) {
        FUZZ_ASSERT(fuzz_count(out, len, &f[i]) >= 1);
    }

    o.data = out;
    o.len = len;
    bound = consent_pp_merge_size(&o, 1, f, nf);
    again = malloc(bound);
    FUZZ_ASSERT(again != NULL);

    again_len = consent_pp_merge(&o, 1, f, nf, again, bound);
    FUZZ_ASSERT(again_len == len && memcmp(again, out, len) == 0);

    /* one byte short is refused, never overrun */
    FUZZ_ASSERT(consent_pp_merge(v, n, f, nf, out, len - 1) == 0);

    free(again);
    free(out);
    free(p);

    return 0;
}
