/*
 * Copyright (C) ngx_consent_module authors
 *
 * libFuzzer target: what the IAB strings mean for enforcement (iab.h).
 *
 * The input: a header of FUZZ_IAB_HEAD bytes (the number of rules
 * vendors, the policy, the time, the regime, where the allocator fails),
 * the vendors' GVL ids (two bytes each), then up to five lines: the
 * euconsent-v2, __gpp, __gpp_sid and usprivacy cookies and a line of map
 * items.  Each string is an exactly sized heap copy, so ASan sees a read
 * past it.
 *
 * Properties: consent_iab_read() returns 0, or -1 exactly when the
 * allocator failed, and a run whose allocator did not fail reads what an
 * unlimited one reads; what it reads is what the decoders read from the
 * string that iab.h says speaks (GPP section 2 when __gpp_sid lists it,
 * else euconsent-v2), each refused string counted as not sent, never
 * half-read; a vendor is refused only with a GVL id and a TC string; an
 * opt-out only with a US section or string.  consent_iab_trust() gives a
 * defined code whose reason holds; consent_iab_purposes() grants a
 * mapped purpose exactly when its TCF purposes and special features are
 * all granted, and leaves the others to the regime; consent_iab_map_item()
 * takes exactly "1"-"24" and "sf1"-"sf12" (a leading zero allowed) for
 * purposes 0-31 and changes nothing when it refuses; consent_rule_refused()
 * never refuses necessary.
 */

#include "gpp.h"
#include "iab.h"
#include "strip.h"
#include "tcf.h"
#include "usp.h"
#include "fuzz.h"


#define FUZZ_IAB_HEAD      13
#define FUZZ_IAB_VENDORS   24
#define FUZZ_IAB_FIELDS    5
#define FUZZ_IAB_ITEMS     64

/* the header's flags byte */
#define FUZZ_IAB_ANY_CMP   0x01      /* any_cmp */
#define FUZZ_IAB_OWN_CMP   0x02      /* trust the string's own CMP too */
#define FUZZ_IAB_NO_AGE    0x04      /* max_age 0 */
#define FUZZ_IAB_NEAR      0x08      /* now within days of LastUpdated */

typedef struct {
    unsigned                   nvendors;
    uint16_t                   gvl[FUZZ_IAB_VENDORS];
    unsigned char             *field[FUZZ_IAB_FIELDS];
    size_t                     len[FUZZ_IAB_FIELDS];
    consent_iab_strings_t      s;
} fuzz_iab_in_t;

typedef struct {
    int                        rc;
    unsigned                   failed;
    consent_iab_t              iab;
    unsigned char              refused[(FUZZ_IAB_VENDORS + 7) / 8];
} fuzz_iab_out_t;


static unsigned
fuzz_u16(const uint8_t *p)
{
    return (unsigned) p[0] | (unsigned) p[1] << 8;
}


static uint32_t
fuzz_u32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static void
fuzz_read(const fuzz_iab_in_t *in, size_t fail_at, fuzz_iab_out_t *out)
{
    fuzz_pool_t      pool;
    consent_alloc_t  a;

    fuzz_pool_init(&pool, fail_at, &a);

    memset(out, 0, sizeof(fuzz_iab_out_t));
    memset(&out->iab, 0xa5, sizeof(consent_iab_t));

    out->rc = consent_iab_read(&in->s, &a, in->gvl, in->nvendors,
                               out->refused, &out->iab);
    out->failed = pool.failed;

    fuzz_pool_free(&pool);
}


static int
fuzz_listed(const unsigned *sid, int n, unsigned id)
{
    int  k;

    for (k = 0; k < n; k++) {
        if (sid[k] == id) {
            return 1;
        }
    }

    return 0;
}


/* a US section's opt-outs, as iab.h names them */

static unsigned
fuzz_us_opt_out(const consent_gpp_us_t *us)
{
    if (CONSENT_GPP_US_HAS(us, CONSENT_GPP_SALE_OPT_OUT)
        && us->field[CONSENT_GPP_SALE_OPT_OUT] == CONSENT_GPP_YES)
    {
        return 1;
    }

    if (CONSENT_GPP_US_HAS(us, CONSENT_GPP_SHARING_OPT_OUT)
        && us->field[CONSENT_GPP_SHARING_OPT_OUT] == CONSENT_GPP_YES)
    {
        return 1;
    }

    if (CONSENT_GPP_US_HAS(us, CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT)
        && us->field[CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT]
           == CONSENT_GPP_YES)
    {
        return 1;
    }

    return us->has_gpc && us->gpc;
}


/* the facts read, against the decoders run on the strings here */

static void
fuzz_check_read(const fuzz_iab_in_t *in, const fuzz_iab_out_t *r)
{
    int                           n, gpp_ok, gpp_code, sid_code, tcf_code;
    int                           usp_code;
    unsigned                      i, bit, any, us, opt, tcf_gpp, applies;
    unsigned                      sid[CONSENT_GPP_MAX_SECTIONS];
    fuzz_pool_t                   pool;
    consent_err_t                 err;
    consent_gpp_t                 gpp;
    consent_tcf_t                 own;
    consent_usp_t                 usp;
    consent_alloc_t               a;
    const consent_iab_t          *out = &r->iab;
    const consent_tcf_t          *tcf;
    const consent_gpp_section_t  *sec;

    fuzz_pool_init(&pool, 0, &a);

    gpp_ok = 0;
    gpp_code = 0;
    sid_code = 0;
    n = -1;

    if (in->s.gpp.len) {
        if (consent_gpp_decode(in->s.gpp.data, in->s.gpp.len, &a, &gpp,
                               &err)
            == 0)
        {
            gpp_ok = 1;

        } else {
            gpp_code = err.code;
        }
    }

    /* __gpp_sid is read only for a GPP string that was */
    if (gpp_ok && in->s.gpp_sid.len) {
        n = consent_gpp_sid_parse(in->s.gpp_sid.data, in->s.gpp_sid.len,
                                  sid, CONSENT_GPP_MAX_SECTIONS, &err);
        if (n < 0) {
            sid_code = err.code;
        }
    }

    /* the TC string that speaks */
    tcf = NULL;
    tcf_code = 0;

    if (gpp_ok && fuzz_listed(sid, n, CONSENT_GPP_TCFEUV2)) {
        sec = consent_gpp_section(&gpp, CONSENT_GPP_TCFEUV2);
        if (sec) {
            tcf = sec->u.tcfeu;
        }
    }

    tcf_gpp = (tcf != NULL);

    if (tcf == NULL && in->s.tcf.len) {
        if (consent_tcf_decode(in->s.tcf.data, in->s.tcf.len, &a, &own, &err)
            == 0)
        {
            tcf = &own;

        } else {
            tcf_code = err.code;
        }
    }

    FUZZ_ASSERT(out->gpp_error == gpp_code);
    FUZZ_ASSERT(out->sid_error == sid_code);
    FUZZ_ASSERT(out->tcf_error == tcf_code);
    FUZZ_ASSERT(out->tcf == (tcf != NULL));
    FUZZ_ASSERT(out->tcf_gpp == tcf_gpp);
    FUZZ_ASSERT(!out->tcf_gpp || out->tcf);
    FUZZ_ASSERT(!out->tcf || out->tcf_error == 0);

    if (tcf) {
        FUZZ_ASSERT(out->cmp_id == tcf->cmp_id);
        FUZZ_ASSERT(out->cmp_id <= CONSENT_IAB_CMP_MAX);
        FUZZ_ASSERT(out->purposes == tcf->purposes_consent);
        FUZZ_ASSERT(out->purposes < (1u << CONSENT_IAB_PURPOSE_MAX));
        FUZZ_ASSERT(out->features == tcf->special_features);
        FUZZ_ASSERT(out->features < (1u << CONSENT_IAB_FEATURE_MAX));
        FUZZ_ASSERT(out->updated == (int64_t) (tcf->last_updated / 10));
        FUZZ_ASSERT(out->updated >= 0
                    && out->updated <= ((1LL << 36) - 1) / 10);

    } else {
        FUZZ_ASSERT(out->cmp_id == 0 && out->purposes == 0
                    && out->features == 0 && out->updated == 0);
    }

    /* refused: a vendor with a GVL id the TC string gives no consent */
    any = 0;

    for (i = 0; i < FUZZ_IAB_VENDORS; i++) {
        bit = CONSENT_IAB_BIT(r->refused, i);

        if (i >= in->nvendors) {
            FUZZ_ASSERT(bit == 0);
            continue;
        }

        FUZZ_ASSERT(bit == (tcf != NULL && in->gvl[i] != 0
                            && !consent_tcf_vendor(&tcf->vendors_consent,
                                                   in->gvl[i])));
        any |= bit;
    }

    FUZZ_ASSERT(out->vendor_refused == any);

    /* the opt-outs of the sections that apply, and of usprivacy */
    us = 0;
    opt = 0;

    for (i = 0; gpp_ok && i < gpp.nsections; i++) {
        sec = &gpp.sections[i];
        applies = (n < 0) || fuzz_listed(sid, n, sec->id);

        if (sec->skipped || !applies) {
            continue;
        }

        if (sec->id == CONSENT_GPP_USPV1) {
            us = 1;
            opt |= (sec->u.usp.opt_out_sale == CONSENT_USP_YES);

        } else if (sec->id >= CONSENT_GPP_USNAT
                   && sec->id <= CONSENT_GPP_USRI)
        {
            us = 1;
            opt |= fuzz_us_opt_out(&sec->u.us);
        }
    }

    /* a refused GPP string: an opt-out where a US section would apply */
    if (!gpp_ok && in->s.gpp.len) {
        int       k, m;
        unsigned  ids[CONSENT_GPP_MAX_SECTIONS];

        /* __gpp_sid's sections, else the header's */
        m = in->s.gpp_sid.len
            ? consent_gpp_sid_parse(in->s.gpp_sid.data, in->s.gpp_sid.len,
                                    ids, CONSENT_GPP_MAX_SECTIONS, &err)
            : -1;

        if (m < 0) {
            m = consent_gpp_header_ids(in->s.gpp.data, in->s.gpp.len, ids,
                                       CONSENT_GPP_MAX_SECTIONS, &err);
        }

        for (k = 0; k < m; k++) {
            if (ids[k] >= CONSENT_GPP_USPV1 && ids[k] <= CONSENT_GPP_USRI) {
                us = 1;
                opt = 1;
            }
        }
    }

    usp_code = 0;

    if (in->s.usp.len) {
        if (consent_usp_decode(in->s.usp.data, in->s.usp.len, &usp, &err)
            == 0)
        {
            us = 1;
            opt |= (usp.opt_out_sale == CONSENT_USP_YES);

        } else {
            usp_code = err.code;
        }
    }

    FUZZ_ASSERT(out->us == us);
    FUZZ_ASSERT(out->us_opt_out == opt);
    FUZZ_ASSERT(out->usp_error == usp_code);
    FUZZ_ASSERT(!out->us_opt_out || out->us);

    /* refusals are the decoders' own codes, never out of memory */
    FUZZ_ASSERT(out->tcf_error >= 0
                && out->tcf_error < CONSENT_TCF_E_NOMEM);
    FUZZ_ASSERT(out->gpp_error >= 0
                && out->gpp_error < CONSENT_GPP_E_NOMEM);
    FUZZ_ASSERT(out->usp_error >= 0
                && out->usp_error <= CONSENT_USP_E_VALUE);

    fuzz_pool_free(&pool);
}


/* the trust policy: a defined code, and its reason holds */

static void
fuzz_check_trust(const uint8_t *head, const consent_iab_t *iab)
{
    int                   trust;
    unsigned              cmp, listed;
    int64_t               now;
    consent_iab_policy_t  pol;

    memset(&pol, 0, sizeof(pol));
    pol.any_cmp = head[1] & FUZZ_IAB_ANY_CMP;
    cmp = fuzz_u16(head + 2) & CONSENT_IAB_CMP_MAX;
    pol.cmps[cmp >> 3] |= (unsigned char) (1u << (cmp & 7));

    if ((head[1] & FUZZ_IAB_OWN_CMP) && iab->cmp_id <= CONSENT_IAB_CMP_MAX) {
        pol.cmps[iab->cmp_id >> 3] |= (unsigned char) (1u << (iab->cmp_id
                                                              & 7));
    }

    pol.max_age = (head[1] & FUZZ_IAB_NO_AGE)
                  ? 0 : (int64_t) fuzz_u16(head + 8) * 1000;

    if (head[1] & FUZZ_IAB_NEAR) {
        /* up to three days either side: across the skew and max ages */
        now = iab->updated + (int64_t) (int16_t) fuzz_u16(head + 4) * 8;

    } else {
        now = (int64_t) fuzz_u32(head + 4) * 2;
    }

    trust = consent_iab_trust(iab, &pol, now);

    FUZZ_ASSERT(trust == CONSENT_IAB_OK || trust == CONSENT_IAB_NONE
                || trust == CONSENT_IAB_CMP || trust == CONSENT_IAB_EXPIRED
                || trust == CONSENT_IAB_FUTURE);
    FUZZ_ASSERT(consent_iab_trust_name(trust)[0] != '\0');
    FUZZ_ASSERT((trust == CONSENT_IAB_NONE) == !iab->tcf);

    listed = iab->cmp_id <= CONSENT_IAB_CMP_MAX
             && CONSENT_IAB_BIT(pol.cmps, iab->cmp_id);

    if (!iab->tcf) {
        return;
    }

    /* asked in this order: the CMP, the future, the age */
    FUZZ_ASSERT((trust == CONSENT_IAB_CMP) == (!pol.any_cmp && !listed));

    if (trust == CONSENT_IAB_CMP) {
        return;
    }

    FUZZ_ASSERT((trust == CONSENT_IAB_FUTURE)
                == (iab->updated > now + CONSENT_IAB_SKEW));

    if (trust == CONSENT_IAB_FUTURE) {
        return;
    }

    FUZZ_ASSERT((trust == CONSENT_IAB_EXPIRED)
                == (pol.max_age != 0 && now - iab->updated > pol.max_age));
}


/* a mapped purpose exactly when all it needs is granted; else regime */

static void
fuzz_check_purposes(const consent_iab_map_t *map, const consent_iab_t *iab,
    consent_mask_t regime, consent_mask_t *granted)
{
    unsigned        p, want;
    consent_mask_t  got;

    got = consent_iab_purposes(map, iab, regime);

    FUZZ_ASSERT((got & ~(map->mapped | regime)) == 0);
    FUZZ_ASSERT((got & ~map->mapped) == (regime & ~map->mapped));

    for (p = 0; p < CONSENT_MAX_PURPOSES; p++) {
        if (!(map->mapped & CONSENT_BIT(p))) {
            continue;
        }

        want = (map->purposes[p] & ~iab->purposes) == 0
               && (map->features[p] & ~iab->features) == 0;

        FUZZ_ASSERT(((got >> p) & 1) == want);
    }

    *granted = got;
}


/* what consent_iab_map_item() takes: 1-24 or sf1-sf12, one leading 0 */

static int
fuzz_item_value(const unsigned char *p, size_t len, unsigned *feature)
{
    size_t    i;
    unsigned  n, max;

    *feature = (len > 2 && p[0] == 's' && p[1] == 'f');
    i = *feature ? 2 : 0;
    max = *feature ? CONSENT_IAB_FEATURE_MAX : CONSENT_IAB_PURPOSE_MAX;

    if (len - i < 1 || len - i > 2) {
        return 0;
    }

    for (n = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        n = n * 10 + (p[i] - '0');
    }

    return (n >= 1 && n <= max) ? (int) n : 0;
}


/* map items from the line, purpose by purpose, then the map's verdicts */

static void
fuzz_check_map(const uint8_t *head, const fuzz_iab_in_t *in,
    const consent_iab_t *iab, consent_mask_t regime)
{
    int                   rc, n;
    size_t                pos, start, len;
    unsigned              items, purpose, feature;
    consent_err_t         err;
    consent_mask_t        granted;
    consent_iab_map_t     map, before;
    const unsigned char  *line;

    consent_iab_map_default(&map);
    fuzz_check_purposes(&map, iab, regime, &granted);

    if (!iab->tcf) {
        FUZZ_ASSERT((granted & map.mapped) == 0);
    }

    memset(&map, 0, sizeof(map));
    line = in->field[4];
    len = in->len[4];
    pos = 0;
    items = 0;

    while (pos <= len && items < FUZZ_IAB_ITEMS) {
        start = pos;

        while (pos < len && line[pos] != ' ') {
            pos++;
        }

        /* purposes past 31 are refused: some of these are */
        purpose = (items * 7 + (head[1] >> 4)) % 36;
        items++;

        before = map;
        rc = consent_iab_map_item(&map, purpose, line + start, pos - start,
                                  &err);
        n = fuzz_item_value(line + start, pos - start, &feature);

        if (purpose >= CONSENT_MAX_PURPOSES || n == 0) {
            FUZZ_ASSERT(rc == -1);
            FUZZ_ASSERT(err.code == CONSENT_IAB_E_ITEM && err.msg != NULL);
            FUZZ_ASSERT(memcmp(&map, &before, sizeof(map)) == 0);

        } else {
            FUZZ_ASSERT(rc == 0);
            FUZZ_ASSERT(map.mapped == (before.mapped | CONSENT_BIT(purpose)));
            FUZZ_ASSERT(map.purposes[purpose]
                        == (before.purposes[purpose]
                            | (feature ? 0 : 1u << (n - 1))));
            FUZZ_ASSERT(map.features[purpose]
                        == (before.features[purpose]
                            | (feature ? 1u << (n - 1) : 0)));
        }

        pos++;
    }

    fuzz_check_purposes(&map, iab, regime, &granted);

    /* every purpose a map line names needs something a TC string grants */
    if (!iab->tcf) {
        FUZZ_ASSERT((granted & map.mapped) == 0);
    }

    consent_iab_map_clear(&map, head[12] % 40);
    fuzz_check_purposes(&map, iab, regime, &granted);
}


/* the rules vendors' cookies: refused purpose, refused vendor */

static void
fuzz_check_rules(const fuzz_iab_in_t *in, const fuzz_iab_out_t *r,
    consent_mask_t granted)
{
    int             refused;
    unsigned        i;
    consent_rule_t  rule;

    memset(&rule, 0, sizeof(rule));

    for (i = 0; i < in->nvendors; i++) {
        rule.vendor_id = (uint16_t) i;
        rule.purpose = (uint8_t) (in->gvl[i] % CONSENT_MAX_PURPOSES);

        refused = consent_rule_refused(&rule, granted, r->refused);

        if (rule.purpose == CONSENT_P_NECESSARY) {
            FUZZ_ASSERT(refused == 0);
            continue;
        }

        FUZZ_ASSERT(refused == (!(granted & CONSENT_BIT(rule.purpose))
                                || CONSENT_IAB_BIT(r->refused, i)));
        FUZZ_ASSERT(consent_rule_refused(&rule, granted, NULL)
                    == !(granted & CONSENT_BIT(rule.purpose)));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               i, k, start;
    consent_mask_t       regime, granted;
    fuzz_iab_in_t        in;
    fuzz_iab_out_t       whole, some;
    consent_iab_map_t    map;
    const uint8_t       *head, *p;

    if (size < FUZZ_IAB_HEAD) {
        return 0;
    }

    head = data;
    memset(&in, 0, sizeof(in));
    in.nvendors = head[0] % (FUZZ_IAB_VENDORS + 1);

    if (size < FUZZ_IAB_HEAD + 2 * in.nvendors) {
        return 0;
    }

    p = data + FUZZ_IAB_HEAD;

    for (i = 0; i < in.nvendors; i++) {
        in.gvl[i] = (uint16_t) fuzz_u16(p + 2 * i);
    }

    p += 2 * in.nvendors;
    size -= p - data;

    /* the lines: absent ones are empty, as a cookie not sent */
    for (k = 0, start = 0, i = 0; k < FUZZ_IAB_FIELDS; k++) {
        while (i < size && p[i] != '\n') {
            i++;
        }

        if (start < size) {
            in.len[k] = i - start;
            in.field[k] = fuzz_copy(p + start, in.len[k]);

        } else {
            in.field[k] = fuzz_copy(p, 0);
        }

        start = ++i;
    }

    in.s.tcf.data = in.field[0];
    in.s.tcf.len = in.len[0];
    in.s.gpp.data = in.field[1];
    in.s.gpp.len = in.len[1];
    in.s.gpp_sid.data = in.field[2];
    in.s.gpp_sid.len = in.len[2];
    in.s.usp.data = in.field[3];
    in.s.usp.len = in.len[3];

    /* an allocator that does not fail: 0 always */
    fuzz_read(&in, 0, &whole);
    FUZZ_ASSERT(whole.rc == 0 && !whole.failed);

    fuzz_check_read(&in, &whole);

    /* one that fails at the nth call: -1 exactly then, else the same */
    fuzz_read(&in, 1 + head[10] % 8, &some);
    FUZZ_ASSERT(some.rc == (some.failed ? -1 : 0));

    if (some.rc == 0) {
        FUZZ_ASSERT(memcmp(&some.iab, &whole.iab, sizeof(consent_iab_t))
                    == 0);
        FUZZ_ASSERT(memcmp(some.refused, whole.refused, sizeof(some.refused))
                    == 0);
    }

    fuzz_check_trust(head, &whole.iab);

    regime = fuzz_u16(head + 11) | CONSENT_BIT(CONSENT_P_NECESSARY);
    fuzz_check_map(head, &in, &whole.iab, regime);

    consent_iab_map_default(&map);
    granted = consent_iab_purposes(&map, &whole.iab, regime);
    fuzz_check_rules(&in, &whole, granted);

    for (k = 0; k < FUZZ_IAB_FIELDS; k++) {
        free(in.field[k]);
    }

    return 0;
}
