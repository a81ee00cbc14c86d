/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: vendors switched on and off at run time.  The module
 * compares the names in <prefix>rules:disabled with its vendors without
 * regard to case.  This tool only switches vendors its rules files name
 * (a typo would otherwise be "disabled" and change nothing), matches
 * them in any case and stores the files' spelling; when it switches a
 * vendor back on it removes every spelling of the name, so that a
 * "meta" someone added with redis-cli does not keep "Meta" off.
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

    /* the rules files read, and their contents the names point into */
    const char                *files[CTL_RULES_FILES];
    char                      *bufs[CTL_RULES_FILES];
    int                        nfiles;
} ctl_vendors_t;


/* one switch of a vendor: the set, the channel, and the name */
typedef struct {
    char                      *key;
    char                      *inval;
    size_t                     klen;
    size_t                     ilen;
    const char                *name;
    size_t                     len;
    int                        off;
    int                        known;            /* in the rules, or forced */
} ctl_switch_t;


static int ctl_rules_list(ctl_t *ctl, int argc, char **argv);
static int ctl_rules_switch(ctl_t *ctl, int argc, char **argv, int off);
static int ctl_vendors_load(ctl_t *ctl, ctl_vendors_t *vs);
static void ctl_vendors_free(ctl_vendors_t *vs);
static char *ctl_read_file(const char *path, size_t *len);
static int ctl_rules_parse(ctl_t *ctl, const char *path, const char *buf,
    size_t len, ctl_vendors_t *vs);
static ctl_vendor_t *ctl_vendor_find(ctl_vendors_t *vs, const char *name,
    size_t len);
static int ctl_vendor_add(ctl_vendors_t *vs, const consent_rule_t *rule);
static int ctl_vendor_unknown(ctl_vendors_t *vs, const char *name);
static int ctl_vendor_like(const char *a, size_t alen, const char *b,
    size_t blen);
static int ctl_switch(ctl_t *ctl, ctl_switch_t *sw, long long *changed,
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
    int             rc, found;
    char           *key;
    size_t          j, k, len, w, pw, n, nextra;
    ctl_opt_t       opts[2];
    redisReply     *r, *e, **extra;
    ctl_vendor_t   *v;
    ctl_vendors_t   vs;
    unsigned char   names[CONSENT_MAX_PURPOSES * (CONSENT_PURPOSE_NAME_MAX
                                                  + 1) + 1];

    memset(&vs, 0, sizeof(ctl_vendors_t));

    /* --rules may be given again, as consent_rules may */
    memset(opts, 0, sizeof(opts));
    opts[0].name = "--rules";
    opts[0].value = vs.files;
    opts[0].count = &vs.nfiles;
    opts[0].max = CTL_RULES_FILES;

    rc = ctl_args("rules list", argc, argv, opts, NULL, 0);
    if (rc != CTL_OK) {
        return rc;
    }

    key = NULL;
    r = NULL;
    extra = NULL;
    rc = CTL_ERROR;

    if (ctl_vendors_load(ctl, &vs) != CTL_OK) {
        goto done;
    }

    if (ctl_connect(ctl) != CTL_OK) {
        goto done;
    }

    key = ctl_key(ctl, CONSENT_REDIS_RULES_DISABLED, NULL, &len);
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

    ctl_vendors_free(&vs);
    free(key);
    free(extra);

    if (r) {
        freeReplyObject(r);
    }

    return rc;
}


/* the vendors of the rules files named, or of the default file */

static int
ctl_vendors_load(ctl_t *ctl, ctl_vendors_t *vs)
{
    int     i;
    size_t  len;

    if (vs->nfiles == 0) {
        vs->files[vs->nfiles++] = CTL_DEFAULT_RULES;
    }

    for (i = 0; i < vs->nfiles; i++) {
        vs->bufs[i] = ctl_read_file(vs->files[i], &len);
        if (vs->bufs[i] == NULL) {
            return CTL_ERROR;
        }

        if (ctl_rules_parse(ctl, vs->files[i], vs->bufs[i], len, vs)
            != CTL_OK)
        {
            return CTL_ERROR;
        }
    }

    return CTL_OK;
}


static void
ctl_vendors_free(ctl_vendors_t *vs)
{
    int  i;

    for (i = 0; i < vs->nfiles; i++) {
        free(vs->bufs[i]);
        vs->bufs[i] = NULL;
    }

    free(vs->elts);
    vs->elts = NULL;
    vs->n = 0;
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
    const char      *p, *end, *nl;
    unsigned long    line;
    consent_err_t    err;
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

        rc = consent_rule_parse((const unsigned char *) p, nl - p,
                                &ctl->purposes, &rule, &err);

        if (rc < 0) {
            ctl_error("%s:%lu: %s%s", path, line, err.msg,
                      err.code == CONSENT_RULE_E_UNKNOWN_PURPOSE
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


/* one entry per name in any case: the module switches them as one */

static ctl_vendor_t *
ctl_vendor_find(ctl_vendors_t *vs, const char *name, size_t len)
{
    size_t         i;
    ctl_vendor_t  *v;

    for (i = 0; i < vs->n; i++) {
        v = &vs->elts[i];

        if (v->len == len && strncasecmp(v->name, name, len) == 0) {
            return v;
        }
    }

    return NULL;
}


static int
ctl_vendor_add(ctl_vendors_t *vs, const consent_rule_t *rule)
{
    size_t         cap;
    ctl_vendor_t  *v;

    v = ctl_vendor_find(vs, (const char *) rule->vendor, rule->vendor_len);

    if (v) {
        v->rules++;
        v->purposes |= CONSENT_BIT(rule->purpose);
        return 0;
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
    int              n;
    size_t           i;
    const char      *argv[CONSENT_SMEMBERS_ARGS];
    size_t           argvlen[CONSENT_SMEMBERS_ARGS];
    redisReply      *r;
    consent_span_t   k;

    k.data = (const unsigned char *) key;
    k.len = len;
    n = consent_rules_disabled_argv(&k, argv, argvlen);

    r = ctl_command(ctl, n, argv, argvlen);
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
    int             rc, tries, aborted, force;
    char           *pos[1];
    size_t          i;
    long long       changed;
    ctl_opt_t       opts[3];
    const char     *cmd;
    ctl_vendor_t   *v;
    ctl_switch_t    sw;
    ctl_vendors_t   vs;

    memset(&vs, 0, sizeof(ctl_vendors_t));
    memset(&sw, 0, sizeof(ctl_switch_t));
    force = 0;

    memset(opts, 0, sizeof(opts));
    opts[0].name = "--rules";
    opts[0].value = vs.files;
    opts[0].count = &vs.nfiles;
    opts[0].max = CTL_RULES_FILES;
    opts[1].name = "--force";
    opts[1].flag = &force;

    cmd = off ? "rules disable VENDOR" : "rules enable VENDOR";

    rc = ctl_args(cmd, argc, argv, opts, pos, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    if (force && vs.nfiles) {
        return ctl_usage_error("%s: --force reads no rules files, "
                               "give --rules or --force", cmd);
    }

    /* what the module accepts as a vendor name in a rule */
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
    }

    if (i == 0) {
        return ctl_arg_error("empty vendor name");
    }

    sw.name = pos[0];
    sw.len = i;
    sw.off = off;
    sw.known = force;
    rc = CTL_ERROR;

    if (!force) {
        if (ctl_vendors_load(ctl, &vs) != CTL_OK) {
            goto done;
        }

        v = ctl_vendor_find(&vs, sw.name, sw.len);

        if (v) {
            /* stored as the rules spell it */
            sw.name = v->name;
            sw.known = 1;

        } else if (off) {
            /* before connecting: a typo changes nothing anywhere */
            rc = ctl_vendor_unknown(&vs, pos[0]);
            goto done;
        }
    }

    if (ctl_connect(ctl) != CTL_OK) {
        goto done;
    }

    changed = 0;
    aborted = 0;

    sw.key = ctl_key(ctl, CONSENT_REDIS_RULES_DISABLED, NULL, &sw.klen);
    sw.inval = ctl_key(ctl, CONSENT_REDIS_INVAL, NULL, &sw.ilen);

    if (sw.key == NULL || sw.inval == NULL) {
        goto done;
    }

    for (tries = 0; tries < CTL_WATCH_TRIES; tries++) {
        rc = ctl_switch(ctl, &sw, &changed, &aborted);
        if (rc == CTL_OK || !aborted) {
            break;
        }
    }

    if (rc == CTL_OK) {
        printf("%.*s: %s%s\n", (int) sw.len, sw.name,
               off ? (changed ? "disabled" : "already disabled")
                   : (changed ? "enabled" : "was not disabled"),
               sw.known ? "" : " (no rule of the rules files names it)");

    } else if (rc == CTL_ERROR && aborted) {
        ctl_error("%s kept changing, %d tries; nothing changed", sw.key,
                  CTL_WATCH_TRIES);

    } else if (rc == CTL_USAGE) {
        rc = ctl_vendor_unknown(&vs, pos[0]);
    }

done:

    ctl_vendors_free(&vs);
    free(sw.key);
    free(sw.inval);

    return rc;
}


/*
 * A name no rules file names: refused, with the vendor the operator
 * probably meant when one differs only in case or in '-', '_' and '.'
 * ("google-analytics" for Google_Analytics).  CTL_USAGE.
 */

static int
ctl_vendor_unknown(ctl_vendors_t *vs, const char *name)
{
    size_t         i, len;
    const char    *in;
    ctl_vendor_t  *v;

    len = strlen(name);
    in = vs->nfiles == 1 ? vs->files[0] : "the rules files";

    for (i = 0; i < vs->n; i++) {
        v = &vs->elts[i];

        if (ctl_vendor_like(v->name, v->len, name, len)) {
            return ctl_arg_error("unknown vendor \"%s\" in %s: did you "
                                 "mean \"%.*s\"?", name, in, (int) v->len,
                                 v->name);
        }
    }

    return ctl_arg_error("unknown vendor \"%s\": no rule of %s names it "
                         "(\"rules list\" shows the vendors; name the "
                         "files nginx loads with --rules, or use --force "
                         "for a vendor of consent_rule)", name, in);
}


/* equal but for case and the separators '-', '_' and '.' */

static int
ctl_vendor_like(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i, j;
    int     ca, cb;

    i = 0;
    j = 0;

    for ( ;; ) {
        while (i < alen && (a[i] == '-' || a[i] == '_' || a[i] == '.')) {
            i++;
        }

        while (j < blen && (b[j] == '-' || b[j] == '_' || b[j] == '.')) {
            j++;
        }

        if (i == alen || j == blen) {
            return i == alen && j == blen;
        }

        ca = (a[i] >= 'A' && a[i] <= 'Z') ? a[i] - 'A' + 'a' : a[i];
        cb = (b[j] >= 'A' && b[j] <= 'Z') ? b[j] - 'A' + 'a' : b[j];

        if (ca != cb) {
            return 0;
        }

        i++;
        j++;
    }
}


/*
 * One try of a switch under WATCH of the set: every spelling of the name
 * it holds is found first.  Off: SADD of the name unless some spelling
 * is there.  On: SREM of every spelling; a name that neither the rules
 * nor the set know is CTL_USAGE, nothing sent.  Either way PUBLISH
 * *rules, so running it again makes every worker read the set again.
 */

static int
ctl_switch(ctl_t *ctl, ctl_switch_t *sw, long long *changed, int *aborted)
{
    int              n, rc;
    size_t           i;
    ctl_cmd_t        cmds[2];
    redisReply      *m, *r, *e;
    const char     **srem, *pub[CONSENT_PUBLISH_ARGS];
    size_t          *srem_len, pub_len[CONSENT_PUBLISH_ARGS];
    consent_span_t   inval;

    *aborted = 0;
    *changed = 0;

    if (ctl_watch(ctl, sw->key, sw->klen) != 0
        || ctl_key_type(ctl, sw->key, sw->klen, "set") != 0)
    {
        return CTL_ERROR;
    }

    m = ctl_disabled_vendors(ctl, sw->key, sw->klen);
    if (m == NULL) {
        return CTL_ERROR;
    }

    /* SREM key spellings..., or SADD key name */
    srem = malloc((m->elements + 3) * sizeof(const char *));
    srem_len = malloc((m->elements + 3) * sizeof(size_t));

    if (srem == NULL || srem_len == NULL) {
        ctl_error("out of memory");
        rc = CTL_ERROR;
        goto done;
    }

    srem[1] = sw->key;
    srem_len[1] = sw->klen;
    n = 2;

    for (i = 0; i < m->elements; i++) {
        e = m->element[i];

        if (e->len == sw->len && strncasecmp(e->str, sw->name, sw->len) == 0)
        {
            srem[n] = e->str;
            srem_len[n++] = e->len;
        }
    }

    if (!sw->off && n == 2 && !sw->known) {
        rc = CTL_USAGE;
        goto done;
    }

    i = 0;

    if (sw->off && n == 2) {
        srem[0] = "SADD";
        srem_len[0] = 4;
        srem[n] = sw->name;
        srem_len[n++] = sw->len;

        cmds[i].argc = n;
        cmds[i].argv = srem;
        cmds[i++].argvlen = srem_len;

    } else if (!sw->off && n > 2) {
        srem[0] = "SREM";
        srem_len[0] = 4;

        cmds[i].argc = n;
        cmds[i].argv = srem;
        cmds[i++].argvlen = srem_len;
    }

    /* every worker of every node rereads the set */
    inval.data = (const unsigned char *) sw->inval;
    inval.len = sw->ilen;

    cmds[i].argc = consent_inval_rules_argv(&inval, pub, pub_len);
    cmds[i].argv = pub;
    cmds[i++].argvlen = pub_len;

    r = ctl_transaction(ctl, (int) i, cmds, aborted);
    if (r == NULL) {
        rc = CTL_ERROR;
        goto done;
    }

    *changed = (i == 2 && r->element[0]->type == REDIS_REPLY_INTEGER)
               ? r->element[0]->integer : 0;

    freeReplyObject(r);
    rc = CTL_OK;

done:

    free(srem);
    free(srem_len);
    freeReplyObject(m);

    return rc;
}
