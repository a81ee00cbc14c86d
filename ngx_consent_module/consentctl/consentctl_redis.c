/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: the Redis connection (AUTH and SELECT as the module does
 * them), commands, pipelines, MULTI/EXEC and stream walks.  Every reply
 * is checked for its type before it is read: what a key holds may be
 * anything, and a wrong type is a message and exit 1, never a crash.
 */


#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "consentctl.h"
#include "secret.h"


#define CTL_SECRET_MAX              1024


static void ctl_io_error(ctl_t *ctl);
static int ctl_stream_entries(ctl_t *ctl, const char *key,
    const redisReply *r, ctl_entry_pt entry, void *data);
static int ctl_next_id(const redisReply *id, char *buf, size_t size);
static int ctl_scan_keys(ctl_t *ctl, const redisReply *keys);


int
ctl_connect(ctl_t *ctl)
{
    if (ctl->nsentinels) {
        return ctl_sentinel_connect(ctl);
    }

    return ctl_connect_node(ctl);
}


int
ctl_connect_node(ctl_t *ctl)
{
    int              n;
    char             db[24];
    redisReply      *r;
    struct timeval   tv;

    tv.tv_sec = ctl->timeout / 1000;
    tv.tv_usec = (ctl->timeout % 1000) * 1000;

    if (ctl->socket) {
        ctl->redis = redisConnectUnixWithTimeout(ctl->socket, tv);

    } else {
        ctl->redis = redisConnectWithTimeout(ctl->host, ctl->port, tv);
    }

    if (ctl->redis == NULL) {
        ctl_error("cannot connect to redis at %s: out of memory", ctl->addr);
        return CTL_ERROR;
    }

    if (ctl->redis->err) {
        ctl_error("cannot connect to redis at %s: %s", ctl->addr,
                  ctl->redis->errstr);
        return CTL_ERROR;
    }

    /* the connect timeout does not bound the commands: this does */
    if (redisSetTimeout(ctl->redis, tv) != REDIS_OK) {
        ctl_error("redis at %s: cannot set the timeout: %s", ctl->addr,
                  ctl->redis->errstr);
        return CTL_ERROR;
    }

    if (ctl->password_file
        && ctl_auth(ctl, ctl->redis, ctl->password_file, "redis at ",
                    ctl->addr)
           != CTL_OK)
    {
        return CTL_ERROR;
    }

    if (ctl->db) {
        n = snprintf(db, sizeof(db), "%ld", ctl->db);

        r = ctl_key_command(ctl, "SELECT", db, (size_t) n, NULL);
        if (r == NULL) {
            return CTL_ERROR;
        }

        freeReplyObject(r);
    }

    return CTL_OK;
}


void
ctl_disconnect(ctl_t *ctl)
{
    if (ctl->redis) {
        redisFree(ctl->redis);
        ctl->redis = NULL;
    }
}


/*
 * "password" or "user password" (an ACL user) on the first line, as the
 * module's password_file= reads it.  The secret never reaches a message:
 * what Redis answers to AUTH does not repeat it either.
 */

int
ctl_auth(ctl_t *ctl, redisContext *c, const char *file, const char *kind,
    const char *addr)
{
    int                   rc, argc;
    FILE                 *f;
    size_t                n, argvlen[3], user_len, password_len;
    const char           *argv[3];
    redisReply           *r;
    const unsigned char  *user, *password;
    char                  text[256];
    unsigned char         buf[CTL_SECRET_MAX];

    f = fopen(file, "r");
    if (f == NULL) {
        ctl_error("cannot read password file \"%s\": %s", file,
                  strerror(errno));
        return CTL_ERROR;
    }

    n = fread(buf, 1, CTL_SECRET_MAX, f);

    if (ferror(f)) {
        ctl_error("cannot read password file \"%s\": %s", file,
                  strerror(errno));
        fclose(f);
        return CTL_ERROR;
    }

    fclose(f);

    rc = CTL_ERROR;

    if (consent_secret_parse(buf, n, &user, &user_len, &password,
                             &password_len)
        != 0)
    {
        ctl_error("password file \"%s\" has no password on its first line",
                  file);
        goto done;
    }

    argc = 0;
    argv[argc] = "AUTH";
    argvlen[argc++] = 4;

    if (user_len) {
        argv[argc] = (const char *) user;
        argvlen[argc++] = user_len;
    }

    argv[argc] = (const char *) password;
    argvlen[argc++] = password_len;

    r = redisCommandArgv(c, argc, argv, argvlen);
    if (r == NULL) {
        ctl_io_report(ctl, c, kind, addr);
        goto done;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ctl_error("%s%s refused AUTH (password file \"%s\"): %s", kind,
                  addr, file, ctl_plain_buf(r->str, r->len, text,
                                            sizeof(text)));
        freeReplyObject(r);
        goto done;
    }

    freeReplyObject(r);
    rc = CTL_OK;

done:

    explicit_bzero(buf, sizeof(buf));

    return rc;
}


/* a key (CONSENT_REDIS_*), NUL-terminated; NULL after a message */

char *
ctl_key(ctl_t *ctl, unsigned kind, const char *id, size_t *len)
{
    long     n;
    char    *key;
    size_t   size, ilen;

    ilen = id ? strlen(id) : 0;
    size = consent_redis_key_size(kind, ctl->prefix_len, ilen);

    key = size ? malloc(size) : NULL;
    if (key == NULL) {
        ctl_error("out of memory");
        return NULL;
    }

    n = consent_redis_key(kind, (const unsigned char *) ctl->prefix,
                          ctl->prefix_len, (const unsigned char *) id, ilen,
                          (unsigned char *) key, size);

    /* the size asked for always fits: only an unknown kind fails */
    if (n < 0) {
        ctl_error("no key of kind %u", kind);
        free(key);
        return NULL;
    }

    *len = (size_t) n;

    return key;
}


static void
ctl_io_error(ctl_t *ctl)
{
    ctl_io_report(ctl, ctl->redis, "redis at ", ctl->addr);
}


void
ctl_io_report(ctl_t *ctl, redisContext *c, const char *kind,
    const char *addr)
{
    /* a blocking read past redisSetTimeout() fails with EAGAIN */
    if (c->err == REDIS_ERR_IO
        && (strcmp(c->errstr, strerror(EAGAIN)) == 0
            || strcmp(c->errstr, strerror(EWOULDBLOCK)) == 0))
    {
        ctl_error("%s%s: no answer within %ld ms", kind, addr, ctl->timeout);
        return;
    }

    if (c->err == REDIS_ERR_EOF) {
        ctl_error("%s%s closed the connection", kind, addr);
        return;
    }

    ctl_error("%s%s: %s", kind, addr, c->errstr);
}


/* a reply (perhaps an error reply), or NULL after a message */

redisReply *
ctl_command(ctl_t *ctl, int argc, const char **argv, const size_t *argvlen)
{
    redisReply  *r;

    r = redisCommandArgv(ctl->redis, argc, argv, argvlen);
    if (r == NULL) {
        ctl_io_error(ctl);
    }

    return r;
}


/*
 * "cmd arg" or "cmd arg arg2" (arg2 NUL-terminated), arg mostly a key:
 * the reply, not an error reply, or NULL after a message
 */

redisReply *
ctl_key_command(ctl_t *ctl, const char *cmd, const char *arg, size_t len,
    const char *arg2)
{
    const char  *argv[3];
    size_t       argvlen[3];
    redisReply  *r;

    argv[0] = cmd;
    argvlen[0] = strlen(cmd);
    argv[1] = arg;
    argvlen[1] = len;
    argv[2] = arg2;
    argvlen[2] = arg2 ? strlen(arg2) : 0;

    r = ctl_command(ctl, arg2 ? 3 : 2, argv, argvlen);
    if (r == NULL) {
        return NULL;
    }

    if (ctl_reply_error(ctl, r, cmd) != 0) {
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


int
ctl_reply_error(ctl_t *ctl, const redisReply *r, const char *what)
{
    if (r->type != REDIS_REPLY_ERROR) {
        return 0;
    }

    ctl_error("redis at %s: %s: %.*s", ctl->addr, what, (int) r->len,
              r->str);

    return -1;
}


int
ctl_pipeline_send(ctl_t *ctl, int n, const ctl_cmd_t *cmds)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (redisAppendCommandArgv(ctl->redis, cmds[i].argc, cmds[i].argv,
                                   cmds[i].argvlen)
            != REDIS_OK)
        {
            ctl_io_error(ctl);
            return -1;
        }
    }

    return 0;
}


redisReply *
ctl_pipeline_reply(ctl_t *ctl)
{
    void  *r;

    if (redisGetReply(ctl->redis, &r) != REDIS_OK || r == NULL) {
        ctl_io_error(ctl);
        return NULL;
    }

    return r;
}


/*
 * MULTI, the commands, EXEC, sent at once.  Returns EXEC's array, every
 * element checked not to be an error; NULL after a message, or NULL
 * with *aborted set when a WATCHed key changed (nothing was done).
 */

redisReply *
ctl_transaction(ctl_t *ctl, int n, const ctl_cmd_t *cmds, int *aborted)
{
    int          i, failed;
    ctl_cmd_t    multi, exec;
    redisReply  *r, *e;

    static const char    *multi_argv[] = { "MULTI" };
    static const char    *exec_argv[] = { "EXEC" };
    static const size_t   multi_len[] = { 5 };
    static const size_t   exec_len[] = { 4 };

    *aborted = 0;

    multi.argc = 1;
    multi.argv = multi_argv;
    multi.argvlen = multi_len;
    exec.argc = 1;
    exec.argv = exec_argv;
    exec.argvlen = exec_len;

    if (ctl_pipeline_send(ctl, 1, &multi) != 0
        || ctl_pipeline_send(ctl, n, cmds) != 0
        || ctl_pipeline_send(ctl, 1, &exec) != 0)
    {
        return NULL;
    }

    /* MULTI's +OK and each +QUEUED: an error here makes EXEC abort */
    failed = 0;

    for (i = 0; i <= n; i++) {
        r = ctl_pipeline_reply(ctl);
        if (r == NULL) {
            return NULL;
        }

        if (r->type == REDIS_REPLY_ERROR && !failed) {
            failed = 1;
            ctl_reply_error(ctl, r, i ? cmds[i - 1].argv[0] : "MULTI");
        }

        freeReplyObject(r);
    }

    r = ctl_pipeline_reply(ctl);
    if (r == NULL) {
        return NULL;
    }

    if (r->type == REDIS_REPLY_NIL && !failed) {
        freeReplyObject(r);
        *aborted = 1;
        return NULL;
    }

    if (failed || ctl_reply_error(ctl, r, "EXEC") != 0) {
        freeReplyObject(r);
        return NULL;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t) n) {
        ctl_error("redis at %s: EXEC: unexpected reply", ctl->addr);
        freeReplyObject(r);
        return NULL;
    }

    for (i = 0; i < n; i++) {
        e = r->element[i];

        if (ctl_reply_error(ctl, e, cmds[i].argv[0]) != 0) {
            freeReplyObject(r);
            return NULL;
        }
    }

    return r;
}


/*
 * 0 when the key does not exist or holds a want; -1 after a message
 * otherwise, so that nothing is written next to a key that is not ours.
 */

int
ctl_key_type(ctl_t *ctl, const char *key, size_t len, const char *want)
{
    int          rc;
    redisReply  *r;

    r = ctl_key_command(ctl, "TYPE", key, len, NULL);
    if (r == NULL) {
        return -1;
    }

    rc = 0;

    if (r->type != REDIS_REPLY_STATUS) {
        ctl_error("redis at %s: TYPE: unexpected reply", ctl->addr);
        rc = -1;

    } else if (!(r->len == 4 && memcmp(r->str, "none", 4) == 0)
               && !(r->len == strlen(want) && memcmp(r->str, want, r->len)
                                              == 0))
    {
        ctl_error("\"%.*s\" is a %.*s, not a %s: not touched", (int) len,
                  key, (int) r->len, r->str, want);
        rc = -1;
    }

    freeReplyObject(r);

    return rc;
}


/*
 * The stream, oldest first, CTL_BATCH entries at a time: a long stream is
 * never held in memory at once.  An entry appended while the walk goes
 * on is seen if it lands before the walk reaches the end.
 */

int
ctl_stream_walk(ctl_t *ctl, const char *key, size_t len, ctl_entry_pt entry,
    ctl_batch_pt batch, void *data)
{
    int          rc, more;
    char         start[48];
    size_t       argvlen[6];
    const char  *argv[6];
    redisReply  *r;

    memcpy(start, "-", 2);

    do {
        ctl_xrange_argv("XRANGE", key, len, start, "+", CTL_STR(CTL_BATCH),
                        argv, argvlen);

        r = ctl_command(ctl, 6, argv, argvlen);
        if (r == NULL) {
            return -1;
        }

        rc = ctl_stream_entries(ctl, key, r, entry, data);

        if (rc == 0 && batch && batch(ctl, data) != 0) {
            rc = -1;
        }

        /* the next batch starts just after the last id seen */
        more = (rc == 0 && r->elements >= CTL_BATCH
                && ctl_next_id(r->element[r->elements - 1]->element[0],
                               start, sizeof(start))
                   == 0);

        freeReplyObject(r);

    } while (more);

    return rc;
}


/* each entry of a batch handed to entry: 0, or -1 after a message */

static int
ctl_stream_entries(ctl_t *ctl, const char *key, const redisReply *r,
    ctl_entry_pt entry, void *data)
{
    size_t       i, j;
    redisReply  *e, *f;

    if (r->type == REDIS_REPLY_ERROR) {
        ctl_error("redis at %s: XRANGE %s: %.*s", ctl->addr, key,
                  (int) r->len, r->str);
        return -1;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        goto unexpected;
    }

    for (i = 0; i < r->elements; i++) {
        e = r->element[i];

        if (!ctl_stream_entry(e)) {
            goto unexpected;
        }

        f = e->element[1];

        /* an entry deleted under a consumer group's feet: no fields */
        if (f->type == REDIS_REPLY_NIL) {
            continue;
        }

        if (f->type != REDIS_REPLY_ARRAY || f->elements % 2) {
            goto unexpected;
        }

        for (j = 0; j < f->elements; j++) {
            if (f->element[j]->type != REDIS_REPLY_STRING) {
                goto unexpected;
            }
        }

        if (entry(ctl, e->element[0], f, data) != 0) {
            return -1;
        }
    }

    return 0;

unexpected:

    ctl_error("redis at %s: XRANGE %s: unexpected reply", ctl->addr, key);

    return -1;
}


/* "cmd key from to COUNT count" (XRANGE, XREVRANGE): six arguments */

void
ctl_xrange_argv(const char *cmd, const char *key, size_t len,
    const char *from, const char *to, const char *count, const char **argv,
    size_t *argvlen)
{
    argv[0] = cmd;
    argvlen[0] = strlen(cmd);
    argv[1] = key;
    argvlen[1] = len;
    argv[2] = from;
    argvlen[2] = strlen(from);
    argv[3] = to;
    argvlen[3] = strlen(to);
    argv[4] = "COUNT";
    argvlen[4] = 5;
    argv[5] = count;
    argvlen[5] = strlen(count);
}


/* 1 when e is an entry of an XRANGE reply: [id, fields], id a string */

int
ctl_stream_entry(const redisReply *e)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2
           && e->element[0]->type == REDIS_REPLY_STRING;
}


/*
 * The milliseconds of a stream id "ms-seq" into *ms: its '-', or NULL
 * when it has none or ms is not a number
 */

const char *
ctl_id_ms(const redisReply *id, unsigned long long *ms)
{
    const char  *dash;

    dash = memchr(id->str, '-', id->len);

    if (dash == NULL || ctl_str_uint(id->str, dash - id->str, ~0ULL, ms) != 0)
    {
        return NULL;
    }

    return dash;
}


/* "ms-seq" + 1, without XRANGE's "(" that Redis before 6.2 lacks */

static int
ctl_next_id(const redisReply *id, char *buf, size_t size)
{
    const char          *dash;
    unsigned long long   ms, seq;

    dash = ctl_id_ms(id, &ms);

    if (dash == NULL
        || ctl_str_uint(dash + 1, id->len - (dash + 1 - id->str), ~0ULL,
                        &seq)
           != 0)
    {
        return -1;
    }

    if (seq == ~0ULL) {
        if (ms == ~0ULL) {
            return -1;
        }

        ms++;
        seq = 0;

    } else {
        seq++;
    }

    snprintf(buf, size, "%llu-%llu", ms, seq);

    return 0;
}


/* a decimal number of 20 digits at most, as the module reads one */

int
ctl_str_uint(const char *p, size_t len, unsigned long long max,
    unsigned long long *out)
{
    uint64_t  n;

    if (len > 20
        || consent_record_uint((const unsigned char *) p, len, max, &n) != 0)
    {
        return -1;
    }

    *out = n;

    return 0;
}


int
ctl_reply_uint(const redisReply *r, unsigned long long max,
    unsigned long long *out)
{
    if (r->type == REDIS_REPLY_INTEGER) {
        if (r->integer < 0 || (unsigned long long) r->integer > max) {
            return -1;
        }

        *out = (unsigned long long) r->integer;
        return 0;
    }

    if (r->type != REDIS_REPLY_STRING) {
        return -1;
    }

    return ctl_str_uint(r->str, r->len, max, out);
}


/* qsort() of string replies, bytewise */

int
ctl_reply_cmp(const void *a, const void *b)
{
    int                x;
    size_t             n;
    const redisReply  *ra, *rb;

    ra = *(const redisReply * const *) a;
    rb = *(const redisReply * const *) b;

    n = ra->len < rb->len ? ra->len : rb->len;
    x = memcmp(ra->str, rb->str, n);

    if (x) {
        return x;
    }

    return ra->len < rb->len ? -1 : ra->len > rb->len;
}


/* the keys of a SCAN reply: all strings */

static int
ctl_scan_keys(ctl_t *ctl, const redisReply *keys)
{
    size_t  i;

    for (i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type != REDIS_REPLY_STRING) {
            ctl_error("redis at %s: SCAN: unexpected reply", ctl->addr);
            return -1;
        }
    }

    return 0;
}


/*
 * Every record, by SCAN MATCH (never KEYS): batch gets each reply's keys
 * (strings checked); its non-zero return stops the walk.  0 or -1.
 */

int
ctl_scan_subjects(ctl_t *ctl, ctl_keys_pt batch, void *data)
{
    int          rc;
    char        *pattern, cursor[32];
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
    argv[5] = CTL_STR(CTL_BATCH);
    argvlen[5] = sizeof(CTL_STR(CTL_BATCH)) - 1;

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

        if (ctl_scan_keys(ctl, r->element[1]) != 0
            || batch(ctl, r->element[1], data) != 0)
        {
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
