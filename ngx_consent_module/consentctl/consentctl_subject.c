/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: one subject's record: get and set.
 *
 * "subject set" writes what the consent API writes (record, receipt,
 * invalidation) in one MULTI/EXEC, under WATCH of the record: the key's
 * type is checked first, and since EXEC does not roll back a command
 * that fails, checking first is what keeps a receipt from being written
 * for a record that was not.
 */


#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consentctl.h"


typedef struct {
    const char                *data;             /* NULL: absent */
    size_t                     len;
} ctl_str_t;


typedef struct {
    ctl_str_t                  p;
    ctl_str_t                  v;
    ctl_str_t                  t;
    ctl_str_t                  src;
    ctl_str_t                  gpc;
} ctl_record_t;


static int ctl_subject_get(ctl_t *ctl, int argc, char **argv);
static int ctl_subject_set(ctl_t *ctl, int argc, char **argv);
static int ctl_set_purposes(ctl_t *ctl, const char *list, char *out,
    size_t size);
static int ctl_set_write(ctl_t *ctl, const char *id, const char *names,
    long version, time_t now, long *used, int *aborted);
static int ctl_print_record(ctl_t *ctl, const char *id,
    const ctl_record_t *rec);


int
ctl_subject(ctl_t *ctl, int argc, char **argv)
{
    if (argc == 0) {
        return ctl_usage_error("subject: get, set or erase?");
    }

    if (strcmp(argv[0], "get") == 0) {
        return ctl_subject_get(ctl, argc - 1, argv + 1);
    }

    if (strcmp(argv[0], "set") == 0) {
        return ctl_subject_set(ctl, argc - 1, argv + 1);
    }

    if (strcmp(argv[0], "erase") == 0) {
        return ctl_subject_erase(ctl, argc - 1, argv + 1);
    }

    return ctl_usage_error("subject: unknown command \"%s\"", argv[0]);
}


static int
ctl_subject_get(ctl_t *ctl, int argc, char **argv)
{
    int            rc;
    char          *key, *pos[1];
    size_t         i, len, argvlen[2];
    ctl_str_t     *f;
    const char    *argv2[2];
    redisReply    *r, *k, *v;
    ctl_record_t   rec;

    rc = ctl_subject_args("subject get ID", argc, argv, NULL, pos, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    key = ctl_key(ctl, "s:", pos[0], &len);
    if (key == NULL) {
        return CTL_ERROR;
    }

    argv2[0] = "HGETALL";
    argvlen[0] = 7;
    argv2[1] = key;
    argvlen[1] = len;

    r = ctl_command(ctl, 2, argv2, argvlen);
    if (r == NULL) {
        free(key);
        return CTL_ERROR;
    }

    if (r->type == REDIS_REPLY_ERROR && r->len > 9
        && memcmp(r->str, "WRONGTYPE", 9) == 0)
    {
        ctl_error("\"%s\" is not a hash: not a subject record", key);
        free(key);
        freeReplyObject(r);
        return CTL_ERROR;
    }

    free(key);

    if (ctl_reply_error(ctl, r, "HGETALL") != 0) {
        freeReplyObject(r);
        return CTL_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        ctl_error("redis at %s: HGETALL: unexpected reply", ctl->addr);
        freeReplyObject(r);
        return CTL_ERROR;
    }

    if (r->elements == 0) {
        ctl_error("subject \"%s\": not found", pos[0]);
        freeReplyObject(r);
        return CTL_ERROR;
    }

    memset(&rec, 0, sizeof(ctl_record_t));

    for (i = 0; i < r->elements; i += 2) {
        k = r->element[i];
        v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        f = NULL;

        if (k->len == 1 && k->str[0] == 'p') {
            f = &rec.p;

        } else if (k->len == 1 && k->str[0] == 'v') {
            f = &rec.v;

        } else if (k->len == 1 && k->str[0] == 't') {
            f = &rec.t;

        } else if (k->len == 3 && memcmp(k->str, "src", 3) == 0) {
            f = &rec.src;

        } else if (k->len == 3 && memcmp(k->str, "gpc", 3) == 0) {
            f = &rec.gpc;
        }

        if (f) {
            f->data = v->str;
            f->len = v->len;
        }
    }

    rc = ctl_print_record(ctl, pos[0], &rec);

    freeReplyObject(r);

    return rc;
}


/*
 * The record as JSON.  What the module would refuse as malformed (no
 * "p", a "v" or "t" that is not a number) is still shown, with nulls,
 * and said on stderr: exit 1, since the module ignores such a record.
 */

static int
ctl_print_record(ctl_t *ctl, const char *id, const ctl_record_t *rec)
{
    int                  i, bad_p, bad_v, bad_t;
    size_t               len;
    const char          *p, *end, *name;
    consent_mask_t       mask;
    unsigned long long   n;

    bad_p = (rec->p.data == NULL);
    bad_v = 0;
    bad_t = 0;

    printf("{\"subject\":");
    ctl_json_cstr(id);
    printf(",\"purposes\":[\"necessary\"");

    /* known names in the order of the purpose set, then the others */
    mask = CONSENT_BIT(CONSENT_P_NECESSARY);

    if (rec->p.data) {
        p = rec->p.data;
        end = p + rec->p.len;

        while (ctl_purpose_next(&p, end, &name, &len)) {
            i = consent_purpose_find(&ctl->purposes,
                                     (const unsigned char *) name, len);
            if (i >= 0) {
                mask |= CONSENT_BIT(i);
            }
        }

        for (i = 1; i < (int) ctl->purposes.n; i++) {
            if (mask & CONSENT_BIT(i)) {
                printf(",");
                ctl_json_cstr(ctl->purposes.name[i]);
            }
        }

        p = rec->p.data;

        while (ctl_purpose_next(&p, end, &name, &len)) {
            if (consent_purpose_find(&ctl->purposes,
                                     (const unsigned char *) name, len)
                < 0)
            {
                printf(",");
                ctl_json_str(name, len);
            }
        }
    }

    printf("],\"policy_version\":");

    if (rec->v.data && ctl_str_uint(rec->v.data, rec->v.len, 0xffffffff, &n)
                       == 0)
    {
        printf("%llu", n);

    } else {
        bad_v = (rec->v.data != NULL);
        printf("null");
    }

    printf(",\"updated\":");

    if (rec->t.data
        && ctl_str_uint(rec->t.data, rec->t.len, 0x7fffffffffffffffULL, &n)
           == 0)
    {
        printf("%llu", n);

    } else {
        bad_t = (rec->t.data != NULL);
        printf("null");
    }

    printf(",\"source\":");

    if (rec->src.data) {
        ctl_json_str(rec->src.data, rec->src.len);

    } else {
        printf("null");
    }

    printf(",\"gpc\":%s}\n",
           rec->gpc.data == NULL || rec->gpc.len != 1 ? "null"
           : rec->gpc.data[0] == '1' ? "true"
           : rec->gpc.data[0] == '0' ? "false" : "null");

    if (bad_p || bad_v || bad_t) {
        ctl_error("subject \"%s\": malformed record (%s%s%s), the module "
                  "ignores it", id,
                  bad_p ? "no \"p\"" : "",
                  bad_v ? (bad_p ? ", \"v\" not a number"
                                 : "\"v\" not a number") : "",
                  bad_t ? (bad_p || bad_v ? ", \"t\" not a number"
                                          : "\"t\" not a number") : "");
        return CTL_ERROR;
    }

    return CTL_OK;
}


static int
ctl_subject_set(ctl_t *ctl, int argc, char **argv)
{
    int            rc, tries, aborted;
    long           version, used;
    char          *pos[2], *names;
    size_t         size;
    time_t         now;
    const char    *pv;
    ctl_opt_t      opts[2];
    ctl_record_t   rec;
    char           vbuf[24], tbuf[24];

    pv = NULL;
    memset(opts, 0, sizeof(opts));
    opts[0].name = "--policy-version";
    opts[0].value = &pv;

    rc = ctl_subject_args("subject set ID PURPOSES", argc, argv, opts, pos, 2);
    if (rc != CTL_OK) {
        return rc;
    }

    version = -1;

    if (pv && ctl_parse_long(pv, 0, 0xffffffffL, &version) != 0) {
        return ctl_arg_error("invalid --policy-version \"%s\" (0 to "
                             "4294967295)", pv);
    }

    /* every name, each at most CONSENT_PURPOSE_NAME_MAX, and commas */
    size = CONSENT_MAX_PURPOSES * (CONSENT_PURPOSE_NAME_MAX + 1) + 1;

    names = malloc(size);
    if (names == NULL) {
        ctl_error("out of memory");
        return CTL_ERROR;
    }

    rc = ctl_set_purposes(ctl, pos[1], names, size);
    if (rc != CTL_OK) {
        free(names);
        return rc;
    }

    if (ctl_connect(ctl) != CTL_OK) {
        free(names);
        return CTL_ERROR;
    }

    now = time(NULL);
    rc = CTL_ERROR;
    aborted = 0;
    used = 0;

    for (tries = 0; tries < CTL_WATCH_TRIES; tries++) {
        rc = ctl_set_write(ctl, pos[0], names, version, now, &used,
                           &aborted);
        if (rc == CTL_OK || !aborted) {
            break;
        }
    }

    if (rc == CTL_OK) {
        memset(&rec, 0, sizeof(ctl_record_t));
        rec.p.data = names;
        rec.p.len = strlen(names);
        rec.v.data = vbuf;
        rec.v.len = snprintf(vbuf, sizeof(vbuf), "%ld", used);
        rec.t.data = tbuf;
        rec.t.len = snprintf(tbuf, sizeof(tbuf), "%lld", (long long) now);
        rec.src.data = "consentctl";
        rec.src.len = 10;
        rec.gpc.data = "0";
        rec.gpc.len = 1;

        rc = ctl_print_record(ctl, pos[0], &rec);

    } else if (aborted) {
        ctl_error("subject \"%s\": the record kept changing while it was "
                  "written, %d tries; nothing written", pos[0],
                  CTL_WATCH_TRIES);
    }

    free(names);

    return rc;
}


/* PURPOSES: "none", or names of the purpose set; into "p" as stored */

static int
ctl_set_purposes(ctl_t *ctl, const char *list, char *out, size_t size)
{
    int              i, any;
    char             known[CONSENT_MAX_PURPOSES
                           * (CONSENT_PURPOSE_NAME_MAX + 2) + 1];
    size_t           len, n;
    const char      *p, *end, *name;
    consent_mask_t   mask;

    mask = CONSENT_BIT(CONSENT_P_NECESSARY);

    if (strcmp(list, "none") != 0) {
        p = list;
        end = list + strlen(list);
        any = 0;

        while (ctl_purpose_next(&p, end, &name, &len)) {
            any = 1;
            i = consent_purpose_find(&ctl->purposes,
                                     (const unsigned char *) name, len);
            if (i >= 0) {
                mask |= CONSENT_BIT(i);
                continue;
            }

            n = 0;

            for (i = 0; i < (int) ctl->purposes.n; i++) {
                n += snprintf(known + n, sizeof(known) - n, "%s%s",
                              i ? ", " : "", ctl->purposes.name[i]);
            }

            return ctl_arg_error("unknown purpose \"%.*s\" (known: %s; "
                                 "add others with --purposes)", (int) len,
                                 name, known);
        }

        if (!any) {
            return ctl_arg_error("no purposes given: name them, or say "
                                 "\"none\" for only necessary");
        }
    }

    /* necessary is implied, and the module never stores it */
    len = consent_purposes_format(&ctl->purposes,
                                  mask & ~CONSENT_BIT(CONSENT_P_NECESSARY),
                                  (unsigned char *) out, size - 1);
    out[len < size ? len : 0] = '\0';

    return CTL_OK;
}


static int
ctl_set_write(ctl_t *ctl, const char *id, const char *names, long version,
    time_t now, long *used, int *aborted)
{
    int                   rc, i;
    long                  v;
    ctl_cmd_t             cmds[3];
    redisReply           *r;
    const char           *hset[12];
    size_t                hset_len[12];
    ctl_subject_write_t   w;

    *aborted = 0;
    rc = CTL_ERROR;

    if (ctl_subject_write_init(ctl, id, &w) != 0) {
        goto done;
    }

    /* no version given: the one the subject agreed to stands, else 1 */
    v = version;

    if (v < 0) {
        v = ctl_record_version(ctl, w.key, w.key_len);

        if (v == -2) {
            goto done;
        }

        if (v < 0) {
            v = 1;
        }
    }

    *used = v;

    ctl_subject_write_receipt(&w, id, "set", names, v, now);

    hset[0] = "HSET";
    hset[1] = w.key;
    hset[2] = "p";
    hset[3] = names;
    hset[4] = "v";
    hset[5] = w.vbuf;
    hset[6] = "t";
    hset[7] = w.tbuf;
    hset[8] = "src";
    hset[9] = "consentctl";
    hset[10] = "gpc";
    hset[11] = "0";

    /* all of them plain C strings, the key included */
    for (i = 0; i < 12; i++) {
        hset_len[i] = strlen(hset[i]);
    }

    cmds[0].argc = 12;
    cmds[0].argv = hset;
    cmds[0].argvlen = hset_len;
    cmds[1].argc = 17;
    cmds[1].argv = w.xadd;
    cmds[1].argvlen = w.xadd_len;
    cmds[2].argc = 3;
    cmds[2].argv = w.pub;
    cmds[2].argvlen = w.pub_len;

    r = ctl_transaction(ctl, 3, cmds, aborted);
    if (r == NULL) {
        goto done;
    }

    freeReplyObject(r);
    rc = CTL_OK;

done:

    ctl_subject_write_free(&w);

    return rc;
}


/*
 * The keys of a write to the subject: the record WATCHed (the write is
 * a transaction that fails if the record changed meanwhile) and both
 * keys of the type the module expects.  0, or -1 with the error
 * reported; ctl_subject_write_free() in either case.
 */

int
ctl_subject_write_init(ctl_t *ctl, const char *id, ctl_subject_write_t *w)
{
    memset(w, 0, sizeof(ctl_subject_write_t));

    w->key = ctl_key(ctl, "s:", id, &w->key_len);
    w->log = ctl_key(ctl, "log", NULL, &w->log_len);
    w->inval = ctl_key(ctl, "inval", NULL, &w->inval_len);

    if (w->key == NULL || w->log == NULL || w->inval == NULL) {
        return -1;
    }

    if (ctl_watch(ctl, w->key, w->key_len) != 0
        || ctl_key_type(ctl, w->key, w->key_len, "hash") != 0
        || ctl_key_type(ctl, w->log, w->log_len, "stream") != 0)
    {
        return -1;
    }

    w->pub[0] = "PUBLISH";
    w->pub_len[0] = 7;
    w->pub[1] = w->inval;
    w->pub_len[1] = w->inval_len;
    w->pub[2] = id;
    w->pub_len[2] = strlen(id);

    return 0;
}


/* the receipt's XADD, in the module's field order */

void
ctl_subject_write_receipt(ctl_subject_write_t *w, const char *id,
    const char *action, const char *purposes, long version, time_t now)
{
    int  i;

    snprintf(w->vbuf, sizeof(w->vbuf), "%ld", version);
    snprintf(w->tbuf, sizeof(w->tbuf), "%lld", (long long) now);

    w->xadd[0] = "XADD";
    w->xadd[1] = w->log;
    w->xadd[2] = "*";
    w->xadd[3] = "subject";
    w->xadd[4] = id;
    w->xadd[5] = "action";
    w->xadd[6] = action;
    w->xadd[7] = "purposes";
    w->xadd[8] = purposes;
    w->xadd[9] = "v";
    w->xadd[10] = w->vbuf;
    w->xadd[11] = "t";
    w->xadd[12] = w->tbuf;
    w->xadd[13] = "src";
    w->xadd[14] = "consentctl";
    w->xadd[15] = "gpc";
    w->xadd[16] = "0";

    for (i = 0; i < 17; i++) {
        w->xadd_len[i] = strlen(w->xadd[i]);
    }
}


void
ctl_subject_write_free(ctl_subject_write_t *w)
{
    free(w->key);
    free(w->log);
    free(w->inval);

    w->key = NULL;
    w->log = NULL;
    w->inval = NULL;
}


int
ctl_watch(ctl_t *ctl, const char *key, size_t len)
{
    int          rc;
    const char  *argv[2];
    size_t       argvlen[2];
    redisReply  *r;

    argv[0] = "WATCH";
    argvlen[0] = 5;
    argv[1] = key;
    argvlen[1] = len;

    r = ctl_command(ctl, 2, argv, argvlen);
    if (r == NULL) {
        return -1;
    }

    rc = ctl_reply_error(ctl, r, "WATCH");

    freeReplyObject(r);

    return rc;
}


/* the record's "v": the version, -1 if none or not a number, -2 error */

long
ctl_record_version(ctl_t *ctl, const char *key, size_t len)
{
    long                 v;
    const char          *argv[3];
    size_t               argvlen[3];
    redisReply          *r;
    unsigned long long   n;

    argv[0] = "HGET";
    argvlen[0] = 4;
    argv[1] = key;
    argvlen[1] = len;
    argv[2] = "v";
    argvlen[2] = 1;

    r = ctl_command(ctl, 3, argv, argvlen);
    if (r == NULL) {
        return -2;
    }

    if (ctl_reply_error(ctl, r, "HGET") != 0) {
        freeReplyObject(r);
        return -2;
    }

    v = -1;

    if (r->type == REDIS_REPLY_STRING
        && ctl_str_uint(r->str, r->len, 0xffffffff, &n) == 0)
    {
        v = (long) n;
    }

    freeReplyObject(r);

    return v;
}
