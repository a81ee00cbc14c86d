/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: the Open Cookie Database import, CSV to rules file.
 *
 * The input is the CSV's rows; the database's header is put before them
 * unless the input starts with "ID," (a header of its own).  A first
 * byte below 0x10 is not part of the CSV: it makes the (8 * byte + 1)-th
 * allocation and all later ones fail, to walk the out-of-memory paths.
 *
 * What the conversion writes must be a rules file whatever the rows
 * hold: every line a comment, a "@vendor" line or a rule line whose
 * fields have the bytes the rules syntax allows, and no control byte
 * anywhere.  Converting the same input twice gives the same bytes.
 * Memory comes from a malloc-based consent_alloc_t that remembers every
 * block and frees them all after each input.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ocd_rules.h"
#include "fuzz.h"


static const char  fuzz_header[] =
    "ID,Platform,Category,Cookie / Data Key name,Domain,Description,"
    "Retention period,Data Controller,User Privacy & GDPR Rights Portals,"
    "Wildcard match\r\n";


typedef struct {
    unsigned char         *data;
    size_t                 len;
    size_t                 cap;
} fuzz_buf_t;


static int
fuzz_write(void *data, const unsigned char *p, size_t len)
{
    unsigned char  *n;
    fuzz_buf_t     *b = data;

    FUZZ_ASSERT(len > 0);

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

    return 0;
}


/* the next space-separated word of a line */
static size_t
fuzz_word(const unsigned char *p, size_t len, size_t *pos,
    const unsigned char **w)
{
    size_t  start;

    while (*pos < len && p[*pos] == ' ') {
        (*pos)++;
    }

    start = *pos;

    while (*pos < len && p[*pos] != ' ') {
        (*pos)++;
    }

    *w = p + start;

    return *pos - start;
}


static int
fuzz_is(const unsigned char *w, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(w, s, n) == 0;
}


static int
fuzz_bytes(const unsigned char *w, size_t n, const char *extra, int lower)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if ((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9')
            || (!lower && w[i] >= 'A' && w[i] <= 'Z')
            || (w[i] != '\0' && strchr(extra, w[i]) != NULL))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


/* PATTERN PURPOSE VENDOR [domain=D domain-only] */
static void
fuzz_check_rule(const unsigned char *p, size_t len)
{
    size_t                 i, n, pos;
    const unsigned char   *w;

    pos = 0;

    n = fuzz_word(p, len, &pos, &w);
    FUZZ_ASSERT(n >= 1 && n <= CONSENT_OCD_NAME_MAX);
    FUZZ_ASSERT(w == p && w[0] != '~' && w[0] != '#' && w[0] != '@');
    FUZZ_ASSERT(!(n == 1 && w[0] == '*'));

    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(w[i] >= 0x21 && w[i] <= 0x7e && w[i] != ';'
                    && w[i] != '=' && w[i] != ',');
    }

    n = fuzz_word(p, len, &pos, &w);
    FUZZ_ASSERT(fuzz_is(w, n, "analytics") || fuzz_is(w, n, "advertising")
                || fuzz_is(w, n, "personalization"));

    n = fuzz_word(p, len, &pos, &w);
    FUZZ_ASSERT(n >= 1 && n <= CONSENT_OCD_VENDOR_MAX);
    FUZZ_ASSERT(fuzz_bytes(w, n, "._-", 0));

    n = fuzz_word(p, len, &pos, &w);

    if (n == 0) {
        return;
    }

    FUZZ_ASSERT(n > 7 && memcmp(w, "domain=", 7) == 0);
    FUZZ_ASSERT(n - 7 <= CONSENT_OCD_DOMAIN_MAX);
    FUZZ_ASSERT(fuzz_bytes(w + 7, n - 7, ".-", 1));
    FUZZ_ASSERT(memchr(w + 7, '.', n - 7) != NULL);
    FUZZ_ASSERT(w[7] != '.' && w[n - 1] != '.');

    n = fuzz_word(p, len, &pos, &w);
    FUZZ_ASSERT(fuzz_is(w, n, "domain-only"));

    n = fuzz_word(p, len, &pos, &w);
    FUZZ_ASSERT(n == 0);
}


/* @vendor ID [name="..."] [controller="..."] purposes=P [policy=U] ... */
static void
fuzz_check_vendor(const unsigned char *p, size_t len)
{
    size_t                 n, pos, k, key;
    const unsigned char   *w, *q;

    static const char     *keys[] = {
        "name=\"", "controller=\"", "purposes=", "policy=", "domains=", NULL
    };

    pos = 8;
    n = fuzz_word(p, len, &pos, &w);
    FUZZ_ASSERT(n >= 1 && n <= CONSENT_OCD_VENDOR_MAX);
    FUZZ_ASSERT(fuzz_bytes(w, n, "._-", 0));

    key = 0;

    while (pos < len) {
        FUZZ_ASSERT(p[pos] == ' ');
        pos++;

        /* the fields in their order, each at most once */
        for ( /* void */ ; keys[key]; key++) {
            k = strlen(keys[key]);

            if (len - pos >= k && memcmp(p + pos, keys[key], k) == 0) {
                break;
            }
        }

        FUZZ_ASSERT(keys[key] != NULL);
        pos += k;

        if (key <= 1) {
            /* a quoted value: up to the next '"', at most 128 bytes */
            q = memchr(p + pos, '"', len - pos);
            FUZZ_ASSERT(q != NULL);
            FUZZ_ASSERT(q > p + pos
                        && (size_t) (q - p - pos) <= CONSENT_OCD_TEXT_MAX);
            pos = (size_t) (q - p) + 1;

        } else {
            n = fuzz_word(p, len, &pos, &w);
            FUZZ_ASSERT(n >= 1);

            if (key == 2) {
                FUZZ_ASSERT(fuzz_bytes(w, n, ",", 1));

            } else if (key == 3) {
                FUZZ_ASSERT(n <= CONSENT_OCD_URL_MAX);
                FUZZ_ASSERT(memchr(w, '"', n) == NULL
                            && memchr(w, '<', n) == NULL
                            && memchr(w, '>', n) == NULL
                            && memchr(w, '\\', n) == NULL);

            } else {
                FUZZ_ASSERT(fuzz_bytes(w, n, ".-,", 1));
            }
        }

        key++;
    }

    FUZZ_ASSERT(key > 2);
}


static void
fuzz_check_output(const fuzz_buf_t *b)
{
    size_t                 i, len;
    const unsigned char   *p, *end, *eol;

    FUZZ_ASSERT(b->len > 0 && b->data[b->len - 1] == '\n');

    for (i = 0; i < b->len; i++) {
        FUZZ_ASSERT(b->data[i] == '\n'
                    || (b->data[i] >= 0x20 && b->data[i] != 0x7f));
    }

    p = b->data;
    end = b->data + b->len;

    while (p < end) {
        eol = memchr(p, '\n', (size_t) (end - p));
        len = (size_t) (eol - p);

        if (len == 0 || p[0] == '#') {
            /* a blank line or a comment */

        } else if (len > 8 && memcmp(p, "@vendor ", 8) == 0) {
            fuzz_check_vendor(p, len);

        } else {
            fuzz_check_rule(p, len);
        }

        p = eol + 1;
    }
}


static int
fuzz_convert(const unsigned char *p, size_t len, size_t fail_at,
    fuzz_buf_t *out, consent_err_t *err, consent_ocd_stats_t *st)
{
    int              rc;
    fuzz_pool_t      pool;
    consent_alloc_t  a;

    fuzz_pool_init(&pool, fail_at, &a);

    rc = consent_ocd_convert(p, len, &a, fuzz_write, out, st, err);

    FUZZ_ASSERT(rc == 0 || rc == -1);
    FUZZ_ASSERT(rc == 0 || err->msg != NULL);
    FUZZ_ASSERT(!pool.failed || rc == -1);
    FUZZ_ASSERT(rc == 0 || pool.failed || err->code != CONSENT_OCD_E_MEMORY);

    fuzz_pool_free(&pool);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    size_t                len, hlen, fail_at;
    unsigned char        *p;
    fuzz_buf_t            one, two;
    consent_err_t         err;
    consent_ocd_stats_t   st;

    fail_at = 0;

    if (size && data[0] < 0x10) {
        fail_at = (size_t) data[0] * 8 + 1;
        data++;
        size--;
    }

    hlen = (size >= 3 && memcmp(data, "ID,", 3) == 0)
           ? 0 : sizeof(fuzz_header) - 1;
    len = hlen + size;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    memcpy(p, fuzz_header, hlen);
    memcpy(p + hlen, data, size);

    memset(&one, 0, sizeof(fuzz_buf_t));
    memset(&two, 0, sizeof(fuzz_buf_t));

    rc = fuzz_convert(p, len, fail_at, &one, &err, &st);

    if (rc == 0) {
        fuzz_check_output(&one);

        FUZZ_ASSERT(st.vendors_ruled <= st.vendors);
        FUZZ_ASSERT(st.vendors <= st.rows);

        if (fail_at == 0) {
            FUZZ_ASSERT(fuzz_convert(p, len, 0, &two, &err, &st) == 0);
            FUZZ_ASSERT(one.len == two.len
                        && memcmp(one.data, two.data, one.len) == 0);
        }

    } else if (err.code >= CONSENT_CSV_E_QUOTE
               && err.code <= CONSENT_CSV_E_FIELDS)
    {
        FUZZ_ASSERT(err.line >= 1);
        /* nothing is written for a file that was not read whole */
        FUZZ_ASSERT(one.len == 0);

    } else {
        FUZZ_ASSERT(err.code == CONSENT_OCD_E_EMPTY
                    || err.code == CONSENT_OCD_E_COLUMN
                    || err.code == CONSENT_OCD_E_MEMORY);
    }

    free(one.data);
    free(two.data);
    free(p);

    return 0;
}
