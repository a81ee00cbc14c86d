/*
 * Copyright (C) ngx_consent_module authors
 *
 * Directives, configuration create/merge and phase registration.  Keys
 * (here) and rules (ngx_http_consent_rules.c) are read and checked
 * while the configuration is parsed, so that a bad line fails "nginx -t"
 * with its file and line.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_api.h"
#include "ngx_http_consent_expire.h"
#include "ngx_http_consent_csp.h"
#include "ngx_http_consent_gpc_json.h"
#include "ngx_http_consent_iab.h"
#include "ngx_http_consent_inval.h"
#include "ngx_http_consent_record.h"
#include "ngx_http_consent_request.h"
#include "ngx_http_consent_response.h"
#include "ngx_http_consent_rules.h"
#include "ngx_http_consent_upstream.h"
#include "ngx_http_consent_variables.h"
#include "ngx_http_consent_vendors.h"
#include "ngx_http_consent_vendor_choice.h"
#include "ngx_http_consent_policy.h"
#include "ngx_http_consent_provision.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_regime.h"


static ngx_int_t ngx_http_consent_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_consent_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_consent_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_consent_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_consent_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_consent_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static char *ngx_http_consent_purpose(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_consent_keys_cleanup(void *data);
static char *ngx_http_consent_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_consent_cookie(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_consent_subject(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static void *ngx_http_consent_pool_alloc(void *data, size_t size);
static void ngx_http_consent_rules_cleanup(void *data);


static ngx_conf_enum_t  ngx_http_consent_fail_policies[] = {
    { ngx_string("closed"), NGX_HTTP_CONSENT_FAIL_CLOSED },
    { ngx_string("open"), NGX_HTTP_CONSENT_FAIL_OPEN },
    { ngx_null_string, 0 }
};


static ngx_uint_t  ngx_http_consent_generation;

/* an entry holds up to 8 KB of strings: at most 512 MB a worker */
static ngx_conf_num_bounds_t  ngx_http_consent_iab_cache_bounds = {
    ngx_conf_check_num_bounds, 0, 65536
};


static ngx_command_t  ngx_http_consent_commands[] = {

    { ngx_string("consent"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_consent_loc_conf_t, enable),
      NULL },

    { ngx_string("consent_gpc"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_consent_loc_conf_t, gpc),
      NULL },

    { ngx_string("consent_region"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_consent_loc_conf_t, region),
      NULL },

    { ngx_string("consent_subject"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_consent_subject,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_purpose"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_purpose,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_rules"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_rules,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_rule"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3|NGX_CONF_TAKE4,
      ngx_http_consent_rule,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_keys"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_keys,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_consent_cookie,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_regime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_consent_regime,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_default_regime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_default_regime,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_regime_purposes"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_consent_regime_purposes,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_iab"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_consent_iab,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_iab_map"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_consent_iab_map,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_iab_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_consent_main_conf_t, iab_cache),
      &ngx_http_consent_iab_cache_bounds },

    { ngx_string("consent_csp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_consent_loc_conf_t, csp),
      NULL },

    { ngx_string("consent_csp_base"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_csp_base,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_vendors"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_consent_vendors,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_consent_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_redis_read"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_redis_read,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_write_replicas"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_consent_write_replicas,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_redis_fail"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_consent_main_conf_t, redis_fail),
      &ngx_http_consent_fail_policies },

    { ngx_string("consent_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_consent_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_expire_rejected"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_consent_loc_conf_t, expire_rejected),
      NULL },

    { ngx_string("consent_cookie_domain"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_consent_cookie_domain,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_public_suffix_list"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_public_suffix_list,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_permissions_policy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_consent_permissions_policy,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_require"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_consent_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_strip_args"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_consent_strip_args,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_upstream_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_upstream_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_policy_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_policy_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_gpc_json"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_consent_gpc_json,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_consent_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_policy_version"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_consent_policy_version,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_policy_next"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_consent_policy_next,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_receipts"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_consent_receipts,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_record_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_consent_record_ttl,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_clear_site_data"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_consent_clear_site_data,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_consent_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("consent_provision_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_consent_provision_log,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_consent_loc_conf_t, provision_log),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_consent_module_ctx = {
    ngx_http_consent_preconfiguration,     /* preconfiguration */
    ngx_http_consent_postconfiguration,    /* postconfiguration */

    ngx_http_consent_create_main_conf,     /* create main configuration */
    ngx_http_consent_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_consent_create_loc_conf,      /* create location configuration */
    ngx_http_consent_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_consent_module = {
    NGX_MODULE_V1,
    &ngx_http_consent_module_ctx,          /* module context */
    ngx_http_consent_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_consent_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_consent_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_consent_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_consent_add_variables(cf);
}


static ngx_int_t
ngx_http_consent_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_consent_request_init(cf) != NGX_OK
        || ngx_http_consent_provision_init(cf) != NGX_OK
        || ngx_http_consent_metrics_postconfiguration(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_consent_response_init(cf);
}


static void *
ngx_http_consent_pool_alloc(void *data, size_t size)
{
    return ngx_palloc((ngx_pool_t *) data, size);
}


static void
ngx_http_consent_rules_cleanup(void *data)
{
    consent_ruleset_free(data);
}


static void *
ngx_http_consent_create_main_conf(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t            *cln;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_consent_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->keys = NULL;
     *     cmcf->cookie_name = { 0, NULL };
     *     cmcf->regime_set[] = 0;
     *     cmcf->nrules = 0;
     */

    consent_purposes_init(&cmcf->purposes);
    consent_regions_init(&cmcf->regions);

    cmcf->default_regime = NGX_CONF_UNSET_UINT;
    cmcf->cookie_max_age = NGX_CONF_UNSET;
    cmcf->cookie_secure = NGX_CONF_UNSET_UINT;
    cmcf->redis_fail = NGX_CONF_UNSET_UINT;
    cmcf->receipts_retain = NGX_CONF_UNSET;
    cmcf->record_ttl = NGX_CONF_UNSET;
    cmcf->receipts_ip = NGX_CONF_UNSET;
    cmcf->iab_cache = NGX_CONF_UNSET;
    cmcf->write_replicas = NGX_CONF_UNSET_UINT;
    cmcf->write_wait = NGX_CONF_UNSET_MSEC;

    /* what workers keep per configuration goes with its generation */
    cmcf->generation = ++ngx_http_consent_generation;

    consent_iab_map_default(&cmcf->iab_map);

    cmcf->alloc.alloc = ngx_http_consent_pool_alloc;
    cmcf->alloc.data = cf->pool;

    cmcf->rules = consent_ruleset_create(&cmcf->alloc);
    if (cmcf->rules == NULL) {
        return NULL;
    }

    /* JIT code is not pool memory: without this a reload would leak it */
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_consent_rules_cleanup;
    cln->data = cmcf->rules;

    return cmcf;
}


static char *
ngx_http_consent_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_uint_t  i;
    char        err[256];

    ngx_conf_init_uint_value(cmcf->default_regime, CONSENT_REGIME_OPT_IN);
    ngx_conf_init_value(cmcf->cookie_max_age, 395 * 86400);
    ngx_conf_init_uint_value(cmcf->cookie_secure, NGX_HTTP_CONSENT_SECURE_AUTO);
    ngx_conf_init_uint_value(cmcf->redis_fail, NGX_HTTP_CONSENT_FAIL_CLOSED);
    ngx_conf_init_value(cmcf->receipts_retain, 0);
    ngx_conf_init_value(cmcf->record_ttl, 0);

    /*
     * A decision lives as long as its record: the signed cookie, issued
     * with it, is not to outlive it (else an expired record's decision
     * would still stand from the cookie).
     */
    if (cmcf->record_ttl && cmcf->record_ttl < cmcf->cookie_max_age) {
        cmcf->cookie_max_age = cmcf->record_ttl;
    }
    ngx_conf_init_value(cmcf->receipts_ip, 0);

    if (ngx_http_consent_redis_init_main(cf, cmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* the API records in Redis and answers with a signed cookie */
    if (cmcf->api_used && (cmcf->redis == NULL || cmcf->keys == NULL)) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"consent_api\" needs \"consent_redis\" and "
                      "\"consent_keys\"");
        return NGX_CONF_ERROR;
    }

    if (cmcf->cookie_name.data == NULL) {
        ngx_str_set(&cmcf->cookie_name, "consent");
    }

    /*
     * Browsers refuse a __Host- or __Secure- cookie without Secure, and
     * "auto" leaves Secure off behind a TLS-terminating load balancer.
     */
    if ((ngx_strncmp(cmcf->cookie_name.data, "__Host-", 7) == 0
         || ngx_strncmp(cmcf->cookie_name.data, "__Secure-", 9) == 0)
        && cmcf->cookie_secure != NGX_HTTP_CONSENT_SECURE_ON)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "consent cookie \"%V\" needs \"secure=on\": browsers "
                      "refuse a cookie with this prefix without Secure",
                      &cmcf->cookie_name);
        return NGX_CONF_ERROR;
    }

    /* custom purposes are all declared by now */
    for (i = 0; i < CONSENT_REGIMES; i++) {
        if (!cmcf->regime_set[i]) {
            cmcf->regime_purposes[i] =
                               consent_regime_default(&cmcf->purposes, i);
        }

        cmcf->regime_purposes[i] |= CONSENT_BIT(CONSENT_P_NECESSARY);
    }

    if (consent_ruleset_compile(cmcf->rules, err, sizeof(err)) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "consent rules: %s", err);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_consent_csp_init_main(cf, cmcf) != NGX_CONF_OK
        || ngx_http_consent_vendors_init_main(cf, cmcf) != NGX_CONF_OK
        || ngx_http_consent_vendor_choice_init_main(cf, cmcf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_consent_iab_init_main(cf, cmcf);
}


static void *
ngx_http_consent_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_consent_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_consent_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->region = NULL;
     *     conf->subject = NULL;
     *     conf->upstream_header = { 0, NULL };
     *     conf->policy_link = { 0, NULL };
     *     conf->gpc_json = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->gpc = NGX_CONF_UNSET;
    conf->subject_trusted = NGX_CONF_UNSET;
    conf->expire_rejected = NGX_CONF_UNSET;
    conf->cookie_domains = NGX_CONF_UNSET_PTR;
    conf->pp_features = NGX_CONF_UNSET_PTR;
    conf->require = NGX_CONF_UNSET_UINT;
    conf->require_status = NGX_CONF_UNSET_UINT;
    conf->strip_args = NGX_CONF_UNSET_PTR;
    conf->policy_version = NGX_CONF_UNSET_UINT;
    conf->reconsent_below = NGX_CONF_UNSET_UINT;
    conf->next_version = NGX_CONF_UNSET_UINT;
    conf->api = NGX_CONF_UNSET;
    conf->clear_site_data = NGX_CONF_UNSET_UINT;
    conf->iab = NGX_CONF_UNSET_PTR;
    conf->csp = NGX_CONF_UNSET;
    conf->provision_log = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_consent_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_consent_loc_conf_t *prev = parent;
    ngx_http_consent_loc_conf_t *conf = child;

    ngx_http_consent_main_conf_t  *cmcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->gpc, prev->gpc, 1);

    if (conf->region == NULL) {
        conf->region = prev->region;
    }

    if (conf->subject == NULL) {
        conf->subject = prev->subject;
        conf->subject_trusted = prev->subject_trusted;
    }

    ngx_conf_init_value(conf->subject_trusted, 0);

    ngx_conf_merge_value(conf->expire_rejected, prev->expire_rejected, 0);
    ngx_conf_merge_ptr_value(conf->cookie_domains, prev->cookie_domains,
                             NULL);

    if (ngx_http_consent_permissions_policy_merge(cf, prev, conf)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* a refusal nobody would ever enforce is a configuration mistake */
    if (conf->require != NGX_CONF_UNSET_UINT && !conf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"consent_require\" needs \"consent on\" for "
                           "its location");
        return NGX_CONF_ERROR;
    }

    /* consent_require is a location's own: not inherited */
    ngx_conf_merge_ptr_value(conf->strip_args, prev->strip_args, NULL);

    if (conf->upstream_header.data == NULL) {
        conf->upstream_header = prev->upstream_header;
        conf->upstream_header_lc = prev->upstream_header_lc;
    }

    if (conf->upstream_header.data == NULL) {
        ngx_str_set(&conf->upstream_header, "Consent");
        ngx_str_set(&conf->upstream_header_lc, "consent");
    }

    if (conf->policy_link.data == NULL) {
        conf->policy_link = prev->policy_link;
    }

    if (ngx_http_consent_policy_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_uint_value(conf->clear_site_data, prev->clear_site_data,
                              0);

    /* a content handler is a location's own */
    ngx_conf_init_value(conf->api, 0);

    ngx_conf_merge_ptr_value(conf->iab, prev->iab, NULL);

    ngx_conf_merge_value(conf->csp, prev->csp, 0);
    ngx_conf_merge_str_value(conf->csp_base, prev->csp_base, "");

    ngx_conf_merge_value(conf->provision_log, prev->provision_log, 0);

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);

    if (conf->provision_log && cmcf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"consent_provision_log\" needs \"consent_redis\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_consent_purpose(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_int_t   rc;
    ngx_str_t  *value;

    value = cf->args->elts;

    rc = consent_purposes_add(&cmcf->purposes, value[1].data, value[1].len);

    switch (rc) {

    case CONSENT_PURPOSE_FULL:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many purposes (at most %d in all)",
                           CONSENT_MAX_PURPOSES);
        return NGX_CONF_ERROR;

    case CONSENT_PURPOSE_INVALID:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid purpose name \"%V\" (lowercase letters, "
                           "digits and '_', at most %d)",
                           &value[1], CONSENT_PURPOSE_NAME_MAX);
        return NGX_CONF_ERROR;

    case CONSENT_PURPOSE_DUPLICATE:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate purpose \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_consent_add_purpose_variable(cf, (ngx_uint_t) rc)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_consent_keys_cleanup(void *data)
{
    consent_keyring_free(data);
}


static char *
ngx_http_consent_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_str_t           *value, name, content;
    consent_err_t        err;
    ngx_pool_cleanup_t  *cln;

    if (cmcf->keys) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_http_consent_read_file(cf, &name, &content) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cmcf->keys = ngx_pcalloc(cf->pool, sizeof(consent_keyring_t));
    if (cmcf->keys == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the ring holds OpenSSL contexts: freed, and wiped, with the cycle */
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_consent_keys_cleanup;
    cln->data = cmcf->keys;

    /* the cache of verified tokens comes from the cycle's pool */
    if (consent_keys_parse(content.data, content.len, cmcf->keys,
                           &cmcf->alloc, &err)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V:%ud: %s",
                           &name, err.line, err.msg);
        ngx_explicit_memzero(content.data, content.len);
        return NGX_CONF_ERROR;
    }

    /* the pool outlives parsing: do not leave key text lying in it */
    ngx_explicit_memzero(content.data, content.len);

    return NGX_CONF_OK;
}


static char *
ngx_http_consent_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    u_char      *p;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (cmcf->cookie_name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == ';' || *p == '=' || *p == ',') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cookie name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        return "has an empty cookie name";
    }

    cmcf->cookie_name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_age=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            cmcf->cookie_max_age = ngx_parse_time(&s, 1);
            if (cmcf->cookie_max_age == (time_t) NGX_ERROR
                || cmcf->cookie_max_age <= 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_age \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "secure=on") == 0) {
            cmcf->cookie_secure = NGX_HTTP_CONSENT_SECURE_ON;
            continue;
        }

        if (ngx_strcmp(value[i].data, "secure=off") == 0) {
            cmcf->cookie_secure = NGX_HTTP_CONSENT_SECURE_OFF;
            continue;
        }

        if (ngx_strcmp(value[i].data, "secure=auto") == 0) {
            cmcf->cookie_secure = NGX_HTTP_CONSENT_SECURE_AUTO;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" (max_age=TIME, "
                           "secure=on|off|auto)", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * consent_subject VALUE [trusted]: "trusted" says VALUE comes from
 * something the client cannot forge (auth_request, a verified JWT claim),
 * which the consent API needs before it reads or writes under it.
 */

static char *
ngx_http_consent_subject(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (lcf->subject) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "trusted") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" (trusted)",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        lcf->subject_trusted = 1;

    } else {
        lcf->subject_trusted = 0;
    }

    lcf->subject = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (lcf->subject == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = lcf->subject;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
