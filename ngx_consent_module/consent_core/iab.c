/*
 * Copyright (C) ngx_consent_module authors
 *
 * IAB strings to enforcement facts; see iab.h.
 */

#include <string.h>

#include "iab.h"
#include "gpp.h"
#include "tcf.h"
#include "usp.h"


/*
 * The caller's allocator, remembering whether it failed: the GPP decoder
 * reports a TC string in section 2 that ran out of memory as a refused
 * section (CONSENT_GPP_E_TCFEU), which must not read as GPP not sent.
 */
typedef struct {
    const consent_alloc_t     *a;
    unsigned                   failed:1;
} consent_iab_pool_t;


static void *consent_iab_alloc(void *data, size_t size);
static void consent_iab_gpp(const consent_iab_strings_t *s,
    const consent_gpp_t *gpp, const consent_tcf_t **tcf, consent_iab_t *out);
static void consent_iab_gpp_refused(const consent_iab_strings_t *s,
    consent_iab_t *out);
static int consent_iab_us_opt_out(const consent_gpp_us_t *us);
static void consent_iab_tcf(const consent_tcf_t *tcf,
    const uint16_t *vendor_gvl, unsigned nvendors, unsigned char *refused,
    consent_iab_t *out);


int
consent_iab_read(const consent_iab_strings_t *s, const consent_alloc_t *a,
    const uint16_t *vendor_gvl, unsigned nvendors, unsigned char *refused,
    consent_iab_t *out)
{
    consent_gpp_t         gpp;
    consent_tcf_t         own;
    consent_usp_t         usp;
    consent_err_t         err;
    consent_alloc_t       track;
    consent_iab_pool_t    pool;
    const consent_tcf_t  *tcf;

    memset(out, 0, sizeof(consent_iab_t));

    tcf = NULL;
    pool.a = a;
    pool.failed = 0;
    track.alloc = consent_iab_alloc;
    track.data = &pool;

    if (s->gpp.len) {
        if (consent_gpp_decode(s->gpp.data, s->gpp.len, &track, &gpp, &err)
            == 0)
        {
            consent_iab_gpp(s, &gpp, &tcf, out);

        } else if (pool.failed) {
            return -1;

        } else {
            out->gpp_error = err.code;
            consent_iab_gpp_refused(s, out);
        }
    }

    if (tcf == NULL && s->tcf.len) {
        if (consent_tcf_decode(s->tcf.data, s->tcf.len, &track, &own, &err)
            == 0)
        {
            tcf = &own;

        } else if (pool.failed) {
            return -1;

        } else {
            out->tcf_error = err.code;
        }
    }

    if (tcf) {
        consent_iab_tcf(tcf, vendor_gvl, nvendors, refused, out);
    }

    if (s->usp.len) {
        if (consent_usp_decode(s->usp.data, s->usp.len, &usp, &err) == 0) {
            out->us = 1;

            if (usp.opt_out_sale == CONSENT_USP_YES) {
                out->us_opt_out = 1;
            }

        } else {
            out->usp_error = err.code;
        }
    }

    return 0;
}


static void *
consent_iab_alloc(void *data, size_t size)
{
    void                *p;
    consent_iab_pool_t  *pool = data;

    p = pool->a->alloc(pool->a->data, size);
    if (p == NULL) {
        pool->failed = 1;
    }

    return p;
}


/* the sections that apply: the TC string of section 2, the US opt-outs */

static void
consent_iab_gpp(const consent_iab_strings_t *s, const consent_gpp_t *gpp,
    const consent_tcf_t **tcf, consent_iab_t *out)
{
    int                           n, k;
    unsigned                      i, applies, listed;
    unsigned                      sid[CONSENT_GPP_MAX_SECTIONS];
    consent_err_t                 err;
    const consent_gpp_section_t  *sec;

    n = -1;

    if (s->gpp_sid.len) {
        n = consent_gpp_sid_parse(s->gpp_sid.data, s->gpp_sid.len, sid,
                                  CONSENT_GPP_MAX_SECTIONS, &err);
        if (n < 0) {
            out->sid_error = err.code;
        }
    }

    for (i = 0; i < gpp->nsections; i++) {
        sec = &gpp->sections[i];

        if (sec->skipped) {
            continue;
        }

        listed = 0;

        for (k = 0; k < n; k++) {
            if (sid[k] == sec->id) {
                listed = 1;
                break;
            }
        }

        /* without a valid __gpp_sid, every section's opt-outs count */
        applies = (n < 0) ? 1 : listed;

        switch (sec->id) {

        case CONSENT_GPP_TCFEUV2:
            if (listed) {
                *tcf = sec->u.tcfeu;
                out->tcf_gpp = 1;
            }
            break;

        case CONSENT_GPP_USPV1:
            if (applies) {
                out->us = 1;
                out->us_opt_out |= (sec->u.usp.opt_out_sale
                                    == CONSENT_USP_YES);
            }
            break;

        default:
            if (sec->id >= CONSENT_GPP_USNAT && sec->id <= CONSENT_GPP_USRI
                && applies)
            {
                out->us = 1;
                out->us_opt_out |= consent_iab_us_opt_out(&sec->u.us);
            }
            break;
        }
    }
}


/*
 * A GPP string refused as a whole may still carry a US opt-out in a
 * section that would have read well: where the sections that apply
 * (__gpp_sid's, else its header's) include a US one, the visitor is taken
 * to have opted out.  An opt-out honoured too widely costs an ad; one
 * missed costs the visitor their choice.
 */

static void
consent_iab_gpp_refused(const consent_iab_strings_t *s, consent_iab_t *out)
{
    int            n, k;
    unsigned       ids[CONSENT_GPP_MAX_SECTIONS];
    consent_err_t  err;

    n = -1;

    if (s->gpp_sid.len) {
        n = consent_gpp_sid_parse(s->gpp_sid.data, s->gpp_sid.len, ids,
                                  CONSENT_GPP_MAX_SECTIONS, &err);
    }

    if (n < 0) {
        n = consent_gpp_header_ids(s->gpp.data, s->gpp.len, ids,
                                   CONSENT_GPP_MAX_SECTIONS, &err);
    }

    for (k = 0; k < n; k++) {
        if (ids[k] >= CONSENT_GPP_USPV1 && ids[k] <= CONSENT_GPP_USRI) {
            out->us = 1;
            out->us_opt_out = 1;
            return;
        }
    }
}


/* SaleOptOut, SharingOptOut, TargetedAdvertisingOptOut: 1 is "opted out" */

static int
consent_iab_us_opt_out(const consent_gpp_us_t *us)
{
    unsigned         i;
    static const int  fields[] = {
        CONSENT_GPP_SALE_OPT_OUT,
        CONSENT_GPP_SHARING_OPT_OUT,
        CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT
    };

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (CONSENT_GPP_US_HAS(us, fields[i])
            && us->field[fields[i]] == CONSENT_GPP_YES)
        {
            return 1;
        }
    }

    /* the CMP saw the browser's GPC signal: an opt-out in these states */
    return us->has_gpc && us->gpc;
}


static void
consent_iab_tcf(const consent_tcf_t *tcf, const uint16_t *vendor_gvl,
    unsigned nvendors, unsigned char *refused, consent_iab_t *out)
{
    unsigned  i;

    out->tcf = 1;
    out->cmp_id = tcf->cmp_id;
    out->purposes = tcf->purposes_consent;
    out->features = tcf->special_features;
    out->updated = (int64_t) (tcf->last_updated / 10);

    for (i = 0; i < nvendors; i++) {
        if (vendor_gvl[i]
            && !consent_tcf_vendor(&tcf->vendors_consent, vendor_gvl[i]))
        {
            refused[i >> 3] |= (unsigned char) (1u << (i & 7));
            out->vendor_refused = 1;
        }
    }
}


int
consent_iab_trust(const consent_iab_t *iab,
    const consent_iab_policy_t *policy, int64_t now)
{
    if (!iab->tcf) {
        return CONSENT_IAB_NONE;
    }

    if (!policy->any_cmp
        && (iab->cmp_id > CONSENT_IAB_CMP_MAX
            || !CONSENT_IAB_BIT(policy->cmps, iab->cmp_id)))
    {
        return CONSENT_IAB_CMP;
    }

    if (iab->updated > now + CONSENT_IAB_SKEW) {
        return CONSENT_IAB_FUTURE;
    }

    if (policy->max_age && now - iab->updated > policy->max_age) {
        return CONSENT_IAB_EXPIRED;
    }

    return CONSENT_IAB_OK;
}


const char *
consent_iab_trust_name(int trust)
{
    static const char  *names[] = {
        "used", "none", "untrusted CMP", "expired", "updated in the future"
    };

    return (trust >= 0 && trust < (int) (sizeof(names) / sizeof(names[0])))
           ? names[trust] : "";
}


consent_mask_t
consent_iab_purposes(const consent_iab_map_t *map, const consent_iab_t *iab,
    consent_mask_t regime)
{
    unsigned        p;
    consent_mask_t  granted;

    granted = regime & ~map->mapped;

    for (p = 0; p < CONSENT_MAX_PURPOSES; p++) {
        if ((map->mapped & CONSENT_BIT(p))
            && (map->purposes[p] & ~iab->purposes) == 0
            && (map->features[p] & ~iab->features) == 0)
        {
            granted |= CONSENT_BIT(p);
        }
    }

    return granted;
}


void
consent_iab_map_default(consent_iab_map_t *map)
{
    memset(map, 0, sizeof(consent_iab_map_t));

    /* storing and reading a cookie is TCF purpose 1 for every purpose */
    map->purposes[CONSENT_P_ADVERTISING] = 1u << 0 | 1u << 2 | 1u << 3;
    map->features[CONSENT_P_ADVERTISING] = 1u << 0;
    map->purposes[CONSENT_P_ANALYTICS] = 1u << 0 | 1u << 6 | 1u << 7
                                         | 1u << 8;
    map->purposes[CONSENT_P_PERSONALIZATION] = 1u << 0 | 1u << 4 | 1u << 5;

    map->mapped = CONSENT_BIT(CONSENT_P_ADVERTISING)
                  | CONSENT_BIT(CONSENT_P_ANALYTICS)
                  | CONSENT_BIT(CONSENT_P_PERSONALIZATION);
}


int
consent_iab_map_item(consent_iab_map_t *map, unsigned purpose,
    const unsigned char *p, size_t len, consent_err_t *err)
{
    size_t    i, start;
    unsigned  n, max, feature;

    if (purpose >= CONSENT_MAX_PURPOSES) {
        return consent_fail(err, CONSENT_IAB_E_ITEM, "no such purpose", p,
                            len);
    }

    feature = (len > 2 && p[0] == 's' && p[1] == 'f');
    start = feature ? 2 : 0;
    max = feature ? CONSENT_IAB_FEATURE_MAX : CONSENT_IAB_PURPOSE_MAX;
    n = 0;

    if (len == start || len - start > 2) {
        return consent_fail(err, CONSENT_IAB_E_ITEM,
                            "not a TCF purpose (1-24) or special feature "
                            "(sf1-sf12)", p, len);
    }

    for (i = start; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return consent_fail(err, CONSENT_IAB_E_ITEM,
                                "not a TCF purpose (1-24) or special "
                                "feature (sf1-sf12)", p, len);
        }

        n = n * 10 + (p[i] - '0');
    }

    if (n == 0 || n > max) {
        return consent_fail(err, CONSENT_IAB_E_ITEM,
                            feature ? "special features are sf1 to sf12"
                                    : "TCF purposes are 1 to 24", p, len);
    }

    if (feature) {
        map->features[purpose] |= 1u << (n - 1);

    } else {
        map->purposes[purpose] |= 1u << (n - 1);
    }

    map->mapped |= CONSENT_BIT(purpose);

    return 0;
}


void
consent_iab_map_clear(consent_iab_map_t *map, unsigned purpose)
{
    if (purpose < CONSENT_MAX_PURPOSES) {
        map->purposes[purpose] = 0;
        map->features[purpose] = 0;
        map->mapped &= ~CONSENT_BIT(purpose);
    }
}
