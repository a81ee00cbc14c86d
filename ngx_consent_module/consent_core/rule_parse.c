/*
 * Copyright (C) ngx_consent_module authors
 *
 * One line of a rules file: "PATTERN PURPOSE VENDOR [domain=DOMAIN]".
 * What the line may contain is decided here, before anything is built, so
 * that a bad line is reported with its own reason.
 */

#include <string.h>

#include "consent_core.h"


static int consent_regex_safe(const unsigned char *p, size_t len,
    const char **err);


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
    const consent_purposes_t *ps, consent_rule_t *rule, const char **err)
{
    int                   purpose;
    size_t                i, flen[4];
    unsigned              nf;
    const unsigned char  *end, *f[4];

    end = p + len;
    nf = 0;

    while (p < end && consent_ws(*p)) {
        p++;
    }

    if (p == end || *p == '#' || *p == '\n') {
        return 0;
    }

    while (p < end && *p != '\n') {

        if (nf == 4) {
            *err = "unexpected field";
            return -1;
        }

        f[nf] = p;

        while (p < end && !consent_ws(*p) && *p != '\n') {
            p++;
        }

        flen[nf] = (size_t) (p - f[nf]);
        nf++;

        while (p < end && consent_ws(*p)) {
            p++;
        }
    }

    if (nf < 2) {
        *err = "missing purpose";
        return -1;
    }

    if (nf < 3) {
        *err = "missing vendor";
        return -1;
    }

    memset(rule, 0, sizeof(consent_rule_t));

    if (f[0][0] == '~') {
        rule->kind = CONSENT_RULE_REGEX;
        rule->pattern = f[0] + 1;
        rule->pattern_len = flen[0] - 1;

        if (rule->pattern_len == 0) {
            *err = "empty regex";
            return -1;
        }

        if (consent_regex_safe(rule->pattern, rule->pattern_len, err) != 0) {
            return -1;
        }

    } else {
        rule->pattern = f[0];
        rule->pattern_len = flen[0];
        rule->kind = CONSENT_RULE_EXACT;

        if (f[0][flen[0] - 1] == '*') {
            rule->kind = CONSENT_RULE_PREFIX;
            rule->pattern_len--;

            if (rule->pattern_len == 0) {
                *err = "empty prefix";
                return -1;
            }
        }

        for (i = 0; i < rule->pattern_len; i++) {
            if (!consent_name_char(rule->pattern[i])) {
                *err = "invalid character in cookie name";
                return -1;
            }
        }
    }

    if (rule->pattern_len > CONSENT_NAME_MAX) {
        *err = "pattern too long";
        return -1;
    }

    purpose = consent_purpose_find(ps, f[1], flen[1]);

    if (purpose < 0) {
        *err = "unknown purpose";
        return -1;
    }

    rule->purpose = (uint8_t) purpose;

    if (flen[2] > CONSENT_VENDOR_MAX) {
        *err = "vendor name too long";
        return -1;
    }

    for (i = 0; i < flen[2]; i++) {
        if (!consent_vendor_char(f[2][i])) {
            *err = "invalid character in vendor name";
            return -1;
        }
    }

    rule->vendor = f[2];
    rule->vendor_len = flen[2];

    if (nf == 4) {
        if (flen[3] <= 7 || memcmp(f[3], "domain=", 7) != 0) {
            *err = "unknown option (only \"domain=\" is allowed)";
            return -1;
        }

        rule->domain = f[3] + 7;
        rule->domain_len = flen[3] - 7;

        for (i = 0; i < rule->domain_len; i++) {
            if (!consent_vendor_char(rule->domain[i])
                || rule->domain[i] == '_')
            {
                *err = "invalid character in domain";
                return -1;
            }
        }
    }

    return 1;
}


/*
 * A branch of the alternation must not reach beyond its own group: \Q
 * without \E, an extended-mode comment or a backtracking verb could eat
 * the wrapper that follows it, and a reference to a group by number or
 * name would point at another rule's group once the rules are joined.
 */

static int
consent_regex_safe(const unsigned char *p, size_t len, const char **err)
{
    size_t         i, j;
    unsigned char  c;

    for (i = 0; i + 1 < len; i++) {

        if (p[i] == '\\') {
            if (p[i + 1] == 'Q' || p[i + 1] == 'E') {
                *err = "\\Q and \\E are not allowed in a rule regex";
                return -1;
            }

            if ((p[i + 1] >= '1' && p[i + 1] <= '9') || p[i + 1] == 'g'
                || p[i + 1] == 'k')
            {
                *err = "back references are not allowed in a rule regex";
                return -1;
            }

            i++;
            continue;
        }

        if (p[i] != '(') {
            continue;
        }

        if (p[i + 1] == '*') {
            *err = "verbs like (*...) are not allowed in a rule regex";
            return -1;
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
                *err = "named groups, group references and callouts are "
                       "not allowed in a rule regex";
                return -1;
            }
        }

        for (j = i + 2; j < len; j++) {
            if (p[j] == 'x') {
                *err = "extended mode (?x) is not allowed in a rule regex";
                return -1;
            }

            if (!((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z')
                  || p[j] == '-' || p[j] == '^'))
            {
                break;
            }
        }
    }

    return 0;
}
