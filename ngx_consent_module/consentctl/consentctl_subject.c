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
#include "hiredis_reply.h"
#include "vendor_set.h"


static int ctl_subject_get(ctl_t *ctl, int argc, char **argv);
static int ctl_subject_set(ctl_t *ctl, int argc, char **argv);
static int ctl_set_purposes(ctl_t *ctl, const char *list, char *out,
    size_t size);
static int ctl_set_vendors(const char *list);
static int ctl_set_write(ctl_t *ctl, const char *id, const char *names,
    const char *vendors, long version, time_t now, consent_write_t *written,
    int *aborted);
static int ctl_print_number(const consent_span_t *field, unsigned bad,
    unsigned long long n);
static void ctl_print_unknown(void *data, const unsigned char *name,
    size_t len);


static const ctl_handler_t  ctl_subject_commands[] = {
    { "get",   ctl_subject_get },
    { "set",   ctl_subject_set },
    { "erase", ctl_subject_erase },
    { "export", ctl_subject_export },
    { NULL,    NULL }
};


int
ctl_subject(ctl_t *ctl, int argc, char **argv)
{
    return ctl_run(ctl, "subject: ", "get, set, export or erase?",
                   ctl_subject_commands, argc, argv);
}


static int
ctl_subject_get(ctl_t *ctl, int argc, char **argv)
{
    int                rc;
    char              *pos[1];
    redisReply        *r;
    consent_record_t   rec;

    rc = ctl_subject_args("subject get ID", argc, argv, NULL, pos, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    r = ctl_record_fetch(ctl, pos[0], &rec);
    if (r == NULL) {
        return CTL_ERROR;
    }

    if (!rec.found) {
        ctl_error("subject \"%s\": not found", pos[0]);
        freeReplyObject(r);
        return CTL_ERROR;
    }

    rc = ctl_print_record(ctl, pos[0], &rec);
    printf("\n");

    freeReplyObject(r);

    return rc;
}


/*
 * HGETALL of the subject's record, read as the module reads it (rec
 * points into the reply, which the caller frees).  NULL after a message.
 */

redisReply *
ctl_record_fetch(ctl_t *ctl, const char *id, consent_record_t *rec)
{
    int              n;
    char            *key;
    size_t           len, argvlen[CONSENT_HGETALL_ARGS];
    const char      *argv[CONSENT_HGETALL_ARGS];
    redisReply      *r;
    consent_err_t    err;
    consent_span_t   k;

    key = ctl_key(ctl, CONSENT_REDIS_SUBJECT, id, &len);
    if (key == NULL) {
        return NULL;
    }

    k.data = (const unsigned char *) key;
    k.len = len;
    n = consent_record_get_argv(&k, argv, argvlen);

    r = ctl_command(ctl, n, argv, argvlen);
    if (r == NULL) {
        free(key);
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR && r->len > 9
        && memcmp(r->str, "WRONGTYPE", 9) == 0)
    {
        ctl_error("\"%s\" is not a hash: not a subject record", key);
        free(key);
        freeReplyObject(r);
        return NULL;
    }

    free(key);

    if (ctl_reply_error(ctl, r, "HGETALL") != 0) {
        freeReplyObject(r);
        return NULL;
    }

    /* what the module would refuse is still read, and shown */
    if (r->type != REDIS_REPLY_ARRAY
        || (consent_record_parse(r, r->elements, consent_hiredis_element,
                                 &ctl->purposes, NULL, NULL, rec, &err)
            != 0
            && err.code == CONSENT_RECORD_E_ODD))
    {
        ctl_error("redis at %s: HGETALL: unexpected reply", ctl->addr);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


/*
 * The record as JSON, no newline after it.  What the module would refuse
 * as malformed (no "p", a "v" or "t" that is not a number) is still
 * shown, with nulls, and said on stderr: exit 1, since the module
 * ignores such a record.
 */

int
ctl_print_record(ctl_t *ctl, const char *id, const consent_record_t *rec)
{
    int              i, bad_p, bad_v, bad_t;
    consent_mask_t   mask;

    bad_p = (rec->p.data == NULL);

    printf("{\"subject\":");
    ctl_json_cstr(id);
    printf(",\"purposes\":[\"necessary\"");

    /* known names in the order of the purpose set, then the others */
    if (rec->p.data) {
        (void) consent_record_purposes(&ctl->purposes, rec->p.data,
                                       rec->p.len, &mask, NULL, NULL);

        for (i = 1; i < (int) ctl->purposes.n; i++) {
            if (mask & CONSENT_BIT(i)) {
                printf(",");
                ctl_json_cstr(ctl->purposes.name[i]);
            }
        }

        (void) consent_record_purposes(&ctl->purposes, rec->p.data,
                                       rec->p.len, &mask, ctl_print_unknown,
                                       NULL);
    }

    printf("],\"policy_version\":");

    bad_v = ctl_print_number(&rec->v, rec->bad_v,
                             (unsigned long long) rec->policy_version);

    printf(",\"updated\":");

    bad_t = ctl_print_number(&rec->t, rec->bad_t,
                             (unsigned long long) rec->updated);

    printf(",\"source\":");

    if (rec->src.data) {
        ctl_json_str(rec->src.data, rec->src.len);

    } else {
        printf("null");
    }

    printf(",\"gpc\":%s,\"vendors_refused\":",
           rec->gpc_on == 1 ? "true" : rec->gpc_on == 0 ? "false" : "null");
    ctl_print_vendors(&rec->vr);
    printf("}");

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


/*
 * A number of the record, or null when the field is absent or is not a
 * number (bad): 1 in that last case, a malformed record.
 */

static int
ctl_print_number(const consent_span_t *field, unsigned bad,
    unsigned long long n)
{
    if (field->data && !bad) {
        printf("%llu", n);
        return 0;
    }

    printf("null");

    return field->data != NULL;
}


/* "vr": the names, as a JSON array */

void
ctl_print_vendors(const consent_span_t *vr)
{
    size_t                n;
    const unsigned char  *p, *end, *name;

    printf("[");

    p = vr->data;
    end = p ? p + vr->len : p;
    n = 0;

    while (p < end) {
        name = p;

        while (p < end && *p != ',') {
            p++;
        }

        if (p > name) {
            printf(n++ ? "," : "");
            ctl_json_str(name, (size_t) (p - name));
        }

        if (p < end) {
            p++;
        }
    }

    printf("]");
}


/* --vendors-refused: vendor names joined by ',', "" for none */

static int
ctl_set_vendors(const char *list)
{
    size_t       n;
    const char  *p, *name;

    n = 0;

    for (p = list; *p; /* void */) {
        name = p;
        p += strcspn(p, ",");

        if (consent_vendor_id_check((const unsigned char *) name,
                                    (size_t) (p - name))
            != 0)
        {
            return ctl_arg_error("invalid vendor name \"%.*s\" in "
                                 "--vendors-refused (letters, digits, "
                                 "'.', '_', '-', joined by ',')",
                                 (int) (p - name), name);
        }

        if (++n > CONSENT_VENDORS_REFUSED_MAX) {
            return ctl_arg_error("more than %d vendors in --vendors-refused",
                                 CONSENT_VENDORS_REFUSED_MAX);
        }

        if (*p == ',') {
            p++;
        }
    }

    return CTL_OK;
}


/* the names the purpose set does not know, after the known ones */

static void
ctl_print_unknown(void *data, const unsigned char *name, size_t len)
{
    printf(",");
    ctl_json_str(name, len);
}


static int
ctl_subject_set(ctl_t *ctl, int argc, char **argv)
{
    int                rc, tries, aborted;
    long               version;
    char              *pos[2], *names;
    size_t             size;
    time_t             now;
    const char        *pv, *vendors;
    ctl_opt_t          opts[3];
    consent_write_t    w;
    consent_record_t   rec;
    unsigned char      scratch[CONSENT_HSET_SCRATCH];

    pv = NULL;
    vendors = NULL;
    memset(opts, 0, sizeof(opts));
    opts[0].name = "--policy-version";
    opts[0].value = &pv;
    opts[1].name = "--vendors-refused";
    opts[1].value = &vendors;

    rc = ctl_subject_args("subject set ID PURPOSES", argc, argv, opts, pos, 2);
    if (rc != CTL_OK) {
        return rc;
    }

    version = -1;

    if (pv && ctl_parse_long(pv, 0, 0xffffffffL, &version) != 0) {
        return ctl_arg_error("invalid --policy-version \"%s\" (0 to "
                             "4294967295)", pv);
    }

    if (vendors) {
        rc = ctl_set_vendors(vendors);
        if (rc != CTL_OK) {
            return rc;
        }
    }

    /* "p" as stored, and its NUL */
    size = CONSENT_RECORD_P_SIZE + 1;

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

    for (tries = 0; tries < CTL_WATCH_TRIES; tries++) {
        rc = ctl_set_write(ctl, pos[0], names, vendors, version, now, &w,
                           &aborted);
        if (rc == CTL_OK || !aborted) {
            break;
        }
    }

    if (rc == CTL_OK) {
        /* what was written, read back as the module reads it */
        (void) consent_record_from_write(&w, &ctl->purposes, scratch,
                                         sizeof(scratch), &rec);

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

    len = consent_record_purposes_format(&ctl->purposes, mask,
                                         (unsigned char *) out, size - 1);
    out[len < size ? len : 0] = '\0';

    return CTL_OK;
}


static int
ctl_set_write(ctl_t *ctl, const char *id, const char *names,
    const char *vendors, long version, time_t now, consent_write_t *written,
    int *aborted)
{
    int                   rc;
    long                  v;
    ctl_cmd_t             record;
    redisReply           *r;
    const char           *hset[CONSENT_HSET_ARGS];
    size_t                hset_len[CONSENT_HSET_ARGS];
    consent_span_t        key;
    ctl_subject_write_t   w;
    unsigned char         scratch[CONSENT_HSET_SCRATCH];

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

    ctl_subject_write_receipt(&w, id, CONSENT_ACTION_SET, names, vendors, v,
                              now);

    /* the record of the same write the receipt is of */
    key.data = (const unsigned char *) w.key;
    key.len = w.key_len;

    record.argc = consent_record_set_argv(&key, &w.write, scratch,
                                          sizeof(scratch), hset, hset_len);
    record.argv = hset;
    record.argvlen = hset_len;

    r = ctl_subject_write_exec(ctl, &w, &record, 1, aborted);
    if (r == NULL) {
        goto done;
    }

    freeReplyObject(r);
    rc = CTL_OK;

    /* its spans are the id's and names': they outlive w */
    *written = w.write;

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
    consent_span_t  inval;

    memset(w, 0, sizeof(ctl_subject_write_t));

    w->key = ctl_key(ctl, CONSENT_REDIS_SUBJECT, id, &w->key_len);
    w->log = ctl_key(ctl, CONSENT_REDIS_LOG, NULL, &w->log_len);
    w->inval = ctl_key(ctl, CONSENT_REDIS_INVAL, NULL, &w->inval_len);

    if (w->key == NULL || w->log == NULL || w->inval == NULL) {
        return -1;
    }

    if (ctl_watch(ctl, w->key, w->key_len) != 0
        || ctl_key_type(ctl, w->key, w->key_len, "hash") != 0
        || ctl_key_type(ctl, w->log, w->log_len, "stream") != 0)
    {
        return -1;
    }

    inval.data = (const unsigned char *) w->inval;
    inval.len = w->inval_len;

    w->pub_argc = consent_inval_argv(&inval, (const unsigned char *) id,
                                     strlen(id), w->pub, w->pub_len);

    return 0;
}


/*
 * The receipt's XADD, as the module writes one: consentctl saw no
 * visitor, so no regime, region, IAB strings or address, and no GPC.
 */

void
ctl_subject_write_receipt(ctl_subject_write_t *w, const char *id,
    const char *action, const char *purposes, const char *vendors,
    long version, time_t now)
{
    consent_span_t  log;

    memset(&w->write, 0, sizeof(consent_write_t));

    w->write.subject.data = (const unsigned char *) id;
    w->write.subject.len = strlen(id);
    w->write.purposes.data = (const unsigned char *) purposes;
    w->write.purposes.len = strlen(purposes);
    w->write.policy_version = (uint32_t) version;
    w->write.time = now;
    w->write.src.data = (const unsigned char *) CONSENT_WRITER_CONSENTCTL;
    w->write.src.len = sizeof(CONSENT_WRITER_CONSENTCTL) - 1;
    w->write.action.data = (const unsigned char *) action;
    w->write.action.len = strlen(action);

    if (vendors) {
        w->write.vendors_refused.data = (const unsigned char *) vendors;
        w->write.vendors_refused.len = strlen(vendors);
    }

    log.data = (const unsigned char *) w->log;
    log.len = w->log_len;

    w->xadd_argc = consent_receipt_argv(&log, &w->write, w->scratch,
                                        sizeof(w->scratch), w->xadd,
                                        w->xadd_len);
}


/*
 * MULTI, record (what the write does to the record), the receipt's XADD
 * if receipt, the invalidation's PUBLISH, and EXEC: ctl_transaction()
 */

redisReply *
ctl_subject_write_exec(ctl_t *ctl, ctl_subject_write_t *w,
    const ctl_cmd_t *record, int receipt, int *aborted)
{
    int        n;
    ctl_cmd_t  cmds[3];

    n = 0;
    cmds[n++] = *record;

    if (receipt) {
        cmds[n].argc = w->xadd_argc;
        cmds[n].argv = w->xadd;
        cmds[n++].argvlen = w->xadd_len;
    }

    cmds[n].argc = w->pub_argc;
    cmds[n].argv = w->pub;
    cmds[n++].argvlen = w->pub_len;

    return ctl_transaction(ctl, n, cmds, aborted);
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
    redisReply  *r;

    r = ctl_key_command(ctl, "WATCH", key, len, NULL);
    if (r == NULL) {
        return -1;
    }

    freeReplyObject(r);

    return 0;
}


/* the record's "v": the version, -1 if none or not a number, -2 error */

long
ctl_record_version(ctl_t *ctl, const char *key, size_t len)
{
    long         v;
    uint64_t     n;
    redisReply  *r;

    r = ctl_key_command(ctl, "HGET", key, len, CONSENT_RECORD_F_V);
    if (r == NULL) {
        return -2;
    }

    v = -1;

    /* a version as the module reads one */
    if (r->type == REDIS_REPLY_STRING
        && consent_record_uint((const unsigned char *) r->str, r->len,
                               CONSENT_RECORD_V_MAX, &n)
           == 0)
    {
        v = (long) n;
    }

    freeReplyObject(r);

    return v;
}
