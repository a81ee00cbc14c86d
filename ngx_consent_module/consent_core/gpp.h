/*
 * Copyright (C) ngx_consent_module authors
 *
 * The IAB Global Privacy Platform string (the __gpp cookie): a header,
 * then one section a region or framework, joined by '~'.  The header is
 * base64url bits: Type (6 bits, 3), Version (6 bits, 1) and the section
 * ids as a Range(Fibonacci), in the order the sections follow.  Each
 * section has its own encoding and its own sub-sections after '.':
 *   - 2 tcfeuv2: a TC string, decoded by consent_tcf_decode() (tcf.h);
 *   - 5 tcfcav1: IAB Canada's TCF (gpp_tcfca.c);
 *   - 6 uspv1: "1YNN", decoded by consent_usp_decode() (usp.h);
 *   - 7 usnat and the US states 8-27: one record shape, each section
 *     with its own list of fields (gpp_us.c).
 *
 * What the decoder refuses, so that a caller never acts on a string read
 * halfway: an empty string or one over CONSENT_GPP_MAX_LEN bytes, a byte
 * outside base64url, '.' and '~', a header whose Type is not 3 or whose
 * Version is not 1, a field or Fibonacci code cut short (a code that
 * never ends is cut short), ids past CONSENT_GPP_MAX_ID, more ids than
 * CONSENT_GPP_MAX_SECTIONS, a number of sections that is not the number
 * of ids, an empty section or sub-section, a section that its own
 * decoder refuses, a sub-section type twice.  Ids cannot repeat or go
 * down: each is a positive offset from the one before.
 *
 * What it skips, with a flag, rather than refuse: a section id it does
 * not know, and a known section with a Version it does not know (the
 * skipped bit, its text kept).  New US states get sections every few
 * months; refusing a whole string for one of them would throw away the
 * sections that we can read.  Likewise a sub-section of a type the
 * section does not define (sub_skipped): the spec adds sub-sections.
 *
 * Bits after a segment's last field are the encoder's padding and are
 * not looked at, as in tcf.h and the IAB's own library.
 */

#ifndef _CONSENT_GPP_H_INCLUDED_
#define _CONSENT_GPP_H_INCLUDED_


#include "consent_core.h"
#include "tcf.h"
#include "usp.h"


/*
 * The same limit as a TC string's: a GPP string carries one, and the
 * rest of it is small.  Browsers keep 4 KB a cookie, so this is room
 * for strings that come in headers or query strings too.
 */
#define CONSENT_GPP_MAX_LEN         16384
/* 27 ids are defined today; what one string may make us allocate */
#define CONSENT_GPP_MAX_SECTIONS    64
#define CONSENT_GPP_MAX_ID          65535

#define CONSENT_GPP_TYPE            3        /* the header's Type */
#define CONSENT_GPP_VERSION         1

/* section ids (the IAB's "Section Information") */
#define CONSENT_GPP_TCFEUV2         2
#define CONSENT_GPP_TCFCAV1         5
#define CONSENT_GPP_USPV1           6
#define CONSENT_GPP_USNAT           7
#define CONSENT_GPP_USCA            8
#define CONSENT_GPP_USVA            9
#define CONSENT_GPP_USCO            10
#define CONSENT_GPP_USUT            11
#define CONSENT_GPP_USCT            12
#define CONSENT_GPP_USFL            13
#define CONSENT_GPP_USMT            14
#define CONSENT_GPP_USOR            15
#define CONSENT_GPP_USTX            16
#define CONSENT_GPP_USDE            17
#define CONSENT_GPP_USIA            18
#define CONSENT_GPP_USNE            19
#define CONSENT_GPP_USNH            20
#define CONSENT_GPP_USNJ            21
#define CONSENT_GPP_USTN            22
#define CONSENT_GPP_USMN            23
#define CONSENT_GPP_USMD            24
#define CONSENT_GPP_USIN            25
#define CONSENT_GPP_USKY            26
#define CONSENT_GPP_USRI            27

/* err->code of consent_gpp_decode() */
#define CONSENT_GPP_E_LENGTH        1   /* empty, or over the maximum */
#define CONSENT_GPP_E_CHAR          2   /* not base64url, '.' or '~' */
#define CONSENT_GPP_E_HEADER        3   /* Type not 3, Version not 1 */
#define CONSENT_GPP_E_TRUNCATED     4   /* a field or code cut short */
#define CONSENT_GPP_E_IDS           5   /* an id too large, too many */
#define CONSENT_GPP_E_COUNT         6   /* sections are not as many as ids */
#define CONSENT_GPP_E_EMPTY         7   /* an empty section or sub-section */
#define CONSENT_GPP_E_SECTION       8   /* a section's fields refused */
#define CONSENT_GPP_E_DUPLICATE     9   /* a sub-section type twice */
#define CONSENT_GPP_E_TCFEU         10  /* consent_tcf_decode() refused */
#define CONSENT_GPP_E_USP           11  /* consent_usp_decode() refused */
#define CONSENT_GPP_E_NOMEM         12  /* the allocator failed */

/* err->code of consent_gpp_sid_parse() */
#define CONSENT_GPP_E_SID           13


/*
 * The fields of the US sections.  Each section carries some of them
 * (consent_gpp_us_t.has), each a 2-bit value as sent: 0 not applicable,
 * then 1 and 2 as the spec names them per field: a notice 1 given, 2 not;
 * an opt-out 1 opted out, 2 did not; a consent 1 no consent, 2 consent;
 * MspaCoveredTransaction 1 yes, 2 no; the Mspa modes 1 yes, 2 no.  3 is
 * not defined and is passed on as it came: a caller treats it as it
 * treats 0.
 */
#define CONSENT_GPP_SHARING_NOTICE                   0
#define CONSENT_GPP_SALE_OPT_OUT_NOTICE              1
#define CONSENT_GPP_SHARING_OPT_OUT_NOTICE           2
#define CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT_NOTICE  3
#define CONSENT_GPP_SENSITIVE_DATA_PROCESSING_OPT_OUT_NOTICE  4
#define CONSENT_GPP_SENSITIVE_DATA_LIMIT_USE_NOTICE  5
#define CONSENT_GPP_SENSITIVE_DATA_OPT_OUT_NOTICE    6   /* usia */
#define CONSENT_GPP_PROCESSING_NOTICE                7
#define CONSENT_GPP_SALE_OPT_OUT                     8
#define CONSENT_GPP_SHARING_OPT_OUT                  9
#define CONSENT_GPP_TARGETED_ADVERTISING_OPT_OUT     10
#define CONSENT_GPP_PERSONAL_DATA_CONSENTS           11
#define CONSENT_GPP_ADDITIONAL_DATA_PROCESSING_CONSENT  12
#define CONSENT_GPP_MSPA_COVERED_TRANSACTION         13
#define CONSENT_GPP_MSPA_OPT_OUT_OPTION_MODE         14
#define CONSENT_GPP_MSPA_SERVICE_PROVIDER_MODE       15
#define CONSENT_GPP_MSPA_MODE                        16  /* usin, usmd... */
#define CONSENT_GPP_US_FIELDS                        17

/* the lists: the longest today (usnat v2 16, usde and usnj 5) */
#define CONSENT_GPP_SENSITIVE_MAX   16
#define CONSENT_GPP_CHILD_MAX       5

#define CONSENT_GPP_NA              0
#define CONSENT_GPP_YES             1
#define CONSENT_GPP_NO              2

/* 1 when the section carries field f */
#define CONSENT_GPP_US_HAS(us, f)   (((us)->has >> (f)) & 1)

typedef struct {
    unsigned                   version;      /* or MspaVersion */
    uint32_t                   has;          /* bit f: carries field f */
    unsigned char              field[CONSENT_GPP_US_FIELDS];
    /*
     * SensitiveDataProcessing: 0 entries when the section has none, or
     * when it sits in an optional sub-section that is absent (usin,
     * usky, usri)
     */
    unsigned                   nsensitive;
    unsigned char              sensitive[CONSENT_GPP_SENSITIVE_MAX];
    /* KnownChildSensitiveDataConsents: a single value is 1 entry */
    unsigned                   nchild;
    unsigned char              child[CONSENT_GPP_CHILD_MAX];
    unsigned                   has_gpc:1;    /* a GPC sub-section came */
    unsigned                   gpc:1;
} consent_gpp_us_t;

/* a PubRestrictions entry of tcfcav1, its vendors as ranges */
typedef consent_tcf_restriction_t  consent_gpp_restriction_t;

/* tcfcav1: bit (id - 1) of each mask, as in tcf.h (CONSENT_TCF_HAS) */
typedef struct {
    /* core segment */
    unsigned                   version;      /* always 1 */
    uint64_t                   created;      /* deciseconds since 1970 */
    uint64_t                   last_updated;
    unsigned                   cmp_id;
    unsigned                   cmp_version;
    unsigned                   consent_screen;
    char                       language[3];  /* "EN", NUL-terminated */
    unsigned                   vendor_list_version;
    unsigned                   policy_version;
    unsigned                   use_non_standard_stacks:1;
    uint32_t                   special_features_express;   /* 12 bits */
    uint32_t                   purposes_express;           /* 24 bits */
    uint32_t                   purposes_implied;           /* 24 bits */
    consent_tcf_vendors_t      vendors_express;
    consent_tcf_vendors_t      vendors_implied;
    unsigned                   nrestrictions;
    consent_gpp_restriction_t *restrictions;

    /* disclosed vendors sub-section (type 1) */
    unsigned                   has_disclosed:1;
    consent_tcf_vendors_t      vendors_disclosed;

    /* publisher purposes sub-section (type 3) */
    unsigned                   has_publisher:1;
    uint32_t                   pub_express;                /* 24 bits */
    uint32_t                   pub_implied;
    unsigned                   num_custom;                 /* 0-63 */
    uint64_t                   custom_express;             /* num_custom */
    uint64_t                   custom_implied;
} consent_gpp_tcfca_t;

typedef struct {
    unsigned                   id;           /* CONSENT_GPP_* */
    consent_span_t             text;         /* the section as sent */
    unsigned                   skipped:1;    /* id or version unknown */
    unsigned                   sub_skipped:1;  /* a sub-section left out */
    union {
        consent_gpp_us_t       us;           /* 7-27 */
        consent_gpp_tcfca_t   *tcfca;        /* 5 */
        consent_tcf_t         *tcfeu;        /* 2 */
        consent_usp_t          usp;          /* 6 */
    }                          u;
} consent_gpp_section_t;

typedef struct {
    unsigned                   version;      /* the header's: 1 */
    unsigned                   nsections;    /* 0 for "DBAA" alone */
    consent_gpp_section_t     *sections;     /* ids ascending */
    unsigned                   nskipped;     /* sections with skipped */
} consent_gpp_t;


/*
 * Decodes a whole GPP string: 0 with *gpp filled (sections and what
 * they point to allocated from a, text spans pointing into p), or -1
 * with err (CONSENT_GPP_E_*, err->at the part at fault; for
 * CONSENT_GPP_E_TCFEU and _USP err->msg is the section decoder's) and
 * *gpp untouched.
 */
int consent_gpp_decode(const unsigned char *p, size_t len,
    const consent_alloc_t *a, consent_gpp_t *gpp, consent_err_t *err);
/*
 * The section ids the header of a GPP string lists, whatever follows it:
 * how many went to ids (at most nids), or -1 with err.  For a string
 * consent_gpp_decode() refuses, to know what it was about.
 */
int consent_gpp_header_ids(const unsigned char *p, size_t len, unsigned *ids,
    size_t nids, consent_err_t *err);
/* the section with that id, decoded (not skipped), or NULL */
const consent_gpp_section_t *consent_gpp_section(const consent_gpp_t *gpp,
    unsigned id);
/* "usnat" for 7; NULL for an id this file does not know */
const char *consent_gpp_section_name(unsigned id);

/*
 * __gpp_sid, the sections that apply: ids joined by ',' (the CMPs'
 * cookie and the gpp_sid URL parameter) or by '_' (the spec's in-app
 * IABGPP_GppSID), "-1" for none (the CMP API's applicableSections).
 * Ids 1..CONSENT_GPP_MAX_ID.  Returns how many went to ids (at most
 * nids; 0 for "-1"), or -1 with err (CONSENT_GPP_E_SID): empty, a
 * separator of each kind, an empty item, a byte not a digit, an id 0 or
 * too large, more than nids.
 */
int consent_gpp_sid_parse(const unsigned char *p, size_t len,
    unsigned *ids, size_t nids, consent_err_t *err);


#endif /* _CONSENT_GPP_H_INCLUDED_ */
