/*
 * Copyright (C) ngx_consent_module authors
 *
 * The consent API's JSON body: a visitor's choice ({"purposes":
 * ["analytics"], "policy_version": 3, "vendors_refused": ["criteo"]}),
 * and what the form reader (choice_form.c) shares with it.
 *
 * The JSON reader is a strict RFC 8259 one for a single object: anything
 * it does not understand is an error that names the field, never a guess.
 * Fields it does not know are skipped (validated, not interpreted), so
 * that a banner may send more than this version reads.
 */

#include <stdio.h>
#include <string.h>

#include "choice_int.h"
#include "rules.h"


#define CONSENT_JSON_DEPTH_MAX   32


typedef struct {
    const unsigned char       *p;
    const unsigned char       *start;
    const unsigned char       *end;
    consent_choice_t          *ch;
    const consent_purposes_t  *ps;
    const consent_ruleset_t   *rs;
    unsigned                   depth;
} consent_json_t;


static int consent_json_syntax(consent_json_t *js);
static void consent_json_ws(consent_json_t *js);
static int consent_json_string(consent_json_t *js, unsigned char *out,
    size_t outlen, size_t *len);
static int consent_json_unescape(consent_json_t *js, unsigned char *u);
static int consent_utf8_encode(unsigned c, unsigned char *u);
static int consent_json_utf8(consent_json_t *js, unsigned char *u);
static int consent_json_hex4(const unsigned char *p, unsigned *v);
static int consent_json_skip(consent_json_t *js);
static int consent_json_number(consent_json_t *js, uint64_t *v,
    int *integer);
static int consent_json_names(consent_json_t *js, const char *field);
static int consent_json_version(consent_json_t *js);
static int consent_json_field(consent_json_t *js, const unsigned char *key,
    size_t klen);
static void consent_choice_shown(const unsigned char *name, size_t len,
    size_t max, char *shown);


void
consent_choice_error(consent_choice_t *ch, const char *field,
    const char *fmt, const char *arg)
{
    ch->field = field;
    snprintf(ch->error, sizeof(ch->error), fmt, arg);
}


static int
consent_json_syntax(consent_json_t *js)
{
    char  at[24];

    snprintf(at, sizeof(at), "%lu", (unsigned long) (js->p - js->start));
    consent_choice_error(js->ch, "body", "invalid JSON at byte %s", at);

    return -1;
}


static void
consent_json_ws(consent_json_t *js)
{
    while (js->p < js->end
           && (*js->p == ' ' || *js->p == '\t' || *js->p == '\n'
               || *js->p == '\r'))
    {
        js->p++;
    }
}


static int
consent_json_hex4(const unsigned char *p, unsigned *v)
{
    unsigned  i, c;

    *v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;

        } else {
            return -1;
        }

        *v = (*v << 4) | c;
    }

    return 0;
}


/*
 * A string at js->p (on its opening quote), decoded into out as UTF-8.
 * Bytes that do not fit are counted in *len but not written, so a caller
 * sees "too long" without a second pass.  Raw control bytes, bad escapes,
 * lone surrogates and malformed UTF-8 are syntax errors.
 */

static int
consent_json_string(consent_json_t *js, unsigned char *out, size_t outlen,
    size_t *len)
{
    int             k, i;
    size_t          n;
    unsigned        c;
    unsigned char   u[4];

    n = 0;
    js->p++;

    for ( ;; ) {
        if (js->p >= js->end) {
            return consent_json_syntax(js);
        }

        c = *js->p;

        if (c == '"') {
            js->p++;
            *len = n;
            return 0;
        }

        if (c < 0x20) {
            return consent_json_syntax(js);
        }

        if (c == '\\') {
            k = consent_json_unescape(js, u);

        } else if (c < 0x80) {
            u[0] = (unsigned char) c;
            k = 1;
            js->p++;

        } else {
            k = consent_json_utf8(js, u);
        }

        if (k < 0) {
            return -1;
        }

        for (i = 0; i < k; i++, n++) {
            if (n < outlen) {
                out[n] = u[i];
            }
        }
    }
}


/*
 * The escape at js->p (on its '\\') into u as UTF-8, and js->p past it:
 * the length written, or -1.  A syntax error leaves js->p on the '\\',
 * where it is reported.
 */

static int
consent_json_unescape(consent_json_t *js, unsigned char *u)
{
    int       k;
    unsigned  c, lo;

    if (js->end - js->p < 2) {
        return consent_json_syntax(js);
    }

    c = js->p[1];
    k = 1;

    switch (c) {
    case '"': case '\\': case '/':
        u[0] = (unsigned char) c;
        break;
    case 'b': u[0] = '\b'; break;
    case 'f': u[0] = '\f'; break;
    case 'n': u[0] = '\n'; break;
    case 'r': u[0] = '\r'; break;
    case 't': u[0] = '\t'; break;

    case 'u':
        if (js->end - js->p < 6 || consent_json_hex4(js->p + 2, &c) != 0) {
            return consent_json_syntax(js);
        }

        if (c >= 0xdc00 && c <= 0xdfff) {
            return consent_json_syntax(js);
        }

        if (c >= 0xd800 && c <= 0xdbff) {
            if (js->end - js->p < 12 || js->p[6] != '\\' || js->p[7] != 'u'
                || consent_json_hex4(js->p + 8, &lo) != 0
                || lo < 0xdc00 || lo > 0xdfff)
            {
                return consent_json_syntax(js);
            }

            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            js->p += 6;
        }

        k = consent_utf8_encode(c, u);
        js->p += 4;
        break;

    default:
        return consent_json_syntax(js);
    }

    js->p += 2;

    return k;
}


/* a code point up to U+10FFFF as UTF-8 into u: its length */

static int
consent_utf8_encode(unsigned c, unsigned char *u)
{
    if (c < 0x80) {
        u[0] = (unsigned char) c;
        return 1;
    }

    if (c < 0x800) {
        u[0] = (unsigned char) (0xc0 | (c >> 6));
        u[1] = (unsigned char) (0x80 | (c & 0x3f));
        return 2;
    }

    if (c < 0x10000) {
        u[0] = (unsigned char) (0xe0 | (c >> 12));
        u[1] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
        u[2] = (unsigned char) (0x80 | (c & 0x3f));
        return 3;
    }

    u[0] = (unsigned char) (0xf0 | (c >> 18));
    u[1] = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
    u[2] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
    u[3] = (unsigned char) (0x80 | (c & 0x3f));
    return 4;
}


/*
 * Raw UTF-8 at js->p, a byte from 0x80 up, copied into u, and js->p past
 * it: the length, or -1.  The shortest form, no surrogates, up to
 * U+10FFFF.
 */

static int
consent_json_utf8(consent_json_t *js, unsigned char *u)
{
    int       k, i;
    unsigned  c;

    c = *js->p;

    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
    } else {
        return consent_json_syntax(js);
    }

    if (js->end - js->p < k) {
        return consent_json_syntax(js);
    }

    for (i = 1; i < k; i++) {
        if ((js->p[i] & 0xc0) != 0x80) {
            return consent_json_syntax(js);
        }
    }

    if ((c == 0xe0 && js->p[1] < 0xa0)
        || (c == 0xed && js->p[1] > 0x9f)
        || (c == 0xf0 && js->p[1] < 0x90)
        || (c == 0xf4 && js->p[1] > 0x8f))
    {
        return consent_json_syntax(js);
    }

    memcpy(u, js->p, k);
    js->p += k;

    return k;
}


/* an RFC 8259 number; *integer says whether it had no fraction/exponent */

static int
consent_json_number(consent_json_t *js, uint64_t *v, int *integer)
{
    int  neg, big;

    *v = 0;
    *integer = 1;
    neg = 0;
    big = 0;

    if (*js->p == '-') {
        neg = 1;
        js->p++;
    }

    if (js->p >= js->end || *js->p < '0' || *js->p > '9') {
        return consent_json_syntax(js);
    }

    if (*js->p == '0') {
        js->p++;

    } else {
        while (js->p < js->end && *js->p >= '0' && *js->p <= '9') {
            if (*v > (UINT64_MAX - 9) / 10) {
                big = 1;

            } else {
                *v = *v * 10 + (*js->p - '0');
            }

            js->p++;
        }
    }

    if (js->p < js->end && *js->p == '.') {
        *integer = 0;
        js->p++;

        if (js->p >= js->end || *js->p < '0' || *js->p > '9') {
            return consent_json_syntax(js);
        }

        while (js->p < js->end && *js->p >= '0' && *js->p <= '9') {
            js->p++;
        }
    }

    if (js->p < js->end && (*js->p == 'e' || *js->p == 'E')) {
        *integer = 0;
        js->p++;

        if (js->p < js->end && (*js->p == '+' || *js->p == '-')) {
            js->p++;
        }

        if (js->p >= js->end || *js->p < '0' || *js->p > '9') {
            return consent_json_syntax(js);
        }

        while (js->p < js->end && *js->p >= '0' && *js->p <= '9') {
            js->p++;
        }
    }

    if (neg && *v != 0) {
        *integer = 0;
    }

    if (big) {
        *v = UINT64_MAX;
    }

    return 0;
}


/* any value, validated and passed over */

static int
consent_json_skip(consent_json_t *js)
{
    int        integer;
    size_t     len;
    uint64_t   v;
    unsigned   first;

    consent_json_ws(js);

    if (js->p >= js->end) {
        return consent_json_syntax(js);
    }

    switch (*js->p) {

    case '"':
        return consent_json_string(js, NULL, 0, &len);

    case '{':
    case '[':
        if (++js->depth > CONSENT_JSON_DEPTH_MAX) {
            consent_choice_error(js->ch, "body", "JSON nested too deep%s",
                                 "");
            return -1;
        }

        first = (*js->p == '{') ? '}' : ']';
        js->p++;
        consent_json_ws(js);

        if (js->p < js->end && *js->p == first) {
            js->p++;
            js->depth--;
            return 0;
        }

        for ( ;; ) {
            if (first == '}') {
                consent_json_ws(js);

                if (js->p >= js->end || *js->p != '"'
                    || consent_json_string(js, NULL, 0, &len) != 0)
                {
                    return consent_json_syntax(js);
                }

                consent_json_ws(js);

                if (js->p >= js->end || *js->p != ':') {
                    return consent_json_syntax(js);
                }

                js->p++;
            }

            if (consent_json_skip(js) != 0) {
                return -1;
            }

            consent_json_ws(js);

            if (js->p < js->end && *js->p == ',') {
                js->p++;
                continue;
            }

            if (js->p < js->end && *js->p == first) {
                js->p++;
                js->depth--;
                return 0;
            }

            return consent_json_syntax(js);
        }

    case 't':
        if (js->end - js->p >= 4 && memcmp(js->p, "true", 4) == 0) {
            js->p += 4;
            return 0;
        }

        return consent_json_syntax(js);

    case 'f':
        if (js->end - js->p >= 5 && memcmp(js->p, "false", 5) == 0) {
            js->p += 5;
            return 0;
        }

        return consent_json_syntax(js);

    case 'n':
        if (js->end - js->p >= 4 && memcmp(js->p, "null", 4) == 0) {
            js->p += 4;
            return 0;
        }

        return consent_json_syntax(js);

    default:
        if (*js->p == '-' || (*js->p >= '0' && *js->p <= '9')) {
            return consent_json_number(js, &v, &integer);
        }

        return consent_json_syntax(js);
    }
}


/* a name as an error shows it: printable ASCII, cut short */

static void
consent_choice_shown(const unsigned char *name, size_t len, size_t max,
    char *shown)
{
    size_t  k;

    for (k = 0; k < len && k < max; k++) {
        shown[k] = (name[k] >= 0x20 && name[k] < 0x7f && name[k] != '"'
                    && name[k] != '\\')
                   ? (char) name[k] : '?';
    }

    if (len > max) {
        memcpy(shown + k, "...", 3);
        k += 3;
    }

    shown[k] = '\0';
}


int
consent_choice_name(consent_choice_t *ch, const consent_purposes_t *ps,
    const unsigned char *name, size_t len)
{
    int   i;
    char  shown[CONSENT_PURPOSE_NAME_MAX + 4];

    i = (len <= CONSENT_PURPOSE_NAME_MAX)
        ? consent_purpose_find(ps, name, len) : -1;

    if (i >= 0) {
        ch->purposes |= CONSENT_BIT(i);
        return 0;
    }

    consent_choice_shown(name, len, CONSENT_PURPOSE_NAME_MAX, shown);
    consent_choice_error(ch, "purposes", "unknown purpose \"%s\"", shown);

    return -1;
}


int
consent_choice_vendor(consent_choice_t *ch, const consent_ruleset_t *rs,
    const unsigned char *name, size_t len)
{
    int       id;
    char      shown[CONSENT_VENDOR_MAX + 4];
    unsigned  i;

    id = (rs && consent_vendor_id_check(name, len) == 0)
         ? consent_ruleset_vendor_find(rs, name, len) : -1;

    if (id < 0) {
        consent_choice_shown(name, len, CONSENT_VENDOR_MAX, shown);
        consent_choice_error(ch, "vendors_refused", "unknown vendor \"%s\"",
                             shown);
        return -1;
    }

    for (i = 0; i < ch->nvendors; i++) {
        if (ch->vendors[i] == (uint16_t) id) {
            return 0;
        }
    }

    if (ch->nvendors == CONSENT_CHOICE_VENDORS_MAX) {
        consent_choice_error(ch, "vendors_refused",
                             "more than 1024 vendors%s", "");
        return -1;
    }

    ch->vendors[ch->nvendors++] = (uint16_t) id;

    return 0;
}


/* an array of names: purposes, or vendors_refused */

static int
consent_json_names(consent_json_t *js, const char *field)
{
    int            vendors;
    size_t         len;
    unsigned char  name[CONSENT_VENDOR_MAX + 1];

    vendors = (field[0] == 'v');

    consent_json_ws(js);

    if (js->p >= js->end || *js->p != '[') {
        if (consent_json_skip(js) != 0) {
            return -1;
        }

        consent_choice_error(js->ch, field, "must be an array of %s names",
                             vendors ? "vendor" : "purpose");
        return -1;
    }

    js->p++;
    consent_json_ws(js);

    if (js->p < js->end && *js->p == ']') {
        js->p++;
        return 0;
    }

    for ( ;; ) {
        consent_json_ws(js);

        if (js->p >= js->end) {
            return consent_json_syntax(js);
        }

        if (*js->p != '"') {
            if (consent_json_skip(js) != 0) {
                return -1;
            }

            consent_choice_error(js->ch, field, "must be an array of %s names",
                                 vendors ? "vendor" : "purpose");
            return -1;
        }

        if (consent_json_string(js, name, sizeof(name), &len) != 0) {
            return -1;
        }

        /* a name longer than the buffer is unknown: only its start shows */
        if ((vendors ? consent_choice_vendor(js->ch, js->rs, name, len)
                     : consent_choice_name(js->ch, js->ps, name, len))
            != 0)
        {
            return -1;
        }

        consent_json_ws(js);

        if (js->p < js->end && *js->p == ',') {
            js->p++;
            continue;
        }

        if (js->p < js->end && *js->p == ']') {
            js->p++;
            return 0;
        }

        return consent_json_syntax(js);
    }
}


static int
consent_json_version(consent_json_t *js)
{
    int       integer;
    uint64_t  v;

    consent_json_ws(js);

    if (js->p < js->end && (*js->p == '-' || (*js->p >= '0' && *js->p <= '9')))
    {
        if (consent_json_number(js, &v, &integer) != 0) {
            return -1;
        }

        if (integer && v <= UINT32_MAX) {
            js->ch->policy_version = (uint32_t) v;
            js->ch->has_version = 1;
            return 0;
        }

    } else if (consent_json_skip(js) != 0) {
        return -1;
    }

    consent_choice_error(js->ch, "policy_version",
                         "must be an integer from 0 to 4294967295%s", "");
    return -1;
}


/* one field's value: the three the API knows, others skipped */

static int
consent_json_field(consent_json_t *js, const unsigned char *key, size_t klen)
{
    consent_choice_t  *ch;

    ch = js->ch;

    if (klen == 8 && memcmp(key, "purposes", 8) == 0) {
        if (ch->has_purposes) {
            consent_choice_error(ch, "purposes", "duplicate field%s", "");
            return -1;
        }

        ch->has_purposes = 1;

        return consent_json_names(js, "purposes");
    }

    if (klen == 15 && memcmp(key, "vendors_refused", 15) == 0) {
        if (ch->has_vendors) {
            consent_choice_error(ch, "vendors_refused", "duplicate field%s",
                                 "");
            return -1;
        }

        ch->has_vendors = 1;

        return consent_json_names(js, "vendors_refused");
    }

    if (klen == 14 && memcmp(key, "policy_version", 14) == 0) {
        if (ch->has_version) {
            consent_choice_error(ch, "policy_version", "duplicate field%s",
                                 "");
            return -1;
        }

        return consent_json_version(js);
    }

    return consent_json_skip(js);
}


int
consent_choice_json(const unsigned char *p, size_t len,
    const consent_purposes_t *ps, const consent_ruleset_t *rs,
    consent_choice_t *ch)
{
    size_t          klen;
    unsigned char   key[16];
    consent_json_t  js;

    memset(ch, 0, sizeof(consent_choice_t));
    ch->purposes = CONSENT_BIT(CONSENT_P_NECESSARY);

    js.p = p;
    js.start = p;
    js.end = p + len;
    js.ch = ch;
    js.ps = ps;
    js.rs = rs;
    js.depth = 1;

    consent_json_ws(&js);

    if (js.p >= js.end || *js.p != '{') {
        if (js.p >= js.end) {
            consent_choice_error(ch, "body", "empty body%s", "");
            return -1;
        }

        consent_choice_error(ch, "body", "must be a JSON object%s", "");
        return -1;
    }

    js.p++;
    consent_json_ws(&js);

    if (js.p < js.end && *js.p == '}') {
        js.p++;
        goto done;
    }

    for ( ;; ) {
        consent_json_ws(&js);

        if (js.p >= js.end || *js.p != '"') {
            return consent_json_syntax(&js);
        }

        if (consent_json_string(&js, key, sizeof(key), &klen) != 0) {
            return -1;
        }

        consent_json_ws(&js);

        if (js.p >= js.end || *js.p != ':') {
            return consent_json_syntax(&js);
        }

        js.p++;

        if (consent_json_field(&js, key, klen) != 0) {
            return -1;
        }

        consent_json_ws(&js);

        if (js.p < js.end && *js.p == ',') {
            js.p++;
            continue;
        }

        if (js.p < js.end && *js.p == '}') {
            js.p++;
            break;
        }

        return consent_json_syntax(&js);
    }

done:

    consent_json_ws(&js);

    if (js.p != js.end) {
        return consent_json_syntax(&js);
    }

    if (!ch->has_purposes) {
        consent_choice_error(ch, "purposes", "missing%s", "");
        return -1;
    }

    return 0;
}
