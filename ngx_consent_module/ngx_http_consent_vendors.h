/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_vendors: the rules' vendors grouped by purpose, with their
 * names, countries, privacy policy and opt-out pages, as JSON for a
 * banner (consent_core/vendors_json.h).  Built once per configuration.
 */


#ifndef _NGX_HTTP_CONSENT_VENDORS_H_INCLUDED_
#define _NGX_HTTP_CONSENT_VENDORS_H_INCLUDED_


#include "ngx_http_consent_module.h"


char *ngx_http_consent_vendors(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* after the rules compiled: the document, when a location serves it */
char *ngx_http_consent_vendors_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf);


#endif /* _NGX_HTTP_CONSENT_VENDORS_H_INCLUDED_ */
