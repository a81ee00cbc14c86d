/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_redis, consent_redis_read, consent_write_replicas: where
 * subject records live and how to reach them.  Addresses (of Redis, of
 * its replica, of the Sentinels) are resolved here, once, so no DNS
 * lookup ever happens at request time.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_redis.h"

#include "record.h"
#include "secret.h"


static ngx_addr_t *ngx_http_consent_redis_address(ngx_conf_t *cf,
    ngx_str_t *url, in_port_t port, ngx_uint_t *naddrs);
static ngx_int_t ngx_http_consent_redis_sentinels(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *rcf, ngx_str_t *list);
static ngx_int_t ngx_http_consent_redis_param(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *rcf, ngx_str_t *param);
static ngx_int_t ngx_http_consent_redis_read_secret(ngx_conf_t *cf,
    ngx_str_t *name, ngx_str_t *user, ngx_str_t *password);
static ngx_int_t ngx_http_consent_redis_key(ngx_pool_t *pool,
    ngx_str_t *prefix, unsigned kind, ngx_str_t *id, ngx_str_t *key);


char *
ngx_http_consent_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_int_t                       rc;
    ngx_str_t                      *value, list;
    ngx_uint_t                      i, n;
    ngx_http_consent_redis_conf_t  *rcf;

    if (cmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_consent_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->db = 0;
    ngx_str_set(&rcf->prefix, "consent:");
    rcf->timeout = 50;
    rcf->connect_timeout = 100;
    rcf->ping = 1000;

    rcf->url = value[1];

    if (ngx_http_consent_param(&value[1], "sentinel=", &list) == NGX_OK) {
        if (ngx_http_consent_redis_sentinels(cf, rcf, &list) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else {
        rcf->addr = ngx_http_consent_redis_address(cf, &value[1], 6379, &n);
        if (rcf->addr == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 2; i < cf->args->nelts; i++) {

        rc = ngx_http_consent_redis_param(cf, rcf, &value[i]);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if ((rcf->sentinels != NULL) != (rcf->master.len != 0)
        || (rcf->sentinels == NULL && rcf->sentinel_password.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           rcf->sentinels
                           ? "\"sentinel=\" needs \"master=\", the name "
                             "the Sentinels monitor the primary by"
                           : "\"master=\" and \"sentinel_password_file=\" "
                             "are for \"sentinel=\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_consent_redis_key(cf->pool, &rcf->prefix, CONSENT_REDIS_LOG,
                                   NULL, &rcf->log)
        != NGX_OK
        || ngx_http_consent_redis_key(cf->pool, &rcf->prefix,
                                      CONSENT_REDIS_INVAL, NULL, &rcf->inval)
           != NGX_OK
        || ngx_http_consent_redis_key(cf->pool, &rcf->prefix,
                                      CONSENT_REDIS_RULES_DISABLED, NULL,
                                      &rcf->rules_disabled)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cmcf->redis = rcf;

    return NGX_CONF_OK;
}


/*
 * Resolved here, once: no DNS lookup ever happens at request time.  The
 * first address of a name; naddrs tells how many it has.
 */

static ngx_addr_t *
ngx_http_consent_redis_address(ngx_conf_t *cf, ngx_str_t *url,
    in_port_t port, ngx_uint_t *naddrs)
{
    ngx_url_t  u;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *url;
    u.default_port = port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"%V\"", u.err, &u.url);
        }

        return NULL;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" has no address", &u.url);
        return NULL;
    }

    *naddrs = u.naddrs;

    return &u.addrs[0];
}


/* sentinel=ADDR[,ADDR...]: every address of every name, in order */

static ngx_int_t
ngx_http_consent_redis_sentinels(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *rcf, ngx_str_t *list)
{
    u_char      *p, *last, *comma;
    ngx_str_t    one;
    ngx_uint_t   i, n;
    ngx_addr_t  *addr, *a;

    rcf->sentinels = ngx_array_create(cf->pool, 3, sizeof(ngx_addr_t));
    if (rcf->sentinels == NULL) {
        return NGX_ERROR;
    }

    p = list->data;
    last = p + list->len;

    if (list->len && last[-1] == ',') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty address in \"sentinel=%V\"", list);
        return NGX_ERROR;
    }

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        one.data = p;
        one.len = comma - p;
        p = comma + 1;

        if (one.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty address in \"sentinel=%V\"", list);
            return NGX_ERROR;
        }

        addr = ngx_http_consent_redis_address(cf, &one, 26379, &n);
        if (addr == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            a = ngx_array_push(rcf->sentinels);
            if (a == NULL) {
                return NGX_ERROR;
            }

            *a = addr[i];
        }
    }

    if (rcf->sentinels->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sentinel=\" names no Sentinel");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* NGX_OK, NGX_DECLINED (unknown or invalid), NGX_ERROR (said why) */

static ngx_int_t
ngx_http_consent_redis_param(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *rcf, ngx_str_t *param)
{
    ngx_str_t  s;

    if (ngx_http_consent_param(param, "db=", &s) == NGX_OK) {
        rcf->db = ngx_atoi(s.data, s.len);
        return (rcf->db == NGX_ERROR) ? NGX_DECLINED : NGX_OK;
    }

    if (ngx_http_consent_param(param, "prefix=", &rcf->prefix) == NGX_OK) {
        return NGX_OK;
    }

    if (ngx_http_consent_param(param, "timeout=", &s) == NGX_OK) {
        return ngx_http_consent_param_msec(&s, &rcf->timeout);
    }

    if (ngx_http_consent_param(param, "connect_timeout=", &s) == NGX_OK) {
        return ngx_http_consent_param_msec(&s, &rcf->connect_timeout);
    }

    /* how soon a subscriber gone deaf is noticed: ping + timeout */
    if (ngx_http_consent_param(param, "ping=", &s) == NGX_OK) {
        return ngx_http_consent_param_msec(&s, &rcf->ping);
    }

    if (ngx_http_consent_param(param, "password_file=", &s) == NGX_OK) {
        return ngx_http_consent_redis_read_secret(cf, &s, &rcf->user,
                                                  &rcf->password);
    }

    if (ngx_http_consent_param(param, "master=", &rcf->master) == NGX_OK) {
        return rcf->master.len ? NGX_OK : NGX_DECLINED;
    }

    if (ngx_http_consent_param(param, "sentinel_password_file=", &s)
        == NGX_OK)
    {
        return ngx_http_consent_redis_read_secret(cf, &s, &rcf->sentinel_user,
                                                  &rcf->sentinel_password);
    }

    return NGX_DECLINED;
}


/* "password" or "user password" (Redis 6 ACL), first line of the file */

static ngx_int_t
ngx_http_consent_redis_read_secret(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *user_out, ngx_str_t *password_out)
{
    ssize_t         n;
    ngx_fd_t        fd;
    ngx_str_t       file;
    const u_char   *user, *password;
    u_char          buf[1024];

    file = *name;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &file);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    ngx_close_file(fd);

    if (n <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "password file \"%V\" is empty or unreadable",
                           &file);
        return NGX_ERROR;
    }

    if (consent_secret_parse(buf, n, &user, &user_out->len, &password,
                             &password_out->len)
        != 0)
    {
        goto invalid;
    }

    if (user_out->len) {
        user_out->data = ngx_pnalloc(cf->pool, user_out->len);
        if (user_out->data == NULL) {
            goto invalid;
        }

        ngx_memcpy(user_out->data, user, user_out->len);
    }

    password_out->data = ngx_pnalloc(cf->pool, password_out->len);
    if (password_out->data == NULL) {
        goto invalid;
    }

    ngx_memcpy(password_out->data, password, password_out->len);
    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;

invalid:

    ngx_explicit_memzero(buf, sizeof(buf));
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid password file \"%V\"", &file);

    return NGX_ERROR;
}


/* consent_redis_read address: lookups and invalidations from a replica */

char *
ngx_http_consent_redis_read(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   n;

    if (cmcf->redis_read) {
        return "is duplicate";
    }

    value = cf->args->elts;

    cmcf->redis_read = ngx_http_consent_redis_address(cf, &value[1], 6379,
                                                      &n);
    if (cmcf->redis_read == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* consent_write_replicas number [timeout] */

char *
ngx_http_consent_write_replicas(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (cmcf->write_replicas != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n > 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of replicas \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    cmcf->write_replicas = n;

    if (cf->args->nelts == 3) {
        cmcf->write_wait = ngx_parse_time(&value[2], 0);

        if (cmcf->write_wait == (ngx_msec_t) NGX_ERROR
            || cmcf->write_wait == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid timeout \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_consent_redis_init_main(ngx_conf_t *cf, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_http_consent_redis_conf_t  *rcf;

    ngx_conf_init_uint_value(cmcf->write_replicas, 0);
    ngx_conf_init_msec_value(cmcf->write_wait, 500);

    rcf = cmcf->redis;

    if (rcf == NULL) {
        if (cmcf->redis_read || cmcf->write_replicas) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"%s\" needs \"consent_redis\"",
                          cmcf->redis_read ? "consent_redis_read"
                                           : "consent_write_replicas");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    rcf->read = cmcf->redis_read;
    rcf->write_replicas = cmcf->write_replicas;
    rcf->write_wait = cmcf->write_wait;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_consent_redis_subject_key(ngx_pool_t *pool,
    ngx_http_consent_redis_conf_t *conf, ngx_str_t *id, ngx_str_t *key)
{
    return ngx_http_consent_redis_key(pool, &conf->prefix,
                                      CONSENT_REDIS_SUBJECT, id, key);
}


/* the layout is the core's (consent_core/record.c), shared with consentctl */

static ngx_int_t
ngx_http_consent_redis_key(ngx_pool_t *pool, ngx_str_t *prefix,
    unsigned kind, ngx_str_t *id, ngx_str_t *key)
{
    long    n;
    size_t  size;

    size = consent_redis_key_size(kind, prefix->len, id ? id->len : 0);

    key->data = ngx_pnalloc(pool, size);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    n = consent_redis_key(kind, prefix->data, prefix->len,
                          id ? id->data : NULL, id ? id->len : 0,
                          key->data, size);
    if (n < 0) {
        return NGX_ERROR;
    }

    key->len = (size_t) n;

    return NGX_OK;
}
