/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: a subject's receipts, and erasure.
 *
 * Receipts live in one stream for all subjects, so finding a subject's
 * means reading the stream through, CTL_BATCH entries at a time.
 * Erasure deletes the record and publishes the invalidation in one
 * MULTI/EXEC, then deletes the receipts batch by batch as the walk
 * finds them: a failure half-way says so, and running the command
 * again finishes the job.
 */


#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consentctl.h"


typedef struct {
    const char                *subject;
    size_t                     subject_len;
    char                      *key;              /* the stream */
    size_t                     key_len;

    /* erase: the ids of this batch, and what XDEL removed so far */
    const char               **argv;
    size_t                    *argvlen;
    int                        argc;
    unsigned long long         deleted;

    /* receipts: one JSON array rather than a line each, and how many */
    int                        array;
    unsigned long long         printed;
} ctl_walk_t;


static int ctl_erase_record(ctl_t *ctl, const char *id, int keep,
    long long *record, int *aborted);
static int ctl_erase_receipts(ctl_t *ctl, ctl_walk_t *w);
static long long ctl_erase_provision(ctl_t *ctl, const char *id);
static int ctl_receipt_mine(const ctl_walk_t *w, const redisReply *fields);
static int ctl_receipt_print(ctl_t *ctl, const redisReply *id,
    const redisReply *fields, void *data);
static int ctl_receipt_collect(ctl_t *ctl, const redisReply *id,
    const redisReply *fields, void *data);
static int ctl_receipt_delete(ctl_t *ctl, void *data);


int
ctl_subject_erase(ctl_t *ctl, int argc, char **argv)
{
    int          rc, keep, tries, aborted;
    char        *pos[1];
    long long    record, provision;
    ctl_opt_t    opts[2];
    ctl_walk_t   w;

    keep = 0;
    memset(opts, 0, sizeof(opts));
    opts[0].name = "--keep-receipts";
    opts[0].flag = &keep;

    rc = ctl_subject_args("subject erase ID", argc, argv, opts, pos, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    rc = CTL_ERROR;
    aborted = 0;
    record = 0;

    for (tries = 0; tries < CTL_WATCH_TRIES; tries++) {
        rc = ctl_erase_record(ctl, pos[0], keep, &record, &aborted);
        if (rc == CTL_OK || !aborted) {
            break;
        }
    }

    if (rc != CTL_OK) {
        if (aborted) {
            ctl_error("subject \"%s\": the record kept changing while it "
                      "was erased, %d tries; nothing erased", pos[0],
                      CTL_WATCH_TRIES);
        }

        return rc;
    }

    /* the provision log: who received data, which the erasure ends too */
    provision = ctl_erase_provision(ctl, pos[0]);
    if (provision < 0) {
        return CTL_ERROR;
    }

    memset(&w, 0, sizeof(ctl_walk_t));
    w.subject = pos[0];
    w.subject_len = strlen(pos[0]);

    if (!keep) {
        rc = ctl_erase_receipts(ctl, &w);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    printf("{\"subject\":");
    ctl_json_cstr(pos[0]);
    printf(",\"record\":%lld,\"provision\":%lld,\"receipts\":%llu}\n",
           record, provision, w.deleted);

    return CTL_OK;
}


/*
 * The subject's receipts, XDEL a batch at a time as the walk finds them:
 * w->deleted counts them.  CTL_OK, or CTL_ERROR after a message.
 */

static int
ctl_erase_receipts(ctl_t *ctl, ctl_walk_t *w)
{
    int  rc;

    rc = CTL_ERROR;

    w->key = ctl_key(ctl, CONSENT_REDIS_LOG, NULL, &w->key_len);
    w->argv = malloc((CTL_BATCH + 2) * sizeof(const char *));
    w->argvlen = malloc((CTL_BATCH + 2) * sizeof(size_t));

    if (w->key == NULL || w->argv == NULL || w->argvlen == NULL) {
        if (w->key) {
            ctl_error("out of memory");
        }

        goto done;
    }

    w->argv[0] = "XDEL";
    w->argvlen[0] = 4;
    w->argv[1] = w->key;
    w->argvlen[1] = w->key_len;
    w->argc = 2;

    if (ctl_stream_walk(ctl, w->key, w->key_len, ctl_receipt_collect,
                        ctl_receipt_delete, w)
        != 0)
    {
        ctl_error("subject \"%s\": the record is erased, but only %llu "
                  "receipts were deleted before the error; run the "
                  "command again", w->subject, w->deleted);
        goto done;
    }

    rc = CTL_OK;

done:

    free(w->key);
    free(w->argv);
    free(w->argvlen);

    return rc;
}


/* DEL of the provision log: 1 or 0, -1 after a message */

static long long
ctl_erase_provision(ctl_t *ctl, const char *id)
{
    char        *key;
    size_t       len;
    long long    n;
    redisReply  *r;

    key = ctl_key(ctl, CONSENT_REDIS_PROVISION, id, &len);
    if (key == NULL) {
        return -1;
    }

    r = ctl_key_command(ctl, "DEL", key, len, NULL);
    free(key);

    if (r == NULL) {
        ctl_error("subject \"%s\": the record is erased, not the provision "
                  "log; run the command again", id);
        return -1;
    }

    n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);

    return n;
}


/*
 * DEL and PUBLISH at once.  With --keep-receipts the receipts stay as
 * the audit trail, so the erasure gets one too; without, nothing that
 * names the subject is left behind, not even a receipt of the erasure.
 */

static int
ctl_erase_record(ctl_t *ctl, const char *id, int keep, long long *record,
    int *aborted)
{
    int                   rc;
    long                  v;
    ctl_cmd_t             del;
    redisReply           *r;
    const char           *argv[2];
    size_t                argvlen[2];
    ctl_subject_write_t   w;

    *aborted = 0;
    rc = CTL_ERROR;

    if (ctl_subject_write_init(ctl, id, &w) != 0) {
        goto done;
    }

    argv[0] = "DEL";
    argvlen[0] = 3;
    argv[1] = w.key;
    argvlen[1] = w.key_len;

    del.argc = 2;
    del.argv = argv;
    del.argvlen = argvlen;

    if (keep) {
        v = ctl_record_version(ctl, w.key, w.key_len);
        if (v == -2) {
            goto done;
        }

        ctl_subject_write_receipt(&w, id, CONSENT_ACTION_ERASE, "", NULL,
                                  v < 0 ? 0 : v, time(NULL));
    }

    r = ctl_subject_write_exec(ctl, &w, &del, keep, aborted);
    if (r == NULL) {
        goto done;
    }

    if (r->element[0]->type != REDIS_REPLY_INTEGER) {
        ctl_error("redis at %s: DEL: unexpected reply", ctl->addr);
        freeReplyObject(r);
        goto done;
    }

    *record = r->element[0]->integer;

    freeReplyObject(r);
    rc = CTL_OK;

done:

    ctl_subject_write_free(&w);

    return rc;
}


int
ctl_receipts(ctl_t *ctl, int argc, char **argv)
{
    int    rc;
    char  *pos[1];

    rc = ctl_subject_args("receipts ID", argc, argv, NULL, pos, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    return ctl_receipts_print(ctl, pos[0], 0);
}


int
ctl_receipts_print(ctl_t *ctl, const char *id, int array)
{
    int         rc;
    ctl_walk_t  w;

    memset(&w, 0, sizeof(ctl_walk_t));
    w.subject = id;
    w.subject_len = strlen(id);
    w.array = array;

    w.key = ctl_key(ctl, CONSENT_REDIS_LOG, NULL, &w.key_len);
    if (w.key == NULL) {
        return CTL_ERROR;
    }

    if (array) {
        printf("[");
    }

    /* the whole stream is read, a batch at a time: receipts by time */
    rc = ctl_stream_walk(ctl, w.key, w.key_len, ctl_receipt_print, NULL, &w)
         == 0 ? CTL_OK : CTL_ERROR;

    if (array) {
        printf("]");
    }

    free(w.key);

    return rc;
}


static int
ctl_receipt_mine(const ctl_walk_t *w, const redisReply *fields)
{
    size_t       i;
    redisReply  *k, *v;

    for (i = 0; i < fields->elements; i += 2) {
        k = fields->element[i];
        v = fields->element[i + 1];

        if (k->len == sizeof(CONSENT_RECEIPT_F_SUBJECT) - 1
            && memcmp(k->str, CONSENT_RECEIPT_F_SUBJECT, k->len) == 0)
        {
            return v->len == w->subject_len
                   && memcmp(v->str, w->subject, v->len) == 0;
        }
    }

    return 0;
}


static int
ctl_receipt_print(ctl_t *ctl, const redisReply *id, const redisReply *fields,
    void *data)
{
    size_t       i;
    ctl_walk_t  *w = data;

    if (!ctl_receipt_mine(w, fields)) {
        return 0;
    }

    printf(w->array && w->printed ? ",{\"id\":" : "{\"id\":");
    w->printed++;
    ctl_json_str(id->str, id->len);

    for (i = 0; i < fields->elements; i += 2) {
        putchar(',');
        ctl_json_str(fields->element[i]->str, fields->element[i]->len);
        putchar(':');
        ctl_json_str(fields->element[i + 1]->str,
                     fields->element[i + 1]->len);
    }

    printf(w->array ? "}" : "}\n");

    return 0;
}


static int
ctl_receipt_collect(ctl_t *ctl, const redisReply *id,
    const redisReply *fields, void *data)
{
    ctl_walk_t  *w = data;

    if (ctl_receipt_mine(w, fields)) {
        w->argv[w->argc] = id->str;
        w->argvlen[w->argc] = id->len;
        w->argc++;
    }

    return 0;
}


/* the batch's ids, while the batch's reply still holds them */

static int
ctl_receipt_delete(ctl_t *ctl, void *data)
{
    ctl_walk_t  *w = data;

    int          rc;
    redisReply  *r;

    if (w->argc == 2) {
        return 0;
    }

    r = ctl_command(ctl, w->argc, w->argv, w->argvlen);

    w->argc = 2;

    if (r == NULL) {
        return -1;
    }

    rc = ctl_reply_error(ctl, r, "XDEL");

    if (rc == 0) {
        if (r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
            w->deleted += (unsigned long long) r->integer;
        }
    }

    freeReplyObject(r);

    return rc;
}
