/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl subject export ID: one JSON document answering a disclosure
 * request (APPI Art. 33, GDPR Art. 15 and 20): the record and the policy
 * version it was decided under, the vendors and countries its granted
 * purposes let receive data (from the rules' "@vendor" metadata, less the
 * vendors refused one by one), the provision log (which vendors' cookies
 * the proxy let through to the origin, first and last time), and every
 * receipt.
 */


#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consentctl.h"
#include "provision.h"
#include "vendors_json.h"


typedef struct {
    consent_ruleset_t         *rs;
    ctl_block_t               *blocks;
    /* the rules vendors out of the recipients: refused one by one */
    unsigned char             *skip;
} ctl_export_t;


static int ctl_export_rules(ctl_t *ctl, const char **files, int nfiles,
    ctl_export_t *ex);
static int ctl_export_rules_file(ctl_t *ctl, const char *path,
    ctl_export_t *ex);
static int ctl_export_skip(ctl_export_t *ex, const consent_span_t *vr);
static int ctl_export_recipients(ctl_t *ctl, ctl_export_t *ex,
    consent_mask_t granted);
static int ctl_export_countries(ctl_t *ctl, ctl_export_t *ex,
    consent_mask_t granted);
static redisReply *ctl_export_provision_fetch(ctl_t *ctl, const char *id);
static void ctl_export_provision(ctl_export_t *ex, const redisReply *r);
static void ctl_export_time(const redisReply *fields, const char *prefix,
    const char *vendor, size_t len);
static int ctl_export_cmp_country(const void *a, const void *b);


int
ctl_subject_export(ctl_t *ctl, int argc, char **argv)
{
    int                rc, bad, nfiles;
    char              *pos[1];
    const char        *files[CTL_RULES_FILES];
    redisReply        *r, *pv;
    ctl_opt_t          opts[2];
    ctl_export_t       ex;
    consent_mask_t     granted;
    consent_record_t   rec;

    nfiles = 0;
    memset(opts, 0, sizeof(opts));
    opts[0].name = "--rules";
    opts[0].value = files;
    opts[0].count = &nfiles;
    opts[0].max = CTL_RULES_FILES;

    rc = ctl_subject_args("subject export ID", argc, argv, opts, pos, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    memset(&ex, 0, sizeof(ctl_export_t));
    rc = CTL_ERROR;
    r = NULL;
    pv = NULL;

    /* the rules first: a wrong file is said before anything is printed */
    if (ctl_export_rules(ctl, files, nfiles, &ex) != CTL_OK
        || ctl_connect(ctl) != CTL_OK)
    {
        goto done;
    }

    /*
     * What can fail is read before anything is printed, but the receipts:
     * walked a batch at a time, a failure there cuts them short.
     */
    r = ctl_record_fetch(ctl, pos[0], &rec);
    if (r == NULL) {
        goto done;
    }

    pv = ctl_export_provision_fetch(ctl, pos[0]);
    if (pv == NULL) {
        goto done;
    }

    if (ctl_export_skip(&ex, &rec.vr) != CTL_OK) {
        goto done;
    }

    granted = 0;
    bad = 0;

    printf("{\"subject\":");
    ctl_json_cstr(pos[0]);
    printf(",\"exported\":%lld,\"record\":", (long long) time(NULL));

    if (rec.found) {
        bad = ctl_print_record(ctl, pos[0], &rec) != CTL_OK;

        if (rec.p.data) {
            (void) consent_record_purposes(&ctl->purposes, rec.p.data,
                                           rec.p.len, &granted, NULL, NULL);
        }

    } else {
        printf("null");
    }

    printf(",\"recipients\":");

    if (ctl_export_recipients(ctl, &ex, granted) != CTL_OK
        || ctl_export_countries(ctl, &ex, granted) != CTL_OK)
    {
        goto done;
    }

    printf(",\"provision\":");
    ctl_export_provision(&ex, pv);

    printf(",\"receipts\":");

    if (ctl_receipts_print(ctl, pos[0], 1) != CTL_OK) {
        goto done;
    }

    printf("}\n");

    rc = bad ? CTL_ERROR : CTL_OK;

done:

    if (r) {
        freeReplyObject(r);
    }

    if (pv) {
        freeReplyObject(pv);
    }

    if (ex.rs) {
        consent_ruleset_free(ex.rs);
    }

    ctl_arena_free(ex.blocks);

    return rc;
}


/* the rules nginx loads (--rules, in the same order), as it reads them */

static int
ctl_export_rules(ctl_t *ctl, const char **files, int nfiles,
    ctl_export_t *ex)
{
    int              i;
    char             err[256];
    consent_alloc_t  a;

    a.alloc = ctl_arena_alloc;
    a.data = &ex->blocks;

    ex->rs = consent_ruleset_create(&a);
    if (ex->rs == NULL) {
        ctl_error("out of memory");
        return CTL_ERROR;
    }

    ctl_rules_files_default(files, &nfiles);

    for (i = 0; i < nfiles; i++) {
        if (ctl_export_rules_file(ctl, files[i], ex) != CTL_OK) {
            return CTL_ERROR;
        }
    }

    if (consent_ruleset_compile(ex->rs, err, sizeof(err)) != 0) {
        ctl_error("rules: %s", err);
        return CTL_ERROR;
    }

    return CTL_OK;
}


static int
ctl_export_rules_file(ctl_t *ctl, const char *path, ctl_export_t *ex)
{
    int        rc;
    char      *buf, *p, *end, *nl, err[256];
    size_t     len;
    uint32_t   line;

    buf = ctl_read_rules_file(path, &len);
    if (buf == NULL) {
        return CTL_ERROR;
    }

    /* the set may keep spans into the lines: they live as long as it */
    p = ctl_arena_alloc(&ex->blocks, len + 1);
    if (p == NULL) {
        free(buf);
        ctl_error("out of memory");
        return CTL_ERROR;
    }

    memcpy(p, buf, len);
    free(buf);

    rc = CTL_OK;
    end = p + len;

    for (line = 1; p < end; line++) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        if (consent_ruleset_add_line(ex->rs, &ctl->purposes,
                                     (const unsigned char *) p,
                                     (size_t) (nl - p), line, err,
                                     sizeof(err))
            != 0)
        {
            ctl_error("%s:%u: %s", path, (unsigned) line, err);
            rc = CTL_ERROR;
            break;
        }

        p = nl + 1;
    }

    return rc;
}


/* "vr": each name the rules know, by vendor id; others cannot receive */

static int
ctl_export_skip(ctl_export_t *ex, const consent_span_t *vr)
{
    int                   id;
    unsigned              n;
    const unsigned char  *p, *end, *name;

    n = consent_ruleset_vendors(ex->rs);

    ex->skip = ctl_arena_alloc(&ex->blocks, n / 8 + 1);
    if (ex->skip == NULL) {
        ctl_error("out of memory");
        return CTL_ERROR;
    }

    memset(ex->skip, 0, n / 8 + 1);

    p = vr->data;
    end = p ? p + vr->len : p;

    while (p < end) {
        name = p;

        while (p < end && *p != ',') {
            p++;
        }

        id = consent_ruleset_vendor_find(ex->rs, name, (size_t) (p - name));
        if (id >= 0) {
            ex->skip[id >> 3] |= (unsigned char) (1u << (id & 7));
        }

        if (p < end) {
            p++;
        }
    }

    return CTL_OK;
}


/* the vendor list a banner shows, of the granted purposes alone */

static int
ctl_export_recipients(ctl_t *ctl, ctl_export_t *ex, consent_mask_t granted)
{
    size_t          n;
    unsigned char  *out;

    n = consent_vendors_json_for(ex->rs, &ctl->purposes, granted, ex->skip,
                                 NULL, 0);

    out = malloc(n);
    if (out == NULL) {
        ctl_error("out of memory");
        return CTL_ERROR;
    }

    (void) consent_vendors_json_for(ex->rs, &ctl->purposes, granted,
                                    ex->skip, out, n);

    /* a document of its own ends with a newline; inside this one, not */
    if (n && out[n - 1] == '\n') {
        n--;
    }

    fwrite(out, 1, n, stdout);
    free(out);

    return CTL_OK;
}


/* where the recipients are: each country once, sorted */

static int
ctl_export_countries(ctl_t *ctl, ctl_export_t *ex, consent_mask_t granted)
{
    unsigned                      id, nvendors, n, i;
    const char                  **c;
    const consent_vendor_meta_t  *meta;

    nvendors = consent_ruleset_vendors(ex->rs);
    c = ctl_arena_alloc(&ex->blocks, (nvendors + 1) * sizeof(char *));
    if (c == NULL) {
        ctl_error("out of memory");
        return CTL_ERROR;
    }

    n = 0;

    for (id = 0; id < nvendors; id++) {
        meta = consent_ruleset_vendor_meta(ex->rs, id);

        if (meta == NULL || meta->country[0] == '\0'
            || (ex->skip[id >> 3] >> (id & 7)) & 1
            || !(consent_ruleset_vendor_purposes(ex->rs, id) & granted
                 & ~CONSENT_BIT(CONSENT_P_NECESSARY)))
        {
            continue;
        }

        c[n++] = meta->country;
    }

    if (n) {
        qsort(c, n, sizeof(char *), ctl_export_cmp_country);
    }

    printf(",\"countries\":[");

    for (i = 0; i < n; i++) {
        if (i && strcmp(c[i], c[i - 1]) == 0) {
            continue;
        }

        printf(i ? "," : "");
        ctl_json_cstr(c[i]);
    }

    printf("]");

    return CTL_OK;
}


static int
ctl_export_cmp_country(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}


/* HGETALL of the provision log; NULL after a message */

static redisReply *
ctl_export_provision_fetch(ctl_t *ctl, const char *id)
{
    char        *key;
    size_t       len;
    redisReply  *r;

    key = ctl_key(ctl, CONSENT_REDIS_PROVISION, id, &len);
    if (key == NULL) {
        return NULL;
    }

    r = ctl_key_command(ctl, "HGETALL", key, len, NULL);
    free(key);

    if (r == NULL) {
        return NULL;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        ctl_error("redis at %s: HGETALL: the provision log is not a hash",
                  ctl->addr);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


/*
 * The provision log, a vendor at a time: [{"vendor":"google","name":
 * "Google","country":"US","first":T,"last":T}].  A field that is not a
 * number shows as null.
 */

static void
ctl_export_provision(ctl_export_t *ex, const redisReply *r)
{
    int                           vid, first;
    size_t                        i, len;
    const char                   *vendor;
    const redisReply             *k;
    const consent_vendor_meta_t  *meta;

    printf("[");
    first = 1;

    for (i = 0; i < r->elements; i += 2) {
        k = r->element[i];

        if (k->type != REDIS_REPLY_STRING
            || k->len <= CONSENT_PROVISION_F_LEN
            || memcmp(k->str, CONSENT_PROVISION_F_FIRST,
                      CONSENT_PROVISION_F_LEN) != 0)
        {
            continue;
        }

        vendor = k->str + CONSENT_PROVISION_F_LEN;
        len = k->len - CONSENT_PROVISION_F_LEN;

        printf(first ? "{\"vendor\":" : ",{\"vendor\":");
        first = 0;
        ctl_json_str(vendor, len);

        vid = consent_ruleset_vendor_find(ex->rs,
                                          (const unsigned char *) vendor, len);
        meta = vid >= 0 ? consent_ruleset_vendor_meta(ex->rs, vid) : NULL;

        if (meta && meta->name.len) {
            printf(",\"name\":");
            ctl_json_str(meta->name.data, meta->name.len);
        }

        if (meta && meta->country[0]) {
            printf(",\"country\":");
            ctl_json_cstr(meta->country);
        }

        ctl_export_time(r, CONSENT_PROVISION_F_FIRST, vendor, len);
        ctl_export_time(r, CONSENT_PROVISION_F_LAST, vendor, len);
        printf("}");
    }

    printf("]");
}


/* ,"first":T or ,"last":T from the field prefix + vendor */

static void
ctl_export_time(const redisReply *fields, const char *prefix,
    const char *vendor, size_t len)
{
    size_t               i;
    const redisReply    *k, *v;
    unsigned long long   t;

    printf(strcmp(prefix, CONSENT_PROVISION_F_FIRST) == 0
           ? ",\"first\":" : ",\"last\":");

    for (i = 0; i < fields->elements; i += 2) {
        k = fields->element[i];
        v = fields->element[i + 1];

        if (k->type == REDIS_REPLY_STRING
            && k->len == CONSENT_PROVISION_F_LEN + len
            && memcmp(k->str, prefix, CONSENT_PROVISION_F_LEN) == 0
            && memcmp(k->str + CONSENT_PROVISION_F_LEN, vendor, len) == 0
            && v->type == REDIS_REPLY_STRING
            && ctl_str_uint(v->str, v->len, CONSENT_RECORD_T_MAX, &t) == 0)
        {
            printf("%llu", t);
            return;
        }
    }

    printf("null");
}
