/*
 * Copyright (C) ngx_consent_module authors
 *
 * The CSV record reader: one pass over the input, each byte of a field
 * copied (unquoted) into the caller's buffer once.
 */

#include <string.h>

#include "csv.h"


/* where the field being read goes */
typedef struct {
    consent_csv_record_t      *rec;
    size_t                     used;         /* of rec->buf */
    size_t                     len;          /* of the field */
    const unsigned char       *start;        /* the field in the input */
    unsigned                   line;         /* where the field starts */
} consent_csv_out_t;


static void consent_csv_skip_blank(consent_csv_t *csv);
static int consent_csv_field(consent_csv_t *csv, consent_csv_out_t *out);
static int consent_csv_quoted(consent_csv_t *csv, consent_csv_out_t *out);
static int consent_csv_put(consent_csv_t *csv, consent_csv_out_t *out,
    unsigned char c);
static void consent_csv_newline(consent_csv_t *csv);
static int consent_csv_fail(consent_csv_t *csv, int code, const char *msg,
    const unsigned char *at, size_t len, unsigned line);


void
consent_csv_init(consent_csv_t *csv, const unsigned char *p, size_t len,
    size_t field_max)
{
    memset(csv, 0, sizeof(consent_csv_t));

    csv->pos = p;
    csv->end = p + len;
    csv->field_max = field_max;
    csv->line = 1;

    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        csv->pos += 3;
    }
}


int
consent_csv_next(consent_csv_t *csv, consent_csv_record_t *rec,
    consent_err_t *err)
{
    consent_csv_out_t  out;

    if (csv->failed) {
        *err = csv->err;
        return -1;
    }

    consent_csv_skip_blank(csv);

    if (csv->pos == csv->end) {
        return 0;
    }

    rec->n = 0;
    rec->line = csv->line;

    out.rec = rec;
    out.used = 0;

    for ( ;; ) {
        if (rec->n == rec->max) {
            consent_csv_fail(csv, CONSENT_CSV_E_FIELDS, "too many fields",
                             csv->pos, 0, csv->line);
            *err = csv->err;
            return -1;
        }

        if (consent_csv_field(csv, &out) != 0) {
            *err = csv->err;
            return -1;
        }

        rec->fields[rec->n].data = rec->buf + out.used - out.len;
        rec->fields[rec->n].len = out.len;
        rec->n++;

        if (csv->pos == csv->end) {
            return 1;
        }

        if (*csv->pos != ',') {
            /* a line break: the record is complete */
            consent_csv_newline(csv);
            return 1;
        }

        csv->pos++;
    }
}


/* blank lines between records, and the break after the last one */

static void
consent_csv_skip_blank(consent_csv_t *csv)
{
    while (csv->pos < csv->end
           && (*csv->pos == '\n' || *csv->pos == '\r'))
    {
        consent_csv_newline(csv);
    }
}


/* one line break at pos: CRLF, LF or CR */

static void
consent_csv_newline(consent_csv_t *csv)
{
    if (*csv->pos == '\r' && csv->end - csv->pos > 1
        && csv->pos[1] == '\n')
    {
        csv->pos++;
    }

    csv->pos++;
    csv->line++;
}


/* a field from pos up to (not including) the ',' or break after it */

static int
consent_csv_field(consent_csv_t *csv, consent_csv_out_t *out)
{
    out->len = 0;
    out->start = csv->pos;
    out->line = csv->line;

    if (csv->pos < csv->end && *csv->pos == '"') {
        return consent_csv_quoted(csv, out);
    }

    while (csv->pos < csv->end && *csv->pos != ','
           && *csv->pos != '\n' && *csv->pos != '\r')
    {
        if (consent_csv_put(csv, out, *csv->pos) != 0) {
            return -1;
        }

        csv->pos++;
    }

    return 0;
}


static int
consent_csv_quoted(consent_csv_t *csv, consent_csv_out_t *out)
{
    unsigned char  c;

    csv->pos++;

    for ( ;; ) {
        if (csv->pos == csv->end) {
            return consent_csv_fail(csv, CONSENT_CSV_E_QUOTE,
                                    "a quoted field is not closed",
                                    out->start, 1, out->line);
        }

        c = *csv->pos;

        if (c == '"') {
            if (csv->end - csv->pos > 1 && csv->pos[1] == '"') {
                csv->pos++;

            } else {
                csv->pos++;
                break;
            }

        } else if (c == '\n'
                   || (c == '\r'
                       && (csv->end - csv->pos == 1 || csv->pos[1] != '\n')))
        {
            /* the field goes on on the next line: count it */
            csv->line++;
        }

        if (consent_csv_put(csv, out, c) != 0) {
            return -1;
        }

        csv->pos++;
    }

    if (csv->pos < csv->end && *csv->pos != ','
        && *csv->pos != '\n' && *csv->pos != '\r')
    {
        return consent_csv_fail(csv, CONSENT_CSV_E_AFTER_QUOTE,
                                "a byte after the closing quote of a field",
                                csv->pos, 1, csv->line);
    }

    return 0;
}


static int
consent_csv_put(consent_csv_t *csv, consent_csv_out_t *out, unsigned char c)
{
    consent_csv_record_t  *rec;

    rec = out->rec;

    if (out->len == csv->field_max) {
        return consent_csv_fail(csv, CONSENT_CSV_E_FIELD,
                                "a field is too long", out->start,
                                (size_t) (csv->pos - out->start), out->line);
    }

    if (out->used == rec->size) {
        return consent_csv_fail(csv, CONSENT_CSV_E_RECORD,
                                "a record is too long", out->start,
                                (size_t) (csv->pos - out->start), out->line);
    }

    rec->buf[out->used++] = c;
    out->len++;

    return 0;
}


static int
consent_csv_fail(consent_csv_t *csv, int code, const char *msg,
    const unsigned char *at, size_t len, unsigned line)
{
    csv->failed = 1;
    csv->err.code = code;
    csv->err.msg = msg;
    csv->err.at.data = at;
    csv->err.at.len = len;
    csv->err.line = line;

    return -1;
}
