/*
 * Copyright (C) ngx_consent_module authors
 *
 * Which cookies of a Cookie header go, for a decision; see strip.h.
 */

#include <string.h>

#include "strip.h"


#define consent_ascii_space(c)                                                \
    ((c) == ' ' || ((c) >= 0x09 && (c) <= 0x0d))

/* str.strip() of a latin-1 decoded string */
#define consent_latin1_space(c)                                               \
    (consent_ascii_space(c) || ((c) >= 0x1c && (c) <= 0x1f) || (c) == 0x85   \
     || (c) == 0xa0)


typedef struct {
    consent_strip_t           *st;
    const consent_rule_t      *rule;
} consent_strip_search_t;


/*
 * The length of a UTF-8 space (as Django's WSGI strip() sees one) at p,
 * or 0: ASCII and 1C-1F bytes, U+0085, U+00A0, U+1680, U+2000-U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000.
 */
static size_t
consent_utf8_space(const unsigned char *p, size_t len)
{
    if (len && (consent_ascii_space(p[0]) || (p[0] >= 0x1c && p[0] <= 0x1f))) {
        return 1;
    }

    if (len >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0)) {
        return 2;
    }

    if (len < 3) {
        return 0;
    }

    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
        || (p[0] == 0xe2 && p[1] == 0x80
            && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)
            && p[2] >= 0x80)
        || (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        || (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
    {
        return 3;
    }

    return 0;
}


/* the UTF-8 space that ends at end, or 0 */
static size_t
consent_utf8_space_before(const unsigned char *start,
    const unsigned char *end)
{
    size_t  n;

    for (n = 1; n <= 3 && (size_t) (end - start) >= n; n++) {
        if (consent_utf8_space(end - n, n) == n) {
            return n;
        }
    }

    return 0;
}


/* PHP's $_COOKIE key for name n, into out; returns its length */
static size_t
consent_php_name(const unsigned char *n, size_t len, unsigned char *out)
{
    size_t                i, o;
    const unsigned char  *end, *open, *close;

    end = n + len;

    while (n < end && consent_ascii_space(*n)) {
        n++;
    }

    /* NUL truncates */
    for (i = 0; n + i < end && n[i] != '\0'; i++) { /* void */ }
    end = n + i;

    open = memchr(n, '[', end - n);
    close = open ? memchr(open + 1, ']', end - open - 1) : NULL;

    o = 0;

    for (i = 0; n + i < end; i++) {

        if (open && n + i == open) {
            if (close) {
                break;                      /* name[...]: an array */
            }

            out[o++] = '_';                 /* unclosed: '[' and later */
            continue;
        }

        out[o++] = (n[i] == ' ' || n[i] == '.'
                    || (open && n + i > open && n[i] == '['))
                   ? '_' : n[i];
    }

    return o;
}


static int
consent_origin_words(const consent_cookie_t *c, consent_name_pt cb,
    void *data)
{
    int                   rc;
    const unsigned char  *p, *end, *w, *eq, *q;

    p = c->pair;
    end = p + c->pair_len;

    /* SimpleCookie starts a cookie after whitespace inside the pair */
    for (p++; p < end; p++) {

        if (!consent_ascii_space(p[-1]) || consent_ascii_space(*p)) {
            continue;
        }

        for (w = p; p < end && !consent_ascii_space(*p); p++) {
            /* void */
        }

        eq = memchr(w, '=', p - w);

        if (eq == NULL) {
            /* "name = value": the word, when '=' follows the spaces */
            for (q = p; q < end && consent_ascii_space(*q); q++) {
                /* void */
            }

            if (q == end || *q != '=') {
                continue;
            }

            eq = p;
        }

        if (eq > w && (rc = cb(data, w, eq - w)) != 0) {
            return rc;
        }

        if (p == end) {
            break;
        }
    }

    return 0;
}


int
consent_cookie_origin_names(const consent_cookie_t *c,
    unsigned char *scratch, consent_name_pt cb, void *data)
{
    int                   rc;
    size_t                n, len;
    const unsigned char  *p, *end, *name, *eq;

    /*
     * The fast path: an ordinary cookie (a name of printable ASCII without
     * '.' or '[' right before '=', a value without whitespace) has no
     * other name.  The parser's spans make it one pass over the bytes.
     */
    if (c->has_eq && c->name_len && c->name[c->name_len] == '=') {

        for (p = c->name, end = p + c->name_len; p < end; p++) {
            if (*p < 0x21 || *p > 0x7e || *p == '.' || *p == '[') {
                break;
            }
        }

        if (p == end) {
            /* the value runs to the pair's end, whitespace trimmed */
            for (p = c->name + c->name_len + 1, end = c->pair + c->pair_len;
                 p < end;
                 p++)
            {
                if (*p <= ' ' && consent_ascii_space(*p)) {
                    break;
                }
            }

            if (p == end) {
                return 0;
            }
        }
    }

    eq = c->has_eq ? memchr(c->pair, '=', c->pair_len) : NULL;

    /* the raw name: before '=', or the whole pair without one */
    name = c->pair;
    len = eq ? (size_t) (eq - c->pair) : c->pair_len;

    if (len && (rc = cb(data, name, len)) != 0) {
        return rc;
    }

    /* latin-1 str.strip() */
    p = name;
    end = name + len;

    while (p < end && consent_latin1_space(*p)) {
        p++;
    }

    while (end > p && consent_latin1_space(end[-1])) {
        end--;
    }

    if (end > p && (rc = cb(data, p, end - p)) != 0) {
        return rc;
    }

    /* UTF-8 strip() */
    p = name;
    end = name + len;

    while (p < end && (n = consent_utf8_space(p, end - p)) != 0) {
        p += n;
    }

    while (end > p && (n = consent_utf8_space_before(p, end)) != 0) {
        end -= n;
    }

    if (end > p && (rc = cb(data, p, end - p)) != 0) {
        return rc;
    }

    /* PHP, which keeps a bare segment's trailing spaces */
    n = eq ? consent_php_name(name, len, scratch)
           : consent_php_name(c->segment, c->segment_len, scratch);

    if (n && (rc = cb(data, scratch, n)) != 0) {
        return rc;
    }

    return consent_origin_words(c, cb, data);
}


static const consent_rule_t *
consent_strip_refused(consent_strip_t *st, const unsigned char *name,
    size_t len)
{
    const consent_rule_t  *rule;

    rule = consent_ruleset_match_in(st->rules, st->scope, name, len);

    if (rule && st->active) {
        rule = st->active(st->active_data, rule);
    }

    if (rule == NULL
        || !consent_rule_refused(rule, st->granted, st->refused_vendors))
    {
        return NULL;
    }

    return rule;
}


int
consent_rule_refused(const consent_rule_t *rule, consent_mask_t granted,
    const unsigned char *refused_vendors)
{
    if (rule->purpose == CONSENT_P_NECESSARY) {
        return 0;
    }

    if (!(granted & CONSENT_BIT(rule->purpose))) {
        return 1;
    }

    return refused_vendors != NULL
           && ((refused_vendors[rule->vendor_id >> 3] >> (rule->vendor_id & 7))
               & 1);
}


static int
consent_strip_search(void *data, const unsigned char *name, size_t len)
{
    consent_strip_search_t  *s = data;

    /* the consent cookie under any spelling is the visitor's own */
    if (len == s->st->keep_len && memcmp(name, s->st->keep, len) == 0) {
        return 0;
    }

    s->rule = consent_strip_refused(s->st, name, len);

    return s->rule != NULL;
}


const consent_rule_t *
consent_strip_match(consent_strip_t *st, const consent_cookie_t *c)
{
    const consent_rule_t    *rule;
    consent_strip_search_t   s;

    if (c->name_len) {
        if (c->name_len == st->keep_len
            && memcmp(c->name, st->keep, st->keep_len) == 0)
        {
            return NULL;
        }

        rule = consent_strip_refused(st, c->name, c->name_len);
        if (rule) {
            return rule;
        }
    }

    if (st->scratch == NULL) {
        return NULL;
    }

    s.st = st;
    s.rule = NULL;

    (void) consent_cookie_origin_names(c, st->scratch, consent_strip_search,
                                       &s);

    return s.rule;
}


static int
consent_strip_keep(void *data, const consent_cookie_t *c)
{
    consent_strip_t *st = data;

    const consent_rule_t  *rule;

    rule = consent_strip_match(st, c);
    if (rule == NULL) {
        return 1;
    }

    if (st->stripped && st->stripped(st->stripped_data, c, rule) != 0) {
        st->failed = 1;
    }

    return 0;
}


size_t
consent_strip_header(consent_strip_t *st, const unsigned char *p, size_t len,
    unsigned char *out, size_t *dropped)
{
    return consent_cookie_filter(p, len, out, consent_strip_keep, st,
                                 dropped);
}
