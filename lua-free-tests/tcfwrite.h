/*
 * Copyright (C) ngx_consent_module authors
 *
 * The parts of a TC string the tests of the TCF decoder and of what the
 * IAB strings mean (test_tcf.c, test_iab.c) both write, with bitwrite.h's
 * writer: the core segment up to PublisherCC, vendor sections as a bit
 * field or as ranges, and what closes a string of no restrictions.
 */

#ifndef _CONSENT_TCFWRITE_H_INCLUDED_
#define _CONSENT_TCFWRITE_H_INCLUDED_


#include "bitwrite.h"


/* the core segment up to PublisherCC, fields as the tests want them */
typedef struct {
    unsigned   version;
    uint64_t   created;
    uint64_t   updated;
    unsigned   cmp_id;
    unsigned   cmp_version;
    unsigned   screen;
    unsigned   lang[2];
    unsigned   vlv;
    unsigned   policy;
    unsigned   flags;          /* service specific 1, non-standard 2, p1t 4 */
    uint32_t   sf;             /* as sent: purpose 1 most significant */
    uint32_t   pc;
    uint32_t   pli;
    unsigned   cc[2];
} tw_core_t;

static const tw_core_t  tw_core_default = {
    2, 17489088000ULL, 17489088001ULL, 880, 7, 1, { 4, 13 }, 48, 5, 1,
    0x800, 0xc00001, 0x400000, { 3, 4 }
};


static inline void
tw_core(const tw_core_t *c)
{
    tw_put(c->version, 6);
    tw_put(c->created, 36);
    tw_put(c->updated, 36);
    tw_put(c->cmp_id, 12);
    tw_put(c->cmp_version, 12);
    tw_put(c->screen, 6);
    tw_put(c->lang[0], 6);
    tw_put(c->lang[1], 6);
    tw_put(c->vlv, 12);
    tw_put(c->policy, 6);
    tw_put(c->flags & 1, 1);
    tw_put((c->flags >> 1) & 1, 1);
    tw_put(c->sf, 12);
    tw_put(c->pc, 24);
    tw_put(c->pli, 24);
    tw_put((c->flags >> 2) & 1, 1);
    tw_put(c->cc[0], 6);
    tw_put(c->cc[1], 6);
}


/* a bit field section of max ids, with the ids listed (0 ends the list) */

static inline void
tw_bitfield(unsigned max, const unsigned *ids)
{
    size_t  start, i;

    tw_put(max, 16);
    tw_put(0, 1);
    start = tw.n;

    for (i = 0; i < max; i++) {
        tw.bit[tw.n++] = 0;
    }

    for ( ; *ids; ids++) {
        tw.bit[start + *ids - 1] = 1;
    }
}


/* a range section: pairs start, end (end 0 for a single id) */

static inline void
tw_ranges(unsigned max, unsigned n, const unsigned *r)
{
    unsigned  i;

    tw_put(max, 16);
    tw_put(1, 1);
    tw_put(n, 12);

    for (i = 0; i < n; i++) {
        tw_put(r[2 * i + 1] != 0, 1);
        tw_put(r[2 * i], 16);
        if (r[2 * i + 1]) {
            tw_put(r[2 * i + 1], 16);
        }
    }
}


/*
 * The rest of a TC string after its vendor consents: no legitimate
 * interests, no restrictions, the core segment closed; then a disclosed
 * vendors segment of max ids, those listed set (0 ends the list)
 */

static inline void
tw_close(unsigned max, const unsigned *disclosed)
{
    static const unsigned  none[] = { 0 };

    tw_bitfield(0, none);
    tw_put(0, 12);
    tw_seg();
    tw_put(1, 3);
    tw_bitfield(max, disclosed);
    tw_seg();
}


#endif /* _CONSENT_TCFWRITE_H_INCLUDED_ */
