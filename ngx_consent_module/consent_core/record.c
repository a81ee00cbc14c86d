/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Redis data layout: key names, the record's fields and how they are
 * read, the commands of a write.  The module and consentctl both call
 * this, so that what one writes the other reads the same way.
 */

#include <string.h>

#include "record.h"


typedef struct {
    const char                *name;
    size_t                     len;
} consent_record_name_t;


/* by CONSENT_REDIS_*: what follows the prefix */
static const consent_record_name_t  consent_redis_names[] = {
    { NULL, 0 },
    { "s:", 2 },
    { "log", 3 },
    { "inval", 5 },
    { "rules:disabled", 14 },
    { "s:*", 3 },
    { "pv:", 3 }
};

#define CONSENT_REDIS_KINDS                                                \
    (sizeof(consent_redis_names) / sizeof(consent_redis_names[0]))

/* room for the longest fixed part and a NUL, when adding lengths up */
#define CONSENT_REDIS_KEY_SLACK        32


static int consent_redis_glob(unsigned char c);
static void consent_record_elt(const void *reply, size_t i,
    consent_span_t *elt);
static void consent_record_fail(consent_err_t *first, int code,
    const consent_span_t *at);
static unsigned char *consent_record_int(unsigned char *p, int64_t n);
static const char *consent_record_str(const consent_span_t *s);


size_t
consent_redis_key_size(unsigned kind, size_t prefix_len, size_t id_len)
{
    size_t  n;

    if (kind == 0 || kind >= CONSENT_REDIS_KINDS
        || prefix_len > ((size_t) -1 - CONSENT_REDIS_KEY_SLACK) / 2)
    {
        return 0;
    }

    n = consent_redis_names[kind].len + 1;

    switch (kind) {

    case CONSENT_REDIS_SUBJECT:
    case CONSENT_REDIS_PROVISION:
        if (id_len > (size_t) -1 - CONSENT_REDIS_KEY_SLACK - prefix_len) {
            return 0;
        }

        return prefix_len + n + id_len;

    case CONSENT_REDIS_SUBJECTS:
        /* every byte of the prefix may need its backslash */
        return 2 * prefix_len + n;

    default:
        return prefix_len + n;
    }
}


long
consent_redis_key(unsigned kind, const unsigned char *prefix,
    size_t prefix_len, const unsigned char *id, size_t id_len,
    unsigned char *out, size_t outlen)
{
    size_t  i, n, need;

    if (kind == 0 || kind >= CONSENT_REDIS_KINDS) {
        return -1;
    }

    if (kind != CONSENT_REDIS_SUBJECT && kind != CONSENT_REDIS_PROVISION) {
        id_len = 0;
    }

    need = consent_redis_key_size(kind, prefix_len, id_len);
    if (need == 0) {
        return -1;
    }

    if (kind == CONSENT_REDIS_SUBJECTS) {
        /* matched literally: the prefix's glob characters escaped */
        need = consent_redis_names[kind].len + 1;

        for (i = 0; i < prefix_len; i++) {
            need += consent_redis_glob(prefix[i]) ? 2 : 1;
        }

        if (need > outlen) {
            return -1;
        }

        n = 0;

        for (i = 0; i < prefix_len; i++) {
            if (consent_redis_glob(prefix[i])) {
                out[n++] = '\\';
            }

            out[n++] = prefix[i];
        }

    } else {
        if (need > outlen) {
            return -1;
        }

        if (prefix_len) {
            memcpy(out, prefix, prefix_len);
        }

        n = prefix_len;
    }

    memcpy(out + n, consent_redis_names[kind].name,
           consent_redis_names[kind].len);
    n += consent_redis_names[kind].len;

    if (id_len) {
        memcpy(out + n, id, id_len);
        n += id_len;
    }

    out[n] = '\0';

    return (long) n;
}


/* what SCAN MATCH would take for a pattern character */

static int
consent_redis_glob(unsigned char c)
{
    return c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';
}


size_t
consent_record_purposes_format(const consent_purposes_t *ps,
    consent_mask_t mask, unsigned char *out, size_t outlen)
{
    /* necessary is implied: a record never names it */
    return consent_purposes_format(ps,
                                   mask & ~CONSENT_BIT(CONSENT_P_NECESSARY),
                                   out, outlen);
}


int
consent_record_purpose_next(const unsigned char **pos,
    const unsigned char *end, const unsigned char **name, size_t *len)
{
    const unsigned char  *p;

    p = *pos;

    while (p < end && (*p == ',' || *p == ' ')) {
        p++;
    }

    *name = p;

    while (p < end && *p != ',' && *p != ' ') {
        p++;
    }

    *len = p - *name;
    *pos = p;

    return *len != 0;
}


unsigned
consent_record_purposes(const consent_purposes_t *ps, const unsigned char *p,
    size_t len, consent_mask_t *mask, consent_record_unknown_pt unknown,
    void *data)
{
    int                   i;
    size_t                nlen;
    unsigned              n;
    const unsigned char  *pos, *name;

    *mask = CONSENT_BIT(CONSENT_P_NECESSARY);

    if (len == 0) {
        return 0;
    }

    n = 0;
    pos = p;

    while (consent_record_purpose_next(&pos, p + len, &name, &nlen)) {
        i = consent_purpose_find(ps, name, nlen);

        if (i < 0) {
            /* a purpose this configuration no longer knows */
            n++;

            if (unknown) {
                unknown(data, name, nlen);
            }

            continue;
        }

        *mask |= CONSENT_BIT(i);
    }

    return n;
}


int
consent_record_uint(const unsigned char *p, size_t len, uint64_t max,
    uint64_t *out)
{
    size_t    i;
    uint64_t  n, d;

    if (len == 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        d = p[i] - '0';

        if (d > max || n > (max - d) / 10) {
            return -1;
        }

        n = n * 10 + d;
    }

    *out = n;

    return 0;
}


int
consent_record_parse(const void *reply, size_t n, consent_reply_elt_pt elt,
    const consent_purposes_t *ps, consent_record_unknown_pt unknown,
    void *data, consent_record_t *rec, consent_err_t *err)
{
    size_t           i;
    uint64_t         u;
    consent_err_t    first;
    consent_span_t   k, v;
    consent_mask_t   mask;

    memset(rec, 0, sizeof(consent_record_t));
    rec->purposes = CONSENT_BIT(CONSENT_P_NECESSARY);
    rec->gpc_on = -1;

    memset(&first, 0, sizeof(consent_err_t));

    if (n % 2) {
        consent_record_fail(&first, CONSENT_RECORD_E_ODD, NULL);
        goto failed;
    }

    for (i = 0; i < n; i += 2) {
        elt(reply, i, &k);
        elt(reply, i + 1, &v);

        if (k.data == NULL || v.data == NULL) {
            consent_record_fail(&first, CONSENT_RECORD_E_NOT_STRING, NULL);
            continue;
        }

        if (k.len == 1) {
            switch (k.data[0]) {

            case 'p':
                rec->p = v;
                /* once the record is known bad, its names are not news */
                rec->unknown += consent_record_purposes(ps, v.data, v.len,
                                                        &mask,
                                                        first.code
                                                        ? NULL : unknown,
                                                        data);
                rec->purposes |= mask;
                break;

            case 'v':
                rec->v = v;
                rec->bad_v = 0;

                if (consent_record_uint(v.data, v.len, CONSENT_RECORD_V_MAX,
                                        &u)
                    != 0)
                {
                    rec->bad_v = 1;
                    consent_record_fail(&first, CONSENT_RECORD_E_V, &v);
                    break;
                }

                rec->policy_version = (uint32_t) u;
                break;

            case 't':
                rec->t = v;
                rec->bad_t = 0;

                if (consent_record_uint(v.data, v.len, CONSENT_RECORD_T_MAX,
                                        &u)
                    != 0)
                {
                    rec->bad_t = 1;
                    consent_record_fail(&first, CONSENT_RECORD_E_T, &v);
                    break;
                }

                rec->updated = (int64_t) u;
                break;
            }

        } else if (k.len == 3 && memcmp(k.data, CONSENT_RECORD_F_SRC, 3) == 0)
        {
            rec->src = v;

        } else if (k.len == 3 && memcmp(k.data, CONSENT_RECORD_F_GPC, 3) == 0)
        {
            rec->gpc = v;
            rec->gpc_on = (v.len != 1) ? -1
                          : (v.data[0] == '1') ? 1
                          : (v.data[0] == '0') ? 0 : -1;

        } else if (k.len == 2 && memcmp(k.data, CONSENT_RECORD_F_VR, 2) == 0)
        {
            rec->vr = v;
        }
    }

    if (n && rec->p.data == NULL) {
        consent_record_fail(&first, CONSENT_RECORD_E_NO_P, NULL);
    }

    rec->found = (n != 0);

    if (first.code == 0) {
        return 0;
    }

failed:

    if (err) {
        *err = first;
    }

    return -1;
}


int
consent_record_parse_spans(const consent_span_t *elts, size_t n,
    const consent_purposes_t *ps, consent_record_unknown_pt unknown,
    void *data, consent_record_t *rec, consent_err_t *err)
{
    return consent_record_parse(elts, n, consent_record_elt, ps, unknown,
                                data, rec, err);
}


static void
consent_record_elt(const void *reply, size_t i, consent_span_t *elt)
{
    *elt = ((const consent_span_t *) reply)[i];
}


/* the first problem is the one reported */

static void
consent_record_fail(consent_err_t *first, int code, const consent_span_t *at)
{
    static const char  *msgs[] = {
        NULL,
        "not field and value pairs",
        "a field or value is not a string",
        "\"v\" not a number",
        "\"t\" not a number",
        "no \"p\""
    };

    if (first->code) {
        return;
    }

    first->code = code;
    first->msg = msgs[code];

    if (at) {
        first->at = *at;
    }
}


/* writes */

#define CONSENT_RECORD_ARG(s, l)                                           \
    do {                                                                   \
        argv[n] = (const char *) (s);                                      \
        argvlen[n] = (l);                                                  \
        n++;                                                               \
    } while (0)

#define CONSENT_RECORD_LIT(s)  CONSENT_RECORD_ARG(s, sizeof(s) - 1)

#define CONSENT_RECORD_SPAN(sp)                                            \
    CONSENT_RECORD_ARG(consent_record_str(sp), (sp)->len)


int
consent_record_get_argv(const consent_span_t *key, const char **argv,
    size_t *argvlen)
{
    int  n;

    n = 0;

    CONSENT_RECORD_LIT("HGETALL");
    CONSENT_RECORD_SPAN(key);

    return n;
}


int
consent_record_expire_argv(const consent_span_t *key, int64_t ttl,
    unsigned char *scratch, size_t size, const char **argv, size_t *argvlen)
{
    int             n;
    unsigned char  *p;

    if (size < CONSENT_EXPIRE_SCRATCH) {
        return -1;
    }

    n = 0;

    if (ttl <= 0) {
        CONSENT_RECORD_LIT("PERSIST");
        CONSENT_RECORD_SPAN(key);
        return n;
    }

    p = consent_record_int(scratch, ttl);

    CONSENT_RECORD_LIT("EXPIRE");
    CONSENT_RECORD_SPAN(key);
    CONSENT_RECORD_ARG(scratch, p - scratch);

    return n;
}


int
consent_record_set_argv(const consent_span_t *key, const consent_write_t *w,
    unsigned char *scratch, size_t size, const char **argv, size_t *argvlen)
{
    int             n;
    unsigned char  *p, *q;

    if (size < CONSENT_HSET_SCRATCH) {
        return -1;
    }

    n = 0;
    p = scratch;

    CONSENT_RECORD_LIT("HSET");
    CONSENT_RECORD_SPAN(key);
    CONSENT_RECORD_LIT(CONSENT_RECORD_F_P);
    CONSENT_RECORD_SPAN(&w->purposes);

    q = p;
    p = consent_record_int(p, w->policy_version);

    CONSENT_RECORD_LIT(CONSENT_RECORD_F_V);
    CONSENT_RECORD_ARG(q, p - q);

    q = p;
    p = consent_record_int(p, w->time);

    CONSENT_RECORD_LIT(CONSENT_RECORD_F_T);
    CONSENT_RECORD_ARG(q, p - q);
    CONSENT_RECORD_LIT(CONSENT_RECORD_F_SRC);
    CONSENT_RECORD_SPAN(&w->src);
    CONSENT_RECORD_LIT(CONSENT_RECORD_F_GPC);
    CONSENT_RECORD_ARG(w->gpc ? "1" : "0", 1);

    /* always written: a new choice replaces the old refusals */
    CONSENT_RECORD_LIT(CONSENT_RECORD_F_VR);
    CONSENT_RECORD_SPAN(&w->vendors_refused);

    return n;
}


int
consent_receipt_argv(const consent_span_t *log, const consent_write_t *w,
    unsigned char *scratch, size_t size, const char **argv, size_t *argvlen)
{
    int             n;
    size_t          len;
    unsigned char  *p, *q;

    if (size < CONSENT_XADD_SCRATCH) {
        return -1;
    }

    n = 0;
    p = scratch;

    CONSENT_RECORD_LIT("XADD");
    CONSENT_RECORD_SPAN(log);

    /* trimmed by time as it grows: "~" lets Redis cut whole nodes */
    if (w->retain > 0) {
        q = p;
        p = consent_record_int(p, w->time > w->retain
                                  ? w->time - w->retain : 0);
        memcpy(p, "000", 3);
        p += 3;

        CONSENT_RECORD_LIT("MINID");
        CONSENT_RECORD_LIT("~");
        CONSENT_RECORD_ARG(q, p - q);
    }

    CONSENT_RECORD_LIT("*");
    CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_SUBJECT);
    CONSENT_RECORD_SPAN(&w->subject);
    CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_ACTION);
    CONSENT_RECORD_SPAN(&w->action);
    CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_PURPOSES);
    CONSENT_RECORD_SPAN(&w->purposes);

    q = p;
    p = consent_record_int(p, w->policy_version);

    CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_V);
    CONSENT_RECORD_ARG(q, p - q);

    q = p;
    p = consent_record_int(p, w->time);

    CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_T);
    CONSENT_RECORD_ARG(q, p - q);
    CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_SRC);
    CONSENT_RECORD_SPAN(&w->src);

    if (w->regime.data) {
        CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_REGIME);
        CONSENT_RECORD_SPAN(&w->regime);
    }

    CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_GPC);
    CONSENT_RECORD_ARG(w->gpc ? "1" : "0", 1);

    if (w->region.len) {
        len = w->region.len < CONSENT_RECEIPT_REGION_MAX
              ? w->region.len : CONSENT_RECEIPT_REGION_MAX;

        CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_REGION);
        CONSENT_RECORD_ARG(w->region.data, len);
    }

    /* what the visitor's CMP left, as proof of what was shown */

    if (w->tcf.len) {
        CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_TCF);
        CONSENT_RECORD_SPAN(&w->tcf);
    }

    if (w->gpp.len) {
        CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_GPP);
        CONSENT_RECORD_SPAN(&w->gpp);
    }

    if (w->usp.len) {
        CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_USP);
        CONSENT_RECORD_SPAN(&w->usp);
    }

    if (w->ip.len) {
        CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_IP);
        CONSENT_RECORD_SPAN(&w->ip);
    }

    if (w->vendors_refused.len) {
        CONSENT_RECORD_LIT(CONSENT_RECEIPT_F_VR);
        CONSENT_RECORD_SPAN(&w->vendors_refused);
    }

    return n;
}


int
consent_record_from_write(const consent_write_t *w,
    const consent_purposes_t *ps, unsigned char *scratch, size_t size,
    consent_record_t *rec)
{
    int             i, n;
    size_t          argvlen[CONSENT_HSET_ARGS];
    const char     *argv[CONSENT_HSET_ARGS];
    consent_span_t  key, f[CONSENT_HSET_ARGS];

    key.data = (const unsigned char *) "";
    key.len = 0;

    n = consent_record_set_argv(&key, w, scratch, size, argv, argvlen);
    if (n < 0) {
        return -1;
    }

    /* HSET's field/value pairs, read back as HGETALL would give them */
    for (i = 2; i < n; i++) {
        f[i - 2].data = (const unsigned char *) argv[i];
        f[i - 2].len = argvlen[i];
    }

    return consent_record_parse_spans(f, n - 2, ps, NULL, NULL, rec, NULL);
}


int
consent_inval_argv(const consent_span_t *channel, const unsigned char *id,
    size_t len, const char **argv, size_t *argvlen)
{
    int  n;

    n = 0;

    CONSENT_RECORD_LIT("PUBLISH");
    CONSENT_RECORD_SPAN(channel);
    CONSENT_RECORD_ARG(id ? (const char *) id : "", len);

    return n;
}


int
consent_inval_rules_argv(const consent_span_t *channel, const char **argv,
    size_t *argvlen)
{
    return consent_inval_argv(channel,
                              (const unsigned char *) CONSENT_INVAL_RULES,
                              sizeof(CONSENT_INVAL_RULES) - 1, argv,
                              argvlen);
}


int
consent_inval_is_rules(const unsigned char *p, size_t len)
{
    return len == sizeof(CONSENT_INVAL_RULES) - 1
           && memcmp(p, CONSENT_INVAL_RULES, len) == 0;
}


int
consent_rules_disabled_argv(const consent_span_t *key, const char **argv,
    size_t *argvlen)
{
    int  n;

    n = 0;

    CONSENT_RECORD_LIT("SMEMBERS");
    CONSENT_RECORD_SPAN(key);

    return n;
}


/* decimal, with a '-' if negative: at most CONSENT_RECORD_INT_LEN bytes */

static unsigned char *
consent_record_int(unsigned char *p, int64_t n)
{
    size_t          i;
    uint64_t        u;
    unsigned char   buf[CONSENT_RECORD_INT_LEN];

    u = n < 0 ? (uint64_t) 0 - (uint64_t) n : (uint64_t) n;
    i = sizeof(buf);

    do {
        buf[--i] = (unsigned char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (n < 0) {
        buf[--i] = '-';
    }

    memcpy(p, buf + i, sizeof(buf) - i);

    return p + sizeof(buf) - i;
}


/* hiredis copies len bytes from each argument: never from NULL */

static const char *
consent_record_str(const consent_span_t *s)
{
    return s->data ? (const char *) s->data : "";
}
