/*
 * Copyright (C) ngx_consent_module authors
 *
 * fuzz_rules: the input's lines and words, and the names and hosts to ask
 * the set about: taken from the rules (as written, in other cases, as the
 * set's own keys would spell them, longer than a rule can be), from the
 * input and from fixed lists; hosts from the domains of domain-only rules
 * (under them, in upper case, at the length limit), a few fixed ones and
 * some words of the input.
 */

#include <string.h>

#include "rules_inputs.h"


/* the input */

size_t
fuzz_split_lines(const unsigned char *p, size_t len, fuzz_str_t *lines,
    size_t max)
{
    size_t                n;
    const unsigned char  *end, *eol;

    n = 0;
    end = p + len;

    while (p < end && n < max) {
        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            eol = end;
        }

        lines[n].p = p;
        lines[n].len = (size_t) (eol - p);
        n++;

        p = eol + 1;
    }

    return n;
}


size_t
fuzz_split_words(const fuzz_str_t *line, fuzz_str_t *words, size_t max)
{
    size_t                n;
    const unsigned char  *p, *end, *start;

    n = 0;
    p = line->p;
    end = p + line->len;

    while (p < end && n < max) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) {
            p++;
        }

        start = p;

        while (p < end && *p != ' ' && *p != '\t' && *p != '\r') {
            p++;
        }

        if (p > start) {
            words[n].p = start;
            words[n].len = (size_t) (p - start);
            n++;
        }
    }

    return n;
}


size_t
fuzz_oom_at(const fuzz_str_t *line)
{
    size_t  i, v;

    if (line->len < 6 || memcmp(line->p, "#oom ", 5) != 0) {
        return 0;
    }

    v = 0;

    for (i = 5; i < line->len && i < 12; i++) {
        if (line->p[i] < '0' || line->p[i] > '9') {
            break;
        }

        v = v * 10 + (size_t) (line->p[i] - '0');
    }

    return v;
}


/* names and hosts made here */

static unsigned char
fuzz_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char) (c & ~0x20) : c;
}


static unsigned char *
fuzz_arena_take(fuzz_arena_t *a, size_t len)
{
    unsigned char  *p;

    if (a->cap - a->len < len) {
        return NULL;
    }

    p = a->buf + a->len;
    a->len += len;

    return p;
}


/*
 * prefix, then s in a case (0: as is, 'l', 'u'), then suffix; fill pads
 * with 'x' to that length.  Returns 0, or -1 when there is no room.
 */
static int
fuzz_make(fuzz_arena_t *a, fuzz_str_t *out, const char *prefix,
    const unsigned char *s, size_t len, int c, const char *suffix,
    size_t fill)
{
    size_t          i, plen, slen, total;
    unsigned char  *p;

    plen = strlen(prefix);
    slen = strlen(suffix);
    total = plen + len + slen;

    if (total < fill) {
        total = fill;
    }

    p = fuzz_arena_take(a, total);
    if (p == NULL) {
        return -1;
    }

    memcpy(p, prefix, plen);

    for (i = 0; i < len; i++) {
        p[plen + i] = (c == 'l') ? fuzz_lower(s[i])
                      : (c == 'u') ? fuzz_upper(s[i]) : s[i];
    }

    memcpy(p + plen + len, suffix, slen);
    memset(p + plen + len + slen, 'x', total - plen - len - slen);

    out->p = p;
    out->len = total;

    return 0;
}


/* a name as the set keys it (rules_int.h): a request may send one */
static int
fuzz_make_key(fuzz_arena_t *a, fuzz_str_t *out, const fuzz_str_t *d,
    const unsigned char *name, size_t len, int icase)
{
    size_t          i, total;
    unsigned char  *p, *q;

    total = (d ? d->len + 1 : 0) + (icase ? 1 : 0) + len;

    p = fuzz_arena_take(a, total);
    if (p == NULL) {
        return -1;
    }

    q = p;

    if (d) {
        for (i = 0; i < d->len; i++) {
            *q++ = fuzz_lower(d->p[i]);
        }

        *q++ = 0x01;
    }

    if (icase) {
        *q++ = 0x02;
    }

    for (i = 0; i < len; i++) {
        *q++ = icase ? fuzz_lower(name[i]) : name[i];
    }

    out->p = p;
    out->len = total;

    return 0;
}


/* the names of a rule: as written, in other cases, longer, as keys */
static size_t
fuzz_rule_names(const fuzz_rule_t *fr, const unsigned char *input,
    size_t size, fuzz_arena_t *a, fuzz_str_t *names)
{
    size_t                 n, k;
    fuzz_str_t             d;
    const consent_rule_t  *r;

    r = &fr->rule;
    n = 0;

    /* the pattern itself, one byte more and one byte less */
    names[n].p = r->pattern;
    names[n].len = r->pattern_len;
    n++;

    names[n].p = r->pattern;
    names[n].len = r->pattern_len - 1;
    n++;

    k = (size_t) (r->pattern - input) + r->pattern_len;

    if (k < size) {
        names[n].p = r->pattern;
        names[n].len = r->pattern_len + 1;
        n++;
    }

    if (r->kind == CONSENT_RULE_REGEX) {
        return n;
    }

    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 'l', "",
                    0) == 0);
    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 'u', "",
                    0) == 0);

    if (r->kind == CONSENT_RULE_PREFIX) {
        n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 'u',
                        "q", 0) == 0);
    }

    /* longer than any rule: a prefix still names it, an exact rule not */
    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len,
                    (r->flags & CONSENT_RULE_ICASE) ? 'u' : 0, "",
                    FUZZ_LONG_NAME) == 0);

    /* the set's own keys, and a marker byte after the name */
    n += (fuzz_make_key(a, &names[n], NULL, r->pattern, r->pattern_len, 1)
          == 0);
    n += (fuzz_make(a, &names[n], "", r->pattern, r->pattern_len, 0,
                    "\x01", 0) == 0);

    if (r->flags & CONSENT_RULE_DOMAIN_ONLY) {
        fuzz_rule_domain(r, &d);

        n += (fuzz_make_key(a, &names[n], &d, r->pattern, r->pattern_len, 0)
              == 0);
        n += (fuzz_make_key(a, &names[n], &d, r->pattern, r->pattern_len, 1)
              == 0);
    }

    return n;
}


/* hosts of a domain-only rule's domain: it, under it, upper case */
static size_t
fuzz_domain_hosts(const consent_rule_t *r, fuzz_arena_t *a,
    fuzz_str_t *hosts, int at_limit)
{
    size_t          n, total, extra;
    fuzz_str_t      d;
    unsigned char  *p;

    n = 0;

    hosts[n].p = r->domain;
    hosts[n].len = r->domain_len;
    n++;

    n += (fuzz_make(a, &hosts[n], "a.", r->domain, r->domain_len, 0, "", 0)
          == 0);
    n += (fuzz_make(a, &hosts[n], "", r->domain, r->domain_len, 'u', ".",
                    0) == 0);

    if (!at_limit) {
        return n;
    }

    /* under it, CONSENT_DOMAIN_MAX bytes long and one more */
    fuzz_rule_domain(r, &d);

    for (extra = 0; extra < 2; extra++) {
        total = CONSENT_DOMAIN_MAX + extra;

        if (d.len + 2 > total) {
            break;
        }

        p = fuzz_arena_take(a, total);
        if (p == NULL) {
            break;
        }

        memset(p, 'x', total - d.len - 1);
        p[total - d.len - 1] = '.';
        memcpy(p + total - d.len, d.p, d.len);

        hosts[n].p = p;
        hosts[n].len = total;
        n++;
    }

    return n;
}


/* the names to ask about: fixed ones, the rules', the input's */
size_t
fuzz_names(const fuzz_input_t *in, const fuzz_rule_t *rules, unsigned n,
    fuzz_arena_t *a, fuzz_str_t *names)
{
    size_t    i, nnames;
    unsigned  j;

    static const char  *fixed[] = {
        "_ga", "_gid", "_ga_XYZ123", "_fbp", "_gcl_au", "consent",
        "session", "a", "ab", "abc", "__utma", "IDE", "_hjSessionUser_1",
        "_GA", "uid", "UID", "\x02_ga", "\x01", "\x02",
        NULL
    };

    nnames = 0;

    for (i = 0; fixed[i] && nnames < FUZZ_MAX_NAMES; i++) {
        names[nnames].p = (const unsigned char *) fixed[i];
        names[nnames].len = strlen(fixed[i]);
        nnames++;
    }

    for (j = 0; j < n && nnames + FUZZ_RULE_NAMES <= FUZZ_MAX_RULE_NAMES;
         j++)
    {
        nnames += fuzz_rule_names(&rules[j], in->p, in->size, a,
                                  names + nnames);
    }

    /* raw lines (names never contain '\n' but may be anything else) */
    for (i = 0; i < in->nlines && nnames < FUZZ_MAX_NAMES; i++) {
        names[nnames++] = in->lines[i];
    }

    /* and the words of every line */
    for (i = 0; i < in->nlines && nnames < FUZZ_MAX_NAMES; i++) {
        nnames += fuzz_split_words(&in->lines[i], names + nnames,
                                   FUZZ_MAX_NAMES - nnames);
    }

    return nnames;
}


/* the hosts to ask about: fixed ones, the rules' domains, the input's */
size_t
fuzz_hosts(const fuzz_input_t *in, const fuzz_rule_t *rules, unsigned n,
    fuzz_arena_t *a, fuzz_str_t *hosts)
{
    int                    limit;
    size_t                 i, k, nhosts;
    unsigned               j, h;
    const consent_rule_t  *r;

    static const char     *fixed[] = {
        "", ".", "example.com", "WWW.Example.COM.", ".example.com",
        "a..b.example.com", "com",
        NULL
    };

    nhosts = 0;
    limit = 1;

    for (i = 0; fixed[i] && nhosts < FUZZ_MAX_HOSTS; i++) {
        hosts[nhosts].p = (const unsigned char *) fixed[i];
        hosts[nhosts].len = strlen(fixed[i]);
        nhosts++;
    }

    for (j = 0; j < n && nhosts + FUZZ_DOMAIN_HOSTS <= FUZZ_MAX_HOSTS; j++) {
        r = &rules[j].rule;

        if (!(r->flags & CONSENT_RULE_DOMAIN_ONLY)) {
            continue;
        }

        for (h = 0; h < j; h++) {
            if ((rules[h].rule.flags & CONSENT_RULE_DOMAIN_ONLY)
                && rules[h].rule.domain_len == r->domain_len
                && fuzz_caseeq(rules[h].rule.domain, r->domain,
                               r->domain_len))
            {
                break;
            }
        }

        if (h < j) {
            continue;
        }

        /* the length limit for the first domain */
        nhosts += fuzz_domain_hosts(r, a, hosts + nhosts, limit);
        limit = 0;
    }

    /* the domain= of rules and words of the input, last lines first */
    for (j = 0; j < n && nhosts < FUZZ_MAX_HOSTS; j++) {
        if (rules[j].rule.domain_len
            && !(rules[j].rule.flags & CONSENT_RULE_DOMAIN_ONLY))
        {
            hosts[nhosts].p = rules[j].rule.domain;
            hosts[nhosts].len = rules[j].rule.domain_len;
            nhosts++;
        }
    }

    for (i = in->nlines; i > 0 && nhosts < FUZZ_MAX_HOSTS; i--) {
        k = FUZZ_MAX_HOSTS - nhosts;
        nhosts += fuzz_split_words(&in->lines[i - 1], hosts + nhosts,
                                   k < 4 ? k : 4);
    }

    return nhosts;
}
