/*
 * Copyright (C) ngx_consent_module authors
 *
 * A rule set's vendors: the names its rules give (a vendor's id is its
 * index, which vendor overrides switch on and off) and the metadata of
 * "@vendor" lines, copied so that the rules files can go.
 */

#include <string.h>
#include <stdio.h>

#include "rules_int.h"


static int consent_span_copy(consent_ruleset_t *rs, consent_span_t *dst,
    const consent_span_t *src);


int
consent_rules_vendor_add(consent_ruleset_t *rs, const unsigned char *p,
    size_t len)
{
    int                id;
    consent_vendor_t  *v;

    /* rules come grouped by vendor: the last one added is the likely one */
    if (rs->nvendors && rs->vendors[rs->nvendors - 1].len == len
        && memcmp(rs->vendors[rs->nvendors - 1].name, p, len) == 0)
    {
        return (int) rs->nvendors - 1;
    }

    id = consent_ruleset_vendor_find(rs, p, len);
    if (id >= 0) {
        return id;
    }

    if (rs->nvendors >= 65535) {
        return -1;
    }

    v = consent_rules_grow(rs, rs->vendors, sizeof(consent_vendor_t),
                           &rs->vendors_cap, rs->nvendors);
    if (v == NULL) {
        return -1;
    }

    rs->vendors = v;
    v = &rs->vendors[rs->nvendors];
    memset(v, 0, sizeof(consent_vendor_t));

    v->name = consent_rules_strdup(rs, p, len);
    if (v->name == NULL) {
        return -1;
    }

    v->len = len;

    return (int) rs->nvendors++;
}


static int
consent_span_copy(consent_ruleset_t *rs, consent_span_t *dst,
    const consent_span_t *src)
{
    if (src->data == NULL) {
        dst->data = NULL;
        dst->len = 0;
        return 0;
    }

    dst->data = consent_rules_strdup(rs, src->data, src->len);
    dst->len = src->len;

    return dst->data ? 0 : -1;
}


int
consent_ruleset_vendor_set(consent_ruleset_t *rs,
    const consent_vendor_meta_t *meta, char *err, size_t errlen)
{
    int                     id;
    consent_vendor_t       *v;
    consent_vendor_meta_t   m;

    if (rs->compiled) {
        snprintf(err, errlen, "rule set already compiled");
        return -1;
    }

    if (consent_vendor_id_check(meta->id.data, meta->id.len) != 0) {
        snprintf(err, errlen, "invalid vendor");
        return -1;
    }

    id = consent_rules_vendor_add(rs, meta->id.data, meta->id.len);
    if (id < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    v = &rs->vendors[id];
    m = *meta;
    m.id.data = v->name;

    if (consent_span_copy(rs, &m.name, &meta->name) != 0
        || consent_span_copy(rs, &m.controller, &meta->controller) != 0
        || consent_span_copy(rs, &m.policy, &meta->policy) != 0
        || consent_span_copy(rs, &m.optout, &meta->optout) != 0
        || consent_span_copy(rs, &m.domains, &meta->domains) != 0
        || consent_span_copy(rs, &m.storage, &meta->storage) != 0)
    {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    /* a later line replaces the earlier one whole */
    v->meta = m;
    v->has_meta = 1;

    return 0;
}


const consent_vendor_meta_t *
consent_ruleset_vendor_meta(const consent_ruleset_t *rs, unsigned id)
{
    if (id >= rs->nvendors || !rs->vendors[id].has_meta) {
        return NULL;
    }

    return &rs->vendors[id].meta;
}


unsigned
consent_ruleset_vendors(const consent_ruleset_t *rs)
{
    return rs->nvendors;
}


const unsigned char *
consent_ruleset_vendor(const consent_ruleset_t *rs, unsigned id, size_t *len)
{
    if (id >= rs->nvendors) {
        return NULL;
    }

    *len = rs->vendors[id].len;

    return rs->vendors[id].name;
}


int
consent_ruleset_vendor_find(const consent_ruleset_t *rs,
    const unsigned char *name, size_t len)
{
    unsigned  i;

    for (i = 0; i < rs->nvendors; i++) {
        if (rs->vendors[i].len == len
            && memcmp(rs->vendors[i].name, name, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


/*
 * What a vendor is there for: its "@vendor purposes=", or else every
 * purpose its rules name.  A vendor is refused where none of them is
 * granted.
 */

consent_mask_t
consent_ruleset_vendor_purposes(const consent_ruleset_t *rs, unsigned id)
{
    if (id < rs->nvendors
        && rs->vendors[id].has_meta && rs->vendors[id].meta.purposes)
    {
        return rs->vendors[id].meta.purposes;
    }

    return consent_ruleset_vendor_rule_purposes(rs, id);
}


consent_mask_t
consent_ruleset_vendor_rule_purposes(const consent_ruleset_t *rs,
    unsigned id)
{
    unsigned        i;
    consent_mask_t  mask;

    if (id >= rs->nvendors) {
        return 0;
    }

    mask = 0;

    for (i = 0; i < rs->nrules; i++) {
        if (rs->rules[i].vendor_id == id) {
            mask |= CONSENT_BIT(rs->rules[i].purpose);
        }
    }

    return mask;
}
