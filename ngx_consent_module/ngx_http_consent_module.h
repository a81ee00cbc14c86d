/*
 * Copyright (C) ngx_consent_module authors
 *
 * The module's own types: its configuration (main and location) and the
 * per-request context every concern reads.  Functions are declared in
 * each concern's header (ngx_http_consent_<concern>.h).
 */


#ifndef _NGX_HTTP_CONSENT_MODULE_H_INCLUDED_
#define _NGX_HTTP_CONSENT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "consent_core.h"
#include "rules.h"
#include "decide.h"
#include "iab.h"
#include "keys.h"
#include "psl.h"

#include "ngx_http_consent_cache.h"
#include "ngx_http_consent_redis.h"
#include "ngx_http_consent_util.h"
#include "ngx_http_consent_wait.h"


#define NGX_HTTP_CONSENT_FAIL_CLOSED   0
#define NGX_HTTP_CONSENT_FAIL_OPEN     1

#define NGX_HTTP_CONSENT_SECURE_OFF    0
#define NGX_HTTP_CONSENT_SECURE_ON     1
#define NGX_HTTP_CONSENT_SECURE_AUTO   2


typedef struct {
    consent_purposes_t          purposes;
    consent_regions_t           regions;
    consent_mask_t              regime_purposes[CONSENT_REGIMES];
    unsigned                    regime_set[CONSENT_REGIMES];
    ngx_uint_t                  default_regime;

    consent_alloc_t             alloc;
    consent_ruleset_t          *rules;
    ngx_uint_t                  nrules;

    consent_keyring_t          *keys;
    ngx_str_t                   cookie_name;
    time_t                      cookie_max_age;
    ngx_uint_t                  cookie_secure;

    consent_psl_t              *psl;

    ngx_http_consent_redis_conf_t  *redis;
    ngx_uint_t                  redis_fail;
    /* consent_redis_read, consent_write_replicas: for redis, at init */
    ngx_addr_t                 *redis_read;
    ngx_uint_t                  write_replicas;
    ngx_msec_t                  write_wait;
    ngx_shm_zone_t             *zone;

    /* indexes of $http_cookie and $cookie_*, forgotten once stripped */
    ngx_array_t                *cookie_variables;

    /* consent_receipts: the stream's retention (0: kept) and IP hashing */
    time_t                      receipts_retain;
    ngx_flag_t                  receipts_ip;
    /* consent_record_ttl: seconds from the last decision, 0 kept */
    time_t                      record_ttl;
    ngx_uint_t                  api_used;

    /* consent_iab_map (purposes set by a directive), consent_iab_cache */
    consent_iab_map_t           iab_map;
    consent_mask_t              iab_map_set;
    ngx_int_t                   iab_cache;
    /* the GVL id of each rules vendor; nvendors 0 when none has one */
    uint16_t                   *vendor_gvl;
    ngx_uint_t                  nvendors;

    /* each rules vendor's purposes; their domains, sorted (consent_csp) */
    consent_mask_t             *vendor_purposes;
    ngx_array_t                *csp_domains;

    /* this configuration among those the process loaded: 1, 2... */
    ngx_uint_t                  generation;

    /* the rules' vendors by name hash; every bit set, if memory runs out */
    uint64_t                   *vendor_index;
    /* the purposes a refusal of each vendor concerns */
    consent_mask_t             *vendor_refusable;
    u_char                     *vendors_all;
    ngx_uint_t                  vendors_n;

    /* consent_metrics: the counters, when a location shows them */
    ngx_shm_zone_t             *metrics_zone;
    /* consent_provision_log: the once-a-day memo, when a place has it */
    ngx_shm_zone_t             *provision_zone;
    /* consent_vendors: the vendor list, built once */
    ngx_uint_t                  vendors_used;
    ngx_str_t                   vendors_json;
} ngx_http_consent_main_conf_t;


/* consent_strip_args: one name, or a prefix, refused with a purpose */
typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  purpose;
    unsigned                    prefix:1;
} ngx_http_consent_arg_t;


typedef struct {
    ngx_flag_t                  enable;
    ngx_flag_t                  gpc;
    ngx_http_complex_value_t   *region;
    ngx_http_complex_value_t   *subject;
    ngx_flag_t                  subject_trusted;

    ngx_flag_t                  expire_rejected;
    ngx_array_t                *cookie_domains;   /* consent_span_t */

    /* consent_permissions_policy: NULL for off */
    ngx_array_t                *pp_features;      /* consent_span_t */
    ngx_str_t                   pp_value;

    /* consent_require: the purposes, or NGX_CONF_UNSET_UINT */
    ngx_uint_t                  require;
    ngx_uint_t                  require_status;

    ngx_array_t                *strip_args;       /* ngx_http_consent_arg_t */

    /* consent_upstream_header: empty for off, unset data for default */
    ngx_str_t                   upstream_header;
    ngx_str_t                   upstream_header_lc;

    /* consent_policy_url: the whole Link value, or empty */
    ngx_str_t                   policy_link;

    ngx_str_t                   gpc_json;         /* the response body */

    /* consent_policy_version N [reconsent_below=M] */
    ngx_uint_t                  policy_version;
    ngx_uint_t                  reconsent_below;
    /* consent_policy_next: 0 none, else in force from next_effective */
    ngx_uint_t                  next_version;
    ngx_uint_t                  next_reconsent_below;
    time_t                      next_effective;

    ngx_flag_t                  api;              /* consent_api here */
    /* consent_clear_site_data: NGX_HTTP_CONSENT_CLEAR_* bits, 0 off */
    ngx_uint_t                  clear_site_data;

    consent_iab_policy_t       *iab;              /* NULL for off */

    ngx_flag_t                  csp;
    ngx_str_t                   csp_base;         /* empty for none */
    ngx_flag_t                  provision_log;
} ngx_http_consent_loc_conf_t;


/*
 * One decision per main request: subrequests share it through r->main and
 * an internal redirect finds it again through a pool cleanup.
 */

typedef struct {
    consent_mask_t              purposes;
    ngx_uint_t                  source;        /* CONSENT_SRC_* */
    ngx_uint_t                  regime;
    uint32_t                    policy_version;
    time_t                      issued_at;

    ngx_str_t                   subject;
    ngx_str_t                   region;
    ngx_array_t                *stripped;      /* ngx_str_t names */

    /* the signed cookie that verified, if any */
    consent_mask_t              token_purposes;
    ngx_str_t                   token_vendors;   /* their cookie form */
    uint32_t                    token_version;
    int64_t                     token_issued;

    /* the subject's record: asked for once, for record_subject */
    ngx_str_t                   record_subject;
    ngx_http_consent_state_t    record_state;
    ngx_uint_t                  record;        /* CONSENT_RECORD_* */
    ngx_uint_t                  record_source; /* REDIS or CACHE */

    /* the record's lookup, and the consent API's write */
    ngx_http_consent_wait_t     lookup;
    void                       *write;         /* its record, or NULL */

    ngx_str_t                   dropped;       /* Set-Cookie names */

    /* the IAB strings (consent_iab on), read once */
    consent_iab_t               iab;
    u_char                     *iab_refused;   /* the TC string's vendors */
    ngx_uint_t                  iab_trust;     /* CONSENT_IAB_* */
    /* vendors refused whatever their purpose, or NULL */
    const u_char               *vendors_refused;

    /* CSP directives left open to a refused vendor ('*', https:...) */
    ngx_uint_t                  csp_unenforceable;

    unsigned                    gpc:1;
    unsigned                    has_token:1;
    unsigned                    record_asked:1;
    unsigned                    blocked:1;     /* consent_require refused */
    unsigned                    decided:1;
    unsigned                    filtered:1;
    /* a recorded decision (record or cookie) stands: policy_version is it */
    unsigned                    recorded:1;
    /* a decision was found but under a policy below the re-consent floor */
    unsigned                    stale:1;
    unsigned                    api:1;         /* the consent API answers */
    /* the subject is consent_subject's, not the cookie's */
    unsigned                    operator_subject:1;
    unsigned                    iab_read:1;
    unsigned                    iab_sent:1;    /* an IAB cookie came */
    /* consent_provision_log: what goes upstream is logged at the end */
    unsigned                    provide:1;
} ngx_http_consent_ctx_t;


extern ngx_module_t  ngx_http_consent_module;


#endif /* _NGX_HTTP_CONSENT_MODULE_H_INCLUDED_ */
