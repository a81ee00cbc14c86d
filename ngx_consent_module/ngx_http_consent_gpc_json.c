/*
 * Copyright (C) ngx_consent_module authors
 *
 * /.well-known/gpc.json (Global Privacy Control, section 4.2): the site
 * says it honours the GPC signal.  The body is built once, at
 * configuration time.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_gpc_json.h"


static ngx_int_t ngx_http_consent_gpc_json_handler(ngx_http_request_t *r);


static ngx_int_t
ngx_http_consent_gpc_json_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_consent_loc_conf_t  *lcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);

    return ngx_http_consent_send_json(r, NGX_HTTP_OK, lcf->gpc_json.data,
                                      lcf->gpc_json.len);
}


char *
ngx_http_consent_gpc_json(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    u_char                    *d;
    ngx_int_t                  y, m, day;
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    static ngx_int_t  days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };

    if (lcf->gpc_json.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        ngx_str_set(&lcf->gpc_json, "{\"gpc\": true}");

    } else {
        if (value[1].len != sizeof("last_update=YYYY-MM-DD") - 1
            || ngx_strncmp(value[1].data, "last_update=", 12) != 0)
        {
            goto invalid;
        }

        d = value[1].data + 12;

        if (d[4] != '-' || d[7] != '-') {
            goto invalid;
        }

        y = ngx_atoi(d, 4);
        m = ngx_atoi(d + 5, 2);
        day = ngx_atoi(d + 8, 2);

        if (y < 1970 || m < 1 || m > 12 || day < 1 || day > days[m - 1]
            || (m == 2 && day == 29
                && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
        {
            goto invalid;
        }

        lcf->gpc_json.len = sizeof("{\"gpc\": true, \"lastUpdate\": \"\"}") - 1
                            + 10;
        lcf->gpc_json.data = ngx_pnalloc(cf->pool, lcf->gpc_json.len);
        if (lcf->gpc_json.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(lcf->gpc_json.data,
                    "{\"gpc\": true, \"lastUpdate\": \"%*s\"}", (size_t) 10,
                    d);
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_consent_gpc_json_handler;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"%V\": expected last_update=YYYY-MM-DD",
                       &value[1]);
    return NGX_CONF_ERROR;
}
