/*
 * Copyright (C) ngx_consent_module authors
 *
 * The vendor list document; see vendors_json.h.
 */

#include <stdio.h>
#include <string.h>

#include "vendors_json.h"


/* a writer that counts everything and writes what fits */
typedef struct {
    unsigned char             *out;
    size_t                     outlen;
    size_t                     n;
} consent_vj_t;


static void consent_vj_raw(consent_vj_t *w, const char *s, size_t len);
static void consent_vj_str(consent_vj_t *w, const unsigned char *p,
    size_t len);
static void consent_vj_field(consent_vj_t *w, const char *name,
    const consent_span_t *v);
static void consent_vj_list(consent_vj_t *w, const char *open,
    const consent_span_t *l);
static void consent_vj_vendor(consent_vj_t *w, const consent_ruleset_t *rs,
    unsigned id);


size_t
consent_vendors_json(const consent_ruleset_t *rs,
    const consent_purposes_t *ps, unsigned char *out, size_t outlen)
{
    return consent_vendors_json_for(rs, ps, consent_purposes_all(ps), NULL,
                                    out, outlen);
}


size_t
consent_vendors_json_for(const consent_ruleset_t *rs,
    const consent_purposes_t *ps, consent_mask_t purposes,
    const unsigned char *skip, unsigned char *out, size_t outlen)
{
    unsigned      p, id, nvendors, first_purpose, first_vendor;
    consent_vj_t  w;

    w.out = out;
    w.outlen = out ? outlen : 0;
    w.n = 0;

    nvendors = consent_ruleset_vendors(rs);
    first_purpose = 1;

    consent_vj_raw(&w, "{\"purposes\":[", 13);

    for (p = 1; p < ps->n; p++) {
        if (!(purposes & CONSENT_BIT(p))) {
            continue;
        }

        first_vendor = 1;

        for (id = 0; id < nvendors; id++) {
            if (!(consent_ruleset_vendor_purposes(rs, id) & CONSENT_BIT(p))
                || (skip && (skip[id >> 3] >> (id & 7)) & 1))
            {
                continue;
            }

            if (first_vendor) {
                /* the comma only before the second purpose on */
                consent_vj_raw(&w, &",{\"purpose\":"[first_purpose],
                               12 - first_purpose);
                consent_vj_str(&w, (const unsigned char *) ps->name[p],
                               ps->len[p]);
                consent_vj_raw(&w, ",\"vendors\":[", 12);
                first_purpose = 0;

            } else {
                consent_vj_raw(&w, ",", 1);
            }

            consent_vj_vendor(&w, rs, id);
            first_vendor = 0;
        }

        if (!first_vendor) {
            consent_vj_raw(&w, "]}", 2);
        }
    }

    consent_vj_raw(&w, "]}\n", 3);

    return w.n;
}


static void
consent_vj_vendor(consent_vj_t *w, const consent_ruleset_t *rs, unsigned id)
{
    int                           len;
    size_t                        idlen;
    char                          num[16];
    consent_span_t                d, name;
    const unsigned char          *vid;
    const consent_vendor_meta_t  *meta;

    vid = consent_ruleset_vendor(rs, id, &idlen);
    meta = consent_ruleset_vendor_meta(rs, id);

    consent_vj_raw(w, "{\"id\":", 6);
    consent_vj_str(w, vid, idlen);

    name.data = vid;
    name.len = idlen;

    if (meta && meta->name.len) {
        name = meta->name;
    }

    consent_vj_field(w, "name", &name);

    if (meta == NULL) {
        consent_vj_raw(w, "}", 1);
        return;
    }

    consent_vj_field(w, "controller", &meta->controller);

    if (meta->country[0]) {
        d.data = (const unsigned char *) meta->country;
        d.len = strlen(meta->country);
        consent_vj_field(w, "country", &d);
    }

    consent_vj_field(w, "policy", &meta->policy);
    consent_vj_field(w, "optout", &meta->optout);

    if (meta->gvl) {
        len = snprintf(num, sizeof(num), ",\"gvl\":%u", (unsigned) meta->gvl);
        consent_vj_raw(w, num, (size_t) len);
    }

    consent_vj_list(w, ",\"domains\":[", &meta->domains);
    consent_vj_list(w, ",\"storage\":[", &meta->storage);

    consent_vj_raw(w, "}", 1);
}


/* a comma-separated list as a JSON array, when it is not empty */

static void
consent_vj_list(consent_vj_t *w, const char *open, const consent_span_t *l)
{
    size_t          pos;
    consent_span_t  e;

    if (l->len == 0) {
        return;
    }

    consent_vj_raw(w, open, strlen(open));
    pos = 0;

    while (consent_vendor_domain_next(l, &pos, &e)) {
        if (e.data != l->data) {
            consent_vj_raw(w, ",", 1);
        }

        consent_vj_str(w, e.data, e.len);
    }

    consent_vj_raw(w, "]", 1);
}


/* ,"name":"value" when the value is not empty */

static void
consent_vj_field(consent_vj_t *w, const char *name,
    const consent_span_t *v)
{
    if (v->len == 0) {
        return;
    }

    consent_vj_raw(w, ",\"", 2);
    consent_vj_raw(w, name, strlen(name));
    consent_vj_raw(w, "\":", 2);
    consent_vj_str(w, v->data, v->len);
}


/*
 * A JSON string.  Vendor values are checked printable UTF-8 when the
 * rules are read, so bytes from 0x80 up pass as they are (a Japanese
 * company name stays readable); quotes, backslashes and control bytes
 * are escaped all the same.
 */

static void
consent_vj_str(consent_vj_t *w, const unsigned char *p, size_t len)
{
    size_t  i;
    char    e[8];

    consent_vj_raw(w, "\"", 1);

    for (i = 0; i < len; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            e[0] = '\\';
            e[1] = (char) p[i];
            consent_vj_raw(w, e, 2);

        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            snprintf(e, sizeof(e), "\\u%04x", p[i]);
            consent_vj_raw(w, e, 6);

        } else {
            consent_vj_raw(w, (const char *) &p[i], 1);
        }
    }

    consent_vj_raw(w, "\"", 1);
}


static void
consent_vj_raw(consent_vj_t *w, const char *s, size_t len)
{
    if (w->out && w->n + len <= w->outlen) {
        memcpy(w->out + w->n, s, len);
    }

    w->n += len;
}
