/*
 * Copyright (C) ngx_consent_module authors
 *
 * Permissions-Policy opt-outs of the browser's ad APIs, merged into what
 * the origin already sends: one header, the origin's members in their
 * order, "feature=()" in place of a member for one of ours, the rest of
 * ours appended, none twice.
 */

#ifndef _CONSENT_PERMISSIONS_POLICY_H_INCLUDED_
#define _CONSENT_PERMISSIONS_POLICY_H_INCLUDED_


#include "consent_core.h"


#define CONSENT_PP_FEATURES_MAX     32
#define CONSENT_PP_FEATURE_MAX      64

/* a feature name: lowercase letters, digits and '-', 1 to 64 */
int consent_pp_feature_valid(const unsigned char *p, size_t len);

/* an upper bound of what consent_pp_merge() writes */
size_t consent_pp_merge_size(const consent_span_t *values, size_t nvalues,
    const consent_span_t *features, size_t nfeatures);

/*
 * values: the origin's Permissions-Policy header values, in order (none is
 * fine); members are split on commas outside quotes and parentheses (RFC
 * 8941 lists) and trimmed; a member with unbalanced quotes or parentheses
 * or a byte outside visible ASCII (CR, LF and NUL among them) is dropped,
 * as a browser would drop the whole header for it.
 * Writes at most outlen bytes; returns the length written, or 0 if out
 * was too small (never with consent_pp_merge_size() bytes).
 */
size_t consent_pp_merge(const consent_span_t *values, size_t nvalues,
    const consent_span_t *features, size_t nfeatures, unsigned char *out,
    size_t outlen);


#endif /* _CONSENT_PERMISSIONS_POLICY_H_INCLUDED_ */
