/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the CSV record reader.
 *
 * The first two bytes choose the limits (field_max, the number of fields
 * and the size of the record buffer, each exactly sized on the heap so a
 * byte written past them is an ASan report); the rest is the CSV, an
 * exactly sized copy.  Every answer is checked against what csv.h
 * promises: records within the limits, lines that only grow, an error
 * with its line and the input at fault, and one that stays.  Then the
 * records read are written back out, every field quoted, and read again
 * without limits: the same fields must come back.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"


#define FUZZ_RECORDS_MAX     256


typedef struct {
    unsigned char         *data;
    size_t                 len;
    size_t                 cap;
} fuzz_buf_t;


static void
fuzz_put(fuzz_buf_t *b, const void *p, size_t len)
{
    unsigned char  *n;

    if (len > b->cap - b->len) {
        b->cap = (b->cap + len) * 2;

        n = realloc(b->data, b->cap);
        if (n == NULL) {
            abort();
        }

        b->data = n;
    }

    memcpy(b->data + b->len, p, len);
    b->len += len;
}


/* a record, every field quoted, CRLF after it */
static void
fuzz_write_record(fuzz_buf_t *b, const consent_csv_record_t *rec)
{
    size_t  i, j;

    for (i = 0; i < rec->n; i++) {
        fuzz_put(b, i ? ",\"" : "\"", i ? 2 : 1);

        for (j = 0; j < rec->fields[i].len; j++) {
            if (rec->fields[i].data[j] == '"') {
                fuzz_put(b, "\"", 1);
            }

            fuzz_put(b, &rec->fields[i].data[j], 1);
        }

        fuzz_put(b, "\"", 1);
    }

    fuzz_put(b, "\r\n", 2);
}


static void
fuzz_check_record(const consent_csv_record_t *rec, size_t field_max)
{
    size_t                i;
    const unsigned char  *next;

    FUZZ_ASSERT(rec->n >= 1 && rec->n <= rec->max);

    /* one after the other in the buffer */
    next = rec->buf;

    for (i = 0; i < rec->n; i++) {
        FUZZ_ASSERT(rec->fields[i].data == next);
        FUZZ_ASSERT(rec->fields[i].len <= field_max);
        next += rec->fields[i].len;
    }

    FUZZ_ASSERT((size_t) (next - rec->buf) <= rec->size);
}


static void
fuzz_check_error(const consent_err_t *err, const unsigned char *p,
    size_t len, unsigned lines)
{
    FUZZ_ASSERT(err->code >= CONSENT_CSV_E_QUOTE
                && err->code <= CONSENT_CSV_E_FIELDS);
    FUZZ_ASSERT(err->msg != NULL && err->msg[0] != '\0');
    FUZZ_ASSERT(err->line >= 1 && err->line <= lines);
    FUZZ_ASSERT(err->at.data >= p && err->at.data <= p + len
                && err->at.len <= (size_t) (p + len - err->at.data));
}


/* reads back what fuzz_write_record() wrote: the same fields */
static void
fuzz_reread(const fuzz_buf_t *b, const size_t *counts, unsigned char **bufs,
    unsigned nrec)
{
    int                    rc;
    size_t                 i, off;
    unsigned               r, last;
    consent_err_t          err;
    consent_csv_t          csv;
    consent_span_t         fields[64];
    consent_csv_record_t   rec;

    rec.fields = fields;
    rec.max = 64;
    rec.size = b->len + 1;
    rec.buf = malloc(rec.size);

    if (rec.buf == NULL) {
        abort();
    }

    consent_csv_init(&csv, b->data, b->len, (size_t) -1);

    last = 0;

    for (r = 0; r < nrec; r++) {
        rc = consent_csv_next(&csv, &rec, &err);

        FUZZ_ASSERT(rc == 1);
        FUZZ_ASSERT(rec.n == counts[r]);
        FUZZ_ASSERT(rec.line > last);
        last = rec.line;

        off = 0;

        for (i = 0; i < rec.n; i++) {
            /* bufs[r] holds the record's fields, one after the other */
            FUZZ_ASSERT(memcmp(rec.fields[i].data, bufs[r] + off,
                               rec.fields[i].len) == 0);
            off += rec.fields[i].len;
        }
    }

    FUZZ_ASSERT(consent_csv_next(&csv, &rec, &err) == 0);

    free(rec.buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    rc;
    size_t                 len, field_max, total, i;
    unsigned               lines, last, nrec;
    unsigned char         *p, *bufs[FUZZ_RECORDS_MAX];
    size_t                 counts[FUZZ_RECORDS_MAX];
    fuzz_buf_t             out;
    consent_err_t          err, again;
    consent_csv_t          csv;
    consent_csv_record_t   rec;

    if (size < 2) {
        return 0;
    }

    /* the limits */
    field_max = (data[0] & 0x80) ? (size_t) -1 : (size_t) (data[0] & 0x7f);
    rec.max = 1 + (data[1] & 0x0f);
    rec.size = (size_t) (data[1] >> 4) * 16 + (data[0] & 0x0f);

    len = size - 2;
    p = fuzz_copy(data + 2, len);

    rec.fields = malloc(rec.max * sizeof(consent_span_t));
    rec.buf = malloc(rec.size ? rec.size : 1);

    if (rec.fields == NULL || rec.buf == NULL) {
        abort();
    }

    lines = 1;

    for (i = 0; i < len; i++) {
        lines += (p[i] == '\n'
                  || (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n')));
    }

    memset(&out, 0, sizeof(fuzz_buf_t));
    consent_csv_init(&csv, p, len, field_max);

    last = 0;
    nrec = 0;

    for ( ;; ) {
        rc = consent_csv_next(&csv, &rec, &err);

        FUZZ_ASSERT(rc >= -1 && rc <= 1);

        if (rc == 0) {
            FUZZ_ASSERT(consent_csv_next(&csv, &rec, &err) == 0);
            break;
        }

        if (rc < 0) {
            fuzz_check_error(&err, p, len, lines);

            /* it stays */
            FUZZ_ASSERT(consent_csv_next(&csv, &rec, &again) == -1);
            FUZZ_ASSERT(again.code == err.code && again.line == err.line);
            break;
        }

        fuzz_check_record(&rec, field_max);

        FUZZ_ASSERT(rec.line > last && rec.line <= lines);
        last = rec.line;

        if (nrec < FUZZ_RECORDS_MAX) {
            total = 0;

            for (i = 0; i < rec.n; i++) {
                total += rec.fields[i].len;
            }

            bufs[nrec] = fuzz_copy(rec.buf, total);
            counts[nrec] = rec.n;
            nrec++;

            fuzz_write_record(&out, &rec);
        }
    }

    if (nrec) {
        fuzz_reread(&out, counts, bufs, nrec);
    }

    for (i = 0; i < nrec; i++) {
        free(bufs[i]);
    }

    free(out.data);
    free(rec.buf);
    free(rec.fields);
    free(p);

    return 0;
}
