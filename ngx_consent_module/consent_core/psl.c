/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Public Suffix List matcher.  Every rule is kept as its text (an
 * exception without its '!', IDN labels as A-labels) in one open-addressing
 * hash (FNV-1a, linear probing, load at most 1/2), with a flag for "rule"
 * and one for "exception": "www.ck" and "!www.ck" share an entry.  The
 * hash runs over the text from its last byte to its first, so that a
 * lookup walking a host's labels from the right extends one running hash
 * by one label per step instead of hashing each suffix anew; the wildcard
 * key "*.<suffix>" is the same running hash with ".*" added.  A lookup is
 * two probes per label, and stops at the most labels any rule has.
 */

#include <string.h>

#include "consent_core.h"
#include "psl.h"


#define CONSENT_PSL_RULE        0x01
#define CONSENT_PSL_EXCEPTION   0x02

#define CONSENT_PSL_FNV_INIT    2166136261u

/* rule text is copied into chunks of this size */
#define CONSENT_PSL_CHUNK       16384

/* 16M rules (the list has 10,000): no size computation can overflow */
#define CONSENT_PSL_RULES_MAX   (1u << 24)


typedef struct {
    const unsigned char       *text;        /* lowercase, not terminated */
    uint32_t                   hash;
    uint8_t                    len;
    uint8_t                    flags;
} consent_psl_rule_t;


struct consent_psl_s {
    consent_alloc_t            alloc;

    consent_psl_rule_t        *rules;
    unsigned                   nrules;      /* entries */
    unsigned                   rules_cap;
    unsigned                   count;       /* rules, exceptions apart */
    unsigned                   maxlabels;

    uint32_t                  *slots;       /* entry index + 1, or 0 */
    uint32_t                   mask;

    unsigned char             *chunk;
    size_t                     chunk_left;
};


static int consent_psl_reserve(consent_psl_t *psl, size_t more);
static int consent_psl_rule(const unsigned char *p, size_t len,
    unsigned char *out, size_t *olen, unsigned *flags, unsigned *labels,
    const char **err);
static int consent_psl_punycode(const unsigned char *p, size_t len,
    unsigned char *out, size_t *olen, const char **err);
static uint32_t consent_psl_adapt(uint32_t delta, uint32_t npoints,
    int first);
static int consent_psl_add(consent_psl_t *psl, const unsigned char *text,
    size_t len, unsigned flags, unsigned labels);
static unsigned consent_psl_probe(const consent_psl_t *psl, uint32_t hash,
    const unsigned char *pre, size_t pre_len, const unsigned char *p,
    size_t len);


static uint32_t
consent_psl_fnv(uint32_t h, unsigned char c)
{
    return (h ^ c) * 16777619u;
}


static unsigned char
consent_psl_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}


/* what a host label may hold; rules have the same, lowercase */
static int
consent_psl_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_';
}


static int
consent_psl_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}


consent_psl_t *
consent_psl_create(const consent_alloc_t *a)
{
    consent_psl_t  *psl;

    psl = a->alloc(a->data, sizeof(consent_psl_t));
    if (psl == NULL) {
        return NULL;
    }

    memset(psl, 0, sizeof(consent_psl_t));
    psl->alloc = *a;

    return psl;
}


unsigned
consent_psl_count(const consent_psl_t *psl)
{
    return psl ? psl->count : 0;
}


int
consent_psl_parse(consent_psl_t *psl, const unsigned char *p, size_t len,
    unsigned *err_line, const char **err)
{
    size_t                olen, lines;
    unsigned              line, flags, labels;
    const char           *e;
    const unsigned char  *pos, *end, *eol, *s, *t;
    unsigned char         text[CONSENT_PSL_HOST_MAX + 1];

    end = p + len;

    /*
     * Only a line that starts with neither '/' nor '\n' can add a rule
     * (one starting "/x" is an error before it adds any): with room for
     * that many, the table is allocated once per file.
     */
    lines = 0;

    for (pos = p; pos < end; pos = eol + 1) {
        eol = memchr(pos, '\n', (size_t) (end - pos));
        if (eol == NULL) {
            eol = end;
        }

        lines += (eol > pos && *pos != '/');
    }

    line = 0;
    e = NULL;

    if (lines > CONSENT_PSL_RULES_MAX - psl->nrules) {
        e = "too many rules";
        goto failed;
    }

    if (consent_psl_reserve(psl, lines) != 0) {
        e = "out of memory";
        goto failed;
    }

    for (pos = p; pos < end; pos = eol + 1) {
        line++;

        eol = memchr(pos, '\n', (size_t) (end - pos));
        if (eol == NULL) {
            eol = end;
        }

        for (s = pos; s < eol && consent_psl_space(*s); s++) { /* void */ }

        if (s == eol || (eol - s >= 2 && s[0] == '/' && s[1] == '/')) {
            continue;
        }

        /* a rule ends at the first whitespace; what follows is ignored */
        for (t = s; t < eol && !consent_psl_space(*t); t++) { /* void */ }

        if (consent_psl_rule(s, (size_t) (t - s), text, &olen, &flags,
                             &labels, &e)
            != 0)
        {
            goto failed;
        }

        if (consent_psl_add(psl, text, olen, flags, labels) != 0) {
            e = "out of memory";
            goto failed;
        }
    }

    return 0;

failed:

    if (err_line) {
        *err_line = line;
    }

    if (err) {
        *err = e;
    }

    return -1;
}


/* room for more entries without a rehash, the table at most half full */
static int
consent_psl_reserve(consent_psl_t *psl, size_t more)
{
    size_t               need, size, i;
    uint32_t             h, *slots;
    consent_psl_rule_t  *rules;

    need = psl->nrules + more;

    if (need > psl->rules_cap) {
        rules = psl->alloc.alloc(psl->alloc.data,
                                 need * sizeof(consent_psl_rule_t));
        if (rules == NULL) {
            return -1;
        }

        if (psl->nrules) {
            memcpy(rules, psl->rules,
                   psl->nrules * sizeof(consent_psl_rule_t));
        }

        psl->rules = rules;
        psl->rules_cap = (unsigned) need;
    }

    for (size = 16; size < need * 2; size *= 2) { /* void */ }

    if (psl->slots && size <= (size_t) psl->mask + 1) {
        return 0;
    }

    slots = psl->alloc.alloc(psl->alloc.data, size * sizeof(uint32_t));
    if (slots == NULL) {
        return -1;
    }

    memset(slots, 0, size * sizeof(uint32_t));

    for (i = 0; i < psl->nrules; i++) {
        h = psl->rules[i].hash & (uint32_t) (size - 1);

        while (slots[h]) {
            h = (h + 1) & (uint32_t) (size - 1);
        }

        slots[h] = (uint32_t) i + 1;
    }

    psl->slots = slots;
    psl->mask = (uint32_t) (size - 1);

    return 0;
}


/*
 * One rule as written into its stored form in out (at most 253 bytes):
 * the '!' taken off into *flags, ASCII folded to lowercase, IDN labels
 * encoded.  0, or -1 and *err.
 */
static int
consent_psl_rule(const unsigned char *p, size_t len, unsigned char *out,
    size_t *olen, unsigned *flags, unsigned *labels, const char **err)
{
    size_t          i, s, o, n, j;
    unsigned        nl;
    unsigned char   c, label[CONSENT_PSL_LABEL_MAX];

    *flags = CONSENT_PSL_RULE;

    if (len && p[0] == '!') {
        *flags = CONSENT_PSL_EXCEPTION;
        p++;
        len--;
    }

    if (len == 0) {
        *err = "empty rule";
        return -1;
    }

    o = 0;
    nl = 0;
    s = 0;

    for (i = 0; i <= len; i++) {

        if (i < len && p[i] != '.') {
            continue;
        }

        /* the label p[s, i) */

        if (i == s) {
            *err = "empty label";
            return -1;
        }

        if (i - s == 1 && p[s] == '*') {
            if (nl) {
                *err = "wildcard \"*\" not the leftmost label";
                return -1;
            }

            if (*flags & CONSENT_PSL_EXCEPTION) {
                *err = "wildcard \"*\" in an exception";
                return -1;
            }

            label[0] = '*';
            n = 1;

        } else {
            for (j = s; j < i && p[j] < 0x80; j++) { /* void */ }

            if (j < i) {
                if (consent_psl_punycode(p + s, i - s, label, &n, err) != 0)
                {
                    return -1;
                }

            } else {
                if (i - s > CONSENT_PSL_LABEL_MAX) {
                    *err = "label longer than 63 bytes";
                    return -1;
                }

                for (j = s; j < i; j++) {
                    c = consent_psl_lower(p[j]);

                    if (!consent_psl_ldh(c)) {
                        *err = "invalid character";
                        return -1;
                    }

                    label[j - s] = c;
                }

                n = i - s;
            }
        }

        if (o + (nl ? 1 : 0) + n > CONSENT_PSL_HOST_MAX) {
            *err = "rule longer than 253 bytes";
            return -1;
        }

        if (nl) {
            out[o++] = '.';
        }

        memcpy(out + o, label, n);
        o += n;
        nl++;
        s = i + 1;
    }

    if ((*flags & CONSENT_PSL_EXCEPTION) && nl < 2) {
        *err = "exception with one label";
        return -1;
    }

    *olen = o;
    *labels = nl;

    return 0;
}


/*
 * RFC 3492 Punycode: a UTF-8 label into "xn--..." in out (at most 63
 * bytes).  Basic code points are checked as in an ASCII label.
 */

#define CONSENT_PUNY_BASE       36
#define CONSENT_PUNY_TMIN       1
#define CONSENT_PUNY_TMAX       26
#define CONSENT_PUNY_SKEW       38
#define CONSENT_PUNY_DAMP       700

static int
consent_psl_punycode(const unsigned char *p, size_t len, unsigned char *out,
    size_t *olen, const char **err)
{
    size_t    i, ncp, o, j, b, h, need;
    uint32_t  cp[CONSENT_PSL_LABEL_MAX], c, n, m, delta, bias, q, k, t, d;

    ncp = 0;

    for (i = 0; i < len; /* void */ ) {
        c = p[i];

        if (c < 0x80) {
            c = consent_psl_lower((unsigned char) c);

            if (!consent_psl_ldh((unsigned char) c)) {
                *err = "invalid character";
                return -1;
            }

            i++;

        } else {
            /* strict UTF-8: no overlongs, no surrogates, to U+10FFFF */
            if (c >= 0xc2 && c <= 0xdf) {
                need = 1;
                c &= 0x1f;

            } else if (c >= 0xe0 && c <= 0xef) {
                need = 2;
                c &= 0x0f;

            } else if (c >= 0xf0 && c <= 0xf4) {
                need = 3;
                c &= 0x07;

            } else {
                goto invalid;
            }

            if (len - i - 1 < need) {
                goto invalid;
            }

            for (j = 1; j <= need; j++) {
                if ((p[i + j] & 0xc0) != 0x80) {
                    goto invalid;
                }

                c = (c << 6) | (p[i + j] & 0x3f);
            }

            if ((need == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
                || (need == 3 && (c < 0x10000 || c > 0x10ffff)))
            {
                goto invalid;
            }

            i += need + 1;
        }

        /* each code point is one output byte at least, after "xn--" */
        if (ncp == CONSENT_PSL_LABEL_MAX - 4) {
            goto too_long;
        }

        cp[ncp++] = c;
    }

    memcpy(out, "xn--", 4);
    o = 4;

    for (j = 0; j < ncp; j++) {
        if (cp[j] < 0x80) {
            out[o++] = (unsigned char) cp[j];
        }
    }

    b = o - 4;

    if (b) {
        if (o == CONSENT_PSL_LABEL_MAX) {
            goto too_long;
        }

        out[o++] = '-';
    }

    /* ncp < 60 and c <= 0x10ffff keep delta far below 2^32 */
    h = b;
    n = 0x80;
    delta = 0;
    bias = 72;

    while (h < ncp) {
        m = 0xffffffff;

        for (j = 0; j < ncp; j++) {
            if (cp[j] >= n && cp[j] < m) {
                m = cp[j];
            }
        }

        delta += (m - n) * (uint32_t) (h + 1);
        n = m;

        for (j = 0; j < ncp; j++) {
            if (cp[j] < n) {
                delta++;
                continue;
            }

            if (cp[j] != n) {
                continue;
            }

            q = delta;

            for (k = CONSENT_PUNY_BASE; /* void */; k += CONSENT_PUNY_BASE) {
                t = (k <= bias) ? CONSENT_PUNY_TMIN
                    : (k >= bias + CONSENT_PUNY_TMAX) ? CONSENT_PUNY_TMAX
                    : k - bias;

                if (q < t) {
                    break;
                }

                d = t + (q - t) % (CONSENT_PUNY_BASE - t);
                q = (q - t) / (CONSENT_PUNY_BASE - t);

                if (o == CONSENT_PSL_LABEL_MAX) {
                    goto too_long;
                }

                out[o++] = (unsigned char) (d < 26 ? 'a' + d : '0' + d - 26);
            }

            if (o == CONSENT_PSL_LABEL_MAX) {
                goto too_long;
            }

            out[o++] = (unsigned char) (q < 26 ? 'a' + q : '0' + q - 26);

            bias = consent_psl_adapt(delta, (uint32_t) (h + 1), h == b);
            delta = 0;
            h++;
        }

        delta++;
        n++;
    }

    *olen = o;

    return 0;

invalid:

    *err = "invalid UTF-8";
    return -1;

too_long:

    *err = "label longer than 63 bytes";
    return -1;
}


static uint32_t
consent_psl_adapt(uint32_t delta, uint32_t npoints, int first)
{
    uint32_t  k;

    delta = first ? delta / CONSENT_PUNY_DAMP : delta / 2;
    delta += delta / npoints;

    for (k = 0;
         delta > ((CONSENT_PUNY_BASE - CONSENT_PUNY_TMIN) * CONSENT_PUNY_TMAX)
                 / 2;
         k += CONSENT_PUNY_BASE)
    {
        delta /= CONSENT_PUNY_BASE - CONSENT_PUNY_TMIN;
    }

    return k + ((CONSENT_PUNY_BASE - CONSENT_PUNY_TMIN + 1) * delta)
               / (delta + CONSENT_PUNY_SKEW);
}


/* the text's hash, last byte first (see the top of the file) */
static uint32_t
consent_psl_hash(const unsigned char *p, size_t len)
{
    uint32_t  h;

    h = CONSENT_PSL_FNV_INIT;

    while (len--) {
        h = consent_psl_fnv(h, p[len]);
    }

    return h;
}


static int
consent_psl_add(consent_psl_t *psl, const unsigned char *text, size_t len,
    unsigned flags, unsigned labels)
{
    size_t               size;
    uint32_t             hash, h, cur;
    consent_psl_rule_t  *r;

    hash = consent_psl_hash(text, len);

    for (h = hash & psl->mask; (cur = psl->slots[h]) != 0;
         h = (h + 1) & psl->mask)
    {
        r = &psl->rules[cur - 1];

        if (r->hash == hash && r->len == len
            && memcmp(r->text, text, len) == 0)
        {
            if (!(r->flags & flags)) {
                r->flags = (uint8_t) (r->flags | flags);
                psl->count++;
            }

            return 0;
        }
    }

    /* consent_psl_reserve() made room for every line */
    if (psl->nrules >= psl->rules_cap) {
        return -1;
    }

    if (psl->chunk_left < len) {
        size = CONSENT_PSL_CHUNK;

        psl->chunk = psl->alloc.alloc(psl->alloc.data, size);
        if (psl->chunk == NULL) {
            psl->chunk_left = 0;
            return -1;
        }

        psl->chunk_left = size;
    }

    r = &psl->rules[psl->nrules];

    memcpy(psl->chunk, text, len);
    r->text = psl->chunk;
    r->hash = hash;
    r->len = (uint8_t) len;
    r->flags = (uint8_t) flags;

    psl->chunk += len;
    psl->chunk_left -= len;

    psl->slots[h] = ++psl->nrules;
    psl->count++;

    if (labels > psl->maxlabels) {
        psl->maxlabels = labels;
    }

    return 0;
}


/*
 * The flags of the entry whose text is pre (lowercase) followed by p
 * (any case), whose backward hash is hash; 0 if none.
 */
static unsigned
consent_psl_probe(const consent_psl_t *psl, uint32_t hash,
    const unsigned char *pre, size_t pre_len, const unsigned char *p,
    size_t len)
{
    size_t                     i;
    uint32_t                   h, cur;
    const consent_psl_rule_t  *r;

    for (h = hash & psl->mask; (cur = psl->slots[h]) != 0;
         h = (h + 1) & psl->mask)
    {
        r = &psl->rules[cur - 1];

        if (r->hash != hash || r->len != pre_len + len
            || memcmp(r->text, pre, pre_len) != 0)
        {
            continue;
        }

        for (i = 0; i < len; i++) {
            if (r->text[pre_len + i] != consent_psl_lower(p[i])) {
                break;
            }
        }

        if (i == len) {
            return r->flags;
        }
    }

    return 0;
}


size_t
consent_psl_registrable(const consent_psl_t *psl, const unsigned char *host,
    size_t len)
{
    size_t         end, i, j, lab;
    uint32_t       h, hw;
    unsigned       n, k, best, exc, want, flags;
    unsigned char  c, start[CONSENT_PSL_HOST_MAX / 2 + 1];

    if (psl == NULL || host == NULL) {
        return 0;
    }

    end = len;

    if (end && host[end - 1] == '.') {
        end--;
    }

    if (end == 0 || end > CONSENT_PSL_HOST_MAX) {
        return 0;
    }

    /* the whole host is checked, and where its labels start noted */
    n = 0;
    lab = 0;

    for (i = 0; i < end; i++) {
        c = host[i];

        if (c == '.') {
            if (lab == 0) {
                return 0;
            }

            lab = 0;
            continue;
        }

        if (!consent_psl_ldh(consent_psl_lower(c))) {
            return 0;
        }

        if (lab == 0) {
            start[n++] = (unsigned char) i;
        }

        if (++lab > CONSENT_PSL_LABEL_MAX) {
            return 0;
        }
    }

    if (lab == 0) {
        return 0;
    }

    /* an IPv4 address, as a URL parser reads one: "1.2.3.4", "0x7f.1" */
    i = start[n - 1];

    if (end - i >= 2 && host[i] == '0' && (host[i + 1] | 0x20) == 'x') {
        for (j = i + 2; j < end; j++) {
            c = host[j] | 0x20;

            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                break;
            }
        }

    } else {
        for (j = i; j < end && host[j] >= '0' && host[j] <= '9'; j++) {
            /* void */
        }
    }

    if (j == end) {
        return 0;
    }

    /*
     * Suffixes of 1, 2, ... labels: host[i, end) is the one of k - 1
     * labels and h its backward hash.  Each is looked up as a rule (or
     * exception), and "*.<the one before>" as a wildcard rule.
     */
    best = 0;
    exc = 0;
    h = CONSENT_PSL_FNV_INIT;
    i = end;

    for (k = 1; k <= n && k <= psl->maxlabels; k++) {

        if (k > 1) {
            hw = consent_psl_fnv(consent_psl_fnv(h, '.'), '*');

            if (consent_psl_probe(psl, hw, (const unsigned char *) "*.", 2,
                                  host + i, end - i)
                & CONSENT_PSL_RULE)
            {
                best = k;
            }

            h = consent_psl_fnv(h, '.');
            i--;
        }

        for (j = i; j > start[n - k]; /* void */ ) {
            j--;
            h = consent_psl_fnv(h, consent_psl_lower(host[j]));
        }

        i = j;

        flags = consent_psl_probe(psl, h, (const unsigned char *) "", 0,
                                  host + i, end - i);

        if (flags & CONSENT_PSL_RULE) {
            best = k;
        }

        if (flags & CONSENT_PSL_EXCEPTION) {
            exc = k;
        }
    }

    /* an exception's public suffix is the rule less its leftmost label */
    if (exc) {
        want = exc;

    } else {
        /* "*" alone is the implicit rule: one label */
        want = (best ? best : 1) + 1;
    }

    if (want > n) {
        return 0;
    }

    return len - start[n - want];
}
