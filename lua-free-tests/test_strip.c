/*
 * Copyright (C) ngx_consent_module authors
 *
 * Which cookies of a Cookie header go for a decision: refused rules by
 * name, the consent cookie kept, switched-off rules kept, long names
 * matched by regex rules too, vendors a TC string refused.
 */

#include "test.h"
#include "strip.h"


static consent_purposes_t  strip_ps;
/* the vendors the next strip() refuses whatever their purpose, or NULL */
static const unsigned char  *strip_refused;


static consent_ruleset_t *
strip_rules(void)
{
    size_t              i;
    char                err[256];
    consent_err_t       e;
    consent_rule_t      rule;
    consent_ruleset_t  *rs;

    static const char  *lines[] = {
        "_ga analytics google",
        "_ga_* analytics google",
        "_fbp advertising meta",
        "~_pk_(id|ses)\\..* analytics matomo",
        "pref functional site",
    };

    consent_purposes_init(&strip_ps);

    rs = consent_ruleset_create(&test_alloc);
    if (rs == NULL) {
        return NULL;
    }

    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (consent_rule_parse(U(lines[i]), strlen(lines[i]), &strip_ps,
                               &rule, &e)
            != 1
            || consent_ruleset_add(rs, &rule, err, sizeof(err)) != 0)
        {
            return NULL;
        }
    }

    if (consent_ruleset_compile(rs, err, sizeof(err)) != 0) {
        return NULL;
    }

    return rs;
}


typedef struct {
    char        names[4096];
    size_t      len;
} strip_seen_t;


static int
strip_note(void *data, const consent_cookie_t *c, const consent_rule_t *rule)
{
    strip_seen_t  *seen = data;

    /* why it went: a rule, never a necessary one */
    CHECK(rule != NULL && rule->purpose != CONSENT_P_NECESSARY);

    seen->len += snprintf(seen->names + seen->len,
                          sizeof(seen->names) - seen->len, "%s%.*s",
                          seen->len ? "," : "", (int) c->name_len,
                          (const char *) c->name);
    return 0;
}


static const consent_rule_t *
strip_no_meta(void *data, const consent_rule_t *rule)
{
    (void) data;

    return (rule->vendor_len == 4 && memcmp(rule->vendor, "meta", 4) == 0)
           ? NULL : rule;
}


static const char *
strip(consent_ruleset_t *rs, consent_mask_t granted, const char *in,
    consent_rule_active_pt active, strip_seen_t *seen)
{
    size_t                n, dropped;
    consent_strip_t       st;
    static unsigned char  out[CONSENT_COOKIE_FILTER_SIZE(20000) + 1];
    static unsigned char  scratch[CONSENT_STRIP_SCRATCH(20000)];

    memset(&st, 0, sizeof(st));
    st.rules = rs;
    st.granted = granted | CONSENT_BIT(CONSENT_P_NECESSARY);
    st.refused_vendors = strip_refused;
    st.keep = U("consent");
    st.keep_len = 7;
    st.active = active;
    st.stripped = strip_note;
    st.stripped_data = seen;
    st.scratch = scratch;

    memset(seen, 0, sizeof(*seen));

    n = consent_strip_header(&st, U(in), strlen(in), out, &dropped);
    out[n] = '\0';

    CHECK(!st.failed);

    return (const char *) out;
}


typedef struct {
    char        names[16][64];
    size_t      n;
} names_t;


static int
collect(void *data, const unsigned char *name, size_t len)
{
    size_t    i;
    names_t  *ns = data;

    if (len >= sizeof(ns->names[0]) || ns->n == 16) {
        return 1;
    }

    for (i = 0; i < ns->n; i++) {
        if (strlen(ns->names[i]) == len && memcmp(ns->names[i], name, len)
                                           == 0)
        {
            return 0;
        }
    }

    memcpy(ns->names[ns->n], name, len);
    ns->names[ns->n][len] = '\0';
    ns->n++;

    return 0;
}


static int
cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}


/*
 * The names of the one pair in pair (the browser's and the origins'),
 * sorted and joined by '|': the vectors were made with the reference
 * model that was checked against the real framework parsers.
 */
static const char *
origin_names(const char *pair, int *fast)
{
    size_t                 i, len;
    names_t                ns;
    consent_cookie_t       c;
    consent_cookie_iter_t  it;
    unsigned char          scratch[256];
    static char            out[1024];

    memset(&ns, 0, sizeof(ns));
    consent_cookie_iter_init(&it, U(pair), strlen(pair));

    if (!consent_cookie_next(&it, &c)) {
        return "";
    }

    if (c.name_len) {
        collect(&ns, c.name, c.name_len);
    }

    *fast = 1;
    i = ns.n;

    CHECK(consent_cookie_origin_names(&c, scratch, collect, &ns) == 0);

    if (ns.n != i || !c.has_eq) {
        *fast = 0;
    }

    qsort(ns.names, ns.n, sizeof(ns.names[0]), cmp_names);

    len = 0;
    out[0] = '\0';

    for (i = 0; i < ns.n; i++) {
        len += snprintf(out + len, sizeof(out) - len, "%s%s", i ? "|" : "",
                        ns.names[i]);
    }

    return out;
}


static void
test_origin_names(void)
{
    size_t       i;
    int          fast;
    const char  *got;

    static const struct {
        const char  *pair;
        const char  *names;
    } v[] = {
        { "_ga=1", "_ga" },
        { "x=1 _ga=2", "_ga|x" },
        { "x=1\t_ga=2", "_ga|x" },
        { "x=\"1\" _ga=2", "_ga|x" },
        { "x=1, _ga=2", "_ga|x" },
        { "x=1 _ga = 2", "_ga|x" },
        { "x=1 y _ga=2", "_ga|x" },
        { ".ga=1", ".ga|_ga" },
        { "_ga.x=1", "_ga.x|_ga_x" },
        { "_ga x=1", "_ga x|_ga_x|x" },
        { "_ga[a]=1", "_ga|_ga[a]" },
        { "_ga[a][b]=1", "_ga|_ga[a][b]" },
        { "_ga[=1", "_ga[|_ga_" },
        { "_g[a.b=1", "_g[a.b|_g_a_b" },
        { "\x0b_ga=1", "\x0b_ga|_ga" },
        { "\xa0_ga=1", "_ga|\xa0_ga" },
        { "\xc2\xa0_ga=1", "_ga|\xc2\xa0_ga" },
        { "_ga\xe3\x80\x80=1", "_ga|_ga\xe3\x80\x80" },
        { "\x1c_ga\x85=1", "\x1c_ga\x85|_ga|_ga\x85" },
        { "_ga", "_ga" },
        { "=_ga", "" },
        { "sid=abc", "sid" },
        { "OptanonConsent=isGpcEnabled=0&datestamp=Mon+Jan", "OptanonConsent" },
        { "x=\"a b\"", "x" },
        { "a.b.c=1 d.e=2", "a.b.c|a_b_c|d.e" },
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        got = origin_names(v[i].pair, &fast);

        if (strcmp(got, v[i].names) != 0) {
            test_failed++;
            fprintf(stderr, "FAIL origin names of \"%s\": \"%s\", want \"%s\"\n",
                    v[i].pair, got, v[i].names);

        } else {
            test_passed++;
        }
    }

    /* the fast path: ordinary cookies cost nothing more */
    (void) origin_names("_ga=GA1.2.3.4", &fast);
    CHECK(fast);
    (void) origin_names("cart=a%20b&c=d", &fast);
    CHECK(fast);
    (void) origin_names("x=a b=c", &fast);
    CHECK(!fast);
}


/* vendors refused by the TC string: their cookies go, purpose granted */

static void
test_strip_vendors(consent_ruleset_t *rs)
{
    int                   google, site;
    strip_seen_t          seen;
    unsigned char         refused[8];
    const consent_mask_t  all = CONSENT_BIT(CONSENT_P_ANALYTICS)
                                | CONSENT_BIT(CONSENT_P_ADVERTISING)
                                | CONSENT_BIT(CONSENT_P_FUNCTIONAL);

    google = consent_ruleset_vendor_find(rs, U("google"), 6);
    site = consent_ruleset_vendor_find(rs, U("site"), 4);
    CHECK(google >= 0 && google < 64 && site >= 0 && site < 64);

    if (google < 0 || google >= 64 || site < 0 || site >= 64) {
        return;
    }

    memset(refused, 0, sizeof(refused));
    strip_refused = refused;

    /* no vendor refused: the purposes decide alone */
    CHECK(strcmp(strip(rs, all, "_ga=1; _ga_X=2; _fbp=3; pref=4", NULL,
                       &seen),
                 "_ga=1; _ga_X=2; _fbp=3; pref=4") == 0);

    refused[google >> 3] |= (unsigned char) (1 << (google & 7));
    CHECK(strcmp(strip(rs, all, "_ga=1; _ga_X=2; _fbp=3; _pk_id.1=4; x=5",
                       NULL, &seen),
                 "_fbp=3; _pk_id.1=4; x=5") == 0);
    CHECK(strcmp(seen.names, "_ga,_ga_X") == 0);

    /* a refused purpose still strips the vendors not refused */
    CHECK(strcmp(strip(rs, CONSENT_BIT(CONSENT_P_FUNCTIONAL),
                       "_ga=1; _fbp=3; pref=4", NULL, &seen),
                 "pref=4") == 0);

    refused[site >> 3] |= (unsigned char) (1 << (site & 7));
    CHECK(strcmp(strip(rs, all, "pref=4; consent=1", NULL, &seen),
                 "consent=1") == 0);

    strip_refused = NULL;
}


void
test_strip(void)
{
    char                name[600];
    strip_seen_t        seen;
    consent_ruleset_t  *rs;

    rs = strip_rules();
    CHECK(rs != NULL);

    if (rs == NULL) {
        return;
    }

    CHECK(strcmp(strip(rs, 0, "sid=1; _ga=2; _fbp=3; consent=x", NULL,
                       &seen),
                 "sid=1; consent=x") == 0);
    CHECK(strcmp(seen.names, "_ga,_fbp") == 0);

    /* granted analytics: only _fbp goes */
    CHECK(strcmp(strip(rs, CONSENT_BIT(CONSENT_P_ANALYTICS),
                       "_ga=1;_ga_X=2;_fbp=3", NULL, &seen),
                 "_ga=1;_ga_X=2") == 0);

    /* a vendor switched off at run time: its cookies count as unknown */
    CHECK(strcmp(strip(rs, 0, "_ga=1; _fbp=3", strip_no_meta, &seen),
                 "_fbp=3") == 0);
    CHECK(strcmp(seen.names, "_ga") == 0);

    /* the consent cookie, necessary and unknown cookies are never touched */
    CHECK(strcmp(strip(rs, 0, "consent=a; x=1; =novalue; novalue", NULL,
                       &seen),
                 "consent=a; x=1; =novalue; novalue") == 0);

    /* a regex rule applies to names of any length */
    memset(name, 'x', sizeof(name));
    memcpy(name, "_pk_id.", 7);
    memcpy(name + 590, "=1; sid=2", 10);
    CHECK(strcmp(strip(rs, 0, name, NULL, &seen), "sid=2") == 0);
    CHECK(seen.len == 590);

    /* names an origin framework reads as a tracker's go too */
    CHECK(strcmp(strip(rs, 0, "sid=1 _ga=2; a=1", NULL, &seen), "a=1") == 0);
    CHECK(strcmp(strip(rs, 0, "\x0b_ga=1; a=1", NULL, &seen), "a=1") == 0);
    CHECK(strcmp(strip(rs, 0, "\xa0_ga=1; a=1", NULL, &seen), "a=1") == 0);
    CHECK(strcmp(strip(rs, 0, "\xc2\xa0_ga=1; a=1", NULL, &seen), "a=1")
          == 0);
    CHECK(strcmp(strip(rs, 0, ".ga=1; a=1", NULL, &seen), "a=1") == 0);
    CHECK(strcmp(strip(rs, 0, "_ga[x]=1; a=1", NULL, &seen), "a=1") == 0);
    CHECK(strcmp(strip(rs, 0, "_ga; a=1", NULL, &seen), "a=1") == 0);
    CHECK(strcmp(strip(rs, 0, "x=1 _pk_id.1=2; a=1", NULL, &seen), "a=1")
          == 0);
    /* granted: kept whatever an origin reads */
    CHECK(strcmp(strip(rs, CONSENT_BIT(CONSENT_P_ANALYTICS),
                       "sid=1 _ga=2; a=1", NULL, &seen),
                 "sid=1 _ga=2; a=1") == 0);
    /* and the consent cookie under any spelling is never taken */
    CHECK(strcmp(strip(rs, 0, "\x0bconsent=1; a=1", NULL, &seen),
                 "\x0bconsent=1; a=1") == 0);
    /* look-alikes that no origin reads as a tracker stay */
    CHECK(strcmp(strip(rs, 0, "%5Fga=1; _GA=2; x=\"a _ga\"", NULL, &seen),
                 "%5Fga=1; _GA=2; x=\"a _ga\"") == 0);

    test_strip_vendors(rs);
    test_origin_names();
}
