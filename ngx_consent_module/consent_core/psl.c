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
#include "punycode.h"


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


static int consent_psl_error(consent_err_t *err, int code, unsigned line,
    const unsigned char *at, size_t len);
static int consent_psl_room(consent_psl_t *psl, const unsigned char *p,
    const unsigned char *end);
static int consent_psl_reserve(consent_psl_t *psl, size_t more);
static int consent_psl_rule(const unsigned char *p, size_t len,
    unsigned char *out, size_t *olen, unsigned *flags, unsigned *labels);
static int consent_psl_label(const unsigned char *p, size_t len,
    unsigned before, unsigned flags, unsigned char *out, size_t *olen);
static int consent_psl_punycode(const unsigned char *p, size_t len,
    unsigned char *out, size_t *olen);
static int consent_psl_code_points(const unsigned char *p, size_t len,
    uint32_t *cp, size_t *ncp);
static int consent_psl_add(consent_psl_t *psl, const unsigned char *text,
    size_t len, unsigned flags, unsigned labels);
static unsigned consent_psl_probe(const consent_psl_t *psl, uint32_t hash,
    const unsigned char *pre, size_t pre_len, const unsigned char *p,
    size_t len);
static unsigned consent_psl_host_labels(const unsigned char *host,
    size_t end, unsigned char *start);
static int consent_psl_numeric(const unsigned char *p, size_t len);
static unsigned consent_psl_suffix(const consent_psl_t *psl,
    const unsigned char *host, size_t end, const unsigned char *start,
    unsigned n);


/* err->msg of each CONSENT_PSL_E_* code */
static const char  *consent_psl_errors[] = {
    NULL,
    "empty rule",                               /* CONSENT_PSL_E_EMPTY_RULE */
    "empty label",                              /* ..._EMPTY_LABEL */
    "wildcard \"*\" not the leftmost label",    /* ..._WILDCARD */
    "wildcard \"*\" in an exception",           /* ..._WILDCARD_EXC */
    "exception with one label",                 /* ..._EXCEPTION */
    "invalid character",                        /* ..._CHAR */
    "invalid UTF-8",                            /* ..._UTF8 */
    "label longer than 63 bytes",               /* ..._LABEL_LONG */
    "rule longer than 253 bytes",               /* ..._RULE_LONG */
    "too many rules",                           /* ..._TOO_MANY */
    "out of memory"                             /* ..._NOMEM */
};


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
    consent_err_t *err)
{
    int                   code;
    size_t                olen;
    unsigned              line, flags, labels;
    const unsigned char  *pos, *end, *eol, *s, *t;
    unsigned char         text[CONSENT_PSL_HOST_MAX + 1];

    end = p + len;

    code = consent_psl_room(psl, p, end);
    if (code) {
        return consent_psl_error(err, code, 0, p, 0);
    }

    line = 0;

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

        code = consent_psl_rule(s, (size_t) (t - s), text, &olen, &flags,
                                &labels);

        if (code == 0 && consent_psl_add(psl, text, olen, flags, labels) != 0)
        {
            code = CONSENT_PSL_E_NOMEM;
        }

        if (code) {
            return consent_psl_error(err, code, line, s, (size_t) (t - s));
        }
    }

    return 0;
}


static int
consent_psl_error(consent_err_t *err, int code, unsigned line,
    const unsigned char *at, size_t len)
{
    if (err) {
        consent_fail(err, code, consent_psl_errors[code], at, len);
        err->line = line;
    }

    return -1;
}


/*
 * Only a line that starts with neither '/' nor '\n' can add a rule (one
 * starting "/x" is an error before it adds any): with room for that many,
 * the table is allocated once per file.  0 or a CONSENT_PSL_E_* code.
 */
static int
consent_psl_room(consent_psl_t *psl, const unsigned char *p,
    const unsigned char *end)
{
    size_t                lines;
    const unsigned char  *pos, *eol;

    lines = 0;

    for (pos = p; pos < end; pos = eol + 1) {
        eol = memchr(pos, '\n', (size_t) (end - pos));
        if (eol == NULL) {
            eol = end;
        }

        lines += (eol > pos && *pos != '/');
    }

    if (lines > CONSENT_PSL_RULES_MAX - psl->nrules) {
        return CONSENT_PSL_E_TOO_MANY;
    }

    if (consent_psl_reserve(psl, lines) != 0) {
        return CONSENT_PSL_E_NOMEM;
    }

    return 0;
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
 * encoded.  0 or a CONSENT_PSL_E_* code.
 */
static int
consent_psl_rule(const unsigned char *p, size_t len, unsigned char *out,
    size_t *olen, unsigned *flags, unsigned *labels)
{
    int            code;
    size_t         i, s, o, n;
    unsigned       nl;
    unsigned char  label[CONSENT_PSL_LABEL_MAX];

    *flags = CONSENT_PSL_RULE;

    if (len && p[0] == '!') {
        *flags = CONSENT_PSL_EXCEPTION;
        p++;
        len--;
    }

    if (len == 0) {
        return CONSENT_PSL_E_EMPTY_RULE;
    }

    o = 0;
    nl = 0;
    s = 0;

    for (i = 0; i <= len; i++) {

        if (i < len && p[i] != '.') {
            continue;
        }

        /* the label p[s, i) */
        code = consent_psl_label(p + s, i - s, nl, *flags, label, &n);
        if (code) {
            return code;
        }

        if (o + (nl ? 1 : 0) + n > CONSENT_PSL_HOST_MAX) {
            return CONSENT_PSL_E_RULE_LONG;
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
        return CONSENT_PSL_E_EXCEPTION;
    }

    *olen = o;
    *labels = nl;

    return 0;
}


/*
 * One label of a rule, with before labels to its left, into out (at most
 * 63 bytes): the wildcard, an ASCII label lowercase, or an IDN label's
 * A-label.  0 or a CONSENT_PSL_E_* code.
 */
static int
consent_psl_label(const unsigned char *p, size_t len, unsigned before,
    unsigned flags, unsigned char *out, size_t *olen)
{
    size_t         j;
    unsigned char  c;

    *olen = 0;

    if (len == 0) {
        return CONSENT_PSL_E_EMPTY_LABEL;
    }

    if (len == 1 && p[0] == '*') {
        if (before) {
            return CONSENT_PSL_E_WILDCARD;
        }

        if (flags & CONSENT_PSL_EXCEPTION) {
            return CONSENT_PSL_E_WILDCARD_EXC;
        }

        out[0] = '*';
        *olen = 1;

        return 0;
    }

    for (j = 0; j < len && p[j] < 0x80; j++) { /* void */ }

    if (j < len) {
        return consent_psl_punycode(p, len, out, olen);
    }

    if (len > CONSENT_PSL_LABEL_MAX) {
        return CONSENT_PSL_E_LABEL_LONG;
    }

    for (j = 0; j < len; j++) {
        c = consent_psl_lower(p[j]);

        if (!consent_psl_ldh(c)) {
            return CONSENT_PSL_E_CHAR;
        }

        out[j] = c;
    }

    *olen = len;

    return 0;
}


/*
 * RFC 3492 Punycode: a UTF-8 label into "xn--..." in out (at most 63
 * bytes).  Basic code points are checked as in an ASCII label.  0 or a
 * CONSENT_PSL_E_* code.
 */
static int
consent_psl_punycode(const unsigned char *p, size_t len, unsigned char *out,
    size_t *olen)
{
    int       code;
    size_t    ncp;
    uint32_t  cp[CONSENT_PSL_LABEL_MAX];

    code = consent_psl_code_points(p, len, cp, &ncp);
    if (code) {
        return code;
    }

    if (consent_punycode_label(cp, ncp, out, olen) != 0) {
        return CONSENT_PSL_E_LABEL_LONG;
    }

    return 0;
}


/*
 * The label's code points into cp, ASCII ones lowercase: at most 59, as
 * each is one output byte at least, after "xn--".
 */
static int
consent_psl_code_points(const unsigned char *p, size_t len, uint32_t *cp,
    size_t *ncp)
{
    size_t    i, n;
    uint32_t  c;

    *ncp = 0;

    for (i = 0; i < len; i += n) {
        c = p[i];
        n = 1;

        if (c < 0x80) {
            c = consent_psl_lower((unsigned char) c);

            if (!consent_psl_ldh((unsigned char) c)) {
                return CONSENT_PSL_E_CHAR;
            }

        } else if (consent_utf8_decode(p + i, len - i, &c, &n) != 0) {
            return CONSENT_PSL_E_UTF8;
        }

        if (*ncp == CONSENT_PSL_LABEL_MAX - 4) {
            return CONSENT_PSL_E_LABEL_LONG;
        }

        cp[(*ncp)++] = c;
    }

    return 0;
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
    size_t         end;
    unsigned       n, want;
    unsigned char  start[CONSENT_PSL_HOST_MAX / 2 + 1];

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

    n = consent_psl_host_labels(host, end, start);

    if (n == 0 || consent_psl_numeric(host + start[n - 1], end - start[n - 1]))
    {
        return 0;
    }

    /* the public suffix and one label more */
    want = consent_psl_suffix(psl, host, end, start, n) + 1;

    if (want > n) {
        return 0;
    }

    return len - start[n - want];
}


/*
 * The whole host[0, end) checked and where its labels start noted in
 * start: their number, or 0 for an empty label, a label longer than 63
 * or a byte outside [A-Za-z0-9_-].
 */
static unsigned
consent_psl_host_labels(const unsigned char *host, size_t end,
    unsigned char *start)
{
    size_t         i, lab;
    unsigned       n;
    unsigned char  c;

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

    return lab ? n : 0;
}


/*
 * 1 when the last label makes the host an IPv4 address, as a URL parser
 * reads one: "1.2.3.4", "0x7f.1".
 */
static int
consent_psl_numeric(const unsigned char *p, size_t len)
{
    size_t         j;
    unsigned char  c;

    if (len >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        for (j = 2; j < len; j++) {
            c = p[j] | 0x20;

            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                break;
            }
        }

    } else {
        for (j = 0; j < len && p[j] >= '0' && p[j] <= '9'; j++) {
            /* void */
        }
    }

    return j == len;
}


/*
 * The labels of the host's public suffix: those of the matching rule with
 * the most, an exception's less its leftmost label, or 1 for the implicit
 * "*" rule.
 *
 * Suffixes of 1, 2, ... labels: host[i, end) is the one of k - 1 labels
 * and h its backward hash.  Each is looked up as a rule (or exception),
 * and "*.<the one before>" as a wildcard rule.
 */
static unsigned
consent_psl_suffix(const consent_psl_t *psl, const unsigned char *host,
    size_t end, const unsigned char *start, unsigned n)
{
    size_t    i, j;
    uint32_t  h, hw;
    unsigned  k, best, exc, flags;

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

    if (exc) {
        return exc - 1;
    }

    return best ? best : 1;
}
