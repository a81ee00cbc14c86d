/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Public Suffix List (https://publicsuffix.org/list/): which part of a
 * host is its registrable domain (eTLD+1), the widest Domain= a cookie set
 * for that host can have.  Same conventions as consent_core.h: spans in,
 * memory only from the caller's consent_alloc_t.
 */

#ifndef _CONSENT_PSL_H_INCLUDED_
#define _CONSENT_PSL_H_INCLUDED_


#include "consent_core.h"


/* DNS limits: what a host may have and what a rule may have */
#define CONSENT_PSL_HOST_MAX        253
#define CONSENT_PSL_LABEL_MAX       63


typedef struct consent_psl_s  consent_psl_t;


/* an empty list (only the implicit "*" rule); NULL when out of memory */
consent_psl_t *consent_psl_create(const consent_alloc_t *a);

/* consent_psl_parse() errors: err->code */
#define CONSENT_PSL_E_EMPTY_RULE        1   /* "!" alone */
#define CONSENT_PSL_E_EMPTY_LABEL       2   /* "a..b", ".a", "a." */
#define CONSENT_PSL_E_WILDCARD          3   /* "*" not the leftmost label */
#define CONSENT_PSL_E_WILDCARD_EXC      4   /* "*" in an exception */
#define CONSENT_PSL_E_EXCEPTION         5   /* an exception of one label */
#define CONSENT_PSL_E_CHAR              6   /* a byte a label may not hold */
#define CONSENT_PSL_E_UTF8              7   /* an IDN label not UTF-8 */
#define CONSENT_PSL_E_LABEL_LONG        8   /* over 63 bytes (as A-label) */
#define CONSENT_PSL_E_RULE_LONG         9   /* over 253 bytes */
#define CONSENT_PSL_E_TOO_MANY          10  /* over 2^24 rules in all */
#define CONSENT_PSL_E_NOMEM             11  /* the allocator failed */

/*
 * Adds the rules of a list's text: both the ICANN and the PRIVATE sections
 * count.  A line is read up to its first whitespace (leading whitespace
 * skipped, CRLF fine); blank lines and "//" comments are skipped.  A rule
 * is dot-separated labels of [a-z0-9_-] (uppercase is folded), a leftmost
 * "*" label for a wildcard, or a leading '!' for an exception, which needs
 * two labels at least and no wildcard; the same rule twice is one rule.
 *
 * IDN rules ("公司.cn"): a label with bytes from 0x80 up must be valid
 * UTF-8 and is stored as its Punycode A-label ("xn--55qx5d"), because
 * hosts are looked up as they come in the Host header: ASCII, IDNs
 * already in A-label form.  The list's labels are NFC and lowercase (its
 * linter sees to that); no Unicode mapping is done here.
 *
 * A label longer than 63 bytes (as an A-label) or a rule longer than 253
 * is an error, as is any other byte.  Can be called again to add another
 * file's rules.  Returns 0, or -1 with err (unless NULL): the code, its
 * message, err->line (1-based) and err->at the rule of that line as
 * written; err->line is 0 and err->at empty when the file as a whole
 * failed (CONSENT_PSL_E_TOO_MANY, or no memory for its rules).  The rules
 * before the bad line have been added, so a list that failed should be
 * thrown away.
 */
int consent_psl_parse(consent_psl_t *psl, const unsigned char *p, size_t len,
    consent_err_t *err);

/* rules added: "a.b" and "!a.b" are two, a repeated line is one */
unsigned consent_psl_count(const consent_psl_t *psl);

/*
 * The registrable domain of host: its public suffix (the matching rule
 * with the most labels, a matching exception rule winning over all
 * others, and "*" when none matches) plus one label.
 *
 * host is ASCII, matched case-insensitively; a trailing dot is ignored by
 * the match but stays part of the answer.  Returns the length of the
 * registrable domain, a suffix of host on a label boundary (host + len -
 * ret is it), or 0 when host is itself a public suffix, is empty, has an
 * empty label, a label longer than 63 or a byte outside [A-Za-z0-9_.-],
 * is longer than 253 (trailing dot not counted), or ends in a numeric
 * label (an IPv4 address: "10.0.0.1", "0x7f.1").  A NULL psl gives 0.
 *
 * The cost grows with the length of host and with the most labels any rule
 * has, not with the number of rules.
 */
size_t consent_psl_registrable(const consent_psl_t *psl,
    const unsigned char *host, size_t len);


#endif /* _CONSENT_PSL_H_INCLUDED_ */
