/*
 * Copyright (C) ngx_consent_module authors
 *
 * fuzz_rules: what consent_rule_parse() and consent_vendor_parse() promise
 * of a line they took or refused, and the set's copy of the metadata of a
 * "@vendor" line.
 */

#include <string.h>

#include "fuzz.h"
#include "rules_lines.h"


/* rule lines */

/* a code, a message, and the field at fault, which lies in the line */
void
fuzz_check_error(const fuzz_str_t *line, const consent_purposes_t *ps,
    const consent_err_t *err)
{
    const unsigned char  *end;

    end = line->p + line->len;

    FUZZ_ASSERT(err->code >= CONSENT_RULE_E_FIELD
                && err->code <= CONSENT_RULE_E_DOMAIN);
    FUZZ_ASSERT(err->msg != NULL && err->msg[0] != '\0');
    FUZZ_ASSERT(err->at.data >= line->p && err->at.data <= end
                && err->at.len <= (size_t) (end - err->at.data));
    FUZZ_ASSERT(memchr(err->at.data, '\n', err->at.len) == NULL);

    switch (err->code) {

    case CONSENT_RULE_E_NO_PURPOSE:
    case CONSENT_RULE_E_NO_VENDOR:
        /* missing: where it would have started */
        FUZZ_ASSERT(err->at.len == 0);
        break;

    case CONSENT_RULE_E_UNKNOWN_PURPOSE:
        FUZZ_ASSERT(err->at.len > 0);
        FUZZ_ASSERT(consent_purpose_find(ps, err->at.data, err->at.len) < 0);
        break;

    case CONSENT_RULE_E_REGEX:
        FUZZ_ASSERT(err->at.len > 1 && err->at.data[0] == '~');
        break;

    default:
        FUZZ_ASSERT(err->at.len > 0);
    }
}


void
fuzz_check_parsed(const fuzz_str_t *line, const consent_purposes_t *ps,
    const consent_rule_t *r)
{
    const unsigned char  *end;

    end = line->p + line->len;

    FUZZ_ASSERT(r->kind >= CONSENT_RULE_EXACT
                && r->kind <= CONSENT_RULE_REGEX);
    FUZZ_ASSERT(r->pattern_len > 0 && r->pattern_len <= CONSENT_NAME_MAX);
    FUZZ_ASSERT(r->pattern >= line->p && r->pattern + r->pattern_len <= end);
    FUZZ_ASSERT(r->vendor_len > 0 && r->vendor_len <= CONSENT_VENDOR_MAX);
    FUZZ_ASSERT(r->vendor >= line->p && r->vendor + r->vendor_len <= end);
    FUZZ_ASSERT(r->purpose < ps->n);
    FUZZ_ASSERT(r->domain_len == 0
                || (r->domain >= line->p
                    && r->domain + r->domain_len <= end));
    FUZZ_ASSERT(memchr(r->pattern, '\n', r->pattern_len) == NULL);
    FUZZ_ASSERT(memchr(r->vendor, '\n', r->vendor_len) == NULL);

    /* the options: domain-only needs a domain and no regex */
    FUZZ_ASSERT((r->flags & ~(CONSENT_RULE_ICASE | CONSENT_RULE_DOMAIN_ONLY))
                == 0);
    FUZZ_ASSERT(r->domain_len == 0
                || consent_domain_check(r->domain, r->domain_len) == 0);
    FUZZ_ASSERT(!(r->flags & CONSENT_RULE_DOMAIN_ONLY)
                || (r->domain_len != 0 && r->kind != CONSENT_RULE_REGEX));
}


/* vendor lines */

static int
fuzz_in_line(const fuzz_str_t *line, const consent_span_t *s)
{
    return s->data >= line->p && s->data <= line->p + line->len
           && s->len <= (size_t) (line->p + line->len - s->data);
}


int
fuzz_span_eq(const consent_span_t *a, const consent_span_t *b)
{
    return (a->data == NULL) == (b->data == NULL) && a->len == b->len
           && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


/* what consent_vendor_parse() promises of each field it gave */
void
fuzz_check_vendor_parsed(const fuzz_str_t *line,
    const consent_purposes_t *ps, const consent_vendor_meta_t *m)
{
    size_t                 i, pos;
    unsigned               nd;
    consent_span_t         d;
    const consent_span_t  *text[2], *url[2];

    FUZZ_ASSERT(m->id.data != NULL && fuzz_in_line(line, &m->id));
    FUZZ_ASSERT(consent_vendor_id_check(m->id.data, m->id.len) == 0);

    text[0] = &m->name;
    text[1] = &m->controller;
    url[0] = &m->policy;
    url[1] = &m->optout;

    for (i = 0; i < 2; i++) {
        if (text[i]->data) {
            FUZZ_ASSERT(fuzz_in_line(line, text[i]));
            FUZZ_ASSERT(consent_vendor_text_check(text[i]->data,
                                                  text[i]->len) == 0);

            /* nothing that could end a header or a JSON string */
            FUZZ_ASSERT(memchr(text[i]->data, '"', text[i]->len) == NULL);
            FUZZ_ASSERT(memchr(text[i]->data, '\\', text[i]->len) == NULL);
            FUZZ_ASSERT(memchr(text[i]->data, '\r', text[i]->len) == NULL);
        }

        if (url[i]->data) {
            FUZZ_ASSERT(fuzz_in_line(line, url[i]));
            FUZZ_ASSERT(consent_vendor_url_check(url[i]->data,
                                                 url[i]->len) == 0);
            FUZZ_ASSERT(url[i]->len <= CONSENT_VENDOR_URL_MAX);
        }
    }

    if (m->domains.data) {
        FUZZ_ASSERT(fuzz_in_line(line, &m->domains));

        nd = 0;
        pos = 0;

        while (consent_vendor_domain_next(&m->domains, &pos, &d)) {
            FUZZ_ASSERT(consent_domain_check(d.data, d.len) == 0);
            nd++;
        }

        FUZZ_ASSERT(nd == m->ndomains && nd > 0
                    && nd <= CONSENT_VENDOR_DOMAINS_MAX);

    } else {
        FUZZ_ASSERT(m->ndomains == 0);
    }

    FUZZ_ASSERT(ps->n >= 32
                || (m->purposes & ~(CONSENT_BIT(ps->n) - 1)) == 0);

    FUZZ_ASSERT(m->country[0] == '\0'
                || (m->country[0] >= 'A' && m->country[0] <= 'Z'
                    && m->country[1] >= 'A' && m->country[1] <= 'Z'
                    && m->country[2] == '\0'));
}


/* a failed vendor line: a code, a message and the field, in the line */
void
fuzz_check_vendor_error(const fuzz_str_t *line, const consent_err_t *err)
{
    FUZZ_ASSERT(err->code >= CONSENT_RULE_E_FIELD
                && err->code <= CONSENT_RULE_E_VALUE);
    FUZZ_ASSERT(err->msg != NULL && err->msg[0] != '\0');
    FUZZ_ASSERT(fuzz_in_line(line, &err->at));
}


/* the set's copy of a vendor's metadata: the last line that set it */
void
fuzz_check_vendor_meta(const consent_ruleset_t *rs,
    const consent_vendor_meta_t *want)
{
    int                           id;
    const consent_vendor_meta_t  *m;

    id = consent_ruleset_vendor_find(rs, want->id.data, want->id.len);
    FUZZ_ASSERT(id >= 0);

    m = consent_ruleset_vendor_meta(rs, (unsigned) id);
    FUZZ_ASSERT(m != NULL);

    FUZZ_ASSERT(fuzz_span_eq(&m->id, &want->id));
    FUZZ_ASSERT(fuzz_span_eq(&m->name, &want->name));
    FUZZ_ASSERT(fuzz_span_eq(&m->controller, &want->controller));
    FUZZ_ASSERT(fuzz_span_eq(&m->policy, &want->policy));
    FUZZ_ASSERT(fuzz_span_eq(&m->optout, &want->optout));
    FUZZ_ASSERT(fuzz_span_eq(&m->domains, &want->domains));
    FUZZ_ASSERT(m->purposes == want->purposes);
    FUZZ_ASSERT(m->ndomains == want->ndomains);
    FUZZ_ASSERT(m->gvl == want->gvl);
    FUZZ_ASSERT(memcmp(m->country, want->country, 3) == 0);
}
