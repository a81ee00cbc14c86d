/*
 * Copyright (C) ngx_consent_module authors
 *
 * The $consent_* variables.
 */


#ifndef _NGX_HTTP_CONSENT_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_CONSENT_VARIABLES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_http_consent_add_variables(ngx_conf_t *cf);
/* $consent_<purpose> for a purpose declared with consent_purpose */
ngx_int_t ngx_http_consent_add_purpose_variable(ngx_conf_t *cf,
    ngx_uint_t purpose);


#endif /* _NGX_HTTP_CONSENT_VARIABLES_H_INCLUDED_ */
