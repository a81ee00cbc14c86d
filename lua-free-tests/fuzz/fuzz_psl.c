/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the Public Suffix List parser and lookup.
 *
 * The input is a list's text, then optionally a NUL byte and hosts, one a
 * line; without a NUL, each line of the list is also asked as a host, and
 * so is the whole input.  The list is parsed twice: in one go, and in two
 * calls split at a line boundary, which must give the same lists.
 *
 * When the list is all ASCII and short, a model checks the parser (which
 * line fails, how many rules) and every answer: each rule matched against
 * the host label by label, as publicsuffix.org/list/ describes it.  Every
 * answer, whatever the list, must also keep the header's promises: 0 or a
 * suffix of the host on a label boundary; the same for the registrable
 * domain asked again (idempotent), in another letter case, or with a
 * trailing dot (one byte longer).  Hosts are also asked of the real list
 * when Debian's publicsuffix package is installed.  A list that fails
 * must say why as the header promises: a code and its message, the line,
 * and that line's rule as written, which the code fits.
 *
 * A first line "//oom N" (a comment to the parser) makes the N-th
 * allocation and all later ones fail, to walk the out-of-memory paths.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "psl.h"
#include "fuzz.h"


#define FUZZ_REAL_LIST       "/usr/share/publicsuffix/public_suffix_list.dat"
#define FUZZ_MAX_RULES       256
#define FUZZ_MAX_HOSTS       256

#define FUZZ_RULE            1
#define FUZZ_EXCEPTION       2


typedef struct {
    unsigned char          text[CONSENT_PSL_HOST_MAX + 1];
    size_t                 len;
    unsigned               kind;
} fuzz_rule_t;


typedef struct {
    fuzz_rule_t           *rules;
    unsigned               n;
    unsigned               count;       /* distinct (text, kind) */
    unsigned               err_line;    /* 0: parses */
} fuzz_model_t;


static fuzz_rule_t     fuzz_model_rules[FUZZ_MAX_RULES];
static consent_psl_t  *fuzz_real;
static fuzz_pool_t     fuzz_real_pool;
static int             fuzz_ready;


static unsigned char
fuzz_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + 32) : c;
}


static int
fuzz_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}


static int
fuzz_ldh(unsigned char c)
{
    c = fuzz_lower(c);

    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_';
}


/* the model: the list's rules, as the header describes them */

static int
fuzz_model_rule(const unsigned char *p, size_t len, fuzz_rule_t *r)
{
    size_t    i, s, nl;

    r->kind = FUZZ_RULE;

    if (len && p[0] == '!') {
        r->kind = FUZZ_EXCEPTION;
        p++;
        len--;
    }

    if (len == 0 || len > CONSENT_PSL_HOST_MAX) {
        return -1;
    }

    nl = 0;
    s = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != '.') {
            if (!fuzz_ldh(p[i]) && p[i] != '*') {
                return -1;
            }

            continue;
        }

        if (i == s || i - s > CONSENT_PSL_LABEL_MAX) {
            return -1;
        }

        if (memchr(p + s, '*', i - s)
            && (i - s != 1 || nl || r->kind == FUZZ_EXCEPTION))
        {
            return -1;
        }

        nl++;
        s = i + 1;
    }

    if (r->kind == FUZZ_EXCEPTION && nl < 2) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        r->text[i] = fuzz_lower(p[i]);
    }

    r->len = len;

    return 0;
}


/* 1: the model knows this list; 0: too big or not ASCII */
static int
fuzz_model_parse(const unsigned char *p, size_t len, fuzz_model_t *m)
{
    size_t                i;
    unsigned              line, j;
    fuzz_rule_t          *r;
    const unsigned char  *pos, *end, *eol, *s, *t;

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            return 0;
        }
    }

    m->n = 0;
    m->count = 0;
    m->err_line = 0;

    end = p + len;
    line = 0;

    for (pos = p; pos < end; pos = eol + 1) {
        line++;

        eol = memchr(pos, '\n', (size_t) (end - pos));
        if (eol == NULL) {
            eol = end;
        }

        for (s = pos; s < eol && fuzz_space(*s); s++) { /* void */ }

        if (s == eol || (eol - s >= 2 && s[0] == '/' && s[1] == '/')) {
            continue;
        }

        for (t = s; t < eol && !fuzz_space(*t); t++) { /* void */ }

        if (m->n == FUZZ_MAX_RULES) {
            return 0;
        }

        r = &m->rules[m->n];

        if (fuzz_model_rule(s, (size_t) (t - s), r) != 0) {
            m->err_line = line;
            return 1;
        }

        for (j = 0; j < m->n; j++) {
            if (m->rules[j].len == r->len && m->rules[j].kind == r->kind
                && memcmp(m->rules[j].text, r->text, r->len) == 0)
            {
                break;
            }
        }

        if (j == m->n) {
            m->count++;
        }

        m->n++;
    }

    return 1;
}


/* the model's answer: rules tried one by one, right-aligned on labels */
static size_t
fuzz_model_registrable(const fuzz_model_t *m, const unsigned char *host,
    size_t len)
{
    size_t              end, i, j, lab, n, k, best, exc, want, rn;
    size_t              start[CONSENT_PSL_HOST_MAX + 1];
    unsigned char       c;
    const fuzz_rule_t  *r;

    end = len;

    if (end && host[end - 1] == '.') {
        end--;
    }

    if (end == 0 || end > CONSENT_PSL_HOST_MAX) {
        return 0;
    }

    n = 0;
    lab = 0;

    for (i = 0; i < end; i++) {
        if (host[i] == '.') {
            if (lab == 0) {
                return 0;
            }

            lab = 0;
            continue;
        }

        if (!fuzz_ldh(host[i]) || ++lab > CONSENT_PSL_LABEL_MAX) {
            return 0;
        }

        if (lab == 1) {
            start[n++] = i;
        }
    }

    if (lab == 0) {
        return 0;
    }

    /* numeric last label: decimal, or 0x and hex */
    i = start[n - 1];

    if (end - i >= 2 && host[i] == '0' && fuzz_lower(host[i + 1]) == 'x') {
        for (j = i + 2; j < end; j++) {
            c = fuzz_lower(host[j]);

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

    best = 0;
    exc = 0;

    for (j = 0; j < m->n; j++) {
        r = &m->rules[j];

        /* the rule's labels */
        k = 1;

        for (i = 0; i < r->len; i++) {
            k += (r->text[i] == '.');
        }

        if (k > n) {
            continue;
        }

        /* host[start[n - k], end) against the rule; '*' one whole label */
        i = start[n - k];
        rn = r->len;

        if (r->text[0] == '*') {
            if (k == 1) {
                /* "*": any last label */

            } else {
                /* "*.rest" against the labels after the first */
                if (end - start[n - k + 1] != rn - 2) {
                    continue;
                }

                for (lab = 0; lab < rn - 2; lab++) {
                    if (fuzz_lower(host[start[n - k + 1] + lab])
                        != r->text[2 + lab])
                    {
                        break;
                    }
                }

                if (lab != rn - 2) {
                    continue;
                }
            }

        } else {
            if (end - i != rn) {
                continue;
            }

            for (lab = 0; lab < rn; lab++) {
                if (fuzz_lower(host[i + lab]) != r->text[lab]) {
                    break;
                }
            }

            if (lab != rn) {
                continue;
            }
        }

        if (r->kind == FUZZ_EXCEPTION) {
            exc = k > exc ? k : exc;

        } else {
            best = k > best ? k : best;
        }
    }

    want = exc ? exc : (best ? best : 1) + 1;

    if (want > n) {
        return 0;
    }

    return len - start[n - want];
}


/* properties of any answer */

static size_t
fuzz_ask(const consent_psl_t *psl, const unsigned char *host, size_t len)
{
    size_t          r;
    unsigned char  *p;

    p = fuzz_copy(host, len);
    r = consent_psl_registrable(psl, p, len);
    free(p);

    FUZZ_ASSERT(r <= len);

    return r;
}


static void
fuzz_check_host(const consent_psl_t *psl, const unsigned char *host,
    size_t len)
{
    size_t          r, i;
    unsigned char  *p;

    r = fuzz_ask(psl, host, len);

    if (r) {
        /* on a label boundary, without an empty first label */
        FUZZ_ASSERT(r == len || host[len - r - 1] == '.');
        FUZZ_ASSERT(host[len - r] != '.');

        /* the registrable domain's own registrable domain is itself */
        FUZZ_ASSERT(fuzz_ask(psl, host + len - r, r) == r);
    }

    /* any letter case */
    p = fuzz_copy(host, len);

    for (i = 0; i < len; i++) {
        p[i] = fuzz_lower(p[i]);

        if ((i & 1) && p[i] >= 'a' && p[i] <= 'z') {
            p[i] -= 32;
        }
    }

    FUZZ_ASSERT(fuzz_ask(psl, p, len) == r);
    free(p);

    /* a trailing dot is ignored, and kept in the answer */
    if (len && host[len - 1] != '.') {
        p = malloc(len + 1);
        if (p == NULL) {
            abort();
        }

        memcpy(p, host, len);
        p[len] = '.';

        FUZZ_ASSERT(fuzz_ask(psl, p, len + 1) == (r ? r + 1 : 0));
        free(p);
    }
}


/*
 * A failed parse of p: a code, its message, a line of the input and the
 * rule of that line as written (nothing for the file as a whole), and
 * what the code says is true of that rule.
 */
static void
fuzz_check_error(const unsigned char *p, size_t len, const consent_err_t *err)
{
    size_t                i, lines;
    const unsigned char  *at, *s;

    FUZZ_ASSERT(err->code >= CONSENT_PSL_E_EMPTY_RULE
                && err->code <= CONSENT_PSL_E_NOMEM);
    FUZZ_ASSERT(err->msg != NULL && err->msg[0] != '\0');
    FUZZ_ASSERT((strcmp(err->msg, "out of memory") == 0)
                == (err->code == CONSENT_PSL_E_NOMEM));

    at = err->at.data;

    FUZZ_ASSERT(at >= p && at <= p + len
                && err->at.len <= (size_t) (p + len - at));
    FUZZ_ASSERT(memchr(at, '\n', err->at.len) == NULL);

    if (err->line == 0) {
        /* the table for the whole file */
        FUZZ_ASSERT(err->at.len == 0);
        FUZZ_ASSERT(err->code == CONSENT_PSL_E_TOO_MANY
                    || err->code == CONSENT_PSL_E_NOMEM);
        return;
    }

    /* the rule: on err->line, after its blanks, up to whitespace */
    lines = 1;

    for (s = p; s < at; s++) {
        lines += (*s == '\n');
    }

    FUZZ_ASSERT(lines == err->line);
    FUZZ_ASSERT(err->at.len > 0);
    FUZZ_ASSERT(at == p || at[-1] == '\n' || fuzz_space(at[-1]));
    FUZZ_ASSERT(at + err->at.len == p + len || at[err->at.len] == '\n'
                || fuzz_space(at[err->at.len]));

    for (i = 0; i < err->at.len; i++) {
        FUZZ_ASSERT(!fuzz_space(at[i]));
    }

    switch (err->code) {

    case CONSENT_PSL_E_EMPTY_RULE:
        FUZZ_ASSERT(err->at.len == 1 && at[0] == '!');
        break;

    case CONSENT_PSL_E_WILDCARD_EXC:
    case CONSENT_PSL_E_EXCEPTION:
        FUZZ_ASSERT(at[0] == '!');
        break;

    case CONSENT_PSL_E_UTF8:
        for (i = 0; i < err->at.len && at[i] < 0x80; i++) { /* void */ }
        FUZZ_ASSERT(i < err->at.len);
        break;
    }

    if (err->code == CONSENT_PSL_E_WILDCARD
        || err->code == CONSENT_PSL_E_WILDCARD_EXC)
    {
        FUZZ_ASSERT(memchr(at, '*', err->at.len) != NULL);
    }
}


static void
fuzz_init(void)
{
    FILE           *f;
    long            size;
    unsigned char  *text;
    consent_err_t   err;
    consent_alloc_t a = { fuzz_pool_alloc, &fuzz_real_pool };

    fuzz_ready = 1;

    f = fopen(FUZZ_REAL_LIST, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_psl: no %s, the real list is not asked\n",
                FUZZ_REAL_LIST);
        return;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        abort();
    }

    text = malloc((size_t) size + 1);

    if (text == NULL || fread(text, 1, (size_t) size, f) != (size_t) size) {
        abort();
    }

    fclose(f);

    fuzz_real = consent_psl_create(&a);
    FUZZ_ASSERT(fuzz_real != NULL);
    FUZZ_ASSERT(consent_psl_parse(fuzz_real, text, (size_t) size, &err) == 0);
    FUZZ_ASSERT(consent_psl_registrable(fuzz_real,
                    (const unsigned char *) "www.bbc.co.uk", 13) == 9);

    free(text);
}


static size_t
fuzz_oom_at(const uint8_t *data, size_t size)
{
    size_t  n, i;

    if (size < 8 || memcmp(data, "//oom ", 6) != 0) {
        return 0;
    }

    n = 0;

    for (i = 6; i < size && i < 12 && data[i] >= '0' && data[i] <= '9'; i++)
    {
        n = n * 10 + (data[i] - '0');
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc, rc2, known;
    size_t           list_len, split, r, nhosts;
    fuzz_pool_t      pool, pool2;
    consent_err_t    err, err2;
    fuzz_model_t     model;
    consent_psl_t   *psl, *psl2;
    unsigned char   *list;
    const uint8_t   *hosts, *end, *h, *eol;
    consent_alloc_t  a, a2;

    if (!fuzz_ready) {
        fuzz_init();
    }

    fuzz_pool_init(&pool, fuzz_oom_at(data, size), &a);
    fuzz_pool_init(&pool2, 0, &a2);

    hosts = memchr(data, '\0', size);
    list_len = hosts ? (size_t) (hosts - data) : size;

    if (hosts) {
        hosts++;
    }

    /* the list, in one go */
    list = fuzz_copy(data, list_len);
    psl = consent_psl_create(&a);

    rc = -1;
    memset(&err, 0, sizeof(consent_err_t));

    if (psl) {
        rc = consent_psl_parse(psl, list, list_len, &err);
        FUZZ_ASSERT(rc == 0 || rc == -1);

        if (rc != 0) {
            fuzz_check_error(list, list_len, &err);
            FUZZ_ASSERT(err.line <= list_len + 1);
            FUZZ_ASSERT(pool.failed || err.line >= 1);
            FUZZ_ASSERT(pool.failed == (err.code == CONSENT_PSL_E_NOMEM));
        }

    } else {
        FUZZ_ASSERT(pool.failed);
    }

    /* the model, when it can follow */
    model.rules = fuzz_model_rules;

    known = !pool.failed && fuzz_model_parse(data, list_len, &model);

    if (known) {
        FUZZ_ASSERT(rc == (model.err_line ? -1 : 0));
        FUZZ_ASSERT(err.line == model.err_line || rc == 0);

        if (rc == 0) {
            FUZZ_ASSERT(consent_psl_count(psl) == model.count);
        }
    }

    /* in two calls, split after a line: the same list */
    psl2 = NULL;

    if (rc == 0 && !pool.failed) {
        split = list_len / 2;

        while (split < list_len && list[split] != '\n') {
            split++;
        }

        split += (split < list_len);

        psl2 = consent_psl_create(&a2);
        FUZZ_ASSERT(psl2 != NULL);

        rc2 = consent_psl_parse(psl2, list, split, &err2);
        FUZZ_ASSERT(rc2 == 0);
        rc2 = consent_psl_parse(psl2, list + split, list_len - split, &err2);
        FUZZ_ASSERT(rc2 == 0);
        FUZZ_ASSERT(consent_psl_count(psl2) == consent_psl_count(psl));
    }

    /* the hosts */
    if (hosts) {
        h = hosts;
        end = data + size;

    } else {
        h = data;
        end = data + list_len;
    }

    for (nhosts = 0; h <= end && nhosts < FUZZ_MAX_HOSTS; nhosts++) {
        eol = memchr(h, '\n', (size_t) (end - h));
        if (eol == NULL) {
            eol = end;
        }

        if (psl) {
            fuzz_check_host(psl, h, (size_t) (eol - h));
            r = fuzz_ask(psl, h, (size_t) (eol - h));

            if (known && rc == 0) {
                FUZZ_ASSERT(r == fuzz_model_registrable(&model, h,
                                                        (size_t) (eol - h)));
            }

            if (psl2) {
                FUZZ_ASSERT(fuzz_ask(psl2, h, (size_t) (eol - h)) == r);
            }
        }

        if (fuzz_real) {
            fuzz_check_host(fuzz_real, h, (size_t) (eol - h));
        }

        h = eol + 1;
    }

    if (psl && !hosts) {
        fuzz_check_host(psl, data, size);
    }

    /* a NULL list and host */
    FUZZ_ASSERT(consent_psl_registrable(NULL, data, size) == 0);

    if (psl) {
        FUZZ_ASSERT(consent_psl_registrable(psl, NULL, 0) == 0);
    }

    free(list);
    fuzz_pool_free(&pool);
    fuzz_pool_free(&pool2);

    return 0;
}
