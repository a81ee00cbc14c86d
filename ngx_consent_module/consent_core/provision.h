/*
 * Copyright (C) ngx_consent_module authors
 *
 * The provision log (consent_provision_log): for each subject, the first
 * and the last time a request of theirs carried a vendor's cookies to the
 * origin, the record of third-party provision a disclosure request asks
 * for.  Kept in Redis as one hash per subject, <prefix>pv:<id>, fields
 * "f:<vendor>" and "l:<vendor>" holding unix seconds; written at most
 * once a day per subject and vendor, which a memo of fixed size decides.
 */

#ifndef _CONSENT_PROVISION_H_INCLUDED_
#define _CONSENT_PROVISION_H_INCLUDED_


#include "consent_core.h"
#include "rules.h"
#include "strip.h"


#define CONSENT_PROVISION_F_FIRST      "f:"
#define CONSENT_PROVISION_F_LAST       "l:"
#define CONSENT_PROVISION_F_LEN        2

/*
 * The vendors whose cookies a Cookie header carries: a pair counts when a
 * rule for a purpose other than necessary matches its name (and active,
 * when given, keeps the rule); the consent cookie (keep) never counts.
 * Each vendor once: its bit in seen (room for every vendor of rs) marks
 * it, and its id is added to ids[*n] while *n < max (more are left out:
 * a request's work stays bounded).  Returns how many ids it added.
 */
unsigned consent_provision_scan(consent_ruleset_t *rs,
    const consent_scope_t *scope, consent_rule_active_pt active,
    void *active_data, const unsigned char *keep, size_t keep_len,
    const unsigned char *p, size_t len, unsigned char *seen, uint16_t *ids,
    unsigned *n, unsigned max);

/*
 * The memo: a table of nslots words, one per (subject, vendor) hashed to
 * a slot, each remembering the day of the last write.  A slot another
 * pair took over only costs a write more.  The word is never 0, so a
 * zeroed table remembers nothing.
 */
typedef struct {
    uint64_t                   word;
    size_t                     slot;
} consent_provision_memo_t;

void consent_provision_memo_key(const unsigned char *subject,
    size_t subject_len, const unsigned char *vendor, size_t vendor_len,
    int64_t now, size_t nslots, consent_provision_memo_t *m);


#endif /* _CONSENT_PROVISION_H_INCLUDED_ */
