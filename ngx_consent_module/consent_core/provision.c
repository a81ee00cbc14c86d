/*
 * Copyright (C) ngx_consent_module authors
 *
 * The provision log's pure part: which vendors a Cookie header carries,
 * and the memo that keeps a subject's log to one write a day per vendor.
 */

#include <string.h>

#include "provision.h"


#define CONSENT_FNV64_BASIS            0xcbf29ce484222325ULL
#define CONSENT_FNV64_PRIME            0x100000001b3ULL
#define CONSENT_DAY                    86400


static uint64_t consent_fnv64(uint64_t h, const unsigned char *p, size_t n);


unsigned
consent_provision_scan(consent_ruleset_t *rs, const consent_scope_t *scope,
    consent_rule_active_pt active, void *active_data,
    const unsigned char *keep, size_t keep_len, const unsigned char *p,
    size_t len, unsigned char *seen, uint16_t *ids, unsigned *n,
    unsigned max)
{
    unsigned               added, bit;
    consent_cookie_t       c;
    const consent_rule_t  *rule;
    consent_cookie_iter_t  it;

    added = 0;

    consent_cookie_iter_init(&it, p, len);

    while (*n < max && consent_cookie_next(&it, &c)) {
        if (c.name_len == 0
            || (c.name_len == keep_len && memcmp(c.name, keep, keep_len) == 0))
        {
            continue;
        }

        rule = consent_ruleset_match_in(rs, scope, c.name, c.name_len);

        if (rule && active) {
            rule = active(active_data, rule);
        }

        if (rule == NULL || rule->purpose == CONSENT_P_NECESSARY) {
            continue;
        }

        bit = 1u << (rule->vendor_id & 7);

        if (!(seen[rule->vendor_id >> 3] & bit)) {
            seen[rule->vendor_id >> 3] |= bit;
            ids[(*n)++] = rule->vendor_id;
            added++;
        }
    }

    return added;
}


/*
 * FNV-1a over subject, a separator no id or vendor name has, and vendor,
 * then mixed (the splitmix64 finaliser) so that slot and word use
 * independent bits.  The word keeps 48 bits of hash and 16 of the day
 * (a day number repeats after 179 years).
 */

void
consent_provision_memo_key(const unsigned char *subject, size_t subject_len,
    const unsigned char *vendor, size_t vendor_len, int64_t now,
    size_t nslots, consent_provision_memo_t *m)
{
    uint64_t  h, day;

    h = consent_fnv64(CONSENT_FNV64_BASIS, subject, subject_len);
    h = consent_fnv64(h, (const unsigned char *) "\n", 1);
    h = consent_fnv64(h, vendor, vendor_len);

    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;

    day = (uint64_t) (now < 0 ? 0 : now / CONSENT_DAY);

    m->word = (h & 0xffffffffffff0000ULL) | (day & 0xffff);
    if (m->word == 0) {
        m->word = 1;
    }

    m->slot = nslots ? (size_t) ((h & 0xffffffffULL) % nslots) : 0;
}


static uint64_t
consent_fnv64(uint64_t h, const unsigned char *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= CONSENT_FNV64_PRIME;
    }

    return h;
}
