/*
 * Copyright (C) ngx_consent_module authors
 *
 * A rules file's line into a rule set, as a tool reads it (consentctl,
 * the unit tests).  nginx reads its lines itself, to name the word that
 * is wrong in its message (ngx_http_consent_rules.c).
 */

#include <stdio.h>

#include "rules.h"


int
consent_ruleset_add_line(consent_ruleset_t *rs, const consent_purposes_t *ps,
    const unsigned char *p, size_t len, uint32_t line, char *err,
    size_t errlen)
{
    int                     rc;
    consent_err_t           e;
    consent_rule_t          rule;
    consent_vendor_meta_t   meta;

    rc = consent_rule_parse(p, len, ps, &rule, &e);

    if (rc == CONSENT_LINE_BLANK) {
        return 0;
    }

    if (rc == CONSENT_LINE_RULE) {
        rule.line = line;
        return consent_ruleset_add(rs, &rule, err, errlen);
    }

    if (rc == CONSENT_LINE_VENDOR) {
        rc = consent_vendor_parse(p, len, ps, &meta, &e);

        if (rc == 1) {
            return consent_ruleset_vendor_set(rs, &meta, err, errlen);
        }
    }

    snprintf(err, errlen, "%s", e.msg);

    return -1;
}
