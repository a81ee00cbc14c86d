/*
 * Copyright (C) ngx_consent_module authors
 *
 * The nginx-independent core: what all of it shares (memory, spans,
 * errors, purposes) and the parsers of the basics: the Cookie and
 * Set-Cookie headers, rules, the API's request bodies, regions and
 * regimes.  Every other concern has its own header: b64.h, id.h,
 * secret.h, keys.h, token.h, psl.h, rules.h, strip.h, expiry.h,
 * permissions_policy.h, decide.h, record.h.  No nginx headers here so
 * that lua-free-tests/ can unit-test and fuzz every parser with a plain C
 * compiler.
 *
 * Conventions, for every file of the core:
 *
 * Inputs are (const unsigned char *p, size_t len) spans that need not be
 * NUL-terminated; outputs go to caller-owned buffers.
 *
 * Memory the core allocates comes from the caller's consent_alloc_t (an
 * nginx pool in the module, malloc in tests) and is never freed by the
 * core: it goes when the allocator's owner frees it all.  Two libraries
 * keep memory of their own that no allocator of ours can give them; each
 * time it is owned by one object and released by one call:
 *   - OpenSSL's EVP_MD_CTXs, owned by a consent_keyring_t (keys.h) and
 *     freed by consent_keyring_free();
 *   - PCRE2's JIT code, owned by a consent_ruleset_t and freed by
 *     consent_ruleset_free() (PCRE2's other memory is the allocator's).
 *
 * What a function takes as const it only reads.  An object with a cache
 * that lookups fill (a rule set's memo of names, a key ring's cache of
 * verified tokens) is passed to those lookups as non-const, and is for
 * one thread at a time: in nginx, each worker process has its own copy.
 *
 * Results and errors:
 *   - a call that can fail returns 0, or a count, an index or a length
 *     (>= 0) where it has one to give, and -1 when it fails; a size_t
 *     result, which cannot be -1, is 0 when nothing could be written
 *     (consent_token_sign());
 *   - where callers need to know why, err (a consent_err_t) says: a code
 *     to branch on, a static message for people, the input at fault.
 *     Callers branch on codes, never on messages;
 *   - a few return their code itself, as it is the whole answer:
 *     consent_token_verify() (CONSENT_TOKEN_*, 0 is OK),
 *     consent_purposes_add() (a negative CONSENT_PURPOSE_*);
 *   - "none" is not a failure: lookups give NULL or -1, predicates 0,
 *     iterators 0 at the end, a parser of one line 0 for a blank line or
 *     a comment (1 for an item);
 *   - older interfaces write a message to the caller's buffer (char
 *     *err, size_t errlen) when it quotes PCRE2 (consent_ruleset_add(),
 *     consent_ruleset_compile()); the API's body parsers put theirs in
 *     the result (consent_choice_t).
 */

#ifndef _CONSENT_CORE_H_INCLUDED_
#define _CONSENT_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>


typedef struct {
    void                     *(*alloc)(void *data, size_t size);
    void                      *data;
} consent_alloc_t;


/* a span of bytes owned by someone else */
typedef struct {
    const unsigned char       *data;
    size_t                     len;
} consent_span_t;


/* why a call failed: written on failure only, see the conventions above */
typedef struct {
    int                        code;         /* the function's _E_ code */
    const char                *msg;          /* static, for people */
    consent_span_t             at;           /* the input at fault */
    unsigned                   line;         /* whole files: 1-based */
} consent_err_t;

/*
 * Fills *err (line 0: a parser of whole files sets it) and returns -1,
 * so that a parser fails with one statement: return consent_fail(...).
 */
int consent_fail(consent_err_t *err, int code, const char *msg,
    const unsigned char *at, size_t len);


/* purposes */

#define CONSENT_MAX_PURPOSES        32
#define CONSENT_PURPOSE_NAME_MAX    31

#define CONSENT_P_NECESSARY         0
#define CONSENT_P_FUNCTIONAL        1
#define CONSENT_P_ANALYTICS         2
#define CONSENT_P_ADVERTISING       3
#define CONSENT_P_PERSONALIZATION   4
#define CONSENT_P_SHARING           5
#define CONSENT_P_STANDARD          6

#define CONSENT_BIT(p)              ((consent_mask_t) 1 << (p))

typedef uint32_t consent_mask_t;

typedef struct {
    unsigned                   n;
    unsigned char              len[CONSENT_MAX_PURPOSES];
    char                       name[CONSENT_MAX_PURPOSES]
                                   [CONSENT_PURPOSE_NAME_MAX + 1];
} consent_purposes_t;

#define CONSENT_PURPOSE_FULL       -1
#define CONSENT_PURPOSE_INVALID    -2
#define CONSENT_PURPOSE_DUPLICATE  -3

/* the six standard purposes, in DESIGN.md order */
void consent_purposes_init(consent_purposes_t *ps);
/* returns the new index, or one of the negative codes above */
int consent_purposes_add(consent_purposes_t *ps, const unsigned char *name,
    size_t len);
/* index, or -1 */
int consent_purpose_find(const consent_purposes_t *ps,
    const unsigned char *name, size_t len);
consent_mask_t consent_purposes_all(const consent_purposes_t *ps);
/*
 * "analytics,advertising" (commas and/or spaces) into a mask; necessary is
 * always added.  Returns 0, or -1 with *bad and *bad_len set to the unknown
 * name.
 */
int consent_purposes_parse(const consent_purposes_t *ps,
    const unsigned char *p, size_t len, consent_mask_t *mask,
    const unsigned char **bad, size_t *bad_len);
/*
 * Names of the mask's purposes joined by ','.  Returns the length needed;
 * writes only if it fits in outlen.
 */
size_t consent_purposes_format(const consent_purposes_t *ps,
    consent_mask_t mask, unsigned char *out, size_t outlen);


/* Cookie request header */

typedef struct {
    const unsigned char       *name;
    size_t                     name_len;
    const unsigned char       *value;
    size_t                     value_len;
    /* name=value as sent, surrounding whitespace trimmed */
    const unsigned char       *pair;
    size_t                     pair_len;
    /* the bytes between the ';'s, untrimmed */
    const unsigned char       *segment;
    size_t                     segment_len;
    unsigned                   has_eq:1;
    /* carries NUL, CR or LF: never copied into a header we write */
    unsigned                   has_ctl:1;
} consent_cookie_t;

typedef struct {
    const unsigned char       *pos;
    const unsigned char       *end;
    /* the header has NUL, CR or LF somewhere: pairs are checked one by one */
    unsigned                   ctl:1;
} consent_cookie_iter_t;

void consent_cookie_iter_init(consent_cookie_iter_t *it,
    const unsigned char *p, size_t len);
/* 1 and *c filled, or 0 at the end; empty segments are skipped */
int consent_cookie_next(consent_cookie_iter_t *it, consent_cookie_t *c);
/*
 * The next cookie called name from where the iterator stands, skipping
 * pairs with control bytes: 1 and *c filled, or 0.  Looks at other pairs
 * only as far as their names, so it is cheaper than consent_cookie_next().
 */
int consent_cookie_find(consent_cookie_iter_t *it, const unsigned char *name,
    size_t name_len, consent_cookie_t *c);
/*
 * In one walk over a header, the first non-empty value of each of n
 * names (values[i] for names[i], each name at least 2 bytes; a value
 * already set is left as it is), skipping pairs with control bytes.
 * Cheaper than consent_cookie_find() once per name.
 */
void consent_cookie_find_each(const unsigned char *p, size_t len,
    const consent_span_t *names, size_t n, consent_span_t *values);
/* value of the first cookie called name, or NULL */
const unsigned char *consent_cookie_get(const unsigned char *p, size_t len,
    const unsigned char *name, size_t name_len, size_t *value_len);

/* return 1 to keep the cookie, 0 to drop it */
typedef int (*consent_cookie_keep_pt)(void *data, const consent_cookie_t *c);

/* an upper bound of what consent_cookie_filter() writes for len input */
#define CONSENT_COOKIE_FILTER_SIZE(len)  ((len) + (len) / 2 + 2)

/*
 * Writes the kept pairs, byte-for-byte and in order, into
 * out (CONSENT_COOKIE_FILTER_SIZE(len) bytes): neighbours that were
 * adjacent keep the separator bytes between them, a gap left by a dropped
 * pair becomes "; ".  Pairs with control bytes are
 * dropped without asking keep.  Returns the output length; *dropped counts
 * the pairs left out.
 */
size_t consent_cookie_filter(const unsigned char *p, size_t len,
    unsigned char *out, consent_cookie_keep_pt keep, void *data,
    size_t *dropped);


/* Set-Cookie response header */

#define CONSENT_SC_SECURE           0x01
#define CONSENT_SC_HTTPONLY         0x02
#define CONSENT_SC_PARTITIONED      0x04

typedef struct {
    const unsigned char       *name;
    size_t                     name_len;
    const unsigned char       *value;
    size_t                     value_len;
    /* the last Domain attribute, without a leading dot; len 0 if none */
    const unsigned char       *domain;
    size_t                     domain_len;
    const unsigned char       *path;
    size_t                     path_len;
    unsigned                   flags;
    unsigned                   has_eq:1;
    unsigned                   has_ctl:1;
} consent_set_cookie_t;

/*
 * RFC 6265 5.2: the name-value pair runs to the first ';' (quotes do not
 * protect one), attribute names are case-insensitive and the last of each
 * wins.  Never fails: whatever the input, *sc describes it.
 */
void consent_set_cookie_parse(const unsigned char *p, size_t len,
    consent_set_cookie_t *sc);
/*
 * 1 when host (a cookie Domain, any case, leading dot ignored) is domain
 * or a subdomain of it, on a label boundary.
 */
int consent_domain_match(const unsigned char *host, size_t host_len,
    const unsigned char *domain, size_t domain_len);


/* the consent API's request body: a visitor's choice */

#define CONSENT_CHOICE_BODY_MAX     16384
/* distinct vendors a body may name (each id < 65536) */
#define CONSENT_CHOICE_VENDORS_MAX  1024

typedef struct consent_ruleset_s  consent_ruleset_t;

typedef struct {
    consent_mask_t             purposes;     /* necessary always set */
    uint32_t                   policy_version;
    unsigned                   has_purposes:1;
    unsigned                   has_version:1;
    unsigned                   has_vendors:1;
    /* "vendors_refused": rules vendor ids, in body order, once each */
    unsigned                   nvendors;
    uint16_t                   vendors[CONSENT_CHOICE_VENDORS_MAX];
    const char                *field;        /* on error: what is at fault */
    char                       error[96];    /* on error: why, for people */
} consent_choice_t;

/*
 * {"purposes": ["analytics"], "policy_version": 3, "vendors_refused":
 * ["criteo"]}: purposes required, the others optional, other fields
 * skipped.  A vendor must be one of rs (NULL: none is known).  0, or -1
 * with field and error set ("body" for syntax errors).
 */
int consent_choice_json(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, const consent_ruleset_t *rs,
    consent_choice_t *ch);
/*
 * purposes=analytics,advertising&policy_version=3&vendors_refused=criteo
 * (also repeated keys)
 */
int consent_choice_form(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, const consent_ruleset_t *rs,
    consent_choice_t *ch);
/*
 * The inside of a JSON string: '"' and '\\' escaped, control bytes and
 * bytes from 0x7f up as \u00XX.  Returns the length needed; writes only
 * if out is not NULL and it fits in outlen.
 */
size_t consent_json_escape(const unsigned char *p, size_t len,
    unsigned char *out, size_t outlen);


/* regions and regimes */

#define CONSENT_REGIME_OPT_IN       0
#define CONSENT_REGIME_OPT_OUT      1
#define CONSENT_REGIME_NOTICE       2
#define CONSENT_REGIMES             3

#define CONSENT_REGIONS_MAX         256
#define CONSENT_REGION_MAX          15

typedef struct {
    unsigned                   n;
    struct {
        unsigned char          len;
        unsigned char          regime;
        char                   code[CONSENT_REGION_MAX + 1];
    }                          map[CONSENT_REGIONS_MAX];
} consent_regions_t;

/* EU/EEA, UK, CH -> opt_in; US -> opt_out; JP -> notice */
void consent_regions_init(consent_regions_t *rg);
/* case-insensitive; replaces an earlier mapping; 0 or -1 */
int consent_regions_set(consent_regions_t *rg, const unsigned char *code,
    size_t len, unsigned regime);
/*
 * "FR", "us-ca", "US-CA": exact code first, then the country before '-'.
 * Returns the regime or -1 when unmapped.
 */
int consent_regions_lookup(const consent_regions_t *rg,
    const unsigned char *code, size_t len);
/* "opt_in" -> CONSENT_REGIME_OPT_IN; -1 when unknown */
int consent_regime_parse(const unsigned char *p, size_t len);
const char *consent_regime_name(unsigned regime);
/* the built-in default purposes of a regime */
consent_mask_t consent_regime_default(const consent_purposes_t *ps,
    unsigned regime);


#endif /* _CONSENT_CORE_H_INCLUDED_ */
