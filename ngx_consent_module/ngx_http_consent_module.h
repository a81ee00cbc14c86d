/*
 * Copyright (C) ngx_consent_module authors
 */


#ifndef _NGX_HTTP_CONSENT_MODULE_H_INCLUDED_
#define _NGX_HTTP_CONSENT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "consent_core.h"
#include "psl.h"
#include "decide.h"
#include "ngx_http_consent_util.h"


/* subject ids: [A-Za-z0-9._:@-], at most this long (a 256-byte cache node) */
#define NGX_HTTP_CONSENT_ID_MAX        CONSENT_ID_MAX


/* a subject's record, from Redis or the shared cache */
typedef struct {
    consent_mask_t              purposes;
    uint32_t                    policy_version;
    time_t                      updated;
    unsigned                    found:1;
} ngx_http_consent_state_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;
} ngx_http_consent_cache_sh_t;


typedef struct {
    ngx_http_consent_cache_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
    time_t                        ttl;
    time_t                        negative_ttl;
} ngx_http_consent_cache_t;


typedef struct {
    ngx_str_t                   url;
    ngx_addr_t                 *addr;
    ngx_str_t                   user;
    ngx_str_t                   password;
    ngx_int_t                   db;
    ngx_str_t                   prefix;
    ngx_msec_t                  timeout;
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  ping;           /* the subscriber's */
} ngx_http_consent_redis_conf_t;


#define NGX_HTTP_CONSENT_FAIL_CLOSED   0
#define NGX_HTTP_CONSENT_FAIL_OPEN     1

#define NGX_HTTP_CONSENT_SECURE_OFF    0
#define NGX_HTTP_CONSENT_SECURE_ON     1
#define NGX_HTTP_CONSENT_SECURE_AUTO   2


/* ngx_http_consent_decide(): how long it may take */
#define NGX_HTTP_CONSENT_DECIDE_PEEK   0  /* may leave it undecided */
#define NGX_HTTP_CONSENT_DECIDE_WAIT   1  /* may suspend on Redis */
#define NGX_HTTP_CONSENT_DECIDE_NOW    2  /* final, without waiting */


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
    ngx_shm_zone_t             *zone;

    /* indexes of $http_cookie and $cookie_*, forgotten once stripped */
    ngx_array_t                *cookie_variables;

    /* consent_receipts: the stream's retention (0: kept) and IP hashing */
    time_t                      receipts_retain;
    ngx_flag_t                  receipts_ip;
    ngx_uint_t                  api_used;
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

    ngx_flag_t                  api;              /* consent_api here */
} ngx_http_consent_loc_conf_t;


/*
 * One decision per main request: subrequests share it through r->main and
 * an internal redirect finds it again through a pool cleanup.  Redis (a
 * later stage) fills the same fields, then resumes the request.
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
    uint32_t                    token_version;
    int64_t                     token_issued;

    /* the subject's record: asked for once, for record_subject */
    ngx_str_t                   record_subject;
    ngx_http_consent_state_t    record_state;
    ngx_uint_t                  record;        /* CONSENT_RECORD_* */
    ngx_uint_t                  record_source; /* REDIS or CACHE */

    /* a Redis lookup in flight, and the requests waiting for it */
    ngx_http_request_t         *main;
    void                       *redis_cmd;
    ngx_event_t                 timeout;
    ngx_event_t                 resume;
    ngx_array_t                *waiters;       /* ngx_http_request_t * */

    ngx_str_t                   dropped;       /* Set-Cookie names */

    unsigned                    gpc:1;
    unsigned                    has_token:1;
    unsigned                    record_asked:1;
    unsigned                    waiting:1;     /* a lookup in flight */
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
} ngx_http_consent_ctx_t;


typedef void (*ngx_http_consent_redis_handler_pt)(void *data,
    void *reply);


ngx_http_consent_ctx_t *ngx_http_consent_get_ctx(ngx_http_request_t *r,
    ngx_flag_t create);
ngx_int_t ngx_http_consent_decide(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_uint_t mode);
ngx_int_t ngx_http_consent_prefetch(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
ngx_int_t ngx_http_consent_server_rewrite_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_consent_rewrite_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_consent_find_cookie_variables(ngx_conf_t *cf);
void ngx_http_consent_decide_cleanup(ngx_http_consent_ctx_t *ctx);
ngx_int_t ngx_http_consent_add_variables(ngx_conf_t *cf);

ngx_int_t ngx_http_consent_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_consent_cache_get(ngx_http_consent_cache_t *cache,
    ngx_str_t *id, ngx_http_consent_state_t *state);
/* epoch: when the state was asked of Redis, 0 if unknown (see cache.c) */
void ngx_http_consent_cache_put(ngx_http_consent_cache_t *cache,
    ngx_str_t *id, ngx_http_consent_state_t *state, ngx_atomic_uint_t epoch);
void ngx_http_consent_cache_delete(ngx_http_consent_cache_t *cache,
    ngx_str_t *id);
void ngx_http_consent_cache_flush(ngx_http_consent_cache_t *cache);
void ngx_http_consent_cache_fence(ngx_http_consent_cache_t *cache);
ngx_atomic_uint_t ngx_http_consent_cache_epoch(
    ngx_http_consent_cache_t *cache);
/* in a Redis reply handler: the cache epoch when its command was queued */
ngx_atomic_uint_t ngx_http_consent_redis_epoch(void);
char *ngx_http_consent_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

char *ngx_http_consent_rules_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_rule_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

char *ngx_http_consent_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_consent_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_consent_redis_exit_process(ngx_cycle_t *cycle);
/* NGX_OK: queued; NGX_DECLINED: Redis known down, do not wait */
ngx_int_t ngx_http_consent_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_consent_redis_handler_pt handler,
    void *data, void **cmd);
void ngx_http_consent_redis_cancel(void *cmd);

#define NGX_HTTP_CONSENT_REDIS_TX_MAX  4

typedef struct {
    int                         argc;
    const char                **argv;
    const size_t               *argvlen;
} ngx_http_consent_redis_argv_t;

/* MULTI, ncmds commands, EXEC; the handler gets EXEC's reply */
ngx_int_t ngx_http_consent_redis_transaction(ngx_uint_t ncmds,
    ngx_http_consent_redis_argv_t *cmds,
    ngx_http_consent_redis_handler_pt handler, void *data, void **cmd);
ngx_int_t ngx_http_consent_add_purpose_variable(ngx_conf_t *cf,
    ngx_uint_t purpose);

/* consent API, policy versions, receipts */
char *ngx_http_consent_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_consent_policy_version(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_receipts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
#define NGX_HTTP_CONSENT_GRANT         0
#define NGX_HTTP_CONSENT_WITHDRAW      1

/* NGX_DONE: the request waits for Redis; else a status or sent answer */
ngx_int_t ngx_http_consent_record_start(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, consent_mask_t purposes,
    uint32_t policy_version, ngx_uint_t action);
ngx_int_t ngx_http_consent_api_state(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx);
ngx_int_t ngx_http_consent_api_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *field, const char *error);

/* vendors switched off at run time (<prefix>rules:disabled) */
void ngx_http_consent_overrides_fetch(ngx_http_consent_main_conf_t *cmcf);
ngx_uint_t ngx_http_consent_vendor_disabled(ngx_uint_t vendor_id);
const consent_rule_t *ngx_http_consent_rule_active(const consent_rule_t *r);

/* response side and what goes upstream */
ngx_int_t ngx_http_consent_response_init(ngx_conf_t *cf);
ngx_int_t ngx_http_consent_upstream(ngx_http_request_t *r,
    ngx_http_consent_ctx_t *ctx, ngx_http_consent_loc_conf_t *lcf);
char *ngx_http_consent_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_strip_args(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_upstream_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_policy_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_consent_permissions_policy_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_consent_permissions_policy_merge(ngx_conf_t *cf,
    ngx_http_consent_loc_conf_t *prev, ngx_http_consent_loc_conf_t *conf);
char *ngx_http_consent_gpc_json(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


extern ngx_module_t  ngx_http_consent_module;


#endif /* _NGX_HTTP_CONSENT_MODULE_H_INCLUDED_ */
