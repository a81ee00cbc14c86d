/*
 * Copyright (C) ngx_consent_module authors
 *
 * GPP section 5, tcfcav1: IAB Canada's TCF.  A core sub-section, then
 * optional ones after '.', each led by a 3-bit SubsectionType: 1
 * disclosed vendors, 3 publisher purposes.  Vendor sets are
 * OptimizedRanges (Int(16) MaxId, a bit, then a Range(Fibonacci) or a
 * bit field), publisher restrictions an N-ArrayOfRanges(6, 2) of them.
 * Strings of @iabgpp/cmpapi before 3.2, which wrote Range(Int) instead
 * of Range(Fibonacci) against the spec, are not read.
 */

#ifndef _CONSENT_GPP_TCFCA_H_INCLUDED_
#define _CONSENT_GPP_TCFCA_H_INCLUDED_


#include "gpp.h"


/*
 * Decodes s->text into s->u.tcfca (allocated from a), or sets s->skipped
 * for a Version other than 1.  0, or -1 with err.
 */
int consent_gpp_tcfca_decode(consent_gpp_section_t *s,
    const consent_alloc_t *a, consent_err_t *err);


#endif /* _CONSENT_GPP_TCFCA_H_INCLUDED_ */
