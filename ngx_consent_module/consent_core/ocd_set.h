/*
 * Copyright (C) ngx_consent_module authors
 *
 * The inside of a consent_ocd_set_t (ocd_rules.h), for the two files
 * that make it: ocd_rules.c gathers the rows and sorts them, ocd_write.c
 * writes the rules file.  Nothing else includes it.
 */

#ifndef _CONSENT_OCD_SET_H_INCLUDED_
#define _CONSENT_OCD_SET_H_INCLUDED_


#include "ocd_rules.h"


typedef struct {
    consent_span_t             id;
    consent_span_t             platform;
    consent_span_t             name;
    consent_span_t             controller;
    consent_span_t             policy;
    unsigned                   count[CONSENT_OCD_CATEGORIES];
    unsigned                   rank;         /* in id order */
    unsigned                   rules;
    consent_mask_t             purposes;
} consent_ocd_vendor_t;


typedef struct {
    consent_span_t             pattern;
    consent_span_t             domain;       /* empty: every site */
    unsigned                   vendor;
    unsigned                   purpose;
    unsigned                   row;
    unsigned                   rank;         /* the vendor's, for sorting */
    unsigned                   group;        /* the kept line: its group */
    unsigned                   ngroup;
} consent_ocd_line_t;


typedef struct {
    consent_span_t             name;
    unsigned                   vendor;
    unsigned                   rank;
    int                        skip;
    unsigned                   truncated:1;
} consent_ocd_skip_t;


struct consent_ocd_set_s {
    const consent_alloc_t     *alloc;

    consent_ocd_vendor_t      *vendors;
    unsigned                   nvendors;
    unsigned                   vendors_cap;

    consent_ocd_line_t        *lines;        /* sorted by pattern, domain */
    unsigned                   nlines;
    unsigned                   lines_cap;

    consent_ocd_skip_t        *skips;
    unsigned                   nskips;
    unsigned                   skips_cap;

    consent_ocd_vendor_t     **order;        /* by id */
    consent_ocd_line_t       **kept;         /* by vendor, pattern, domain */
    unsigned                   nkept;
    consent_span_t            *domains;      /* room for a vendor's */

    consent_ocd_stats_t        stats;
    unsigned                   written:1;
};


/* ocd_rules.c */
/* err for a failure: code, msg, line, nothing at fault in the input */
void consent_ocd_fail(consent_err_t *err, int code, const char *msg,
    unsigned line);
int consent_ocd_span_cmp(const consent_span_t *a, const consent_span_t *b);
int consent_ocd_skip_cmp(const void *a, const void *b);
/* every array in the order it is written in; 0 or -1 (no memory) */
int consent_ocd_set_sort(consent_ocd_set_t *set);


#endif /* _CONSENT_OCD_SET_H_INCLUDED_ */
