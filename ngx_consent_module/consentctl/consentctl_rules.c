/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: vendors switched on and off at run time.  The module
 * compares the names in <prefix>rules:disabled with its vendors without
 * regard to case; this tool writes them lowercased, and when it switches
 * a vendor back on it removes every spelling of the name, so that a
 * "Meta" someone added with redis-cli does not keep "meta" off.
 */


#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "consentctl.h"


#define CTL_RULES_FILES             16
#define CTL_RULES_FILE_MAX          (64 * 1024 * 1024)


typedef struct {
    const char                *name;             /* first spelling seen */
    size_t                     len;
    unsigned                   rules;
    consent_mask_t             purposes;
    int                        disabled;
} ctl_vendor_t;


typedef struct {
    ctl_vendor_t              *elts;
    size_t                     n;
    size_t                     cap;
} ctl_vendors_t;


static int ctl_rules_list(ctl_t *ctl, int argc, char **argv);
static int ctl_rules_switch(ctl_t *ctl, int argc, char **argv, int off);
static char *ctl_read_file(const char *path, size_t *len);
static int ctl_rules_parse(ctl_t *ctl, const char *path, const char *buf,
    size_t len, ctl_vendors_t *vs);
static int ctl_vendor_add(ctl_vendors_t *vs, const consent_rule_t *rule);
static void ctl_rules_publish(const char **pub, size_t *pub_len,
    const char *inval, size_t ilen);
static int ctl_enable(ctl_t *ctl, const char *key, size_t klen,
    const char *inval, size_t ilen, const char *name, long long *removed,
    int *aborted);


int
ctl_rules(ctl_t *ctl, int argc, char **argv)
{
    if (argc == 0) {
        return ctl_usage_error("rules: list, enable or disable?");
    }

    if (strcmp(argv[0], "list") == 0) {
        return ctl_rules_list(ctl, argc - 1, argv + 1);
    }

    if (strcmp(argv[0], "enable") == 0) {
        return ctl_rules_switch(ctl, argc - 1, argv + 1, 0);
    }

    if (strcmp(argv[0], "disable") == 0) {
        return ctl_rules_switch(ctl, argc - 1, argv + 1, 1);
    }

    return ctl_usage_error("rules: unknown command \"%s\"", argv[0]);
}


static int
ctl_rules_list(ctl_t *ctl, int argc, char **argv)
{
    int             i, rc, nfiles, found;
    char           *key, *bufs[CTL_RULES_FILES];
    size_t          j, k, len, w, pw, n, nextra;
    redisReply     *r, *e, **extra;
    ctl_vendor_t   *v;
    ctl_vendors_t   vs;
    const char     *files[CTL_RULES_FILES];
    unsigned char   names[CONSENT_MAX_PURPOSES * (CONSENT_PURPOSE_NAME_MAX
                                                  + 1) + 1];

    /* --rules may be given again, as consent_rules may */
    nfiles = 0;

    for (i = 0; i < argc; i++) {
        if (nfiles == CTL_RULES_FILES) {
            return ctl_usage_error("rules list: at most %d --rules",
                                   CTL_RULES_FILES);
        }

        if (strncmp(argv[i], "--rules=", 8) == 0 && argv[i][8]) {
            files[nfiles++] = argv[i] + 8;

        } else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) {
            files[nfiles++] = argv[++i];

        } else if (strcmp(argv[i], "--rules") == 0) {
            return ctl_usage_error("rules list: --rules needs a file");

        } else {
            return ctl_usage_error("rules list: unexpected argument \"%s\"",
                                   argv[i]);
        }
    }

    if (nfiles == 0) {
        files[nfiles++] = CTL_DEFAULT_RULES;
    }

    memset(&vs, 0, sizeof(ctl_vendors_t));
    memset(bufs, 0, sizeof(bufs));
    key = NULL;
    r = NULL;
    extra = NULL;
    rc = CTL_ERROR;

    for (i = 0; i < nfiles; i++) {
        bufs[i] = ctl_read_file(files[i], &len);
        if (bufs[i] == NULL) {
            goto done;
        }

        if (ctl_rules_parse(ctl, files[i], bufs[i], len, &vs) != CTL_OK) {
            goto done;
        }
    }

    if (ctl_connect(ctl) != CTL_OK) {
        goto done;
    }

    key = ctl_key(ctl, "rules:disabled", NULL, &len);
    if (key == NULL) {
        goto done;
    }

    r = ctl_disabled_vendors(ctl, key, len);
    if (r == NULL) {
        goto done;
    }

    extra = malloc((r->elements + 1) * sizeof(redisReply *));
    if (extra == NULL) {
        ctl_error("out of memory");
        goto done;
    }

    nextra = 0;

    for (j = 0; j < r->elements; j++) {
        e = r->element[j];
        found = 0;

        for (k = 0; k < vs.n; k++) {
            if (vs.elts[k].len == e->len
                && strncasecmp(vs.elts[k].name, e->str, e->len) == 0)
            {
                vs.elts[k].disabled = 1;
                found = 1;
            }
        }

        if (!found) {
            extra[nextra++] = e;
        }
    }

    if (nextra > 1) {
        qsort(extra, nextra, sizeof(redisReply *), ctl_reply_cmp);
    }

    /* columns as wide as their longest value, for people and for awk */
    w = 1;
    pw = 1;

    for (k = 0; k < vs.n; k++) {
        v = &vs.elts[k];
        w = v->len > w ? v->len : w;
        n = consent_purposes_format(&ctl->purposes, v->purposes, NULL, 0);
        pw = n > pw ? n : pw;
    }

    for (j = 0; j < nextra; j++) {
        n = ctl_plain_len(extra[j]->str, extra[j]->len);
        w = n > w ? n : w;
    }

    w = w > 64 ? 64 : w;

    for (k = 0; k < vs.n; k++) {
        v = &vs.elts[k];
        n = consent_purposes_format(&ctl->purposes, v->purposes, names,
                                    sizeof(names) - 1);
        names[n] = '\0';

        printf("%-*.*s  %5u  %-*s  %s\n", (int) w, (int) v->len, v->name,
               v->rules, (int) pw, (char *) names,
               v->disabled ? "disabled" : "enabled");
    }

    /* switched off in Redis, but no rule of the files names it */
    for (j = 0; j < nextra; j++) {
        e = extra[j];
        n = ctl_plain_len(e->str, e->len);
        ctl_print_plain(e->str, e->len);
        printf("%*s  %5u  %-*s  %s\n", (int) (n < w ? w - n : 0), "", 0,
               (int) pw, "-", "disabled");
    }

    rc = CTL_OK;

done:

    for (i = 0; i < nfiles; i++) {
        free(bufs[i]);
    }

    free(vs.elts);
    free(key);
    free(extra);

    if (r) {
        freeReplyObject(r);
    }

    return rc;
}


static char *
ctl_read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf, *nb;
    size_t   n, cap;

    f = fopen(path, "r");
    if (f == NULL) {
        ctl_error("cannot open rules file \"%s\": %s%s", path,
                  strerror(errno),
                  strcmp(path, CTL_DEFAULT_RULES) == 0
                  ? " (name the files nginx loads with --rules)" : "");
        return NULL;
    }

    cap = 64 * 1024;
    n = 0;

    buf = malloc(cap);
    if (buf == NULL) {
        ctl_error("out of memory");
        fclose(f);
        return NULL;
    }

    for ( ;; ) {
        n += fread(buf + n, 1, cap - n, f);

        if (ferror(f)) {
            ctl_error("cannot read rules file \"%s\": %s", path,
                      strerror(errno));
            goto failed;
        }

        if (n < cap) {
            break;
        }

        if (cap >= CTL_RULES_FILE_MAX) {
            ctl_error("rules file \"%s\" is over %d bytes", path,
                      CTL_RULES_FILE_MAX);
            goto failed;
        }

        nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            ctl_error("out of memory");
            goto failed;
        }

        buf = nb;
        cap *= 2;
    }

    fclose(f);
    *len = n;

    return buf;

failed:

    fclose(f);
    free(buf);

    return NULL;
}


/* each line as the module reads it, with the core's parser */

static int
ctl_rules_parse(ctl_t *ctl, const char *path, const char *buf, size_t len,
    ctl_vendors_t *vs)
{
    int              rc;
    const char      *p, *end, *nl, *err;
    unsigned long    line;
    consent_rule_t   rule;

    p = buf;
    end = buf + len;
    line = 0;

    while (p < end) {
        line++;

        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            nl = end;
        }

        err = NULL;
        rc = consent_rule_parse((const unsigned char *) p, nl - p,
                                &ctl->purposes, &rule, &err);

        if (rc < 0) {
            ctl_error("%s:%lu: %s%s", path, line, err ? err : "invalid rule",
                      err && strcmp(err, "unknown purpose") == 0
                      ? " (add it with --purposes)" : "");
            return CTL_ERROR;
        }

        if (rc == 1 && ctl_vendor_add(vs, &rule) != 0) {
            ctl_error("out of memory");
            return CTL_ERROR;
        }

        p = nl + 1;
    }

    return CTL_OK;
}


static int
ctl_vendor_add(ctl_vendors_t *vs, const consent_rule_t *rule)
{
    size_t         i, cap;
    ctl_vendor_t  *v;

    /* one entry per name in any case: the module switches them as one */
    for (i = 0; i < vs->n; i++) {
        v = &vs->elts[i];

        if (v->len == rule->vendor_len
            && strncasecmp(v->name, (const char *) rule->vendor, v->len)
               == 0)
        {
            v->rules++;
            v->purposes |= CONSENT_BIT(rule->purpose);
            return 0;
        }
    }

    if (vs->n == vs->cap) {
        cap = vs->cap ? vs->cap * 2 : 64;

        v = realloc(vs->elts, cap * sizeof(ctl_vendor_t));
        if (v == NULL) {
            return -1;
        }

        vs->elts = v;
        vs->cap = cap;
    }

    v = &vs->elts[vs->n++];
    v->name = (const char *) rule->vendor;
    v->len = rule->vendor_len;
    v->rules = 1;
    v->purposes = CONSENT_BIT(rule->purpose);
    v->disabled = 0;

    return 0;
}


/* SMEMBERS of rules:disabled: an array of strings, or NULL after a message */

redisReply *
ctl_disabled_vendors(ctl_t *ctl, const char *key, size_t len)
{
    size_t       i;
    const char  *argv[2];
    size_t       argvlen[2];
    redisReply  *r;

    argv[0] = "SMEMBERS";
    argvlen[0] = 8;
    argv[1] = key;
    argvlen[1] = len;

    r = ctl_command(ctl, 2, argv, argvlen);
    if (r == NULL) {
        return NULL;
    }

    if (ctl_reply_error(ctl, r, "SMEMBERS") != 0) {
        freeReplyObject(r);
        return NULL;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        goto unexpected;
    }

    for (i = 0; i < r->elements; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING) {
            goto unexpected;
        }
    }

    return r;

unexpected:

    ctl_error("redis at %s: SMEMBERS %s: unexpected reply", ctl->addr, key);
    freeReplyObject(r);

    return NULL;
}



static int
ctl_rules_switch(ctl_t *ctl, int argc, char **argv, int off)
{
    int           rc, tries, aborted;
    char         *pos[1], *key, *inval, name[CONSENT_VENDOR_MAX + 1];
    size_t        i, klen, ilen, argvlen[3];
    ctl_cmd_t     cmds[2];
    long long     changed;
    redisReply   *r;
    const char   *sadd[3], *pub[3];
    size_t        pub_len[3];

    rc = ctl_args(off ? "rules disable VENDOR" : "rules enable VENDOR",
                  argc, argv, NULL, pos, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    /* the rules files' vendor names: the module knows no others */
    for (i = 0; pos[0][i]; i++) {
        if (i == CONSENT_VENDOR_MAX
            || !((pos[0][i] >= 'a' && pos[0][i] <= 'z')
                 || (pos[0][i] >= 'A' && pos[0][i] <= 'Z')
                 || (pos[0][i] >= '0' && pos[0][i] <= '9')
                 || pos[0][i] == '.' || pos[0][i] == '_'
                 || pos[0][i] == '-'))
        {
            return ctl_arg_error("invalid vendor name \"%s\" (1 to %d "
                                 "of [A-Za-z0-9._-])", pos[0],
                                 CONSENT_VENDOR_MAX);
        }

        name[i] = (pos[0][i] >= 'A' && pos[0][i] <= 'Z')
                  ? pos[0][i] - 'A' + 'a' : pos[0][i];
    }

    if (i == 0) {
        return ctl_arg_error("empty vendor name");
    }

    name[i] = '\0';

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    rc = CTL_ERROR;
    changed = 0;
    aborted = 0;

    key = ctl_key(ctl, "rules:disabled", NULL, &klen);
    inval = ctl_key(ctl, "inval", NULL, &ilen);

    if (key == NULL || inval == NULL) {
        goto done;
    }

    if (!off) {
        for (tries = 0; tries < CTL_WATCH_TRIES; tries++) {
            rc = ctl_enable(ctl, key, klen, inval, ilen, name, &changed,
                            &aborted);
            if (rc == CTL_OK || !aborted) {
                break;
            }
        }

        if (rc != CTL_OK && aborted) {
            ctl_error("%s kept changing, %d tries; nothing changed", key,
                      CTL_WATCH_TRIES);
        }

        goto done;
    }

    if (ctl_key_type(ctl, key, klen, "set") != 0) {
        goto done;
    }

    sadd[0] = "SADD";
    argvlen[0] = 4;
    sadd[1] = key;
    argvlen[1] = klen;
    sadd[2] = name;
    argvlen[2] = strlen(name);

    ctl_rules_publish(pub, pub_len, inval, ilen);

    cmds[0].argc = 3;
    cmds[0].argv = sadd;
    cmds[0].argvlen = argvlen;
    cmds[1].argc = 3;
    cmds[1].argv = pub;
    cmds[1].argvlen = pub_len;

    r = ctl_transaction(ctl, 2, cmds, &aborted);
    if (r == NULL) {
        goto done;
    }

    if (r->element[0]->type == REDIS_REPLY_INTEGER) {
        changed = r->element[0]->integer;
    }

    freeReplyObject(r);
    rc = CTL_OK;

done:

    if (rc == CTL_OK) {
        printf("%s: %s\n", name,
               off ? (changed ? "disabled" : "already disabled")
                   : (changed ? "enabled" : "was not disabled"));
    }

    free(key);
    free(inval);

    return rc;
}


/* SREM of every spelling of the name, under WATCH of the set */

static int
ctl_enable(ctl_t *ctl, const char *key, size_t klen, const char *inval,
    size_t ilen, const char *name, long long *removed, int *aborted)
{
    int           n, rc;
    size_t        i, len;
    ctl_cmd_t     cmds[2];
    redisReply   *m, *r, *e;
    const char  **srem, *pub[3];
    size_t       *srem_len, pub_len[3];

    *aborted = 0;
    len = strlen(name);

    if (ctl_watch(ctl, key, klen) != 0) {
        return CTL_ERROR;
    }

    m = ctl_disabled_vendors(ctl, key, klen);
    if (m == NULL) {
        return CTL_ERROR;
    }

    srem = malloc((m->elements + 2) * sizeof(const char *));
    srem_len = malloc((m->elements + 2) * sizeof(size_t));

    if (srem == NULL || srem_len == NULL) {
        ctl_error("out of memory");
        rc = CTL_ERROR;
        goto done;
    }

    srem[0] = "SREM";
    srem_len[0] = 4;
    srem[1] = key;
    srem_len[1] = klen;
    n = 2;

    for (i = 0; i < m->elements; i++) {
        e = m->element[i];

        if (e->len == len && strncasecmp(e->str, name, len) == 0) {
            srem[n] = e->str;
            srem_len[n++] = e->len;
        }
    }

    ctl_rules_publish(pub, pub_len, inval, ilen);

    i = 0;

    if (n > 2) {
        cmds[i].argc = n;
        cmds[i].argv = srem;
        cmds[i++].argvlen = srem_len;
    }

    cmds[i].argc = 3;
    cmds[i].argv = pub;
    cmds[i++].argvlen = pub_len;

    r = ctl_transaction(ctl, (int) i, cmds, aborted);
    if (r == NULL) {
        rc = CTL_ERROR;
        goto done;
    }

    *removed = (n > 2 && r->element[0]->type == REDIS_REPLY_INTEGER)
               ? r->element[0]->integer : 0;

    freeReplyObject(r);
    rc = CTL_OK;

done:

    free(srem);
    free(srem_len);
    freeReplyObject(m);

    return rc;
}


/* PUBLISH <prefix>inval *rules: every worker of every node rereads the set */

static void
ctl_rules_publish(const char **pub, size_t *pub_len, const char *inval,
    size_t ilen)
{
    pub[0] = "PUBLISH";
    pub_len[0] = 7;
    pub[1] = inval;
    pub_len[1] = ilen;
    pub[2] = "*rules";
    pub_len[2] = 6;
}
