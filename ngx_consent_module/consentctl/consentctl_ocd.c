/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl rules import-ocd FILE: reads the Open Cookie Database CSV
 * and prints the rules file the core's consent_ocd_convert() makes of it
 * (the mapping is in consent_core/ocd.c and ocd_rules.c).  Nothing
 * reaches stdout unless the whole CSV was read, so a CSV error never
 * leaves half a rules file behind a redirection's back.
 */


#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consentctl_ocd.h"
#include "csv.h"
#include "ocd_rules.h"


#define CTL_OCD_FILE_MAX            (64 * 1024 * 1024)




/* the rules file, in memory until it is complete */
typedef struct {
    unsigned char             *data;
    size_t                     len;
    size_t                     cap;
} ctl_ocd_buf_t;


static int ctl_ocd_append(void *data, const unsigned char *p, size_t len);


int
ctl_rules_import_ocd(ctl_t *ctl, int argc, char **argv)
{
    int                   rc;
    char                 *path;
    size_t                len;
    unsigned char        *csv;
    ctl_ocd_buf_t         out;
    consent_err_t         err;
    consent_alloc_t       a;
    ctl_block_t          *blocks;

    rc = ctl_args("rules import-ocd", argc, argv, NULL, &path, 1);
    if (rc != CTL_OK) {
        return rc;
    }

    csv = (unsigned char *) ctl_read_file(path, "file", CTL_OCD_FILE_MAX, "",
                                          &len);
    if (csv == NULL) {
        return CTL_ERROR;
    }

    blocks = NULL;
    a.alloc = ctl_arena_alloc;
    a.data = &blocks;

    memset(&out, 0, sizeof(ctl_ocd_buf_t));

    rc = CTL_OK;

    if (consent_ocd_convert(csv, len, &a, ctl_ocd_append, &out, NULL, &err)
        != 0)
    {
        if (err.line) {
            ctl_error("%s:%u: %s", path, err.line, err.msg);

        } else {
            ctl_error("%s: %s", path, err.msg);
        }

        rc = CTL_ERROR;

    } else if (fwrite(out.data, 1, out.len, stdout) != out.len) {
        ctl_error("writing the rules: %s", strerror(errno));
        rc = CTL_ERROR;
    }

    free(out.data);
    ctl_arena_free(blocks);
    free(csv);

    return rc;
}


static int
ctl_ocd_append(void *data, const unsigned char *p, size_t len)
{
    size_t          cap;
    unsigned char  *nd;
    ctl_ocd_buf_t  *buf;

    buf = data;

    if (len > buf->cap - buf->len) {
        cap = buf->cap ? buf->cap : 64 * 1024;

        while (len > cap - buf->len) {
            if (cap > CTL_OCD_FILE_MAX) {
                return -1;
            }

            cap *= 2;
        }

        nd = realloc(buf->data, cap);
        if (nd == NULL) {
            return -1;
        }

        buf->data = nd;
        buf->cap = cap;
    }

    memcpy(buf->data + buf->len, p, len);
    buf->len += len;

    return 0;
}


