/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Redis data layout: key names, the record's parse (what the module
 * trusts, what consentctl shows), and the commands of a write, argument
 * by argument, as the module and consentctl send them.
 */

#include "test.h"
#include "record.h"


#define NOSTR  ((const char *) 1)


static consent_purposes_t  ps;


/* the arguments joined by ' ', each as "[...]" if it holds a space */
static const char *
joined(int argc, const char **argv, const size_t *argvlen)
{
    int          i;
    size_t       n;
    static char  buf[4096];

    n = 0;
    buf[0] = '\0';

    for (i = 0; i < argc && n < sizeof(buf); i++) {
        n += snprintf(buf + n, sizeof(buf) - n,
                      memchr(argv[i], ' ', argvlen[i]) ? "%s[%.*s]"
                                                       : "%s%.*s",
                      i ? " " : "", (int) argvlen[i], argv[i]);
    }

    return buf;
}


static const char *
key(unsigned kind, const char *prefix, const char *id)
{
    long         n;
    size_t       size;
    static char  buf[512];

    size = consent_redis_key_size(kind, strlen(prefix), id ? strlen(id) : 0);
    CHECK(size > 0 && size <= sizeof(buf));

    memset(buf, 'x', sizeof(buf));

    n = consent_redis_key(kind, U(prefix), strlen(prefix), U(id),
                          id ? strlen(id) : 0, (unsigned char *) buf, size);

    /* exactly the size asked for is enough, and the key ends in a NUL */
    CHECK(n > 0 && (size_t) n < size);
    CHECK(buf[n] == '\0' && strlen(buf) == (size_t) n);

    /* one byte less than written is refused */
    CHECK(consent_redis_key(kind, U(prefix), strlen(prefix), U(id),
                            id ? strlen(id) : 0, (unsigned char *) buf + 256,
                            n) == -1);

    return buf;
}


static void
test_record_keys(void)
{
    unsigned char  out[64];

    CHECK(strcmp(key(CONSENT_REDIS_SUBJECT, "consent:", "alice"),
                 "consent:s:alice") == 0);
    CHECK(strcmp(key(CONSENT_REDIS_LOG, "consent:", NULL), "consent:log")
          == 0);
    CHECK(strcmp(key(CONSENT_REDIS_INVAL, "consent:", NULL),
                 "consent:inval") == 0);
    CHECK(strcmp(key(CONSENT_REDIS_RULES_DISABLED, "consent:", NULL),
                 "consent:rules:disabled") == 0);
    CHECK(strcmp(key(CONSENT_REDIS_SUBJECTS, "consent:", NULL),
                 "consent:s:*") == 0);

    /* an id given for a key that has none is no part of it */
    CHECK(strcmp(key(CONSENT_REDIS_LOG, "p:", "alice"), "p:log") == 0);

    /* no prefix at all: the names as they are */
    CHECK(strcmp(key(CONSENT_REDIS_SUBJECT, "", "a.b@c:d"), "s:a.b@c:d")
          == 0);
    CHECK(strcmp(key(CONSENT_REDIS_INVAL, "", NULL), "inval") == 0);

    /* a prefix with glob characters is matched literally by SCAN */
    CHECK(strcmp(key(CONSENT_REDIS_SUBJECTS, "st*:", NULL), "st\\*:s:*")
          == 0);
    CHECK(strcmp(key(CONSENT_REDIS_SUBJECTS, "a?[b]\\c", NULL),
                 "a\\?\\[b\\]\\\\cs:*") == 0);
    /* elsewhere the prefix is taken as it is */
    CHECK(strcmp(key(CONSENT_REDIS_SUBJECT, "st*:", "x"), "st*:s:x") == 0);

    /* the provision log: a subject's too */
    CHECK(strcmp(key(CONSENT_REDIS_PROVISION, "consent:", "alice"),
                 "consent:pv:alice") == 0);
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_PROVISION, 8, 5), 17);

    /* sizes: the NUL counted; the pattern's is an upper bound */
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_SUBJECT, 8, 5), 16);
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_LOG, 8, 99), 12);
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_INVAL, 8, 0), 14);
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_RULES_DISABLED, 8, 0),
              23);
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_SUBJECTS, 8, 0), 20);

    /* unknown kinds and absurd lengths */
    CHECK_INT(consent_redis_key_size(0, 8, 0), 0);
    CHECK_INT(consent_redis_key_size(7, 8, 0), 0);
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_SUBJECT, (size_t) -1, 1),
              0);
    CHECK_INT(consent_redis_key_size(CONSENT_REDIS_SUBJECT, 8,
                                     (size_t) -1 - 20), 0);
    CHECK_INT(consent_redis_key(0, U("p:"), 2, NULL, 0, out, sizeof(out)),
              -1);
    CHECK_INT(consent_redis_key(9, U("p:"), 2, NULL, 0, out, sizeof(out)),
              -1);
    CHECK_INT(consent_redis_key(CONSENT_REDIS_LOG, U("p:"), 2, NULL, 0, out,
                                0), -1);
}


static const char *
purposes_list(const char *s)
{
    size_t                len, n;
    const unsigned char  *pos, *name;
    static char           buf[256];

    pos = U(s);
    n = 0;
    buf[0] = '\0';

    while (consent_record_purpose_next(&pos, U(s) + strlen(s), &name, &len))
    {
        n += snprintf(buf + n, sizeof(buf) - n, "%s%.*s", n ? "|" : "",
                      (int) len, (const char *) name);
    }

    CHECK(pos == U(s) + strlen(s));

    return buf;
}


typedef struct {
    unsigned     n;
    char         names[256];
} unknown_t;


static void
unknown_cb(void *data, const unsigned char *name, size_t len)
{
    unknown_t  *u = data;
    size_t      n;

    n = strlen(u->names);
    snprintf(u->names + n, sizeof(u->names) - n, "%s%.*s", n ? "|" : "",
             (int) len, (const char *) name);
    u->n++;
}


static void
test_record_purposes(void)
{
    unsigned char   out[CONSENT_RECORD_P_SIZE];
    consent_mask_t  mask;
    unknown_t       u;

    CHECK(strcmp(purposes_list("analytics,advertising"),
                 "analytics|advertising") == 0);
    CHECK(strcmp(purposes_list(" ,analytics , ,advertising,, "),
                 "analytics|advertising") == 0);
    CHECK(strcmp(purposes_list(""), "") == 0);
    CHECK(strcmp(purposes_list(",, ,"), "") == 0);
    /* only ',' and ' ' separate: a tab is part of a name */
    CHECK(strcmp(purposes_list("a\tb,c"), "a\tb|c") == 0);

    memset(&u, 0, sizeof(unknown_t));
    CHECK_INT(consent_record_purposes(&ps, U("analytics,telepathy,spying"),
                                      26, &mask, unknown_cb, &u), 2);
    CHECK_INT(mask, N | A);
    CHECK_INT(u.n, 2);
    CHECK(strcmp(u.names, "telepathy|spying") == 0);

    /* empty: only necessary; NULL with length 0 is empty too */
    CHECK_INT(consent_record_purposes(&ps, U(""), 0, &mask, NULL, NULL), 0);
    CHECK_INT(mask, N);
    CHECK_INT(consent_record_purposes(&ps, NULL, 0, &mask, NULL, NULL), 0);
    CHECK_INT(mask, N);

    /* "necessary" may be stored by hand: it is known, and changes nothing */
    CHECK_INT(consent_record_purposes(&ps, U("necessary"), 9, &mask, NULL,
                                      NULL), 0);
    CHECK_INT(mask, N);

    /* formatted as stored: necessary left out */
    CHECK_MEM(out, consent_record_purposes_format(&ps, N | A | D, out,
                                                  sizeof(out)),
              "analytics,advertising");
    CHECK_INT(consent_record_purposes_format(&ps, N, out, sizeof(out)), 0);
    CHECK_INT(consent_record_purposes_format(&ps, consent_purposes_all(&ps),
                                             NULL, 0),
              strlen("functional,analytics,advertising,personalization,"
                     "sharing"));
}


static void
test_record_uint(void)
{
    uint64_t  u;

    u = 99;
    CHECK_INT(consent_record_uint(U(""), 0, 10, &u), -1);
    CHECK_INT(u, 99);
    CHECK_INT(consent_record_uint(U("0"), 1, 10, &u), 0);
    CHECK_INT(u, 0);
    CHECK_INT(consent_record_uint(U("007"), 3, 10, &u), 0);
    CHECK_INT(u, 7);
    CHECK_INT(consent_record_uint(U("10"), 2, 10, &u), 0);
    CHECK_INT(consent_record_uint(U("11"), 2, 10, &u), -1);
    CHECK_INT(consent_record_uint(U("9"), 1, 5, &u), -1);
    CHECK_INT(consent_record_uint(U("-1"), 2, 10, &u), -1);
    CHECK_INT(consent_record_uint(U("+1"), 2, 10, &u), -1);
    CHECK_INT(consent_record_uint(U(" 1"), 2, 10, &u), -1);
    CHECK_INT(consent_record_uint(U("1 "), 2, 10, &u), -1);
    CHECK_INT(consent_record_uint(U("1.0"), 3, 10, &u), -1);

    CHECK_INT(consent_record_uint(U("4294967295"), 10, CONSENT_RECORD_V_MAX,
                                  &u), 0);
    CHECK_INT(u, 4294967295LL);
    CHECK_INT(consent_record_uint(U("4294967296"), 10, CONSENT_RECORD_V_MAX,
                                  &u), -1);
    CHECK_INT(consent_record_uint(U("9223372036854775807"), 19,
                                  CONSENT_RECORD_T_MAX, &u), 0);
    CHECK(u == 9223372036854775807ULL);
    CHECK_INT(consent_record_uint(U("9223372036854775808"), 19,
                                  CONSENT_RECORD_T_MAX, &u), -1);
    CHECK_INT(consent_record_uint(U("99999999999999999999999"), 23,
                                  ~(uint64_t) 0, &u), -1);

    /* as nginx's ngx_atoi(): leading zeros, however many, are fine */
    CHECK_INT(consent_record_uint(U("00000000000000000000000000003"), 29,
                                  CONSENT_RECORD_V_MAX, &u), 0);
    CHECK_INT(u, 3);
}


static consent_err_t  err;


/*
 * A reply from a NULL-terminated list of C strings; NOSTR stands for an
 * element that is not a string (nil, an integer...).  0, or the code of
 * what is wrong (then in err).
 */
static int
parse(consent_record_t *rec, unknown_t *u, const char **list)
{
    int             rc;
    size_t          n;
    consent_span_t  elts[32];

    for (n = 0; list[n]; n++) {
        if (list[n] == NOSTR) {
            elts[n].data = NULL;
            elts[n].len = 0;

        } else {
            elts[n].data = U(list[n]);
            elts[n].len = strlen(list[n]);
        }
    }

    if (u) {
        memset(u, 0, sizeof(unknown_t));
    }

    memset(&err, 0, sizeof(consent_err_t));

    rc = consent_record_parse_spans(elts, n, &ps, u ? unknown_cb : NULL, u,
                                    rec, &err);
    if (rc == 0) {
        /* written on failure only */
        CHECK(err.code == 0 && err.msg == NULL);
        return 0;
    }

    CHECK_INT(rc, -1);
    CHECK(err.code > 0 && err.msg != NULL);

    return err.code;
}


static void
test_record_parse(void)
{
    unknown_t         u;
    consent_record_t  rec;

    /* an empty hash: no record, and nothing wrong with that */
    {
        const char  *r[] = { NULL };

        CHECK_INT(parse(&rec, &u, r), 0);
        CHECK(!rec.found);
        CHECK_INT(rec.purposes, N);
        CHECK(rec.p.data == NULL && rec.v.data == NULL);
        CHECK_INT(rec.gpc_on, -1);
    }

    /* what the API writes */
    {
        const char  *r[] = { "p", "analytics,advertising", "v", "3",
                             "t", "1700000000", "src", "api", "gpc", "1",
                             NULL };

        CHECK_INT(parse(&rec, &u, r), 0);
        CHECK(rec.found);
        CHECK_INT(rec.purposes, N | A | D);
        CHECK_INT(rec.policy_version, 3);
        CHECK_INT(rec.updated, 1700000000);
        CHECK_MEM(rec.p.data, rec.p.len, "analytics,advertising");
        CHECK_MEM(rec.v.data, rec.v.len, "3");
        CHECK_MEM(rec.t.data, rec.t.len, "1700000000");
        CHECK_MEM(rec.src.data, rec.src.len, "api");
        CHECK_MEM(rec.gpc.data, rec.gpc.len, "1");
        CHECK_INT(rec.gpc_on, 1);
        CHECK(!rec.bad_v && !rec.bad_t);
        CHECK_INT(rec.unknown, 0);
        CHECK_INT(u.n, 0);
    }

    /* written by hand with redis-cli: only p, in any order, spaces */
    {
        const char  *r[] = { "other", "x", "p", " functional analytics",
                             NULL };

        CHECK_INT(parse(&rec, &u, r), 0);
        CHECK_INT(rec.purposes, N | F | A);
        CHECK_INT(rec.policy_version, 0);
        CHECK_INT(rec.updated, 0);
        CHECK(rec.src.data == NULL && rec.gpc.data == NULL);
        CHECK_INT(rec.gpc_on, -1);
    }

    /* p empty: only necessary, and a record all the same */
    {
        const char  *r[] = { "p", "", "v", "0", NULL };

        CHECK_INT(parse(&rec, &u, r), 0);
        CHECK(rec.found && rec.p.data != NULL && rec.p.len == 0);
        CHECK_INT(rec.purposes, N);
    }

    /* purposes a configuration no longer has: skipped, each reported */
    {
        const char  *r[] = { "p", "telepathy,analytics,spying", "v", "2",
                             NULL };

        CHECK_INT(parse(&rec, &u, r), 0);
        CHECK_INT(rec.purposes, N | A);
        CHECK_INT(rec.unknown, 2);
        CHECK_INT(u.n, 2);
        CHECK(strcmp(u.names, "telepathy|spying") == 0);
    }

    /* fields with other names, even close ones, are not read */
    {
        const char  *r[] = { "P", "x", "pp", "x", "", "x", "V", "x",
                             "src ", "x", "gpcx", "x", "p", "analytics",
                             NULL };

        CHECK_INT(parse(&rec, &u, r), 0);
        CHECK_INT(rec.purposes, N | A);
        CHECK(rec.v.data == NULL && rec.src.data == NULL
              && rec.gpc.data == NULL);
    }

    /* fields but no p: not a record the module trusts */
    {
        const char  *r[] = { "v", "1", NULL };

        CHECK_INT(parse(&rec, &u, r), CONSENT_RECORD_E_NO_P);
        CHECK(rec.found && rec.p.data == NULL);
        CHECK(strcmp(err.msg, "no \"p\"") == 0);
        CHECK(err.at.data == NULL);
        CHECK_INT(rec.policy_version, 1);
    }

    /* v and t must be numbers in range */
    {
        const char  *r1[] = { "p", "", "v", "abc", NULL };
        const char  *r2[] = { "p", "", "v", "4294967296", NULL };
        const char  *r3[] = { "p", "", "t", "-5", NULL };
        const char  *r4[] = { "p", "", "t", "", NULL };
        const char  *r5[] = { "p", "", "v", "4294967295",
                              "t", "9223372036854775807", NULL };

        CHECK_INT(parse(&rec, &u, r1), CONSENT_RECORD_E_V);
        CHECK(rec.bad_v && !rec.bad_t);
        CHECK(strcmp(err.msg, "\"v\" not a number") == 0);
        CHECK_MEM(err.at.data, err.at.len, "abc");
        CHECK_INT(parse(&rec, &u, r2), CONSENT_RECORD_E_V);
        CHECK_INT(parse(&rec, &u, r3), CONSENT_RECORD_E_T);
        CHECK(rec.bad_t && !rec.bad_v);
        CHECK_MEM(err.at.data, err.at.len, "-5");
        CHECK_MEM(rec.t.data, rec.t.len, "-5");
        CHECK_INT(parse(&rec, &u, r4), CONSENT_RECORD_E_T);
        CHECK_INT(parse(&rec, &u, r5), 0);
        CHECK_INT(rec.policy_version, 4294967295LL);
        CHECK(rec.updated == INT64_MAX);
    }

    /* everything wrong at once: the first reported, all flagged */
    {
        const char  *r[] = { "v", "abc", "t", "-5", "x", "y", NULL };

        CHECK_INT(parse(&rec, &u, r), CONSENT_RECORD_E_V);
        CHECK(rec.bad_v && rec.bad_t && rec.p.data == NULL);
    }

    /*
     * Names are reported only while the record looks sound: the module
     * logs them before it knows, never after it gave up on the record.
     */
    {
        const char  *r1[] = { "p", "telepathy", "v", "x", NULL };
        const char  *r2[] = { "v", "x", "p", "telepathy", NULL };

        CHECK_INT(parse(&rec, &u, r1), CONSENT_RECORD_E_V);
        CHECK_INT(u.n, 1);
        CHECK_INT(parse(&rec, &u, r2), CONSENT_RECORD_E_V);
        CHECK_INT(u.n, 0);
        CHECK_INT(rec.unknown, 1);
        CHECK_INT(rec.purposes, N);
    }

    /* not field/value pairs: nothing read */
    {
        const char  *r[] = { "p", "analytics", "v", NULL };

        CHECK_INT(parse(&rec, &u, r), CONSENT_RECORD_E_ODD);
        CHECK_INT(rec.purposes, N);
        CHECK(rec.p.data == NULL);
        CHECK_INT(u.n, 0);
    }

    /* an element that is not a string: its pair skipped, record refused */
    {
        const char  *r1[] = { "p", NOSTR, NULL };
        const char  *r2[] = { NOSTR, "x", "p", "telepathy", "v", "2", NULL };
        const char  *r3[] = { "p", "analytics", "gpc", NOSTR, NULL };

        CHECK_INT(parse(&rec, &u, r1), CONSENT_RECORD_E_NOT_STRING);
        CHECK(rec.found && rec.p.data == NULL);
        CHECK_INT(parse(&rec, &u, r2), CONSENT_RECORD_E_NOT_STRING);
        CHECK_INT(u.n, 0);
        CHECK_INT(rec.policy_version, 2);
        CHECK_INT(parse(&rec, &u, r3), CONSENT_RECORD_E_NOT_STRING);
        CHECK(rec.gpc.data == NULL);
        CHECK_INT(rec.purposes, N | A);
    }

    /* gpc: "1", "0", else unknown */
    {
        const char  *r1[] = { "p", "", "gpc", "0", NULL };
        const char  *r2[] = { "p", "", "gpc", "true", NULL };
        const char  *r3[] = { "p", "", "gpc", "", NULL };

        CHECK_INT(parse(&rec, &u, r1), 0);
        CHECK_INT(rec.gpc_on, 0);
        CHECK_INT(parse(&rec, &u, r2), 0);
        CHECK_INT(rec.gpc_on, -1);
        CHECK_INT(parse(&rec, &u, r3), 0);
        CHECK_INT(rec.gpc_on, -1);
    }

    /*
     * A hash never repeats a field, but a reply is input: the purposes of
     * each p count (the module ORs them), the spans and flags keep the
     * last of each, a bad one anywhere refuses the record.
     */
    {
        const char  *r1[] = { "p", "analytics", "p", "functional", NULL };
        const char  *r2[] = { "p", "", "v", "x", "v", "3", NULL };
        const char  *r3[] = { "p", "", "v", "3", "v", "x", NULL };

        CHECK_INT(parse(&rec, &u, r1), 0);
        CHECK_INT(rec.purposes, N | F | A);
        CHECK_MEM(rec.p.data, rec.p.len, "functional");
        CHECK_INT(parse(&rec, &u, r2), CONSENT_RECORD_E_V);
        CHECK(!rec.bad_v);
        CHECK_INT(rec.policy_version, 3);
        CHECK_INT(parse(&rec, &u, r3), CONSENT_RECORD_E_V);
        CHECK(rec.bad_v);
    }

    /* err is the caller's choice */
    {
        consent_span_t  e[2];

        e[0].data = U("v");
        e[0].len = 1;
        e[1].data = U("x");
        e[1].len = 1;

        CHECK_INT(consent_record_parse_spans(e, 2, &ps, NULL, NULL, &rec,
                                             NULL), -1);
    }
}


static void
span(consent_span_t *s, const char *p)
{
    s->data = U(p);
    s->len = strlen(p);
}


static void
test_record_write(void)
{
    int               n;
    size_t            argvlen[CONSENT_XADD_ARGS];
    const char       *argv[CONSENT_XADD_ARGS];
    unsigned char     scratch[CONSENT_XADD_SCRATCH];
    consent_span_t    k, log, ch;
    consent_write_t   w;
    consent_record_t  rec;

    span(&k, "consent:s:alice");
    span(&log, "consent:log");
    span(&ch, "consent:inval");

    n = consent_record_get_argv(&k, argv, argvlen);
    CHECK_INT(n, CONSENT_HGETALL_ARGS);
    CHECK(strcmp(joined(n, argv, argvlen), "HGETALL consent:s:alice") == 0);

    /* what the API writes for a choice */
    memset(&w, 0, sizeof(consent_write_t));
    span(&w.subject, "alice");
    span(&w.purposes, "analytics,advertising");
    w.policy_version = 3;
    w.time = 1700000000;
    span(&w.src, CONSENT_WRITER_API);
    w.gpc = 1;
    span(&w.action, CONSENT_ACTION_GRANT);
    span(&w.regime, "opt_in");

    n = consent_record_set_argv(&k, &w, scratch, CONSENT_HSET_SCRATCH, argv,
                                argvlen);
    CHECK_INT(n, CONSENT_HSET_ARGS);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "HSET consent:s:alice p analytics,advertising v 3 "
                 "t 1700000000 src api gpc 1 vr ") == 0);
    CHECK(argv[13] != NULL && argvlen[13] == 0);
    CHECK_INT(consent_record_set_argv(&k, &w, scratch,
                                      CONSENT_HSET_SCRATCH - 1, argv,
                                      argvlen), -1);

    n = consent_receipt_argv(&log, &w, scratch, sizeof(scratch), argv,
                             argvlen);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "XADD consent:log * subject alice action grant "
                 "purposes analytics,advertising v 3 t 1700000000 src api "
                 "regime opt_in gpc 1") == 0);
    CHECK_INT(consent_receipt_argv(&log, &w, scratch, sizeof(scratch) - 1,
                                   argv, argvlen), -1);

    /* retain=, the region (cut), the IAB strings and the address hash */
    w.retain = 400 * 86400;
    span(&w.region, "FR-abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
                    "0123456789-too-long");
    span(&w.tcf, "CPxyz.abc");
    span(&w.gpp, "DBABM~CP");
    span(&w.usp, "1YNN");
    span(&w.ip, "0123456789abcdef0123456789abcdef");
    span(&w.vendors_refused, "criteo,yahoo_japan");

    n = consent_receipt_argv(&log, &w, scratch, sizeof(scratch), argv,
                             argvlen);
    CHECK_INT(n, CONSENT_XADD_ARGS);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "XADD consent:log MINID ~ 1665440000000 * subject alice "
                 "action grant purposes analytics,advertising v 3 "
                 "t 1700000000 src api regime opt_in gpc 1 "
                 "region FR-abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv"
                 "wxyz012345678 tcf CPxyz.abc gpp DBABM~CP usp 1YNN "
                 "ip 0123456789abcdef0123456789abcdef "
                 "vendors_refused criteo,yahoo_japan") == 0);
    CHECK_INT(argvlen[23], CONSENT_RECEIPT_REGION_MAX);

    /* the record keeps the refused vendors, and reads them back */
    n = consent_record_set_argv(&k, &w, scratch, CONSENT_HSET_SCRATCH, argv,
                                argvlen);
    CHECK_INT(n, CONSENT_HSET_ARGS);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "HSET consent:s:alice p analytics,advertising v 3 "
                 "t 1700000000 src api gpc 1 vr criteo,yahoo_japan") == 0);
    CHECK_INT(consent_record_from_write(&w, &ps, scratch,
                                        CONSENT_HSET_SCRATCH, &rec), 0);
    CHECK_MEM(rec.vr.data, rec.vr.len, "criteo,yahoo_japan");

    /* a regime of no name is written all the same, as the module did */
    span(&w.regime, "");
    n = consent_receipt_argv(&log, &w, scratch, sizeof(scratch), argv,
                             argvlen);
    CHECK_INT(n, CONSENT_XADD_ARGS);
    CHECK_INT(argvlen[19], 0);
    CHECK_MEM(argv[18], argvlen[18], "regime");
    span(&w.regime, "opt_in");

    /* a retention longer than time itself trims nothing */
    w.time = 100;
    n = consent_receipt_argv(&log, &w, scratch, sizeof(scratch), argv,
                             argvlen);
    CHECK(strncmp(joined(n, argv, argvlen),
                  "XADD consent:log MINID ~ 0000 * ", 32) == 0);

    /* the record's retention, in the same transaction */
    n = consent_record_expire_argv(&k, 400 * 86400, scratch,
                                   CONSENT_EXPIRE_SCRATCH, argv, argvlen);
    CHECK_INT(n, CONSENT_EXPIRE_ARGS);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "EXPIRE consent:s:alice 34560000") == 0);
    n = consent_record_expire_argv(&k, 0, scratch, CONSENT_EXPIRE_SCRATCH,
                                   argv, argvlen);
    CHECK_INT(n, 2);
    CHECK(strcmp(joined(n, argv, argvlen), "PERSIST consent:s:alice") == 0);
    CHECK_INT(consent_record_expire_argv(&k, 1, scratch,
                                         CONSENT_EXPIRE_SCRATCH - 1, argv,
                                         argvlen), -1);

    /* what consentctl writes: no regime, no region, nothing optional */
    memset(&w, 0, sizeof(consent_write_t));
    span(&w.subject, "bob");
    span(&w.purposes, "");
    w.policy_version = 4294967295U;
    w.time = 1795943547;
    span(&w.src, CONSENT_WRITER_CONSENTCTL);
    span(&w.action, CONSENT_ACTION_SET);

    n = consent_record_set_argv(&k, &w, scratch, sizeof(scratch), argv,
                                argvlen);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "HSET consent:s:alice p  v 4294967295 t 1795943547 "
                 "src consentctl gpc 0 vr ") == 0);
    CHECK(argv[3] != NULL && argvlen[3] == 0);

    n = consent_receipt_argv(&log, &w, scratch, sizeof(scratch), argv,
                             argvlen);
    CHECK_INT(n, 17);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "XADD consent:log * subject bob action set purposes  "
                 "v 4294967295 t 1795943547 src consentctl gpc 0") == 0);

    /* spans with no data at all still give arguments hiredis can copy */
    memset(&w, 0, sizeof(consent_write_t));
    w.time = -9223372036854775807LL - 1;
    n = consent_receipt_argv(&log, &w, scratch, sizeof(scratch), argv,
                             argvlen);
    CHECK_INT(n, 17);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "XADD consent:log * subject  action  purposes  v 0 "
                 "t -9223372036854775808 src  gpc 0") == 0);
    for (n = 0; n < 17; n++) {
        CHECK(argv[n] != NULL);
    }

    /* the record a write leaves, read back */
    memset(&w, 0, sizeof(consent_write_t));
    span(&w.purposes, "functional,analytics");
    w.policy_version = 7;
    w.time = 1700000001;
    span(&w.src, CONSENT_WRITER_CONSENTCTL);

    CHECK_INT(consent_record_from_write(&w, &ps, scratch,
                                        CONSENT_HSET_SCRATCH, &rec), 0);
    CHECK(rec.found);
    CHECK_INT(rec.purposes, N | F | A);
    CHECK_INT(rec.policy_version, 7);
    CHECK_INT(rec.updated, 1700000001);
    CHECK_MEM(rec.src.data, rec.src.len, "consentctl");
    CHECK_MEM(rec.v.data, rec.v.len, "7");
    CHECK_INT(rec.gpc_on, 0);
    CHECK_INT(consent_record_from_write(&w, &ps, scratch, 3, &rec), -1);

    /* a time before 1970 is not one the module trusts */
    w.time = -1;
    CHECK_INT(consent_record_from_write(&w, &ps, scratch,
                                        CONSENT_HSET_SCRATCH, &rec), -1);
    CHECK(rec.bad_t && !rec.bad_v);

    /* invalidations */
    n = consent_inval_argv(&ch, U("alice"), 5, argv, argvlen);
    CHECK_INT(n, CONSENT_PUBLISH_ARGS);
    CHECK(strcmp(joined(n, argv, argvlen), "PUBLISH consent:inval alice")
          == 0);
    n = consent_inval_rules_argv(&ch, argv, argvlen);
    CHECK(strcmp(joined(n, argv, argvlen), "PUBLISH consent:inval *rules")
          == 0);
    CHECK(consent_inval_is_rules(U("*rules"), 6));
    CHECK(!consent_inval_is_rules(U("*rules"), 5));
    CHECK(!consent_inval_is_rules(U("*Rules"), 6));
    CHECK(!consent_inval_is_rules(U("*rules!"), 7));
    CHECK(!consent_inval_is_rules(U(""), 0));

    span(&k, "consent:rules:disabled");
    n = consent_rules_disabled_argv(&k, argv, argvlen);
    CHECK_INT(n, CONSENT_SMEMBERS_ARGS);
    CHECK(strcmp(joined(n, argv, argvlen),
                 "SMEMBERS consent:rules:disabled") == 0);
}


void
test_record(void)
{
    consent_purposes_init(&ps);

    test_record_keys();
    test_record_purposes();
    test_record_uint();
    test_record_parse();
    test_record_write();
}
