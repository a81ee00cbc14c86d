/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Cookie request header parser and filter.
 */

#include "test.h"


typedef struct {
    const char  *drop[8];
} drop_list_t;


static int
keep_unless_listed(void *data, const consent_cookie_t *c)
{
    unsigned      i;
    drop_list_t  *dl;

    dl = data;

    for (i = 0; dl->drop[i]; i++) {
        if (strlen(dl->drop[i]) == c->name_len
            && memcmp(dl->drop[i], c->name, c->name_len) == 0)
        {
            return 0;
        }
    }

    return 1;
}


static int
keep_no_underscore(void *data, const consent_cookie_t *c)
{
    (void) data;

    return !(c->name_len && c->name[0] == '_');
}


/* filters s dropping the listed names; returns a static buffer */
static const char *
filter(const char *s, drop_list_t *dl, size_t *dropped)
{
    size_t                n, len;
    static unsigned char  out[CONSENT_COOKIE_FILTER_SIZE(4096)];

    len = strlen(s);
    n = consent_cookie_filter(U(s), len, out, keep_unless_listed, dl,
                              dropped);
    out[n] = '\0';

    return (const char *) out;
}


static void
test_cookie_iter(void)
{
    int                    n;
    const char            *h;
    consent_cookie_t       c;
    consent_cookie_iter_t  it;

    h = " a=1;b = 2 ;; ;c=\"x;y\"; =v; novalue; d=e=f;\tg=\t";
    consent_cookie_iter_init(&it, U(h), strlen(h));

    CHECK(consent_cookie_next(&it, &c));
    CHECK_MEM(c.name, c.name_len, "a");
    CHECK_MEM(c.value, c.value_len, "1");
    CHECK_MEM(c.pair, c.pair_len, "a=1");

    /* whitespace around '=' and the pair is not part of name or value */
    CHECK(consent_cookie_next(&it, &c));
    CHECK_MEM(c.name, c.name_len, "b");
    CHECK_MEM(c.value, c.value_len, "2");
    CHECK_MEM(c.pair, c.pair_len, "b = 2");

    /* browsers split on ';' only: a quote does not protect one */
    CHECK(consent_cookie_next(&it, &c));
    CHECK_MEM(c.name, c.name_len, "c");
    CHECK_MEM(c.value, c.value_len, "\"x");
    CHECK(consent_cookie_next(&it, &c));
    CHECK_MEM(c.pair, c.pair_len, "y\"");
    CHECK(!c.has_eq);

    /* empty name */
    CHECK(consent_cookie_next(&it, &c));
    CHECK(c.has_eq);
    CHECK_INT(c.name_len, 0);
    CHECK_MEM(c.value, c.value_len, "v");

    /* no '=': an empty name and this value (RFC 6265bis) */
    CHECK(consent_cookie_next(&it, &c));
    CHECK(!c.has_eq);
    CHECK_INT(c.name_len, 0);
    CHECK_MEM(c.value, c.value_len, "novalue");

    /* '=' in a value */
    CHECK(consent_cookie_next(&it, &c));
    CHECK_MEM(c.name, c.name_len, "d");
    CHECK_MEM(c.value, c.value_len, "e=f");

    /* empty value */
    CHECK(consent_cookie_next(&it, &c));
    CHECK_MEM(c.name, c.name_len, "g");
    CHECK_INT(c.value_len, 0);

    CHECK(!consent_cookie_next(&it, &c));
    CHECK(!consent_cookie_next(&it, &c));

    /* nothing but separators */
    h = " ; ;;\t";
    consent_cookie_iter_init(&it, U(h), strlen(h));
    CHECK(!consent_cookie_next(&it, &c));

    consent_cookie_iter_init(&it, U(""), 0);
    CHECK(!consent_cookie_next(&it, &c));

    /* duplicates are all reported, in order */
    h = "id=1; id=2; id=3";
    consent_cookie_iter_init(&it, U(h), strlen(h));
    n = 0;

    while (consent_cookie_next(&it, &c)) {
        CHECK_MEM(c.name, c.name_len, "id");
        CHECK_INT(c.value[0], '1' + n);
        n++;
    }

    CHECK_INT(n, 3);
}


static void
test_cookie_get(void)
{
    size_t                vlen;
    const char           *h;
    const unsigned char  *v;

    h = "x=0; consent=abc.def; consent=second; __consent=no";

    v = consent_cookie_get(U(h), strlen(h), U("consent"), 7, &vlen);
    CHECK(v != NULL);
    CHECK_MEM(v, vlen, "abc.def");

    v = consent_cookie_get(U(h), strlen(h), U("consen"), 6, &vlen);
    CHECK(v == NULL);

    v = consent_cookie_get(U(h), strlen(h), U("y"), 1, &vlen);
    CHECK(v == NULL);

    /* find: every cookie of the name in turn, not look-alikes */
    {
        consent_cookie_t       c;
        consent_cookie_iter_t  it;

        h = "consentx=1; xconsent=2;consent =a; c=consent=3; consent=b\r;"
            " consent ; consent=c";
        consent_cookie_iter_init(&it, U(h), strlen(h));

        CHECK(consent_cookie_find(&it, U("consent"), 7, &c));
        CHECK_MEM(c.value, c.value_len, "a");
        CHECK(consent_cookie_find(&it, U("consent"), 7, &c));
        CHECK_MEM(c.value, c.value_len, "c");
        CHECK(!consent_cookie_find(&it, U("consent"), 7, &c));

        consent_cookie_iter_init(&it, U(h), strlen(h));
        CHECK(!consent_cookie_find(&it, U(""), 0, &c));
    }

    /* a pair with a control byte is never returned */
    v = consent_cookie_get(U("a=1\r\n; a=2"), 10, U("a"), 1, &vlen);
    CHECK(v != NULL);
    CHECK_MEM(v, vlen, "2");
}


static void
test_cookie_filter(void)
{
    size_t       dropped;
    const char  *out;
    drop_list_t  dl;

    memset(&dl, 0, sizeof(dl));
    dl.drop[0] = "_ga";
    dl.drop[1] = "_fbp";

    /* keep everything byte-for-byte, in order */
    out = filter("sid=1;lang=ja;  theme=\"dark mode\"", &dl, &dropped);
    CHECK_MEM(out, strlen(out), "sid=1;lang=ja;  theme=\"dark mode\"");
    CHECK_INT(dropped, 0);

    out = filter("_ga=GA1.2.3.4; sid=abc; _fbp=fb.1.2; lang=ja", &dl,
                 &dropped);
    CHECK_MEM(out, strlen(out), "sid=abc; lang=ja");
    CHECK_INT(dropped, 2);

    /* adjacent kept pairs keep their original separator */
    out = filter("a=1;b=2; _ga=x;c=3;d=4", &dl, &dropped);
    CHECK_MEM(out, strlen(out), "a=1;b=2; c=3;d=4");

    /* everything dropped */
    out = filter("_ga=1; _fbp=2", &dl, &dropped);
    CHECK_INT(strlen(out), 0);
    CHECK_INT(dropped, 2);

    /* duplicates: every _ga goes, every sid stays */
    out = filter("_ga=1; sid=1; _ga=2; sid=2", &dl, &dropped);
    CHECK_MEM(out, strlen(out), "sid=1; sid=2");
    CHECK_INT(dropped, 2);

    /* names are case-sensitive and never partially matched */
    out = filter("_GA=1; _gax=2; x_ga=3", &dl, &dropped);
    CHECK_MEM(out, strlen(out), "_GA=1; _gax=2; x_ga=3");

    /* empty names and valueless pairs are kept as sent */
    out = filter("=v; novalue; _ga=1; e=", &dl, &dropped);
    CHECK_MEM(out, strlen(out), "=v; novalue; e=");

    /* a quoted value with ';' inside is two segments, as browsers send */
    out = filter("q=\"a;b\"; _ga=1", &dl, &dropped);
    CHECK_MEM(out, strlen(out), "q=\"a;b\"");

    /* leading and trailing separators and whitespace do not survive */
    out = filter(" ; _ga=1 ; sid=2 ; ", &dl, &dropped);
    CHECK_MEM(out, strlen(out), "sid=2");
}


static void
test_cookie_ctl(void)
{
    size_t                 n, dropped;
    drop_list_t            dl;
    unsigned char          out[128];
    static const char      h[] = "a=1; b=x\0y; c=2\r\nX: 1; d=3\n; e=4";

    memset(&dl, 0, sizeof(dl));

    /* pairs with NUL, CR or LF are dropped even when everything is kept */
    n = consent_cookie_filter(U(h), sizeof(h) - 1, out, keep_unless_listed,
                              &dl, &dropped);
    CHECK_MEM(out, n, "a=1; e=4");
    CHECK_INT(dropped, 3);
    CHECK(memchr(out, '\0', n) == NULL);
    CHECK(memchr(out, '\r', n) == NULL);
    CHECK(memchr(out, '\n', n) == NULL);
}


static void
test_cookie_big(void)
{
    size_t          len, n, dropped, kept, i;
    unsigned char  *h, *out;
    consent_cookie_t       c;
    consent_cookie_iter_t  it;

    /* 1,000 cookies, every other one tracking */
    h = malloc(64 * 1000);
    out = malloc(CONSENT_COOKIE_FILTER_SIZE(64 * 1000));
    CHECK(h != NULL && out != NULL);
    if (h == NULL || out == NULL) {
        free(h);
        free(out);
        return;
    }

    len = 0;

    for (i = 0; i < 1000; i++) {
        len += (size_t) sprintf((char *) h + len, "%s%s%zu=v%zu",
                                i ? "; " : "", (i % 2) ? "_t" : "k", i, i);
    }

    n = consent_cookie_filter(h, len, out, keep_no_underscore, NULL,
                              &dropped);
    CHECK_INT(dropped, 500);

    consent_cookie_iter_init(&it, out, n);
    kept = 0;

    while (consent_cookie_next(&it, &c)) {
        CHECK_INT(c.name[0], 'k');
        kept++;
    }

    CHECK_INT(kept, 500);

    /* 8 KB and 32 KB headers: one huge value, then many small pairs */
    for (len = 8192; len <= 32768; len *= 4) {
        h = realloc(h, len);
        out = realloc(out, CONSENT_COOKIE_FILTER_SIZE(len));
        CHECK(h != NULL && out != NULL);
        if (h == NULL || out == NULL) {
            break;
        }

        memcpy(h, "big=", 4);
        memset(h + 4, 'x', len - 4);

        n = consent_cookie_filter(h, len, out, keep_no_underscore, NULL,
                                  &dropped);
        CHECK_INT(n, len);
        CHECK(memcmp(out, h, len) == 0);

        /* ";_" every 16 bytes: worst-case separators */
        for (i = 0; i + 16 <= len; i += 16) {
            memcpy(h + i, i % 32 ? "_tracker=0123;  " : "keep=0123456;   ",
                   16);
        }

        n = consent_cookie_filter(h, len, out, keep_no_underscore, NULL,
                                  &dropped);
        CHECK(n <= CONSENT_COOKIE_FILTER_SIZE(len));
        CHECK_INT(dropped, len / 32);
        CHECK(memmem(out, n, "_tracker", 8) == NULL);

        /* keep-all is the identity apart from trimmed edges */
        for (i = 0; i < len; i++) {
            h[i] = (i % 3 == 0) ? ';' : 'a';
        }

        n = consent_cookie_filter(h, len, out, keep_no_underscore, NULL,
                                  &dropped);
        CHECK_INT(n, len - 1);
        CHECK(memcmp(out, h + 1, n) == 0);
    }

    free(h);
    free(out);
}


static void
test_set_cookie(void)
{
    const char            *h;
    consent_set_cookie_t   sc;

    h = "_ga=GA1.2.3.4; Path=/; Domain=.Example.com; Max-Age=63072000;"
        " Secure; SameSite=Lax";
    consent_set_cookie_parse(U(h), strlen(h), &sc);
    CHECK_MEM(sc.name, sc.name_len, "_ga");
    CHECK_MEM(sc.value, sc.value_len, "GA1.2.3.4");
    CHECK_MEM(sc.domain, sc.domain_len, "Example.com");
    CHECK_MEM(sc.path, sc.path_len, "/");
    CHECK_INT(sc.flags, CONSENT_SC_SECURE);
    CHECK(sc.has_eq && !sc.has_ctl);

    /* quoted values, attribute case, the last Domain wins, Partitioned */
    h = " q = \"quoted value\" ;domain=a.example; DOMAIN = b.example ;"
        "HttpOnly;partitioned;path";
    consent_set_cookie_parse(U(h), strlen(h), &sc);
    CHECK_MEM(sc.name, sc.name_len, "q");
    CHECK_MEM(sc.value, sc.value_len, "\"quoted value\"");
    CHECK_MEM(sc.domain, sc.domain_len, "b.example");
    CHECK_INT(sc.path_len, 0);
    CHECK_INT(sc.flags, CONSENT_SC_HTTPONLY | CONSENT_SC_PARTITIONED);

    /* no '=', nothing at all, control bytes */
    consent_set_cookie_parse(U("justvalue; Path=/x"), 18, &sc);
    CHECK(!sc.has_eq);
    CHECK_INT(sc.name_len, 0);
    CHECK_MEM(sc.value, sc.value_len, "justvalue");
    CHECK_MEM(sc.path, sc.path_len, "/x");

    consent_set_cookie_parse(U(""), 0, &sc);
    CHECK_INT(sc.name_len + sc.value_len + sc.domain_len, 0);

    consent_set_cookie_parse(U("a=1\r\nX: y"), 10, &sc);
    CHECK(sc.has_ctl);

    /* domain matching: label boundaries, any case, leading dots */
    CHECK(consent_domain_match(U("doubleclick.net"), 15,
                               U("doubleclick.net"), 15));
    CHECK(consent_domain_match(U(".Ads.DoubleClick.NET"), 20,
                               U("doubleclick.net"), 15));
    CHECK(consent_domain_match(U("x.doubleclick.net"), 17,
                               U(".doubleclick.net"), 16));
    CHECK(!consent_domain_match(U("notdoubleclick.net"), 18,
                                U("doubleclick.net"), 15));
    CHECK(!consent_domain_match(U("doubleclick.net.evil"), 20,
                                U("doubleclick.net"), 15));
    CHECK(!consent_domain_match(U("net"), 3, U("doubleclick.net"), 15));
    CHECK(!consent_domain_match(U("a.b"), 3, U(""), 0));
}


void
test_cookie(void)
{
    test_set_cookie();
    test_cookie_iter();
    test_cookie_get();
    test_cookie_filter();
    test_cookie_ctl();
    test_cookie_big();
}
