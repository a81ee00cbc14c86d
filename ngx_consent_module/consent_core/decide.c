/*
 * Copyright (C) ngx_consent_module authors
 *
 * The decision; see decide.h.
 */

#include <string.h>

#include "decide.h"


void
consent_decide(const consent_decide_in_t *in, consent_decision_t *out)
{
    memset(out, 0, sizeof(consent_decision_t));

    out->purposes = in->regime;
    out->source = CONSENT_SRC_DEFAULT;

    /* the signed cookie's copy of the decision beats the default */

    if (in->has_token) {
        out->policy_version = in->token_version;
        out->issued_at = in->token_issued;

        if (in->token_version < in->reconsent_below) {
            /* still this browser's id, but its choice is asked again */
            out->stale = 1;

        } else {
            /* bits of purposes this configuration does not know go */
            out->purposes = in->token_purposes & in->all;
            out->source = CONSENT_SRC_COOKIE;
            out->recorded = 1;
            out->from_token = 1;
        }
    }

    /* the authoritative record */

    switch (in->record) {

    case CONSENT_RECORD_FOUND:
        out->policy_version = in->record_version;
        out->issued_at = in->record_updated;
        out->from_token = 0;

        if (in->record_version < in->reconsent_below) {
            /* no decision, and neither is the cookie issued with it */
            out->purposes = in->regime;
            out->source = CONSENT_SRC_DEFAULT;
            out->recorded = 0;
            out->stale = 1;
            break;
        }

        out->purposes = in->record_purposes & in->all;
        out->source = in->record_source;
        out->recorded = 1;
        out->stale = 0;
        break;

    case CONSENT_RECORD_FAILED:

        /* closed: the cookie, else nothing optional; open: the default */
        if (out->from_token) {
            break;
        }

        out->source = CONSENT_SRC_FAIL;
        out->recorded = 0;
        out->purposes = in->fail_open ? in->regime
                                      : CONSENT_BIT(CONSENT_P_NECESSARY);
        break;

    default: /* NONE, ABSENT: the cookie or the default stands */
        break;
    }

    /* the CMP's TC string, where nothing recorded stands */
    if (in->iab
        && (out->source == CONSENT_SRC_DEFAULT
            || out->source == CONSENT_SRC_FAIL))
    {
        out->purposes = in->iab_purposes & in->all;
        out->source = CONSENT_SRC_IAB;
    }

    /* whatever the source, GPC is an opt-out of sale, sharing and ads */
    if ((in->gpc && in->honour_gpc) || in->us_opt_out) {
        out->purposes &= ~(CONSENT_BIT(CONSENT_P_ADVERTISING)
                           | CONSENT_BIT(CONSENT_P_SHARING));
    }

    out->purposes |= CONSENT_BIT(CONSENT_P_NECESSARY);
}


const char *
consent_source_name(unsigned source)
{
    static const char  *names[] = {
        "", "redis", "cache", "cookie", "iab", "default", "fail"
    };

    return source < sizeof(names) / sizeof(names[0]) ? names[source] : "";
}
