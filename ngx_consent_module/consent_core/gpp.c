/*
 * Copyright (C) ngx_consent_module authors
 *
 * The GPP string (gpp.h): its bytes, its header, its sections split on
 * '~' and handed to each one's decoder.  The header is read, and the
 * sections counted, before anything is allocated, so a string refused
 * for its shape costs no memory.
 */

#include <string.h>

#include "bits.h"
#include "gpp.h"
#include "gpp_range.h"
#include "gpp_tcfca.h"
#include "gpp_us.h"


typedef struct {
    unsigned                   ids[CONSENT_GPP_MAX_SECTIONS];
    unsigned                   n;
} consent_gpp_ids_t;


static const char  *consent_gpp_names[] = {
    NULL, NULL, "tcfeuv2", NULL, NULL, "tcfcav1", "uspv1", "usnat",
    "usca", "usva", "usco", "usut", "usct", "usfl", "usmt", "usor", "ustx",
    "usde", "usia", "usne", "usnh", "usnj", "ustn", "usmn", "usmd", "usin",
    "usky", "usri"
};


static int
consent_gpp_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
           || c == '~';
}


static int
consent_gpp_add_ids(void *data, uint32_t first, uint32_t last)
{
    uint32_t            id;
    consent_gpp_ids_t  *ids;

    ids = data;

    /* a group may span millions of ids: count before expanding it */
    if (last - first >= CONSENT_GPP_MAX_SECTIONS - ids->n) {
        return CONSENT_GPP_E_IDS;
    }

    for (id = first; id <= last; id++) {
        ids->ids[ids->n++] = id;
    }

    return 0;
}


static int
consent_gpp_header(const unsigned char *p, size_t len, unsigned *version,
    consent_gpp_ids_t *ids, consent_err_t *err)
{
    int             rc;
    consent_bits_t  b;

    if (len == 0) {
        return consent_fail(err, CONSENT_GPP_E_EMPTY, "empty header",
                            p, len);
    }

    if (consent_bits_init(&b, p, len) != 0) {
        return consent_fail(err, CONSENT_GPP_E_CHAR,
                            "header not base64url", p, len);
    }

    if (consent_bits_read(&b, 6) != CONSENT_GPP_TYPE) {
        return consent_fail(err, CONSENT_GPP_E_HEADER,
                            "header Type not 3", p, len);
    }

    *version = (unsigned) consent_bits_read(&b, 6);

    if (*version != CONSENT_GPP_VERSION) {
        return consent_fail(err, b.overrun ? CONSENT_GPP_E_TRUNCATED
                            : CONSENT_GPP_E_HEADER,
                            "header Version not 1", p, len);
    }

    ids->n = 0;

    rc = consent_gpp_range_read(&b, CONSENT_GPP_MAX_ID, consent_gpp_add_ids,
                                ids);

    if (rc == CONSENT_GPP_E_TRUNCATED) {
        return consent_fail(err, rc, "header cut short", p, len);
    }

    if (rc != 0) {
        return consent_fail(err, rc, "header section ids too large or"
                            " too many", p, len);
    }

    return 0;
}


/* one section, by its id: 0, or -1 with err */

static int
consent_gpp_section_decode(consent_gpp_section_t *s,
    const consent_alloc_t *a, consent_err_t *err)
{
    consent_err_t  e;

    switch (s->id) {

    case CONSENT_GPP_TCFEUV2:
        s->u.tcfeu = a->alloc(a->data, sizeof(consent_tcf_t));
        if (s->u.tcfeu == NULL) {
            return consent_fail(err, CONSENT_GPP_E_NOMEM,
                                "out of memory", s->text.data,
                                s->text.len);
        }

        if (consent_tcf_decode(s->text.data, s->text.len, a, s->u.tcfeu, &e)
            != 0)
        {
            /* out of memory is not the string's fault: say so */
            return consent_fail(err, (e.code == CONSENT_TCF_E_NOMEM)
                                     ? CONSENT_GPP_E_NOMEM
                                     : CONSENT_GPP_E_TCFEU,
                                e.msg, e.at.data, e.at.len);
        }

        return 0;

    case CONSENT_GPP_TCFCAV1:
        return consent_gpp_tcfca_decode(s, a, err);

    case CONSENT_GPP_USPV1:
        if (consent_usp_decode(s->text.data, s->text.len, &s->u.usp, &e)
            != 0)
        {
            return consent_fail(err, CONSENT_GPP_E_USP, e.msg,
                                e.at.data, e.at.len);
        }

        return 0;
    }

    if (consent_gpp_us_known(s->id)) {
        return consent_gpp_us_decode(s, err);
    }

    /* an id to come: kept, not read */
    s->skipped = 1;

    return 0;
}


int
consent_gpp_decode(const unsigned char *p, size_t len,
    const consent_alloc_t *a, consent_gpp_t *gpp, consent_err_t *err)
{
    size_t                  i, n, tildes;
    unsigned                version, skipped;
    consent_gpp_ids_t       ids;
    const unsigned char    *end, *q, *t;
    consent_gpp_section_t  *sections, *s;

    if (len == 0 || len > CONSENT_GPP_MAX_LEN) {
        return consent_fail(err, CONSENT_GPP_E_LENGTH,
                            len ? "GPP string too long"
                            : "empty GPP string", p, len);
    }

    tildes = 0;

    for (i = 0; i < len; i++) {
        if (!consent_gpp_char(p[i])) {
            return consent_fail(err, CONSENT_GPP_E_CHAR,
                                "a byte not base64url, '.' or '~'",
                                p + i, 1);
        }

        tildes += (p[i] == '~');
    }

    end = p + len;
    t = memchr(p, '~', len);
    q = t ? t : end;

    /* set by the header on success; the compiler cannot see that */
    version = 0;

    if (consent_gpp_header(p, q - p, &version, &ids, err) != 0) {
        return -1;
    }

    if (ids.n != tildes) {
        return consent_fail(err, CONSENT_GPP_E_COUNT,
                            ids.n > tildes ? "fewer sections than ids"
                            : "more sections than ids",
                            p, len);
    }

    sections = NULL;
    skipped = 0;

    if (ids.n) {
        sections = a->alloc(a->data, ids.n * sizeof(consent_gpp_section_t));
        if (sections == NULL) {
            return consent_fail(err, CONSENT_GPP_E_NOMEM, "out of memory",
                                p, len);
        }

        memset(sections, 0, ids.n * sizeof(consent_gpp_section_t));
    }

    for (n = 0; n < ids.n; n++) {
        /* there are as many '~' as ids: t is one */
        q = t + 1;
        t = memchr(q, '~', end - q);

        s = &sections[n];
        s->id = ids.ids[n];
        s->text.data = q;
        s->text.len = (t ? t : end) - q;

        if (s->text.len == 0) {
            return consent_fail(err, CONSENT_GPP_E_EMPTY,
                                "empty section", q, 0);
        }

        if (consent_gpp_section_decode(s, a, err) != 0) {
            return -1;
        }

        skipped += s->skipped;
    }

    gpp->version = version;
    gpp->nsections = ids.n;
    gpp->sections = sections;
    gpp->nskipped = skipped;

    return 0;
}


int
consent_gpp_header_ids(const unsigned char *p, size_t len, unsigned *ids,
    size_t nids, consent_err_t *err)
{
    size_t              i;
    unsigned            version;
    consent_gpp_ids_t   all;
    const unsigned char *t;

    t = memchr(p, '~', len);

    if (consent_gpp_header(p, t ? (size_t) (t - p) : len, &version, &all,
                           err)
        != 0)
    {
        return -1;
    }

    for (i = 0; i < all.n && i < nids; i++) {
        ids[i] = all.ids[i];
    }

    return (int) i;
}


const consent_gpp_section_t *
consent_gpp_section(const consent_gpp_t *gpp, unsigned id)
{
    unsigned  i;

    for (i = 0; i < gpp->nsections; i++) {
        if (gpp->sections[i].id == id) {
            return gpp->sections[i].skipped ? NULL : &gpp->sections[i];
        }
    }

    return NULL;
}


const char *
consent_gpp_section_name(unsigned id)
{
    if (id >= sizeof(consent_gpp_names) / sizeof(consent_gpp_names[0])) {
        return NULL;
    }

    return consent_gpp_names[id];
}
