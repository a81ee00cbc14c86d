/*
 * Copyright (C) ngx_consent_module authors
 *
 * What the IAB strings a visitor's CMP left mean for enforcement: the
 * TCF consents mapped onto the module's purposes, the TCF vendor
 * consents of the rules' vendors that carry a Global Vendor List id, and
 * the US opt-outs (GPP usnat and state sections, US Privacy).
 *
 * Two steps, so that the costly one can be cached by the caller:
 *
 *   consent_iab_read()   decodes the strings (tcf.h, gpp.h, usp.h) into
 *                        the few facts enforcement needs (consent_iab_t),
 *                        a pure function of the strings and the rules'
 *                        GVL ids;
 *   consent_iab_trust()  and consent_iab_purposes() apply one location's
 *                        policy (CMP ids, maximum age, the map) to them,
 *                        per request, in a few instructions.
 *
 * Which string speaks: __gpp_sid names the GPP sections that apply.  A
 * TC string in GPP section 2 is used only when __gpp_sid lists 2 (a
 * grant read from a section the CMP does not apply would be a grant
 * nobody gave); otherwise the euconsent-v2 cookie is.  Opt-outs are
 * taken from the sections __gpp_sid lists, or from every US section when
 * there is no valid __gpp_sid: honouring an opt-out too widely costs a
 * site an ad, never a visitor their choice.
 */

#ifndef _CONSENT_IAB_H_INCLUDED_
#define _CONSENT_IAB_H_INCLUDED_


#include "consent_core.h"


/* the TCF's CmpId is a 12-bit field */
#define CONSENT_IAB_CMP_MAX         4095

/* TCF purposes 1-24 and special features 1-12 a map item may name */
#define CONSENT_IAB_PURPOSE_MAX     24
#define CONSENT_IAB_FEATURE_MAX     12

/* consent_iab_trust(): why a TC string may not decide */
#define CONSENT_IAB_OK              0
#define CONSENT_IAB_NONE            1     /* no TC string was read */
#define CONSENT_IAB_CMP             2     /* its CMP is not trusted */
#define CONSENT_IAB_EXPIRED         3     /* LastUpdated over max age */
#define CONSENT_IAB_FUTURE          4     /* LastUpdated ahead of now */

/* how far a CMP's clock may run ahead of ours */
#define CONSENT_IAB_SKEW            86400

/* err->code of consent_iab_map_item() */
#define CONSENT_IAB_E_ITEM          1


/* the cookies, as the browser sent them; empty spans for absent ones */
typedef struct {
    consent_span_t             tcf;          /* euconsent-v2 */
    consent_span_t             gpp;          /* __gpp */
    consent_span_t             gpp_sid;      /* __gpp_sid */
    consent_span_t             usp;          /* usprivacy */
} consent_iab_strings_t;

/* what they say, as far as enforcement reads them */
typedef struct {
    unsigned                   tcf:1;        /* a TC string was read */
    unsigned                   tcf_gpp:1;    /* from GPP section 2 */
    unsigned                   us:1;         /* a US section or USP read */
    /* sale, sharing or targeted advertising opted out (or GPC in GPP) */
    unsigned                   us_opt_out:1;
    /* a rules vendor with a GVL id lacks TCF vendor consent */
    unsigned                   vendor_refused:1;
    unsigned                   cmp_id;
    uint32_t                   purposes;     /* PurposesConsent: bit id-1 */
    uint32_t                   features;     /* SpecialFeatureOptins */
    int64_t                    updated;      /* LastUpdated, seconds */

    /* for the log: the decoders' refusals, 0 when none (or not sent) */
    int                        tcf_error;    /* CONSENT_TCF_E_* */
    int                        gpp_error;    /* CONSENT_GPP_E_* */
    int                        sid_error;
    int                        usp_error;    /* CONSENT_USP_E_* */
} consent_iab_t;

/*
 * Per module purpose: the TCF purposes (bit id-1) and special features
 * that must all be granted for it; a purpose not in mapped keeps the
 * regime's default when a TC string decides.
 */
typedef struct {
    uint32_t                   purposes[CONSENT_MAX_PURPOSES];
    uint32_t                   features[CONSENT_MAX_PURPOSES];
    consent_mask_t             mapped;
} consent_iab_map_t;

/* the CMPs a location trusts, and how old a TC string may be */
typedef struct {
    unsigned char              cmps[(CONSENT_IAB_CMP_MAX + 1) / 8];
    unsigned                   any_cmp:1;
    int64_t                    max_age;      /* seconds, 0: no limit */
} consent_iab_policy_t;


/*
 * Decodes what s holds.  vendor_gvl[i] is the GVL id of the rules'
 * vendor i (0: none), for i < nvendors; refused, (nvendors + 7) / 8
 * bytes the caller zeroed, gets bit i (of byte i / 8, least significant
 * first) for each such vendor the TC string gives no consent.  A string
 * a decoder refuses counts as not sent (its error kept in *out).  The
 * decoders allocate from a; returns -1 only when a failed.
 */
int consent_iab_read(const consent_iab_strings_t *s, const consent_alloc_t *a,
    const uint16_t *vendor_gvl, unsigned nvendors, unsigned char *refused,
    consent_iab_t *out);

/* CONSENT_IAB_OK when the TC string read may decide at time now */
int consent_iab_trust(const consent_iab_t *iab,
    const consent_iab_policy_t *policy, int64_t now);
const char *consent_iab_trust_name(int trust);

/* the purposes the TC string grants through map; the rest from regime */
consent_mask_t consent_iab_purposes(const consent_iab_map_t *map,
    const consent_iab_t *iab, consent_mask_t regime);

/* 1 when bit i of a byte set (refused vendors, trusted CMPs) is on */
#define CONSENT_IAB_BIT(set, i)     (((set)[(i) >> 3] >> ((i) & 7)) & 1)

/*
 * The documented default: advertising needs TCF purposes 1, 3, 4 and
 * special feature 1; analytics 1, 7, 8, 9; personalization 1, 5, 6.
 */
void consent_iab_map_default(consent_iab_map_t *map);
/*
 * One item of a map line for purpose: "N" (TCF purpose N, 1-24) or
 * "sfN" (special feature N, 1-12).  0, or -1 with err.
 */
int consent_iab_map_item(consent_iab_map_t *map, unsigned purpose,
    const unsigned char *p, size_t len, consent_err_t *err);
/* purpose no longer mapped: the regime's default stands for it */
void consent_iab_map_clear(consent_iab_map_t *map, unsigned purpose);


#endif /* _CONSENT_IAB_H_INCLUDED_ */
