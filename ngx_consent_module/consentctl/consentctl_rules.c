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
#include "consentctl_ocd.h"


typedef struct {
    const char                *name;             /* first spelling seen */
    size_t                     len;
    unsigned                   rules;
    consent_mask_t             purposes;
    int                        disabled;
    int                        has_meta;
    consent_vendor_meta_t      meta;             /* the last @vendor line */
} ctl_vendor_t;


typedef struct {
    ctl_vendor_t              *elts;
    size_t                     n;
    size_t                     cap;

    /* the rules files read, and their contents the names point into */
    const char                *files[CTL_RULES_FILES];
    char                      *bufs[CTL_RULES_FILES];
    int                        nfiles;
    int                        details;          /* rules list --details */
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
static int ctl_rules_enable(ctl_t *ctl, int argc, char **argv);
static int ctl_rules_disable(ctl_t *ctl, int argc, char **argv);
static int ctl_rules_switch(ctl_t *ctl, int argc, char **argv, int off);
static void ctl_rules_opt(ctl_opt_t *opt, ctl_vendors_t *vs);
static size_t ctl_vendors_mark(ctl_vendors_t *vs, const redisReply *r,
    redisReply **extra);
static void ctl_vendors_print(ctl_t *ctl, const ctl_vendors_t *vs,
    redisReply **extra, size_t nextra);
static int ctl_vendor_name(const char *name, size_t *len);
static int ctl_vendor_known(ctl_t *ctl, ctl_vendors_t *vs, ctl_switch_t *sw);
static int ctl_switch_tries(ctl_t *ctl, ctl_switch_t *sw,
    ctl_vendors_t *vs);
static int ctl_vendors_load(ctl_t *ctl, ctl_vendors_t *vs);
static void ctl_vendors_free(ctl_vendors_t *vs);
static int ctl_rules_parse(ctl_t *ctl, const char *path, const char *buf,
    size_t len, ctl_vendors_t *vs);
static int ctl_vendor_eq(const char *a, size_t alen, const char *b,
    size_t blen);
static ctl_vendor_t *ctl_vendor_find(ctl_vendors_t *vs, const char *name,
    size_t len);
static ctl_vendor_t *ctl_vendor_get(ctl_vendors_t *vs, const char *name,
    size_t len);
static int ctl_rules_line(ctl_t *ctl, const char *p, size_t len,
    ctl_vendors_t *vs, consent_err_t *err);
static void ctl_vendor_details(const ctl_vendor_t *v);
static int ctl_vendor_unknown(ctl_vendors_t *vs, const char *name);
static int ctl_vendor_like(const char *a, size_t alen, const char *b,
    size_t blen);
static int ctl_switch(ctl_t *ctl, ctl_switch_t *sw, long long *changed,
    int *aborted);
static int ctl_switch_spellings(const ctl_switch_t *sw, const redisReply *m,
    const char **argv, size_t *argvlen);
static int ctl_switch_change(const ctl_switch_t *sw, int n,
    const char **argv, size_t *argvlen, ctl_cmd_t *cmd);


static const ctl_handler_t  ctl_rules_commands[] = {
    { "list",       ctl_rules_list },
    { "enable",     ctl_rules_enable },
    { "disable",    ctl_rules_disable },
    { "import-ocd", ctl_rules_import_ocd },
    { NULL,         NULL }
};


int
ctl_rules(ctl_t *ctl, int argc, char **argv)
{
    return ctl_run(ctl, "rules: ", "list, enable, disable or import-ocd?",
                   ctl_rules_commands, argc, argv);
}


static int
ctl_rules_list(ctl_t *ctl, int argc, char **argv)
{
    int             rc;
    char           *key;
    size_t          len, nextra;
    ctl_opt_t       opts[3];
    redisReply     *r, **extra;
    ctl_vendors_t   vs;

    memset(&vs, 0, sizeof(ctl_vendors_t));

    memset(opts, 0, sizeof(opts));
    ctl_rules_opt(&opts[0], &vs);
    opts[1].name = "--details";
    opts[1].flag = &vs.details;

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

    nextra = ctl_vendors_mark(&vs, r, extra);

    ctl_vendors_print(ctl, &vs, extra, nextra);

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


/* --rules FILE, which may be given again, as consent_rules may */

static void
ctl_rules_opt(ctl_opt_t *opt, ctl_vendors_t *vs)
{
    opt->name = "--rules";
    opt->value = vs->files;
    opt->count = &vs->nfiles;
    opt->max = CTL_RULES_FILES;
}


/*
 * The vendors the set of disabled ones names marked; the names of the set
 * no vendor has, sorted, into extra: their number.
 */

static size_t
ctl_vendors_mark(ctl_vendors_t *vs, const redisReply *r, redisReply **extra)
{
    size_t         j, nextra;
    redisReply    *e;
    ctl_vendor_t  *v;

    nextra = 0;

    for (j = 0; j < r->elements; j++) {
        e = r->element[j];
        v = ctl_vendor_find(vs, e->str, e->len);

        if (v) {
            v->disabled = 1;

        } else {
            extra[nextra++] = e;
        }
    }

    if (nextra > 1) {
        qsort(extra, nextra, sizeof(redisReply *), ctl_reply_cmp);
    }

    return nextra;
}


/* its rules' purposes, or for a vendor without rules what it declares */
#define ctl_vendor_purposes(v)                                              \
    ((v)->rules ? (v)->purposes : (v)->meta.purposes)


/* a line a vendor: name, rules, purposes, switched on or off */

static void
ctl_vendors_print(ctl_t *ctl, const ctl_vendors_t *vs, redisReply **extra,
    size_t nextra)
{
    size_t               j, k, w, pw, n;
    redisReply          *e;
    const ctl_vendor_t  *v;
    unsigned char        names[CONSENT_MAX_PURPOSES
                               * (CONSENT_PURPOSE_NAME_MAX + 1) + 1];

    /* columns as wide as their longest value, for people and for awk */
    w = 1;
    pw = 1;

    for (k = 0; k < vs->n; k++) {
        v = &vs->elts[k];
        w = v->len > w ? v->len : w;
        n = consent_purposes_format(&ctl->purposes, ctl_vendor_purposes(v),
                                    NULL, 0);
        pw = n > pw ? n : pw;
    }

    for (j = 0; j < nextra; j++) {
        n = ctl_plain_len(extra[j]->str, extra[j]->len);
        w = n > w ? n : w;
    }

    w = w > 64 ? 64 : w;

    for (k = 0; k < vs->n; k++) {
        v = &vs->elts[k];
        n = consent_purposes_format(&ctl->purposes, ctl_vendor_purposes(v),
                                    names, sizeof(names) - 1);
        names[n] = '\0';

        printf("%-*.*s  %5u  %-*s  %s\n", (int) w, (int) v->len, v->name,
               v->rules, (int) pw, (char *) names,
               v->disabled ? "disabled" : "enabled");

        if (vs->details && v->has_meta) {
            ctl_vendor_details(v);
        }
    }

    /* switched off in Redis, but no rule of the files names it */
    for (j = 0; j < nextra; j++) {
        e = extra[j];
        n = ctl_plain_len(e->str, e->len);
        ctl_print_plain(e->str, e->len);
        printf("%*s  %5u  %-*s  %s\n", (int) (n < w ? w - n : 0), "", 0,
               (int) pw, "-", "disabled");
    }
}


/* the vendors of the rules files named, or of the default file */

static int
ctl_vendors_load(ctl_t *ctl, ctl_vendors_t *vs)
{
    int     i;
    size_t  len;

    ctl_rules_files_default(vs->files, &vs->nfiles);

    for (i = 0; i < vs->nfiles; i++) {
        vs->bufs[i] = ctl_read_rules_file(vs->files[i], &len);
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


/* each line as the module reads it, with the core's parser */

static int
ctl_rules_parse(ctl_t *ctl, const char *path, const char *buf, size_t len,
    ctl_vendors_t *vs)
{
    const char      *p, *end, *nl;
    unsigned long    line;
    consent_err_t    err;

    p = buf;
    end = buf + len;
    line = 0;

    while (p < end) {
        line++;

        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            nl = end;
        }

        if (ctl_rules_line(ctl, p, nl - p, vs, &err) != 0) {
            if (err.code == 0) {
                ctl_error("out of memory");
                return CTL_ERROR;
            }

            ctl_error("%s:%lu: %s%s", path, line, err.msg,
                      err.code == CONSENT_RULE_E_UNKNOWN_PURPOSE
                      ? " (add it with --purposes)" : "");
            return CTL_ERROR;
        }

        p = nl + 1;
    }

    return CTL_OK;
}


/* a rule counts for its vendor, a "@vendor" line gives its metadata */

static int
ctl_rules_line(ctl_t *ctl, const char *p, size_t len, ctl_vendors_t *vs,
    consent_err_t *err)
{
    int                     rc;
    ctl_vendor_t           *v;
    consent_rule_t          rule;
    consent_vendor_meta_t   meta;

    rc = consent_rule_parse((const unsigned char *) p, len, &ctl->purposes,
                            &rule, err);

    if (rc == CONSENT_LINE_BLANK || rc < 0) {
        return rc;
    }

    if (rc == CONSENT_LINE_VENDOR) {
        if (consent_vendor_parse((const unsigned char *) p, len,
                                 &ctl->purposes, &meta, err)
            != 1)
        {
            return -1;
        }

        err->code = 0;

        v = ctl_vendor_get(vs, (const char *) meta.id.data, meta.id.len);
        if (v == NULL) {
            return -1;
        }

        v->meta = meta;
        v->has_meta = 1;

        return 0;
    }

    err->code = 0;

    v = ctl_vendor_get(vs, (const char *) rule.vendor, rule.vendor_len);
    if (v == NULL) {
        return -1;
    }

    v->rules++;
    v->purposes |= CONSENT_BIT(rule.purpose);

    return 0;
}


/* one vendor, as the module compares names: without regard to case */

static int
ctl_vendor_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && strncasecmp(a, b, alen) == 0;
}


/* one entry per name in any case: the module switches them as one */

static ctl_vendor_t *
ctl_vendor_find(ctl_vendors_t *vs, const char *name, size_t len)
{
    size_t         i;
    ctl_vendor_t  *v;

    for (i = 0; i < vs->n; i++) {
        v = &vs->elts[i];

        if (ctl_vendor_eq(v->name, v->len, name, len)) {
            return v;
        }
    }

    return NULL;
}


/* the vendor of that name, added (with nothing counted) if new */

static ctl_vendor_t *
ctl_vendor_get(ctl_vendors_t *vs, const char *name, size_t len)
{
    size_t         cap;
    ctl_vendor_t  *v;

    v = ctl_vendor_find(vs, name, len);

    if (v) {
        return v;
    }

    if (vs->n == vs->cap) {
        cap = vs->cap ? vs->cap * 2 : 64;

        v = realloc(vs->elts, cap * sizeof(ctl_vendor_t));
        if (v == NULL) {
            return NULL;
        }

        vs->elts = v;
        vs->cap = cap;
    }

    v = &vs->elts[vs->n++];
    memset(v, 0, sizeof(ctl_vendor_t));
    v->name = name;
    v->len = len;

    return v;
}


/* rules list --details: the metadata, indented under the vendor's line */

static void
ctl_vendor_details(const ctl_vendor_t *v)
{
    size_t          i;
    char            gvl[8];
    consent_span_t  country, id;

    const struct {
        const char            *label;
        const consent_span_t  *value;
    } fields[] = {
        { "name", &v->meta.name }, { "controller", &v->meta.controller },
        { "country", &country }, { "gvl", &id },
        { "policy", &v->meta.policy }, { "optout", &v->meta.optout },
        { "domains", &v->meta.domains }
    };

    country.data = (const unsigned char *) v->meta.country;
    country.len = strlen(v->meta.country);
    id.data = (const unsigned char *) gvl;
    id.len = v->meta.gvl ? (size_t) sprintf(gvl, "%u", v->meta.gvl) : 0;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].value->len) {
            printf("    %-10s  %.*s\n", fields[i].label,
                   (int) fields[i].value->len,
                   (const char *) fields[i].value->data);
        }
    }
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
ctl_rules_enable(ctl_t *ctl, int argc, char **argv)
{
    return ctl_rules_switch(ctl, argc, argv, 0);
}


static int
ctl_rules_disable(ctl_t *ctl, int argc, char **argv)
{
    return ctl_rules_switch(ctl, argc, argv, 1);
}


static int
ctl_rules_switch(ctl_t *ctl, int argc, char **argv, int off)
{
    int             rc, force;
    char           *pos[1];
    ctl_opt_t       opts[3];
    const char     *cmd;
    ctl_switch_t    sw;
    ctl_vendors_t   vs;

    memset(&vs, 0, sizeof(ctl_vendors_t));
    memset(&sw, 0, sizeof(ctl_switch_t));
    force = 0;

    memset(opts, 0, sizeof(opts));
    ctl_rules_opt(&opts[0], &vs);
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

    rc = ctl_vendor_name(pos[0], &sw.len);
    if (rc != CTL_OK) {
        return rc;
    }

    sw.name = pos[0];
    sw.off = off;
    sw.known = force;

    rc = force ? CTL_OK : ctl_vendor_known(ctl, &vs, &sw);

    if (rc == CTL_OK) {
        rc = ctl_switch_tries(ctl, &sw, &vs);
    }

    ctl_vendors_free(&vs);
    free(sw.key);
    free(sw.inval);

    return rc;
}


/* what the module accepts as a vendor name in a rule: CTL_OK or CTL_USAGE */

static int
ctl_vendor_name(const char *name, size_t *len)
{
    size_t  i;

    for (i = 0; name[i]; i++) {
        if (i == CONSENT_VENDOR_MAX
            || !((name[i] >= 'a' && name[i] <= 'z')
                 || (name[i] >= 'A' && name[i] <= 'Z')
                 || (name[i] >= '0' && name[i] <= '9')
                 || name[i] == '.' || name[i] == '_' || name[i] == '-'))
        {
            return ctl_arg_error("invalid vendor name \"%s\" (1 to %d "
                                 "of [A-Za-z0-9._-])", name,
                                 CONSENT_VENDOR_MAX);
        }
    }

    if (i == 0) {
        return ctl_arg_error("empty vendor name");
    }

    *len = i;

    return CTL_OK;
}


/*
 * The vendor looked up in the rules files: stored as they spell it.  One
 * they do not name may still be switched on (to remove it from the set),
 * never off: CTL_OK to go on, else the exit code.
 */

static int
ctl_vendor_known(ctl_t *ctl, ctl_vendors_t *vs, ctl_switch_t *sw)
{
    ctl_vendor_t  *v;

    if (ctl_vendors_load(ctl, vs) != CTL_OK) {
        return CTL_ERROR;
    }

    v = ctl_vendor_find(vs, sw->name, sw->len);

    if (v) {
        sw->name = v->name;
        sw->known = 1;
        return CTL_OK;
    }

    if (sw->off) {
        /* before connecting: a typo changes nothing anywhere */
        return ctl_vendor_unknown(vs, sw->name);
    }

    return CTL_OK;
}


/* the switch, tried again while the set keeps changing, and its outcome */

static int
ctl_switch_tries(ctl_t *ctl, ctl_switch_t *sw, ctl_vendors_t *vs)
{
    int        rc, tries, aborted;
    long long  changed;

    if (ctl_connect(ctl) != CTL_OK) {
        return CTL_ERROR;
    }

    changed = 0;
    aborted = 0;

    sw->key = ctl_key(ctl, CONSENT_REDIS_RULES_DISABLED, NULL, &sw->klen);
    sw->inval = ctl_key(ctl, CONSENT_REDIS_INVAL, NULL, &sw->ilen);

    if (sw->key == NULL || sw->inval == NULL) {
        return CTL_ERROR;
    }

    rc = CTL_ERROR;

    for (tries = 0; tries < CTL_WATCH_TRIES; tries++) {
        rc = ctl_switch(ctl, sw, &changed, &aborted);
        if (rc == CTL_OK || !aborted) {
            break;
        }
    }

    if (rc == CTL_OK) {
        printf("%.*s: %s%s\n", (int) sw->len, sw->name,
               sw->off ? (changed ? "disabled" : "already disabled")
                       : (changed ? "enabled" : "was not disabled"),
               sw->known ? "" : " (no rule of the rules files names it)");

    } else if (rc == CTL_ERROR && aborted) {
        ctl_error("%s kept changing, %d tries; nothing changed", sw->key,
                  CTL_WATCH_TRIES);

    } else if (rc == CTL_USAGE) {
        /* neither the rules nor the set know it: sw->name is as given */
        rc = ctl_vendor_unknown(vs, sw->name);
    }

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
    redisReply      *m, *r;
    const char     **argv, *pub[CONSENT_PUBLISH_ARGS];
    size_t          *argvlen, pub_len[CONSENT_PUBLISH_ARGS];
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
    argv = malloc((m->elements + 3) * sizeof(const char *));
    argvlen = malloc((m->elements + 3) * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        ctl_error("out of memory");
        rc = CTL_ERROR;
        goto done;
    }

    n = ctl_switch_spellings(sw, m, argv, argvlen);

    if (!sw->off && n == 2 && !sw->known) {
        rc = CTL_USAGE;
        goto done;
    }

    i = ctl_switch_change(sw, n, argv, argvlen, &cmds[0]);

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

    free(argv);
    free(argvlen);
    freeReplyObject(m);

    return rc;
}


/*
 * The spellings of the name that the set holds (m, SMEMBERS), from
 * argv[2] on after the key: the arguments so far, 2 when there is none.
 */

static int
ctl_switch_spellings(const ctl_switch_t *sw, const redisReply *m,
    const char **argv, size_t *argvlen)
{
    int          n;
    size_t       i;
    redisReply  *e;

    argv[1] = sw->key;
    argvlen[1] = sw->klen;
    n = 2;

    for (i = 0; i < m->elements; i++) {
        e = m->element[i];

        if (ctl_vendor_eq(e->str, e->len, sw->name, sw->len)) {
            argv[n] = e->str;
            argvlen[n++] = e->len;
        }
    }

    return n;
}


/*
 * Into cmd, from the n arguments of ctl_switch_spellings(): off, SADD of
 * the name unless some spelling is there; on, SREM of every spelling.
 * 1, or 0 when the set is as it should be already.
 */

static int
ctl_switch_change(const ctl_switch_t *sw, int n, const char **argv,
    size_t *argvlen, ctl_cmd_t *cmd)
{
    if (sw->off && n == 2) {
        argv[0] = "SADD";
        argvlen[0] = 4;
        argv[n] = sw->name;
        argvlen[n++] = sw->len;

    } else if (!sw->off && n > 2) {
        argv[0] = "SREM";
        argvlen[0] = 4;

    } else {
        return 0;
    }

    cmd->argc = n;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return 1;
}
