/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl stats: subjects and their purposes, receipts, vendors
 * switched off.  Subjects are counted with SCAN (never KEYS, which
 * would stall a production Redis), each batch's records read with one
 * pipeline.  SCAN's guarantees apply: a record added or removed during
 * the walk may or may not be counted, and while Redis resizes its table
 * a key may come twice.
 */


#include <stdlib.h>
#include <string.h>

#include "consentctl.h"


typedef struct {
    unsigned long long         subjects;
    unsigned long long         malformed;
    unsigned long long         unknown;
    unsigned long long         purposes[CONSENT_MAX_PURPOSES];
    unsigned long long         receipts;
    long long                  oldest;           /* -1: no receipt */
    long long                  newest;
} ctl_counts_t;


static int ctl_stats_subjects(ctl_t *ctl, ctl_counts_t *c);
static int ctl_stats_batch(ctl_t *ctl, const redisReply *keys,
    void *data);
static void ctl_stats_record(ctl_t *ctl, const redisReply *p,
    ctl_counts_t *c);
static int ctl_stats_receipts(ctl_t *ctl, const char *key, size_t len,
    ctl_counts_t *c);
static int ctl_stats_receipt(ctl_t *ctl, const char *key, size_t len,
    int newest, long long *t);
static long long ctl_receipt_time(const redisReply *e);
static void ctl_stats_print(ctl_t *ctl, const ctl_counts_t *c,
    redisReply *members);
static void ctl_stats_time(long long t);


int
ctl_stats(ctl_t *ctl, int argc, char **argv)
{
    int            rc;
    char          *log, *dis;
    size_t         llen, dlen;
    redisReply    *members;
    ctl_counts_t   c;

    rc = ctl_args("stats", argc, argv, NULL, NULL, 0);
    if (rc != CTL_OK) {
        return rc;
    }

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    memset(&c, 0, sizeof(ctl_counts_t));

    if (ctl_stats_subjects(ctl, &c) != 0) {
        return CTL_ERROR;
    }

    rc = CTL_ERROR;
    members = NULL;

    log = ctl_key(ctl, CONSENT_REDIS_LOG, NULL, &llen);
    dis = ctl_key(ctl, CONSENT_REDIS_RULES_DISABLED, NULL, &dlen);

    if (log == NULL || dis == NULL) {
        goto done;
    }

    if (ctl_stats_receipts(ctl, log, llen, &c) != 0) {
        goto done;
    }

    members = ctl_disabled_vendors(ctl, dis, dlen);
    if (members == NULL) {
        goto done;
    }

    ctl_stats_print(ctl, &c, members);

    rc = CTL_OK;

done:

    free(log);
    free(dis);

    if (members) {
        freeReplyObject(members);
    }

    return rc;
}


static int
ctl_stats_subjects(ctl_t *ctl, ctl_counts_t *c)
{
    return ctl_scan_subjects(ctl, ctl_stats_batch, c);
}


/* HGET p and HLEN of each key, pipelined: one round trip a batch */

static int
ctl_stats_batch(ctl_t *ctl, const redisReply *keys, void *data)
{
    ctl_counts_t *c = data;

    int          bad;
    size_t       i, argvlen[3];
    ctl_cmd_t    cmd;
    const char  *argv[3];
    redisReply  *k, *p, *n;

    cmd.argv = argv;
    cmd.argvlen = argvlen;

    for (i = 0; i < keys->elements; i++) {
        k = keys->element[i];

        argv[0] = "HGET";
        argvlen[0] = 4;
        argv[1] = k->str;
        argvlen[1] = k->len;
        argv[2] = CONSENT_RECORD_F_P;
        argvlen[2] = sizeof(CONSENT_RECORD_F_P) - 1;
        cmd.argc = 3;

        if (ctl_pipeline_send(ctl, 1, &cmd) != 0) {
            return -1;
        }

        argv[0] = "HLEN";
        cmd.argc = 2;

        if (ctl_pipeline_send(ctl, 1, &cmd) != 0) {
            return -1;
        }
    }

    for (i = 0; i < keys->elements; i++) {
        p = ctl_pipeline_reply(ctl);
        if (p == NULL) {
            return -1;
        }

        n = ctl_pipeline_reply(ctl);
        if (n == NULL) {
            freeReplyObject(p);
            return -1;
        }

        /* not a hash (WRONGTYPE), or a hash the module cannot read */
        bad = p->type == REDIS_REPLY_ERROR || n->type != REDIS_REPLY_INTEGER;

        if (bad) {
            c->malformed++;

        } else if (n->integer == 0) {
            /* deleted since SCAN saw it */

        } else if (p->type != REDIS_REPLY_STRING) {
            c->malformed++;

        } else {
            ctl_stats_record(ctl, p, c);
        }

        freeReplyObject(p);
        freeReplyObject(n);
    }

    return 0;
}


static void
ctl_stats_record(ctl_t *ctl, const redisReply *p, ctl_counts_t *c)
{
    unsigned         b, unknown;
    consent_mask_t   mask;

    c->subjects++;

    /* "p" as the module reads it */
    unknown = consent_record_purposes(&ctl->purposes,
                                      (const unsigned char *) p->str, p->len,
                                      &mask, NULL, NULL);

    for (b = 0; b < ctl->purposes.n; b++) {
        if (mask & CONSENT_BIT(b)) {
            c->purposes[b]++;
        }
    }

    /* records naming any purpose not known, not the names */
    c->unknown += (unknown != 0);
}


/* the receipts in the stream, and the times of the oldest and newest */

static int
ctl_stats_receipts(ctl_t *ctl, const char *key, size_t len, ctl_counts_t *c)
{
    int          rc;
    redisReply  *r;

    r = ctl_key_command(ctl, "XLEN", key, len, NULL);
    if (r == NULL) {
        return -1;
    }

    rc = ctl_reply_uint(r, ~0ULL, &c->receipts);

    freeReplyObject(r);

    if (rc != 0) {
        ctl_error("redis at %s: XLEN: unexpected reply", ctl->addr);
        return -1;
    }

    if (ctl_stats_receipt(ctl, key, len, 0, &c->oldest) != 0
        || ctl_stats_receipt(ctl, key, len, 1, &c->newest) != 0)
    {
        return -1;
    }

    return 0;
}


/*
 * The time of the oldest or newest receipt into *t; -1 when the stream is
 * empty or absent.
 */

static int
ctl_stats_receipt(ctl_t *ctl, const char *key, size_t len, int newest,
    long long *t)
{
    int          rc;
    size_t       argvlen[6];
    const char  *argv[6];
    redisReply  *r;

    ctl_xrange_argv(newest ? "XREVRANGE" : "XRANGE", key, len,
                    newest ? "+" : "-", newest ? "-" : "+", "1", argv,
                    argvlen);

    *t = -1;

    r = ctl_command(ctl, 6, argv, argvlen);
    if (r == NULL) {
        return -1;
    }

    if (ctl_reply_error(ctl, r, argv[0]) != 0) {
        freeReplyObject(r);
        return -1;
    }

    rc = 0;

    if (r->type != REDIS_REPLY_ARRAY
        || (r->elements && !ctl_stream_entry(r->element[0])))
    {
        ctl_error("redis at %s: %s: unexpected reply", ctl->addr, argv[0]);
        rc = -1;

    } else if (r->elements) {
        *t = ctl_receipt_time(r->element[0]);
    }

    freeReplyObject(r);

    return rc;
}


/* a receipt's time: its "t", else the time in its id; -1 if neither */

static long long
ctl_receipt_time(const redisReply *e)
{
    size_t               i;
    const redisReply    *f, *k;
    unsigned long long   n;

    f = e->element[1];

    if (f->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i + 1 < f->elements; i += 2) {
            k = f->element[i];

            if (k->type == REDIS_REPLY_STRING
                && k->len == sizeof(CONSENT_RECEIPT_F_T) - 1
                && memcmp(k->str, CONSENT_RECEIPT_F_T, k->len) == 0
                && ctl_reply_uint(f->element[i + 1], 0x7fffffffffffffffULL,
                                  &n)
                   == 0)
            {
                return (long long) n;
            }
        }
    }

    if (ctl_id_ms(e->element[0], &n)) {
        return (long long) (n / 1000);
    }

    return -1;
}


static void
ctl_stats_print(ctl_t *ctl, const ctl_counts_t *c, redisReply *members)
{
    size_t  i;

    /* a set has no order: sorted, the output of two runs compares */
    if (members->elements > 1) {
        qsort(members->element, members->elements, sizeof(redisReply *),
              ctl_reply_cmp);
    }

    printf("{\"subjects\":%llu,\"malformed\":%llu,\"purposes\":{",
           c->subjects, c->malformed);

    for (i = 0; i < ctl->purposes.n; i++) {
        printf("%s", i ? "," : "");
        ctl_json_cstr(ctl->purposes.name[i]);
        printf(":%llu", c->purposes[i]);
    }

    printf("},\"unknown_purposes\":%llu,\"receipts\":%llu,"
           "\"oldest_receipt\":", c->unknown, c->receipts);

    ctl_stats_time(c->oldest);

    printf(",\"newest_receipt\":");

    ctl_stats_time(c->newest);

    printf(",\"disabled_vendors\":[");

    for (i = 0; i < members->elements; i++) {
        printf("%s", i ? "," : "");
        ctl_json_str(members->element[i]->str, members->element[i]->len);
    }

    printf("]}\n");
}


static void
ctl_stats_time(long long t)
{
    if (t >= 0) {
        printf("%lld", t);

    } else {
        printf("null");
    }
}
