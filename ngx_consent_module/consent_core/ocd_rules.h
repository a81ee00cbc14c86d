/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Open Cookie Database CSV as a rules file: the rows (ocd.h) gathered
 * by vendor, one line per cookie name and domain, written sorted so that
 * the same CSV always gives the same bytes.  consentctl's
 * "rules import-ocd" is consent_ocd_convert() and a write to stdout.
 */

#ifndef _CONSENT_OCD_RULES_H_INCLUDED_
#define _CONSENT_OCD_RULES_H_INCLUDED_


#include "consent_core.h"
#include "ocd.h"


/* limits of the CSV reader for the database */
#define CONSENT_OCD_FIELD_MAX       (16 * 1024)
#define CONSENT_OCD_RECORD_MAX      (64 * 1024)
#define CONSENT_OCD_FIELDS_MAX      64

/* consent_ocd_convert() errors, besides the CSV's and the columns' */
#define CONSENT_OCD_E_EMPTY         100     /* no header record */
#define CONSENT_OCD_E_MEMORY        101
#define CONSENT_OCD_E_WRITE         102     /* write returned -1 */
#define CONSENT_OCD_E_WRITTEN       103     /* a second write of a set */


typedef struct consent_ocd_set_s  consent_ocd_set_t;

/* writes len bytes somewhere: 0, or -1 to stop */
typedef int (*consent_ocd_write_pt)(void *data, const unsigned char *p,
    size_t len);

/* rules, vendors_ruled, duplicates and replaced once written */
typedef struct {
    unsigned                   rows;         /* records after the header */
    unsigned                   rules;        /* rule lines written */
    unsigned                   vendors;      /* all of them */
    unsigned                   vendors_ruled; /* with a rule line */
    unsigned                   skipped[CONSENT_OCD_SKIPS];   /* rows */
    unsigned                   duplicates;   /* lines written already */
    unsigned                   replaced;     /* lines that lost to others */
} consent_ocd_stats_t;


consent_ocd_set_t *consent_ocd_set_create(const consent_alloc_t *a);
/* copies what it keeps of the row; 0, or -1 when out of memory */
int consent_ocd_set_add(consent_ocd_set_t *set, const consent_ocd_row_t *row);
/*
 * The rules file: the header comment, each vendor in byte order of its
 * id, the summary.  Returns 0, or -1 and err (CONSENT_OCD_E_MEMORY,
 * _WRITE, _WRITTEN).  Once only; the set may not be added to afterwards.
 */
int consent_ocd_set_write(consent_ocd_set_t *set, consent_ocd_write_pt write,
    void *data, consent_err_t *err);
void consent_ocd_set_stats(const consent_ocd_set_t *set,
    consent_ocd_stats_t *stats);

/*
 * The whole CSV (p, len) into a rules file through write.  Returns 0, or
 * -1 and err: a CSV error (csv.h, with its line), a missing column
 * (CONSENT_OCD_E_COLUMN, line of the header), or CONSENT_OCD_E_*.  stats
 * may be NULL.
 */
int consent_ocd_convert(const unsigned char *p, size_t len,
    const consent_alloc_t *a, consent_ocd_write_pt write, void *data,
    consent_ocd_stats_t *stats, consent_err_t *err);


#endif /* _CONSENT_OCD_RULES_H_INCLUDED_ */
