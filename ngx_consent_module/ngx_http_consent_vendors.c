/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_vendors; see ngx_http_consent_vendors.h.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_util.h"
#include "ngx_http_consent_vendors.h"

#include "vendors_json.h"


static ngx_int_t ngx_http_consent_vendors_handler(ngx_http_request_t *r);


char *
ngx_http_consent_vendors(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);
    cmcf->vendors_used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_consent_vendors_handler;

    return NGX_CONF_OK;
}


char *
ngx_http_consent_vendors_init_main(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf)
{
    size_t  len;

    if (!cmcf->vendors_used) {
        return NGX_CONF_OK;
    }

    len = consent_vendors_json(cmcf->rules, &cmcf->purposes, NULL, 0);

    cmcf->vendors_json.data = ngx_pnalloc(cf->pool, len);
    if (cmcf->vendors_json.data == NULL) {
        return NGX_CONF_ERROR;
    }

    cmcf->vendors_json.len = consent_vendors_json(cmcf->rules,
                                                  &cmcf->purposes,
                                                  cmcf->vendors_json.data,
                                                  len);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_consent_vendors_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_consent_main_conf_t  *cmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);

    return ngx_http_consent_send_json(r, NGX_HTTP_OK, cmcf->vendors_json.data,
                                      cmcf->vendors_json.len);
}
