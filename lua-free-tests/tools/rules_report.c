/*
 * Copyright (C) ngx_consent_module authors
 *
 * How well the shipped rules cover a cookie database: every row of the
 * Open Cookie Database CSV is asked of the rule set the module would
 * build from the rules files given (in the order given), the way the
 * module asks it, with a visitor who consented to nothing under opt-in
 * (only "necessary" granted).
 *
 *   rules_report [--check] [--list] CSV RULES...
 *
 * A row's cookie is looked for where it lives: a row with a Domain is a
 * cookie on that domain (a request to that host, whose domain-only rules
 * apply), a row without one a first-party cookie on any site (a request
 * to www.example.com).  A prefix row is asked with a sample suffix.
 *
 * Printed: the share of Analytics, Marketing and Personalization rows
 * stripped, the share of Functional, Security and Necessary rows
 * stripped (those must not be), the share stripped on a site that is not
 * the vendor's own, and with --list every miss and every false strip.
 * --check exits 1 when the targets are not met: at least 0.97 stripped,
 * at most 0.005 falsely.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "rules.h"
#include "csv.h"
#include "ocd.h"


#define RULES_REPORT_STRIP_MIN   0.97
#define RULES_REPORT_FALSE_MAX   0.005
#define RULES_REPORT_SITE        "www.example.com"
#define RULES_REPORT_FIELDS      32


typedef struct {
    unsigned                   rows;
    unsigned                   stripped;
    unsigned                   anywhere;    /* also on RULES_REPORT_SITE */
    unsigned                   not_names;   /* no cookie name to ask */
} rules_report_count_t;

typedef struct {
    consent_ruleset_t         *rules;
    consent_purposes_t         purposes;
    int                        list;
    rules_report_count_t       tracking;    /* rows that should go */
    rules_report_count_t       needed;      /* rows that must stay */
} rules_report_t;


static void *
report_alloc(void *data, size_t size)
{
    void  *p;

    /* never freed: the tool runs once and exits */
    p = calloc(1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "rules_report: out of memory\n");
        exit(2);
    }

    return p;
}


static consent_alloc_t  report_allocator = { report_alloc, NULL };


static char *
report_read(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf;
    long     size;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "rules_report: %s: %s\n", path, strerror(errno));
        exit(2);
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "rules_report: %s: cannot size it\n", path);
        exit(2);
    }

    buf = report_alloc(NULL, (size_t) size + 1);

    if (fread(buf, 1, (size_t) size, f) != (size_t) size) {
        fprintf(stderr, "rules_report: %s: short read\n", path);
        exit(2);
    }

    fclose(f);
    *len = (size_t) size;

    return buf;
}


/* a rules file into the set, as the module reads it */

static void
report_load(rules_report_t *rep, const char *path)
{
    int                     rc;
    char                   *buf, *p, *end, *nl;
    size_t                  len;
    unsigned                line;
    consent_err_t           err;
    consent_rule_t          rule;
    consent_vendor_meta_t   meta;
    char                    msg[256];

    buf = report_read(path, &len);
    end = buf + len;
    line = 0;

    for (p = buf; p < end; p = nl + 1) {
        line++;

        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        rc = consent_rule_parse((unsigned char *) p, (size_t) (nl - p),
                                &rep->purposes, &rule, &err);

        if (rc == CONSENT_LINE_VENDOR) {
            rc = consent_vendor_parse((unsigned char *) p,
                                      (size_t) (nl - p), &rep->purposes,
                                      &meta, &err);
            if (rc == 1) {
                rc = consent_ruleset_vendor_set(rep->rules, &meta, msg,
                                                sizeof(msg));
                if (rc != 0) {
                    err.msg = msg;
                    rc = -1;
                }
            }

        } else if (rc == CONSENT_LINE_RULE) {
            rule.line = line;

            if (consent_ruleset_add(rep->rules, &rule, msg, sizeof(msg))
                != 0)
            {
                err.msg = msg;
                rc = -1;
            }
        }

        if (rc < 0) {
            fprintf(stderr, "rules_report: %s:%u: %s\n", path, line,
                    err.msg);
            exit(2);
        }
    }
}


/* the rule that strips name on host, or NULL */

static const consent_rule_t *
report_strips(rules_report_t *rep, const char *host, const unsigned char *name,
    size_t len)
{
    consent_scope_t        scope;
    const consent_rule_t  *r;

    consent_ruleset_scope(rep->rules, (const unsigned char *) host,
                          strlen(host), &scope);

    r = consent_ruleset_match_in(rep->rules, &scope, name, len);

    if (r == NULL || r->purpose == CONSENT_P_NECESSARY) {
        return NULL;
    }

    return r;
}


static int
report_is_name(int skip)
{
    return skip == CONSENT_OCD_S_NONE || skip == CONSENT_OCD_S_GENERIC
           || skip == CONSENT_OCD_S_LEFT_OUT;
}


static void
report_row(rules_report_t *rep, const consent_ocd_row_t *row,
    const consent_span_t *category)
{
    int                     tracking;
    size_t                  len;
    unsigned                i, hits;
    const char             *host;
    rules_report_count_t   *count;
    const consent_rule_t   *r;
    unsigned char           name[CONSENT_OCD_NAME_MAX + 16];
    char                    dom[CONSENT_OCD_DOMAIN_MAX + 1];

    tracking = (row->category != CONSENT_OCD_C_LEFT_OUT);
    count = tracking ? &rep->tracking : &rep->needed;
    count->rows++;

    if (!report_is_name(row->skip) || row->pattern_len == 0) {
        count->not_names++;

        if (rep->list && tracking) {
            printf("miss  %-40.*s %.*s: not a cookie name (%s)\n",
                   (int) row->pattern_len, row->pattern,
                   (int) category->len, category->data,
                   consent_ocd_skip_reason(row->skip));
        }

        return;
    }

    /* a prefix is asked with what a vendor appends: an id */
    len = row->pattern_len - (row->prefix ? 1 : 0);
    memcpy(name, row->pattern, len);

    if (row->prefix) {
        memcpy(name + len, "1a2B3c4D", 8);
        len += 8;
    }

    /* where it lives: each of its domains, or any site */
    hits = 0;
    r = NULL;

    for (i = 0; i < (row->ndomains ? row->ndomains : 1); i++) {
        host = RULES_REPORT_SITE;

        if (row->ndomains) {
            snprintf(dom, sizeof(dom), "%.*s", (int) row->domain_len[i],
                     (const char *) row->domain[i]);
            host = dom;
        }

        r = report_strips(rep, host, name, len);
        hits += (r != NULL);
    }

    if (hits == (row->ndomains ? row->ndomains : 1)) {
        count->stripped++;

    } else if (rep->list && tracking) {
        printf("miss  %-40.*s %.*s %s\n", (int) len, name,
               (int) category->len, category->data,
               row->ndomains ? dom : "(first party)");
    }

    if (report_strips(rep, RULES_REPORT_SITE, name, len)) {
        count->anywhere++;
    }

    if (hits && !tracking && rep->list) {
        r = r ? r : report_strips(rep, RULES_REPORT_SITE, name, len);
        printf("FALSE %-40.*s %.*s stripped by %.*s\n", (int) len, name,
               (int) category->len, category->data,
               r ? (int) r->vendor_len : 1,
               r ? (const char *) r->vendor : "?");
    }
}


static void
report_csv(rules_report_t *rep, const char *path)
{
    int                    rc;
    char                  *buf;
    size_t                 len;
    consent_csv_t          csv;
    consent_err_t          err;
    consent_ocd_cols_t     cols;
    consent_ocd_row_t      row;
    consent_csv_record_t   rec;
    consent_span_t         fields[RULES_REPORT_FIELDS];
    static unsigned char   record[256 * 1024];

    buf = report_read(path, &len);
    consent_csv_init(&csv, (unsigned char *) buf, len, 64 * 1024);

    rec.fields = fields;
    rec.max = RULES_REPORT_FIELDS;
    rec.buf = record;
    rec.size = sizeof(record);

    rc = consent_csv_next(&csv, &rec, &err);
    if (rc != 1 || consent_ocd_columns(fields, rec.n, &cols, &err) != 0) {
        fprintf(stderr, "rules_report: %s: no usable header: %s\n", path,
                rc < 0 || rc == 1 ? err.msg : "empty");
        exit(2);
    }

    while ((rc = consent_csv_next(&csv, &rec, &err)) == 1) {
        consent_ocd_row(&cols, fields, rec.n, &row);

        if (row.skip == CONSENT_OCD_S_FIELDS
            || row.skip == CONSENT_OCD_S_VENDOR)
        {
            continue;
        }

        report_row(rep, &row, &fields[cols.col[CONSENT_OCD_CATEGORY]]);
    }

    if (rc < 0) {
        fprintf(stderr, "rules_report: %s:%u: %s\n", path, err.line,
                err.msg);
        exit(2);
    }
}


static double
report_share(unsigned n, unsigned of)
{
    return of ? (double) n / of : 0;
}


int
main(int argc, char **argv)
{
    int             i, check, ok;
    char            err[256];
    double          strip, falsely;
    rules_report_t  rep;

    memset(&rep, 0, sizeof(rules_report_t));
    check = 0;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            check = 1;

        } else if (strcmp(argv[i], "--list") == 0) {
            rep.list = 1;

        } else {
            break;
        }
    }

    if (argc - i < 2) {
        fprintf(stderr, "usage: rules_report [--check] [--list] CSV "
                        "RULES...\n");
        return 2;
    }

    consent_purposes_init(&rep.purposes);

    rep.rules = consent_ruleset_create(&report_allocator);
    if (rep.rules == NULL) {
        return 2;
    }

    for (int f = i + 1; f < argc; f++) {
        report_load(&rep, argv[f]);
    }

    if (consent_ruleset_compile(rep.rules, err, sizeof(err)) != 0) {
        fprintf(stderr, "rules_report: %s\n", err);
        return 2;
    }

    report_csv(&rep, argv[i]);

    strip = report_share(rep.tracking.stripped, rep.tracking.rows);
    falsely = report_share(rep.needed.stripped, rep.needed.rows);

    printf("rules: %u, vendors: %u\n", consent_ruleset_count(rep.rules),
           consent_ruleset_vendors(rep.rules));
    printf("analytics, marketing, personalization rows: %u, stripped %u "
           "(%.4f; target >= %.2f); not a cookie name: %u\n",
           rep.tracking.rows, rep.tracking.stripped, strip,
           RULES_REPORT_STRIP_MIN, rep.tracking.not_names);
    printf("  of them stripped on a site that is not the vendor's own: %u "
           "(%.4f)\n", rep.tracking.anywhere,
           report_share(rep.tracking.anywhere, rep.tracking.rows));
    printf("functional, security, necessary rows: %u, stripped %u (%.4f; "
           "target <= %.3f)\n", rep.needed.rows, rep.needed.stripped,
           falsely, RULES_REPORT_FALSE_MAX);
    printf("  of them stripped on a site that is not the vendor's own: %u "
           "(%.4f)\n", rep.needed.anywhere,
           report_share(rep.needed.anywhere, rep.needed.rows));

    ok = strip >= RULES_REPORT_STRIP_MIN && falsely <= RULES_REPORT_FALSE_MAX;

    consent_ruleset_free(rep.rules);

    if (check && !ok) {
        printf("rules_report: targets not met\n");
        return 1;
    }

    return 0;
}
