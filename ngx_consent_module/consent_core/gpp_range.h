/*
 * Copyright (C) ngx_consent_module authors
 *
 * GPP's Range(Fibonacci), shared by the header (the section ids) and
 * tcfcav1 (vendor sets, publisher restrictions): Int(12) entries, each a
 * bit (0 one id, 1 a group), the offset of its first id from the last
 * id before it (from 0 for the first) and, for a group, its length past
 * that id, all Fibonacci-coded.  Offsets and lengths are at least 1, so
 * the ids ascend and never repeat: no order check is needed.
 */

#ifndef _CONSENT_GPP_RANGE_H_INCLUDED_
#define _CONSENT_GPP_RANGE_H_INCLUDED_


#include "bits.h"


/* one entry, ids first..last; 0 to go on, a CONSENT_GPP_E_ code to stop */
typedef int (*consent_gpp_range_pt)(void *data, uint32_t first,
    uint32_t last);

/*
 * Reads one range, handing each entry to cb.  0, or a CONSENT_GPP_E_
 * code: _TRUNCATED (the bits end inside it), _IDS (an id past max, a
 * code past UINT32_MAX), or what cb returned.
 */
int consent_gpp_range_read(consent_bits_t *b, uint32_t max,
    consent_gpp_range_pt cb, void *data);


#endif /* _CONSENT_GPP_RANGE_H_INCLUDED_ */
