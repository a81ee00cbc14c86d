/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_redis: where subject records live and how to reach them.  The
 * address is resolved here, once, so no DNS lookup ever happens at
 * request time.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_redis.h"

#include "record.h"
#include "secret.h"


static ngx_int_t ngx_http_consent_redis_address(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *rcf, ngx_str_t *url);
static ngx_int_t ngx_http_consent_redis_param(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *rcf, ngx_str_t *param);
static ngx_int_t ngx_http_consent_redis_read_secret(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *conf, ngx_str_t *name);
static ngx_int_t ngx_http_consent_redis_key(ngx_pool_t *pool,
    ngx_str_t *prefix, unsigned kind, ngx_str_t *id, ngx_str_t *key);


char *
ngx_http_consent_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_int_t                       rc;
    ngx_str_t                      *value;
    ngx_uint_t                      i;
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

    if (ngx_http_consent_redis_address(cf, rcf, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
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


/* resolved here, once: no DNS lookup ever happens at request time */

static ngx_int_t
ngx_http_consent_redis_address(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *rcf, ngx_str_t *url)
{
    ngx_url_t  u;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = *url;
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in consent_redis \"%V\"", u.err, &u.url);
        }

        return NGX_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "consent_redis \"%V\" has no address", &u.url);
        return NGX_ERROR;
    }

    rcf->url = *url;
    rcf->addr = &u.addrs[0];

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
        return ngx_http_consent_redis_read_secret(cf, rcf, &s);
    }

    return NGX_DECLINED;
}


/* "password" or "user password" (Redis 6 ACL), first line of the file */

static ngx_int_t
ngx_http_consent_redis_read_secret(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *conf, ngx_str_t *name)
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

    if (consent_secret_parse(buf, n, &user, &conf->user.len, &password,
                             &conf->password.len)
        != 0)
    {
        goto invalid;
    }

    if (conf->user.len) {
        conf->user.data = ngx_pnalloc(cf->pool, conf->user.len);
        if (conf->user.data == NULL) {
            goto invalid;
        }

        ngx_memcpy(conf->user.data, user, conf->user.len);
    }

    conf->password.data = ngx_pnalloc(cf->pool, conf->password.len);
    if (conf->password.data == NULL) {
        goto invalid;
    }

    ngx_memcpy(conf->password.data, password, conf->password.len);
    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;

invalid:

    ngx_explicit_memzero(buf, sizeof(buf));
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid password file \"%V\"", &file);

    return NGX_ERROR;
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
