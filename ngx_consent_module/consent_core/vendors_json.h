/*
 * Copyright (C) ngx_consent_module authors
 *
 * The rules' vendors as a banner shows them: grouped by purpose, each
 * with what its "@vendor" line says (name, controller, country, privacy
 * policy and opt-out pages, GVL id, domains), as one JSON document:
 *
 *   {"purposes":[{"purpose":"advertising","vendors":[{"id":"criteo",
 *   "name":"Criteo","country":"FR","policy":"https://...","optout":
 *   "https://...","gvl":91,"domains":["criteo.com"],"storage":["cto_*"]}]},
 *   ...]}
 *
 * A vendor is listed under each purpose it is there for (its purposes=,
 * else its rules' purposes; consent_ruleset_vendor_purposes()), never
 * under "necessary"; fields its line does not give are left out, and
 * "name" falls back to the id.  Purposes in their configured order,
 * vendors in the order the rules named them.
 */

#ifndef _CONSENT_VENDORS_JSON_H_INCLUDED_
#define _CONSENT_VENDORS_JSON_H_INCLUDED_


#include "consent_core.h"
#include "rules.h"


/*
 * Returns the document's length; writes it to out only when out is not
 * NULL and outlen holds it (call with NULL first to size the buffer).
 */
size_t consent_vendors_json(const consent_ruleset_t *rs,
    const consent_purposes_t *ps, unsigned char *out, size_t outlen);
/*
 * The same for the purposes of a mask only, leaving out the vendors whose
 * bit (by rules vendor id) skip has set (NULL: none): what a subject's
 * decision lets receive data, for a disclosure export.
 */
size_t consent_vendors_json_for(const consent_ruleset_t *rs,
    const consent_purposes_t *ps, consent_mask_t purposes,
    const unsigned char *skip, unsigned char *out, size_t outlen);


#endif /* _CONSENT_VENDORS_JSON_H_INCLUDED_ */
