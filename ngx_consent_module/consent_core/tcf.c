/*
 * Copyright (C) ngx_consent_module authors
 *
 * The TCF v2 TC string (tcf.h).  Field widths are those of "IAB Tech Lab
 * - Consent string and vendor list formats v2", TCF v2.3.
 */

#include <string.h>

#include "bits.h"
#include "tcf.h"


#define CONSENT_TCF_SEG_CORE        0
#define CONSENT_TCF_SEG_DISCLOSED   1
#define CONSENT_TCF_SEG_ALLOWED     2
#define CONSENT_TCF_SEG_PUBLISHER   3


typedef struct {
    consent_bits_t             bits;
    consent_span_t             seg;          /* for err->at */
    const consent_alloc_t     *alloc;
    consent_err_t             *err;
} consent_tcf_ctx_t;


static int consent_tcf_fail(consent_tcf_ctx_t *ctx, int code,
    const char *msg);
static int consent_tcf_truncated(consent_tcf_ctx_t *ctx);
static void *consent_tcf_alloc(consent_tcf_ctx_t *ctx, size_t size);
static int consent_tcf_letters(consent_tcf_ctx_t *ctx, char *out);
static int consent_tcf_vendors(consent_tcf_ctx_t *ctx,
    consent_tcf_vendors_t *v);
static int consent_tcf_bitfield(consent_tcf_ctx_t *ctx,
    consent_tcf_vendors_t *v);
static int consent_tcf_ranges(consent_tcf_ctx_t *ctx,
    consent_tcf_vendors_t *v);
static int consent_tcf_restrictions(consent_tcf_ctx_t *ctx,
    consent_tcf_t *t);
static int consent_tcf_restriction(consent_tcf_ctx_t *ctx,
    consent_tcf_restriction_t *r);
static int consent_tcf_core(consent_tcf_ctx_t *ctx, consent_tcf_t *t);
static uint64_t consent_tcf_reverse(uint64_t v, unsigned n);
static int consent_tcf_publisher(consent_tcf_ctx_t *ctx, consent_tcf_t *t);
static int consent_tcf_segment(consent_tcf_ctx_t *ctx, consent_tcf_t *t,
    unsigned *seen);


static int
consent_tcf_fail(consent_tcf_ctx_t *ctx, int code, const char *msg)
{
    return consent_fail(ctx->err, code, msg, ctx->seg.data, ctx->seg.len);
}


/* 0, or -1 when a read of the structure just read went past the end */

static int
consent_tcf_truncated(consent_tcf_ctx_t *ctx)
{
    if (ctx->bits.overrun) {
        return consent_tcf_fail(ctx, CONSENT_TCF_E_TRUNCATED,
                                "TC string segment cut short");
    }

    return 0;
}


/* zeroed, as the sets below are filled by setting bits */

static void *
consent_tcf_alloc(consent_tcf_ctx_t *ctx, size_t size)
{
    void  *p;

    p = ctx->alloc->alloc(ctx->alloc->data, size);

    if (p == NULL) {
        consent_tcf_fail(ctx, CONSENT_TCF_E_NOMEM, "out of memory");
        return NULL;
    }

    memset(p, 0, size);

    return p;
}


/* two letters of 6 bits each, 0 for 'A': ConsentLanguage, PublisherCC */

static int
consent_tcf_letters(consent_tcf_ctx_t *ctx, char *out)
{
    unsigned  i, c;

    for (i = 0; i < 2; i++) {
        c = (unsigned) consent_bits_read(&ctx->bits, 6);

        if (c > 25) {
            return consent_tcf_fail(ctx, CONSENT_TCF_E_FIELD,
                                    "a country or language letter not A-Z");
        }

        out[i] = (char) ('A' + c);
    }

    out[2] = '\0';

    return consent_tcf_truncated(ctx);
}


/*
 * MaxVendorId (16), IsRangeEncoding (1), then a bit field or ranges: the
 * layout of vendor consents, vendor LI and the vendor segments.
 */

static int
consent_tcf_vendors(consent_tcf_ctx_t *ctx, consent_tcf_vendors_t *v)
{
    v->max_id = (unsigned) consent_bits_read(&ctx->bits, 16);
    v->range = (unsigned) consent_bits_read(&ctx->bits, 1);
    v->bits = NULL;

    if (consent_tcf_truncated(ctx) != 0) {
        return -1;
    }

    /*
     * Both encodings need the set sized by MaxVendorId, so a string can make
     * us allocate at most 8 KB a set; a bit field shorter than MaxVendorId
     * is refused before anything is allocated.
     */

    if (!v->range && consent_bits_left(&ctx->bits) < v->max_id) {
        ctx->bits.overrun = 1;
        return consent_tcf_truncated(ctx);
    }

    if (v->max_id) {
        v->bits = consent_tcf_alloc(ctx, (v->max_id + 7) / 8);
        if (v->bits == NULL) {
            return -1;
        }
    }

    if (v->range) {
        return consent_tcf_ranges(ctx, v);
    }

    return consent_tcf_bitfield(ctx, v);
}


static int
consent_tcf_bitfield(consent_tcf_ctx_t *ctx, consent_tcf_vendors_t *v)
{
    unsigned  i, n, rest;

    /* 8 bits at a time: bit (id - 1) MSB first is the string's own order */

    n = v->max_id / 8;
    rest = v->max_id % 8;

    for (i = 0; i < n; i++) {
        v->bits[i] = (unsigned char) consent_bits_read(&ctx->bits, 8);
    }

    if (rest) {
        v->bits[n] = (unsigned char)
                         (consent_bits_read(&ctx->bits, rest) << (8 - rest));
    }

    return consent_tcf_truncated(ctx);
}


/*
 * NumEntries (12), then entries of IsARange (1), StartOrOnlyVendorId (16)
 * and, for a range, EndVendorId (16).  Entries must ascend without
 * overlap: besides being what every encoder writes, that bounds the work
 * of setting bits by MaxVendorId however many entries a string claims.
 */

static int
consent_tcf_ranges(consent_tcf_ctx_t *ctx, consent_tcf_vendors_t *v)
{
    unsigned  n, i, is_range, start, end, id, last;

    n = (unsigned) consent_bits_read(&ctx->bits, 12);
    last = 0;

    /* 17 bits an entry at least: a count the string cannot hold is a cut */

    if (consent_bits_left(&ctx->bits) / 17 < n) {
        ctx->bits.overrun = 1;
    }

    for (i = 0; i < n; i++) {
        is_range = (unsigned) consent_bits_read(&ctx->bits, 1);
        start = (unsigned) consent_bits_read(&ctx->bits, 16);
        end = is_range ? (unsigned) consent_bits_read(&ctx->bits, 16) : start;

        if (consent_tcf_truncated(ctx) != 0) {
            return -1;
        }

        if (start == 0 || end < start) {
            return consent_tcf_fail(ctx, CONSENT_TCF_E_RANGE,
                                    "an empty vendor range, or vendor 0");
        }

        if (end > v->max_id) {
            return consent_tcf_fail(ctx, CONSENT_TCF_E_RANGE,
                                    "a vendor range past MaxVendorId");
        }

        if (start <= last) {
            return consent_tcf_fail(ctx, CONSENT_TCF_E_RANGE,
                                    "vendor ranges out of order");
        }

        for (id = start; id <= end; id++) {
            v->bits[(id - 1) / 8] |= (unsigned char) (0x80 >> ((id - 1) % 8));
        }

        last = end;
    }

    return consent_tcf_truncated(ctx);
}


/*
 * NumPubRestrictions (12), then per restriction PurposeId (6),
 * RestrictionType (2), NumEntries (12) and range entries as above, but
 * with no MaxVendorId to bound them and no order required: they are kept
 * as ranges, never expanded.
 */

static int
consent_tcf_restrictions(consent_tcf_ctx_t *ctx, consent_tcf_t *t)
{
    unsigned  i, n;

    n = (unsigned) consent_bits_read(&ctx->bits, 12);

    if (consent_tcf_truncated(ctx) != 0) {
        return -1;
    }

    /* each restriction takes 20 bits at least: no allocation for a lie */

    if (consent_bits_left(&ctx->bits) / 20 < n) {
        ctx->bits.overrun = 1;
        return consent_tcf_truncated(ctx);
    }

    t->nrestrictions = n;

    if (n == 0) {
        return 0;
    }

    t->restrictions = consent_tcf_alloc(ctx,
                                     n * sizeof(consent_tcf_restriction_t));
    if (t->restrictions == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (consent_tcf_restriction(ctx, &t->restrictions[i]) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
consent_tcf_restriction(consent_tcf_ctx_t *ctx, consent_tcf_restriction_t *r)
{
    unsigned  i, n, is_range;

    r->purpose = (unsigned) consent_bits_read(&ctx->bits, 6);
    r->type = (unsigned) consent_bits_read(&ctx->bits, 2);
    n = (unsigned) consent_bits_read(&ctx->bits, 12);

    if (consent_tcf_truncated(ctx) != 0) {
        return -1;
    }

    if (r->type > CONSENT_TCF_RESTRICT_LI) {
        return consent_tcf_fail(ctx, CONSENT_TCF_E_FIELD,
                                "restriction type 3 is undefined");
    }

    /* 17 bits an entry at least */

    if (consent_bits_left(&ctx->bits) / 17 < n) {
        ctx->bits.overrun = 1;
        return consent_tcf_truncated(ctx);
    }

    r->nranges = n;

    if (n == 0) {
        return 0;
    }

    r->ranges = consent_tcf_alloc(ctx, n * sizeof(consent_tcf_range_t));
    if (r->ranges == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        is_range = (unsigned) consent_bits_read(&ctx->bits, 1);
        r->ranges[i].start = (uint16_t) consent_bits_read(&ctx->bits, 16);
        r->ranges[i].end = is_range ? (uint16_t) consent_bits_read(&ctx->bits,
                                                                   16)
                                    : r->ranges[i].start;

        if (consent_tcf_truncated(ctx) != 0) {
            return -1;
        }

        if (r->ranges[i].start == 0 || r->ranges[i].end < r->ranges[i].start)
        {
            return consent_tcf_fail(ctx, CONSENT_TCF_E_RANGE,
                              "an empty restriction range, or vendor 0");
        }
    }

    return 0;
}


static int
consent_tcf_core(consent_tcf_ctx_t *ctx, consent_tcf_t *t)
{
    consent_bits_t  *b;

    b = &ctx->bits;

    t->version = (unsigned) consent_bits_read(b, 6);

    if (consent_tcf_truncated(ctx) != 0) {
        return -1;
    }

    if (t->version != CONSENT_TCF_VERSION) {
        return consent_tcf_fail(ctx, CONSENT_TCF_E_VERSION,
                                "TC string version is not 2");
    }

    t->created = consent_bits_read(b, 36);
    t->last_updated = consent_bits_read(b, 36);
    t->cmp_id = (unsigned) consent_bits_read(b, 12);
    t->cmp_version = (unsigned) consent_bits_read(b, 12);
    t->consent_screen = (unsigned) consent_bits_read(b, 6);

    if (consent_tcf_letters(ctx, t->language) != 0) {
        return -1;
    }

    t->vendor_list_version = (unsigned) consent_bits_read(b, 12);
    t->policy_version = (unsigned) consent_bits_read(b, 6);
    t->is_service_specific = (unsigned) consent_bits_read(b, 1);
    t->use_non_standard_texts = (unsigned) consent_bits_read(b, 1);
    t->special_features = (uint32_t) consent_bits_read(b, 12);
    t->purposes_consent = (uint32_t) consent_bits_read(b, 24);
    t->purposes_li = (uint32_t) consent_bits_read(b, 24);
    t->purpose_one_treatment = (unsigned) consent_bits_read(b, 1);

    if (consent_tcf_letters(ctx, t->publisher_cc) != 0
        || consent_tcf_vendors(ctx, &t->vendors_consent) != 0
        || consent_tcf_vendors(ctx, &t->vendors_li) != 0
        || consent_tcf_restrictions(ctx, t) != 0)
    {
        return -1;
    }

    return 0;
}


/*
 * The string sends purpose 1 first, as the most significant bit of the
 * field; the masks keep it as bit 0 so that CONSENT_TCF_HAS() reads
 * naturally.  Done once the whole string is read, for all masks.
 */

static uint64_t
consent_tcf_reverse(uint64_t v, unsigned n)
{
    unsigned  i;
    uint64_t  r;

    r = 0;

    for (i = 0; i < n; i++) {
        r = (r << 1) | (v & 1);
        v >>= 1;
    }

    return r;
}


static int
consent_tcf_publisher(consent_tcf_ctx_t *ctx, consent_tcf_t *t)
{
    consent_bits_t  *b;

    b = &ctx->bits;

    t->has_publisher = 1;
    t->pub_consent = (uint32_t) consent_bits_read(b, 24);
    t->pub_li = (uint32_t) consent_bits_read(b, 24);
    t->num_custom = (unsigned) consent_bits_read(b, 6);
    t->custom_consent = consent_bits_read(b, t->num_custom);
    t->custom_li = consent_bits_read(b, t->num_custom);

    return consent_tcf_truncated(ctx);
}


/* a segment after the core one: SegmentType (3), then its fields */

static int
consent_tcf_segment(consent_tcf_ctx_t *ctx, consent_tcf_t *t,
    unsigned *seen)
{
    unsigned               type;
    consent_tcf_vendors_t  allowed;

    type = (unsigned) consent_bits_read(&ctx->bits, 3);

    if (type > CONSENT_TCF_SEG_PUBLISHER) {
        return consent_tcf_fail(ctx, CONSENT_TCF_E_SEGMENT,
                                "an unknown TC string segment type");
    }

    if (*seen & (1u << type)) {
        return consent_tcf_fail(ctx, CONSENT_TCF_E_DUPLICATE,
                                "a TC string segment type twice");
    }

    *seen |= 1u << type;

    switch (type) {

    case CONSENT_TCF_SEG_DISCLOSED:
        return consent_tcf_vendors(ctx, &t->vendors_disclosed);

    case CONSENT_TCF_SEG_ALLOWED:
        /* no longer in the spec since v2.2: checked, then dropped */
        t->has_allowed = 1;
        return consent_tcf_vendors(ctx, &allowed);

    default: /* CONSENT_TCF_SEG_PUBLISHER */
        return consent_tcf_publisher(ctx, t);
    }
}


int
consent_tcf_decode(const unsigned char *p, size_t len,
    const consent_alloc_t *a, consent_tcf_t *tcf, consent_err_t *err)
{
    size_t             i, start;
    unsigned           seen;
    consent_tcf_t      t;
    consent_tcf_ctx_t  ctx;

    ctx.alloc = a;
    ctx.err = err;
    ctx.seg.data = p;
    ctx.seg.len = len;

    if (len == 0 || len > CONSENT_TCF_MAX_LEN) {
        return consent_tcf_fail(&ctx, CONSENT_TCF_E_LENGTH,
                                "TC string empty or too long");
    }

    /* filled aside and copied out whole, so that failure leaves *tcf be */

    memset(&t, 0, sizeof(consent_tcf_t));
    seen = 1u << CONSENT_TCF_SEG_CORE;     /* a type 0 later is a second one */
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != '.') {
            continue;
        }

        ctx.seg.data = p + start;
        ctx.seg.len = i - start;

        if (ctx.seg.len == 0) {
            return consent_tcf_fail(&ctx, CONSENT_TCF_E_SEGMENT,
                                    "an empty TC string segment");
        }

        if (consent_bits_init(&ctx.bits, ctx.seg.data, ctx.seg.len) != 0) {
            return consent_tcf_fail(&ctx, CONSENT_TCF_E_BASE64,
                                    "a byte outside base64url");
        }

        if (start == 0) {
            if (consent_tcf_core(&ctx, &t) != 0) {
                return -1;
            }

        } else if (consent_tcf_segment(&ctx, &t, &seen) != 0) {
            return -1;
        }

        start = i + 1;
    }

    if (!(seen & (1u << CONSENT_TCF_SEG_DISCLOSED))) {
        ctx.seg.data = p;
        ctx.seg.len = len;
        return consent_tcf_fail(&ctx, CONSENT_TCF_E_NO_DISCLOSED,
                                "no disclosed vendors segment (TCF v2.3)");
    }

    t.special_features = (uint32_t) consent_tcf_reverse(t.special_features,
                                                        12);
    t.purposes_consent = (uint32_t) consent_tcf_reverse(t.purposes_consent,
                                                        24);
    t.purposes_li = (uint32_t) consent_tcf_reverse(t.purposes_li, 24);
    t.pub_consent = (uint32_t) consent_tcf_reverse(t.pub_consent, 24);
    t.pub_li = (uint32_t) consent_tcf_reverse(t.pub_li, 24);
    t.custom_consent = consent_tcf_reverse(t.custom_consent, t.num_custom);
    t.custom_li = consent_tcf_reverse(t.custom_li, t.num_custom);

    *tcf = t;

    return 0;
}


int
consent_tcf_vendor(const consent_tcf_vendors_t *v, unsigned id)
{
    if (id == 0 || id > v->max_id || v->bits == NULL) {
        return 0;
    }

    return (v->bits[(id - 1) / 8] >> (7 - (id - 1) % 8)) & 1;
}
