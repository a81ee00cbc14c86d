/*
 * Copyright (C) ngx_consent_module authors
 *
 * The US sections of GPP (gpp_us.h).  Each section is a Version (6
 * bits), then its fields, 2 bits each or lists of 2-bit values, in the
 * order of a table below; then sub-sections after '.'.  A table, not a
 * function a section, because the states differ only in which fields
 * they carry and how long their lists are, and a new state is one line.
 */

#include <string.h>

#include "bits.h"
#include "gpp.h"
#include "gpp_us.h"


/* a table entry: a field of gpp.h, or a list of n values */
#define US_SENSITIVE(n)   (0x40 | (n))
#define US_CHILD(n)       (0x80 | (n))
#define US_END            0xff

/* what may follow the core after '.' */
#define US_SUB_NONE       0
#define US_SUB_GPC        1   /* SubsectionType (2 bits) 1, then Gpc */
#define US_SUB_SENSITIVE  2   /* no type: SensitiveDataProcessing, 8 */

typedef struct {
    unsigned                   id;
    unsigned                   version;
    unsigned                   sub;
    const unsigned char       *fields;
} consent_gpp_us_layout_t;


#define SN   CONSENT_GPP_SHARING_NOTICE
#define SOON CONSENT_GPP_SALE_OPT_OUT_NOTICE
#define SHON CONSENT_GPP_SHARING_OPT_OUT_NOTICE
#define TAON CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT_NOTICE
#define SDPN CONSENT_GPP_SENSITIVE_DATA_PROCESSING_OPT_OUT_NOTICE
#define SDLN CONSENT_GPP_SENSITIVE_DATA_LIMIT_USE_NOTICE
#define SDON CONSENT_GPP_SENSITIVE_DATA_OPT_OUT_NOTICE
#define PN   CONSENT_GPP_PROCESSING_NOTICE
#define SOO  CONSENT_GPP_SALE_OPT_OUT
#define SHOO CONSENT_GPP_SHARING_OPT_OUT
#define TAOO CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT
#define PDC  CONSENT_GPP_PERSONAL_DATA_CONSENTS
#define ADPC CONSENT_GPP_ADDITIONAL_DATA_PROCESSING_CONSENT
#define MCT  CONSENT_GPP_MSPA_COVERED_TRANSACTION
#define MOOM CONSENT_GPP_MSPA_OPT_OUT_OPTION_MODE
#define MSPM CONSENT_GPP_MSPA_SERVICE_PROVIDER_MODE
#define MM   CONSENT_GPP_MSPA_MODE

/* usnat 1 had 12 sensitive categories and 2 child ages; 2 has 16, 3 */
static const unsigned char  us_nat1[] = { SN, SOON, SHON, TAON, SDPN, SDLN,
    SOO, SHOO, TAOO, US_SENSITIVE(12), US_CHILD(2), PDC, MCT, MOOM, MSPM,
    US_END };
static const unsigned char  us_nat2[] = { SN, SOON, SHON, TAON, SDPN, SDLN,
    SOO, SHOO, TAOO, US_SENSITIVE(16), US_CHILD(3), PDC, MCT, MOOM, MSPM,
    US_END };
static const unsigned char  us_ca[] = { SOON, SHON, SDLN, SOO, SHOO,
    US_SENSITIVE(9), US_CHILD(2), PDC, MCT, MOOM, MSPM, US_END };
static const unsigned char  us_va[] = { SN, SOON, TAON, SOO, TAOO,
    US_SENSITIVE(8), US_CHILD(1), MCT, MOOM, MSPM, US_END };
static const unsigned char  us_co[] = { SN, SOON, TAON, SOO, TAOO,
    US_SENSITIVE(7), US_CHILD(1), MCT, MOOM, MSPM, US_END };
static const unsigned char  us_ut[] = { SN, SOON, TAON, SDPN, SOO, TAOO,
    US_SENSITIVE(8), US_CHILD(1), MCT, MOOM, MSPM, US_END };
static const unsigned char  us_ct[] = { SN, SOON, TAON, SOO, TAOO,
    US_SENSITIVE(8), US_CHILD(3), MCT, MOOM, MSPM, US_END };
static const unsigned char  us_mt[] = { SN, SOON, TAON, SOO, TAOO,
    US_SENSITIVE(8), US_CHILD(3), ADPC, MCT, MOOM, MSPM, US_END };
static const unsigned char  us_ia[] = { PN, SOON, TAON, SDON, SOO, TAOO,
    US_SENSITIVE(8), US_CHILD(1), MCT, MOOM, MSPM, US_END };

/* the "processing notice" states: only the two lists differ */
#define US_PN(s, c)                                                          \
    { PN, SOON, TAON, SOO, TAOO, US_SENSITIVE(s), US_CHILD(c), ADPC, MCT,   \
      MOOM, MSPM, US_END }

static const unsigned char  us_fl[] = US_PN(8, 3);
static const unsigned char  us_or[] = US_PN(11, 3);
static const unsigned char  us_tx[] = US_PN(8, 1);
static const unsigned char  us_de[] = US_PN(9, 5);
static const unsigned char  us_ne[] = US_PN(8, 1);
static const unsigned char  us_nh[] = US_PN(8, 3);
static const unsigned char  us_nj[] = US_PN(10, 5);
static const unsigned char  us_tn[] = US_PN(8, 1);
static const unsigned char  us_mn[] = US_PN(8, 1);

/* the 2025 shape: MspaVersion first, then the Mspa fields */
static const unsigned char  us_md[] = { MCT, MM, PN, SOON, TAON, SOO, TAOO,
    ADPC, US_END };
static const unsigned char  us_in[] = { MCT, MM, PN, SOON, TAON, SOO, TAOO,
    US_CHILD(1), ADPC, US_END };

static const consent_gpp_us_layout_t  consent_gpp_us_layouts[] = {
    { CONSENT_GPP_USNAT, 1, US_SUB_GPC, us_nat1 },
    { CONSENT_GPP_USNAT, 2, US_SUB_GPC, us_nat2 },
    { CONSENT_GPP_USCA, 1, US_SUB_GPC, us_ca },
    { CONSENT_GPP_USVA, 1, US_SUB_NONE, us_va },
    { CONSENT_GPP_USCO, 1, US_SUB_GPC, us_co },
    { CONSENT_GPP_USUT, 1, US_SUB_NONE, us_ut },
    { CONSENT_GPP_USCT, 1, US_SUB_GPC, us_ct },
    { CONSENT_GPP_USFL, 1, US_SUB_NONE, us_fl },
    { CONSENT_GPP_USMT, 1, US_SUB_GPC, us_mt },
    { CONSENT_GPP_USOR, 1, US_SUB_GPC, us_or },
    { CONSENT_GPP_USTX, 1, US_SUB_GPC, us_tx },
    { CONSENT_GPP_USDE, 1, US_SUB_GPC, us_de },
    { CONSENT_GPP_USIA, 1, US_SUB_GPC, us_ia },
    { CONSENT_GPP_USNE, 1, US_SUB_GPC, us_ne },
    { CONSENT_GPP_USNH, 1, US_SUB_GPC, us_nh },
    { CONSENT_GPP_USNJ, 1, US_SUB_GPC, us_nj },
    { CONSENT_GPP_USTN, 1, US_SUB_GPC, us_tn },
    { CONSENT_GPP_USMN, 1, US_SUB_GPC, us_mn },
    { CONSENT_GPP_USMD, 1, US_SUB_GPC, us_md },
    { CONSENT_GPP_USIN, 1, US_SUB_SENSITIVE, us_in },
    { CONSENT_GPP_USKY, 1, US_SUB_SENSITIVE, us_in },
    { CONSENT_GPP_USRI, 1, US_SUB_SENSITIVE, us_in },
};

#define US_LAYOUTS                                                           \
    (sizeof(consent_gpp_us_layouts) / sizeof(consent_gpp_us_layouts[0]))


int
consent_gpp_us_known(unsigned id)
{
    size_t  i;

    for (i = 0; i < US_LAYOUTS; i++) {
        if (consent_gpp_us_layouts[i].id == id) {
            return 1;
        }
    }

    return 0;
}


static const consent_gpp_us_layout_t *
consent_gpp_us_layout(unsigned id, unsigned version)
{
    size_t  i;

    for (i = 0; i < US_LAYOUTS; i++) {
        if (consent_gpp_us_layouts[i].id == id
            && consent_gpp_us_layouts[i].version == version)
        {
            return &consent_gpp_us_layouts[i];
        }
    }

    return NULL;
}


/* the core's fields after Version, as the table lists them */

static void
consent_gpp_us_fields(consent_bits_t *b, const unsigned char *f,
    consent_gpp_us_t *us)
{
    unsigned  n, i;

    for ( /* void */ ; *f != US_END; f++) {

        if (*f & US_SENSITIVE(0)) {
            n = *f & 0x3f;
            for (i = 0; i < n; i++) {
                us->sensitive[i] = (unsigned char) consent_bits_read(b, 2);
            }
            us->nsensitive = n;
            continue;
        }

        if (*f & US_CHILD(0)) {
            n = *f & 0x3f;
            for (i = 0; i < n; i++) {
                us->child[i] = (unsigned char) consent_bits_read(b, 2);
            }
            us->nchild = n;
            continue;
        }

        us->field[*f] = (unsigned char) consent_bits_read(b, 2);
        us->has |= (uint32_t) 1 << *f;
    }
}


/* one sub-section after the core: 0, or -1 with err */

static int
consent_gpp_us_sub(consent_gpp_section_t *s, unsigned sub,
    const unsigned char *p, size_t len, consent_gpp_us_t *us,
    consent_err_t *err)
{
    unsigned        i;
    consent_bits_t  b;

    if (len == 0) {
        return consent_fail(err, CONSENT_GPP_E_EMPTY,
                            "empty sub-section", p, len);
    }

    if (consent_bits_init(&b, p, len) != 0) {
        return consent_fail(err, CONSENT_GPP_E_CHAR,
                            "sub-section not base64url", p, len);
    }

    if (sub == US_SUB_GPC) {
        if (consent_bits_read(&b, 2) != 1) {
            /* a type the spec may add later: not ours to refuse */
            s->sub_skipped = 1;
            return 0;
        }

        if (us->has_gpc) {
            return consent_fail(err, CONSENT_GPP_E_DUPLICATE,
                                "GPC sub-section twice", p, len);
        }

        us->gpc = (unsigned) consent_bits_read(&b, 1);
        us->has_gpc = 1;

    } else if (sub == US_SUB_SENSITIVE && us->nsensitive == 0) {
        for (i = 0; i < 8; i++) {
            us->sensitive[i] = (unsigned char) consent_bits_read(&b, 2);
        }

        us->nsensitive = 8;

    } else {
        /* no sub-section defined, or a second untyped one */
        s->sub_skipped = 1;
        return 0;
    }

    if (b.overrun) {
        return consent_fail(err, CONSENT_GPP_E_TRUNCATED,
                            "sub-section cut short", p, len);
    }

    return 0;
}


int
consent_gpp_us_decode(consent_gpp_section_t *s, consent_err_t *err)
{
    size_t                          len, n;
    unsigned                        version;
    consent_bits_t                  b;
    consent_gpp_us_t                us;
    const unsigned char            *p, *end, *dot;
    const consent_gpp_us_layout_t  *l;

    p = s->text.data;
    end = p + s->text.len;

    dot = memchr(p, '.', s->text.len);
    len = (dot ? dot : end) - p;

    if (len == 0) {
        return consent_fail(err, CONSENT_GPP_E_EMPTY,
                            "empty core sub-section", p, len);
    }

    if (consent_bits_init(&b, p, len) != 0) {
        return consent_fail(err, CONSENT_GPP_E_CHAR,
                            "section not base64url", p, len);
    }

    version = (unsigned) consent_bits_read(&b, 6);

    l = consent_gpp_us_layout(s->id, version);
    if (l == NULL) {
        /* a version to come: its fields are not ours to guess */
        s->skipped = 1;
        return 0;
    }

    memset(&us, 0, sizeof(consent_gpp_us_t));
    us.version = version;

    consent_gpp_us_fields(&b, l->fields, &us);

    if (b.overrun) {
        return consent_fail(err, CONSENT_GPP_E_TRUNCATED,
                            "section cut short", p, len);
    }

    while (dot) {
        p = dot + 1;
        dot = memchr(p, '.', end - p);
        n = (dot ? dot : end) - p;

        if (consent_gpp_us_sub(s, l->sub, p, n, &us, err) != 0) {
            return -1;
        }
    }

    s->u.us = us;

    return 0;
}
