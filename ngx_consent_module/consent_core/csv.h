/*
 * Copyright (C) ngx_consent_module authors
 *
 * An RFC 4180 CSV record reader over a buffer: fields separated by ',',
 * records by CRLF, LF or a lone CR; a field that starts with '"' is
 * quoted, may hold ',', CR and LF, and writes '"' as "".  A UTF-8 BOM at
 * the start is skipped, and so are blank lines (a record is never empty,
 * so a file may end with a line break or not).  A '"' inside an unquoted
 * field is a plain byte (as most writers and readers have it); bytes
 * between a closing quote and the next ',' or line break are an error.
 *
 * Bounded: every field is at most field_max bytes, a record at most the
 * caller's buffer and field array; past either, or at an unterminated
 * quote, the reader fails with the line, and never reads past len.
 */

#ifndef _CONSENT_CSV_H_INCLUDED_
#define _CONSENT_CSV_H_INCLUDED_


#include "consent_core.h"


/* consent_csv_next() errors: err->code, err->line, err->at in the input */
#define CONSENT_CSV_E_QUOTE         1   /* a quoted field never closed */
#define CONSENT_CSV_E_AFTER_QUOTE   2   /* a byte after a closing quote */
#define CONSENT_CSV_E_FIELD         3   /* a field over field_max */
#define CONSENT_CSV_E_RECORD        4   /* a record over the buffer */
#define CONSENT_CSV_E_FIELDS        5   /* more fields than the array */


typedef struct {
    const unsigned char       *pos;
    const unsigned char       *end;
    size_t                     field_max;
    unsigned                   line;         /* of pos, 1-based */
    consent_err_t              err;          /* the first failure */
    unsigned                   failed:1;
} consent_csv_t;


/* one record: fields point into buf, the caller's, unquoted */
typedef struct {
    consent_span_t            *fields;       /* the caller's, max of them */
    size_t                     max;
    size_t                     n;
    unsigned char             *buf;          /* the caller's, size bytes */
    size_t                     size;
    unsigned                   line;         /* where the record starts */
} consent_csv_record_t;


void consent_csv_init(consent_csv_t *csv, const unsigned char *p,
    size_t len, size_t field_max);
/*
 * The next record into rec (fields, max, buf and size set by the caller):
 * 1, 0 at the end of the input, or -1 and err.  After a failure every
 * call fails again with the same err.
 */
int consent_csv_next(consent_csv_t *csv, consent_csv_record_t *rec,
    consent_err_t *err);


#endif /* _CONSENT_CSV_H_INCLUDED_ */
