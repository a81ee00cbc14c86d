/*
 * Copyright (C) ngx_consent_module authors
 *
 * The consent API's answers.
 */


#ifndef _NGX_HTTP_CONSENT_API_ANSWER_H_INCLUDED_
#define _NGX_HTTP_CONSENT_API_ANSWER_H_INCLUDED_


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_record.h"


/* the visitor's decision, as GET shows it */
ngx_int_t ngx_http_consent_api_state(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
/* {"error": ..., "field": ...} with the status */
ngx_int_t ngx_http_consent_api_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *field, const char *error);

/* after a confirmed write: the consent cookie, and the expiries */
ngx_int_t ngx_http_consent_api_cookie(ngx_http_request_t *r,
    ngx_http_consent_record_t *rec);
/* the rule-matched cookies sent that purposes or vendors (bits) refuse */
ngx_int_t ngx_http_consent_api_expire(ngx_http_request_t *r,
    consent_mask_t purposes, const u_char *vendors);


#endif /* _NGX_HTTP_CONSENT_API_ANSWER_H_INCLUDED_ */
