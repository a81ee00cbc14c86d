/*
 * Copyright (C) ngx_consent_module authors
 *
 * fuzz_rules: what the line parsers promise of a rule or "@vendor" line
 * they took or refused, and of a set's copy of vendor metadata
 * (rules_lines.c).
 */

#ifndef _CONSENT_FUZZ_RULES_LINES_H_INCLUDED_
#define _CONSENT_FUZZ_RULES_LINES_H_INCLUDED_


#include "rules_model.h"


int fuzz_span_eq(const consent_span_t *a, const consent_span_t *b);

void fuzz_check_error(const fuzz_str_t *line, const consent_purposes_t *ps,
    const consent_err_t *err);
void fuzz_check_parsed(const fuzz_str_t *line, const consent_purposes_t *ps,
    const consent_rule_t *r);

void fuzz_check_vendor_parsed(const fuzz_str_t *line,
    const consent_purposes_t *ps, const consent_vendor_meta_t *m);
void fuzz_check_vendor_error(const fuzz_str_t *line,
    const consent_err_t *err);
void fuzz_check_vendor_meta(const consent_ruleset_t *rs,
    const consent_vendor_meta_t *want);


#endif /* _CONSENT_FUZZ_RULES_LINES_H_INCLUDED_ */
