/*
 * Copyright (C) ngx_consent_module authors
 *
 * Which cookies of a Cookie header go, for a decision: the one rule the
 * module and every test tool apply.  A pair is stripped when a rule for a
 * purpose the visitor did not grant matches its name, or any name an
 * origin framework could read from the pair.
 */

#ifndef _CONSENT_STRIP_H_INCLUDED_
#define _CONSENT_STRIP_H_INCLUDED_


#include "consent_core.h"
#include "rules.h"


/* NULL when the rule is switched off (vendor overrides), else the rule */
typedef const consent_rule_t *(*consent_rule_active_pt)(void *data,
    const consent_rule_t *rule);

/* told of each pair stripped (its name as the browser sent it), and why */
typedef int (*consent_stripped_pt)(void *data, const consent_cookie_t *c,
    const consent_rule_t *rule);

typedef struct {
    consent_ruleset_t         *rules;        /* matching writes its memo */
    /* the request Host's scope for domain-only rules, or NULL */
    const consent_scope_t     *scope;
    consent_mask_t             granted;
    /* vendors refused whatever their purpose (by rules vendor id), or NULL */
    const unsigned char       *refused_vendors;
    /* the consent cookie: never stripped */
    const unsigned char       *keep;
    size_t                     keep_len;
    consent_rule_active_pt     active;       /* NULL: every rule counts */
    void                      *active_data;
    consent_stripped_pt        stripped;     /* NULL: not told */
    void                      *stripped_data;
    /* CONSENT_STRIP_SCRATCH(len) bytes for a header of len bytes */
    unsigned char             *scratch;
    /* set when a stripped callback failed */
    unsigned                   failed:1;
} consent_strip_t;

#define CONSENT_STRIP_SCRATCH(len)  ((len) + 1)

/*
 * 1 when a cookie of rule goes for a decision: its purpose not granted,
 * or its vendor in refused_vendors (NULL for none; bit vendor_id, as
 * CONSENT_IAB_BIT reads it).  Necessary cookies never go.
 */
int consent_rule_refused(const consent_rule_t *rule, consent_mask_t granted,
    const unsigned char *refused_vendors);

/* told of each name; a non-zero return stops the walk and is returned */
typedef int (*consent_name_pt)(void *data, const unsigned char *name,
    size_t len);

/*
 * Every name an origin framework may read from one pair, besides the
 * browser's (c->name), measured against the real parsers of Python
 * (SimpleCookie, Werkzeug, Django WSGI and ASGI, Starlette, Tornado),
 * PHP, Node (cookie, Express, Next.js, Koa), Go and Rack:
 *
 *   - the bytes before '=', untrimmed, or the whole pair without '=';
 *   - those trimmed of what str.strip() removes from a latin-1 string
 *     (09-0D, 1C-1F, 20, 85, A0), and of the UTF-8 spaces Django's WSGI
 *     strip removes (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
 *     U+2029, U+202F, U+205F, U+3000);
 *   - PHP's name: leading C whitespace gone, ' ' and '.' made '_', an
 *     array "name[...]" read as name, an unclosed '[' made '_';
 *   - each word SimpleCookie starts after whitespace inside the pair
 *     ("x=1 _ga=2" is two cookies to it).
 *
 * A pair whose name is printable ASCII without '.' or '[' and whose value
 * has no whitespace yields nothing more (the fast path: ordinary cookies
 * cost one scan).  scratch holds c->segment_len + 1 bytes.
 */
int consent_cookie_origin_names(const consent_cookie_t *c,
    unsigned char *scratch, consent_name_pt cb, void *data);

/*
 * The rule that strips the pair, or NULL to keep it: the first refused
 * rule matching its name or one of the names an origin may read for it
 * (see consent_cookie_origin_names()).  The scratch space it needs comes
 * from st->scratch (CONSENT_STRIP_SCRATCH(len) for a header of len
 * bytes).
 */
const consent_rule_t *consent_strip_match(consent_strip_t *st,
    const consent_cookie_t *c);

/*
 * One Cookie header filtered for st: as consent_cookie_filter() (kept
 * pairs byte for byte and in order, out holds
 * CONSENT_COOKIE_FILTER_SIZE(len) bytes).  Returns the output length;
 * *dropped counts the pairs left out.
 */
size_t consent_strip_header(consent_strip_t *st, const unsigned char *p,
    size_t len, unsigned char *out, size_t *dropped);


#endif /* _CONSENT_STRIP_H_INCLUDED_ */
