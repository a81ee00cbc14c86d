/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Public Suffix List matcher: the PSL project's own checkPublicSuffix
 * vectors (tests/test_psl.txt of github.com/publicsuffix/list) against a
 * small list written here and, when Debian's publicsuffix package is
 * installed, against the real list; then rule syntax, IDN rules, hosts
 * nobody should send, and running out of memory.
 */

#include <strings.h>
#include <time.h>

#include "test.h"
#include "psl.h"


#define PSL_REAL_LIST  "/usr/share/publicsuffix/public_suffix_list.dat"


/* just the rules the vectors need, in the list's own format */
static const char  psl_small[] =
    "// a few rules of the Public Suffix List\n"
    "\n"
    "// ===BEGIN ICANN DOMAINS===\n"
    "\n"
    "ac\n"
    "biz\n"
    "com\n"
    "uk.com\n"
    "jp\n"
    "ac.jp\n"
    "kyoto.jp\n"
    "ide.kyoto.jp\n"
    "*.kobe.jp\n"
    "!city.kobe.jp\n"
    "*.mm\n"
    "*.ck\n"
    "!www.ck\n"
    "us\n"
    "ak.us\n"
    "k12.ak.us\n"
    "cn\n"
    "com.cn\n"
    "\xe5\x85\xac\xe5\x8f\xb8.cn\n"                     /* 公司.cn */
    "\xe4\xb8\xad\xe5\x9b\xbd\n"                        /* 中国 */
    "\n"
    "// ===END ICANN DOMAINS===\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "\n"
    "github.io\n"
    "\n"
    "// ===END PRIVATE DOMAINS===\n";


/*
 * checkPublicSuffix(host, registrable domain), NULL for null.  The IDN
 * vectors with UTF-8 hosts are kept as written: hosts come to the module
 * as A-labels, so those must give 0; their Punycode twins follow them.
 */
static const struct {
    const char  *host;
    const char  *want;
} psl_vectors[] = {
    /* null input. */
    { NULL, NULL },
    /* Mixed case. */
    { "COM", NULL },
    { "example.COM", "example.com" },
    { "WwW.example.COM", "example.com" },
    /* Leading dot. */
    { ".com", NULL },
    { ".example", NULL },
    { ".example.com", NULL },
    { ".example.example", NULL },
    /* Unlisted TLD. */
    { "example", NULL },
    { "example.example", "example.example" },
    { "b.example.example", "example.example" },
    { "a.b.example.example", "example.example" },
    /* Listed, but non-Internet, TLD: commented out upstream. */
    /* TLD with only 1 rule. */
    { "biz", NULL },
    { "domain.biz", "domain.biz" },
    { "b.domain.biz", "domain.biz" },
    { "a.b.domain.biz", "domain.biz" },
    /* TLD with some 2-level rules. */
    { "com", NULL },
    { "example.com", "example.com" },
    { "b.example.com", "example.com" },
    { "a.b.example.com", "example.com" },
    { "uk.com", NULL },
    { "example.uk.com", "example.uk.com" },
    { "b.example.uk.com", "example.uk.com" },
    { "a.b.example.uk.com", "example.uk.com" },
    { "test.ac", "test.ac" },
    /* TLD with only 1 (wildcard) rule. */
    { "mm", NULL },
    { "c.mm", NULL },
    { "b.c.mm", "b.c.mm" },
    { "a.b.c.mm", "b.c.mm" },
    /* More complex TLD. */
    { "jp", NULL },
    { "test.jp", "test.jp" },
    { "www.test.jp", "test.jp" },
    { "ac.jp", NULL },
    { "test.ac.jp", "test.ac.jp" },
    { "www.test.ac.jp", "test.ac.jp" },
    { "kyoto.jp", NULL },
    { "test.kyoto.jp", "test.kyoto.jp" },
    { "ide.kyoto.jp", NULL },
    { "b.ide.kyoto.jp", "b.ide.kyoto.jp" },
    { "a.b.ide.kyoto.jp", "b.ide.kyoto.jp" },
    { "c.kobe.jp", NULL },
    { "b.c.kobe.jp", "b.c.kobe.jp" },
    { "a.b.c.kobe.jp", "b.c.kobe.jp" },
    { "city.kobe.jp", "city.kobe.jp" },
    { "www.city.kobe.jp", "city.kobe.jp" },
    /* TLD with a wildcard rule and exceptions. */
    { "ck", NULL },
    { "test.ck", NULL },
    { "b.test.ck", "b.test.ck" },
    { "a.b.test.ck", "b.test.ck" },
    { "www.ck", "www.ck" },
    { "www.www.ck", "www.ck" },
    /* US K12. */
    { "us", NULL },
    { "test.us", "test.us" },
    { "www.test.us", "test.us" },
    { "ak.us", NULL },
    { "test.ak.us", "test.ak.us" },
    { "www.test.ak.us", "test.ak.us" },
    { "k12.ak.us", NULL },
    { "test.k12.ak.us", "test.k12.ak.us" },
    { "www.test.k12.ak.us", "test.k12.ak.us" },
    /* IDN labels. */
    { "\xe9\xa3\x9f\xe7\x8b\xae.com.cn",                       /* 食狮.com.cn */
      "\xe9\xa3\x9f\xe7\x8b\xae.com.cn" },
    { "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn",  /* 食狮.公司.cn */
      "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn" },
    { "www.\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn",
      "\xe9\xa3\x9f\xe7\x8b\xae.\xe5\x85\xac\xe5\x8f\xb8.cn" },
    { "shishi.\xe5\x85\xac\xe5\x8f\xb8.cn",                   /* shishi.公司.cn */
      "shishi.\xe5\x85\xac\xe5\x8f\xb8.cn" },
    { "\xe5\x85\xac\xe5\x8f\xb8.cn", NULL },                   /* 公司.cn */
    { "\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd",     /* 食狮.中国 */
      "\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd" },
    { "www.\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd",
      "\xe9\xa3\x9f\xe7\x8b\xae.\xe4\xb8\xad\xe5\x9b\xbd" },
    { "shishi.\xe4\xb8\xad\xe5\x9b\xbd",                       /* shishi.中国 */
      "shishi.\xe4\xb8\xad\xe5\x9b\xbd" },
    { "\xe4\xb8\xad\xe5\x9b\xbd", NULL },                      /* 中国 */
    /* Same as above, but punycoded. */
    { "xn--85x722f.com.cn", "xn--85x722f.com.cn" },
    { "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
    { "www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
    { "shishi.xn--55qx5d.cn", "shishi.xn--55qx5d.cn" },
    { "xn--55qx5d.cn", NULL },
    { "xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s" },
    { "www.xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s" },
    { "shishi.xn--fiqs8s", "shishi.xn--fiqs8s" },
    { "xn--fiqs8s", NULL },
};


static char  psl_buf[1024];


/* the registrable domain as a string, "-" for 0 */
static const char *
reg(const consent_psl_t *psl, const char *host)
{
    size_t  len, n;

    len = host ? strlen(host) : 0;
    n = consent_psl_registrable(psl, U(host), len);

    if (n == 0) {
        return "-";
    }

    if (n > len || n >= sizeof(psl_buf)) {
        return "(out of range)";
    }

    memcpy(psl_buf, host + len - n, n);
    psl_buf[n] = '\0';

    return psl_buf;
}


#define CHECK_REG(psl, host, want)                                           \
    do {                                                                     \
        const char  *g__ = reg(psl, host);                                   \
        CHECK_MEM(g__, strlen(g__), want);                                   \
    } while (0)


static int
psl_ascii(const char *s)
{
    for ( /* void */ ; *s; s++) {
        if ((unsigned char) *s >= 0x80) {
            return 0;
        }
    }

    return 1;
}


static unsigned
psl_run_vectors(const consent_psl_t *psl, const char *list)
{
    size_t       i, n, len;
    unsigned     failed;
    const char  *host, *want, *got;

    failed = 0;

    for (i = 0; i < sizeof(psl_vectors) / sizeof(psl_vectors[0]); i++) {
        host = psl_vectors[i].host;
        want = psl_vectors[i].want;

        if (host && !psl_ascii(host)) {
            want = NULL;
        }

        len = host ? strlen(host) : 0;
        n = consent_psl_registrable(psl, U(host), len);
        got = reg(psl, host);

        /* the answer is the vector's, in the host's own letter case */
        if ((want == NULL && n == 0)
            || (want && n == strlen(want) && strcasecmp(got, want) == 0))
        {
            test_passed++;
            continue;
        }

        test_failed++;
        failed++;
        fprintf(stderr, "FAIL %s:%d: %s list: checkPublicSuffix(%s) == %s,"
                " want %s\n", __FILE__, __LINE__, list,
                host ? host : "null", got, want ? want : "null");
    }

    return failed;
}


static consent_psl_t *
psl_from(const char *text)
{
    int             rc;
    consent_err_t   err;
    consent_psl_t  *psl;

    psl = consent_psl_create(&test_alloc);
    if (psl == NULL) {
        return NULL;
    }

    memset(&err, 0, sizeof(consent_err_t));
    rc = consent_psl_parse(psl, U(text), strlen(text), &err);

    if (rc != 0) {
        fprintf(stderr, "psl: line %u: %s\n", err.line, err.msg);
        return NULL;
    }

    return psl;
}


static int
psl_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}


/* the rule of line (1-based) of text, as the parser reads it: *off, *n */
static void
psl_rule_at(const char *text, size_t len, unsigned line, size_t *off,
    size_t *n)
{
    size_t  i, t;

    for (i = 0; line > 1 && i < len; i++) {
        line -= (text[i] == '\n');
    }

    while (i < len && psl_space(text[i])) {
        i++;
    }

    for (t = i; t < len && text[t] != '\n' && !psl_space(text[t]); t++) {
        /* void */
    }

    *off = i;
    *n = t - i;
}


/*
 * text fails on want_line with code, whose message is want, and err.at
 * the rule of that line as written
 */
static void
expect_error(const char *text, size_t len, unsigned want_line, int code,
    const char *want)
{
    int             rc;
    size_t          off, n;
    consent_err_t   err;
    consent_psl_t  *psl;

    psl = consent_psl_create(&test_alloc);
    CHECK(psl != NULL);

    if (psl == NULL) {
        return;
    }

    memset(&err, 0, sizeof(consent_err_t));
    err.line = (unsigned) -1;
    rc = consent_psl_parse(psl, U(text), len, &err);

    CHECK_INT(rc, -1);
    CHECK_INT(err.line, want_line);
    CHECK_INT(err.code, code);
    CHECK(err.msg != NULL);

    if (err.msg) {
        CHECK_MEM(err.msg, strlen(err.msg), want);
    }

    psl_rule_at(text, len, want_line, &off, &n);
    CHECK(n > 0);
    CHECK(err.at.data == U(text) + off);
    CHECK_INT(err.at.len, n);
}


#define EXPECT_ERROR(text, line, code, want)                                 \
    expect_error(text, sizeof(text) - 1, line, code, want)


static void
psl_syntax(void)
{
    int             rc, i;
    consent_err_t   err;
    consent_psl_t  *psl;
    char            buf[400];

    /* comments, indentation, CRLF, text after the rule, duplicates */
    psl = psl_from("// comment\r\n"
                   "   // indented comment\n"
                   "\t\r\n"
                   "COM\r\n"
                   "  org  \n"
                   "net // what follows whitespace is not read\n"
                   "com\n"
                   "www.ck\n"
                   "!www.ck\n"
                   "*.ck\n"
                   "!www.ck\n"
                   "*\n"
                   "a_b.example");
    CHECK(psl != NULL);

    if (psl) {
        /* com, org, net, www.ck, !www.ck, *.ck, *, a_b.example */
        CHECK_INT(consent_psl_count(psl), 8);
        CHECK_REG(psl, "www.example.com", "example.com");
        CHECK_REG(psl, "a.b.example.org", "example.org");
        CHECK_REG(psl, "x.example.net", "example.net");
        CHECK_REG(psl, "what", "-");
        CHECK_REG(psl, "a.www.ck", "www.ck");
        CHECK_REG(psl, "a.b.ck", "a.b.ck");
        CHECK_REG(psl, "x.a_b.example", "x.a_b.example");
        CHECK_REG(psl, "a_b.example", "-");
    }

    /* an empty list and a never-parsed one: only the implicit rule */
    psl = psl_from("");
    CHECK(psl != NULL);

    if (psl) {
        CHECK_INT(consent_psl_count(psl), 0);
        CHECK_REG(psl, "a.b.c", "b.c");
        CHECK_REG(psl, "c", "-");
    }

    psl = consent_psl_create(&test_alloc);
    CHECK(psl != NULL);

    if (psl) {
        CHECK_REG(psl, "www.example.com", "example.com");
        CHECK_INT(consent_psl_count(psl), 0);
    }

    CHECK_INT(consent_psl_registrable(NULL, U("example.com"), 11), 0);
    CHECK_INT(consent_psl_count(NULL), 0);

    /* a second file adds to the first, growing the table */
    psl = psl_from("com\n");
    CHECK(psl != NULL);

    if (psl) {
        for (i = 0; i < 100; i++) {
            snprintf(buf, sizeof(buf), "s%d.com\n", i);
            rc = consent_psl_parse(psl, U(buf), strlen(buf), &err);
            CHECK_INT(rc, 0);
        }

        CHECK_INT(consent_psl_count(psl), 101);
        CHECK_REG(psl, "a.b.s0.com", "b.s0.com");
        CHECK_REG(psl, "a.b.s99.com", "b.s99.com");
        CHECK_REG(psl, "a.b.s100.com", "s100.com");
        CHECK_REG(psl, "s50.com", "-");
    }

    /* errors name the line and the rule */
    EXPECT_ERROR("com\na..b\n", 2, CONSENT_PSL_E_EMPTY_LABEL, "empty label");
    EXPECT_ERROR(".com", 1, CONSENT_PSL_E_EMPTY_LABEL, "empty label");
    EXPECT_ERROR("com.", 1, CONSENT_PSL_E_EMPTY_LABEL, "empty label");
    EXPECT_ERROR("!", 1, CONSENT_PSL_E_EMPTY_RULE, "empty rule");
    EXPECT_ERROR("// x\r\n\r\n*.*.com\r\n", 3, CONSENT_PSL_E_WILDCARD,
                 "wildcard \"*\" not the leftmost label");
    EXPECT_ERROR("a.*.com", 1, CONSENT_PSL_E_WILDCARD,
                 "wildcard \"*\" not the leftmost label");
    EXPECT_ERROR("!*.com", 1, CONSENT_PSL_E_WILDCARD_EXC,
                 "wildcard \"*\" in an exception");
    EXPECT_ERROR("!com", 1, CONSENT_PSL_E_EXCEPTION,
                 "exception with one label");
    EXPECT_ERROR("a*b.com", 1, CONSENT_PSL_E_CHAR, "invalid character");
    EXPECT_ERROR("**.com", 1, CONSENT_PSL_E_CHAR, "invalid character");
    EXPECT_ERROR("!!a.com", 1, CONSENT_PSL_E_CHAR, "invalid character");
    EXPECT_ERROR("/com", 1, CONSENT_PSL_E_CHAR, "invalid character");
    EXPECT_ERROR("a:b.com", 1, CONSENT_PSL_E_CHAR, "invalid character");
    EXPECT_ERROR("com\nex\0ample.com\n", 2, CONSENT_PSL_E_CHAR,
                 "invalid character");
    EXPECT_ERROR("\xff.com", 1, CONSENT_PSL_E_UTF8, "invalid UTF-8");
    EXPECT_ERROR("\xc3.com", 1, CONSENT_PSL_E_UTF8,
                 "invalid UTF-8");                          /* truncated */
    EXPECT_ERROR("ab\xc3", 1, CONSENT_PSL_E_UTF8,
                 "invalid UTF-8");                          /* at the end */
    EXPECT_ERROR("\xc0\xaf.com", 1, CONSENT_PSL_E_UTF8,
                 "invalid UTF-8");                          /* overlong */
    EXPECT_ERROR("\xe0\x80\xaf.com", 1, CONSENT_PSL_E_UTF8,
                 "invalid UTF-8");                          /* overlong */
    EXPECT_ERROR("\xed\xa0\x80.com", 1, CONSENT_PSL_E_UTF8,
                 "invalid UTF-8");                          /* surrogate */
    EXPECT_ERROR("\xf4\x90\x80\x80.com", 1, CONSENT_PSL_E_UTF8,
                 "invalid UTF-8");
    EXPECT_ERROR("\x80.com", 1, CONSENT_PSL_E_UTF8, "invalid UTF-8");
    EXPECT_ERROR("\xc3\xa4*.com", 1, CONSENT_PSL_E_CHAR,
                 "invalid character");

    /* the rule as written: indented, "!" kept, what follows it not */
    EXPECT_ERROR("com\n \t!a..b  // x\n", 2, CONSENT_PSL_E_EMPTY_LABEL,
                 "empty label");

    /* labels to 63 bytes, rules to 253 */
    memset(buf, 'a', 64);
    memcpy(buf + 64, ".com", 5);
    expect_error(buf, 68, 1, CONSENT_PSL_E_LABEL_LONG,
                 "label longer than 63 bytes");

    psl = psl_from(buf + 1);
    CHECK(psl != NULL);

    if (psl) {
        CHECK_INT(consent_psl_count(psl), 1);
        CHECK_INT(consent_psl_registrable(psl, U(buf + 1), 67), 0);
        CHECK_INT(consent_psl_registrable(psl, U(buf), 68), 0);
    }

    for (i = 0; i < 126; i++) {
        memcpy(buf + i * 2, "b.", 2);
    }

    memcpy(buf + 252, "cc", 3);                         /* 254 bytes */
    expect_error(buf, 254, 1, CONSENT_PSL_E_RULE_LONG,
                 "rule longer than 253 bytes");

    expect_error(buf + 1, 253, 1, CONSENT_PSL_E_EMPTY_LABEL,
                 "empty label");                            /* ".b.b..." */

    psl = psl_from(buf + 2);                            /* 252 bytes */
    CHECK(psl != NULL);

    if (psl) {
        CHECK_INT(consent_psl_registrable(psl, U(buf + 2), 252), 0);
        /* one more label is a host of 254 bytes */
        buf[0] = 'x';
        CHECK_INT(consent_psl_registrable(psl, U(buf), 254), 0);
        /* "b.b. ... b.": not the rule; the implicit one, with the dot */
        CHECK_INT(consent_psl_registrable(psl, U(buf + 2), 250), 4);
    }

    {
        static char  huge[100000];

        memset(huge, 'a', sizeof(huge) - 1);
        expect_error(huge, sizeof(huge) - 1, 1, CONSENT_PSL_E_LABEL_LONG,
                     "label longer than 63 bytes");

        for (i = 0; i < (int) sizeof(huge) - 1; i += 2) {
            huge[i + 1] = '.';
        }

        expect_error(huge, sizeof(huge) - 1, 1, CONSENT_PSL_E_RULE_LONG,
                     "rule longer than 253 bytes");

        /* 3-byte characters: the code points are counted, not encoded */
        for (i = 0; i + 3 <= (int) sizeof(huge) - 1; i += 3) {
            memcpy(huge + i, "\xe4\xb8\xad", 3);
        }

        expect_error(huge, (size_t) i, 1, CONSENT_PSL_E_LABEL_LONG,
                     "label longer than 63 bytes");
    }

    /* the same with a NULL err */
    psl = consent_psl_create(&test_alloc);
    CHECK(psl != NULL);

    if (psl) {
        CHECK_INT(consent_psl_parse(psl, U("a..b"), 4, NULL), -1);
    }
}


static void
psl_idn(void)
{
    consent_psl_t  *psl;
    char            buf[256];

    /* rules with UTF-8 labels are stored as A-labels (RFC 3492) */
    psl = psl_from("de\n"
                   "b\xc3\xbc" "cher.de\n"                /* bücher.de */
                   "M\xc3\xbc" "nchen.de\n"               /* München.de */
                   "\xd1\x80\xd1\x84\n"                   /* рф */
                   "*.\xce\xb5\xce\xbb\n"                 /* *.ελ */
                   "\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80"
                   "\xe4\xb9\x88\xe4\xb8\x8d\xe8\xaf\xb4\xe4\xb8\xad"
                   "\xe6\x96\x87\n"                       /* 他们为什么不说中文 */
                   "3\xe5\xb9\xb4" "B\xe7\xb5\x84\xe9\x87\x91\xe5\x85\xab"
                   "\xe5\x85\x88\xe7\x94\x9f\n"           /* 3年B組金八先生 */
                   "\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa"
                   "\xd9\x83\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1"
                   "\xd8\xa8\xd9\x8a\xd8\x9f\n");         /* RFC 3492 7.1 (A) */
    CHECK(psl != NULL);

    if (psl == NULL) {
        return;
    }

    CHECK_INT(consent_psl_count(psl), 8);

    CHECK_REG(psl, "xn--bcher-kva.de", "-");
    CHECK_REG(psl, "www.xn--bcher-kva.de", "www.xn--bcher-kva.de");
    CHECK_REG(psl, "www.XN--BCHER-KVA.DE", "www.XN--BCHER-KVA.DE");
    CHECK_REG(psl, "xn--mnchen-3ya.de", "-");
    CHECK_REG(psl, "a.b.xn--p1ai", "b.xn--p1ai");
    CHECK_REG(psl, "xn--p1ai", "-");
    CHECK_REG(psl, "a.xn--qxam", "-");
    CHECK_REG(psl, "b.a.xn--qxam", "b.a.xn--qxam");
    CHECK_REG(psl, "xn--ihqwcrb4cv8a8dqg056pqjye", "-");
    CHECK_REG(psl, "x.xn--ihqwcrb4cv8a8dqg056pqjye",
              "x.xn--ihqwcrb4cv8a8dqg056pqjye");
    CHECK_REG(psl, "xn--3b-ww4c5e180e575a65lsy2b", "-");
    CHECK_REG(psl, "xn--egbpdaj6bu4bxfgehfvwxn", "-");
    /* the UTF-8 forms are not hosts */
    CHECK_REG(psl, "www.b\xc3\xbc" "cher.de", "-");

    /* an A-label of 63 bytes is fine, 64 is not */
    memset(buf, 'a', 55);
    memcpy(buf + 55, "\xc3\xa9", 3);                    /* 55 a, é */
    psl = psl_from(buf);
    CHECK(psl != NULL);

    if (psl) {
        memcpy(buf, "x.xn--", 6);
        memset(buf + 6, 'a', 55);
        memcpy(buf + 61, "-u3e", 5);
        CHECK_INT(strlen(buf), 65);
        CHECK_REG(psl, buf, buf);
        CHECK_REG(psl, buf + 2, "-");
    }

    memset(buf, 'a', 56);
    memcpy(buf + 56, "\xc3\xa9", 3);
    expect_error(buf, strlen(buf), 1, CONSENT_PSL_E_LABEL_LONG,
                 "label longer than 63 bytes");

    /* 24 x 中国 is 59 bytes as an A-label, 25 would be 61: code points */
    buf[0] = '\0';

    {
        int  i;

        for (i = 0; i < 30; i++) {
            strcat(buf, "\xe4\xb8\xad\xe5\x9b\xbd");
        }

        /* 60 code points: over before encoding */
        expect_error(buf, strlen(buf), 1, CONSENT_PSL_E_LABEL_LONG,
                     "label longer than 63 bytes");
    }
}


static void
psl_hosts(void)
{
    int             i;
    consent_psl_t  *psl;
    char            buf[700];

    psl = psl_from(psl_small);
    CHECK(psl != NULL);

    if (psl == NULL) {
        return;
    }

    /* a trailing dot is ignored, and kept in the answer */
    CHECK_REG(psl, "www.example.com.", "example.com.");
    CHECK_REG(psl, "example.com.", "example.com.");
    CHECK_REG(psl, "com.", "-");
    CHECK_REG(psl, "a.b.c.mm.", "b.c.mm.");
    CHECK_REG(psl, "www.www.ck.", "www.ck.");
    CHECK_REG(psl, ".", "-");
    CHECK_REG(psl, "", "-");
    CHECK_REG(psl, "example.com..", "-");

    /* empty labels */
    CHECK_REG(psl, "a..example.com", "-");
    CHECK_REG(psl, "..", "-");
    CHECK_REG(psl, "example..com", "-");
    CHECK_REG(psl, "..example.com", "-");

    /* uppercase */
    CHECK_REG(psl, "WWW.CITY.KOBE.JP", "CITY.KOBE.JP");
    CHECK_REG(psl, "A.B.C.MM", "B.C.MM");
    CHECK_REG(psl, "Www.Ck", "Www.Ck");
    CHECK_REG(psl, "FOO.GitHub.IO", "FOO.GitHub.IO");
    CHECK_REG(psl, "GITHUB.IO", "-");

    /* bytes that are no part of a host name */
    CHECK_REG(psl, "ex\xc3\xa4mple.com", "-");
    CHECK_REG(psl, "example.com\x80", "-");
    CHECK_REG(psl, "\xff", "-");
    CHECK_REG(psl, "example.com:8080", "-");
    CHECK_REG(psl, "[::1]", "-");
    CHECK_REG(psl, "exa mple.com", "-");
    CHECK_REG(psl, "example.com\r\nSet-Cookie: a=b", "-");
    CHECK_REG(psl, "a*.example.com", "-");
    CHECK_REG(psl, "*.example.com", "-");
    CHECK_REG(psl, "a/b.example.com", "-");
    CHECK_INT(consent_psl_registrable(psl, U("www.exa\0mple.com"), 16), 0);
    CHECK_REG(psl, "_dmarc.example.com", "example.com");
    CHECK_REG(psl, "a-b.c-d.com", "c-d.com");

    /* IPv4 addresses, as a URL parser reads them */
    CHECK_REG(psl, "127.0.0.1", "-");
    CHECK_REG(psl, "10.0.0.1.", "-");
    CHECK_REG(psl, "0x7f.1", "-");
    CHECK_REG(psl, "0x7F.0X1", "-");
    CHECK_REG(psl, "1.2.3.0x", "-");
    CHECK_REG(psl, "example.123", "-");
    CHECK_REG(psl, "1.2.3.com", "3.com");
    CHECK_REG(psl, "1.2.3.4com", "3.4com");
    CHECK_REG(psl, "example.0xg", "example.0xg");

    /* a 64-byte label; 63 is fine */
    memcpy(buf, "www.", 4);
    memset(buf + 4, 'a', 64);
    memcpy(buf + 68, ".com", 5);
    CHECK_REG(psl, buf, "-");
    memcpy(buf + 67, ".com", 5);                        /* 63 a */
    CHECK_REG(psl, buf, buf + 4);

    memset(buf, 'a', 64);
    memcpy(buf + 64, ".com", 5);
    CHECK_REG(psl, buf, "-");
    CHECK_REG(psl, buf + 1, buf + 1);

    memset(buf, 'a', 64);
    buf[64] = '\0';
    CHECK_REG(psl, buf, "-");                           /* one label */

    /* 300 labels: too long; 126 labels in 253 bytes: fine */
    for (i = 0; i < 300; i++) {
        memcpy(buf + i * 2, "a.", 2);
    }

    memcpy(buf + 600, "com", 4);
    CHECK_REG(psl, buf, "-");
    CHECK_REG(psl, buf + 600 - 250, "a.com");           /* 253 bytes */
    CHECK_INT(strlen(buf + 600 - 250), 253);
    CHECK_REG(psl, buf + 600 - 252, "-");               /* 255 bytes */
    buf[603] = '.';
    buf[604] = '\0';
    CHECK_REG(psl, buf + 600 - 250, "a.com.");          /* 253 + '.' */
    CHECK_REG(psl, buf + 600 - 252, "-");

    for (i = 0; i < 300; i++) {
        memcpy(buf + i * 2, "..", 2);
    }

    CHECK_REG(psl, buf, "-");

    /* deep under a wildcard and an exception */
    for (i = 0; i < 120; i++) {
        memcpy(buf + i * 2, "x.", 2);
    }

    memcpy(buf + 240, "city.kobe.jp", 13);
    CHECK_REG(psl, buf, "city.kobe.jp");
    memcpy(buf + 240, "ab.kobe.jp", 11);
    CHECK_REG(psl, buf, "x.ab.kobe.jp");
}


/* how much the list takes: an allocator that counts */

static size_t  psl_bytes;
static size_t  psl_allocs;
static size_t  psl_fail_at;


static void *
psl_count_alloc(void *data, size_t size)
{
    psl_allocs++;

    if (psl_fail_at && psl_allocs >= psl_fail_at) {
        return NULL;
    }

    psl_bytes += size;

    return test_alloc.alloc(test_alloc.data, size);
}


static void
psl_oom(void)
{
    int              rc;
    size_t           n;
    consent_err_t    err;
    consent_psl_t   *psl;
    consent_alloc_t  a = { psl_count_alloc, NULL };

    /* every allocation in turn fails: NULL or -1, never a crash */
    for (n = 1; n < 10; n++) {
        psl_allocs = 0;
        psl_fail_at = n;

        psl = consent_psl_create(&a);

        if (psl == NULL) {
            CHECK_INT(n, 1);
            continue;
        }

        memset(&err, 0, sizeof(consent_err_t));
        rc = consent_psl_parse(psl, U(psl_small), sizeof(psl_small) - 1,
                               &err);

        if (rc == 0) {
            /* enough: the list needed fewer allocations */
            CHECK(n >= 4);
            CHECK_REG(psl, "www.city.kobe.jp", "city.kobe.jp");
            break;
        }

        CHECK_INT(rc, -1);
        CHECK_INT(err.code, CONSENT_PSL_E_NOMEM);
        CHECK(err.msg && strcmp(err.msg, "out of memory") == 0);
        /* the table for the file (line 0, nothing at fault), or a rule */
        CHECK((err.line == 0) == (err.at.len == 0));
        CHECK(err.at.data >= U(psl_small)
              && err.at.data + err.at.len <= U(psl_small)
                                             + sizeof(psl_small) - 1);
        /* what was added works: the implicit rule gives the same here */
        CHECK_REG(psl, "www.example.com", "example.com");
    }

    psl_fail_at = 0;
}


static unsigned char *
psl_read(const char *path, size_t *len)
{
    FILE           *f;
    long            size;
    unsigned char  *p;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    p = NULL;

    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        p = malloc((size_t) size + 1);

        if (p && fread(p, 1, (size_t) size, f) != (size_t) size) {
            free(p);
            p = NULL;
        }

        *len = (size_t) size;
    }

    fclose(f);

    return p;
}


static double
psl_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
psl_real(void)
{
    int              rc, i, runs;
    size_t           len;
    double           t, best;
    consent_err_t    err;
    unsigned char   *text;
    consent_psl_t   *psl;
    consent_alloc_t  a = { psl_count_alloc, NULL };

    text = psl_read(PSL_REAL_LIST, &len);

    if (text == NULL) {
        printf("psl: %s not found (Debian: publicsuffix), real-list tests"
               " skipped\n", PSL_REAL_LIST);
        return;
    }

    /* the best of a few parses, each into a list of its own */
    best = 1e9;
    runs = 5;
    psl = NULL;

    for (i = 0; i < runs; i++) {
        psl_bytes = 0;
        psl_allocs = 0;

        t = psl_now();

        psl = consent_psl_create(&a);
        CHECK(psl != NULL);

        if (psl == NULL) {
            break;
        }

        memset(&err, 0, sizeof(consent_err_t));
        rc = consent_psl_parse(psl, text, len, &err);

        t = psl_now() - t;
        best = t < best ? t : best;

        CHECK_INT(rc, 0);

        if (rc != 0) {
            fprintf(stderr, "psl: %s:%u: %s\n", PSL_REAL_LIST, err.line,
                    err.msg);
            psl = NULL;
            break;
        }
    }

    free(text);

    if (psl == NULL) {
        return;
    }

    CHECK(consent_psl_count(psl) > 5000);

    printf("psl: %s: %u rules, parsed in %.2f ms (this build), %zu bytes"
           " in %zu allocations\n", PSL_REAL_LIST, consent_psl_count(psl),
           best * 1e3, psl_bytes, psl_allocs);

    psl_run_vectors(psl, "real");

    /* rules long in the list */
    CHECK_REG(psl, "www.bbc.co.uk", "bbc.co.uk");
    CHECK_REG(psl, "co.uk", "-");
    CHECK_REG(psl, "foo.github.io", "foo.github.io");
    CHECK_REG(psl, "a.b.foo.github.io", "foo.github.io");
    CHECK_REG(psl, "github.io", "-");
    CHECK_REG(psl, "x.y.kawasaki.jp", "x.y.kawasaki.jp");
    CHECK_REG(psl, "y.kawasaki.jp", "-");
    CHECK_REG(psl, "www.city.kawasaki.jp", "city.kawasaki.jp");
    CHECK_REG(psl, "EXAMPLE.CO.UK.", "EXAMPLE.CO.UK.");
}


void
test_psl(void)
{
    consent_psl_t  *psl;

    psl = psl_from(psl_small);
    CHECK(psl != NULL);

    if (psl) {
        CHECK_INT(consent_psl_count(psl), 21);
        psl_run_vectors(psl, "small");
    }

    psl_syntax();
    psl_idn();
    psl_hosts();
    psl_oom();
    psl_real();
}
