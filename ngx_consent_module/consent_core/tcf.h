/*
 * Copyright (C) ngx_consent_module authors
 *
 * The IAB Europe Transparency & Consent String, TCF v2.2 and v2.3 (the
 * euconsent-v2 cookie, and GPP section 2): the core segment, then
 * segments after '.', each led by a 3-bit SegmentType: 1 disclosed
 * vendors, 2 allowed vendors (gone from v2.2 on: checked and skipped),
 * 3 publisher TC.  Decoded from the string's own bits (bits.h); nothing
 * here knows the Global Vendor List.
 *
 * What the decoder refuses, so that a caller never acts on a string read
 * halfway: more than CONSENT_TCF_MAX_LEN bytes, a byte outside base64url,
 * a field cut short, Version not 2, a letter of ConsentLanguage or
 * PublisherCC that is not A-Z, range entries that are empty (end before
 * start), start at 0, pass MaxVendorId or do not ascend, restriction type
 * 3 (undefined), an empty or unknown segment, a segment type twice, and
 * since v2.3 a string without the disclosed vendors segment, which the
 * spec has made mandatory for every TC string.  Bits after the last field
 * of a segment are the encoder's padding and are not looked at.
 */

#ifndef _CONSENT_TCF_H_INCLUDED_
#define _CONSENT_TCF_H_INCLUDED_


#include "consent_core.h"


/*
 * Real strings are a few hundred bytes; 16 KB is room for a full GVL
 * bit field in three sections and many publisher restrictions, and keeps
 * what one header can make us allocate small (three 8 KB bit sets at
 * most, see consent_tcf_vendors_t).
 */
#define CONSENT_TCF_MAX_LEN         16384

#define CONSENT_TCF_VERSION         2
#define CONSENT_TCF_MAX_VENDOR      65535

/* bit (id - 1) of a purpose or special feature mask: purpose 1 is bit 0 */
#define CONSENT_TCF_HAS(mask, id)                                            \
    ((id) >= 1 && (id) <= 64 && (((uint64_t) (mask) >> ((id) - 1)) & 1))

/* err->code of consent_tcf_decode() */
#define CONSENT_TCF_E_LENGTH        1   /* empty, or over the maximum */
#define CONSENT_TCF_E_BASE64        2   /* a byte outside base64url */
#define CONSENT_TCF_E_TRUNCATED     3   /* a field passes the segment end */
#define CONSENT_TCF_E_VERSION       4   /* Version is not 2 */
#define CONSENT_TCF_E_FIELD         5   /* a letter not A-Z, type 3 */
#define CONSENT_TCF_E_RANGE         6   /* empty, 0, past max, unordered */
#define CONSENT_TCF_E_SEGMENT       7   /* empty, or an unknown type */
#define CONSENT_TCF_E_DUPLICATE     8   /* a segment type twice */
#define CONSENT_TCF_E_NO_DISCLOSED  9   /* v2.3: no disclosed vendors */
#define CONSENT_TCF_E_NOMEM         10  /* the allocator failed */


/*
 * A set of vendor ids 1..max_id, however the string encoded it: bit
 * (id - 1) of bits, most significant bit of each byte first.  bits is
 * NULL when max_id is 0.
 */
typedef struct {
    unsigned                   max_id;
    unsigned                   range:1;      /* was range-encoded */
    unsigned char             *bits;
} consent_tcf_vendors_t;

typedef struct {
    uint16_t                   start;
    uint16_t                   end;          /* start when a single id */
} consent_tcf_range_t;

/* one PubRestrictionEntry: a purpose, a type, the vendors it applies to */
typedef struct {
    unsigned                   purpose;      /* 0-63 as sent */
    unsigned                   type;         /* 0 not allowed, 1 consent,
                                                2 legitimate interest */
    unsigned                   nranges;
    consent_tcf_range_t       *ranges;       /* each start <= end, 1.. */
} consent_tcf_restriction_t;

#define CONSENT_TCF_RESTRICT_NOT_ALLOWED  0
#define CONSENT_TCF_RESTRICT_CONSENT      1
#define CONSENT_TCF_RESTRICT_LI           2

typedef struct {
    /* core segment */
    unsigned                   version;      /* always 2 */
    uint64_t                   created;      /* deciseconds since 1970 */
    uint64_t                   last_updated; /* deciseconds since 1970 */
    unsigned                   cmp_id;
    unsigned                   cmp_version;
    unsigned                   consent_screen;
    char                       language[3];  /* "EN", NUL-terminated */
    unsigned                   vendor_list_version;
    unsigned                   policy_version;
    unsigned                   is_service_specific:1;
    unsigned                   use_non_standard_texts:1;
    unsigned                   purpose_one_treatment:1;
    uint32_t                   special_features;    /* 12 bits, see HAS */
    uint32_t                   purposes_consent;    /* 24 bits */
    uint32_t                   purposes_li;         /* 24 bits */
    char                       publisher_cc[3];
    consent_tcf_vendors_t      vendors_consent;
    consent_tcf_vendors_t      vendors_li;
    unsigned                   nrestrictions;
    consent_tcf_restriction_t *restrictions;

    /* disclosed vendors segment (type 1): always there once decoded */
    consent_tcf_vendors_t      vendors_disclosed;

    /* publisher TC segment (type 3): zeros when has_publisher is 0 */
    unsigned                   has_publisher:1;
    unsigned                   has_allowed:1;    /* type 2 was skipped */
    uint32_t                   pub_consent;      /* 24 bits */
    uint32_t                   pub_li;           /* 24 bits */
    unsigned                   num_custom;       /* 0-63 */
    uint64_t                   custom_consent;   /* num_custom bits */
    uint64_t                   custom_li;
} consent_tcf_t;


/*
 * Decodes a whole TC string ("core.segment.segment"): 0 with *tcf filled
 * (its vendor sets and restrictions allocated from a), or -1 with err
 * (CONSENT_TCF_E_*, err->at the segment at fault) and *tcf untouched.
 */
int consent_tcf_decode(const unsigned char *p, size_t len,
    const consent_alloc_t *a, consent_tcf_t *tcf, consent_err_t *err);
/* 1 when vendor id has the bit in v */
int consent_tcf_vendor(const consent_tcf_vendors_t *v, unsigned id);


#endif /* _CONSENT_TCF_H_INCLUDED_ */
