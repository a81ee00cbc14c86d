/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl records report|purge --older-than TIME: the retention the
 * privacy policy promises, for records written before consent_record_ttl
 * was set (or by a consentctl that set none).  A record's age is that of
 * its last decision ("t").  Records are found with SCAN and their "t"
 * read in pipelined batches; a purge deletes each old record in its own
 * WATCH/MULTI/EXEC with the invalidation, after reading "t" again under
 * the WATCH, so a decision made meanwhile is never deleted.  Receipts are
 * not touched: they have their own retention (consent_receipts retain=).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consentctl.h"


typedef struct {
    long long                  cutoff;       /* "t" below it: old */
    int                        purge;
    unsigned long long         records;
    unsigned long long         old;
    unsigned long long         no_time;      /* no "t", or not a number */
    unsigned long long         purged;
    unsigned long long         changed;      /* decided again meanwhile */
    long long                  oldest;       /* -1: none */
} ctl_records_t;


static int ctl_records_batch(ctl_t *ctl, const redisReply *keys,
    void *data);
static int ctl_records_time(const redisReply *r, long long *t);
static int ctl_records_purge_one(ctl_t *ctl, const redisReply *key,
    ctl_records_t *rs);
static int ctl_parse_age(const char *s, long long *sec);


int
ctl_records(ctl_t *ctl, int argc, char **argv)
{
    char           *pos[1];
    const char     *older;
    ctl_opt_t       opts[2];
    long long       age;
    ctl_records_t   rs;

    older = NULL;
    memset(opts, 0, sizeof(opts));
    opts[0].name = "--older-than";
    opts[0].value = &older;

    if (ctl_args("records report|purge --older-than TIME", argc, argv, opts,
                 pos, 1)
        != CTL_OK)
    {
        return CTL_USAGE;
    }

    memset(&rs, 0, sizeof(ctl_records_t));
    rs.oldest = -1;

    if (strcmp(pos[0], "purge") == 0) {
        rs.purge = 1;

    } else if (strcmp(pos[0], "report") != 0) {
        return ctl_arg_error("unknown records command \"%s\" (report, "
                             "purge)", pos[0]);
    }

    if (older == NULL) {
        return ctl_arg_error("records %s needs --older-than TIME", pos[0]);
    }

    if (ctl_parse_age(older, &age) != 0) {
        return ctl_arg_error("invalid --older-than \"%s\" (a number of "
                             "seconds, or with s, m, h, d, w, y: 400d)",
                             older);
    }

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    rs.cutoff = (long long) time(NULL) - age;

    if (ctl_scan_subjects(ctl, ctl_records_batch, &rs) != 0) {
        return CTL_ERROR;
    }

    printf("{\"older_than\":%lld,\"cutoff\":%lld,\"records\":%llu,"
           "\"older\":%llu,\"no_time\":%llu,\"oldest\":", age, rs.cutoff,
           rs.records, rs.old, rs.no_time);

    if (rs.oldest < 0) {
        printf("null");

    } else {
        printf("%lld", rs.oldest);
    }

    if (rs.purge) {
        printf(",\"purged\":%llu,\"changed\":%llu", rs.purged, rs.changed);
    }

    printf("}\n");

    return CTL_OK;
}


/* HGET t of each key, pipelined; the old ones purged one by one */

static int
ctl_records_batch(ctl_t *ctl, const redisReply *keys, void *data)
{
    ctl_records_t *rs = data;

    int          rc;
    size_t       i, argvlen[3];
    long long    t;
    ctl_cmd_t    cmd;
    const char  *argv[3];
    redisReply  *r;
    char        *old;

    cmd.argv = argv;
    cmd.argvlen = argvlen;
    cmd.argc = 3;

    for (i = 0; i < keys->elements; i++) {
        argv[0] = "HGET";
        argvlen[0] = 4;
        argv[1] = keys->element[i]->str;
        argvlen[1] = keys->element[i]->len;
        argv[2] = CONSENT_RECORD_F_T;
        argvlen[2] = sizeof(CONSENT_RECORD_F_T) - 1;

        if (ctl_pipeline_send(ctl, 1, &cmd) != 0) {
            return -1;
        }
    }

    /* which are old: read all replies before any other command */
    old = calloc(keys->elements + 1, 1);
    if (old == NULL) {
        ctl_error("out of memory");
        return -1;
    }

    rc = 0;

    for (i = 0; i < keys->elements; i++) {
        r = ctl_pipeline_reply(ctl);
        if (r == NULL) {
            rc = -1;
            continue;
        }

        if (r->type == REDIS_REPLY_NIL) {
            /* deleted since SCAN saw it */

        } else if (ctl_records_time(r, &t) != 0) {
            rs->records++;
            rs->no_time++;

        } else {
            rs->records++;

            if (t < rs->cutoff) {
                rs->old++;
                old[i] = 1;

                if (rs->oldest < 0 || t < rs->oldest) {
                    rs->oldest = t;
                }
            }
        }

        freeReplyObject(r);
    }

    for (i = 0; rc == 0 && rs->purge && i < keys->elements; i++) {
        if (old[i]) {
            rc = ctl_records_purge_one(ctl, keys->element[i], rs);
        }
    }

    free(old);

    return rc;
}


/* a "t" as the module reads it */

static int
ctl_records_time(const redisReply *r, long long *t)
{
    uint64_t  n;

    if (r->type != REDIS_REPLY_STRING
        || consent_record_uint((const unsigned char *) r->str, r->len,
                               CONSENT_RECORD_T_MAX, &n)
           != 0)
    {
        return -1;
    }

    *t = (long long) n;

    return 0;
}


/*
 * WATCH, "t" again, then DEL and the invalidation in one MULTI/EXEC: a
 * record decided again since the batch read it (or during this) stays.
 */

static int
ctl_records_purge_one(ctl_t *ctl, const redisReply *key, ctl_records_t *rs)
{
    int              aborted, rc;
    char            *inval;
    size_t           ilen, plen, argvlen[2], pub_len[CONSENT_PUBLISH_ARGS];
    long long        t;
    ctl_cmd_t        cmds[2];
    const char      *argv[2], *pub[CONSENT_PUBLISH_ARGS];
    redisReply      *r;
    consent_span_t   channel;

    static const char    *unwatch[] = { "UNWATCH" };
    static const size_t   unwatch_len[] = { 7 };

    if (ctl_watch(ctl, key->str, key->len) != 0) {
        return -1;
    }

    r = ctl_key_command(ctl, "HGET", key->str, key->len, CONSENT_RECORD_F_T);
    if (r == NULL) {
        return -1;
    }

    rc = ctl_records_time(r, &t);
    freeReplyObject(r);

    if (rc != 0 || t >= rs->cutoff) {
        rs->changed++;

        r = ctl_command(ctl, 1, unwatch, unwatch_len);
        if (r == NULL) {
            return -1;
        }

        freeReplyObject(r);
        return 0;
    }

    inval = ctl_key(ctl, CONSENT_REDIS_INVAL, NULL, &ilen);
    if (inval == NULL) {
        return -1;
    }

    /* the subject id: the key after "<prefix>s:" */
    plen = ctl->prefix_len + 2;

    channel.data = (const unsigned char *) inval;
    channel.len = ilen;

    argv[0] = "DEL";
    argvlen[0] = 3;
    argv[1] = key->str;
    argvlen[1] = key->len;

    cmds[0].argc = 2;
    cmds[0].argv = argv;
    cmds[0].argvlen = argvlen;
    cmds[1].argc = consent_inval_argv(&channel,
                                      (const unsigned char *) key->str + plen,
                                      key->len - plen, pub, pub_len);
    cmds[1].argv = pub;
    cmds[1].argvlen = pub_len;

    r = ctl_transaction(ctl, 2, cmds, &aborted);
    free(inval);

    if (r == NULL) {
        if (aborted) {
            rs->changed++;
            return 0;
        }

        return -1;
    }

    freeReplyObject(r);
    rs->purged++;

    return 0;
}


/* "400d", "12h", "3600": seconds */

static int
ctl_parse_age(const char *s, long long *sec)
{
    char       *end;
    long long   n, unit;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    n = strtoll(s, &end, 10);

    switch (*end) {

    case '\0':
    case 's':
        unit = 1;
        break;

    case 'm':
        unit = 60;
        break;

    case 'h':
        unit = 3600;
        break;

    case 'd':
        unit = 86400;
        break;

    case 'w':
        unit = 7 * 86400;
        break;

    case 'y':
        unit = 365 * 86400;
        break;

    default:
        return -1;
    }

    if (*end != '\0' && end[1] != '\0') {
        return -1;
    }

    if (n <= 0 || n > 100LL * 365 * 86400 / unit) {
        return -1;
    }

    *sec = n * unit;

    return 0;
}
