/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Redis data layout, written once for the module and consentctl:
 * key names, the subject's record (a hash), the receipt (a stream entry)
 * and the invalidation (a pub/sub message).  See DESIGN.md, "Redis".
 *
 * Commands come out as the argv/argvlen arrays hiredis formats
 * (redisFormatCommandArgv(), redisCommandArgv()), pointing into the
 * caller's spans and a scratch buffer for the numbers; replies go in as
 * spans.  No hiredis and no nginx here, so that the reply parse can be
 * unit-tested and fuzzed.
 */

#ifndef _CONSENT_RECORD_H_INCLUDED_
#define _CONSENT_RECORD_H_INCLUDED_


#include "consent_core.h"


/* keys: the prefix (consent_redis prefix=, consentctl --prefix), then */

#define CONSENT_REDIS_SUBJECT          1   /* "s:<id>": the record, a hash */
#define CONSENT_REDIS_LOG              2   /* "log": the receipts, a stream */
#define CONSENT_REDIS_INVAL            3   /* "inval": a pub/sub channel */
#define CONSENT_REDIS_RULES_DISABLED   4   /* "rules:disabled": a set */
/* SCAN MATCH of every record: the prefix with "*?[]\" escaped, "s:*" */
#define CONSENT_REDIS_SUBJECTS         5
/* "pv:<id>": the provision log, a hash (see provision.h) */
#define CONSENT_REDIS_PROVISION        6

/*
 * Bytes consent_redis_key() needs, its NUL included (for the pattern, as
 * if every byte of the prefix were escaped); id counts only for a
 * subject's keys (record, provision log).  0 for an unknown kind or
 * lengths that overflow.
 */
size_t consent_redis_key_size(unsigned kind, size_t prefix_len,
    size_t id_len);
/*
 * The key into out, NUL-terminated (consentctl prints keys).  Returns its
 * length without the NUL, or -1 when it does not fit in outlen (the size
 * consent_redis_key_size() gives always does) or the kind is unknown.
 */
long consent_redis_key(unsigned kind, const unsigned char *prefix,
    size_t prefix_len, const unsigned char *id, size_t id_len,
    unsigned char *out, size_t outlen);


/* the record: HSET <prefix>s:<id> p .. v .. t .. src .. gpc .. vr .. */

#define CONSENT_RECORD_F_P             "p"
#define CONSENT_RECORD_F_V             "v"
#define CONSENT_RECORD_F_T             "t"
#define CONSENT_RECORD_F_SRC           "src"
#define CONSENT_RECORD_F_GPC           "gpc"
/* vendors refused one by one (vendor_set.h): names joined by ',' */
#define CONSENT_RECORD_F_VR            "vr"

/* who wrote it: "src" in the record and in the receipt */
#define CONSENT_WRITER_API             "api"
#define CONSENT_WRITER_CONSENTCTL      "consentctl"

#define CONSENT_RECORD_V_MAX           0xffffffffULL
#define CONSENT_RECORD_T_MAX           0x7fffffffffffffffULL

/*
 * "p" as a write stores it: the mask's names joined by ','; necessary is
 * implied and never stored.  At most CONSENT_RECORD_P_SIZE bytes.
 */
#define CONSENT_RECORD_P_SIZE                                              \
    (CONSENT_MAX_PURPOSES * (CONSENT_PURPOSE_NAME_MAX + 1))

/* as consent_purposes_format(): the length needed, written if it fits */
size_t consent_record_purposes_format(const consent_purposes_t *ps,
    consent_mask_t mask, unsigned char *out, size_t outlen);

/*
 * The next name of a purpose list ("p", or a list an operator typed),
 * split on commas and spaces: 1 with name/len set, or 0 at the end.
 */
int consent_record_purpose_next(const unsigned char **pos,
    const unsigned char *end, const unsigned char **name, size_t *len);

/* told of each name of "p" the purpose set does not know */
typedef void (*consent_record_unknown_pt)(void *data,
    const unsigned char *name, size_t len);

/*
 * "p" into a mask, necessary always in it; a name the purpose set does
 * not know (one a configuration no longer has) is skipped, and given to
 * unknown (may be NULL).  Returns the number of such names.
 */
unsigned consent_record_purposes(const consent_purposes_t *ps,
    const unsigned char *p, size_t len, consent_mask_t *mask,
    consent_record_unknown_pt unknown, void *data);

/*
 * A "v" or "t": one or more digits and nothing else, at most max (any
 * number of leading zeros).  0 and *out, or -1.
 */
int consent_record_uint(const unsigned char *p, size_t len, uint64_t max,
    uint64_t *out);


/* what is wrong with an HGETALL answer: consent_err_t's code */
#define CONSENT_RECORD_E_ODD           1   /* not field/value pairs */
#define CONSENT_RECORD_E_NOT_STRING    2   /* a field or value not a string */
#define CONSENT_RECORD_E_V             3   /* "v" not a version */
#define CONSENT_RECORD_E_T             4   /* "t" not a time */
#define CONSENT_RECORD_E_NO_P          5   /* fields, but no "p" */

typedef struct {
    /* the last of each field, as stored; data NULL: not there */
    consent_span_t             p;
    consent_span_t             v;
    consent_span_t             t;
    consent_span_t             src;
    consent_span_t             gpc;
    consent_span_t             vr;

    /* what the module reads */
    consent_mask_t             purposes;     /* necessary always set */
    uint32_t                   policy_version;
    int64_t                    updated;
    unsigned                   unknown;      /* names in "p" not known */
    int                        gpc_on;       /* "1" 1, "0" 0, else -1 */
    unsigned                   found:1;      /* the hash has fields */
    /* the last "v" or "t" is not a number (consentctl shows null) */
    unsigned                   bad_v:1;
    unsigned                   bad_t:1;
} consent_record_t;

/*
 * Element i of a reply as a span: data NULL when it is not a string (a
 * hiredis REDIS_REPLY_STRING is one; nil, integer, array... are not).
 */
typedef void (*consent_reply_elt_pt)(const void *reply, size_t i,
    consent_span_t *elt);

/*
 * HGETALL's array of n elements, field, value, field, value...  Empty: no
 * record (found 0), and 0.  Otherwise "p" the purposes (necessary always
 * in, unknown names skipped and counted), "v" the policy version (0 to
 * 2^32-1), "t" the time (0 to 2^63-1), other fields kept as spans or
 * ignored.  Returns 0, or -1 for a record the module does not trust,
 * with the first problem met (in reply order) in err, if not NULL.  Past
 * a problem the rest is still read (consentctl shows what it can) but
 * unknown is no longer called; not field/value pairs (E_ODD) are not
 * read at all.  A pair whose field or value is not a string is skipped
 * whole.  An empty string is a span of length 0 whose data is not NULL.
 */
int consent_record_parse(const void *reply, size_t n,
    consent_reply_elt_pt elt, const consent_purposes_t *ps,
    consent_record_unknown_pt unknown, void *data, consent_record_t *rec,
    consent_err_t *err);
/* the same, from an array of spans (data NULL: not a string) */
int consent_record_parse_spans(const consent_span_t *elts, size_t n,
    const consent_purposes_t *ps, consent_record_unknown_pt unknown,
    void *data, consent_record_t *rec, consent_err_t *err);


/* a write: the record, its receipt and the invalidation */

/* a receipt's fields, in the order written */
#define CONSENT_RECEIPT_F_SUBJECT      "subject"
#define CONSENT_RECEIPT_F_ACTION       "action"
#define CONSENT_RECEIPT_F_PURPOSES     "purposes"
#define CONSENT_RECEIPT_F_V            "v"
#define CONSENT_RECEIPT_F_T            "t"
#define CONSENT_RECEIPT_F_SRC          "src"
#define CONSENT_RECEIPT_F_REGIME       "regime"
#define CONSENT_RECEIPT_F_GPC          "gpc"
#define CONSENT_RECEIPT_F_REGION       "region"
#define CONSENT_RECEIPT_F_TCF          "tcf"
#define CONSENT_RECEIPT_F_GPP          "gpp"
#define CONSENT_RECEIPT_F_USP          "usp"
#define CONSENT_RECEIPT_F_IP           "ip"
#define CONSENT_RECEIPT_F_VR           "vendors_refused"

/* the receipt's "action" */
#define CONSENT_ACTION_GRANT           "grant"       /* the API's POST */
#define CONSENT_ACTION_WITHDRAW        "withdraw"    /* the API's DELETE */
#define CONSENT_ACTION_SET             "set"         /* consentctl */
#define CONSENT_ACTION_ERASE           "erase"       /* --keep-receipts */

/* a receipt keeps at most this much of the region */
#define CONSENT_RECEIPT_REGION_MAX     64

typedef struct {
    consent_span_t             subject;
    /* "p": consent_record_purposes_format() */
    consent_span_t             purposes;
    uint32_t                   policy_version;
    int64_t                    time;
    consent_span_t             src;          /* CONSENT_WRITER_* */
    unsigned                   gpc:1;
    /* "vr": names joined by ','; length 0: none (the record says so) */
    consent_span_t             vendors_refused;

    /* the receipt's own */
    consent_span_t             action;       /* CONSENT_ACTION_* */
    /* data NULL: left out (consentctl knows no regime) */
    consent_span_t             regime;
    /* these, when of length 0, are left out (consentctl: all of them) */
    consent_span_t             region;       /* cut to ..._REGION_MAX */
    consent_span_t             tcf;
    consent_span_t             gpp;
    consent_span_t             usp;
    consent_span_t             ip;
    /* seconds; above 0, XADD trims receipts older (MINID ~) */
    int64_t                    retain;
} consent_write_t;

/* the longest number written: "-9223372036854775808" */
#define CONSENT_RECORD_INT_LEN         20

#define CONSENT_HGETALL_ARGS           2
#define CONSENT_SMEMBERS_ARGS          2
#define CONSENT_HSET_ARGS              14
#define CONSENT_XADD_ARGS              34
#define CONSENT_PUBLISH_ARGS           3
#define CONSENT_EXPIRE_ARGS            3

/* scratch for the numbers: "v" and "t"; MINID, "v" and "t" */
#define CONSENT_HSET_SCRATCH           (2 * CONSENT_RECORD_INT_LEN)
#define CONSENT_XADD_SCRATCH           (3 * CONSENT_RECORD_INT_LEN + 3)
#define CONSENT_EXPIRE_SCRATCH         CONSENT_RECORD_INT_LEN

/*
 * Each builder fills argv/argvlen (room for CONSENT_*_ARGS) and returns
 * the argument count, or -1 when the scratch is too small.  The
 * arguments point into the key, the write's spans, static strings and
 * scratch: all must outlive the command's formatting.
 */

/* HGETALL <prefix>s:<id> */
int consent_record_get_argv(const consent_span_t *key, const char **argv,
    size_t *argvlen);
/* HSET <prefix>s:<id> p .. v .. t .. src .. gpc 0|1 vr .. (maybe "") */
int consent_record_set_argv(const consent_span_t *key,
    const consent_write_t *w, unsigned char *scratch, size_t size,
    const char **argv, size_t *argvlen);
/*
 * The record's retention, in the write's MULTI: EXPIRE <key> ttl (seconds
 * from this decision), or PERSIST <key> for ttl 0 (kept: a record written
 * under an earlier retention loses it)
 */
int consent_record_expire_argv(const consent_span_t *key, int64_t ttl,
    unsigned char *scratch, size_t size, const char **argv, size_t *argvlen);
/*
 * XADD <prefix>log [MINID ~ oldest-ms] * subject .. action .. purposes ..
 * v .. t .. src .. [regime ..] gpc 0|1 [region ..] [tcf ..] [gpp ..]
 * [usp ..] [ip ..] [vendors_refused ..]
 */
int consent_receipt_argv(const consent_span_t *log,
    const consent_write_t *w, unsigned char *scratch, size_t size,
    const char **argv, size_t *argvlen);
/*
 * The record a write leaves, as consent_record_parse() reads it back
 * (spans into w and scratch, CONSENT_HSET_SCRATCH bytes).  0, or -1 if
 * the scratch is too small or the module would not trust it (a time
 * before 1970).
 */
int consent_record_from_write(const consent_write_t *w,
    const consent_purposes_t *ps, unsigned char *scratch, size_t size,
    consent_record_t *rec);


/* invalidations: PUBLISH <prefix>inval <subject id> | *rules */

/* never a subject id (those have no '*'): the vendor overrides changed */
#define CONSENT_INVAL_RULES            "*rules"

int consent_inval_argv(const consent_span_t *channel,
    const unsigned char *id, size_t len, const char **argv,
    size_t *argvlen);
int consent_inval_rules_argv(const consent_span_t *channel,
    const char **argv, size_t *argvlen);
/* 1 when a message on the channel is CONSENT_INVAL_RULES */
int consent_inval_is_rules(const unsigned char *p, size_t len);

/* SMEMBERS <prefix>rules:disabled: the vendors switched off */
int consent_rules_disabled_argv(const consent_span_t *key,
    const char **argv, size_t *argvlen);


#endif /* _CONSENT_RECORD_H_INCLUDED_ */
