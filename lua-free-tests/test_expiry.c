/*
 * Copyright (C) ngx_consent_module authors
 *
 * Where refused cookies are expired: the cookie-name check, the Domain=
 * and Path= variants, and their bounds under hostile Hosts and paths.
 */

#include "test.h"
#include "expiry.h"


#define MAXD  4


/* the domains joined by ' ' into a static buffer */
static const char *
domains(const char *host, const char **conf, const consent_psl_t *psl)
{
    size_t                i, n, nc, len;
    consent_span_t        out[MAXD], c[8];
    static char           buf[2048];

    for (nc = 0; conf && conf[nc]; nc++) {
        c[nc].data = U(conf[nc]);
        c[nc].len = strlen(conf[nc]);
    }

    n = consent_expiry_domains(U(host), strlen(host), c, nc, psl, out, MAXD);

    len = 0;
    buf[0] = '\0';

    for (i = 0; i < n; i++) {
        CHECK(out[i].data >= U(host) || nc);
        len += snprintf(buf + len, sizeof(buf) - len, "%s%.*s",
                        i ? " " : "", (int) out[i].len,
                        (const char *) out[i].data);
    }

    return buf;
}


static const char *
paths(const char *path, size_t depth)
{
    size_t          i, n, len;
    consent_span_t  out[1 + 2 * 8];
    static char     buf[2048];

    n = consent_expiry_paths(U(path), strlen(path), depth, out);

    CHECK(n <= 1 + 2 * depth);

    len = 0;
    buf[0] = '\0';

    for (i = 0; i < n; i++) {
        len += snprintf(buf + len, sizeof(buf) - len, "%s%.*s",
                        i ? " " : "", (int) out[i].len,
                        (const char *) out[i].data);
    }

    return buf;
}


static void
test_name_token(void)
{
    CHECK(consent_cookie_name_is_token(U("_ga"), 3));
    CHECK(consent_cookie_name_is_token(U("_ga_ABC123"), 10));
    CHECK(consent_cookie_name_is_token(U("__Host-x"), 8));
    CHECK(consent_cookie_name_is_token(U("a!#$%&'*+-.^_`|~z"), 17));
    CHECK(!consent_cookie_name_is_token(U(""), 0));
    /* the one the review found: a comma would split the expiry list */
    CHECK(!consent_cookie_name_is_token(U("_ga_x,sessionid"), 15));
    CHECK(!consent_cookie_name_is_token(U("a b"), 3));
    CHECK(!consent_cookie_name_is_token(U("a;b"), 3));
    CHECK(!consent_cookie_name_is_token(U("a=b"), 3));
    CHECK(!consent_cookie_name_is_token(U("a\"b"), 3));
    CHECK(!consent_cookie_name_is_token(U("a\\b"), 3));
    CHECK(!consent_cookie_name_is_token(U("a\0b"), 3));
    CHECK(!consent_cookie_name_is_token(U("a\rb"), 3));
    CHECK(!consent_cookie_name_is_token(U("a\nb"), 3));
    CHECK(!consent_cookie_name_is_token(U("\x0b_ga"), 4));
    CHECK(!consent_cookie_name_is_token(U("\xa0_ga"), 4));
    CHECK(!consent_cookie_name_is_token(U("(x)"), 3));
    CHECK(!consent_cookie_name_is_token(U("a/b"), 3));
    CHECK(!consent_cookie_name_is_token(U("a:b"), 3));
}


static void
test_domains(void)
{
    const char  *conf1[] = { "example.com", NULL };
    const char  *conf2[] = { "example.com", "shop.example.com", NULL };
    const char  *conf3[] = { "example.org", NULL };
    char         host[4096];
    size_t       i;

    /* without a list: the last two labels, the host, the parents between */
    CHECK_MEM(domains("www.example.com", NULL, NULL),
              strlen(domains("www.example.com", NULL, NULL)),
              "example.com www.example.com");
    CHECK(strcmp(domains("example.com", NULL, NULL), "example.com") == 0);
    CHECK(strcmp(domains("a.b.c.example.com", NULL, NULL),
                 "example.com a.b.c.example.com c.example.com "
                 "b.c.example.com") == 0);

    /* capped, however many labels a hostile Host has */
    CHECK(strcmp(domains("a.a.a.a.a.a.a.a.a.a.a.a.example.com", NULL, NULL),
                 "example.com a.a.a.a.a.a.a.a.a.a.a.a.example.com "
                 "a.example.com a.a.example.com") == 0);

    for (i = 0; i + 2 < 250; i += 2) {
        host[i] = 'a';
        host[i + 1] = '.';
    }

    memcpy(host + i, "example.com", sizeof("example.com"));
    CHECK(strlen(domains(host, NULL, NULL)) < 300);

    /* none: single labels, IP addresses, odd bytes, empty labels */
    CHECK(strcmp(domains("localhost", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("127.0.0.1", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("[::1]", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("a..example.com", NULL, NULL), "") == 0);
    CHECK(strcmp(domains(".example.com", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("example.com.", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("ex;ample.com", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("ex ample.com", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("exa\xc3\xa9mple.com", NULL, NULL), "") == 0);
    CHECK(strcmp(domains("", NULL, NULL), "") == 0);

    memset(host, 'a', 300);
    memcpy(host + 290, ".com", 5);
    CHECK(strcmp(domains(host, NULL, NULL), "") == 0);

    /* with a list: the configured names the host is under, then the host */
    CHECK(strcmp(domains("www.example.com", conf1, NULL),
                 "example.com www.example.com") == 0);
    CHECK(strcmp(domains("example.com", conf1, NULL), "example.com") == 0);
    CHECK(strcmp(domains("a.shop.example.com", conf2, NULL),
                 "example.com shop.example.com a.shop.example.com") == 0);
    CHECK(strcmp(domains("x.a.a.a.a.a.example.com", conf1, NULL),
                 "example.com x.a.a.a.a.a.example.com") == 0);
    /* not one of ours: host-only only */
    CHECK(strcmp(domains("www.attacker.test", conf1, NULL), "") == 0);
    CHECK(strcmp(domains("notexample.com", conf1, NULL), "") == 0);
    CHECK(strcmp(domains("www.example.com", conf3, NULL), "") == 0);
    /* any case in the Host */
    CHECK(strcmp(domains("WWW.Example.COM", conf1, NULL),
                 "Example.COM WWW.Example.COM") == 0);
}


static void
test_domains_psl(void)
{
    consent_psl_t  *psl;

    static const char  list[] =
        "// test list\n"
        "com\n"
        "uk\n"
        "co.uk\n"
        "*.ck\n"
        "!www.ck\n"
        "github.io\n";

    psl = consent_psl_create(&test_alloc);
    CHECK(psl != NULL);

    if (psl == NULL) {
        return;
    }

    CHECK_INT(consent_psl_parse(psl, U(list), sizeof(list) - 1, NULL), 0);

    CHECK(strcmp(domains("www.shop.example.co.uk", NULL, psl),
                 "example.co.uk www.shop.example.co.uk "
                 "shop.example.co.uk") == 0);
    /* a public suffix itself: nothing a browser would keep */
    CHECK(strcmp(domains("co.uk", NULL, psl), "") == 0);
    CHECK(strcmp(domains("user.github.io", NULL, psl),
                 "user.github.io") == 0);
    CHECK(strcmp(domains("a.b.foo.ck", NULL, psl), "b.foo.ck a.b.foo.ck")
          == 0);
    CHECK(strcmp(domains("www.ck", NULL, psl), "www.ck") == 0);
}


static void
test_paths(void)
{
    CHECK(strcmp(paths("/", 3), "/") == 0);
    CHECK(strcmp(paths("", 3), "/") == 0);
    CHECK(strcmp(paths("x", 3), "/") == 0);
    CHECK(strcmp(paths("/index.html", 3), "/") == 0);
    CHECK(strcmp(paths("/shop/", 3), "/ /shop /shop/") == 0);
    CHECK(strcmp(paths("/shop/cart", 3), "/ /shop /shop/") == 0);
    CHECK(strcmp(paths("/a/b/c/d/e/f", 3), "/ /a /a/ /a/b /a/b/ /a/b/c "
                 "/a/b/c/") == 0);
    CHECK(strcmp(paths("/a/b/c/d/e/f", 1), "/ /a /a/") == 0);
    CHECK(strcmp(paths("/a/b/c/d/e/f", 0), "/") == 0);
    /* "//" is not a directory of its own */
    CHECK(strcmp(paths("//a//b/x", 3), "/ //a //a/ //a//b //a//b/") == 0);
    /* stops at what a Path attribute must not carry */
    CHECK(strcmp(paths("/a;b/c/", 3), "/") == 0);
    CHECK(strcmp(paths("/a/b;c/", 3), "/ /a /a/") == 0);
    CHECK(strcmp(paths("/a/b c/", 3), "/ /a /a/") == 0);
    CHECK(strcmp(paths("/a/\xc3\xa9/", 3), "/ /a /a/") == 0);
    CHECK(strcmp(paths("/a/b\r\n/", 3), "/ /a /a/") == 0);
    CHECK(strcmp(paths("/a/b,c/", 3), "/ /a /a/") == 0);
    /* percent-encoding stays as the browser has it */
    CHECK(strcmp(paths("/a%2Fb/c", 3), "/ /a%2Fb /a%2Fb/") == 0);
}


void
test_expiry(void)
{
    test_name_token();
    test_domains();
    test_domains_psl();
    test_paths();
}
