/*
 * Copyright (C) ngx_consent_module authors
 *
 * One row of the Open Cookie Database as rules.  The mapping:
 *
 * Columns are found by header name: Platform, Category, "Cookie / Data
 * Key name", Domain, Data Controller, "User Privacy & GDPR Rights
 * Portals", Wildcard match (ID, Description and Retention period are not
 * read).
 *
 * Category: Analytics is analytics, Marketing advertising,
 * Personalization personalization.  Functional, Security, Necessary and
 * anything else never become rules (they would strip cookies a site
 * needs to work); they are only counted for their vendor.
 *
 * Vendor: the Platform, every byte outside [A-Za-z0-9._-] as '_', runs
 * of '_' as one, no '_' at either end, at most 64 bytes ("Google
 * Analytics" is Google_Analytics, "F@N" F_N).  No byte left: no rule.
 *
 * Name: ASCII whitespace trimmed at both ends, U+00AD (soft hyphen),
 * U+200B..U+200D and U+FEFF removed anywhere.  No rule, but a comment,
 * when what is left is empty, holds a byte outside visible ASCII
 * (0x21-0x7e), a space, ';', '=' or ',', starts with '~', '#' or '@'
 * (a regex, a comment or a vendor line in a rules file), or is longer
 * than 256 bytes.  Wildcard match 1 (or a name already ending in '*')
 * makes a prefix, "name*"; an empty prefix is an empty name.
 *
 * Domain: split on "or" and ','; "(3rd party)" (any parenthesis),
 * whitespace, zero-width characters and leading dots go; leading labels
 * with '[' or ']' are a template and go ("ads-[account].adhese.com" is
 * adhese.com); lower-cased.  Valid: only [a-z0-9.-], a dot, no empty
 * label, at most 253 bytes; the others are dropped.  Each valid domain
 * gives a rule "domain=D domain-only": the cookie lives on the vendor's
 * domain, and on other sites the name belongs to the site.  Without one
 * the rule applies on every site, unless it is too generic for that: an
 * exact name under 3 bytes or a prefix under 4 (without its '*').
 *
 * Vendor metadata: the Platform as name=, the Data Controller as
 * controller= (quoted values: printable UTF-8 without '"', at most 128
 * bytes), the portal as policy= (http:// or https://, visible ASCII
 * without '"', '<', '>' or '\', at most 512 bytes); invalid ones are
 * left empty.
 */

#include <string.h>

#include "ocd.h"
#include "rules.h"


static const char  *consent_ocd_headers[CONSENT_OCD_COLUMNS] = {
    "Platform",
    "Category",
    "Cookie / Data Key name",
    "Domain",
    "Data Controller",
    "User Privacy & GDPR Rights Portals",
    "Wildcard match"
};

static const char  *consent_ocd_missing[CONSENT_OCD_COLUMNS] = {
    "no column \"Platform\" in the header",
    "no column \"Category\" in the header",
    "no column \"Cookie / Data Key name\" in the header",
    "no column \"Domain\" in the header",
    "no column \"Data Controller\" in the header",
    "no column \"User Privacy & GDPR Rights Portals\" in the header",
    "no column \"Wildcard match\" in the header"
};

static const char  *consent_ocd_reasons[CONSENT_OCD_SKIPS] = {
    "no reason",
    "fewer fields than the header",
    "no usable Platform",
    "category functional, security, necessary or other",
    "name empty",
    "name has a byte outside visible ASCII",
    "name has a space",
    "name has a ';', '=' or ','",
    "name starts with '~', '#' or '@'",
    "name longer than 256 bytes",
    "too generic for every site"
};


static int consent_ocd_space(unsigned char c);
static int consent_ocd_eq(const consent_span_t *s, const char *name);
static void consent_ocd_trim(const unsigned char **p, size_t *len);
static size_t consent_ocd_invisible(const unsigned char *p,
    const unsigned char *end);
static int consent_ocd_category(const consent_span_t *f, unsigned *purpose);
static void consent_ocd_vendor(const consent_span_t *f,
    consent_ocd_row_t *row);
static void consent_ocd_meta(const consent_ocd_cols_t *cols,
    const consent_span_t *fields, consent_ocd_row_t *row);
static int consent_ocd_name(const consent_span_t *f,
    const consent_span_t *wildcard, consent_ocd_row_t *row);
static int consent_ocd_name_check(const consent_ocd_row_t *row);
static void consent_ocd_domains(const consent_span_t *f,
    consent_ocd_row_t *row);
static void consent_ocd_domain(const unsigned char *p, size_t len,
    consent_ocd_row_t *row);
static int consent_ocd_domain_valid(const unsigned char *p, size_t len);


int
consent_ocd_columns(const consent_span_t *fields, size_t n,
    consent_ocd_cols_t *cols, consent_err_t *err)
{
    size_t  c, i;

    cols->need = 0;

    for (c = 0; c < CONSENT_OCD_COLUMNS; c++) {
        for (i = 0; i < n; i++) {
            if (consent_ocd_eq(&fields[i], consent_ocd_headers[c])) {
                break;
            }
        }

        if (i == n) {
            err->code = CONSENT_OCD_E_COLUMN;
            err->msg = consent_ocd_missing[c];
            err->at.data = NULL;
            err->at.len = 0;
            err->line = 0;
            return -1;
        }

        cols->col[c] = i;

        if (i + 1 > cols->need) {
            cols->need = i + 1;
        }
    }

    return 0;
}


int
consent_ocd_row(const consent_ocd_cols_t *cols, const consent_span_t *fields,
    size_t n, consent_ocd_row_t *row)
{
    int  name_skip;

    memset(row, 0, sizeof(consent_ocd_row_t));

    row->category = CONSENT_OCD_C_LEFT_OUT;

    if (n < cols->need) {
        row->skip = CONSENT_OCD_S_FIELDS;
        return row->skip;
    }

    row->category = consent_ocd_category(
                        &fields[cols->col[CONSENT_OCD_CATEGORY]],
                        &row->purpose);

    /* read for every row, so that a report can ask about any of them */
    consent_ocd_domains(&fields[cols->col[CONSENT_OCD_DOMAIN]], row);

    name_skip = consent_ocd_name(&fields[cols->col[CONSENT_OCD_NAME]],
                                 &fields[cols->col[CONSENT_OCD_WILDCARD]],
                                 row);

    consent_ocd_vendor(&fields[cols->col[CONSENT_OCD_PLATFORM]], row);

    if (row->category == CONSENT_OCD_C_LEFT_OUT) {
        /* a row that would not have been a rule anyway says so */
        row->skip = CONSENT_OCD_S_LEFT_OUT;

    } else if (row->vendor_len == 0) {
        row->skip = CONSENT_OCD_S_VENDOR;

    } else {
        row->skip = name_skip;
    }

    if (row->vendor_len) {
        consent_ocd_meta(cols, fields, row);
    }

    return row->skip;
}


const char *
consent_ocd_skip_reason(int skip)
{
    if (skip < 0 || skip >= CONSENT_OCD_SKIPS) {
        return "unknown";
    }

    return consent_ocd_reasons[skip];
}


/* helpers */

static int
consent_ocd_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
           || c == '\f';
}


/* the field, trimmed, is name in any ASCII case */

static int
consent_ocd_eq(const consent_span_t *s, const char *name)
{
    size_t                i, len;
    unsigned char         a, b;
    const unsigned char  *p;

    p = s->data;
    len = s->len;

    consent_ocd_trim(&p, &len);

    if (len != strlen(name)) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        a = p[i];
        b = (unsigned char) name[i];

        if (a >= 'A' && a <= 'Z') {
            a |= 0x20;
        }

        if (b >= 'A' && b <= 'Z') {
            b |= 0x20;
        }

        if (a != b) {
            return 0;
        }
    }

    return 1;
}


static void
consent_ocd_trim(const unsigned char **p, size_t *len)
{
    while (*len && consent_ocd_space((*p)[0])) {
        (*p)++;
        (*len)--;
    }

    while (*len && consent_ocd_space((*p)[*len - 1])) {
        (*len)--;
    }
}


/* the length of U+00AD, U+200B..U+200D or U+FEFF at p, or 0 */

static size_t
consent_ocd_invisible(const unsigned char *p, const unsigned char *end)
{
    size_t  left;

    left = (size_t) (end - p);

    if (left >= 2 && p[0] == 0xc2 && p[1] == 0xad) {
        return 2;
    }

    if (left >= 3 && p[0] == 0xe2 && p[1] == 0x80
        && p[2] >= 0x8b && p[2] <= 0x8d)
    {
        return 3;
    }

    if (left >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        return 3;
    }

    return 0;
}


static int
consent_ocd_category(const consent_span_t *f, unsigned *purpose)
{
    if (consent_ocd_eq(f, "Analytics")) {
        *purpose = CONSENT_P_ANALYTICS;
        return CONSENT_OCD_C_ANALYTICS;
    }

    if (consent_ocd_eq(f, "Marketing")) {
        *purpose = CONSENT_P_ADVERTISING;
        return CONSENT_OCD_C_ADVERTISING;
    }

    if (consent_ocd_eq(f, "Personalization")) {
        *purpose = CONSENT_P_PERSONALIZATION;
        return CONSENT_OCD_C_PERSONALIZATION;
    }

    return CONSENT_OCD_C_LEFT_OUT;
}


/* the vendor id, and the Platform as it is */

static void
consent_ocd_vendor(const consent_span_t *f, consent_ocd_row_t *row)
{
    size_t                i, len, n;
    unsigned char         c;
    const unsigned char  *p;

    p = f->data;
    len = f->len;

    consent_ocd_trim(&p, &len);

    row->platform.data = p;
    row->platform.len = len;

    n = 0;

    for (i = 0; i < len && n < CONSENT_OCD_VENDOR_MAX; i++) {
        c = p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '.' || c == '-'
              || c == '_'))
        {
            c = '_';
        }

        if (c == '_' && (n == 0 || row->vendor[n - 1] == '_')) {
            /* none at the start, one of a run */
            continue;
        }

        row->vendor[n++] = c;
    }

    while (n && row->vendor[n - 1] == '_') {
        n--;
    }

    row->vendor_len = n;
}


static void
consent_ocd_meta(const consent_ocd_cols_t *cols, const consent_span_t *fields,
    consent_ocd_row_t *row)
{
    size_t                len;
    const unsigned char  *p;

    if (consent_ocd_text_valid(row->platform.data, row->platform.len)) {
        row->name = row->platform;
    }

    p = fields[cols->col[CONSENT_OCD_CONTROLLER]].data;
    len = fields[cols->col[CONSENT_OCD_CONTROLLER]].len;
    consent_ocd_trim(&p, &len);

    if (consent_ocd_text_valid(p, len)) {
        row->controller.data = p;
        row->controller.len = len;
    }

    p = fields[cols->col[CONSENT_OCD_PORTAL]].data;
    len = fields[cols->col[CONSENT_OCD_PORTAL]].len;
    consent_ocd_trim(&p, &len);

    if (consent_ocd_url_valid(p, len)) {
        row->policy.data = p;
        row->policy.len = len;
    }
}


/* the pattern, or why there is none */

static int
consent_ocd_name(const consent_span_t *f, const consent_span_t *wildcard,
    consent_ocd_row_t *row)
{
    size_t                k, n, wlen;
    const unsigned char  *p, *end, *first, *last, *w;

    p = f->data;
    end = p + f->len;

    /* what is left without whitespace at the ends and invisible ones */

    first = NULL;
    last = p;

    while (p < end) {
        k = consent_ocd_invisible(p, end);

        if (k) {
            p += k;
            continue;
        }

        if (!consent_ocd_space(*p)) {
            if (first == NULL) {
                first = p;
            }

            last = p + 1;
        }

        p++;
    }

    n = 0;

    for (p = first; p != NULL && p < last; /* void */ ) {
        k = consent_ocd_invisible(p, last);

        if (k) {
            p += k;
            continue;
        }

        if (n == CONSENT_OCD_NAME_MAX) {
            row->pattern_len = n;
            row->truncated = 1;
            return CONSENT_OCD_S_LONG;
        }

        row->pattern[n++] = *p++;
    }

    row->pattern_len = n;

    w = wildcard->data;
    wlen = wildcard->len;
    consent_ocd_trim(&w, &wlen);

    if ((wlen == 1 && w[0] == '1') || (n && row->pattern[n - 1] == '*')) {
        row->prefix = 1;

        if (n == 0 || row->pattern[n - 1] != '*') {
            row->pattern[row->pattern_len++] = '*';
        }
    }

    return consent_ocd_name_check(row);
}


static int
consent_ocd_name_check(const consent_ocd_row_t *row)
{
    int                   rc;
    size_t                i, n;
    const unsigned char  *p;

    p = row->pattern;
    n = row->pattern_len;

    if (n == 0 || (row->prefix && n == 1)) {
        return CONSENT_OCD_S_EMPTY;
    }

    rc = CONSENT_OCD_S_NONE;

    for (i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return CONSENT_OCD_S_BYTE;
        }

        if (p[i] == ' ') {
            rc = CONSENT_OCD_S_SPACE;

        } else if (rc == CONSENT_OCD_S_NONE
                   && (p[i] == ';' || p[i] == '=' || p[i] == ','))
        {
            rc = CONSENT_OCD_S_SEPARATOR;
        }
    }

    if (rc != CONSENT_OCD_S_NONE) {
        return rc;
    }

    if (p[0] == '~' || p[0] == '#' || p[0] == '@') {
        return CONSENT_OCD_S_LEADING;
    }

    if (n > CONSENT_OCD_NAME_MAX) {
        return CONSENT_OCD_S_LONG;
    }

    if (row->ndomains == 0
        && ((!row->prefix && n < 3) || (row->prefix && n - 1 < 4)))
    {
        return CONSENT_OCD_S_GENERIC;
    }

    return CONSENT_OCD_S_NONE;
}


/* the Domain field: words separated by whitespace, ',' and "or" */

static void
consent_ocd_domains(const consent_span_t *f, consent_ocd_row_t *row)
{
    const unsigned char  *p, *end, *start;

    p = f->data;
    end = p + f->len;

    while (p < end) {
        if (consent_ocd_space(*p) || *p == ',') {
            p++;
            continue;
        }

        if (*p == '(') {
            /* "(3rd party)" and the like */
            while (p < end && *p != ')') {
                p++;
            }

            p += (p < end);
            continue;
        }

        start = p;

        while (p < end && !consent_ocd_space(*p) && *p != ','
               && *p != '(')
        {
            p++;
        }

        if (p - start == 2 && (start[0] | 0x20) == 'o'
            && (start[1] | 0x20) == 'r')
        {
            continue;
        }

        consent_ocd_domain(start, (size_t) (p - start), row);
    }
}


static void
consent_ocd_domain(const unsigned char *p, size_t len, consent_ocd_row_t *row)
{
    size_t                i, k, n, label;
    unsigned char         buf[CONSENT_OCD_DOMAIN_MAX + 1], c;
    const unsigned char  *end;

    if (row->ndomains == CONSENT_OCD_ROW_DOMAINS) {
        return;
    }

    /* without invisible characters, lower-cased */

    end = p + len;
    n = 0;

    while (p < end) {
        k = consent_ocd_invisible(p, end);

        if (k) {
            p += k;
            continue;
        }

        if (n == sizeof(buf)) {
            return;
        }

        c = *p++;
        buf[n++] = (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
    }

    /* leading dots, then leading labels that are a template */

    i = 0;

    for ( ;; ) {
        while (i < n && buf[i] == '.') {
            i++;
        }

        for (label = i; label < n && buf[label] != '.'; label++) {
            if (buf[label] == '[' || buf[label] == ']') {
                break;
            }
        }

        if (label == n || buf[label] == '.') {
            break;
        }

        /* a bracket: the label goes */
        while (i < n && buf[i] != '.') {
            i++;
        }
    }

    if (!consent_ocd_domain_valid(buf + i, n - i)) {
        return;
    }

    for (k = 0; k < row->ndomains; k++) {
        if (row->domain_len[k] == n - i
            && memcmp(row->domain[k], buf + i, n - i) == 0)
        {
            return;
        }
    }

    memcpy(row->domain[row->ndomains], buf + i, n - i);
    row->domain_len[row->ndomains++] = n - i;
}


/* a domain for a rule: what rules take, lower case, with a dot */

static int
consent_ocd_domain_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || p[0] == '.' || memchr(p, '.', len) == NULL
        || consent_domain_check(p, len) != 0)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] >= 'A' && p[i] <= 'Z') {
            return 0;
        }
    }

    return 1;
}


/* values: what a "@vendor" line takes (vendor_parse.c decides) */

int
consent_ocd_text_valid(const unsigned char *p, size_t len)
{
    return consent_vendor_text_check(p, len) == 0;
}


int
consent_ocd_url_valid(const unsigned char *p, size_t len)
{
    return consent_vendor_url_check(p, len) == 0;
}


size_t
consent_ocd_escape(const unsigned char *p, size_t len, int text,
    unsigned char *out, size_t size)
{
    size_t                i, n;
    unsigned char         c;
    static const char     hex[] = "0123456789abcdef";

    n = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c != '\\'
            && ((c >= 0x21 && c <= 0x7e)
                || (text && (c == ' ' || c >= 0x80))))
        {
            if (n + 1 > size) {
                break;
            }

            out[n++] = c;
            continue;
        }

        if (n + 4 > size) {
            break;
        }

        out[n++] = '\\';
        out[n++] = 'x';
        out[n++] = hex[c >> 4];
        out[n++] = hex[c & 0x0f];
    }

    return n;
}
