/*
 * Copyright (C) ngx_consent_module authors
 *
 * Cookie request header parsing and filtering.  Browsers split on ';'
 * only (RFC 6265 5.4 and what they do in practice), so quotes are not
 * special here: a quoted value cannot hide a ';'.  The filter never
 * rewrites a kept pair, it copies its bytes.
 */

#include <string.h>

#include "consent_core.h"


#define consent_ows(c)  ((c) == ' ' || (c) == '\t')


void
consent_cookie_iter_init(consent_cookie_iter_t *it, const unsigned char *p,
    size_t len)
{
    it->pos = p;
    it->end = p + len;

    /*
     * One vectorised pass over the whole header: nginx never lets these
     * bytes into a header, so the per-pair checks are almost never needed.
     */
    it->ctl = len && (memchr(p, '\0', len) != NULL
                      || memchr(p, '\r', len) != NULL
                      || memchr(p, '\n', len) != NULL);
}


int
consent_cookie_next(consent_cookie_iter_t *it, consent_cookie_t *c)
{
    const unsigned char  *p, *end, *seg, *seg_end, *eq, *q;

    p = it->pos;
    end = it->end;

    for ( ;; ) {

        if (p >= end) {
            it->pos = end;
            return 0;
        }

        seg = p;
        seg_end = memchr(p, ';', (size_t) (end - p));

        if (seg_end == NULL) {
            seg_end = end;
            p = end;

        } else {
            p = seg_end + 1;
        }

        c->segment = seg;
        c->segment_len = (size_t) (seg_end - seg);

        while (seg < seg_end && consent_ows(*seg)) {
            seg++;
        }

        while (seg_end > seg && consent_ows(seg_end[-1])) {
            seg_end--;
        }

        if (seg < seg_end) {
            break;
        }
    }

    it->pos = p;

    c->pair = seg;
    c->pair_len = (size_t) (seg_end - seg);
    c->has_ctl = it->ctl
                 && (memchr(seg, '\0', c->pair_len) != NULL
                     || memchr(seg, '\r', c->pair_len) != NULL
                     || memchr(seg, '\n', c->pair_len) != NULL);

    eq = memchr(seg, '=', (size_t) (seg_end - seg));

    if (eq == NULL) {
        /* RFC 6265bis 5.6: no '=' means an empty name and this value */
        c->has_eq = 0;
        c->name = seg;
        c->name_len = 0;
        c->value = seg;
        c->value_len = c->pair_len;
        return 1;
    }

    c->has_eq = 1;
    c->name = seg;

    for (q = eq; q > seg && consent_ows(q[-1]); q--) {
        /* void */
    }

    c->name_len = (size_t) (q - seg);

    for (q = eq + 1; q < seg_end && consent_ows(*q); q++) {
        /* void */
    }

    c->value = q;
    c->value_len = (size_t) (seg_end - q);

    return 1;
}


int
consent_cookie_find(consent_cookie_iter_t *it, const unsigned char *name,
    size_t name_len, consent_cookie_t *c)
{
    const unsigned char  *seg, *seg_end, *semi, *q;

    while (it->pos < it->end) {

        seg = it->pos;

        while (seg < it->end && consent_ows(*seg)) {
            seg++;
        }

        semi = memchr(seg, ';', (size_t) (it->end - seg));
        seg_end = semi ? semi : it->end;

        if (name_len && (size_t) (seg_end - seg) > name_len
            && memcmp(seg, name, name_len) == 0)
        {
            for (q = seg + name_len; q < seg_end && consent_ows(*q); q++) {
                /* void */
            }

            if (q < seg_end && *q == '=') {
                /* parse just this pair in full; next() moves past it */
                it->pos = seg;

                if (consent_cookie_next(it, c) && c->has_eq && !c->has_ctl
                    && c->name_len == name_len)
                {
                    return 1;
                }

                continue;
            }
        }

        it->pos = semi ? semi + 1 : it->end;
    }

    return 0;
}


/*
 * One walk over the pairs, each looked at as far as its first two bytes
 * unless a name asked for starts with them; the pair of a name found is
 * parsed in full, control bytes checked on it alone.
 */

void
consent_cookie_find_each(const unsigned char *p, size_t plen,
    const consent_span_t *names, size_t n, consent_span_t *values)
{
    size_t                 i, len;
    consent_cookie_t       c;
    consent_cookie_iter_t  one;
    const unsigned char   *pos, *end, *seg, *seg_end, *semi, *q;

    pos = p;
    end = p + plen;

    while (pos < end) {

        seg = pos;

        while (seg < end && consent_ows(*seg)) {
            seg++;
        }

        semi = memchr(seg, ';', (size_t) (end - seg));
        seg_end = semi ? semi : end;
        pos = semi ? semi + 1 : end;

        if (seg_end - seg < 3) {
            continue;
        }

        for (i = 0; i < n; i++) {
            len = names[i].len;

            if (len < 2 || (size_t) (seg_end - seg) <= len
                || seg[0] != names[i].data[0] || seg[1] != names[i].data[1]
                || values[i].data != NULL
                || memcmp(seg, names[i].data, len) != 0)
            {
                continue;
            }

            for (q = seg + len; q < seg_end && consent_ows(*q); q++) {
                /* void */
            }

            if (q == seg_end || *q != '=') {
                continue;
            }

            one.pos = seg;
            one.end = seg_end;
            one.ctl = 1;

            if (consent_cookie_next(&one, &c) && c.has_eq && !c.has_ctl
                && c.name_len == len && c.value_len)
            {
                values[i].data = c.value;
                values[i].len = c.value_len;
            }

            break;
        }
    }
}


const unsigned char *
consent_cookie_get(const unsigned char *p, size_t len,
    const unsigned char *name, size_t name_len, size_t *value_len)
{
    consent_cookie_t       c;
    consent_cookie_iter_t  it;

    consent_cookie_iter_init(&it, p, len);

    if (consent_cookie_find(&it, name, name_len, &c)) {
        *value_len = c.value_len;
        return c.value;
    }

    return NULL;
}


size_t
consent_cookie_filter(const unsigned char *p, size_t len, unsigned char *out,
    consent_cookie_keep_pt keep, void *data, size_t *dropped)
{
    size_t                 n, drop, gap;
    int                    adjacent;
    consent_cookie_t       c;
    consent_cookie_iter_t  it;
    const unsigned char   *prev_end;

    n = 0;
    drop = 0;
    prev_end = NULL;
    adjacent = 0;

    consent_cookie_iter_init(&it, p, len);

    while (consent_cookie_next(&it, &c)) {

        if (c.has_ctl || !keep(data, &c)) {
            drop++;
            adjacent = 0;
            continue;
        }

        if (prev_end && adjacent) {
            /* nothing dropped in between: the original separator bytes */
            gap = (size_t) (c.pair - prev_end);
            memcpy(out + n, prev_end, gap);
            n += gap;

        } else if (prev_end) {
            out[n++] = ';';
            out[n++] = ' ';
        }

        memcpy(out + n, c.pair, c.pair_len);
        n += c.pair_len;

        prev_end = c.pair + c.pair_len;
        adjacent = 1;
    }

    if (dropped) {
        *dropped = drop;
    }

    return n;
}
