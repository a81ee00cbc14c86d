/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the Redis data layout.  The input is 20 bytes of
 * numbers (a write's time, retention and policy version; fewer bytes
 * give zeros), then elements separated by NUL bytes; an element that is
 * the single byte 0xff stands for one that is not a string.
 *
 * The elements are an HGETALL reply: its parse must stay inside them,
 * report a known code, and call a record sound only if it has "p" and
 * numbers in range; what it read, written again and read back, must be
 * the same record.  The first elements also serve as a key prefix, an id
 * and a write's strings: keys fit the size asked for and are refused one
 * byte short; the arguments of HSET and XADD stay inside exactly sized
 * scratch and argument arrays.
 */

#include "record.h"
#include "fuzz.h"


#define FUZZ_ELTS  64

#define NECESSARY  CONSENT_BIT(CONSENT_P_NECESSARY)


typedef struct {
    const consent_span_t      *elts;
    size_t                     n;
    unsigned                   calls;
} fuzz_unknown_t;


static consent_purposes_t  ps;


static int
fuzz_inside(const consent_span_t *s, const consent_span_t *elts, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (elts[i].data && s->data >= elts[i].data
            && s->data + s->len <= elts[i].data + elts[i].len)
        {
            return 1;
        }
    }

    return 0;
}


static void
fuzz_unknown(void *data, const unsigned char *name, size_t len)
{
    fuzz_unknown_t  *u = data;
    consent_span_t   s;

    s.data = name;
    s.len = len;

    FUZZ_ASSERT(len > 0);
    FUZZ_ASSERT(fuzz_inside(&s, u->elts, u->n));
    FUZZ_ASSERT(memchr(name, ',', len) == NULL);
    FUZZ_ASSERT(memchr(name, ' ', len) == NULL);
    FUZZ_ASSERT(consent_purpose_find(&ps, name, len) < 0);

    u->calls++;
}


static void
fuzz_parse(const consent_span_t *elts, size_t n)
{
    int               rc, rc2, code;
    size_t            len;
    consent_err_t     err;
    consent_mask_t    mask;
    fuzz_unknown_t    u;
    consent_write_t   w;
    consent_record_t  rec, again;
    unsigned char     names[CONSENT_RECORD_P_SIZE];
    unsigned char    *scratch;

    memset(&u, 0, sizeof(fuzz_unknown_t));
    u.elts = elts;
    u.n = n;

    memset(&err, 0, sizeof(consent_err_t));

    rc = consent_record_parse_spans(elts, n, &ps, fuzz_unknown, &u, &rec,
                                    &err);
    code = err.code;

    FUZZ_ASSERT(rc == 0 || rc == -1);
    FUZZ_ASSERT(rc == 0 ? code == 0 && err.msg == NULL
                        : code >= CONSENT_RECORD_E_ODD
                          && code <= CONSENT_RECORD_E_NO_P
                          && err.msg != NULL);
    FUZZ_ASSERT(err.at.data == NULL || fuzz_inside(&err.at, elts, n)
                || err.at.len == 0);
    FUZZ_ASSERT(rec.purposes & NECESSARY);
    FUZZ_ASSERT((rec.purposes & ~consent_purposes_all(&ps)) == 0);
    FUZZ_ASSERT(u.calls <= rec.unknown);
    FUZZ_ASSERT(rec.gpc_on >= -1 && rec.gpc_on <= 1);

    if (code == CONSENT_RECORD_E_ODD) {
        FUZZ_ASSERT(n % 2 && rec.p.data == NULL && u.calls == 0);
        return;
    }

    FUZZ_ASSERT(rec.found == (n != 0));
    FUZZ_ASSERT(rec.p.data == NULL || fuzz_inside(&rec.p, elts, n)
                || rec.p.len == 0);
    FUZZ_ASSERT(rec.v.data == NULL || fuzz_inside(&rec.v, elts, n)
                || rec.v.len == 0);
    FUZZ_ASSERT(rec.t.data == NULL || fuzz_inside(&rec.t, elts, n)
                || rec.t.len == 0);
    FUZZ_ASSERT(rec.src.data == NULL || fuzz_inside(&rec.src, elts, n)
                || rec.src.len == 0);

    /* what the module trusts: "p", numbers in range, all strings */
    if (rc == 0) {
        FUZZ_ASSERT(u.calls == rec.unknown);
        FUZZ_ASSERT(n == 0 || rec.p.data != NULL);
        FUZZ_ASSERT(!rec.bad_v && !rec.bad_t);
    }

    if (code == CONSENT_RECORD_E_NO_P) {
        FUZZ_ASSERT(rec.p.data == NULL);
    }

    if (rec.p.data) {
        /* the last "p" alone gives at most what all of them gave */
        (void) consent_record_purposes(&ps, rec.p.data, rec.p.len, &mask,
                                       NULL, NULL);
        FUZZ_ASSERT((mask & ~rec.purposes) == 0);
    }

    /* the same reply, the same answer */
    rc2 = consent_record_parse_spans(elts, n, &ps, NULL, NULL, &again, NULL);
    FUZZ_ASSERT(rc2 == rc && again.purposes == rec.purposes
                && again.policy_version == rec.policy_version
                && again.updated == rec.updated
                && again.unknown == rec.unknown);

    if (rc != 0 || n == 0) {
        return;
    }

    /* written again as a write stores it, and read back: the same */
    len = consent_record_purposes_format(&ps, rec.purposes, names,
                                         sizeof(names));
    FUZZ_ASSERT(len <= sizeof(names));

    memset(&w, 0, sizeof(consent_write_t));
    w.purposes.data = names;
    w.purposes.len = len;
    w.policy_version = rec.policy_version;
    w.time = rec.updated;
    w.src = rec.src;
    w.gpc = (rec.gpc_on == 1);

    scratch = malloc(CONSENT_HSET_SCRATCH);
    if (scratch == NULL) {
        abort();
    }

    rc2 = consent_record_from_write(&w, &ps, scratch, CONSENT_HSET_SCRATCH,
                                    &again);
    FUZZ_ASSERT(rc2 == 0);
    FUZZ_ASSERT(again.purposes == rec.purposes);
    FUZZ_ASSERT(again.policy_version == rec.policy_version);
    FUZZ_ASSERT(again.updated == rec.updated);
    FUZZ_ASSERT(again.unknown == 0 && again.found);

    free(scratch);
}


static void
fuzz_keys(const consent_span_t *prefix, const consent_span_t *id)
{
    long            n;
    size_t          size, i, j;
    unsigned        kind;
    unsigned char  *out;

    for (kind = 0; kind <= CONSENT_REDIS_PROVISION + 1; kind++) {
        size = consent_redis_key_size(kind, prefix->len, id->len);

        if (kind == 0 || kind > CONSENT_REDIS_PROVISION) {
            FUZZ_ASSERT(size == 0);
            continue;
        }

        FUZZ_ASSERT(size > prefix->len);

        out = malloc(size);
        if (out == NULL) {
            abort();
        }

        n = consent_redis_key(kind, prefix->data, prefix->len, id->data,
                              id->len, out, size);

        FUZZ_ASSERT(n > 0 && (size_t) n < size && out[n] == '\0');
        FUZZ_ASSERT(consent_redis_key(kind, prefix->data, prefix->len,
                                      id->data, id->len, out, n)
                    == -1);

        if (kind == CONSENT_REDIS_SUBJECTS) {
            /* unescaped, the pattern is the prefix and "s:*" */
            for (i = 0, j = 0; i < (size_t) n - 3; i++, j++) {
                if (out[i] == '\\') {
                    i++;
                }

                FUZZ_ASSERT(j < prefix->len && out[i] == prefix->data[j]);
            }

            FUZZ_ASSERT(j == prefix->len);
            FUZZ_ASSERT(memcmp(out + n - 3, "s:*", 3) == 0);

        } else {
            FUZZ_ASSERT(prefix->len == 0
                        || memcmp(out, prefix->data, prefix->len) == 0);
        }

        if (kind == CONSENT_REDIS_SUBJECT || kind == CONSENT_REDIS_PROVISION) {
            FUZZ_ASSERT((size_t) n == prefix->len
                                      + (kind == CONSENT_REDIS_SUBJECT ? 2 : 3)
                                      + id->len);
            FUZZ_ASSERT(id->len == 0
                        || memcmp(out + n - id->len, id->data, id->len)
                           == 0);
        }

        free(out);
    }
}


static void
fuzz_argv(int argc, const char **argv, const size_t *argvlen, int max)
{
    int                     i;
    size_t                  j;
    volatile unsigned char  sum;

    FUZZ_ASSERT(argc > 0 && argc <= max);

    sum = 0;

    for (i = 0; i < argc; i++) {
        FUZZ_ASSERT(argv[i] != NULL);

        /* every byte of every argument is read, as hiredis will (ASan) */
        for (j = 0; j < argvlen[i]; j++) {
            sum += (unsigned char) argv[i][j];
        }
    }

    (void) sum;
}


static void
fuzz_write(const consent_span_t *elts, size_t n, const uint8_t *num)
{
    int              argc, i;
    size_t          *argvlen;
    uint64_t         u;
    const char     **argv;
    consent_span_t   none, *s[10];
    consent_write_t  w;
    unsigned char   *scratch;

    memset(&w, 0, sizeof(consent_write_t));
    memcpy(&w.time, num, 8);
    memcpy(&w.retain, num + 8, 8);
    memcpy(&w.policy_version, num + 16, 4);
    w.gpc = num[0] & 1;

    s[0] = &w.subject;
    s[1] = &w.purposes;
    s[2] = &w.src;
    s[3] = &w.action;
    s[4] = &w.regime;
    s[5] = &w.region;
    s[6] = &w.tcf;
    s[7] = &w.gpp;
    s[8] = &w.usp;
    s[9] = &w.ip;

    none.data = NULL;
    none.len = 0;

    for (i = 0; i < 10; i++) {
        *s[i] = ((size_t) i < n && elts[i].data) ? elts[i] : none;
    }

    argv = malloc(CONSENT_XADD_ARGS * sizeof(const char *));
    argvlen = malloc(CONSENT_XADD_ARGS * sizeof(size_t));
    scratch = malloc(CONSENT_XADD_SCRATCH);

    if (argv == NULL || argvlen == NULL || scratch == NULL) {
        abort();
    }

    argc = consent_record_set_argv(&w.subject, &w, scratch,
                                   CONSENT_HSET_SCRATCH, argv, argvlen);
    FUZZ_ASSERT(argc == CONSENT_HSET_ARGS);
    fuzz_argv(argc, argv, argvlen, CONSENT_HSET_ARGS);

    /* the version and the time as numbers, read back */
    FUZZ_ASSERT(consent_record_uint((const unsigned char *) argv[5],
                                    argvlen[5], CONSENT_RECORD_V_MAX, &u)
                == 0 && u == w.policy_version);
    FUZZ_ASSERT(argvlen[7] <= CONSENT_RECORD_INT_LEN);

    if (w.time >= 0) {
        FUZZ_ASSERT(consent_record_uint((const unsigned char *) argv[7],
                                        argvlen[7], CONSENT_RECORD_T_MAX, &u)
                    == 0 && u == (uint64_t) w.time);
    }

    FUZZ_ASSERT(consent_record_set_argv(&w.subject, &w, scratch,
                                        CONSENT_HSET_SCRATCH - 1, argv,
                                        argvlen)
                == -1);

    argc = consent_receipt_argv(&w.subject, &w, scratch,
                                CONSENT_XADD_SCRATCH, argv, argvlen);
    fuzz_argv(argc, argv, argvlen, CONSENT_XADD_ARGS);
    /* XADD key [MINID ~ ms] * and field/value pairs */
    FUZZ_ASSERT(argc % 2 == (w.retain > 0 ? 0 : 1));
    FUZZ_ASSERT(memcmp(argv[0], "XADD", 4) == 0);

    if (w.retain > 0) {
        FUZZ_ASSERT(argvlen[2] == 5 && memcmp(argv[2], "MINID", 5) == 0);
        /* milliseconds: seconds and "000", never negative */
        FUZZ_ASSERT(argvlen[4] >= 4 && argvlen[4] <= 22);
        FUZZ_ASSERT(memcmp(argv[4] + argvlen[4] - 3, "000", 3) == 0);

        for (i = 0; i < (int) argvlen[4]; i++) {
            FUZZ_ASSERT(argv[4][i] >= '0' && argv[4][i] <= '9');
        }

        FUZZ_ASSERT(argvlen[5] == 1 && argv[5][0] == '*');

    } else {
        FUZZ_ASSERT(argvlen[2] == 1 && argv[2][0] == '*');
    }

    for (i = 0; i < argc; i++) {
        if (argvlen[i] == 6 && memcmp(argv[i], "region", 6) == 0
            && i + 1 < argc)
        {
            FUZZ_ASSERT(argvlen[i + 1] <= CONSENT_RECEIPT_REGION_MAX);
        }
    }

    FUZZ_ASSERT(consent_receipt_argv(&w.subject, &w, scratch,
                                     CONSENT_XADD_SCRATCH - 1, argv,
                                     argvlen)
                == -1);

    argc = consent_inval_argv(&w.src, w.subject.data, w.subject.len, argv,
                              argvlen);
    fuzz_argv(argc, argv, argvlen, CONSENT_PUBLISH_ARGS);

    argc = consent_record_get_argv(&w.subject, argv, argvlen);
    fuzz_argv(argc, argv, argvlen, CONSENT_HGETALL_ARGS);

    if (w.subject.data) {
        FUZZ_ASSERT(consent_inval_is_rules(w.subject.data, w.subject.len)
                    == (w.subject.len == 6
                        && memcmp(w.subject.data, "*rules", 6) == 0));
    }

    free(argv);
    free(argvlen);
    free(scratch);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           i, n, len;
    uint8_t          num[20];
    const uint8_t   *p, *end, *z;
    consent_span_t   elts[FUZZ_ELTS], empty;
    unsigned char   *copy[FUZZ_ELTS];

    if (ps.n == 0) {
        consent_purposes_init(&ps);
        (void) consent_purposes_add(&ps, (const unsigned char *) "crm", 3);
    }

    memset(num, 0, sizeof(num));
    len = size < sizeof(num) ? size : sizeof(num);
    memcpy(num, data, len);

    p = data + len;
    end = data + size;
    n = 0;

    /* each element its own exactly sized copy: ASan sees any overread */
    while (p < end && n < FUZZ_ELTS) {
        z = memchr(p, '\0', end - p);
        len = (z ? z : end) - p;

        if (len == 1 && p[0] == 0xff) {
            copy[n] = NULL;
            elts[n].data = NULL;
            elts[n].len = 0;

        } else {
            copy[n] = fuzz_copy(p, len);
            elts[n].data = copy[n];
            elts[n].len = len;
        }

        n++;
        p += len + 1;
    }

    fuzz_parse(elts, n);

    empty.data = (const unsigned char *) "";
    empty.len = 0;

    fuzz_keys(n > 0 && elts[0].data ? &elts[0] : &empty,
              n > 1 && elts[1].data ? &elts[1] : &empty);

    fuzz_write(elts, n, num);

    for (i = 0; i < n; i++) {
        free(copy[i]);
    }

    return 0;
}
