/*
 * Copyright (C) ngx_consent_module authors
 *
 * fuzz_rules: the input's lines and words, and the names and hosts the
 * target asks the set about (rules_inputs.c).
 */

#ifndef _CONSENT_FUZZ_RULES_INPUTS_H_INCLUDED_
#define _CONSENT_FUZZ_RULES_INPUTS_H_INCLUDED_


#include "rules_model.h"


#define FUZZ_MAX_NAMES       640
#define FUZZ_MAX_RULE_NAMES  512         /* of those, made from rules */
#define FUZZ_RULE_NAMES      12          /* made from one rule, at most */
#define FUZZ_MAX_HOSTS       32
#define FUZZ_DOMAIN_HOSTS    5           /* made from one domain, at most */
#define FUZZ_LONG_NAME       300         /* > CONSENT_NAME_MAX */


/* names and hosts made here, freed after each input */
typedef struct {
    unsigned char         *buf;
    size_t                 len;
    size_t                 cap;
} fuzz_arena_t;


/* the input: a private copy, and its lines */
typedef struct {
    const unsigned char   *p;
    size_t                 size;
    const fuzz_str_t      *lines;
    size_t                 nlines;
} fuzz_input_t;


size_t fuzz_split_lines(const unsigned char *p, size_t len,
    fuzz_str_t *lines, size_t max);
size_t fuzz_split_words(const fuzz_str_t *line, fuzz_str_t *words,
    size_t max);
size_t fuzz_oom_at(const fuzz_str_t *line);

/* at most FUZZ_MAX_NAMES of them */
size_t fuzz_names(const fuzz_input_t *in, const fuzz_rule_t *rules,
    unsigned n, fuzz_arena_t *a, fuzz_str_t *names);
/* at most FUZZ_MAX_HOSTS of them, and at least one */
size_t fuzz_hosts(const fuzz_input_t *in, const fuzz_rule_t *rules,
    unsigned n, fuzz_arena_t *a, fuzz_str_t *hosts);


#endif /* _CONSENT_FUZZ_RULES_INPUTS_H_INCLUDED_ */
