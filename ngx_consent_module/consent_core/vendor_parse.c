/*
 * Copyright (C) ngx_consent_module authors
 *
 * A vendor's metadata line in a rules file:
 *
 *     @vendor ID [name="..."] [controller="..."] [purposes=P,P]
 *                [country=CC] [policy=URL] [optout=URL] [gvl=N]
 *                [domains=D,D] [storage=KEY,PREFIX*]
 *
 * Every value may end up in a banner, a JSON answer or a header, so what
 * may be in each is decided here: text is printable UTF-8 without '"',
 * URLs are http(s) without blanks, quotes, angle brackets or backslashes.
 */

#include <string.h>

#include "rules.h"
#include "punycode.h"


#define consent_ws(c)  ((c) == ' ' || (c) == '\t' || (c) == '\r')


static const unsigned char *consent_vendor_field(const unsigned char *p,
    const unsigned char *end, consent_span_t *key, consent_span_t *val,
    consent_err_t *err);
static int consent_vendor_value(const consent_span_t *key,
    const consent_span_t *val, const consent_purposes_t *ps,
    consent_vendor_meta_t *meta, consent_err_t *err);
static int consent_vendor_purposes(const consent_span_t *val,
    const consent_purposes_t *ps, consent_mask_t *mask);
static int consent_vendor_storage(const consent_span_t *val, unsigned *n);
static int consent_vendor_domains(const consent_span_t *val,
    unsigned *n);


int
consent_vendor_parse(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, consent_vendor_meta_t *meta,
    consent_err_t *err)
{
    const unsigned char  *end, *id;
    consent_span_t        key, val;

    end = p + len;

    if (len && end[-1] == '\n') {
        end--;
    }

    while (p < end && consent_ws(*p)) {
        p++;
    }

    if (end - p < 8 || memcmp(p, "@vendor", 7) != 0 || !consent_ws(p[7])) {
        return consent_fail(err, CONSENT_RULE_E_FIELD,
                            "not a vendor line", p, 0);
    }

    p += 8;

    while (p < end && consent_ws(*p)) {
        p++;
    }

    for (id = p; p < end && !consent_ws(*p); p++) { /* void */ }

    if (consent_vendor_id_check(id, (size_t) (p - id)) != 0) {
        return consent_fail(err, CONSENT_RULE_E_VENDOR,
                            "missing or invalid vendor name", id,
                            (size_t) (p - id));
    }

    memset(meta, 0, sizeof(consent_vendor_meta_t));
    meta->id.data = id;
    meta->id.len = (size_t) (p - id);

    for ( ;; ) {
        while (p < end && consent_ws(*p)) {
            p++;
        }

        if (p == end) {
            return 1;
        }

        p = consent_vendor_field(p, end, &key, &val, err);
        if (p == NULL) {
            return -1;
        }

        if (consent_vendor_value(&key, &val, ps, meta, err) != 0) {
            return -1;
        }
    }
}


/* key=value or key="value": the span of each, and where the next starts */

static const unsigned char *
consent_vendor_field(const unsigned char *p, const unsigned char *end,
    consent_span_t *key, consent_span_t *val, consent_err_t *err)
{
    const unsigned char  *start;

    start = p;
    key->data = p;

    while (p < end && *p != '=' && !consent_ws(*p)) {
        p++;
    }

    key->len = (size_t) (p - key->data);

    if (p == end || *p != '=' || key->len == 0) {
        consent_fail(err, CONSENT_RULE_E_FIELD,
                     "expected key=value", start,
                     (size_t) (p - start));
        return NULL;
    }

    p++;

    if (p < end && *p == '"') {
        val->data = ++p;

        while (p < end && *p != '"') {
            p++;
        }

        if (p == end) {
            consent_fail(err, CONSENT_RULE_E_VALUE,
                         "unterminated quoted value", start,
                         (size_t) (p - start));
            return NULL;
        }

        val->len = (size_t) (p - val->data);
        p++;

        if (p < end && !consent_ws(*p)) {
            consent_fail(err, CONSENT_RULE_E_VALUE,
                         "blank expected after a quoted value",
                         start, (size_t) (p - start));
            return NULL;
        }

        return p;
    }

    val->data = p;

    while (p < end && !consent_ws(*p)) {
        p++;
    }

    val->len = (size_t) (p - val->data);

    return p;
}


#define consent_key_is(k, s)                                                \
    ((k)->len == sizeof(s) - 1 && memcmp((k)->data, s, sizeof(s) - 1) == 0)


static int
consent_vendor_value(const consent_span_t *key, const consent_span_t *val,
    const consent_purposes_t *ps, consent_vendor_meta_t *meta,
    consent_err_t *err)
{
    size_t           i;
    unsigned         gvl;
    consent_span_t  *dst;

    dst = NULL;

    if (consent_key_is(key, "name")) {
        dst = &meta->name;

    } else if (consent_key_is(key, "controller")) {
        dst = &meta->controller;

    } else if (consent_key_is(key, "policy")) {
        dst = &meta->policy;

    } else if (consent_key_is(key, "optout")) {
        dst = &meta->optout;

    } else if (consent_key_is(key, "domains")) {
        dst = &meta->domains;

    } else if (consent_key_is(key, "storage")) {
        dst = &meta->storage;

    } else if (consent_key_is(key, "purposes")) {
        if (meta->purposes
            || consent_vendor_purposes(val, ps, &meta->purposes) != 0)
        {
            goto invalid;
        }

        return 0;

    } else if (consent_key_is(key, "country")) {
        if (meta->country[0] || val->len != 2
            || val->data[0] < 'A' || val->data[0] > 'Z'
            || val->data[1] < 'A' || val->data[1] > 'Z')
        {
            goto invalid;
        }

        meta->country[0] = (char) val->data[0];
        meta->country[1] = (char) val->data[1];

        return 0;

    } else if (consent_key_is(key, "gvl")) {
        gvl = 0;

        for (i = 0; i < val->len && i < 6; i++) {
            if (val->data[i] < '0' || val->data[i] > '9') {
                goto invalid;
            }

            gvl = gvl * 10 + (unsigned) (val->data[i] - '0');
        }

        if (meta->gvl || val->len == 0 || val->len > 5 || gvl == 0
            || gvl > 65535 || val->data[0] == '0')
        {
            goto invalid;
        }

        meta->gvl = (uint16_t) gvl;

        return 0;

    } else {
        return consent_fail(err, CONSENT_RULE_E_OPTION,
                            "unknown vendor field", key->data,
                            key->len);
    }

    if (dst->data != NULL) {
        goto invalid;
    }

    if (dst == &meta->policy || dst == &meta->optout) {
        if (consent_vendor_url_check(val->data, val->len) != 0) {
            goto invalid;
        }

    } else if (dst == &meta->domains) {
        if (consent_vendor_domains(val, &meta->ndomains) != 0) {
            goto invalid;
        }

    } else if (dst == &meta->storage) {
        if (consent_vendor_storage(val, &meta->nstorage) != 0) {
            goto invalid;
        }

    } else if (consent_vendor_text_check(val->data, val->len) != 0) {
        goto invalid;
    }

    *dst = *val;

    return 0;

invalid:

    /* the whole field, so that the message points at what to fix */
    return consent_fail(err, CONSENT_RULE_E_VALUE,
                        "invalid or repeated vendor field",
                        key->data,
                        (size_t) (val->data + val->len - key->data));
}


int
consent_vendor_text_check(const unsigned char *p, size_t len)
{
    size_t    i, n;
    uint32_t  cp;

    if (len == 0 || len > CONSENT_VENDOR_TEXT_MAX) {
        return -1;
    }

    for (i = 0; i < len; i += n) {
        if (p[i] < 0x80) {
            if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '"' || p[i] == '\\') {
                return -1;
            }

            n = 1;
            continue;
        }

        /* C1 controls and the line and paragraph separators too */
        if (consent_utf8_decode(p + i, len - i, &cp, &n) != 0
            || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029)
        {
            return -1;
        }
    }

    return 0;
}


int
consent_vendor_url_check(const unsigned char *p, size_t len)
{
    size_t         i, scheme;
    unsigned char  c;

    if (len > 8 && memcmp(p, "https://", 8) == 0) {
        scheme = 8;

    } else if (len > 7 && memcmp(p, "http://", 7) == 0) {
        scheme = 7;

    } else {
        return -1;
    }

    if (len > CONSENT_VENDOR_URL_MAX || p[scheme] == '/') {
        return -1;
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>'
            || c == '\\' || c == '\'' || c == '`')
        {
            return -1;
        }
    }

    return 0;
}


static int
consent_vendor_purposes(const consent_span_t *val,
    const consent_purposes_t *ps, consent_mask_t *mask)
{
    int                   purpose;
    const unsigned char  *p, *end, *name;

    *mask = 0;
    p = val->data;
    end = p + val->len;

    while (p < end) {
        for (name = p; p < end && *p != ','; p++) { /* void */ }

        purpose = consent_purpose_find(ps, name, (size_t) (p - name));

        if (purpose < 0 || (*mask & CONSENT_BIT(purpose))) {
            return -1;
        }

        *mask |= CONSENT_BIT(purpose);

        if (p < end && ++p == end) {
            return -1;
        }
    }

    return *mask ? 0 : -1;
}


/*
 * localStorage keys: 1 to 128 printable ASCII bytes without ',', '"',
 * '\\' or spaces, a '*' only last (a prefix)
 */

static int
consent_vendor_storage(const consent_span_t *val, unsigned *n)
{
    size_t          pos, i;
    consent_span_t  k;

    if (val->len == 0 || val->data[val->len - 1] == ',') {
        return -1;
    }

    *n = 0;
    pos = 0;

    while (consent_vendor_domain_next(val, &pos, &k)) {
        if (++*n > CONSENT_VENDOR_STORAGE_MAX || k.len == 0
            || k.len > CONSENT_VENDOR_KEY_MAX
            || (k.len == 1 && k.data[0] == '*'))
        {
            return -1;
        }

        for (i = 0; i < k.len; i++) {
            if (k.data[i] <= 0x20 || k.data[i] >= 0x7f || k.data[i] == '"'
                || k.data[i] == '\\' || (k.data[i] == '*' && i != k.len - 1))
            {
                return -1;
            }
        }
    }

    return 0;
}


static int
consent_vendor_domains(const consent_span_t *val, unsigned *n)
{
    size_t          pos;
    consent_span_t  d;

    if (val->len == 0 || val->data[val->len - 1] == ',') {
        return -1;
    }

    *n = 0;
    pos = 0;

    while (consent_vendor_domain_next(val, &pos, &d)) {
        if (++*n > CONSENT_VENDOR_DOMAINS_MAX
            || consent_domain_check(d.data, d.len) != 0)
        {
            return -1;
        }
    }

    return 0;
}


int
consent_vendor_domain_next(const consent_span_t *domains, size_t *pos,
    consent_span_t *d)
{
    size_t  i;

    if (*pos >= domains->len) {
        return 0;
    }

    for (i = *pos; i < domains->len && domains->data[i] != ','; i++) {
        /* void */
    }

    d->data = domains->data + *pos;
    d->len = i - *pos;
    *pos = i + 1;

    return 1;
}
