/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Open Cookie Database mapping: the columns, one row (vendor ids,
 * categories, names, domains, vendor metadata), and whole files (one
 * line per name and domain, vendors in order, the same bytes whatever
 * the order of the rows, every failure with its line).
 */

#include "test.h"
#include "csv.h"
#include "ocd.h"
#include "ocd_rules.h"


#define T_HEADER                                                             \
    "ID,Platform,Category,Cookie / Data Key name,Domain,Description,"        \
    "Retention period,Data Controller,User Privacy & GDPR Rights Portals,"   \
    "Wildcard match\r\n"


typedef struct {
    const char  *platform;
    const char  *category;
    const char  *name;
    const char  *domain;
    const char  *controller;
    const char  *portal;
    const char  *wildcard;
} t_row_t;


/* the output of a conversion */
typedef struct {
    char    data[64 * 1024];
    size_t  len;
    int     fail;                  /* write fails at once */
} t_out_t;


static consent_ocd_cols_t  t_cols;


static void
t_span(consent_span_t *s, const char *p)
{
    s->data = U(p);
    s->len = strlen(p);
}


/* one row of the real database's layout */
static int
t_map(const t_row_t *r, consent_ocd_row_t *row)
{
    consent_span_t  f[10];

    t_span(&f[0], "id");
    t_span(&f[1], r->platform ? r->platform : "Vendor");
    t_span(&f[2], r->category ? r->category : "Marketing");
    t_span(&f[3], r->name ? r->name : "name");
    t_span(&f[4], r->domain ? r->domain : "");
    t_span(&f[5], "description");
    t_span(&f[6], "1 year");
    t_span(&f[7], r->controller ? r->controller : "");
    t_span(&f[8], r->portal ? r->portal : "");
    t_span(&f[9], r->wildcard ? r->wildcard : "0");

    return consent_ocd_row(&t_cols, f, 10, row);
}


static int
t_write(void *data, const unsigned char *p, size_t len)
{
    t_out_t  *out = data;

    if (out->fail || len > sizeof(out->data) - 1 - out->len) {
        return -1;
    }

    memcpy(out->data + out->len, p, len);
    out->len += len;
    out->data[out->len] = '\0';

    return 0;
}


static int
t_convert(const char *csv, t_out_t *out, consent_ocd_stats_t *st,
    consent_err_t *err)
{
    int             rc;
    size_t          len;
    unsigned char  *p;

    len = strlen(csv);
    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    memcpy(p, csv, len);
    out->len = 0;
    out->data[0] = '\0';

    rc = consent_ocd_convert(p, len, &test_alloc, t_write, out, st, err);

    free(p);

    return rc;
}


#define HAS(out, s)      CHECK(strstr((out)->data, s) != NULL)
#define HAS_NOT(out, s)  CHECK(strstr((out)->data, s) == NULL)


static void
test_ocd_columns(void)
{
    size_t              i;
    consent_err_t       err;
    consent_span_t      f[10];
    consent_ocd_cols_t  cols;

    static const char  *hdr[] = {
        " wildcard MATCH ", "Platform", "Category", "Cookie / Data Key name",
        "Domain", "Data Controller", "User Privacy & GDPR Rights Portals"
    };

    for (i = 0; i < 7; i++) {
        t_span(&f[i], hdr[i]);
    }

    CHECK_INT(consent_ocd_columns(f, 7, &cols, &err), 0);
    CHECK_INT(cols.col[CONSENT_OCD_WILDCARD], 0);
    CHECK_INT(cols.col[CONSENT_OCD_PLATFORM], 1);
    CHECK_INT(cols.col[CONSENT_OCD_PORTAL], 6);
    CHECK_INT(cols.need, 7);

    t_span(&f[5], "Controller");
    CHECK_INT(consent_ocd_columns(f, 7, &cols, &err), -1);
    CHECK_INT(err.code, CONSENT_OCD_E_COLUMN);
    CHECK(strstr(err.msg, "\"Data Controller\"") != NULL);

    /* the layout the other tests use */
    t_span(&f[0], "ID");
    t_span(&f[1], "Platform");
    t_span(&f[2], "Category");
    t_span(&f[3], "Cookie / Data Key name");
    t_span(&f[4], "Domain");
    t_span(&f[5], "Description");
    t_span(&f[6], "Retention period");
    t_span(&f[7], "Data Controller");
    t_span(&f[8], "User Privacy & GDPR Rights Portals");
    t_span(&f[9], "Wildcard match");

    CHECK_INT(consent_ocd_columns(f, 10, &t_cols, &err), 0);
    CHECK_INT(t_cols.need, 10);
}


static void
test_ocd_vendor(void)
{
    t_row_t            r;
    consent_ocd_row_t  row;
    char               long_name[80];

    memset(&r, 0, sizeof(r));

    r.platform = "Google Analytics";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.vendor, row.vendor_len, "Google_Analytics");
    CHECK_MEM(row.platform.data, row.platform.len, "Google Analytics");

    r.platform = "F@N";
    t_map(&r, &row);
    CHECK_MEM(row.vendor, row.vendor_len, "F_N");

    r.platform = "  __a  @@ b.c-d__ ";
    t_map(&r, &row);
    CHECK_MEM(row.vendor, row.vendor_len, "a_b.c-d");

    r.platform = "Mediaplex\xe2\x84\xa2";
    t_map(&r, &row);
    CHECK_MEM(row.vendor, row.vendor_len, "Mediaplex");

    memset(long_name, 'a', 70);
    long_name[70] = '\0';
    r.platform = long_name;
    t_map(&r, &row);
    CHECK_INT(row.vendor_len, 64);

    /* cut at 64 just after a '_': that goes too */
    long_name[63] = ' ';
    t_map(&r, &row);
    CHECK_INT(row.vendor_len, 63);

    r.platform = "@@@";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_VENDOR);
    r.category = "Functional";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEFT_OUT);
    r.platform = "";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEFT_OUT);
    CHECK_INT(row.vendor_len, 0);
}


static void
test_ocd_category(void)
{
    t_row_t            r;
    consent_ocd_row_t  row;

    memset(&r, 0, sizeof(r));

    r.category = "Analytics";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_INT(row.category, CONSENT_OCD_C_ANALYTICS);
    CHECK_INT(row.purpose, CONSENT_P_ANALYTICS);

    r.category = " marketing ";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_INT(row.category, CONSENT_OCD_C_ADVERTISING);
    CHECK_INT(row.purpose, CONSENT_P_ADVERTISING);

    r.category = "Personalization";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_INT(row.purpose, CONSENT_P_PERSONALIZATION);

    r.category = "Functional";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEFT_OUT);
    CHECK_INT(row.category, CONSENT_OCD_C_LEFT_OUT);
    CHECK_MEM(row.vendor, row.vendor_len, "Vendor");

    r.category = "Security";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEFT_OUT);
    r.category = "Necessary";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEFT_OUT);
    r.category = "";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEFT_OUT);
    r.category = "Advertising";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEFT_OUT);
}


static void
test_ocd_name(void)
{
    t_row_t            r;
    consent_ocd_row_t  row;
    char               name[300];

    memset(&r, 0, sizeof(r));

    r.name = " _ga\t";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.pattern, row.pattern_len, "_ga");
    CHECK(!row.prefix);

    r.name = "logglytrackings\xc2\xad" "ession";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.pattern, row.pattern_len, "logglytrackingsession");

    r.name = "\xe2\x80\x8b _fbp\xe2\x80\x8c\xe2\x80\x8d \xef\xbb\xbf";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.pattern, row.pattern_len, "_fbp");

    r.name = "a\xef\xbb\xbf" "bc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.pattern, row.pattern_len, "abc");

    r.name = "";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_EMPTY);
    r.name = " \t\xe2\x80\x8b ";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_EMPTY);
    CHECK_INT(row.pattern_len, 0);

    r.name = "Site History";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_SPACE);
    CHECK_MEM(row.pattern, row.pattern_len, "Site History");
    r.name = "a;bc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_SEPARATOR);
    r.name = "a=bc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_SEPARATOR);
    r.name = "a,bc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_SEPARATOR);
    r.name = "caf\xc3\xa9";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_BYTE);
    r.name = "a\tb c";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_BYTE);
    r.name = "ab\x7f";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_BYTE);
    r.name = "~abc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEADING);
    r.name = "#abc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEADING);
    r.name = "@vendor";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LEADING);
    r.name = "a~#@";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);

    /* 256 bytes is a name, 257 is not, nor 256 and a '*' */
    memset(name, 'n', sizeof(name));
    name[256] = '\0';
    r.name = name;
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_INT(row.pattern_len, 256);

    r.wildcard = "1";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LONG);

    r.wildcard = "0";
    name[256] = 'n';
    name[299] = '\0';
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_LONG);
    CHECK(row.truncated);
    CHECK_INT(row.pattern_len, 256);
}


static void
test_ocd_wildcard(void)
{
    t_row_t            r;
    consent_ocd_row_t  row;

    memset(&r, 0, sizeof(r));

    r.name = "_ga_";
    r.wildcard = "1";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.pattern, row.pattern_len, "_ga_*");
    CHECK(row.prefix);

    /* not doubled */
    r.name = "_ga_*";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.pattern, row.pattern_len, "_ga_*");

    r.wildcard = " 1 ";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.pattern, row.pattern_len, "_ga_*");

    /* a '*' at the end is a prefix whatever the column says */
    r.name = "SSPR_*";
    r.wildcard = "0";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK(row.prefix);
    CHECK_MEM(row.pattern, row.pattern_len, "SSPR_*");

    r.name = "abc";
    r.wildcard = "";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK(!row.prefix);

    r.wildcard = "yes";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK(!row.prefix);

    /* an empty prefix would be every cookie */
    r.name = "*";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_EMPTY);
    r.name = " ";
    r.wildcard = "1";
    r.domain = "x.com";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_EMPTY);
}


static void
test_ocd_generic(void)
{
    t_row_t            r;
    consent_ocd_row_t  row;

    memset(&r, 0, sizeof(r));

    r.name = "ab";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_GENERIC);
    r.name = "abc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);

    r.wildcard = "1";
    r.name = "abc";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_GENERIC);
    CHECK_MEM(row.pattern, row.pattern_len, "abc*");
    r.name = "mp_*";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_GENERIC);
    r.name = "abcd";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);

    /* on the vendor's own domain a short name is fine */
    r.domain = "x.com";
    r.name = "a";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    r.wildcard = "0";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);

    /* an invalid domain is no domain */
    r.domain = "localhost";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_GENERIC);
}


/* the domains a Domain column gives, joined by ' ' */
static const char *
t_domains(const char *domain)
{
    t_row_t            r;
    unsigned           i;
    consent_ocd_row_t  row;
    static char        buf[4096];
    size_t             n;

    memset(&r, 0, sizeof(r));
    r.domain = domain;
    r.name = "long_enough";
    t_map(&r, &row);

    n = 0;

    for (i = 0; i < row.ndomains; i++) {
        if (i) {
            buf[n++] = ' ';
        }

        memcpy(buf + n, row.domain[i], row.domain_len[i]);
        n += row.domain_len[i];
    }

    buf[n] = '\0';

    return buf;
}


#define DOMAINS(in, want)                                                    \
    do {                                                                     \
        const char  *got_ = t_domains(in);                                   \
        CHECK_MEM(got_, strlen(got_), want);                                 \
    } while (0)


static void
test_ocd_domains(void)
{
    char  big[300];

    DOMAINS("", "");
    DOMAINS("x.com", "x.com");
    DOMAINS(".x.com", "x.com");
    DOMAINS("..x.com", "x.com");
    DOMAINS("x.com (3rd party)", "x.com");
    DOMAINS("x.com(3rd party)", "x.com");
    DOMAINS("a.com (3rd party) or b.com (3rd party)", "a.com b.com");
    DOMAINS(".bing.com (3rd party) or .microsoft.com (3rd party)",
            "bing.com microsoft.com");
    DOMAINS("google-analytics.com (3rd party) or ", "google-analytics.com");
    DOMAINS(" or 207.net (3rd party)", "207.net");
    DOMAINS("a.com, b.com,c.com OR d.com", "a.com b.com c.com d.com");
    DOMAINS("ads-[account].adhese.com", "adhese.com");
    DOMAINS("[a.b].x.com", "x.com");
    DOMAINS("x.[a].com", "");
    DOMAINS(".commander1.com\xe2\x80\x8b", "commander1.com");
    DOMAINS("\xe2\x80\x8b.com\xe2\x80\x8bmander1.com", "commander1.com");
    DOMAINS(" .mediarithmics.com", "mediarithmics.com");
    DOMAINS("Inspectlet.COM", "inspectlet.com");
    DOMAINS("a.com or .a.com or A.com", "a.com");
    DOMAINS("go.sonobi.com", "go.sonobi.com");

    /* invalid ones are dropped */
    DOMAINS("localhost", "");
    DOMAINS("a..b.com", "");
    DOMAINS("x.com.", "");
    DOMAINS("x_y.com", "");
    DOMAINS("*.x.com", "");
    DOMAINS("b\xc3\xbc" "cher.de", "");
    DOMAINS("[account]", "");
    DOMAINS("x.com/path ok.com", "ok.com");
    DOMAINS("(3rd party", "");

    /* 253 bytes at most */
    memset(big, 'a', sizeof(big));
    big[100] = '.';
    big[253] = '\0';
    DOMAINS(big, big);
    big[253] = 'a';
    big[254] = '\0';
    DOMAINS(big, "");

    /* at most CONSENT_OCD_ROW_DOMAINS of them */
    DOMAINS("a.a b.a c.a d.a e.a f.a g.a h.a i.a j.a",
            "a.a b.a c.a d.a e.a f.a g.a h.a");
}


static void
test_ocd_meta(void)
{
    t_row_t            r;
    consent_ocd_row_t  row;
    char               big[600];

    memset(&r, 0, sizeof(r));

    r.platform = " Google Analytics ";
    r.controller = " Google LLC ";
    r.portal = " https://policies.google.com/privacy ";
    t_map(&r, &row);
    CHECK_MEM(row.name.data, row.name.len, "Google Analytics");
    CHECK_MEM(row.controller.data, row.controller.len, "Google LLC");
    CHECK_MEM(row.policy.data, row.policy.len,
              "https://policies.google.com/privacy");

    r.controller = "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale";
    r.portal = "http://x.example/p?q=1";
    t_map(&r, &row);
    CHECK(row.controller.len > 0);
    CHECK(row.policy.len > 0);

    r.controller = "The \"Best\" Inc";
    r.portal = "ftp://x.example/";
    t_map(&r, &row);
    CHECK_INT(row.controller.len, 0);
    CHECK_INT(row.policy.len, 0);

    r.controller = "a\x01z";
    r.portal = "https://x.example/a b";
    t_map(&r, &row);
    CHECK_INT(row.controller.len, 0);
    CHECK_INT(row.policy.len, 0);

    /* not UTF-8: a lone continuation, an overlong, a C1 control */
    CHECK(!consent_ocd_text_valid(U("a\x80"), 2));
    CHECK(!consent_ocd_text_valid(U("\xc0\xaf"), 2));
    CHECK(!consent_ocd_text_valid(U("\xc2\x85"), 2));
    CHECK(!consent_ocd_text_valid(U("\xed\xa0\x80"), 3));
    CHECK(!consent_ocd_text_valid(U("\xe2\x82"), 2));
    CHECK(consent_ocd_text_valid(U("\xf0\x9f\x8d\xaa"), 4));
    CHECK(!consent_ocd_text_valid(U(""), 0));

    CHECK(!consent_ocd_url_valid(U("https://"), 8));
    CHECK(consent_ocd_url_valid(U("https://a"), 9));
    CHECK(!consent_ocd_url_valid(U("https://a<b"), 11));
    CHECK(!consent_ocd_url_valid(U("https://a>b"), 11));
    CHECK(!consent_ocd_url_valid(U("https://a\\b"), 11));
    CHECK(!consent_ocd_url_valid(U("https://a\"b"), 11));
    CHECK(!consent_ocd_url_valid(U("HTTPS://a"), 9));
    CHECK(!consent_ocd_url_valid(U("https://\xc3\xa9"), 10));

    /* 128 bytes of text, 512 of URL */
    memset(big, 'c', sizeof(big));
    CHECK(consent_ocd_text_valid(U(big), 128));
    CHECK(!consent_ocd_text_valid(U(big), 129));
    memcpy(big, "https://", 8);
    CHECK(consent_ocd_url_valid(U(big), 512));
    CHECK(!consent_ocd_url_valid(U(big), 513));

    /* a Platform that is not a valid name still makes a vendor */
    r.platform = "A \"quoted\" one";
    CHECK_INT(t_map(&r, &row), CONSENT_OCD_S_NONE);
    CHECK_MEM(row.vendor, row.vendor_len, "A_quoted_one");
    CHECK_INT(row.name.len, 0);
}


static void
test_ocd_escape(void)
{
    size_t         n;
    unsigned char  out[64];

    n = consent_ocd_escape(U("Site History\\\x01"), 14, 0, out, sizeof(out));
    CHECK_MEM(out, n, "Site\\x20History\\x5c\\x01");

    n = consent_ocd_escape(U("caf\xc3\xa9 x\n"), 8, 1, out, sizeof(out));
    CHECK_MEM(out, n, "caf\xc3\xa9 x\\x0a");

    n = consent_ocd_escape(U("caf\xc3\xa9"), 5, 0, out, sizeof(out));
    CHECK_MEM(out, n, "caf\\xc3\\xa9");

    /* whole escapes only */
    n = consent_ocd_escape(U("ab\x01"), 3, 0, out, 5);
    CHECK_MEM(out, n, "ab");
}


/* whole files */

static const char  t_csv_rows[] =
    T_HEADER
    "1,Google Analytics,Analytics,_ga,,d,2 years,Google,"
    "https://policies.google.com/privacy,0\r\n"
    "2,Google Analytics,Analytics,_ga_,,d,2 years,Google,"
    "https://policies.google.com/privacy,1\r\n"
    "3,Google Analytics,Functional,_gac_sig,,d,1 day,Google,,0\r\n"
    "4,DoubleClick,Marketing,IDE,doubleclick.net (3rd party),\"multi\n"
    "line, \"\"quoted\"\" description\",1 year,Google,"
    "https://business.safety.google/privacy/,0\r\n"
    "5,DoubleClick,Marketing,uid,\".doubleclick.net, .google.com\",d,"
    "1 year,Google,https://business.safety.google/privacy/,0\r\n"
    "6,DoubleClick,Marketing,IDE,doubleclick.net,d,1 year,Google,,0\r\n"
    "7,Cookiebot,Functional,CookieConsent,,d,1 year,Cybot,,0\r\n"
    "8,Hotjar,Analytics,Site History,,d,1 year,Hotjar Ltd,,0\r\n"
    "9,Hotjar,Analytics,sp,,d,1 year,Hotjar Ltd,,0\r\n"
    "10,Hotjar,Marketing,_hjid,,d,1 year,Hotjar Ltd,,0\r\n"
    "11,Hotjar,Analytics,_hjid,,d,1 year,Hotjar Ltd,,0\r\n"
    "12,comScore,Marketing,UID_EXT_,,d,1 year,comScore,,1\r\n"
    "13,ComScore,Marketing,UIDR,,d,1 year,comScore,,0\r\n"
    "14,Tailtarget,Marketing,u,t.tailtarget.com,d,1 y,Totvs,,0\r\n"
    "15,Totvs,Marketing,u,.t.tailtarget.com,d,1 y,Totvs,,0\r\n"
    "16,,Marketing,nobody,,d,1 y,,,0\r\n"
    "17,Short,Marketing\r\n";


static void
test_ocd_file(void)
{
    t_out_t              *out;
    consent_err_t         err;
    consent_ocd_stats_t   st;

    out = malloc(sizeof(t_out_t));
    if (out == NULL) {
        abort();
    }

    memset(out, 0, sizeof(t_out_t));

    CHECK_INT(t_convert(t_csv_rows, out, &st, &err), 0);

    CHECK(strncmp(out->data, "# Cookie rules from the Open Cookie Database\n",
                  45) == 0);
    HAS(out, "Apache-2.0, see NOTICE");
    HAS(out, "run `make rules`");

    /* vendors in byte order of their id, with their counts */
    HAS(out, "\n\n\n# Cookiebot (analytics 0, advertising 0, "
             "personalization 0; functional/security/necessary 1 left out)\n"
             "\n\n# DoubleClick (analytics 0, advertising 3, "
             "personalization 0; functional/security/necessary 0 left out)\n"
             "@vendor DoubleClick name=\"DoubleClick\" controller=\"Google\" "
             "purposes=advertising "
             "policy=https://business.safety.google/privacy/ "
             "domains=doubleclick.net,google.com\n"
             "IDE                   advertising     DoubleClick       "
             "domain=doubleclick.net domain-only\n"
             "uid                   advertising     DoubleClick       "
             "domain=doubleclick.net domain-only\n"
             "uid                   advertising     DoubleClick       "
             "domain=google.com domain-only\n"
             "\n\n# Google Analytics (analytics 2, advertising 0, "
             "personalization 0; functional/security/necessary 1 left out)\n"
             "@vendor Google_Analytics name=\"Google Analytics\" "
             "controller=\"Google\" purposes=analytics "
             "policy=https://policies.google.com/privacy\n"
             "_ga                   analytics       Google_Analytics\n"
             "_ga_*                 analytics       Google_Analytics\n");
    HAS_NOT(out, "CookieConsent");
    HAS_NOT(out, "@vendor Cookiebot");

    /* one vendor for two spellings, the first one's */
    HAS(out, "# comScore (analytics 0, advertising 2,");
    HAS(out, "@vendor comScore name=\"comScore\" controller=\"comScore\" "
             "purposes=advertising\n"
             "UIDR                  advertising     comScore\n"
             "UID_EXT_*             advertising     comScore\n");
    HAS_NOT(out, "ComScore");

    /* one line per name: advertising over analytics, then the first row */
    HAS(out, "# Hotjar (analytics 3, advertising 1,");
    HAS(out, "@vendor Hotjar name=\"Hotjar\" controller=\"Hotjar Ltd\" "
             "purposes=advertising\n"
             "# skipped Site\\x20History: name has a space\n"
             "# skipped sp: too generic for every site\n"
             "# _hjid: also analytics for Hotjar in the database, "
             "one line kept\n"
             "_hjid                 advertising     Hotjar\n");
    HAS(out, "# u on t.tailtarget.com: also advertising for Totvs in the "
             "database, one line kept\n"
             "u                     advertising     Tailtarget        "
             "domain=t.tailtarget.com domain-only\n");
    HAS(out, "# Totvs (analytics 0, advertising 1, personalization 0; "
             "functional/security/necessary 0 left out)\n\n\n");

    HAS(out, "# Summary: 17 rows read, 9 rules written for 5 of 7 "
             "vendors.\n");
    HAS(out, "#   fewer fields than the header: 1\n");
    HAS(out, "#   no usable Platform: 1\n");
    HAS(out, "#   category functional, security, necessary or other: 2\n");
    HAS(out, "#   name has a space: 1\n");
    HAS(out, "#   too generic for every site: 1\n");
    HAS(out, "# Rule lines left out: 1 duplicates, 2 for another purpose or "
             "vendor of the same name.\n");

    CHECK_INT(st.rows, 17);
    CHECK_INT(st.rules, 9);
    CHECK_INT(st.vendors, 7);
    CHECK_INT(st.vendors_ruled, 5);
    CHECK_INT(st.duplicates, 1);
    CHECK_INT(st.replaced, 2);
    CHECK_INT(st.skipped[CONSENT_OCD_S_LEFT_OUT], 2);

    CHECK(out->len > 0 && out->data[out->len - 1] == '\n');

    free(out);
}


/* the same rows in another order give the same bytes */
static void
test_ocd_order(void)
{
    t_out_t        *a, *b;
    consent_err_t   err;

    static const char  fwd[] =
        T_HEADER
        "1,Zeta,Marketing,zz_a,z.com,d,1y,Zeta Inc,https://z.com/p,0\n"
        "2,Alpha,Analytics,_alp,,d,1y,Alpha,,1\n"
        "3,Zeta,Marketing,zz_b,,d,1y,Zeta Inc,https://z.com/p,0\n"
        "4,Alpha,Personalization,_al_p,a.com or b.com,d,1y,Alpha,,0\n"
        "5,Zeta,Analytics,zz_a,z.com,d,1y,Zeta Inc,https://z.com/p,0\n"
        "6,Alpha,Functional,x,,d,1y,Alpha,,0\n";

    static const char  rev[] =
        T_HEADER
        "6,Alpha,Functional,x,,d,1y,Alpha,,0\n"
        "5,Zeta,Analytics,zz_a,z.com,d,1y,Zeta Inc,https://z.com/p,0\n"
        "4,Alpha,Personalization,_al_p,b.com or a.com,d,1y,Alpha,,0\n"
        "3,Zeta,Marketing,zz_b,,d,1y,Zeta Inc,https://z.com/p,0\n"
        "2,Alpha,Analytics,_alp,,d,1y,Alpha,,1\n"
        "1,Zeta,Marketing,zz_a,z.com,d,1y,Zeta Inc,https://z.com/p,0\n";

    a = malloc(sizeof(t_out_t));
    b = malloc(sizeof(t_out_t));
    if (a == NULL || b == NULL) {
        abort();
    }

    memset(a, 0, sizeof(t_out_t));
    memset(b, 0, sizeof(t_out_t));

    CHECK_INT(t_convert(fwd, a, NULL, &err), 0);
    CHECK_INT(t_convert(rev, b, NULL, &err), 0);
    CHECK_INT(a->len, b->len);
    CHECK(a->len == b->len && memcmp(a->data, b->data, a->len) == 0);

    HAS(a, "@vendor Alpha name=\"Alpha\" controller=\"Alpha\" "
           "purposes=analytics,personalization domains=a.com,b.com\n"
           "_al_p                 personalization Alpha             "
           "domain=a.com domain-only\n"
           "_al_p                 personalization Alpha             "
           "domain=b.com domain-only\n"
           "_alp*                 analytics       Alpha\n");
    HAS(a, "# zz_a on z.com: also analytics for Zeta in the database, "
           "one line kept\n"
           "zz_a                  advertising     Zeta              "
           "domain=z.com domain-only\n"
           "zz_b                  advertising     Zeta\n");

    /* and the same input twice, the same bytes */
    CHECK_INT(t_convert(fwd, b, NULL, &err), 0);
    CHECK(a->len == b->len && memcmp(a->data, b->data, a->len) == 0);

    free(a);
    free(b);
}


static void
test_ocd_errors(void)
{
    t_out_t        *out;
    consent_err_t   err;

    out = malloc(sizeof(t_out_t));
    if (out == NULL) {
        abort();
    }

    memset(out, 0, sizeof(t_out_t));

    CHECK_INT(t_convert("", out, NULL, &err), -1);
    CHECK_INT(err.code, CONSENT_OCD_E_EMPTY);

    CHECK_INT(t_convert("\xef\xbb\xbf\r\n\r\n", out, NULL, &err), -1);
    CHECK_INT(err.code, CONSENT_OCD_E_EMPTY);

    CHECK_INT(t_convert("\n\nID,Platform,Category\n", out, NULL, &err), -1);
    CHECK_INT(err.code, CONSENT_OCD_E_COLUMN);
    CHECK_INT(err.line, 3);
    CHECK(strstr(err.msg, "Cookie / Data Key name") != NULL);

    CHECK_INT(t_convert(T_HEADER "1,a,Marketing,abc,,d,1y,a,,0\n"
                        "2,a,Marketing,\"abc,,d\n", out, NULL, &err), -1);
    CHECK_INT(err.code, CONSENT_CSV_E_QUOTE);
    CHECK_INT(err.line, 3);
    CHECK_INT(out->len, 0);

    CHECK_INT(t_convert(T_HEADER "1,a,Marketing,\"abc\"x,,d,1y,a,,0\n",
                        out, NULL, &err), -1);
    CHECK_INT(err.code, CONSENT_CSV_E_AFTER_QUOTE);
    CHECK_INT(err.line, 2);

    /* a header alone is an empty rules file, not an error */
    CHECK_INT(t_convert(T_HEADER, out, NULL, &err), 0);
    HAS(out, "# Summary: 0 rows read, 0 rules written for 0 of 0 vendors.");

    out->fail = 1;
    CHECK_INT(t_convert(t_csv_rows, out, NULL, &err), -1);
    CHECK_INT(err.code, CONSENT_OCD_E_WRITE);

    free(out);
}


/* out of memory at every allocation in turn: a failure, never a crash */

static void
test_ocd_oom(void)
{
    int               rc;
    size_t            len;
    unsigned          n;
    t_out_t          *out;
    unsigned char    *p;
    consent_err_t     err;

    out = malloc(sizeof(t_out_t));
    len = sizeof(t_csv_rows) - 1;
    p = malloc(len);

    if (out == NULL || p == NULL) {
        abort();
    }

    memcpy(p, t_csv_rows, len);

    for (n = 0; n < 999; n++) {
        test_alloc_budget = n;
        memset(out, 0, sizeof(t_out_t));

        rc = consent_ocd_convert(p, len, &test_alloc_limited, t_write, out,
                                 NULL, &err);

        if (rc == 0) {
            break;
        }

        CHECK_INT(err.code, CONSENT_OCD_E_MEMORY);
        test_alloc_reset();
    }

    CHECK_INT(rc, 0);
    CHECK(n >= 10);

    free(p);
    free(out);
}


void
test_ocd(void)
{
    test_ocd_columns();
    test_ocd_vendor();
    test_ocd_category();
    test_ocd_name();
    test_ocd_wildcard();
    test_ocd_generic();
    test_ocd_domains();
    test_ocd_meta();
    test_ocd_escape();
    test_ocd_file();
    test_ocd_order();
    test_ocd_errors();
    test_ocd_oom();
}
