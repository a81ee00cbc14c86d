/*
 * Copyright (C) ngx_consent_module authors
 *
 * The decision itself: which purposes a visitor granted, and where that
 * came from, from inputs the caller gathered.  First that applies:
 *
 *   1. the subject's record (Redis, or the shared cache of it);
 *   2. the signed consent cookie's copy of the decision, also what stands
 *      when Redis cannot answer;
 *   3. a TC string of the visitor's CMP that the location trusts
 *      (consent_iab on; iab.h maps it), whether Redis answered or not:
 *      it is the visitor's own choice, where the fail policy is a guess;
 *   4. the default of the visitor's regime; with Redis unanswering and no
 *      cookie, the fail policy ("closed": only necessary).
 *
 * A decision given under a policy version below the re-consent floor
 * counts as none.  Then Sec-GPC, and the US opt-outs of GPP and US
 * Privacy strings, turn advertising and sharing off, and necessary is
 * always on.  No I/O, no allocation: the module and the
 * tests call the same function.
 */

#ifndef _CONSENT_DECIDE_H_INCLUDED_
#define _CONSENT_DECIDE_H_INCLUDED_


#include "consent_core.h"


/* where a decision came from: the values of $consent_source */
#define CONSENT_SRC_NONE            0
#define CONSENT_SRC_REDIS           1
#define CONSENT_SRC_CACHE           2
#define CONSENT_SRC_COOKIE          3
#define CONSENT_SRC_IAB             4
#define CONSENT_SRC_DEFAULT         5
#define CONSENT_SRC_FAIL            6

/* what asking for the subject's record gave */
#define CONSENT_RECORD_NONE         0     /* nobody to ask for, or no Redis */
#define CONSENT_RECORD_FOUND        1
#define CONSENT_RECORD_ABSENT       2     /* Redis has no record */
#define CONSENT_RECORD_FAILED       3     /* Redis could not answer */

typedef struct {
    consent_mask_t             all;          /* the configured purposes */
    consent_mask_t             regime;       /* the regime's default */
    uint32_t                   reconsent_below;
    unsigned                   fail_open:1;  /* consent_redis_fail open */
    unsigned                   gpc:1;        /* Sec-GPC: 1 was sent */
    unsigned                   honour_gpc:1;

    /* the signed cookie, when one verified */
    unsigned                   has_token:1;
    consent_mask_t             token_purposes;
    uint32_t                   token_version;
    int64_t                    token_issued;

    unsigned                   record:2;     /* CONSENT_RECORD_* */
    unsigned                   record_source:3;  /* REDIS or CACHE */
    consent_mask_t             record_purposes;
    uint32_t                   record_version;
    int64_t                    record_updated;

    /* a trusted TC string: the purposes consent_iab_purposes() gave */
    unsigned                   iab:1;
    consent_mask_t             iab_purposes;
    /* a GPP US section or US Privacy string opted out (consent_iab on) */
    unsigned                   us_opt_out:1;
} consent_decide_in_t;

typedef struct {
    consent_mask_t             purposes;     /* necessary always set */
    unsigned                   source:3;     /* CONSENT_SRC_* */
    /* a recorded decision (record or cookie) stands, given under version */
    unsigned                   recorded:1;
    /* one was found, but under a version below the re-consent floor */
    unsigned                   stale:1;
    /* the cookie's purposes are what stands */
    unsigned                   from_token:1;
    uint32_t                   policy_version;
    int64_t                    issued_at;
} consent_decision_t;


void consent_decide(const consent_decide_in_t *in, consent_decision_t *out);
const char *consent_source_name(unsigned source);


#endif /* _CONSENT_DECIDE_H_INCLUDED_ */
