/*
 * Copyright (C) ngx_consent_module authors
 *
 * Permissions-Policy merging; see permissions_policy.h.  Every write is
 * checked against the output's size: the bound is computed, and relied on
 * by the caller, but never trusted here.
 */

#include <string.h>

#include "permissions_policy.h"


typedef struct {
    unsigned char             *p;
    unsigned char             *end;
    int                        overflow;
} consent_out_t;


static void
consent_out(consent_out_t *o, const unsigned char *p, size_t len)
{
    if (o->overflow || (size_t) (o->end - o->p) < len) {
        o->overflow = 1;
        return;
    }

    memcpy(o->p, p, len);
    o->p += len;
}


int
consent_pp_feature_valid(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONSENT_PP_FEATURE_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


size_t
consent_pp_merge_size(const consent_span_t *values, size_t nvalues,
    const consent_span_t *features, size_t nfeatures)
{
    size_t  i, n;

    /*
     * A member of k >= 1 bytes gives at most k + 3 ("=()" after its key)
     * and a 2-byte separator: at most 6 k.
     */
    n = 0;

    for (i = 0; i < nvalues; i++) {
        n += 6 * values[i].len;
    }

    for (i = 0; i < nfeatures; i++) {
        n += features[i].len + 5;
    }

    return n;
}


/*
 * The end of the member starting at p: a ',' outside quotes and parens.
 * *valid: the member closes its quotes and parens and holds only visible
 * ASCII, spaces and tabs.  A browser drops a whole Permissions-Policy
 * that has one invalid member, ours with it, so such a member goes.
 */

static const unsigned char *
consent_pp_member_end(const unsigned char *p, const unsigned char *end,
    int *valid)
{
    int     quoted;
    size_t  depth;

    quoted = 0;
    depth = 0;
    *valid = 1;

    for ( /* void */ ; p < end; p++) {

        if ((*p < 0x20 && *p != '\t') || *p >= 0x7f) {
            *valid = 0;
        }

        if (quoted) {
            if (*p == '\\' && p + 1 < end) {
                p++;

                if ((*p < 0x20 && *p != '\t') || *p >= 0x7f) {
                    *valid = 0;
                }

            } else if (*p == '"') {
                quoted = 0;
            }

        } else if (*p == '"') {
            quoted = 1;

        } else if (*p == '(') {
            depth++;

        } else if (*p == ')') {
            if (depth == 0) {
                *valid = 0;

            } else {
                depth--;
            }

        } else if (*p == ',' && depth == 0) {
            break;
        }
    }

    if (quoted || depth) {
        *valid = 0;
    }

    return p;
}


size_t
consent_pp_merge(const consent_span_t *values, size_t nvalues,
    const consent_span_t *features, size_t nfeatures, unsigned char *out,
    size_t outlen)
{
    int                   valid;
    size_t                i, f;
    uint32_t              used;
    consent_out_t         o;
    const unsigned char  *p, *end, *m, *m_end, *k;

    static const unsigned char  sep[] = ", ";
    static const unsigned char  none[] = "=()";

    if (nfeatures > CONSENT_PP_FEATURES_MAX) {
        return 0;
    }

    o.p = out;
    o.end = out + outlen;
    o.overflow = 0;
    used = 0;

    for (i = 0; i < nvalues; i++) {
        p = values[i].data;
        end = p + values[i].len;

        while (p < end) {
            m = p;
            m_end = consent_pp_member_end(p, end, &valid);
            p = (m_end < end) ? m_end + 1 : end;

            while (m < m_end && (*m == ' ' || *m == '\t')) {
                m++;
            }

            while (m_end > m && (m_end[-1] == ' ' || m_end[-1] == '\t')) {
                m_end--;
            }

            if (m == m_end || !valid) {
                continue;
            }

            for (k = m; k < m_end && *k != '=' && *k != ';'; k++) {
                /* void */
            }

            for (f = 0; f < nfeatures; f++) {
                if ((size_t) (k - m) == features[f].len
                    && memcmp(m, features[f].data, features[f].len) == 0)
                {
                    break;
                }
            }

            if (f < nfeatures && (used & ((uint32_t) 1 << f))) {
                continue;                   /* a duplicate: dropped */
            }

            if (o.p > out) {
                consent_out(&o, sep, 2);
            }

            if (f < nfeatures) {
                used |= (uint32_t) 1 << f;
                consent_out(&o, m, k - m);
                consent_out(&o, none, 3);

            } else {
                consent_out(&o, m, m_end - m);
            }
        }
    }

    for (f = 0; f < nfeatures; f++) {
        if (used & ((uint32_t) 1 << f)) {
            continue;
        }

        if (o.p > out) {
            consent_out(&o, sep, 2);
        }

        consent_out(&o, features[f].data, features[f].len);
        consent_out(&o, none, 3);
    }

    return o.overflow ? 0 : (size_t) (o.p - out);
}
