/*
 * Copyright (C) ngx_consent_module authors
 *
 * tcfcav1, GPP section 5 (gpp_tcfca.h).  Helpers return 0 or a
 * CONSENT_GPP_E_ code; the sub-section at fault goes to err once, at
 * the top.
 */

#include <string.h>

#include "bits.h"
#include "gpp.h"
#include "gpp_range.h"
#include "gpp_tcfca.h"


#define TCFCA_VERSION     1
#define TCFCA_DISCLOSED   1
#define TCFCA_PUBLISHER   3

/* the fewest bits a restriction takes: key, type, MaxId 0, a bit field */
#define TCFCA_RESTRICTION_MIN_BITS  (6 + 2 + 16 + 1)


typedef struct {
    consent_gpp_restriction_t  *r;
    unsigned                    n;
} consent_gpp_tcfca_ranges_t;


static int
consent_gpp_tcfca_fail(consent_err_t *err, int code, const unsigned char *p,
    size_t len)
{
    static const char  *msgs[] = {
        "", "", "tcfcav1 not base64url", "", "tcfcav1 cut short",
        "tcfcav1 vendor id past MaxId", "", "empty tcfcav1 sub-section",
        "tcfcav1 field refused", "tcfcav1 sub-section type twice", "", "",
        "out of memory"
    };

    return consent_fail(err, code,
                        (code > 0 && code <= CONSENT_GPP_E_NOMEM)
                        ? msgs[code] : "tcfcav1 refused", p, len);
}


/* n bits as a mask: the first read is bit 0, id 1, as in tcf.h */

static uint64_t
consent_gpp_tcfca_mask(consent_bits_t *b, unsigned n)
{
    unsigned  i;
    uint64_t  m;

    m = 0;

    for (i = 0; i < n; i++) {
        m |= consent_bits_read(b, 1) << i;
    }

    return m;
}


static int
consent_gpp_tcfca_set(void *data, uint32_t first, uint32_t last)
{
    uint32_t                id;
    consent_tcf_vendors_t  *v;

    v = data;

    for (id = first; id <= last; id++) {
        v->bits[(id - 1) / 8] |= (unsigned char) (0x80 >> ((id - 1) % 8));
    }

    return 0;
}


/* an OptimizedRange into a bit set of MaxId bits */

static int
consent_gpp_tcfca_vendors(consent_bits_t *b, const consent_alloc_t *a,
    consent_tcf_vendors_t *v)
{
    size_t    size;
    unsigned  i;

    v->max_id = (unsigned) consent_bits_read(b, 16);
    v->range = (unsigned) consent_bits_read(b, 1);
    v->bits = NULL;

    if (b->overrun) {
        return CONSENT_GPP_E_TRUNCATED;
    }

    if (!v->range && consent_bits_left(b) < v->max_id) {
        return CONSENT_GPP_E_TRUNCATED;
    }

    if (v->max_id == 0) {
        /* an empty range still carries its count */
        return v->range ? consent_gpp_range_read(b, 0, consent_gpp_tcfca_set,
                                                 v)
                        : 0;
    }

    size = (v->max_id + 7) / 8;

    v->bits = a->alloc(a->data, size);
    if (v->bits == NULL) {
        return CONSENT_GPP_E_NOMEM;
    }

    memset(v->bits, 0, size);

    if (v->range) {
        return consent_gpp_range_read(b, v->max_id, consent_gpp_tcfca_set, v);
    }

    for (i = 0; i < v->max_id; i++) {
        if (consent_bits_read(b, 1)) {
            v->bits[i / 8] |= (unsigned char) (0x80 >> (i % 8));
        }
    }

    return 0;
}


/* a restriction's range entries: counted first, then stored */

static int
consent_gpp_tcfca_range(void *data, uint32_t first, uint32_t last)
{
    consent_gpp_tcfca_ranges_t  *rs;

    rs = data;

    if (rs->r->ranges != NULL) {
        rs->r->ranges[rs->n].start = (uint16_t) first;
        rs->r->ranges[rs->n].end = (uint16_t) last;
    }

    rs->n++;

    return 0;
}


/*
 * One pass over a restriction's vendors, an OptimizedRange, as ranges
 * (a bit field's runs of ones become ranges too): ranges, not a bit
 * set, because a restriction costs 25 bits and a bit set 8 KB.
 */

static int
consent_gpp_tcfca_pass(consent_bits_t *b, consent_gpp_tcfca_ranges_t *rs)
{
    unsigned  max, i, bit, start;

    max = (unsigned) consent_bits_read(b, 16);

    if (consent_bits_read(b, 1)) {
        return consent_gpp_range_read(b, max, consent_gpp_tcfca_range, rs);
    }

    if (b->overrun || consent_bits_left(b) < max) {
        return CONSENT_GPP_E_TRUNCATED;
    }

    start = 0;

    for (i = 1; i <= max + 1; i++) {
        bit = (i <= max) ? (unsigned) consent_bits_read(b, 1) : 0;

        if (bit && start == 0) {
            start = i;

        } else if (!bit && start != 0) {
            consent_gpp_tcfca_range(rs, start, i - 1);
            start = 0;
        }
    }

    return 0;
}


static int
consent_gpp_tcfca_restriction(consent_bits_t *b, const consent_alloc_t *a,
    consent_gpp_restriction_t *r)
{
    int                          rc;
    consent_bits_t               again;
    consent_gpp_tcfca_ranges_t   rs;

    r->purpose = (unsigned) consent_bits_read(b, 6);
    r->type = (unsigned) consent_bits_read(b, 2);
    r->nranges = 0;
    r->ranges = NULL;

    if (r->type == 3) {
        /* "UNDEFINED (not used)" */
        return b->overrun ? CONSENT_GPP_E_TRUNCATED : CONSENT_GPP_E_SECTION;
    }

    again = *b;
    rs.r = r;
    rs.n = 0;

    rc = consent_gpp_tcfca_pass(b, &rs);
    if (rc != 0 || rs.n == 0) {
        return rc;
    }

    r->ranges = a->alloc(a->data, rs.n * sizeof(consent_tcf_range_t));
    if (r->ranges == NULL) {
        return CONSENT_GPP_E_NOMEM;
    }

    r->nranges = rs.n;
    rs.n = 0;

    return consent_gpp_tcfca_pass(&again, &rs);
}


static int
consent_gpp_tcfca_restrictions(consent_bits_t *b, const consent_alloc_t *a,
    consent_gpp_tcfca_t *ca)
{
    int       rc;
    unsigned  n, i;

    n = (unsigned) consent_bits_read(b, 12);

    ca->nrestrictions = 0;
    ca->restrictions = NULL;

    if (b->overrun) {
        return CONSENT_GPP_E_TRUNCATED;
    }

    if (n == 0) {
        return 0;
    }

    /* what a count of 4095 may make us allocate is bounded by the bits */
    if (consent_bits_left(b) / TCFCA_RESTRICTION_MIN_BITS < n) {
        return CONSENT_GPP_E_TRUNCATED;
    }

    ca->restrictions = a->alloc(a->data,
                                n * sizeof(consent_gpp_restriction_t));
    if (ca->restrictions == NULL) {
        return CONSENT_GPP_E_NOMEM;
    }

    for (i = 0; i < n; i++) {
        rc = consent_gpp_tcfca_restriction(b, a, &ca->restrictions[i]);
        if (rc != 0) {
            return rc;
        }
    }

    ca->nrestrictions = n;

    return 0;
}


static int
consent_gpp_tcfca_core(consent_bits_t *b, const consent_alloc_t *a,
    consent_gpp_tcfca_t *ca)
{
    int       rc;
    unsigned  i, c;

    ca->created = consent_bits_read(b, 36);
    ca->last_updated = consent_bits_read(b, 36);
    ca->cmp_id = (unsigned) consent_bits_read(b, 12);
    ca->cmp_version = (unsigned) consent_bits_read(b, 12);
    ca->consent_screen = (unsigned) consent_bits_read(b, 6);

    for (i = 0; i < 2; i++) {
        c = (unsigned) consent_bits_read(b, 6);
        if (c > 25 && !b->overrun) {
            /* a letter past Z: as tcf.h refuses it */
            return CONSENT_GPP_E_SECTION;
        }

        ca->language[i] = (char) ('A' + c);
    }

    ca->language[2] = '\0';
    ca->vendor_list_version = (unsigned) consent_bits_read(b, 12);
    ca->policy_version = (unsigned) consent_bits_read(b, 6);
    ca->use_non_standard_stacks = (unsigned) consent_bits_read(b, 1);
    ca->special_features_express = (uint32_t) consent_gpp_tcfca_mask(b, 12);
    ca->purposes_express = (uint32_t) consent_gpp_tcfca_mask(b, 24);
    ca->purposes_implied = (uint32_t) consent_gpp_tcfca_mask(b, 24);

    rc = consent_gpp_tcfca_vendors(b, a, &ca->vendors_express);
    if (rc == 0) {
        rc = consent_gpp_tcfca_vendors(b, a, &ca->vendors_implied);
    }

    if (rc == 0) {
        rc = consent_gpp_tcfca_restrictions(b, a, ca);
    }

    return rc;
}


/* a sub-section after the core: 0 or a code, *type what it was */

static int
consent_gpp_tcfca_sub(consent_bits_t *b, const consent_alloc_t *a,
    consent_gpp_tcfca_t *ca, unsigned *type)
{
    int  rc;

    *type = (unsigned) consent_bits_read(b, 3);

    if (*type == TCFCA_DISCLOSED) {
        if (ca->has_disclosed) {
            return CONSENT_GPP_E_DUPLICATE;
        }

        rc = consent_gpp_tcfca_vendors(b, a, &ca->vendors_disclosed);
        ca->has_disclosed = 1;

        return rc;
    }

    if (*type != TCFCA_PUBLISHER) {
        return 0;
    }

    if (ca->has_publisher) {
        return CONSENT_GPP_E_DUPLICATE;
    }

    ca->pub_express = (uint32_t) consent_gpp_tcfca_mask(b, 24);
    ca->pub_implied = (uint32_t) consent_gpp_tcfca_mask(b, 24);
    ca->num_custom = (unsigned) consent_bits_read(b, 6);
    ca->custom_express = consent_gpp_tcfca_mask(b, ca->num_custom);
    ca->custom_implied = consent_gpp_tcfca_mask(b, ca->num_custom);
    ca->has_publisher = 1;

    return 0;
}


int
consent_gpp_tcfca_decode(consent_gpp_section_t *s, const consent_alloc_t *a,
    consent_err_t *err)
{
    int                   rc;
    size_t                len;
    unsigned              type;
    consent_bits_t        b;
    consent_gpp_tcfca_t  *ca;
    const unsigned char  *p, *end, *dot;

    p = s->text.data;
    end = p + s->text.len;
    ca = NULL;

    for ( ;; ) {
        len = (size_t) (end - p);
        dot = memchr(p, '.', len);
        len = (dot ? dot : end) - p;

        if (len == 0) {
            return consent_gpp_tcfca_fail(err, CONSENT_GPP_E_EMPTY, p, len);
        }

        if (consent_bits_init(&b, p, len) != 0) {
            return consent_gpp_tcfca_fail(err, CONSENT_GPP_E_CHAR, p, len);
        }

        if (ca == NULL) {
            /* the core comes first: its Version is its first 6 bits */
            if (consent_bits_read(&b, 6) != TCFCA_VERSION) {
                s->skipped = 1;
                return 0;
            }

            ca = a->alloc(a->data, sizeof(consent_gpp_tcfca_t));
            if (ca == NULL) {
                return consent_gpp_tcfca_fail(err, CONSENT_GPP_E_NOMEM, p,
                                              len);
            }

            memset(ca, 0, sizeof(consent_gpp_tcfca_t));
            ca->version = TCFCA_VERSION;

            rc = consent_gpp_tcfca_core(&b, a, ca);

        } else {
            rc = consent_gpp_tcfca_sub(&b, a, ca, &type);

            if (rc == 0 && type != TCFCA_DISCLOSED
                && type != TCFCA_PUBLISHER)
            {
                /* a type the spec may add: not ours to refuse */
                s->sub_skipped = 1;
            }
        }

        if (rc == 0 && b.overrun) {
            rc = CONSENT_GPP_E_TRUNCATED;
        }

        if (rc != 0) {
            return consent_gpp_tcfca_fail(err, rc, p, len);
        }

        if (dot == NULL) {
            break;
        }

        p = dot + 1;
    }

    s->u.tcfca = ca;

    return 0;
}
