/*
 * Copyright (C) ngx_consent_module authors
 *
 * Input files: reading one whole (rules files, the cookie database CSV)
 * with a bound and a message that names it when that fails, the shipped
 * rules files when none is named, and the allocator the core's parsers
 * get here.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consentctl.h"


char *
ctl_read_file(const char *path, const char *what, size_t max,
    const char *hint, size_t *len)
{
    FILE    *f;
    char    *buf, *nb;
    size_t   n, cap;

    f = fopen(path, "rb");
    if (f == NULL) {
        ctl_error("cannot open %s \"%s\": %s%s", what, path, strerror(errno),
                  hint);
        return NULL;
    }

    cap = 64 * 1024;
    n = 0;

    buf = malloc(cap);
    if (buf == NULL) {
        ctl_error("out of memory");
        fclose(f);
        return NULL;
    }

    for ( ;; ) {
        n += fread(buf + n, 1, cap - n, f);

        if (ferror(f)) {
            ctl_error("cannot read %s \"%s\": %s", what, path,
                      strerror(errno));
            goto failed;
        }

        if (n < cap) {
            break;
        }

        if (cap >= max) {
            ctl_error("%s \"%s\" is over %zu bytes", what, path, max);
            goto failed;
        }

        nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            ctl_error("out of memory");
            goto failed;
        }

        buf = nb;
        cap *= 2;
    }

    fclose(f);
    *len = n;

    return buf;

failed:

    fclose(f);
    free(buf);

    return NULL;
}


/* the shipped rules, in the order nginx loads them (README) */
static const char  *ctl_default_rules[] = {
    CTL_DEFAULT_RULES_DIR "ocd.rules",
    CTL_DEFAULT_RULES_DIR "default.rules",
    CTL_DEFAULT_RULES_DIR "japan.rules",
    CTL_DEFAULT_RULES_DIR "keep.rules",
    NULL
};


void
ctl_rules_files_default(const char **files, int *nfiles)
{
    const char  **f;

    if (*nfiles) {
        return;
    }

    /* the shipped files that are there; none at all fails when read */
    for (f = ctl_default_rules; *f; f++) {
        if (access(*f, F_OK) == 0) {
            files[(*nfiles)++] = *f;
        }
    }

    if (*nfiles == 0) {
        files[(*nfiles)++] = ctl_default_rules[1];
    }
}


char *
ctl_read_rules_file(const char *path, size_t *len)
{
    return ctl_read_file(path, "rules file", CTL_RULES_FILE_MAX,
                         strncmp(path, CTL_DEFAULT_RULES_DIR,
                                 sizeof(CTL_DEFAULT_RULES_DIR) - 1) == 0
                         ? " (name the files nginx loads with --rules)" : "",
                         len);
}


void *
ctl_arena_alloc(void *data, size_t size)
{
    ctl_block_t  **blocks, *b;

    blocks = data;

    if (size > (size_t) -1 - sizeof(ctl_block_t)) {
        return NULL;
    }

    b = malloc(sizeof(ctl_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = *blocks;
    *blocks = b;

    return b + 1;
}


void
ctl_arena_free(ctl_block_t *blocks)
{
    ctl_block_t  *next;

    for ( /* void */ ; blocks; blocks = next) {
        next = blocks->next;
        free(blocks);
    }
}
