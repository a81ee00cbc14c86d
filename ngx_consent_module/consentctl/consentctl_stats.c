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
} ctl_counts_t;


static int ctl_stats_subjects(ctl_t *ctl, ctl_counts_t *c);
static int ctl_stats_batch(ctl_t *ctl, const redisReply *keys,
    ctl_counts_t *c);
static void ctl_stats_record(ctl_t *ctl, const redisReply *p,
    ctl_counts_t *c);
static int ctl_stats_receipt(ctl_t *ctl, const char *key, size_t len,
    int newest, long long *t);


int
ctl_stats(ctl_t *ctl, int argc, char **argv)
{
    int                 rc;
    char               *log, *dis;
    size_t              i, llen, dlen, argvlen[2];
    long long           oldest, newest;
    const char         *argv2[2];
    redisReply         *xlen, *members;
    ctl_counts_t        c;
    unsigned long long  receipts;

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
    xlen = NULL;
    members = NULL;

    log = ctl_key(ctl, CONSENT_REDIS_LOG, NULL, &llen);
    dis = ctl_key(ctl, CONSENT_REDIS_RULES_DISABLED, NULL, &dlen);

    if (log == NULL || dis == NULL) {
        goto done;
    }

    argv2[0] = "XLEN";
    argvlen[0] = 4;
    argv2[1] = log;
    argvlen[1] = llen;

    xlen = ctl_command(ctl, 2, argv2, argvlen);
    if (xlen == NULL || ctl_reply_error(ctl, xlen, "XLEN") != 0) {
        goto done;
    }

    if (ctl_reply_uint(xlen, ~0ULL, &receipts) != 0) {
        ctl_error("redis at %s: XLEN: unexpected reply", ctl->addr);
        goto done;
    }

    if (ctl_stats_receipt(ctl, log, llen, 0, &oldest) != 0
        || ctl_stats_receipt(ctl, log, llen, 1, &newest) != 0)
    {
        goto done;
    }

    members = ctl_disabled_vendors(ctl, dis, dlen);
    if (members == NULL) {
        goto done;
    }

    /* a set has no order: sorted, the output of two runs compares */
    if (members->elements > 1) {
        qsort(members->element, members->elements, sizeof(redisReply *),
              ctl_reply_cmp);
    }

    printf("{\"subjects\":%llu,\"malformed\":%llu,\"purposes\":{",
           c.subjects, c.malformed);

    for (i = 0; i < ctl->purposes.n; i++) {
        printf("%s", i ? "," : "");
        ctl_json_cstr(ctl->purposes.name[i]);
        printf(":%llu", c.purposes[i]);
    }

    printf("},\"unknown_purposes\":%llu,\"receipts\":%llu,"
           "\"oldest_receipt\":", c.unknown, receipts);

    if (oldest >= 0) {
        printf("%lld", oldest);

    } else {
        printf("null");
    }

    printf(",\"newest_receipt\":");

    if (newest >= 0) {
        printf("%lld", newest);

    } else {
        printf("null");
    }

    printf(",\"disabled_vendors\":[");

    for (i = 0; i < members->elements; i++) {
        printf("%s", i ? "," : "");
        ctl_json_str(members->element[i]->str, members->element[i]->len);
    }

    printf("]}\n");

    rc = CTL_OK;

done:

    free(log);
    free(dis);

    if (xlen) {
        freeReplyObject(xlen);
    }

    if (members) {
        freeReplyObject(members);
    }

    return rc;
}


static int
ctl_stats_subjects(ctl_t *ctl, ctl_counts_t *c)
{
    int          rc;
    char        *pattern, cursor[32], count[24];
    size_t       n, argvlen[6];
    const char  *argv[6];
    redisReply  *r;

    /* the prefix is matched literally: its glob characters escaped */
    pattern = ctl_key(ctl, CONSENT_REDIS_SUBJECTS, NULL, &n);
    if (pattern == NULL) {
        return -1;
    }

    memcpy(cursor, "0", 2);

    argv[0] = "SCAN";
    argvlen[0] = 4;
    argv[1] = cursor;
    argv[2] = "MATCH";
    argvlen[2] = 5;
    argv[3] = pattern;
    argvlen[3] = n;
    argv[4] = "COUNT";
    argvlen[4] = 5;
    argv[5] = count;
    argvlen[5] = snprintf(count, sizeof(count), "%d", CTL_BATCH);

    rc = -1;

    for ( ;; ) {
        argvlen[1] = strlen(cursor);

        r = ctl_command(ctl, 6, argv, argvlen);
        if (r == NULL) {
            break;
        }

        if (ctl_reply_error(ctl, r, "SCAN") != 0) {
            freeReplyObject(r);
            break;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[0]->len == 0
            || r->element[0]->len >= sizeof(cursor)
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            ctl_error("redis at %s: SCAN: unexpected reply", ctl->addr);
            freeReplyObject(r);
            break;
        }

        if (ctl_stats_batch(ctl, r->element[1], c) != 0) {
            freeReplyObject(r);
            break;
        }

        memcpy(cursor, r->element[0]->str, r->element[0]->len);
        cursor[r->element[0]->len] = '\0';

        freeReplyObject(r);

        if (strcmp(cursor, "0") == 0) {
            rc = 0;
            break;
        }
    }

    free(pattern);

    return rc;
}


/* HGET p and HLEN of each key, pipelined: one round trip a batch */

static int
ctl_stats_batch(ctl_t *ctl, const redisReply *keys, ctl_counts_t *c)
{
    int          bad;
    size_t       i, argvlen[3];
    ctl_cmd_t    cmd;
    const char  *argv[3];
    redisReply  *k, *p, *n;

    for (i = 0; i < keys->elements; i++) {
        k = keys->element[i];

        if (k->type != REDIS_REPLY_STRING) {
            ctl_error("redis at %s: SCAN: unexpected reply", ctl->addr);
            return -1;
        }
    }

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


/*
 * The time of the oldest or newest receipt: its "t", else the time in
 * its id; -1 when the stream is empty or absent.
 */

static int
ctl_stats_receipt(ctl_t *ctl, const char *key, size_t len, int newest,
    long long *t)
{
    int                  rc;
    size_t               i, argvlen[6];
    const char          *argv[6], *dash;
    redisReply          *r, *e, *f;
    unsigned long long   n;

    argv[0] = newest ? "XREVRANGE" : "XRANGE";
    argvlen[0] = strlen(argv[0]);
    argv[1] = key;
    argvlen[1] = len;
    argv[2] = newest ? "+" : "-";
    argvlen[2] = 1;
    argv[3] = newest ? "-" : "+";
    argvlen[3] = 1;
    argv[4] = "COUNT";
    argvlen[4] = 5;
    argv[5] = "1";
    argvlen[5] = 1;

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

    if (r->type != REDIS_REPLY_ARRAY) {
        goto unexpected;
    }

    if (r->elements == 0) {
        goto done;
    }

    e = r->element[0];

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
        || e->element[0]->type != REDIS_REPLY_STRING)
    {
        goto unexpected;
    }

    f = e->element[1];

    if (f->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i + 1 < f->elements; i += 2) {
            if (f->element[i]->type == REDIS_REPLY_STRING
                && f->element[i]->len == sizeof(CONSENT_RECEIPT_F_T) - 1
                && memcmp(f->element[i]->str, CONSENT_RECEIPT_F_T,
                          f->element[i]->len)
                   == 0
                && ctl_reply_uint(f->element[i + 1], 0x7fffffffffffffffULL,
                                  &n)
                   == 0)
            {
                *t = (long long) n;
                goto done;
            }
        }
    }

    dash = memchr(e->element[0]->str, '-', e->element[0]->len);

    if (dash
        && ctl_str_uint(e->element[0]->str, dash - e->element[0]->str,
                        ~0ULL, &n)
           == 0)
    {
        *t = (long long) (n / 1000);
    }

    goto done;

unexpected:

    ctl_error("redis at %s: %s: unexpected reply", ctl->addr, argv[0]);
    rc = -1;

done:

    freeReplyObject(r);

    return rc;
}
