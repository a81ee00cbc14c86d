/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Open Cookie Database (github.com/jkwakman/Open-Cookie-Database):
 * the columns of its CSV, and one row of it as what a rules file makes
 * of it: a vendor, a purpose, a cookie name pattern and the domains the
 * cookie lives on, or why it gives no rule.  ocd.c says how; what all
 * rows together become is ocd_rules.h's.
 */

#ifndef _CONSENT_OCD_H_INCLUDED_
#define _CONSENT_OCD_H_INCLUDED_


#include "consent_core.h"
#include "rules.h"


/* the columns the mapping reads, found by their header names */
#define CONSENT_OCD_PLATFORM        0
#define CONSENT_OCD_CATEGORY        1
#define CONSENT_OCD_NAME            2
#define CONSENT_OCD_DOMAIN          3
#define CONSENT_OCD_CONTROLLER      4
#define CONSENT_OCD_PORTAL          5
#define CONSENT_OCD_WILDCARD        6
#define CONSENT_OCD_COLUMNS         7

/* consent_ocd_columns() error: err->msg names the missing column */
#define CONSENT_OCD_E_COLUMN        20      /* not a csv.h code */

/* the rules syntax's limits (rules.h) */
/* what a rules line takes: rules.h */
#define CONSENT_OCD_NAME_MAX        CONSENT_NAME_MAX  /* '*' included */
#define CONSENT_OCD_VENDOR_MAX      CONSENT_VENDOR_MAX
#define CONSENT_OCD_DOMAIN_MAX      CONSENT_DOMAIN_MAX
#define CONSENT_OCD_TEXT_MAX        CONSENT_VENDOR_TEXT_MAX
#define CONSENT_OCD_URL_MAX         CONSENT_VENDOR_URL_MAX
#define CONSENT_OCD_DOMAINS_MAX     CONSENT_VENDOR_DOMAINS_MAX

/* valid domains kept from one row's Domain (the rest are ignored) */
#define CONSENT_OCD_ROW_DOMAINS     8

/* what a row counts as: consent_ocd_row_t.category */
#define CONSENT_OCD_C_ANALYTICS        0
#define CONSENT_OCD_C_ADVERTISING      1
#define CONSENT_OCD_C_PERSONALIZATION  2
#define CONSENT_OCD_C_LEFT_OUT         3    /* functional, security, ... */
#define CONSENT_OCD_CATEGORIES         4

/* why a row gives no rule: consent_ocd_row_t.skip */
#define CONSENT_OCD_S_NONE          0
#define CONSENT_OCD_S_FIELDS        1       /* fewer fields than needed */
#define CONSENT_OCD_S_VENDOR        2       /* no usable Platform */
#define CONSENT_OCD_S_LEFT_OUT      3       /* not a rule's category */
#define CONSENT_OCD_S_EMPTY         4       /* the name (or prefix) */
#define CONSENT_OCD_S_BYTE          5       /* outside visible ASCII */
#define CONSENT_OCD_S_SPACE         6
#define CONSENT_OCD_S_SEPARATOR     7       /* ';', '=' or ',' */
#define CONSENT_OCD_S_LEADING       8       /* '~', '#' or '@' first */
#define CONSENT_OCD_S_LONG          9
#define CONSENT_OCD_S_GENERIC      10       /* too generic for every site */
#define CONSENT_OCD_SKIPS          11


typedef struct {
    size_t                     col[CONSENT_OCD_COLUMNS];
    size_t                     need;         /* fields a row must have */
} consent_ocd_cols_t;


/*
 * One row.  The spans point into the record's fields; the arrays are the
 * row's own.
 */
typedef struct {
    int                        category;     /* CONSENT_OCD_C_* */
    int                        skip;         /* CONSENT_OCD_S_* */
    unsigned                   purpose;      /* CONSENT_P_*, for a rule */

    unsigned char              vendor[CONSENT_OCD_VENDOR_MAX];
    size_t                     vendor_len;

    consent_span_t             platform;     /* trimmed, as it is */
    /* valid as @vendor values, or empty */
    consent_span_t             name;         /* the Platform */
    consent_span_t             controller;
    consent_span_t             policy;

    /*
     * The cleaned cookie name, '*' added for a prefix; for a skipped
     * name, what was left of it (its first bytes when truncated).
     */
    unsigned char              pattern[CONSENT_OCD_NAME_MAX + 1];
    size_t                     pattern_len;
    unsigned                   prefix:1;
    unsigned                   truncated:1;

    unsigned char              domain[CONSENT_OCD_ROW_DOMAINS]
                                     [CONSENT_OCD_DOMAIN_MAX];
    size_t                     domain_len[CONSENT_OCD_ROW_DOMAINS];
    unsigned                   ndomains;
} consent_ocd_row_t;


/*
 * The columns' indexes from the header record.  Names are compared
 * without surrounding whitespace and without regard to ASCII case.
 * Returns 0, or -1 and err (CONSENT_OCD_E_COLUMN).
 */
int consent_ocd_columns(const consent_span_t *fields, size_t n,
    consent_ocd_cols_t *cols, consent_err_t *err);

/* one record into *row; returns row->skip */
int consent_ocd_row(const consent_ocd_cols_t *cols,
    const consent_span_t *fields, size_t n, consent_ocd_row_t *row);

/* "too generic for every site", for people */
const char *consent_ocd_skip_reason(int skip);

/*
 * Bytes for a comment line: every byte outside visible ASCII, and '\',
 * as \xNN, or with text only control bytes and '\'.  Writes what fits
 * in size (whole escapes only) and returns its length.
 */
size_t consent_ocd_escape(const unsigned char *p, size_t len, int text,
    unsigned char *out, size_t size);

/* 1 when the bytes may be a quoted @vendor value, or an http(s) URL */
int consent_ocd_text_valid(const unsigned char *p, size_t len);
int consent_ocd_url_valid(const unsigned char *p, size_t len);


#endif /* _CONSENT_OCD_H_INCLUDED_ */
