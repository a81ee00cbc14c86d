/*
 * Copyright (C) ngx_consent_module authors
 *
 * The provision log's pure part: the vendors a Cookie header carries and
 * the once-a-day memo; the recipients list of a disclosure export
 * (consent_vendors_json_for()); a rules file's line read by a tool.
 */

#include "test.h"
#include "provision.h"
#include "vendors_json.h"


#define DAY  86400
#define NOW  1795000000


static const char *const  pv_rules[] = {
    "@vendor criteo name=\"Criteo\" purposes=advertising country=FR",
    "@vendor google name=\"Google\" country=US",
    "@vendor yahoo country=JP",
    "_ga analytics google",
    "_gcl_au advertising google",
    "cto_bundle advertising criteo",
    "_yjsu personalization yahoo",
    "sid necessary site",
    "_hj* analytics hotjar",
    NULL
};


static int  pv_switched_off = -1;


/* vendor overrides, as the module's are: one vendor switched off */
static const consent_rule_t *
pv_active(void *data, const consent_rule_t *rule)
{
    return (int) rule->vendor_id == pv_switched_off ? NULL : rule;
}


static uint16_t  pv_ids[8];
static unsigned  pv_n;


static unsigned
pv_scan(consent_ruleset_t *rs, const char *header, unsigned char *vendors)
{
    memset(vendors, 0, 4);
    pv_n = 0;

    return consent_provision_scan(rs, NULL, pv_active, NULL, U("consent"), 7,
                                  U(header), strlen(header), vendors, pv_ids,
                                  &pv_n, 8);
}


static int
pv_has(consent_ruleset_t *rs, const unsigned char *vendors, const char *name)
{
    int  id;

    id = consent_ruleset_vendor_find(rs, U(name), strlen(name));

    return id >= 0 && ((vendors[id >> 3] >> (id & 7)) & 1);
}


static void
test_provision_scan(void)
{
    unsigned char        vendors[4];
    consent_ruleset_t   *rs;
    consent_purposes_t   ps;

    consent_purposes_init(&ps);

    rs = test_ruleset(&ps, pv_rules);
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    /* two cookies of one vendor count once; necessary ones never */
    CHECK_INT(pv_scan(rs, "_ga=1; sid=2; _gcl_au=3; cto_bundle=4", vendors),
              2);
    CHECK(pv_has(rs, vendors, "google"));
    CHECK(pv_has(rs, vendors, "criteo"));
    CHECK_INT(pv_n, 2);
    CHECK_INT(pv_ids[0], consent_ruleset_vendor_find(rs, U("google"), 6));
    CHECK_INT(pv_ids[1], consent_ruleset_vendor_find(rs, U("criteo"), 6));
    CHECK(!pv_has(rs, vendors, "site"));
    CHECK(!pv_has(rs, vendors, "yahoo"));

    /* a prefix rule; the consent cookie under any name a rule has */
    CHECK_INT(pv_scan(rs, "_hjSession_1=x; consent=1.k.s", vendors), 1);
    CHECK(pv_has(rs, vendors, "hotjar"));

    /* a second header line: vendors already seen are not added again */
    CHECK_INT(consent_provision_scan(rs, NULL, NULL, NULL, U("consent"), 7,
                                     U("_hjid=1; _yjsu=2"), 17, vendors,
                                     pv_ids, &pv_n, 8), 1);
    CHECK(pv_has(rs, vendors, "yahoo"));
    CHECK_INT(pv_n, 2);

    /* no more than max: the rest of the header is not read */
    memset(vendors, 0, 4);
    pv_n = 0;
    CHECK_INT(consent_provision_scan(rs, NULL, NULL, NULL, U("consent"), 7,
                                     U("_ga=1; cto_bundle=2; _yjsu=3"), 29,
                                     vendors, pv_ids, &pv_n, 2), 2);
    CHECK(!pv_has(rs, vendors, "yahoo"));
    CHECK_INT(pv_n, 2);

    /* nothing, empty pairs, unknown names, malformed pairs */
    CHECK_INT(pv_scan(rs, "", vendors), 0);
    CHECK_INT(pv_scan(rs, ";;; =; x=1; _ga_no=2", vendors), 0);

    /* a vendor switched off at run time is no vendor of the request */
    pv_switched_off = consent_ruleset_vendor_find(rs, U("criteo"), 6);
    CHECK_INT(pv_scan(rs, "cto_bundle=1; _ga=2", vendors), 1);
    CHECK(!pv_has(rs, vendors, "criteo"));
    pv_switched_off = -1;

    consent_ruleset_free(rs);
}


static void
test_provision_memo(void)
{
    size_t                    i;
    unsigned                  spread[16];
    char                      id[32];
    consent_provision_memo_t  a, b, c, d;

    consent_provision_memo_key(U("alice"), 5, U("google"), 6, NOW, 65536,
                               &a);
    consent_provision_memo_key(U("alice"), 5, U("google"), 6, NOW + 60,
                               65536, &b);

    /* the same day: the same word, in the same slot */
    CHECK(a.word == b.word);
    CHECK_INT(a.slot, b.slot);
    CHECK(a.slot < 65536);
    CHECK(a.word != 0);

    /* the next day: the same slot, another word */
    consent_provision_memo_key(U("alice"), 5, U("google"), 6, NOW + DAY,
                               65536, &c);
    CHECK_INT(c.slot, a.slot);
    CHECK(c.word != a.word);
    CHECK((c.word & 0xffff) == ((a.word & 0xffff) + 1) % 0x10000);

    /* another vendor or subject: another word; no joining ambiguity */
    consent_provision_memo_key(U("alice"), 5, U("googlf"), 6, NOW, 65536, &d);
    CHECK(d.word != a.word);
    consent_provision_memo_key(U("alic"), 4, U("egoogle"), 7, NOW, 65536, &d);
    CHECK(d.word != a.word);

    /* before 1970 and no slots at all: still defined */
    consent_provision_memo_key(U("a"), 1, U("b"), 1, -5, 0, &d);
    CHECK_INT(d.slot, 0);
    CHECK(d.word != 0);

    /* slots spread: 1,600 subjects over 16 slots, none gets a third */
    memset(spread, 0, sizeof(spread));

    for (i = 0; i < 1600; i++) {
        snprintf(id, sizeof(id), "subject-%u", (unsigned) i);
        consent_provision_memo_key(U(id), strlen(id), U("google"), 6, NOW,
                                   16, &d);
        spread[d.slot]++;
    }

    for (i = 0; i < 16; i++) {
        CHECK(spread[i] > 50 && spread[i] < 160);
    }
}


/* the recipients of a decision: granted purposes, refused vendors out */

static void
test_provision_recipients(void)
{
    int                  id;
    size_t               n;
    unsigned char        buf[1024], skip[4];
    consent_ruleset_t   *rs;
    consent_purposes_t   ps;

    consent_purposes_init(&ps);

    rs = test_ruleset(&ps, pv_rules);
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    n = consent_vendors_json_for(rs, &ps, A, NULL, buf, sizeof(buf));
    CHECK_MEM(buf, n,
        "{\"purposes\":[{\"purpose\":\"analytics\",\"vendors\":["
        "{\"id\":\"google\",\"name\":\"Google\",\"country\":\"US\"},"
        "{\"id\":\"hotjar\",\"name\":\"hotjar\"}]}]}\n");

    memset(skip, 0, sizeof(skip));
    id = consent_ruleset_vendor_find(rs, U("google"), 6);
    skip[id >> 3] |= 1 << (id & 7);

    n = consent_vendors_json_for(rs, &ps, A | D, skip, buf, sizeof(buf));
    CHECK_MEM(buf, n,
        "{\"purposes\":[{\"purpose\":\"analytics\",\"vendors\":["
        "{\"id\":\"hotjar\",\"name\":\"hotjar\"}]},"
        "{\"purpose\":\"advertising\",\"vendors\":["
        "{\"id\":\"criteo\",\"name\":\"Criteo\",\"country\":\"FR\"}]}]}\n");

    /* necessary only: nobody receives anything */
    n = consent_vendors_json_for(rs, &ps, N, NULL, buf, sizeof(buf));
    CHECK_MEM(buf, n, "{\"purposes\":[]}\n");

    consent_ruleset_free(rs);
}


static void
test_provision_add_line(void)
{
    char                 err[256];
    consent_ruleset_t   *rs;
    consent_purposes_t   ps;

    consent_purposes_init(&ps);

    rs = consent_ruleset_create(&test_alloc);
    CHECK(rs != NULL);
    if (rs == NULL) {
        return;
    }

    CHECK_INT(consent_ruleset_add_line(rs, &ps, U("# c"), 3, 1, err,
                                       sizeof(err)), 0);
    CHECK_INT(consent_ruleset_add_line(rs, &ps, U("_ga analytics g"), 15, 2,
                                       err, sizeof(err)), 0);
    CHECK_INT(consent_ruleset_add_line(rs, &ps, U("@vendor g country=US"),
                                       20, 3, err, sizeof(err)), 0);
    CHECK_INT(consent_ruleset_add_line(rs, &ps, U("_x nosuch v"), 11, 4,
                                       err, sizeof(err)), -1);
    CHECK(strstr(err, "purpose") != NULL);
    CHECK_INT(consent_ruleset_add_line(rs, &ps, U("@vendor g country=USA"),
                                       21, 5, err, sizeof(err)), -1);
    CHECK(err[0] != '\0');

    CHECK_INT(consent_ruleset_compile(rs, err, sizeof(err)), 0);
    CHECK(consent_ruleset_match(rs, U("_ga"), 3) != NULL);
    CHECK_INT(consent_ruleset_match(rs, U("_ga"), 3)->line, 2);

    consent_ruleset_free(rs);
}


void
test_provision(void)
{
    test_provision_scan();
    test_provision_memo();
    test_provision_recipients();
    test_provision_add_line();
}
