/*
 * Copyright (C) ngx_consent_module authors
 *
 * Vendors a visitor refused one by one (consent_core/vendor_set.h): from
 * the consent API's choice to the record's names and the cookie's
 * hashes, and from a record or cookie back to the request's refusal set
 * (a bit a rules vendor, as strip, Set-Cookie and CSP read it).
 */


#ifndef _NGX_HTTP_CONSENT_VENDOR_CHOICE_H_INCLUDED_
#define _NGX_HTTP_CONSENT_VENDOR_CHOICE_H_INCLUDED_


#include "ngx_http_consent_module.h"
#include "vendor_set.h"


/* what a write keeps: the hashes and the names, joined by ',' */
typedef struct {
    consent_vendor_set_t        set;
    ngx_str_t                   names;
} ngx_http_consent_vendor_choice_t;


/* after the rules compiled: the vendors by hash */
char *ngx_http_consent_vendor_choice_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf);

/*
 * The choice's vendors that some granted purpose concerns (others are
 * refused with their purpose already) into vc.  NGX_OK; NGX_DECLINED
 * with *error set when more than CONSENT_VENDORS_REFUSED_MAX remain;
 * NGX_ERROR.
 */
ngx_int_t ngx_http_consent_vendor_choice(ngx_http_request_t *r,
    const consent_choice_t *ch, consent_mask_t purposes,
    ngx_http_consent_vendor_choice_t *vc, const char **error);

/*
 * A record's "vr" as a set from the pool, *set NULL when it names none.
 * NGX_OK; NGX_DECLINED for a "vr" the module did not write (more than
 * 128 names, or not names): every vendor is to be refused; NGX_ERROR.
 */
ngx_int_t ngx_http_consent_vendor_record(ngx_http_request_t *r,
    const consent_span_t *vr, consent_vendor_set_t **set);

/*
 * The refusal set the decision carries, from the set of the record or
 * the cookie (in its cookie form) that decided: *bits NULL when it
 * refuses no vendor of the rules.  NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_http_consent_vendor_bits(ngx_http_request_t *r,
    const consent_vendor_set_t *set, const ngx_str_t *cookie_form,
    u_char **bits);

/* the names of a refusal set as a JSON array, into p (size: _json_len) */
size_t ngx_http_consent_vendor_json_len(ngx_http_consent_main_conf_t *cmcf,
    const u_char *bits);
u_char *ngx_http_consent_vendor_json(u_char *p,
    ngx_http_consent_main_conf_t *cmcf, const u_char *bits);


#endif /* _NGX_HTTP_CONSENT_VENDOR_CHOICE_H_INCLUDED_ */
