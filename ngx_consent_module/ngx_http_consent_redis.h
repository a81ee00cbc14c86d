/*
 * Copyright (C) ngx_consent_module authors
 *
 * The Redis client as the rest of the module sees it: where Redis is
 * (consent_redis), a worker's connections, commands queued on the lookup
 * connection with a handler for the reply, and the events the client
 * tells its owner of (a connection ready, the subscriber deaf, a
 * message).  It knows nothing of what the replies and messages mean.
 */


#ifndef _NGX_HTTP_CONSENT_REDIS_H_INCLUDED_
#define _NGX_HTTP_CONSENT_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_str_t                   url;
    ngx_addr_t                 *addr;         /* NULL: Sentinel finds it */
    ngx_str_t                   user;
    ngx_str_t                   password;

    /* sentinel=ADDR,... master=NAME: the primary, found and followed */
    ngx_array_t                *sentinels;    /* ngx_addr_t */
    ngx_str_t                   master;
    ngx_str_t                   sentinel_user;
    ngx_str_t                   sentinel_password;

    /* consent_redis_read: lookups and invalidations from a replica */
    ngx_addr_t                 *read;
    /* consent_write_replicas: WAIT for this many, this long */
    ngx_uint_t                  write_replicas;
    ngx_msec_t                  write_wait;

    ngx_int_t                   db;
    ngx_str_t                   prefix;
    ngx_msec_t                  timeout;
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  ping;           /* the subscriber's */

    /* the keys that do not depend on a subject (consent_core/record.h) */
    ngx_str_t                   log;
    ngx_str_t                   inval;
    ngx_str_t                   rules_disabled;
} ngx_http_consent_redis_conf_t;


/* a reply (a redisReply) to a queued command; NULL when Redis failed */
typedef void (*ngx_http_consent_redis_handler_pt)(void *data,
    void *reply);

typedef struct {
    /* a connection answered its handshake; again: it had been up before */
    void                      (*ready)(void *data, ngx_uint_t subscriber,
                                       ngx_uint_t again);
    /* the subscriber stopped listening; stalled: it went deaf first */
    void                      (*deaf)(void *data, ngx_uint_t stalled);
    /* a message on <prefix>inval */
    void                      (*message)(void *data, ngx_str_t *payload);
    void                       *data;
} ngx_http_consent_redis_events_t;

#define NGX_HTTP_CONSENT_REDIS_TX_MAX  4

typedef struct {
    int                         argc;
    const char                **argv;
    const size_t               *argvlen;
} ngx_http_consent_redis_argv_t;


/* consent_redis address|sentinel=... [master=] [db=] [password_file=]... */
char *ngx_http_consent_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* consent_redis_read address */
char *ngx_http_consent_redis_read(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* consent_write_replicas number [timeout] */
char *ngx_http_consent_write_replicas(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
/* the main configuration's Redis settings, checked and put together */
char *ngx_http_consent_redis_init_main(ngx_conf_t *cf, void *conf);
/* <prefix>s:<id>, the subject's record, in the pool */
ngx_int_t ngx_http_consent_redis_subject_key(ngx_pool_t *pool,
    ngx_http_consent_redis_conf_t *conf, ngx_str_t *id, ngx_str_t *key);

/* a worker's lookup connection, and its subscriber when subscribe is set */
ngx_int_t ngx_http_consent_redis_start(ngx_cycle_t *cycle,
    ngx_http_consent_redis_conf_t *conf, ngx_uint_t subscribe,
    ngx_http_consent_redis_events_t *events);
void ngx_http_consent_redis_stop(ngx_cycle_t *cycle);

/*
 * A read (to the replica of consent_redis_read, if any) or a write (to
 * the primary).  NGX_OK: queued; NGX_DECLINED: Redis known down, do not
 * wait.
 */
ngx_int_t ngx_http_consent_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_consent_redis_handler_pt handler,
    void *data, void **cmd);
ngx_int_t ngx_http_consent_redis_write_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_consent_redis_handler_pt handler,
    void *data, void **cmd);
/*
 * MULTI, ncmds commands, EXEC on the primary; the handler gets EXEC's
 * reply.  With consent_write_replicas, WAIT follows on the same
 * connection: the handler gets EXEC's reply once WAIT counted enough
 * replicas, WAIT's own reply (an integer, or an error) when it did not.
 */
ngx_int_t ngx_http_consent_redis_transaction(ngx_uint_t ncmds,
    ngx_http_consent_redis_argv_t *cmds,
    ngx_http_consent_redis_handler_pt handler, void *data, void **cmd);
/* the requester is gone: its reply will be read and dropped */
void ngx_http_consent_redis_cancel(void *cmd);


#endif /* _NGX_HTTP_CONSENT_REDIS_H_INCLUDED_ */
