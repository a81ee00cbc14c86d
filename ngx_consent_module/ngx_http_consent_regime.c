/*
 * Copyright (C) ngx_consent_module authors
 *
 * Which law a visitor's region falls under, and what each regime grants
 * before any choice: consent_regime, consent_default_regime and
 * consent_regime_purposes.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_regime.h"


static ngx_int_t ngx_http_consent_parse_regime(ngx_conf_t *cf,
    ngx_str_t *name);


static ngx_int_t
ngx_http_consent_parse_regime(ngx_conf_t *cf, ngx_str_t *name)
{
    int  regime;

    regime = consent_regime_parse(name->data, name->len);

    if (regime < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown regime \"%V\" (opt_in, opt_out or notice)",
                           name);
        return NGX_ERROR;
    }

    return regime;
}


char *
ngx_http_consent_regime(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_int_t    regime;
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    regime = ngx_http_consent_parse_regime(cf, &value[1]);
    if (regime == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (consent_regions_set(&cmcf->regions, value[i].data, value[i].len,
                                (unsigned) regime)
            != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid region code \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_consent_default_regime(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_int_t   regime;
    ngx_str_t  *value;

    if (cmcf->default_regime != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    regime = ngx_http_consent_parse_regime(cf, &value[1]);
    if (regime == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    cmcf->default_regime = (ngx_uint_t) regime;

    return NGX_CONF_OK;
}


char *
ngx_http_consent_regime_purposes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    int              p;
    ngx_int_t        regime;
    ngx_str_t       *value;
    ngx_uint_t       i;
    consent_mask_t   mask;

    value = cf->args->elts;

    regime = ngx_http_consent_parse_regime(cf, &value[1]);
    if (regime == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (cmcf->regime_set[regime]) {
        return "is duplicate";
    }

    mask = CONSENT_BIT(CONSENT_P_NECESSARY);

    for (i = 2; i < cf->args->nelts; i++) {
        p = consent_purpose_find(&cmcf->purposes, value[i].data,
                                 value[i].len);
        if (p < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown purpose \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        mask |= CONSENT_BIT(p);
    }

    cmcf->regime_purposes[regime] = mask;
    cmcf->regime_set[regime] = 1;

    return NGX_CONF_OK;
}
