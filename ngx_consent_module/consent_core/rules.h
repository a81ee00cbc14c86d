/*
 * Copyright (C) ngx_consent_module authors
 *
 * Cookie rules: a cookie name (and, for some, the domain it lives on) to
 * a purpose and a vendor, and the vendors' metadata.  The line syntax is
 * parsed by rule_parse.c and vendor_parse.c; a rule set (rules.c, with
 * its domains in rules_domain.c) is built once and matched per cookie.
 */

#ifndef _CONSENT_RULES_H_INCLUDED_
#define _CONSENT_RULES_H_INCLUDED_


#include "consent_core.h"


#define CONSENT_RULE_EXACT          1
#define CONSENT_RULE_PREFIX         2
#define CONSENT_RULE_REGEX          3

/* consent_rule_t flags */
#define CONSENT_RULE_ICASE          0x01    /* ASCII case ignored */
#define CONSENT_RULE_DOMAIN_ONLY    0x02    /* only where it is on domain= */

#define CONSENT_NAME_MAX            256
#define CONSENT_VENDOR_MAX          64
#define CONSENT_DOMAIN_MAX          253

typedef struct {
    const unsigned char       *pattern;
    size_t                     pattern_len;
    const unsigned char       *vendor;
    size_t                     vendor_len;
    /* as written; a set's own copy drops a leading dot */
    const unsigned char       *domain;
    size_t                     domain_len;
    /* a set's own: what its hash and trie are keyed on */
    const unsigned char       *key;
    size_t                     key_len;
    uint32_t                   line;
    uint32_t                   index;      /* order added */
    uint16_t                   vendor_id;
    uint8_t                    purpose;
    uint8_t                    kind;
    uint8_t                    flags;
    uint8_t                    keymode;    /* a set's own */
} consent_rule_t;

/* consent_ruleset_t: consent_core.h */

/*
 * consent_rule_parse() and consent_vendor_parse() errors: err->code, with
 * err->at the field at fault (empty, where it should have been, for a
 * missing one)
 */
#define CONSENT_RULE_E_FIELD            1   /* a field after the options */
#define CONSENT_RULE_E_NO_PURPOSE       2
#define CONSENT_RULE_E_NO_VENDOR        3
#define CONSENT_RULE_E_PATTERN          4   /* empty, bad byte, too long */
#define CONSENT_RULE_E_REGEX            5   /* a construct rules may not use */
#define CONSENT_RULE_E_UNKNOWN_PURPOSE  6
#define CONSENT_RULE_E_VENDOR           7   /* too long or a bad byte */
#define CONSENT_RULE_E_OPTION           8   /* unknown, repeated, misplaced */
#define CONSENT_RULE_E_DOMAIN           9   /* a bad byte, empty, too long */
#define CONSENT_RULE_E_VALUE           10   /* a vendor field's value */

/* what consent_rule_parse() found on a line */
#define CONSENT_LINE_BLANK          0
#define CONSENT_LINE_RULE           1
#define CONSENT_LINE_VENDOR         2       /* see consent_vendor_parse() */

/*
 * One rule line: "PATTERN PURPOSE VENDOR [domain=DOMAIN] [domain-only]
 * [icase]", where PATTERN is an exact name, "name*" for a prefix or
 * "~regex" for a PCRE2 regex matched against the whole name.  Blank lines
 * and '#' comments give CONSENT_LINE_BLANK and leave *rule alone; a rule
 * gives CONSENT_LINE_RULE with spans pointing into p; a "@vendor" line
 * gives CONSENT_LINE_VENDOR, unparsed, for consent_vendor_parse(); an
 * error gives -1 and err (err->line is left to the caller, who knows it).
 */
int consent_rule_parse(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, consent_rule_t *rule, consent_err_t *err);
/* 0 when p is a vendor id: 1-64 of letters, digits, '.', '_', '-' */
int consent_vendor_id_check(const unsigned char *p, size_t len);
/*
 * 0 when p is a cookie domain: labels of letters, digits and '-' joined
 * by dots, an optional leading dot, at most CONSENT_DOMAIN_MAX bytes
 */
int consent_domain_check(const unsigned char *p, size_t len);


/* vendors' metadata: "@vendor ID [name="..."] [controller="..."] ..." */

#define CONSENT_VENDOR_TEXT_MAX     128
#define CONSENT_VENDOR_URL_MAX      512
#define CONSENT_VENDOR_DOMAINS_MAX  64
#define CONSENT_VENDOR_STORAGE_MAX  64
#define CONSENT_VENDOR_KEY_MAX      128

typedef struct {
    consent_span_t             id;
    consent_span_t             name;         /* display name */
    consent_span_t             controller;   /* the legal entity */
    consent_span_t             policy;       /* privacy policy URL */
    consent_span_t             optout;       /* opt-out page URL */
    consent_span_t             domains;      /* "a.com,b.net", checked */
    /* the browser storage keys its scripts use: "_hj*,criteo_id" */
    consent_span_t             storage;
    consent_mask_t             purposes;     /* 0: not said */
    unsigned                   ndomains;
    unsigned                   nstorage;
    uint16_t                   gvl;          /* IAB GVL id, 0: none */
    char                       country[3];   /* ISO 3166-1 alpha-2, or "" */
} consent_vendor_meta_t;

/*
 * A "@vendor" line into *meta, spans pointing into p.  Returns 1, or -1
 * and err.  Quoted values are printable UTF-8 without '"' (at most
 * CONSENT_VENDOR_TEXT_MAX bytes), URLs http(s) without blanks, quotes,
 * '<', '>' or '\' (CONSENT_VENDOR_URL_MAX), so that none can break a
 * header or a JSON string that quotes it.
 */
int consent_vendor_parse(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, consent_vendor_meta_t *meta,
    consent_err_t *err);
/* 0 when p may be a quoted vendor value (name=, controller=) */
int consent_vendor_text_check(const unsigned char *p, size_t len);
/* 0 when p may be a vendor URL (policy=, optout=) */
int consent_vendor_url_check(const unsigned char *p, size_t len);
/* the next domain of a domains list from *pos: 1 and *d, or 0 */
int consent_vendor_domain_next(const consent_span_t *domains, size_t *pos,
    consent_span_t *d);


consent_ruleset_t *consent_ruleset_create(const consent_alloc_t *a);
/*
 * Copies the rule (and its strings) into the set; a regex is compiled on
 * its own here so that a bad one is reported with its line.  Returns 0, or
 * -1 with a message in err.
 */
int consent_ruleset_add(consent_ruleset_t *rs, const consent_rule_t *rule,
    char *err, size_t errlen);
/*
 * Copies a vendor's metadata into the set; a later line for the same
 * vendor replaces the earlier one.  Returns 0, or -1 with a message.
 */
int consent_ruleset_vendor_set(consent_ruleset_t *rs,
    const consent_vendor_meta_t *meta, char *err, size_t errlen);
/*
 * One line of a rules file (a rule, a "@vendor" line, a blank or a
 * comment) into the set: 0, or -1 with why in err.
 */
int consent_ruleset_add_line(consent_ruleset_t *rs,
    const consent_purposes_t *ps, const unsigned char *p, size_t len,
    uint32_t line, char *err, size_t errlen);
/* releases what the allocator does not own (PCRE2's JIT code) */
void consent_ruleset_free(consent_ruleset_t *rs);
/* builds the exact hash, the prefix trie and the regex alternation */
int consent_ruleset_compile(consent_ruleset_t *rs, char *err, size_t errlen);

/*
 * The domains of domain-only rules a host is in, most specific first:
 * looked up once per request (or per Set-Cookie Domain), so that a name
 * costs nothing more where no such rule applies.
 */
#define CONSENT_SCOPE_MAX           4

typedef struct {
    consent_span_t             domain[CONSENT_SCOPE_MAX];
    unsigned                   n;
} consent_scope_t;

void consent_ruleset_scope(const consent_ruleset_t *rs,
    const unsigned char *host, size_t len, consent_scope_t *scope);

/*
 * A domain-only rule of the scope's most specific domain first, then
 * exact name (case-sensitive, then icase), then the longest prefix, then
 * the first regex in rule order.  NULL when no rule names the cookie.
 * Writes the set's memo of names and PCRE2's match data: a set is for one
 * thread at a time.  scope may be NULL.
 */
const consent_rule_t *consent_ruleset_match_in(consent_ruleset_t *rs,
    const consent_scope_t *scope, const unsigned char *name, size_t len);
/* consent_ruleset_match_in() with no domain-only rule */
const consent_rule_t *consent_ruleset_match(consent_ruleset_t *rs,
    const unsigned char *name, size_t len);
unsigned consent_ruleset_count(const consent_ruleset_t *rs);
unsigned consent_ruleset_vendors(const consent_ruleset_t *rs);
const unsigned char *consent_ruleset_vendor(const consent_ruleset_t *rs,
    unsigned id, size_t *len);
/* a vendor's metadata, or NULL when no "@vendor" line gave any */
const consent_vendor_meta_t *consent_ruleset_vendor_meta(
    const consent_ruleset_t *rs, unsigned id);
/*
 * The rule without domain-only whose domain= is the cookie domain given
 * or the nearest parent of it (of several rules for one domain, the last);
 * NULL when none.  Cost grows with the labels of the domain, not with the
 * rules.
 */
const consent_rule_t *consent_ruleset_match_domain(
    const consent_ruleset_t *rs, const unsigned char *domain, size_t len);
/* a vendor's purposes: "@vendor purposes=", else its rules' (see .c) */
consent_mask_t consent_ruleset_vendor_purposes(const consent_ruleset_t *rs,
    unsigned id);
/* the purposes of a vendor's rules alone */
consent_mask_t consent_ruleset_vendor_rule_purposes(
    const consent_ruleset_t *rs, unsigned id);
/* vendor id by name, or -1 */
int consent_ruleset_vendor_find(const consent_ruleset_t *rs,
    const unsigned char *name, size_t len);


#endif /* _CONSENT_RULES_H_INCLUDED_ */
