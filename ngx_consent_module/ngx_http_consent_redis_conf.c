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


static ngx_int_t ngx_http_consent_redis_read_secret(ngx_conf_t *cf,
    ngx_http_consent_redis_conf_t *conf, ngx_str_t *name);
static ngx_int_t ngx_http_consent_redis_key(ngx_pool_t *pool,
    ngx_str_t *prefix, unsigned kind, ngx_str_t *id, ngx_str_t *key);


char *
ngx_http_consent_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_str_t                      *value, s;
    ngx_url_t                       u;
    ngx_uint_t                      i;
    ngx_http_consent_redis_conf_t  *rc;

    if (cmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_http_consent_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    rc->url = value[1];
    rc->db = 0;
    ngx_str_set(&rc->prefix, "consent:");
    rc->timeout = 50;
    rc->connect_timeout = 100;
    rc->ping = 1000;

    /* resolved here, once: no DNS lookup ever happens at request time */
    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in consent_redis \"%V\"", u.err, &u.url);
        }

        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "consent_redis \"%V\" has no address", &u.url);
        return NGX_CONF_ERROR;
    }

    rc->addr = &u.addrs[0];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            rc->db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (rc->db == NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rc->prefix.data = value[i].data + 7;
            rc->prefix.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            rc->timeout = ngx_parse_time(&s, 0);
            if (rc->timeout == (ngx_msec_t) NGX_ERROR || rc->timeout == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;

            rc->connect_timeout = ngx_parse_time(&s, 0);
            if (rc->connect_timeout == (ngx_msec_t) NGX_ERROR
                || rc->connect_timeout == 0)
            {
                goto invalid;
            }

            continue;
        }

        /* how soon a subscriber gone deaf is noticed: ping + timeout */
        if (ngx_strncmp(value[i].data, "ping=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            rc->ping = ngx_parse_time(&s, 0);
            if (rc->ping == (ngx_msec_t) NGX_ERROR || rc->ping == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            if (ngx_http_consent_redis_read_secret(cf, rc, &s) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (ngx_http_consent_redis_key(cf->pool, &rc->prefix, CONSENT_REDIS_LOG,
                                   NULL, &rc->log)
        != NGX_OK
        || ngx_http_consent_redis_key(cf->pool, &rc->prefix,
                                      CONSENT_REDIS_INVAL, NULL, &rc->inval)
           != NGX_OK
        || ngx_http_consent_redis_key(cf->pool, &rc->prefix,
                                      CONSENT_REDIS_RULES_DISABLED, NULL,
                                      &rc->rules_disabled)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cmcf->redis = rc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
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
