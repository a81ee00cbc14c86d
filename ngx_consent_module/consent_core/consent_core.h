/*
 * Copyright (C) ngx_consent_module authors
 *
 * The nginx-independent core: purpose sets, Cookie header parsing, rule
 * matching, the signed consent token, regions and regimes.  No nginx
 * headers here so that lua-free-tests/ can unit-test and fuzz every parser
 * with a plain C compiler.
 *
 * Conventions: inputs are (const unsigned char *p, size_t len) spans that
 * need not be NUL-terminated; outputs go to caller-owned buffers; the only
 * memory the core ever asks for comes from the caller's consent_alloc_t
 * (an nginx pool in the module, malloc in tests).
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


/* rules: cookie name -> purpose + vendor */

#define CONSENT_RULE_EXACT          1
#define CONSENT_RULE_PREFIX         2
#define CONSENT_RULE_REGEX          3

#define CONSENT_NAME_MAX            256
#define CONSENT_VENDOR_MAX          64

typedef struct {
    const unsigned char       *pattern;
    size_t                     pattern_len;
    const unsigned char       *vendor;
    size_t                     vendor_len;
    /* as written; a set's own copy drops a leading dot */
    const unsigned char       *domain;
    size_t                     domain_len;
    uint32_t                   line;
    uint32_t                   index;      /* order added */
    uint16_t                   vendor_id;
    uint8_t                    purpose;
    uint8_t                    kind;
} consent_rule_t;

typedef struct consent_ruleset_s  consent_ruleset_t;

/*
 * One rule line: "PATTERN PURPOSE VENDOR [domain=DOMAIN]", where PATTERN is
 * an exact name, "name*" for a prefix or "~regex" for a PCRE2 regex matched
 * against the whole name.  Blank lines and '#' comments give 0 and leave
 * *rule alone; a rule gives 1 with spans pointing into p; an error gives -1
 * and *err.
 */
int consent_rule_parse(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, consent_rule_t *rule, const char **err);

consent_ruleset_t *consent_ruleset_create(const consent_alloc_t *a);
/*
 * Copies the rule (and its strings) into the set; a regex is compiled on
 * its own here so that a bad one is reported with its line.  Returns 0, or
 * -1 with a message in err.
 */
int consent_ruleset_add(consent_ruleset_t *rs, const consent_rule_t *rule,
    char *err, size_t errlen);
/* releases what the allocator does not own (PCRE2's JIT code) */
void consent_ruleset_free(consent_ruleset_t *rs);
/* builds the exact hash, the prefix trie and the regex alternation */
int consent_ruleset_compile(consent_ruleset_t *rs, char *err, size_t errlen);
/*
 * Exact name first, then the longest prefix, then the first regex in rule
 * order.  NULL when no rule names the cookie.
 */
const consent_rule_t *consent_ruleset_match(const consent_ruleset_t *rs,
    const unsigned char *name, size_t len);
unsigned consent_ruleset_count(const consent_ruleset_t *rs);
unsigned consent_ruleset_vendors(const consent_ruleset_t *rs);
const unsigned char *consent_ruleset_vendor(const consent_ruleset_t *rs,
    unsigned id, size_t *len);
/*
 * The first rule (in rule order) whose domain= is the cookie domain given
 * or a parent of it; NULL when none.  Cost grows with the labels of the
 * domain, not with the rules.
 */
const consent_rule_t *consent_ruleset_match_domain(
    const consent_ruleset_t *rs, const unsigned char *domain, size_t len);
/* vendor id by name, or -1 */
int consent_ruleset_vendor_find(const consent_ruleset_t *rs,
    const unsigned char *name, size_t len);


/* base64url without padding */

#define CONSENT_B64_ENCODED_LEN(n)  (((n) * 4 + 2) / 3)

size_t consent_b64url_encode(const unsigned char *src, size_t len,
    unsigned char *dst);
/* decodes standard or url alphabet, padding optional; -1 on bad input */
long consent_b64_decode(const unsigned char *src, size_t len,
    unsigned char *dst, size_t dstlen);


/* signing keys and the consent token */

#define CONSENT_KEYS_MAX            16
#define CONSENT_KID_MAX             16
#define CONSENT_KEY_MIN             16
#define CONSENT_KEY_MAX             64
#define CONSENT_SUBJECT_MAX         64
#define CONSENT_TOKEN_VERSION       1
#define CONSENT_TOKEN_MAX_LEN       192

typedef struct {
    unsigned char              kid_len;
    char                       kid[CONSENT_KID_MAX];
    unsigned char              key_len;
    unsigned char              key[CONSENT_KEY_MAX];
    /* SHA-256 states with the HMAC pads already absorbed (EVP_MD_CTX) */
    void                      *inner;
    void                      *outer;
} consent_key_t;

/*
 * Tokens whose signature checked out recently, by their exact bytes:
 * a browser sends the same token on every request, and a hit costs one
 * constant-time comparison instead of an HMAC.
 */
#define CONSENT_TOKEN_CACHE_SIZE    256

typedef struct {
    unsigned char              len;          /* 0: empty */
    unsigned char              key;          /* index in the ring */
    unsigned char              subject_off;
    unsigned char              subject_len;
    consent_mask_t             purposes;
    uint32_t                   policy_version;
    int64_t                    issued_at;
    unsigned char              token[CONSENT_TOKEN_MAX_LEN];
} consent_token_seen_t;

typedef struct {
    unsigned                   n;
    consent_key_t              keys[CONSENT_KEYS_MAX];
    void                      *scratch;      /* EVP_MD_CTX for one MAC */
    consent_token_seen_t      *seen;         /* CONSENT_TOKEN_CACHE_SIZE */
} consent_keyring_t;

/*
 * "kid base64key" a line, '#' comments; the first key signs.  Returns 0, or
 * -1 with *err and *err_line.  A parsed ring holds OpenSSL contexts: give
 * it to consent_keyring_free() when done (also after an error).  A ring is
 * for one thread at a time.
 */
int consent_keys_parse(const unsigned char *p, size_t len,
    consent_keyring_t *ring, unsigned *err_line, const char **err);
void consent_keyring_free(consent_keyring_t *ring);

/*
 * A Redis password file's first line: "password", or "user password" for
 * a Redis 6 ACL user; trailing CR and spaces are not part of it.  0 with
 * the password (and the user, *user_len 0 if none) pointing into p, or -1
 * if there is no password or the user is empty.
 */
int consent_secret_parse(const unsigned char *p, size_t len,
    const unsigned char **user, size_t *user_len,
    const unsigned char **password, size_t *password_len);

typedef struct {
    const consent_key_t       *key;          /* verify: the key that matched */
    const unsigned char       *subject;
    size_t                     subject_len;
    consent_mask_t             purposes;
    uint32_t                   policy_version;
    int64_t                    issued_at;
} consent_token_t;

#define CONSENT_TOKEN_OK            0
#define CONSENT_TOKEN_MALFORMED     1
#define CONSENT_TOKEN_UNKNOWN_KEY   2
#define CONSENT_TOKEN_BAD_SIGNATURE 3
#define CONSENT_TOKEN_EXPIRED       4
#define CONSENT_TOKEN_FUTURE        5

/* subject ids: [A-Za-z0-9_-], 1 to CONSENT_SUBJECT_MAX */
int consent_subject_valid(const unsigned char *p, size_t len);

/*
 * Any subject id that may name a Redis key (consent_subject, consentctl):
 * [A-Za-z0-9._:@-], 1 to CONSENT_ID_MAX.  The ids of tokens are a subset.
 */
#define CONSENT_ID_MAX              128
int consent_id_valid(const unsigned char *p, size_t len);

/*
 * "1.kid.subject.purposes.policy_version.issued_at.signature", purposes as
 * 8 lowercase hex digits, signature the base64url HMAC-SHA256 of everything
 * before its dot.  max_age 0 means no expiry; issued_at more than 5 minutes
 * ahead of now is refused.  On success tok->subject points into p.
 */
int consent_token_verify(const unsigned char *p, size_t len,
    const consent_keyring_t *ring, int64_t now, int64_t max_age,
    consent_token_t *tok);
/* signs with ring->keys[0]; returns the length, or 0 if out is too small */
size_t consent_token_sign(const consent_keyring_t *ring,
    const consent_token_t *tok, unsigned char *out, size_t outlen);
const char *consent_token_strerror(int rc);


/* the consent API's request body: a visitor's choice */

#define CONSENT_CHOICE_BODY_MAX     4096

typedef struct {
    consent_mask_t             purposes;     /* necessary always set */
    uint32_t                   policy_version;
    unsigned                   has_purposes:1;
    unsigned                   has_version:1;
    const char                *field;        /* on error: what is at fault */
    char                       error[96];    /* on error: why, for people */
} consent_choice_t;

/*
 * {"purposes": ["analytics"], "policy_version": 3}: purposes required,
 * policy_version optional, other fields skipped.  0, or -1 with field and
 * error set ("body" for syntax errors).
 */
int consent_choice_json(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, consent_choice_t *ch);
/* purposes=analytics,advertising&policy_version=3 (also repeated keys) */
int consent_choice_form(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, consent_choice_t *ch);
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
