/*
 * Copyright (C) ngx_consent_module authors
 *
 * Vendors refused one by one; see ngx_http_consent_vendor_choice.h.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_vendor_choice.h"


char *
ngx_http_consent_vendor_choice_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf)
{
    ngx_uint_t  i;

    cmcf->vendors_n = consent_ruleset_vendors(cmcf->rules);

    /*
     * What a refusal of a vendor can concern: its "@vendor purposes=" and
     * every purpose its rules name (a cookie rule under another purpose
     * than the line says is still its cookie), never necessary.
     */
    cmcf->vendor_refusable = ngx_palloc(cf->pool, (cmcf->vendors_n + 1)
                                                  * sizeof(consent_mask_t));
    if (cmcf->vendor_refusable == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < cmcf->vendors_n; i++) {
        cmcf->vendor_refusable[i] =
            (cmcf->vendor_purposes[i]
             | consent_ruleset_vendor_rule_purposes(cmcf->rules, i))
            & ~CONSENT_BIT(CONSENT_P_NECESSARY);
    }

    cmcf->vendor_index = ngx_palloc(cf->pool,
                                    (cmcf->vendors_n + 1) * sizeof(uint64_t));
    if (cmcf->vendor_index == NULL) {
        return NGX_CONF_ERROR;
    }

    consent_vendor_index(cmcf->rules, cmcf->vendor_index);

    cmcf->vendors_all = ngx_palloc(cf->pool, cmcf->vendors_n / 8 + 1);
    if (cmcf->vendors_all == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memset(cmcf->vendors_all, 0xff, cmcf->vendors_n / 8 + 1);

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_consent_vendor_choice(ngx_http_request_t *r,
    const consent_choice_t *ch, consent_mask_t purposes,
    ngx_http_consent_vendor_choice_t *vc, const char **error)
{
    u_char                        *p;
    size_t                         len, nlen;
    unsigned                       i, id;
    ngx_uint_t                     kept;
    consent_mask_t                 vp;
    const unsigned char           *name;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    ngx_memzero(&vc->set, sizeof(consent_vendor_set_t));
    ngx_str_null(&vc->names);

    len = 0;
    kept = 0;

    for (i = 0; i < ch->nvendors; i++) {
        id = ch->vendors[i];
        vp = cmcf->vendor_refusable[id];

        if ((vp & purposes) == 0) {
            continue;
        }

        if (++kept > CONSENT_VENDORS_REFUSED_MAX) {
            *error = "more than 128 vendors refused with their purposes "
                     "granted: refuse the purpose instead";
            return NGX_DECLINED;
        }

        (void) consent_ruleset_vendor(cmcf->rules, id, &nlen);
        len += nlen + 1;
    }

    if (kept == 0) {
        return NGX_OK;
    }

    vc->names.data = ngx_pnalloc(r->pool, len);
    if (vc->names.data == NULL) {
        return NGX_ERROR;
    }

    p = vc->names.data;

    for (i = 0; i < ch->nvendors; i++) {
        id = ch->vendors[i];
        vp = cmcf->vendor_refusable[id];

        if ((vp & purposes) == 0) {
            continue;
        }

        name = consent_ruleset_vendor(cmcf->rules, id, &nlen);

        if (p != vc->names.data) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, name, nlen);

        /* the set holds the hashes: two names may share one */
        (void) consent_vendor_set_add(&vc->set,
                                      consent_vendor_hash(name, nlen));
    }

    vc->names.len = p - vc->names.data;

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_vendor_record(ngx_http_request_t *r,
    const consent_span_t *vr, consent_vendor_set_t **set)
{
    unsigned               bad;
    consent_vendor_set_t  *vs;

    *set = NULL;

    if (vr->len == 0) {
        return NGX_OK;
    }

    vs = ngx_pcalloc(r->pool, sizeof(consent_vendor_set_t));
    if (vs == NULL) {
        return NGX_ERROR;
    }

    bad = 0;

    /*
     * The API and consentctl write at most 128 names: more, or what is not
     * a name, is someone else's writing.  What it meant cannot be known:
     * every vendor is refused (NGX_DECLINED), never one let through.
     */
    if (consent_vendor_set_names(vs, vr->data, vr->len, &bad) != 0 || bad) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "consent record: \"vr\" of more than %d vendors or "
                      "not vendor names: every vendor refused",
                      CONSENT_VENDORS_REFUSED_MAX);
        return NGX_DECLINED;
    }

    *set = vs->n ? vs : NULL;

    return NGX_OK;
}


ngx_int_t
ngx_http_consent_vendor_bits(ngx_http_request_t *r,
    const consent_vendor_set_t *set, const ngx_str_t *cookie_form,
    u_char **bits)
{
    u_char                        *b;
    consent_vendor_set_t          *decoded;
    ngx_http_consent_main_conf_t  *cmcf;

    *bits = NULL;

    if (cookie_form && cookie_form->len) {
        decoded = ngx_palloc(r->pool, sizeof(consent_vendor_set_t));
        if (decoded == NULL) {
            return NGX_ERROR;
        }

        /* signed, and its form checked when the token verified */
        if (consent_vendor_set_decode(decoded, cookie_form->data,
                                      cookie_form->len)
            != 0)
        {
            return NGX_ERROR;
        }

        set = decoded;
    }

    if (set == NULL || set->n == 0) {
        return NGX_OK;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    b = ngx_pcalloc(r->pool, cmcf->vendors_n / 8 + 1);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (consent_vendor_set_bits(set, cmcf->vendor_index, cmcf->vendors_n, b)
        != 0)
    {
        *bits = b;
    }

    return NGX_OK;
}


size_t
ngx_http_consent_vendor_json_len(ngx_http_consent_main_conf_t *cmcf,
    const u_char *bits)
{
    size_t      len, nlen;
    ngx_uint_t  i;

    len = 2;

    for (i = 0; bits && i < cmcf->vendors_n; i++) {
        if (CONSENT_IAB_BIT(bits, i)) {
            (void) consent_ruleset_vendor(cmcf->rules, i, &nlen);
            len += nlen + 3;
        }
    }

    return len;
}


u_char *
ngx_http_consent_vendor_json(u_char *p, ngx_http_consent_main_conf_t *cmcf,
    const u_char *bits)
{
    u_char               *start;
    size_t                nlen;
    ngx_uint_t            i;
    const unsigned char  *name;

    *p++ = '[';
    start = p;

    /* vendor ids are [A-Za-z0-9._-]: nothing to escape */

    for (i = 0; bits && i < cmcf->vendors_n; i++) {
        if (CONSENT_IAB_BIT(bits, i)) {
            name = consent_ruleset_vendor(cmcf->rules, i, &nlen);

            if (p != start) {
                *p++ = ',';
            }

            *p++ = '"';
            p = ngx_cpymem(p, name, nlen);
            *p++ = '"';
        }
    }

    *p++ = ']';

    return p;
}
