/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Open Cookie Database as a rules file (the mapping of one row is
 * ocd.c's).  What all rows together give:
 *
 * Vendors: one per vendor id; ids that differ only in ASCII case are one
 * vendor (the module and consentctl compare vendor names without regard
 * to case), spelt as in its first row.  Its name=, controller= and
 * policy= come from the first of its rows with a valid value.
 *
 * One line per pattern and domain: lines the same in all (pattern,
 * purpose, vendor, domain) are written once; when rows give one pattern
 * and domain different purposes or vendors, the line kept is the one
 * whose purpose comes first in advertising, analytics, personalization,
 * then the first row, and a comment above it names the others.
 *
 * How it is written is ocd_write.c's.
 */

#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ocd_set.h"


static void *consent_ocd_grow(consent_ocd_set_t *set, void *elts,
    size_t size, unsigned *cap, unsigned n);
static int consent_ocd_dup(consent_ocd_set_t *set, const unsigned char *p,
    size_t len, consent_span_t *to);
static consent_ocd_vendor_t *consent_ocd_vendor(consent_ocd_set_t *set,
    const consent_ocd_row_t *row, unsigned *index);
static int consent_ocd_vendor_meta(consent_ocd_set_t *set,
    consent_ocd_vendor_t *v, const consent_ocd_row_t *row);
static int consent_ocd_add_skip(consent_ocd_set_t *set, unsigned vendor,
    const consent_ocd_row_t *row);
static int consent_ocd_add_line(consent_ocd_set_t *set, unsigned vendor,
    const consent_span_t *pattern, const unsigned char *domain, size_t len,
    unsigned purpose);
static int consent_ocd_purpose_rank(unsigned purpose);
static int consent_ocd_rank_cmp(const void *a, const void *b);
static int consent_ocd_line_cmp(const void *a, const void *b);
static int consent_ocd_kept_cmp(const void *a, const void *b);
static void consent_ocd_groups(consent_ocd_set_t *set);
static int consent_ocd_convert_rows(consent_csv_t *csv,
    consent_csv_record_t *rec, consent_ocd_set_t *set, consent_err_t *err);


consent_ocd_set_t *
consent_ocd_set_create(const consent_alloc_t *a)
{
    consent_ocd_set_t  *set;

    set = a->alloc(a->data, sizeof(consent_ocd_set_t));
    if (set == NULL) {
        return NULL;
    }

    memset(set, 0, sizeof(consent_ocd_set_t));
    set->alloc = a;

    return set;
}


int
consent_ocd_set_add(consent_ocd_set_t *set, const consent_ocd_row_t *row)
{
    unsigned               i, vi;
    consent_span_t         pattern;
    consent_ocd_vendor_t  *v;

    set->stats.rows++;

    if (row->vendor_len == 0) {
        /* fewer fields, no Platform: no vendor to count the row for */
        set->stats.skipped[row->skip]++;
        return 0;
    }

    v = consent_ocd_vendor(set, row, &vi);
    if (v == NULL) {
        return -1;
    }

    v->count[row->category]++;

    if (row->skip != CONSENT_OCD_S_NONE) {
        set->stats.skipped[row->skip]++;

        if (row->skip == CONSENT_OCD_S_LEFT_OUT) {
            return 0;
        }

        return consent_ocd_add_skip(set, vi, row);
    }

    if (consent_ocd_dup(set, row->pattern, row->pattern_len, &pattern) != 0)
    {
        return -1;
    }

    if (row->ndomains == 0) {
        return consent_ocd_add_line(set, vi, &pattern, NULL, 0, row->purpose);
    }

    for (i = 0; i < row->ndomains; i++) {
        if (consent_ocd_add_line(set, vi, &pattern, row->domain[i],
                                 row->domain_len[i], row->purpose)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


void
consent_ocd_set_stats(const consent_ocd_set_t *set,
    consent_ocd_stats_t *stats)
{
    *stats = set->stats;
    stats->vendors = set->nvendors;
}


/* gathering */

static void *
consent_ocd_grow(consent_ocd_set_t *set, void *elts, size_t size,
    unsigned *cap, unsigned n)
{
    void      *p;
    unsigned   c;

    if (n < *cap) {
        return elts;
    }

    c = *cap ? *cap * 2 : 64;

    if (c < *cap || (size_t) c > (size_t) -1 / size) {
        return NULL;
    }

    p = set->alloc->alloc(set->alloc->data, size * c);
    if (p == NULL) {
        return NULL;
    }

    if (n) {
        memcpy(p, elts, size * n);
    }

    *cap = c;

    return p;
}


static int
consent_ocd_dup(consent_ocd_set_t *set, const unsigned char *p, size_t len,
    consent_span_t *to)
{
    unsigned char  *d;

    to->data = NULL;
    to->len = 0;

    if (len == 0) {
        return 0;
    }

    d = set->alloc->alloc(set->alloc->data, len);
    if (d == NULL) {
        return -1;
    }

    memcpy(d, p, len);
    to->data = d;
    to->len = len;

    return 0;
}


/* the row's vendor, found without regard to case or added */

static consent_ocd_vendor_t *
consent_ocd_vendor(consent_ocd_set_t *set, const consent_ocd_row_t *row,
    unsigned *index)
{
    size_t                 i;
    unsigned               k;
    unsigned char          a, b;
    consent_ocd_vendor_t  *v;

    for (k = 0; k < set->nvendors; k++) {
        v = &set->vendors[k];

        if (v->id.len != row->vendor_len) {
            continue;
        }

        for (i = 0; i < v->id.len; i++) {
            a = v->id.data[i];
            b = row->vendor[i];
            a = (a >= 'A' && a <= 'Z') ? (a | 0x20) : a;
            b = (b >= 'A' && b <= 'Z') ? (b | 0x20) : b;

            if (a != b) {
                break;
            }
        }

        if (i == v->id.len) {
            *index = k;
            return consent_ocd_vendor_meta(set, v, row) == 0 ? v : NULL;
        }
    }

    v = consent_ocd_grow(set, set->vendors, sizeof(consent_ocd_vendor_t),
                         &set->vendors_cap, set->nvendors);
    if (v == NULL) {
        return NULL;
    }

    set->vendors = v;
    v = &set->vendors[set->nvendors];
    memset(v, 0, sizeof(consent_ocd_vendor_t));

    if (consent_ocd_dup(set, row->vendor, row->vendor_len, &v->id) != 0
        || consent_ocd_dup(set, row->platform.data, row->platform.len,
                           &v->platform)
           != 0)
    {
        return NULL;
    }

    *index = set->nvendors++;

    return consent_ocd_vendor_meta(set, v, row) == 0 ? v : NULL;
}


/* the first valid value of each field */

static int
consent_ocd_vendor_meta(consent_ocd_set_t *set, consent_ocd_vendor_t *v,
    const consent_ocd_row_t *row)
{
    if (v->name.len == 0
        && consent_ocd_dup(set, row->name.data, row->name.len, &v->name)
           != 0)
    {
        return -1;
    }

    if (v->controller.len == 0
        && consent_ocd_dup(set, row->controller.data, row->controller.len,
                           &v->controller)
           != 0)
    {
        return -1;
    }

    if (v->policy.len == 0
        && consent_ocd_dup(set, row->policy.data, row->policy.len,
                           &v->policy)
           != 0)
    {
        return -1;
    }

    return 0;
}


static int
consent_ocd_add_skip(consent_ocd_set_t *set, unsigned vendor,
    const consent_ocd_row_t *row)
{
    consent_ocd_skip_t  *sk;

    sk = consent_ocd_grow(set, set->skips, sizeof(consent_ocd_skip_t),
                          &set->skips_cap, set->nskips);
    if (sk == NULL) {
        return -1;
    }

    set->skips = sk;
    sk = &set->skips[set->nskips];
    memset(sk, 0, sizeof(consent_ocd_skip_t));

    if (consent_ocd_dup(set, row->pattern, row->pattern_len, &sk->name) != 0)
    {
        return -1;
    }

    sk->vendor = vendor;
    sk->skip = row->skip;
    sk->truncated = row->truncated;
    set->nskips++;

    return 0;
}


static int
consent_ocd_add_line(consent_ocd_set_t *set, unsigned vendor,
    const consent_span_t *pattern, const unsigned char *domain, size_t len,
    unsigned purpose)
{
    consent_ocd_line_t  *l;

    l = consent_ocd_grow(set, set->lines, sizeof(consent_ocd_line_t),
                         &set->lines_cap, set->nlines);
    if (l == NULL) {
        return -1;
    }

    set->lines = l;
    l = &set->lines[set->nlines];
    memset(l, 0, sizeof(consent_ocd_line_t));

    if (consent_ocd_dup(set, domain, len, &l->domain) != 0) {
        return -1;
    }

    l->pattern = *pattern;
    l->vendor = vendor;
    l->purpose = purpose;
    l->row = set->stats.rows;
    set->nlines++;

    return 0;
}


/* sorting */

int
consent_ocd_span_cmp(const consent_span_t *a, const consent_span_t *b)
{
    int  rc;

    rc = memcmp(a->data ? a->data : (const unsigned char *) "",
                b->data ? b->data : (const unsigned char *) "",
                a->len < b->len ? a->len : b->len);

    if (rc != 0) {
        return rc;
    }

    return (a->len > b->len) - (a->len < b->len);
}


static int
consent_ocd_purpose_rank(unsigned purpose)
{
    switch (purpose) {

    case CONSENT_P_ADVERTISING:
        return 0;

    case CONSENT_P_ANALYTICS:
        return 1;

    default:
        return 2;
    }
}


/* vendors: pointers to them, by id */

static int
consent_ocd_rank_cmp(const void *a, const void *b)
{
    const consent_ocd_vendor_t  *va, *vb;

    va = *(const consent_ocd_vendor_t *const *) a;
    vb = *(const consent_ocd_vendor_t *const *) b;

    return consent_ocd_span_cmp(&va->id, &vb->id);
}


/* all lines: by pattern and domain, the one to keep first */

static int
consent_ocd_line_cmp(const void *a, const void *b)
{
    int                        rc;
    const consent_ocd_line_t  *la, *lb;

    la = a;
    lb = b;

    rc = consent_ocd_span_cmp(&la->pattern, &lb->pattern);
    if (rc != 0) {
        return rc;
    }

    rc = consent_ocd_span_cmp(&la->domain, &lb->domain);
    if (rc != 0) {
        return rc;
    }

    rc = consent_ocd_purpose_rank(la->purpose)
         - consent_ocd_purpose_rank(lb->purpose);
    if (rc != 0) {
        return rc;
    }

    return (la->row > lb->row) - (la->row < lb->row);
}


/* kept lines: by vendor, then pattern and domain */

static int
consent_ocd_kept_cmp(const void *a, const void *b)
{
    const consent_ocd_line_t  *la, *lb;

    la = *(const consent_ocd_line_t *const *) a;
    lb = *(const consent_ocd_line_t *const *) b;

    if (la->rank != lb->rank) {
        return la->rank < lb->rank ? -1 : 1;
    }

    /* the same pattern and domain cannot be kept twice */
    return consent_ocd_line_cmp(la, lb);
}


int
consent_ocd_skip_cmp(const void *a, const void *b)
{
    int                        rc;
    const consent_ocd_skip_t  *sa, *sb;

    sa = a;
    sb = b;

    if (sa->rank != sb->rank) {
        return sa->rank < sb->rank ? -1 : 1;
    }

    rc = consent_ocd_span_cmp(&sa->name, &sb->name);
    if (rc != 0) {
        return rc;
    }

    if (sa->skip != sb->skip) {
        return sa->skip < sb->skip ? -1 : 1;
    }

    return (int) sa->truncated - (int) sb->truncated;
}


/* every array in the order it is written in */

int
consent_ocd_set_sort(consent_ocd_set_t *set)
{
    unsigned                i;
    consent_ocd_vendor_t  **order;

    order = set->alloc->alloc(set->alloc->data,
                              sizeof(consent_ocd_vendor_t *)
                              * (set->nvendors + 1));
    set->order = order;
    set->kept = set->alloc->alloc(set->alloc->data,
                                  sizeof(consent_ocd_line_t *)
                                  * (set->nlines + 1));
    set->domains = set->alloc->alloc(set->alloc->data,
                                     sizeof(consent_span_t)
                                     * (set->nlines + 1));

    if (order == NULL || set->kept == NULL || set->domains == NULL) {
        return -1;
    }

    for (i = 0; i < set->nvendors; i++) {
        order[i] = &set->vendors[i];
    }

    if (set->nvendors) {
        qsort(order, set->nvendors, sizeof(consent_ocd_vendor_t *),
              consent_ocd_rank_cmp);
    }

    for (i = 0; i < set->nvendors; i++) {
        order[i]->rank = i;
    }

    for (i = 0; i < set->nlines; i++) {
        set->lines[i].rank = set->vendors[set->lines[i].vendor].rank;
    }

    for (i = 0; i < set->nskips; i++) {
        set->skips[i].rank = set->vendors[set->skips[i].vendor].rank;
    }

    if (set->nlines) {
        qsort(set->lines, set->nlines, sizeof(consent_ocd_line_t),
              consent_ocd_line_cmp);
    }

    if (set->nskips) {
        qsort(set->skips, set->nskips, sizeof(consent_ocd_skip_t),
              consent_ocd_skip_cmp);
    }

    consent_ocd_groups(set);

    if (set->nkept) {
        qsort(set->kept, set->nkept, sizeof(consent_ocd_line_t *),
              consent_ocd_kept_cmp);
    }

    return 0;
}


/* the first line of each pattern and domain is kept, the others counted */

static void
consent_ocd_groups(consent_ocd_set_t *set)
{
    unsigned               i, j;
    consent_ocd_line_t    *l, *k;
    consent_ocd_vendor_t  *v;

    for (i = 0; i < set->nlines; i = j) {
        k = &set->lines[i];

        for (j = i + 1; j < set->nlines; j++) {
            l = &set->lines[j];

            if (consent_ocd_span_cmp(&l->pattern, &k->pattern) != 0
                || consent_ocd_span_cmp(&l->domain, &k->domain) != 0)
            {
                break;
            }

            if (l->vendor == k->vendor && l->purpose == k->purpose) {
                set->stats.duplicates++;

            } else {
                set->stats.replaced++;
            }
        }

        k->group = i;
        k->ngroup = j - i;
        set->kept[set->nkept++] = k;

        v = &set->vendors[k->vendor];
        v->rules++;
        v->purposes |= CONSENT_BIT(k->purpose);
    }

    set->stats.rules = set->nkept;

    for (i = 0; i < set->nvendors; i++) {
        set->stats.vendors_ruled += (set->vendors[i].rules != 0);
    }
}


/* the whole file */

int
consent_ocd_convert(const unsigned char *p, size_t len,
    const consent_alloc_t *a, consent_ocd_write_pt write, void *data,
    consent_ocd_stats_t *stats, consent_err_t *err)
{
    int                    rc;
    consent_csv_t          csv;
    consent_ocd_set_t     *set;
    consent_csv_record_t   rec;

    rec.max = CONSENT_OCD_FIELDS_MAX;
    rec.size = CONSENT_OCD_RECORD_MAX;
    rec.fields = a->alloc(a->data, sizeof(consent_span_t) * rec.max);
    rec.buf = a->alloc(a->data, rec.size);
    set = consent_ocd_set_create(a);

    if (rec.fields == NULL || rec.buf == NULL || set == NULL) {
        consent_ocd_fail(err, CONSENT_OCD_E_MEMORY, "out of memory", 0);
        return -1;
    }

    consent_csv_init(&csv, p, len, CONSENT_OCD_FIELD_MAX);

    rc = consent_ocd_convert_rows(&csv, &rec, set, err);

    if (rc == 0) {
        rc = consent_ocd_set_write(set, write, data, err);
    }

    if (stats) {
        consent_ocd_set_stats(set, stats);
    }

    return rc;
}


void
consent_ocd_fail(consent_err_t *err, int code, const char *msg,
    unsigned line)
{
    err->code = code;
    err->msg = msg;
    err->at.data = NULL;
    err->at.len = 0;
    err->line = line;
}


static int
consent_ocd_convert_rows(consent_csv_t *csv, consent_csv_record_t *rec,
    consent_ocd_set_t *set, consent_err_t *err)
{
    int                 rc;
    consent_ocd_row_t   row;
    consent_ocd_cols_t  cols;

    rc = consent_csv_next(csv, rec, err);

    if (rc <= 0) {
        if (rc == 0) {
            consent_ocd_fail(err, CONSENT_OCD_E_EMPTY, "no header line",
                             csv->line);
        }

        return -1;
    }

    if (consent_ocd_columns(rec->fields, rec->n, &cols, err) != 0) {
        err->line = rec->line;
        return -1;
    }

    for ( ;; ) {
        rc = consent_csv_next(csv, rec, err);

        if (rc <= 0) {
            return rc;
        }

        consent_ocd_row(&cols, rec->fields, rec->n, &row);

        if (consent_ocd_set_add(set, &row) != 0) {
            consent_ocd_fail(err, CONSENT_OCD_E_MEMORY, "out of memory",
                             rec->line);
            return -1;
        }
    }
}
