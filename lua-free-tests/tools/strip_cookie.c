/*
 * Copyright (C) ngx_consent_module authors
 *
 * strip_cookie: what the core says the origin should get in place of a
 * request's Cookie header lines, for the end-to-end property test
 * t/63-header-property.t.  Built by `make -C lua-free-tests tools` into
 * lua-free-tests/build/strip_cookie, with plain cc and the core sources.
 *
 *   strip_cookie [-s] RULES_FILE MASK COOKIE_NAME < lines
 *
 * RULES_FILE   rules in the consent_rules syntax (read line by line with
 *              consent_rule_parse(), as the module reads its files);
 * MASK         the purposes the decision grants (bit 0 necessary, in the
 *              DESIGN.md order), as strtoul() reads it: 0x17, 23, 027;
 * COOKIE_NAME  the consent cookie's name (consent_cookie; "consent").
 *
 * Each input line is one Cookie header value as nginx handed it to the
 * module, hex-encoded so that any byte survives (an empty line is an empty
 * value).  Each output line answers the input line of the same rank: "-"
 * when every pair of the line was dropped (the module removes the header
 * line), else the hex of the value the origin must receive: the input
 * itself when nothing was dropped, else consent_cookie_filter()'s output.
 * With -s, a tab and the hex of the names dropped from that line, joined
 * by ',' ($consent_stripped joins the lines' lists with ',' too), follow.
 *
 * Exit status 0, or 2 on a usage, rules or input error (message on
 * stderr).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_core.h"
#include "strip.h"


typedef struct {
    consent_ruleset_t         *rules;
    consent_mask_t             granted;
    const unsigned char       *cookie_name;
    size_t                     cookie_name_len;

    /* the names dropped from the current line, ','-joined (for -s) */
    unsigned char             *dropped;
    size_t                     dropped_len;
} strip_ctx_t;


/*
 * The names the core reports for each dropped pair, as the module records
 * them for $consent_stripped: the browser's name, or the whole pair when
 * it has no '='.  Which pairs go is the core's own consent_strip_header().
 */

static int
strip_note(void *data, const consent_cookie_t *c, const consent_rule_t *rule)
{
    strip_ctx_t  *ctx = data;

    const unsigned char  *name;
    size_t                len;

    name = c->name_len ? c->name : c->pair;
    len = c->name_len ? c->name_len : c->pair_len;

    /* sized by the caller: a name is never longer than its line */
    if (ctx->dropped_len) {
        ctx->dropped[ctx->dropped_len++] = ',';
    }

    memcpy(ctx->dropped + ctx->dropped_len, name, len);
    ctx->dropped_len += len;

    return 0;
}


static void *
strip_alloc(void *data, size_t size)
{
    (void) data;

    /* zeroed, like the module's pools as the core may assume */
    return calloc(1, size ? size : 1);
}


static int
hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


/* decodes in place; -1 on an odd length or a non-hex byte */
static long
hex_decode(unsigned char *p, size_t len)
{
    size_t  i;
    int     hi, lo;

    if (len % 2) {
        return -1;
    }

    for (i = 0; i < len / 2; i++) {
        hi = hex_digit(p[2 * i]);
        lo = hex_digit(p[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        p[i] = (unsigned char) (hi << 4 | lo);
    }

    return (long) (len / 2);
}


static void
hex_print(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        printf("%02x", p[i]);
    }
}


static char *
read_all(FILE *f, size_t *len)
{
    char    *buf, *nb;
    size_t   n, size;

    size = 4096;
    n = 0;

    buf = malloc(size);
    if (buf == NULL) {
        return NULL;
    }

    for ( ;; ) {
        if (n == size) {
            size *= 2;
            nb = realloc(buf, size);
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }

        n += fread(buf + n, 1, size - n, f);

        if (n < size) {
            if (ferror(f)) {
                free(buf);
                return NULL;
            }

            break;
        }
    }

    *len = n;
    return buf;
}


static consent_ruleset_t *
load_rules(const char *path, const consent_purposes_t *ps,
    const consent_alloc_t *a)
{
    int                 rc;
    char               *text, *p, *end, *nl;
    size_t              len;
    unsigned            line;
    consent_err_t       e;
    consent_rule_t      rule;
    consent_ruleset_t  *rs;
    FILE               *f;
    char                err[256];

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "strip_cookie: %s: %s\n", path, strerror(errno));
        return NULL;
    }

    text = read_all(f, &len);
    fclose(f);

    if (text == NULL) {
        fprintf(stderr, "strip_cookie: %s: read failed\n", path);
        return NULL;
    }

    rs = consent_ruleset_create(a);
    if (rs == NULL) {
        fprintf(stderr, "strip_cookie: consent_ruleset_create failed\n");
        return NULL;
    }

    /* one rule a line, as ngx_http_consent_rules_directive() reads them */
    p = text;
    end = text + len;

    for (line = 1; p < end; line++) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        rc = consent_rule_parse((const unsigned char *) p, (size_t) (nl - p),
                                ps, &rule, &e);

        if (rc < 0) {
            fprintf(stderr, "strip_cookie: %s:%u: %s\n", path, line, e.msg);
            return NULL;
        }

        if (rc == 1) {
            rule.line = line;

            if (consent_ruleset_add(rs, &rule, err, sizeof(err)) != 0) {
                fprintf(stderr, "strip_cookie: %s:%u: %s\n", path, line,
                        err);
                return NULL;
            }
        }

        p = nl + 1;
    }

    if (consent_ruleset_compile(rs, err, sizeof(err)) != 0) {
        fprintf(stderr, "strip_cookie: %s: %s\n", path, err);
        return NULL;
    }

    /* the rule strings point into text: it stays for the process */
    return rs;
}


int
main(int argc, char **argv)
{
    int                  names;
    char                *in, *p, *end, *nl, *e;
    long                 n;
    size_t               len, dropped, outlen;
    unsigned long        mask;
    unsigned char       *out;
    consent_alloc_t      a;
    strip_ctx_t          ctx;
    consent_strip_t      st;
    consent_purposes_t   ps;

    names = 0;

    if (argc > 1 && strcmp(argv[1], "-s") == 0) {
        names = 1;
        argc--;
        argv++;
    }

    if (argc != 4) {
        fprintf(stderr, "usage: strip_cookie [-s] RULES_FILE MASK "
                        "COOKIE_NAME < hex-lines\n");
        return 2;
    }

    errno = 0;
    mask = strtoul(argv[2], &e, 0);

    if (errno || *argv[2] == '\0' || *e != '\0' || mask > 0xffffffffUL) {
        fprintf(stderr, "strip_cookie: bad mask \"%s\"\n", argv[2]);
        return 2;
    }

    a.alloc = strip_alloc;
    a.data = NULL;

    consent_purposes_init(&ps);

    memset(&ctx, 0, sizeof(strip_ctx_t));

    ctx.rules = load_rules(argv[1], &ps, &a);
    if (ctx.rules == NULL) {
        return 2;
    }

    ctx.granted = (consent_mask_t) mask;
    ctx.cookie_name = (const unsigned char *) argv[3];
    ctx.cookie_name_len = strlen(argv[3]);

    memset(&st, 0, sizeof(consent_strip_t));
    st.rules = ctx.rules;
    st.granted = ctx.granted;
    st.keep = ctx.cookie_name;
    st.keep_len = ctx.cookie_name_len;
    st.stripped = strip_note;
    st.stripped_data = &ctx;

    in = read_all(stdin, &len);
    if (in == NULL) {
        fprintf(stderr, "strip_cookie: reading stdin failed\n");
        return 2;
    }

    p = in;
    end = in + len;

    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }

        len = (size_t) (nl - p);

        if (len && p[len - 1] == '\r') {
            len--;
        }

        n = hex_decode((unsigned char *) p, len);

        if (n < 0) {
            fprintf(stderr, "strip_cookie: input line is not hex\n");
            return 2;
        }

        len = (size_t) n;

        out = malloc(CONSENT_COOKIE_FILTER_SIZE(len));
        ctx.dropped = malloc(len + 1);
        st.scratch = malloc(CONSENT_STRIP_SCRATCH(len));

        if (out == NULL || ctx.dropped == NULL || st.scratch == NULL) {
            fprintf(stderr, "strip_cookie: out of memory\n");
            return 2;
        }

        ctx.dropped_len = 0;
        dropped = 0;

        outlen = consent_strip_header(&st, (const unsigned char *) p, len,
                                      out, &dropped);

        if (dropped == 0) {
            /* nothing dropped: the module leaves the line's bytes be */
            hex_print((const unsigned char *) p, len);

        } else if (outlen == 0) {
            /* everything dropped: the module removes the line */
            printf("-");

        } else {
            hex_print(out, outlen);
        }

        if (names) {
            printf("\t");
            hex_print(ctx.dropped, ctx.dropped_len);
        }

        printf("\n");

        free(out);
        free(ctx.dropped);
        free(st.scratch);

        p = nl + 1;
    }

    if (fflush(stdout) != 0) {
        return 2;
    }

    return 0;
}
