/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the Cookie request header iterator, lookup and filter.
 *
 * Besides "no crash, no sanitizer report", it checks what consent_core.h
 * promises:
 *   - every pair lies inside the header, in order, trimmed, without ';';
 *   - consent_cookie_find(), from the start or from the middle, gives
 *     exactly the pairs with that name, an '=' and no control bytes that
 *     consent_cookie_next() would, and consent_cookie_get() the first;
 *   - consent_cookie_filter() writes at most CONSENT_COOKIE_FILTER_SIZE()
 *     bytes (the buffer is exactly that big, so ASan sees an overrun),
 *     never asks keep about pairs with control bytes, never outputs NUL,
 *     CR or LF, and its output is exactly the kept pairs joined by their
 *     original separators or "; " where something was dropped;
 *   - filtering is idempotent;
 *   - consent_cookie_find_each() gives, for each name, the value of the
 *     first pair consent_cookie_find() finds with a non-empty value.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "fuzz.h"



#define fuzz_ows(c)  ((c) == ' ' || (c) == '\t')


typedef struct {
    size_t                 asked;
    size_t                 kept;
} fuzz_keep_ctx_t;


static int
fuzz_keep_all(void *data, const consent_cookie_t *c)
{
    fuzz_keep_ctx_t  *ctx = data;

    FUZZ_ASSERT(!c->has_ctl);

    ctx->asked++;
    ctx->kept++;

    return 1;
}


/* a deterministic rule that depends on the pair only */
static int
fuzz_keep_some(void *data, const consent_cookie_t *c)
{
    fuzz_keep_ctx_t  *ctx = data;

    FUZZ_ASSERT(!c->has_ctl);

    ctx->asked++;

    if ((c->name_len && c->name[0] == '_') || (c->value_len & 3) == 3) {
        return 0;
    }

    ctx->kept++;

    return 1;
}


static int
fuzz_has_ctl(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n') {
            return 1;
        }
    }

    return 0;
}


/* checks one pair from the iterator against the header it came from */
static void
fuzz_check_pair(const unsigned char *p, size_t len, const consent_cookie_t *c,
    const unsigned char *prev_end)
{
    const unsigned char  *end, *eq;

    end = p + len;

    FUZZ_ASSERT(c->pair_len > 0);
    FUZZ_ASSERT(c->pair >= p && c->pair + c->pair_len <= end);
    FUZZ_ASSERT(prev_end == NULL || c->pair > prev_end);
    FUZZ_ASSERT(memchr(c->pair, ';', c->pair_len) == NULL);
    FUZZ_ASSERT(!fuzz_ows(c->pair[0]));
    FUZZ_ASSERT(!fuzz_ows(c->pair[c->pair_len - 1]));
    FUZZ_ASSERT(c->has_ctl == fuzz_has_ctl(c->pair, c->pair_len));

    /* a separator or the header's edge on either side */
    FUZZ_ASSERT(c->pair == p || c->pair[-1] == ';' || fuzz_ows(c->pair[-1]));
    FUZZ_ASSERT(c->pair + c->pair_len == end
                || c->pair[c->pair_len] == ';'
                || fuzz_ows(c->pair[c->pair_len]));

    FUZZ_ASSERT(c->name >= c->pair);
    FUZZ_ASSERT(c->name + c->name_len <= c->pair + c->pair_len);
    FUZZ_ASSERT(c->value >= c->pair);
    FUZZ_ASSERT(c->value + c->value_len <= c->pair + c->pair_len);

    eq = memchr(c->pair, '=', c->pair_len);

    FUZZ_ASSERT(c->has_eq == (eq != NULL));

    if (eq == NULL) {
        FUZZ_ASSERT(c->name_len == 0);
        FUZZ_ASSERT(c->value == c->pair && c->value_len == c->pair_len);
        return;
    }

    FUZZ_ASSERT(c->name == c->pair);
    FUZZ_ASSERT(c->name + c->name_len <= eq);
    FUZZ_ASSERT(c->value > eq);
    FUZZ_ASSERT(c->value + c->value_len == c->pair + c->pair_len);
    FUZZ_ASSERT(c->name_len == 0 || !fuzz_ows(c->name[c->name_len - 1]));
    FUZZ_ASSERT(c->value_len == 0 || !fuzz_ows(c->value[0]));
}


/*
 * The filter's documented output, built independently from the iterator:
 * kept pairs byte for byte, the original bytes between neighbours that
 * were adjacent, "; " across a gap.  Returns the length written to exp.
 */
static size_t
fuzz_expected_filter(const unsigned char *p, size_t len,
    consent_cookie_keep_pt keep, unsigned char *exp, size_t *dropped)
{
    int                    adjacent;
    size_t                 n, drop;
    consent_cookie_t       c;
    fuzz_keep_ctx_t        ctx;
    consent_cookie_iter_t  it;
    const unsigned char   *prev_end;

    n = 0;
    drop = 0;
    adjacent = 0;
    prev_end = NULL;
    memset(&ctx, 0, sizeof(fuzz_keep_ctx_t));

    consent_cookie_iter_init(&it, p, len);

    while (consent_cookie_next(&it, &c)) {

        if (fuzz_has_ctl(c.pair, c.pair_len) || !keep(&ctx, &c)) {
            drop++;
            adjacent = 0;
            continue;
        }

        if (prev_end != NULL) {
            if (adjacent) {
                memcpy(exp + n, prev_end, (size_t) (c.pair - prev_end));
                n += (size_t) (c.pair - prev_end);

            } else {
                memcpy(exp + n, "; ", 2);
                n += 2;
            }
        }

        memcpy(exp + n, c.pair, c.pair_len);
        n += c.pair_len;

        prev_end = c.pair + c.pair_len;
        adjacent = 1;
    }

    *dropped = drop;

    return n;
}


/* filters p into an exactly sized heap buffer; returns it, NUL-free */
static unsigned char *
fuzz_filter(const unsigned char *p, size_t len, consent_cookie_keep_pt keep,
    size_t *out_len, size_t *dropped, fuzz_keep_ctx_t *ctx)
{
    size_t          n, i, size;
    unsigned char  *out;

    size = CONSENT_COOKIE_FILTER_SIZE(len);

    out = malloc(size ? size : 1);
    if (out == NULL) {
        abort();
    }

    memset(ctx, 0, sizeof(fuzz_keep_ctx_t));
    *dropped = (size_t) -1;

    n = consent_cookie_filter(p, len, out, keep, ctx, dropped);

    FUZZ_ASSERT(n <= size);
    FUZZ_ASSERT(*dropped != (size_t) -1);

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(out[i] != '\0' && out[i] != '\r' && out[i] != '\n');
    }

    /* no leading or trailing separator: it starts and ends with a pair */
    if (n) {
        FUZZ_ASSERT(out[0] != ';' && !fuzz_ows(out[0]));
        FUZZ_ASSERT(out[n - 1] != ';' && !fuzz_ows(out[n - 1]));
    }

    *out_len = n;

    return out;
}


static void
fuzz_check_filter(const unsigned char *p, size_t len,
    consent_cookie_keep_pt keep, size_t npairs, size_t nctl)
{
    size_t            n, n2, n3, exp_n, dropped, dropped2, exp_dropped;
    unsigned char    *out, *out2, *exp;
    fuzz_keep_ctx_t   ctx, ctx2;

    out = fuzz_filter(p, len, keep, &n, &dropped, &ctx);

    FUZZ_ASSERT(ctx.asked == npairs - nctl);
    FUZZ_ASSERT(dropped == npairs - ctx.kept);

    exp = malloc(CONSENT_COOKIE_FILTER_SIZE(len));
    if (exp == NULL) {
        abort();
    }

    exp_n = fuzz_expected_filter(p, len, keep, exp, &exp_dropped);

    FUZZ_ASSERT(exp_dropped == dropped);
    FUZZ_ASSERT(exp_n == n && memcmp(exp, out, n) == 0);

    free(exp);

    /* idempotent: the survivors all survive again, separators included */
    out2 = fuzz_filter(out, n, keep, &n2, &dropped2, &ctx2);

    FUZZ_ASSERT(dropped2 == 0);
    FUZZ_ASSERT(ctx2.kept == ctx.kept);
    FUZZ_ASSERT(n2 == n && memcmp(out2, out, n) == 0);

    free(out2);

    /* and keeping all of the output is the output */
    out2 = fuzz_filter(out, n, fuzz_keep_all, &n3, &dropped2, &ctx2);

    FUZZ_ASSERT(dropped2 == 0);
    FUZZ_ASSERT(n3 == n && memcmp(out2, out, n) == 0);

    free(out2);
    free(out);
}


/* is c, from consent_cookie_next(), what find() looks for */
static int
fuzz_is_called(const consent_cookie_t *c, const unsigned char *name,
    size_t name_len)
{
    return c->has_eq && !c->has_ctl && c->name_len == name_len
           && memcmp(c->name, name, name_len) == 0;
}


/*
 * Repeated consent_cookie_find() against a walk with consent_cookie_next(),
 * both starting after the first skip pairs.
 */
static void
fuzz_check_find(const unsigned char *p, size_t len, const unsigned char *name,
    size_t name_len, size_t skip)
{
    int                    found, rc, more, fmore;
    size_t                 i;
    consent_cookie_t       c, f;
    consent_cookie_iter_t  it, fit, a, b;

    consent_cookie_iter_init(&it, p, len);

    for (i = 0; i < skip; i++) {
        if (!consent_cookie_next(&it, &c)) {
            break;
        }
    }

    fit = it;

    for ( ;; ) {
        found = 0;

        while (consent_cookie_next(&it, &c)) {
            if (fuzz_is_called(&c, name, name_len)) {
                found = 1;
                break;
            }
        }

        memset(&f, 0, sizeof(consent_cookie_t));

        rc = consent_cookie_find(&fit, name, name_len, &f);

        FUZZ_ASSERT(rc == found);

        if (!found) {
            /* at the end, like next() */
            FUZZ_ASSERT(consent_cookie_next(&fit, &f) == 0);
            return;
        }

        FUZZ_ASSERT(f.pair == c.pair && f.pair_len == c.pair_len);
        FUZZ_ASSERT(f.name == c.name && f.name_len == c.name_len);
        FUZZ_ASSERT(f.value == c.value && f.value_len == c.value_len);
        FUZZ_ASSERT(f.has_eq == c.has_eq && f.has_ctl == c.has_ctl);

        /* and next() goes on from there as it would have */
        a = it;
        b = fit;
        more = consent_cookie_next(&a, &c);
        fmore = consent_cookie_next(&b, &f);

        FUZZ_ASSERT(more == fmore);
        FUZZ_ASSERT(!more || (f.pair == c.pair && f.pair_len == c.pair_len));
    }
}


static void
fuzz_check_get(const unsigned char *p, size_t len, const unsigned char *name,
    size_t name_len)
{
    size_t                 vlen, want_len;
    consent_cookie_t       c;
    consent_cookie_iter_t  it;
    const unsigned char   *v, *want;

    /*
     * An empty name is left out: find() and get() never match it, though
     * "=v" has an '=' and an empty name (the header does not say).
     */
    if (name_len == 0) {
        (void) consent_cookie_get(p, len, name, 0, &vlen);
        return;
    }

    fuzz_check_find(p, len, name, name_len, 0);
    fuzz_check_find(p, len, name, name_len, 1);
    fuzz_check_find(p, len, name, name_len, 2);

    want = NULL;
    want_len = 0;

    consent_cookie_iter_init(&it, p, len);

    while (consent_cookie_next(&it, &c)) {
        if (fuzz_is_called(&c, name, name_len)) {
            want = c.value;
            want_len = c.value_len;
            break;
        }
    }

    vlen = (size_t) -1;
    v = consent_cookie_get(p, len, name, name_len, &vlen);

    FUZZ_ASSERT(v == want);

    if (v != NULL) {
        FUZZ_ASSERT(vlen == want_len);
        FUZZ_ASSERT(v >= p && v + vlen <= p + len);
        FUZZ_ASSERT(!fuzz_has_ctl(v, vlen));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                 npairs, nctl, n, ln, dropped, first, last_end;
    unsigned char         *p, *out, *name, *lname;
    consent_cookie_t       c;
    fuzz_keep_ctx_t        ctx;
    consent_cookie_iter_t  it;
    const unsigned char   *prev_end;

    /* a private copy: reads past the input end are then ASan reports */
    p = fuzz_copy(data, size);

    /* iterate */

    n = 0;
    ln = 0;
    npairs = 0;
    nctl = 0;
    first = 0;
    last_end = 0;
    prev_end = NULL;
    name = NULL;
    lname = NULL;

    consent_cookie_iter_init(&it, p, size);

    while (consent_cookie_next(&it, &c)) {
        fuzz_check_pair(p, size, &c, prev_end);

        if (npairs == 0) {
            first = (size_t) (c.pair - p);
        }

        if (c.has_ctl) {
            nctl++;

        } else if (c.has_eq && c.name_len) {
            /* the first and the last name to look up */
            if (name == NULL) {
                name = (unsigned char *) c.name;
                n = c.name_len;
            }

            lname = (unsigned char *) c.name;
            ln = c.name_len;
        }

        prev_end = c.pair + c.pair_len;
        last_end = (size_t) (prev_end - p);
        npairs++;

        FUZZ_ASSERT(npairs <= size);
    }

    /* the iterator stays at its end */
    FUZZ_ASSERT(consent_cookie_next(&it, &c) == 0);

    /* lookups */

    fuzz_check_get(p, size, (const unsigned char *) "_ga", 3);
    fuzz_check_get(p, size, (const unsigned char *) "consent", 7);
    fuzz_check_get(p, size, (const unsigned char *) "a", 1);
    fuzz_check_get(p, size, (const unsigned char *) "", 0);

    if (name != NULL) {
        fuzz_check_get(p, size, name, n);
        fuzz_check_get(p, size, lname, ln);
    }

    /* several names in one walk */

    {
        consent_span_t  names[4], values[4];

        names[0].data = (const unsigned char *) "_ga";
        names[0].len = 3;
        names[1].data = (const unsigned char *) "__gpp";
        names[1].len = 5;
        names[2].data = (const unsigned char *) "__gpp_sid";
        names[2].len = 9;
        names[3].data = (const unsigned char *) "zz";
        names[3].len = 2;

        /* the first name of the header, unless asked for already */
        if (name && n >= 2
            && !(n == 3 && memcmp(name, "_ga", 3) == 0)
            && !(n == 5 && memcmp(name, "__gpp", 5) == 0)
            && !(n == 9 && memcmp(name, "__gpp_sid", 9) == 0))
        {
            names[3].data = name;
            names[3].len = n;
        }

        memset(values, 0, sizeof(values));
        consent_cookie_find_each(p, size, names, 4, values);

        for (size_t k = 0; k < 4; k++) {
            consent_cookie_t       f;
            consent_cookie_iter_t  fi;
            const unsigned char   *want;
            size_t                 want_len;

            want = NULL;
            want_len = 0;
            consent_cookie_iter_init(&fi, p, size);

            while (consent_cookie_find(&fi, names[k].data, names[k].len,
                                       &f))
            {
                if (f.value_len) {
                    want = f.value;
                    want_len = f.value_len;
                    break;
                }
            }

            FUZZ_ASSERT(values[k].data == want);
            FUZZ_ASSERT(values[k].len == want_len);
        }
    }

    /* filter */

    fuzz_check_filter(p, size, fuzz_keep_some, npairs, nctl);
    fuzz_check_filter(p, size, fuzz_keep_all, npairs, nctl);

    /* keeping everything of a clean header: the header minus its edges */
    if (nctl == 0) {
        out = fuzz_filter(p, size, fuzz_keep_all, &n, &dropped, &ctx);

        FUZZ_ASSERT(dropped == 0);

        if (npairs == 0) {
            FUZZ_ASSERT(n == 0);

        } else {
            FUZZ_ASSERT(n == last_end - first);
            FUZZ_ASSERT(memcmp(out, p + first, n) == 0);
        }

        free(out);
    }

    free(p);

    return 0;
}
