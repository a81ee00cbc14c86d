/*
 * Copyright (C) ngx_consent_module authors
 *
 * One line of a rules file: "PATTERN PURPOSE VENDOR [OPTION...]", the
 * options being domain=DOMAIN, domain-only and icase.  What the line may
 * contain is decided here, before anything is built, so that a bad line is
 * reported with its own reason.
 */

#include <string.h>

#include "rules.h"


/* three fields and each option once */
#define CONSENT_RULE_FIELDS  6

/* a rule line's fields, split on blanks, up to the end of the line */
typedef struct {
    const unsigned char       *f[CONSENT_RULE_FIELDS];
    size_t                     flen[CONSENT_RULE_FIELDS];
    unsigned                   nf;
} consent_rule_fields_t;


static int consent_rule_split(const unsigned char *p,
    const unsigned char *end, consent_rule_fields_t *fl, consent_err_t *err);
static int consent_rule_pattern(const unsigned char *f, size_t flen,
    consent_rule_t *rule, consent_err_t *err);
static int consent_rule_vendor(const unsigned char *f, size_t flen,
    consent_rule_t *rule, consent_err_t *err);
static int consent_rule_options(consent_rule_fields_t *fl,
    consent_rule_t *rule, consent_err_t *err);
static int consent_rule_domain(const unsigned char *f, size_t flen,
    consent_rule_t *rule, consent_err_t *err);
static const char *consent_regex_safe(const unsigned char *p, size_t len);


#define consent_ws(c)  ((c) == ' ' || (c) == '\t' || (c) == '\r')


static int
consent_name_char(unsigned char c)
{
    /* RFC 6265 token: visible ASCII except separators we split on */
    return c > 0x20 && c < 0x7f && c != ';' && c != '=' && c != ',';
}


static int
consent_vendor_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}


int
consent_rule_parse(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, consent_rule_t *rule, consent_err_t *err)
{
    int                    purpose;
    const unsigned char   *end;
    consent_rule_fields_t  fl;

    end = p + len;

    while (p < end && consent_ws(*p)) {
        p++;
    }

    if (p == end || *p == '#' || *p == '\n') {
        return CONSENT_LINE_BLANK;
    }

    if (end - p > 8 && memcmp(p, "@vendor", 7) == 0 && consent_ws(p[7])) {
        return CONSENT_LINE_VENDOR;
    }

    if (consent_rule_split(p, end, &fl, err) != 0) {
        return -1;
    }

    /* a missing field is empty, just after the last one */
    if (fl.nf < 2) {
        return consent_fail(err, CONSENT_RULE_E_NO_PURPOSE,
                            "missing purpose", fl.f[0] + fl.flen[0],
                            0);
    }

    if (fl.nf < 3) {
        return consent_fail(err, CONSENT_RULE_E_NO_VENDOR,
                            "missing vendor", fl.f[1] + fl.flen[1], 0);
    }

    memset(rule, 0, sizeof(consent_rule_t));

    if (consent_rule_pattern(fl.f[0], fl.flen[0], rule, err) != 0) {
        return -1;
    }

    purpose = consent_purpose_find(ps, fl.f[1], fl.flen[1]);

    if (purpose < 0) {
        return consent_fail(err, CONSENT_RULE_E_UNKNOWN_PURPOSE,
                            "unknown purpose", fl.f[1], fl.flen[1]);
    }

    rule->purpose = (uint8_t) purpose;

    if (consent_rule_vendor(fl.f[2], fl.flen[2], rule, err) != 0) {
        return -1;
    }

    if (consent_rule_options(&fl, rule, err) != 0) {
        return -1;
    }

    return CONSENT_LINE_RULE;
}


/* p is on the first field; more than there can be is an error */

static int
consent_rule_split(const unsigned char *p, const unsigned char *end,
    consent_rule_fields_t *fl, consent_err_t *err)
{
    const unsigned char  *f;

    fl->nf = 0;

    while (p < end && *p != '\n') {

        f = p;

        while (p < end && !consent_ws(*p) && *p != '\n') {
            p++;
        }

        if (fl->nf == CONSENT_RULE_FIELDS) {
            return consent_fail(err, CONSENT_RULE_E_FIELD,
                                "unexpected field", f,
                                (size_t) (p - f));
        }

        fl->f[fl->nf] = f;
        fl->flen[fl->nf] = (size_t) (p - f);
        fl->nf++;

        while (p < end && consent_ws(*p)) {
            p++;
        }
    }

    return 0;
}


static int
consent_rule_pattern(const unsigned char *f, size_t flen,
    consent_rule_t *rule, consent_err_t *err)
{
    size_t       i;
    const char  *unsafe;

    if (f[0] == '~') {
        rule->kind = CONSENT_RULE_REGEX;
        rule->pattern = f + 1;
        rule->pattern_len = flen - 1;

        if (rule->pattern_len == 0) {
            return consent_fail(err, CONSENT_RULE_E_PATTERN,
                                "empty regex", f, flen);
        }

        unsafe = consent_regex_safe(rule->pattern, rule->pattern_len);

        if (unsafe) {
            return consent_fail(err, CONSENT_RULE_E_REGEX, unsafe, f,
                                flen);
        }

    } else {
        rule->pattern = f;
        rule->pattern_len = flen;
        rule->kind = CONSENT_RULE_EXACT;

        if (f[flen - 1] == '*') {
            rule->kind = CONSENT_RULE_PREFIX;
            rule->pattern_len--;

            if (rule->pattern_len == 0) {
                return consent_fail(err, CONSENT_RULE_E_PATTERN,
                                    "empty prefix", f, flen);
            }
        }

        for (i = 0; i < rule->pattern_len; i++) {
            if (!consent_name_char(rule->pattern[i])) {
                return consent_fail(err, CONSENT_RULE_E_PATTERN,
                                    "invalid character in cookie name",
                                    f, flen);
            }
        }
    }

    if (rule->pattern_len > CONSENT_NAME_MAX) {
        return consent_fail(err, CONSENT_RULE_E_PATTERN,
                            "pattern too long", f, flen);
    }

    return 0;
}


int
consent_vendor_id_check(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONSENT_VENDOR_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!consent_vendor_char(p[i])) {
            return -1;
        }
    }

    return 0;
}


static int
consent_rule_vendor(const unsigned char *f, size_t flen,
    consent_rule_t *rule, consent_err_t *err)
{
    if (flen > CONSENT_VENDOR_MAX) {
        return consent_fail(err, CONSENT_RULE_E_VENDOR,
                            "vendor name too long", f, flen);
    }

    if (consent_vendor_id_check(f, flen) != 0) {
        return consent_fail(err, CONSENT_RULE_E_VENDOR,
                            "invalid character in vendor name", f,
                            flen);
    }

    rule->vendor = f;
    rule->vendor_len = flen;

    return 0;
}


#define consent_field_is(f, flen, s)                                        \
    ((flen) == sizeof(s) - 1 && memcmp(f, s, sizeof(s) - 1) == 0)


static int
consent_rule_options(consent_rule_fields_t *fl, consent_rule_t *rule,
    consent_err_t *err)
{
    unsigned              i, flag;
    size_t                flen;
    const unsigned char  *f;

    for (i = 3; i < fl->nf; i++) {
        f = fl->f[i];
        flen = fl->flen[i];

        if (flen > 7 && memcmp(f, "domain=", 7) == 0) {
            if (rule->domain) {
                return consent_fail(err, CONSENT_RULE_E_OPTION,
                                    "domain= given twice", f, flen);
            }

            if (consent_rule_domain(f + 7, flen - 7, rule, err) != 0) {
                return -1;
            }

            continue;
        }

        if (consent_field_is(f, flen, "domain-only")) {
            flag = CONSENT_RULE_DOMAIN_ONLY;

        } else if (consent_field_is(f, flen, "icase")) {
            flag = CONSENT_RULE_ICASE;

        } else {
            return consent_fail(err, CONSENT_RULE_E_OPTION,
                                "unknown option (\"domain=\", "
                                "\"domain-only\" and \"icase\" are "
                                "allowed)", f, flen);
        }

        if (rule->flags & flag) {
            return consent_fail(err, CONSENT_RULE_E_OPTION,
                                "option given twice", f, flen);
        }

        rule->flags |= flag;

        /* the regex has no domain to be keyed on: see rules.c */
        if (flag == CONSENT_RULE_DOMAIN_ONLY
            && rule->kind == CONSENT_RULE_REGEX)
        {
            return consent_fail(err, CONSENT_RULE_E_OPTION,
                                "domain-only is not allowed on a "
                                "regex rule", f, flen);
        }
    }

    if ((rule->flags & CONSENT_RULE_DOMAIN_ONLY) && rule->domain == NULL) {
        return consent_fail(err, CONSENT_RULE_E_OPTION,
                            "domain-only needs domain=",
                            fl->f[fl->nf - 1], fl->flen[fl->nf - 1]);
    }

    return 0;
}


/* a cookie domain: labels of letters, digits and '-', a leading dot */

int
consent_domain_check(const unsigned char *d, size_t len)
{
    size_t  i, label;

    if (len && d[0] == '.') {
        d++;
        len--;
    }

    if (len == 0 || len > CONSENT_DOMAIN_MAX) {
        return -1;
    }

    label = 0;

    for (i = 0; i < len; i++) {
        if (d[i] == '.') {
            if (label == 0) {
                return -1;
            }

            label = 0;
            continue;
        }

        if (!consent_vendor_char(d[i]) || d[i] == '_') {
            return -1;
        }

        label++;
    }

    return label ? 0 : -1;
}


static int
consent_rule_domain(const unsigned char *f, size_t flen,
    consent_rule_t *rule, consent_err_t *err)
{
    if (consent_domain_check(f, flen) != 0) {
        return consent_fail(err, CONSENT_RULE_E_DOMAIN,
                            "invalid domain", f - 7, flen + 7);
    }

    rule->domain = f;
    rule->domain_len = flen;

    return 0;
}


/*
 * A branch of the alternation must not reach beyond its own group: \Q
 * without \E, an extended-mode comment or a backtracking verb could eat
 * the wrapper that follows it, and a reference to a group by number or
 * name would point at another rule's group once the rules are joined.
 * Returns NULL, or what is not allowed.
 */

static const char *
consent_regex_safe(const unsigned char *p, size_t len)
{
    size_t         i, j;
    unsigned char  c;

    for (i = 0; i + 1 < len; i++) {

        if (p[i] == '\\') {
            if (p[i + 1] == 'Q' || p[i + 1] == 'E') {
                return "\\Q and \\E are not allowed in a rule regex";
            }

            if ((p[i + 1] >= '1' && p[i + 1] <= '9') || p[i + 1] == 'g'
                || p[i + 1] == 'k')
            {
                return "back references are not allowed in a rule regex";
            }

            i++;
            continue;
        }

        if (p[i] != '(') {
            continue;
        }

        if (p[i + 1] == '*') {
            return "verbs like (*...) are not allowed in a rule regex";
        }

        if (p[i + 1] != '?') {
            continue;
        }

        if (i + 2 < len) {
            c = p[i + 2];

            /*
             * group numbers and names change once the rules are joined
             * into one pattern, so nothing may refer to a group
             */
            if (c == 'P' || c == '&' || c == 'R' || c == '(' || c == '+'
                || c == 'C' || c == '\''
                || (c >= '0' && c <= '9')
                || (c == '-' && i + 3 < len && p[i + 3] >= '0'
                    && p[i + 3] <= '9')
                || (c == '<' && i + 3 < len && p[i + 3] != '='
                    && p[i + 3] != '!'))
            {
                return "named groups, group references and callouts are "
                       "not allowed in a rule regex";
            }
        }

        for (j = i + 2; j < len; j++) {
            if (p[j] == 'x') {
                return "extended mode (?x) is not allowed in a rule regex";
            }

            if (!((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z')
                  || p[j] == '-' || p[j] == '^'))
            {
                break;
            }
        }
    }

    return NULL;
}
