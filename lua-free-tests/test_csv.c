/*
 * Copyright (C) ngx_consent_module authors
 *
 * The CSV reader: quoting, "" escapes, line breaks in fields, CRLF, the
 * BOM, blank lines, and every limit failing with its line.  Inputs are
 * exactly sized heap copies, so a byte read past the end is an ASan
 * report.
 */

#include "test.h"
#include "csv.h"


#define T_FIELDS  8
#define T_BUF     64


typedef struct {
    consent_csv_t          csv;
    consent_csv_record_t   rec;
    consent_span_t         fields[T_FIELDS];
    unsigned char          buf[T_BUF];
    unsigned char         *input;
    size_t                 len;
    consent_err_t          err;
} t_csv_t;


static void
t_open(t_csv_t *t, const char *s, size_t len, size_t field_max)
{
    t->input = malloc(len ? len : 1);
    if (t->input == NULL) {
        abort();
    }

    memcpy(t->input, s, len);
    t->len = len;

    t->rec.fields = t->fields;
    t->rec.max = T_FIELDS;
    t->rec.buf = t->buf;
    t->rec.size = T_BUF;

    consent_csv_init(&t->csv, t->input, len, field_max);
}


static void
t_close(t_csv_t *t)
{
    free(t->input);
}


static int
t_next(t_csv_t *t)
{
    return consent_csv_next(&t->csv, &t->rec, &t->err);
}


#define T_OPEN(t, s)       t_open(t, s, sizeof(s) - 1, 1024)
#define FIELD(t, i, s)     CHECK_MEM((t)->fields[i].data, (t)->fields[i].len, s)


static void
test_csv_plain(void)
{
    t_csv_t  t;

    T_OPEN(&t, "a,b,c\n1,22,333\n");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 3);
    CHECK_INT(t.rec.line, 1);
    FIELD(&t, 0, "a");
    FIELD(&t, 1, "b");
    FIELD(&t, 2, "c");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 3);
    CHECK_INT(t.rec.line, 2);
    FIELD(&t, 0, "1");
    FIELD(&t, 1, "22");
    FIELD(&t, 2, "333");

    CHECK_INT(t_next(&t), 0);
    CHECK_INT(t_next(&t), 0);
    t_close(&t);

    /* no line break at the end */
    T_OPEN(&t, "a,b\nc,d");
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 2);
    FIELD(&t, 1, "d");
    CHECK_INT(t_next(&t), 0);
    t_close(&t);

    /* nothing, a BOM alone, blank lines alone */
    T_OPEN(&t, "");
    CHECK_INT(t_next(&t), 0);
    t_close(&t);

    T_OPEN(&t, "\xef\xbb\xbf");
    CHECK_INT(t_next(&t), 0);
    t_close(&t);

    T_OPEN(&t, "\n\r\n\r");
    CHECK_INT(t_next(&t), 0);
    t_close(&t);
}


static void
test_csv_empty_fields(void)
{
    t_csv_t  t;

    T_OPEN(&t, ",,\na,\n,b\n\"\",x\na,");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 3);
    FIELD(&t, 0, "");
    FIELD(&t, 1, "");
    FIELD(&t, 2, "");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 2);
    FIELD(&t, 0, "a");
    FIELD(&t, 1, "");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 2);
    FIELD(&t, 0, "");
    FIELD(&t, 1, "b");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 2);
    FIELD(&t, 0, "");
    FIELD(&t, 1, "x");

    /* a ',' last in the input: an empty field after it */
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 2);
    CHECK_INT(t.rec.line, 5);
    FIELD(&t, 1, "");

    CHECK_INT(t_next(&t), 0);
    t_close(&t);
}


static void
test_csv_quotes(void)
{
    t_csv_t  t;

    T_OPEN(&t, "\"a,b\",\"c\"\"d\",\"\"\"\",e\"f,\"x\"\n");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, 5);
    FIELD(&t, 0, "a,b");
    FIELD(&t, 1, "c\"d");
    FIELD(&t, 2, "\"");
    /* a quote inside an unquoted field is a plain byte */
    FIELD(&t, 3, "e\"f");
    FIELD(&t, 4, "x");
    CHECK_INT(t_next(&t), 0);
    t_close(&t);

    /* a space before the quote: not a quoted field */
    T_OPEN(&t, " \"a\",b");
    CHECK_INT(t_next(&t), 1);
    FIELD(&t, 0, " \"a\"");
    t_close(&t);
}


static void
test_csv_newlines(void)
{
    t_csv_t  t;

    T_OPEN(&t, "\"x\ny\",z\nnext,\"a\r\nb\"\r\nlast\rcr\n");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.line, 1);
    CHECK_INT(t.rec.n, 2);
    FIELD(&t, 0, "x\ny");
    FIELD(&t, 1, "z");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.line, 3);
    FIELD(&t, 0, "next");
    FIELD(&t, 1, "a\r\nb");

    /* a lone CR ends a record too */
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.line, 5);
    CHECK_INT(t.rec.n, 1);
    FIELD(&t, 0, "last");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.line, 6);
    FIELD(&t, 0, "cr");

    CHECK_INT(t_next(&t), 0);
    t_close(&t);

    /* CRLF records and blank lines between them */
    T_OPEN(&t, "a,b\r\n\r\n\nc,d\r\n");
    CHECK_INT(t_next(&t), 1);
    FIELD(&t, 1, "b");
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.line, 4);
    FIELD(&t, 0, "c");
    FIELD(&t, 1, "d");
    CHECK_INT(t_next(&t), 0);
    t_close(&t);
}


static void
test_csv_bom(void)
{
    t_csv_t  t;

    T_OPEN(&t, "\xef\xbb\xbfID,x\r\n\xef\xbb\xbf" "1,2\r\n");

    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.line, 1);
    FIELD(&t, 0, "ID");

    /* only at the start of the input */
    CHECK_INT(t_next(&t), 1);
    FIELD(&t, 0, "\xef\xbb\xbf" "1");
    t_close(&t);
}


static void
test_csv_errors(void)
{
    t_csv_t  t;

    /* unterminated: the line the quote opened on */
    T_OPEN(&t, "a\nb\n\"c\nd,e\n");
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_QUOTE);
    CHECK_INT(t.err.line, 3);
    CHECK(t.err.msg != NULL);
    CHECK(t.err.at.data == t.input + 4 && t.err.at.len == 1);

    /* and it stays failed */
    memset(&t.err, 0, sizeof(consent_err_t));
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_QUOTE);
    CHECK_INT(t.err.line, 3);
    t_close(&t);

    T_OPEN(&t, "\"");
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_QUOTE);
    t_close(&t);

    /* a quote closed and reopened at the very end */
    T_OPEN(&t, "\"ab\"\"");
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_QUOTE);
    t_close(&t);

    T_OPEN(&t, "x\n\"a\"b,c\n");
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_AFTER_QUOTE);
    CHECK_INT(t.err.line, 2);
    CHECK(t.err.at.data == t.input + 5);
    t_close(&t);
}


static void
test_csv_limits(void)
{
    size_t   i;
    t_csv_t  t;
    char     big[T_BUF + 8];

    /* field_max 3 */
    t_open(&t, "abc,\"d\"\"e\"\nabcd\n", 16, 3);
    CHECK_INT(t_next(&t), 1);
    FIELD(&t, 0, "abc");
    FIELD(&t, 1, "d\"e");
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_FIELD);
    CHECK_INT(t.err.line, 2);
    t_close(&t);

    t_open(&t, "\"a\nbcd\"", 7, 3);
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_FIELD);
    CHECK_INT(t.err.line, 1);
    t_close(&t);

    /* fields: T_FIELDS fit, one more does not */
    T_OPEN(&t, "1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8,9\n");
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.rec.n, T_FIELDS);
    FIELD(&t, 7, "8");
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_FIELDS);
    CHECK_INT(t.err.line, 2);
    t_close(&t);

    /* the record buffer: T_BUF bytes fit, one more does not */
    for (i = 0; i < T_BUF; i++) {
        big[i] = 'x';
    }

    big[T_BUF] = '\n';
    t_open(&t, big, T_BUF + 1, 1024);
    CHECK_INT(t_next(&t), 1);
    CHECK_INT(t.fields[0].len, T_BUF);
    t_close(&t);

    big[T_BUF] = 'x';
    t_open(&t, big, T_BUF + 1, 1024);
    CHECK_INT(t_next(&t), -1);
    CHECK_INT(t.err.code, CONSENT_CSV_E_RECORD);
    CHECK_INT(t.err.line, 1);
    t_close(&t);
}


void
test_csv(void)
{
    test_csv_plain();
    test_csv_empty_fields();
    test_csv_quotes();
    test_csv_newlines();
    test_csv_bom();
    test_csv_errors();
    test_csv_limits();
}
