/*
 * Copyright (C) ngx_consent_module authors
 *
 * Vendors switched off at run time (<prefix>rules:disabled in Redis): a
 * switched-off vendor's rules match nothing.
 */


#ifndef _NGX_HTTP_CONSENT_OVERRIDES_H_INCLUDED_
#define _NGX_HTTP_CONSENT_OVERRIDES_H_INCLUDED_


#include "ngx_http_consent_module.h"


/* read the set again (once at a time) */
void ngx_http_consent_overrides_fetch(ngx_http_consent_main_conf_t *cmcf);
/* 1 when the vendor is switched off */
ngx_uint_t ngx_http_consent_vendor_disabled(ngx_uint_t vendor_id);
/* how many vendors are switched off (this worker's last answer) */
ngx_uint_t ngx_http_consent_overrides_active(void);
/* changes whenever the set read changes: for what is kept derived from it */
ngx_uint_t ngx_http_consent_overrides_generation(void);
/* the rule, or NULL when its vendor is switched off */
const consent_rule_t *ngx_http_consent_rule_active(const consent_rule_t *r);


#endif /* _NGX_HTTP_CONSENT_OVERRIDES_H_INCLUDED_ */
