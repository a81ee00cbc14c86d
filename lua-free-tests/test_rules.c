/*
 * Copyright (C) ngx_consent_module authors
 *
 * Rule lines and the matcher: exact beats the longest prefix beats the
 * first regex, and the answer does not depend on how many rules there are.
 */

#include "test.h"


static consent_purposes_t  ps;


/* a compiled set from rule lines; NULL and a message on error */
static consent_ruleset_t *
ruleset(const char *const *lines, char *err, size_t errlen)
{
    return test_ruleset_err(&ps, lines, err, errlen);
}


static const char *
match_vendor(consent_ruleset_t *rs, const char *name)
{
    const consent_rule_t  *r;
    static char            buf[CONSENT_VENDOR_MAX + 1];

    r = consent_ruleset_match(rs, U(name), strlen(name));
    if (r == NULL) {
        return "-";
    }

    memcpy(buf, r->vendor, r->vendor_len);
    buf[r->vendor_len] = '\0';

    return buf;
}


/*
 * The line fails with code, a message that has want in it, and err->at the
 * field at_off bytes into the line, at_len long (empty for a missing one).
 */
static void
expect_parse_error(const char *line, int code, const char *want,
    size_t at_off, size_t at_len)
{
    int             rc;
    consent_err_t   e;
    consent_rule_t  rule;

    memset(&e, 0, sizeof(e));
    e.msg = "";
    rc = consent_rule_parse(U(line), strlen(line), &ps, &rule, &e);
    CHECK_INT(rc, -1);
    CHECK_INT(e.code, code);
    CHECK(e.at.data == U(line) + at_off);
    CHECK_INT(e.at.len, at_len);

    if (e.msg == NULL || strstr(e.msg, want) == NULL) {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: \"%s\" gave \"%s\", want \"%s\"\n",
                __FILE__, __LINE__, line, e.msg ? e.msg : "(null)", want);

    } else {
        test_passed++;
    }
}


static void
test_rules_parse(void)
{
    int             rc;
    char            longer[CONSENT_NAME_MAX + 64];
    consent_err_t   e, untouched;
    consent_rule_t  rule;

    /* err is written on failure only */
    memset(&e, 0x5a, sizeof(e));
    memcpy(&untouched, &e, sizeof(e));

    rc = consent_rule_parse(U("   # comment"), 12, &ps, &rule, &e);
    CHECK_INT(rc, 0);
    rc = consent_rule_parse(U(" \t\r"), 3, &ps, &rule, &e);
    CHECK_INT(rc, 0);
    rc = consent_rule_parse(U(""), 0, &ps, &rule, &e);
    CHECK_INT(rc, 0);

    rc = consent_rule_parse(U("_ga  analytics\tGoogle_Analytics\r"), 32, &ps,
                            &rule, &e);
    CHECK_INT(rc, 1);
    CHECK_INT(rule.kind, CONSENT_RULE_EXACT);
    CHECK_MEM(rule.pattern, rule.pattern_len, "_ga");
    CHECK_INT(rule.purpose, CONSENT_P_ANALYTICS);
    CHECK_MEM(rule.vendor, rule.vendor_len, "Google_Analytics");
    CHECK_INT(rule.domain_len, 0);

    rc = consent_rule_parse(U("_gcl_* advertising Google_Ads "
                              "domain=.doubleclick.net"), 52, &ps, &rule, &e);
    CHECK_INT(rc, 1);
    CHECK_INT(rule.kind, CONSENT_RULE_PREFIX);
    CHECK_MEM(rule.pattern, rule.pattern_len, "_gcl_");
    CHECK_INT(rule.purpose, CONSENT_P_ADVERTISING);
    CHECK(rule.domain_len > 0);

    rc = consent_rule_parse(U("~mp_[0-9a-f]+_mixpanel analytics Mixpanel"),
                            41, &ps, &rule, &e);
    CHECK_INT(rc, 1);
    CHECK_INT(rule.kind, CONSENT_RULE_REGEX);
    CHECK_MEM(rule.pattern, rule.pattern_len, "mp_[0-9a-f]+_mixpanel");

    CHECK(memcmp(&e, &untouched, sizeof(e)) == 0);

    /* a missing field: an empty span where it would start */
    expect_parse_error("_ga", CONSENT_RULE_E_NO_PURPOSE, "missing purpose",
                       3, 0);
    expect_parse_error("_ga analytics", CONSENT_RULE_E_NO_VENDOR,
                       "missing vendor", 13, 0);
    expect_parse_error("_ga\tanalytics \r", CONSENT_RULE_E_NO_VENDOR,
                       "missing vendor", 13, 0);
    expect_parse_error("_ga tracking Google", CONSENT_RULE_E_UNKNOWN_PURPOSE,
                       "unknown purpose", 4, 8);
    expect_parse_error("_ga analytics Goo/gle", CONSENT_RULE_E_VENDOR,
                       "invalid character", 14, 7);
    expect_parse_error("_ga analytics Google domain=x.com extra",
                       CONSENT_RULE_E_OPTION, "unknown option", 34, 5);
    expect_parse_error("_ga analytics Google domain=x.com icase domain-only "
                       "icase", CONSENT_RULE_E_FIELD, "unexpected", 52, 5);
    expect_parse_error("_ga analytics Google icase icase",
                       CONSENT_RULE_E_OPTION, "given twice", 27, 5);
    expect_parse_error("_ga analytics Google domain=a.com domain=b.com",
                       CONSENT_RULE_E_OPTION, "given twice", 34, 12);
    expect_parse_error("_ga analytics Google domain-only",
                       CONSENT_RULE_E_OPTION, "needs domain=", 21, 11);
    expect_parse_error("~_ga.* analytics Google domain=a.com domain-only",
                       CONSENT_RULE_E_OPTION, "not allowed on a regex", 37,
                       11);
    expect_parse_error("_ga analytics Google domain=a..com",
                       CONSENT_RULE_E_DOMAIN, "invalid domain", 21, 13);
    expect_parse_error("_ga analytics Google domain=.",
                       CONSENT_RULE_E_DOMAIN, "invalid domain", 21, 8);
    expect_parse_error("_ga analytics Google path=/", CONSENT_RULE_E_OPTION,
                       "unknown option", 21, 6);
    expect_parse_error("_ga analytics Google domain=", CONSENT_RULE_E_OPTION,
                       "unknown option", 21, 7);
    expect_parse_error("_ga analytics Google domain=a_b.com",
                       CONSENT_RULE_E_DOMAIN, "invalid domain", 21, 14);
    expect_parse_error("* analytics Google", CONSENT_RULE_E_PATTERN,
                       "empty prefix", 0, 1);
    expect_parse_error("~ analytics Google", CONSENT_RULE_E_PATTERN,
                       "empty regex", 0, 1);
    expect_parse_error("a;b analytics Google", CONSENT_RULE_E_PATTERN,
                       "invalid character", 0, 3);
    expect_parse_error("~a\\Qb analytics Google", CONSENT_RULE_E_REGEX,
                       "\\Q", 0, 5);
    expect_parse_error("~(*LIMIT_MATCH=1)a analytics Google",
                       CONSENT_RULE_E_REGEX, "verbs", 0, 18);
    expect_parse_error("~(?x)a analytics Google", CONSENT_RULE_E_REGEX,
                       "extended", 0, 6);
    expect_parse_error("~(a)b\\1 analytics Google", CONSENT_RULE_E_REGEX,
                       "back references", 0, 7);
    expect_parse_error("~(a)\\g{1} analytics Google", CONSENT_RULE_E_REGEX,
                       "back references", 0, 9);
    expect_parse_error("~a\\k<n> analytics Google", CONSENT_RULE_E_REGEX,
                       "back ref", 0, 7);
    expect_parse_error("~(?<n>a) analytics Google", CONSENT_RULE_E_REGEX,
                       "named groups", 0, 8);
    expect_parse_error("~(?P<n>a) analytics Google", CONSENT_RULE_E_REGEX,
                       "named groups", 0, 9);
    expect_parse_error("~(a)(?1) analytics Google", CONSENT_RULE_E_REGEX,
                       "group references", 0, 8);
    expect_parse_error("~(a)(?-1) analytics Google", CONSENT_RULE_E_REGEX,
                       "group references", 0, 9);
    expect_parse_error("~a(?R)? analytics Google", CONSENT_RULE_E_REGEX,
                       "group references", 0, 7);
    expect_parse_error("~(a)(?(1)b) analytics Google", CONSENT_RULE_E_REGEX,
                       "group references", 0, 11);

    /* the limits of a pattern and of a vendor name */
    memset(longer, 'a', sizeof(longer));
    memcpy(longer + CONSENT_NAME_MAX + 1, " analytics V", 13);
    expect_parse_error(longer, CONSENT_RULE_E_PATTERN, "pattern too long", 0,
                       CONSENT_NAME_MAX + 1);
    memcpy(longer + CONSENT_NAME_MAX, "* analytics V", 14);
    rc = consent_rule_parse(U(longer), strlen(longer), &ps, &rule, &e);
    CHECK_INT(rc, 1);
    CHECK_INT(rule.pattern_len, CONSENT_NAME_MAX);

    memcpy(longer, "_ga analytics ", 14);
    memset(longer + 14, 'v', CONSENT_VENDOR_MAX + 1);
    longer[14 + CONSENT_VENDOR_MAX + 1] = '\0';
    expect_parse_error(longer, CONSENT_RULE_E_VENDOR, "vendor name too long",
                       14, CONSENT_VENDOR_MAX + 1);
    longer[14 + CONSENT_VENDOR_MAX] = '\0';
    rc = consent_rule_parse(U(longer), strlen(longer), &ps, &rule, &e);
    CHECK_INT(rc, 1);
    CHECK_INT(rule.vendor_len, CONSENT_VENDOR_MAX);
}


static void
test_rules_precedence(void)
{
    char                err[256];
    consent_ruleset_t  *rs;

    static const char  *lines[] = {
        "~_g.*            analytics   RegexG",
        "~_ga_[A-Z0-9]+   analytics   RegexGa4",
        "_g*              advertising PrefixG",
        "_ga*             analytics   PrefixGa",
        "_ga_*            analytics   PrefixGa4",
        "_ga              analytics   ExactGa",
        "_gid             analytics   ExactGid",
        "~(?i)hubspot.*   analytics   HubSpot",
        "~x{3}[0-9]       analytics   X3",
        "# a comment between rules",
        "",
        "~(q)(z)         analytics   Groups",
        "~(?:a|b)(?=c)c  analytics   Lookahead",
        NULL
    };

    rs = ruleset(lines, err, sizeof(err));
    CHECK(rs != NULL);
    if (rs == NULL) {
        fprintf(stderr, "  ruleset: %s\n", err);
        return;
    }

    CHECK_INT(consent_ruleset_count(rs), 11);

    /* exact beats every prefix and regex */
    CHECK(strcmp(match_vendor(rs, "_ga"), "ExactGa") == 0);
    CHECK(strcmp(match_vendor(rs, "_gid"), "ExactGid") == 0);

    /* the longest prefix wins, and beats regexes */
    CHECK(strcmp(match_vendor(rs, "_ga_ABC"), "PrefixGa4") == 0);
    CHECK(strcmp(match_vendor(rs, "_gat"), "PrefixGa") == 0);
    CHECK(strcmp(match_vendor(rs, "_gcl_au"), "PrefixG") == 0);
    CHECK(strcmp(match_vendor(rs, "_g"), "PrefixG") == 0);

    /* regexes match the whole name, first in rule order */
    CHECK(strcmp(match_vendor(rs, "HubSpotutk"), "HubSpot") == 0);
    CHECK(strcmp(match_vendor(rs, "xxx7"), "X3") == 0);
    CHECK(strcmp(match_vendor(rs, "xxx77"), "-") == 0);
    CHECK(strcmp(match_vendor(rs, "axxx7"), "-") == 0);

    /* groups of one rule do not disturb the next */
    CHECK(strcmp(match_vendor(rs, "qz"), "Groups") == 0);
    CHECK(strcmp(match_vendor(rs, "bc"), "Lookahead") == 0);
    CHECK(strcmp(match_vendor(rs, "cc"), "-") == 0);

    CHECK(strcmp(match_vendor(rs, "_"), "-") == 0);
    CHECK(strcmp(match_vendor(rs, "sid"), "-") == 0);
    CHECK(consent_ruleset_match(rs, U(""), 0) == NULL);

    /* vendors are interned once each */
    CHECK(consent_ruleset_vendor_find(rs, U("ExactGa"), 7) >= 0);
    CHECK_INT(consent_ruleset_vendor_find(rs, U("Nobody"), 6), -1);
}


static void
test_rules_override(void)
{
    char                   err[256];
    consent_ruleset_t     *rs;
    const consent_rule_t  *r;

    static const char  *lines[] = {
        "_ga     analytics   First",
        "_ga     advertising Second",
        "_x*     analytics   First",
        "_x*     sharing     Second",
        NULL
    };

    /* a later exact or prefix rule for the same pattern replaces one */
    rs = ruleset(lines, err, sizeof(err));
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    r = consent_ruleset_match(rs, U("_ga"), 3);
    CHECK(r != NULL && r->purpose == CONSENT_P_ADVERTISING);
    r = consent_ruleset_match(rs, U("_xyz"), 4);
    CHECK(r != NULL && r->purpose == CONSENT_P_SHARING);
}


static void
test_rules_bad_regex(void)
{
    char                err[256];
    consent_ruleset_t  *rs;

    static const char  *bad[] = { "~a(b analytics V", NULL };
    static const char  *close[] = { "~a)|(b analytics V", NULL };

    rs = ruleset(bad, err, sizeof(err));
    CHECK(rs == NULL);
    CHECK(strstr(err, "bad regex") != NULL);

    /* cannot break out of its own alternative */
    rs = ruleset(close, err, sizeof(err));
    CHECK(rs == NULL);
}


/* the same names give the same answers with 20 or 2,000 rules */
static void
test_rules_scale(void)
{
    int                    n, i, k;
    char                   err[256], line[128];
    consent_err_t          e;
    consent_rule_t         rule;
    consent_ruleset_t     *rs;
    const consent_rule_t  *r;

    static const char  *probe[] = {
        "_ga", "_ga_XYZ", "_fbp", "_hjSessionUser_1", "sid", "mp_1f_mixpanel"
    };
    static const char  *want[] = {
        "GA", "GA4", "Meta", "Hotjar", "-", "Mixpanel"
    };

    for (n = 20; n <= 2000; n *= 100) {
        rs = consent_ruleset_create(&test_alloc);
        CHECK(rs != NULL);
        if (rs == NULL) {
            return;
        }

        for (i = 0; i < n; i++) {
            switch (i) {
            case 0:
                snprintf(line, sizeof(line), "_ga analytics GA");
                break;
            case 1:
                snprintf(line, sizeof(line), "_ga_* analytics GA4");
                break;
            case 2:
                snprintf(line, sizeof(line), "_fbp advertising Meta");
                break;
            case 3:
                snprintf(line, sizeof(line), "_hj* analytics Hotjar");
                break;
            case 4:
                snprintf(line, sizeof(line),
                         "~mp_[0-9a-f]+_mixpanel analytics Mixpanel");
                break;
            default:
                k = i % 3;
                snprintf(line, sizeof(line),
                         k == 0 ? "filler%d advertising V%d"
                         : k == 1 ? "pfx%d_* analytics V%d"
                         : "~rx%d_[0-9]+ sharing V%d", i, i % 50);
            }

            CHECK_INT(consent_rule_parse(U(line), strlen(line), &ps, &rule,
                                         &e), 1);
            if (consent_ruleset_add(rs, &rule, err, sizeof(err)) != 0) {
                CHECK(0);
                return;
            }
        }

        CHECK_INT(consent_ruleset_compile(rs, err, sizeof(err)), 0);
        CHECK_INT(consent_ruleset_count(rs), n);

        /* twice: the second answer comes from the ruleset's memo */
        for (i = 0; i < 2 * (int) (sizeof(probe) / sizeof(probe[0])); i++) {
            k = i % (int) (sizeof(probe) / sizeof(probe[0]));

            if (strcmp(match_vendor(rs, probe[k]), want[k]) != 0) {
                test_failed++;
                fprintf(stderr, "FAIL %s:%d: %d rules: %s gave %s\n",
                        __FILE__, __LINE__, n, probe[k],
                        match_vendor(rs, probe[k]));

            } else {
                test_passed++;
            }
        }

        if (n == 2000) {
            r = consent_ruleset_match(rs, U("filler1998"), 10);
            CHECK(r != NULL && r->purpose == CONSENT_P_ADVERTISING);
            r = consent_ruleset_match(rs, U("pfx1996_abc"), 11);
            CHECK(r != NULL && r->purpose == CONSENT_P_ANALYTICS);
            r = consent_ruleset_match(rs, U("rx1997_42"), 9);
            CHECK(r != NULL && r->purpose == CONSENT_P_SHARING);
            r = consent_ruleset_match(rs, U("rx1997_"), 7);
            CHECK(r == NULL);
        }
    }
}


static void
test_rules_domains(void)
{
    char                   err[256];
    consent_ruleset_t     *rs;
    const consent_rule_t  *r;

    static const char  *lines[] = {
        "IDE      advertising DoubleClick domain=doubleclick.net",
        "_ga      analytics   GA",
        "ads_*    advertising Sub         domain=.ads.example.com",
        "yj       advertising Yahoo       domain=yahoo.co.jp",
        "yj2      analytics   Yahoo2      domain=YAHOO.co.jp",
        NULL
    };

    rs = ruleset(lines, err, sizeof(err));
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    r = consent_ruleset_match_domain(rs, U("doubleclick.net"), 15);
    CHECK(r != NULL && r->purpose == CONSENT_P_ADVERTISING);
    r = consent_ruleset_match_domain(rs, U(".stats.g.DoubleClick.net"), 24);
    CHECK(r != NULL && r->purpose == CONSENT_P_ADVERTISING);
    CHECK(consent_ruleset_match_domain(rs, U("notdoubleclick.net"), 18)
          == NULL);
    CHECK(consent_ruleset_match_domain(rs, U("example.com"), 11) == NULL);
    CHECK(consent_ruleset_match_domain(rs, U("x.ads.example.com"), 17)
          != NULL);
    CHECK(consent_ruleset_match_domain(rs, U("net"), 3) == NULL);
    CHECK(consent_ruleset_match_domain(rs, U(""), 0) == NULL);

    /* the same domain twice, any case: the later rule */
    r = consent_ruleset_match_domain(rs, U("yahoo.co.jp"), 11);
    CHECK(r != NULL && r->purpose == CONSENT_P_ANALYTICS);
}


/* icase rules: any ASCII case of the name, and still exact > prefix */
static void
test_rules_icase(void)
{
    char                err[256];
    consent_ruleset_t  *rs;
    static const char  *lines[] = {
        "_vc_*     advertising ValueCommerce icase",
        "_VC_KEEP  necessary   Site",
        "Sess      analytics   Exact",
        "SESSX     analytics   Upper       icase",
        "~ab[0-9]+ analytics   Regex       icase",
        "_vc_long* personalization Longer",
        NULL
    };

    rs = ruleset(lines, err, sizeof(err));
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    CHECK_STR(match_vendor(rs, "_VC_ID"), "ValueCommerce");
    CHECK_STR(match_vendor(rs, "_vc_id"), "ValueCommerce");
    CHECK_STR(match_vendor(rs, "_Vc_Id"), "ValueCommerce");
    /* an exact case-sensitive name beats an icase prefix */
    CHECK_STR(match_vendor(rs, "_VC_KEEP"), "Site");
    CHECK_STR(match_vendor(rs, "_vc_keep"), "ValueCommerce");
    /* the longer prefix wins whichever case rule it is */
    CHECK_STR(match_vendor(rs, "_vc_longer"), "Longer");
    CHECK_STR(match_vendor(rs, "_VC_LONGER"), "ValueCommerce");
    /* a plain rule stays case-sensitive */
    CHECK_STR(match_vendor(rs, "sess"), "-");
    CHECK_STR(match_vendor(rs, "Sess"), "Exact");
    CHECK_STR(match_vendor(rs, "sessx"), "Upper");
    CHECK_STR(match_vendor(rs, "SessX"), "Upper");
    CHECK_STR(match_vendor(rs, "AB12"), "Regex");
    CHECK_STR(match_vendor(rs, "ab12"), "Regex");
    /* twice: the second answer comes from the memo */
    CHECK_STR(match_vendor(rs, "_Vc_Id"), "ValueCommerce");
    CHECK_STR(match_vendor(rs, "AB12"), "Regex");
    /* a request name may hold the key's marker bytes: never a match */
    CHECK(consent_ruleset_match(rs, U("\x02_vc_id"), 7) == NULL);
    CHECK(consent_ruleset_match(rs, U("\x02sessx"), 6) == NULL);

    consent_ruleset_free(rs);
}


static const char *
match_in(consent_ruleset_t *rs, const char *host, const char *name)
{
    consent_scope_t        scope;
    const consent_rule_t  *r;
    static char            buf[CONSENT_VENDOR_MAX + 1];

    consent_ruleset_scope(rs, U(host), strlen(host), &scope);
    r = consent_ruleset_match_in(rs, &scope, U(name), strlen(name));
    if (r == NULL) {
        return "-";
    }

    memcpy(buf, r->vendor, r->vendor_len);
    buf[r->vendor_len] = '\0';

    return buf;
}


/* domain-only rules: only on their domain, and several for one name */
static void
test_rules_domain_only(void)
{
    char                    err[256];
    consent_scope_t         scope;
    consent_ruleset_t      *rs;
    const consent_rule_t   *r;
    char                    host[300];
    static const char      *lines[] = {
        "uid      advertising Xandr    domain=adnxs.com domain-only",
        "uid      advertising Yahoo    domain=.yahoo.com domain-only",
        "uid      analytics   YahooAds domain=ads.yahoo.com domain-only",
        "KRTB_*   advertising PubMatic domain=pubmatic.com domain-only",
        "krtb_x*  advertising Lower    domain=pubmatic.com domain-only "
            "icase",
        "OptOut   advertising Yahoo    domain=YAHOO.com domain-only icase",
        "uid      functional  Site",
        "ads*     advertising Global",
        NULL
    };

    rs = ruleset(lines, err, sizeof(err));
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    /* on other sites the name is the site's own */
    CHECK_STR(match_in(rs, "www.example.com", "uid"), "Site");
    CHECK_STR(match_vendor(rs, "uid"), "Site");
    CHECK_STR(match_in(rs, "adnxs.com", "uid"), "Xandr");
    CHECK_STR(match_in(rs, "ib.ADNXS.com.", "uid"), "Xandr");
    CHECK_STR(match_in(rs, "notadnxs.com", "uid"), "Site");
    /* the most specific domain first */
    CHECK_STR(match_in(rs, "x.ads.yahoo.com", "uid"), "YahooAds");
    CHECK_STR(match_in(rs, "www.yahoo.com", "uid"), "Yahoo");
    CHECK_STR(match_in(rs, "www.yahoo.com", "optout"), "Yahoo");
    CHECK_STR(match_in(rs, "www.yahoo.com", "OPTOUT"), "Yahoo");
    CHECK_STR(match_in(rs, "www.example.com", "optout"), "-");
    /* prefixes too, with the global rules after */
    CHECK_STR(match_in(rs, "ads.pubmatic.com", "KRTB_123"), "PubMatic");
    CHECK_STR(match_in(rs, "ads.pubmatic.com", "krtb_x1"), "Lower");
    CHECK_STR(match_in(rs, "ads.pubmatic.com", "KRTB_X1"), "Lower");
    CHECK_STR(match_in(rs, "example.com", "KRTB_123"), "-");
    CHECK_STR(match_in(rs, "ads.pubmatic.com", "adsid"), "Global");

    consent_ruleset_scope(rs, U("a.b.ads.yahoo.com"), 17, &scope);
    CHECK_INT(scope.n, 2);
    consent_ruleset_scope(rs, U("com"), 3, &scope);
    CHECK_INT(scope.n, 0);
    consent_ruleset_scope(rs, U(""), 0, &scope);
    CHECK_INT(scope.n, 0);

    /* a host longer than a domain can be is in no scope */
    memset(host, 'a', sizeof(host));
    memcpy(host + sizeof(host) - 10, ".adnxs.com", 10);
    consent_ruleset_scope(rs, U(host), sizeof(host), &scope);
    CHECK_INT(scope.n, 0);

    /* a name longer than a rule can be still finds a scoped prefix */
    memset(host, 'x', sizeof(host));
    memcpy(host, "KRTB_", 5);
    consent_ruleset_scope(rs, U("pubmatic.com"), 12, &scope);
    r = consent_ruleset_match_in(rs, &scope, U(host), sizeof(host));
    CHECK(r != NULL && r->purpose == CONSENT_P_ADVERTISING);

    /* a domain-only rule names no Set-Cookie Domain by itself */
    CHECK(consent_ruleset_match_domain(rs, U("adnxs.com"), 9) == NULL);

    consent_ruleset_free(rs);
}


static void
test_rules_vendor_lines(void)
{
    char                          err[256];
    size_t                        pos;
    consent_span_t                d;
    consent_ruleset_t            *rs;
    const consent_vendor_meta_t  *m;
    int                           id;
    static const char            *lines[] = {
        "@vendor Criteo name=\"Criteo S.A.\" controller=\"Criteo SA\" "
            "purposes=advertising,sharing country=FR "
            "policy=https://www.criteo.com/privacy/ "
            "optout=https://www.criteo.com/privacy/disable-criteo-services"
            "-on-internet-browsers/ gvl=91 domains=criteo.com,criteo.net "
            "storage=criteo_id,cto_*",
        "cto_bundle advertising Criteo",
        "@vendor Later name=First",
        "@vendor Later name=\"\xe3\x83\x95\xe3\x83\xaa\"\t",
        "@vendor NoRules domains=.example.org",
        NULL
    };

    rs = ruleset(lines, err, sizeof(err));
    CHECK(rs != NULL);
    if (rs == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }

    CHECK_INT(consent_ruleset_vendors(rs), 3);
    id = consent_ruleset_vendor_find(rs, U("Criteo"), 6);
    CHECK_INT(id, 0);
    m = consent_ruleset_vendor_meta(rs, 0);
    CHECK(m != NULL);
    if (m == NULL) {
        return;
    }

    CHECK(m->name.len == 11 && memcmp(m->name.data, "Criteo S.A.", 11) == 0);
    CHECK(m->controller.len == 9);
    CHECK_INT(m->gvl, 91);
    CHECK_STR(m->country, "FR");
    CHECK_INT(m->purposes, CONSENT_BIT(CONSENT_P_ADVERTISING)
                           | CONSENT_BIT(CONSENT_P_SHARING));
    CHECK_INT(m->ndomains, 2);
    CHECK(m->policy.len == 31);
    CHECK(m->optout.len > 60);

    pos = 0;
    CHECK_INT(consent_vendor_domain_next(&m->domains, &pos, &d), 1);
    CHECK(d.len == 10 && memcmp(d.data, "criteo.com", 10) == 0);
    CHECK_INT(consent_vendor_domain_next(&m->domains, &pos, &d), 1);
    CHECK(d.len == 10 && memcmp(d.data, "criteo.net", 10) == 0);
    CHECK_INT(consent_vendor_domain_next(&m->domains, &pos, &d), 0);
    CHECK_INT(m->nstorage, 2);
    CHECK(m->storage.len == 15
          && memcmp(m->storage.data, "criteo_id,cto_*", 15) == 0);

    /* the later line replaces the earlier one */
    m = consent_ruleset_vendor_meta(rs, 1);
    CHECK(m != NULL && m->name.len == 6);
    CHECK(consent_ruleset_vendor_meta(rs, 2) != NULL);
    CHECK(consent_ruleset_vendor_meta(rs, 3) == NULL);

    consent_ruleset_free(rs);
}


static void
expect_vendor_error(const char *line, int code)
{
    int                    rc;
    consent_err_t          e;
    consent_vendor_meta_t  meta;

    memset(&e, 0, sizeof(e));
    rc = consent_vendor_parse(U(line), strlen(line), &ps, &meta, &e);
    CHECK_INT(rc, -1);
    CHECK_INT(e.code, code);

    if (rc == -1) {
        /* the span at fault is inside the line */
        CHECK(e.at.data >= U(line)
              && e.at.data + e.at.len <= U(line) + strlen(line));
    }
}


static void
test_rules_vendor_errors(void)
{
    consent_err_t   e;
    consent_rule_t  rule;

    CHECK_INT(consent_rule_parse(U("  @vendor X"), 11, &ps, &rule, &e),
              CONSENT_LINE_VENDOR);
    /* "@vendors" is a cookie name, not a vendor line */
    CHECK_INT(consent_rule_parse(U("@vendors analytics X"), 20, &ps, &rule,
                                 &e), CONSENT_LINE_RULE);

    expect_vendor_error("@vendor", CONSENT_RULE_E_FIELD);
    expect_vendor_error("@vendor  ", CONSENT_RULE_E_VENDOR);
    expect_vendor_error("@vendor Bad/Name", CONSENT_RULE_E_VENDOR);
    expect_vendor_error("@vendor X name", CONSENT_RULE_E_FIELD);
    expect_vendor_error("@vendor X =v", CONSENT_RULE_E_FIELD);
    expect_vendor_error("@vendor X color=red", CONSENT_RULE_E_OPTION);
    expect_vendor_error("@vendor X name=\"open", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X name=\"a\"b", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X name=\"\"", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X name=a name=b", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X name=\"a\x01\"", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X name=\"a\xc2\x85\"",
                        CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X name=\"\xff\"", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X name=\"a\\b\"", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X policy=ftp://x.com/",
                        CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X policy=https://", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X policy=\"https://x.com/a b\"",
                        CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X optout=https://x.com/<script>",
                        CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X optout=https:///x", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X purposes=tracking", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X purposes=analytics,", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X purposes=analytics,analytics",
                        CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X purposes=", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X country=fr", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X country=FRA", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X gvl=0", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X gvl=65536", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X gvl=091", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X gvl=9x", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X gvl=4294967387", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X domains=a.com,", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X domains=a.com,,b.com",
                        CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X domains=a_b.com", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X domains=", CONSENT_RULE_E_VALUE);
    /* storage keys: no spaces, quotes or backslashes, '*' only last */
    expect_vendor_error("@vendor X storage=", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=a,", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=a,,b", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=*", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=a*b", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=a\"b", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=a\\b", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=\x80", CONSENT_RULE_E_VALUE);
    expect_vendor_error("@vendor X storage=a storage=b",
                        CONSENT_RULE_E_VALUE);
}


void
test_rules(void)
{
    consent_purposes_init(&ps);

    test_rules_parse();
    test_rules_precedence();
    test_rules_override();
    test_rules_bad_regex();
    test_rules_scale();
    test_rules_domains();
    test_rules_icase();
    test_rules_domain_only();
    test_rules_vendor_lines();
    test_rules_vendor_errors();
}
