/*
 * Copyright (C) ngx_consent_module authors
 *
 * Recording a visitor's decision in Redis, for the consent API: the
 * subject's record, a receipt and the invalidation in one MULTI/EXEC.
 * What is said to the visitor (cookie, answer) is the API's business.
 */


#ifndef _NGX_HTTP_CONSENT_RECORD_H_INCLUDED_
#define _NGX_HTTP_CONSENT_RECORD_H_INCLUDED_


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_vendor_choice.h"


#define NGX_HTTP_CONSENT_GRANT         0
#define NGX_HTTP_CONSENT_WITHDRAW      1


typedef struct {
    ngx_http_consent_wait_t     wait;

    consent_mask_t              purposes;       /* as chosen, necessary on */
    uint32_t                    policy_version;
    time_t                      now;
    ngx_str_t                   subject;        /* the record's key */
    ngx_str_t                   cookie_subject; /* the token's id */
    ngx_uint_t                  action;         /* GRANT or WITHDRAW */
    /* vendors refused one by one; NULL or empty: none */
    ngx_http_consent_vendor_choice_t  *vendors;
    /* 0 while waiting, then NGX_HTTP_OK or NGX_HTTP_SERVICE_UNAVAILABLE */
    ngx_uint_t                  status;
} ngx_http_consent_record_t;


/*
 * A write of purposes under policy_version for the request's subject (a
 * new random id when it has none a cookie can carry).  NGX_AGAIN: the
 * request waits and runs done once rec->status is known; NGX_DECLINED:
 * Redis is known down, rec->status says so, nothing was sent; NGX_ERROR.
 */
ngx_int_t ngx_http_consent_record_write(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_record_t *rec,
    ngx_http_event_handler_pt done);

/* the write's refused vendors as a set, or NULL */
consent_vendor_set_t *ngx_http_consent_record_vendors(
    ngx_http_consent_record_t *rec);

/* consent_record_ttl time|off */
char *ngx_http_consent_record_ttl(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* consent_receipts [retain=time|off] [ip=hash|off] */
char *ngx_http_consent_receipts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CONSENT_RECORD_H_INCLUDED_ */
