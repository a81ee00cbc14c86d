/*
 * Copyright (C) ngx_consent_module authors
 *
 * The primary as Redis Sentinel names it, found and followed by each
 * worker on its event loop: one connection to one Sentinel at a time,
 * which asks SENTINEL get-master-addr-by-name and then listens on
 * +switch-master.  A new address makes every connection to the primary
 * go there at once (ngx_http_consent_redis_primary_moved()); a failed
 * Sentinel hands over to the next one in the list.  When a connection to
 * the primary fails or is refused, the Sentinel is asked again (a
 * +switch-master may have been missed while nobody listened), at most
 * every NGX_HTTP_CONSENT_SENTINEL_ASK_MIN ms.
 *
 * The answer is an IP address (Sentinel's default, "resolve-hostnames
 * no"): a worker never looks a name up.
 */


#include "ngx_http_consent_redis_conn.h"
#include "ngx_http_consent_metrics.h"


#define NGX_HTTP_CONSENT_SENTINEL_ASK_MIN  250


static ngx_int_t ngx_http_consent_sentinel_set(ngx_http_consent_redis_t *rd,
    u_char *ip, size_t ip_len, u_char *port, size_t port_len);
static void ngx_http_consent_sentinel_message(void *data,
    ngx_str_t *payload);


static ngx_http_consent_redis_t   *ngx_http_consent_sentinel;
static ngx_uint_t                  ngx_http_consent_sentinel_index;
/* Sentinels tried since one answered */
static ngx_uint_t                  ngx_http_consent_sentinel_tried;
static ngx_msec_t                  ngx_http_consent_sentinel_answered;

static ngx_addr_t                  ngx_http_consent_sentinel_addr;
static ngx_sockaddr_t              ngx_http_consent_sentinel_sockaddr;
static u_char  ngx_http_consent_sentinel_name[NGX_SOCKADDR_STRLEN];

static ngx_http_consent_redis_events_t  ngx_http_consent_sentinel_events = {
    NULL,                         /* only lookups and subscribers */
    NULL,
    ngx_http_consent_sentinel_message,
    NULL
};


ngx_int_t
ngx_http_consent_sentinel_start(ngx_cycle_t *cycle,
    ngx_http_consent_redis_conf_t *conf)
{
    ngx_addr_t                *sentinels;
    ngx_http_consent_redis_t  *rd;

    sentinels = conf->sentinels->elts;

    /* the workers spread over the Sentinels */
    ngx_http_consent_sentinel_index = ngx_worker % conf->sentinels->nelts;

    ngx_http_consent_sentinel_events.data = conf;

    rd = ngx_http_consent_redis_create(cycle, conf,
                                   &ngx_http_consent_sentinel_events,
                                   NGX_HTTP_CONSENT_REDIS_SENTINEL,
                                   &sentinels[ngx_http_consent_sentinel_index]);
    if (rd == NULL) {
        return NGX_ERROR;
    }

    ngx_http_consent_sentinel = rd;

    ngx_http_consent_redis_connect(rd);

    return NGX_OK;
}


void
ngx_http_consent_sentinel_stop(void)
{
    if (ngx_http_consent_sentinel) {
        ngx_http_consent_redis_free(ngx_http_consent_sentinel);
        ngx_http_consent_sentinel = NULL;
    }
}


ngx_addr_t *
ngx_http_consent_sentinel_primary(void)
{
    return &ngx_http_consent_sentinel_addr;
}


ngx_uint_t
ngx_http_consent_sentinel_next(ngx_http_consent_redis_t *rd)
{
    ngx_uint_t   n;
    ngx_addr_t  *sentinels;

    sentinels = rd->conf->sentinels->elts;
    n = rd->conf->sentinels->nelts;

    ngx_http_consent_sentinel_index = (ngx_http_consent_sentinel_index + 1)
                                      % n;

    rd->addr = &sentinels[ngx_http_consent_sentinel_index];

    return ++ngx_http_consent_sentinel_tried % n == 0;
}


void
ngx_http_consent_sentinel_ask(void)
{
    ngx_msec_t                 since;
    ngx_http_consent_redis_t  *rd;

    rd = ngx_http_consent_sentinel;

    /* one that is not listening is connecting: it asks first */
    if (rd == NULL || !rd->ready) {
        return;
    }

    since = ngx_current_msec - ngx_http_consent_sentinel_answered;

    /*
     * Not from here, at once: this may run inside the read handler of
     * the connection it would close.  The last Sentinel may be the one
     * that is wrong: the next one is asked.
     */
    ngx_http_consent_redis_restart(rd, "closed, the next is asked",
                                   since >= NGX_HTTP_CONSENT_SENTINEL_ASK_MIN
                                   ? 1
                                   : NGX_HTTP_CONSENT_SENTINEL_ASK_MIN - since);

    (void) ngx_http_consent_sentinel_next(rd);
}


/* ["ip", "port"], or nil: this Sentinel does not know the master */

void
ngx_http_consent_sentinel_answer(ngx_http_consent_redis_t *rd,
    redisReply *reply)
{
    redisReply  *ip, *port;

    if (reply->type == REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis Sentinel %V does not know master "
                      "\"%V\"", &rd->addr->name, &rd->conf->master);
        ngx_http_consent_redis_fail(rd, "master unknown");
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis Sentinel %V: %*s", &rd->addr->name,
                      (size_t) ngx_min(reply->len, 256), reply->str);
        ngx_http_consent_redis_fail(rd, "refused");
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "consent redis Sentinel %V: unexpected reply to "
                      "SENTINEL get-master-addr-by-name", &rd->addr->name);
        ngx_http_consent_redis_fail(rd, "protocol error");
        return;
    }

    ip = reply->element[0];
    port = reply->element[1];

    if (ngx_http_consent_sentinel_set(rd, (u_char *) ip->str, ip->len,
                                      (u_char *) port->str, port->len)
        != NGX_OK)
    {
        ngx_http_consent_redis_fail(rd, "no usable address");
        return;
    }

    ngx_http_consent_sentinel_answered = ngx_current_msec;
    ngx_http_consent_sentinel_tried = 0;
}


/* "<master> <old ip> <old port> <new ip> <new port>" */

static void
ngx_http_consent_sentinel_message(void *data, ngx_str_t *payload)
{
    ngx_http_consent_redis_conf_t *conf = data;

    u_char      *p, *last;
    ngx_str_t    word[5];
    ngx_uint_t   n;

    p = payload->data;
    last = p + payload->len;

    for (n = 0; n < 5 && p < last; n++) {
        word[n].data = p;

        while (p < last && *p != ' ') {
            p++;
        }

        word[n].len = p - word[n].data;

        if (p < last) {
            p++;
        }
    }

    if (n != 5 || p != last) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_consent_sentinel->log, 0,
                      "consent redis Sentinel %V: +switch-master message "
                      "not understood", &ngx_http_consent_sentinel->addr->name);
        return;
    }

    if (word[0].len != conf->master.len
        || ngx_strncmp(word[0].data, conf->master.data, word[0].len) != 0)
    {
        return;
    }

    (void) ngx_http_consent_sentinel_set(ngx_http_consent_sentinel,
                                         word[3].data, word[3].len,
                                         word[4].data, word[4].len);
}


/*
 * The primary is at ip:port now: every connection to it moves, if that
 * is news.  NGX_ERROR: not an IP address and port (logged).
 */

static ngx_int_t
ngx_http_consent_sentinel_set(ngx_http_consent_redis_t *rd, u_char *ip,
    size_t ip_len, u_char *port, size_t port_len)
{
    in_addr_t             a;
    ngx_int_t             n;
    socklen_t             socklen;
    ngx_addr_t           *addr;
    ngx_sockaddr_t        sa;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    n = ngx_atoi(port, port_len);

    if (n < 1 || n > 65535) {
        goto invalid;
    }

    ngx_memzero(&sa, sizeof(ngx_sockaddr_t));

    a = ngx_inet_addr(ip, ip_len);

    if (a != INADDR_NONE) {
        sin = &sa.sockaddr_in;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = a;
        sin->sin_port = htons((in_port_t) n);
        socklen = sizeof(struct sockaddr_in);

#if (NGX_HAVE_INET6)
    } else if (ngx_inet6_addr(ip, ip_len, sa.sockaddr_in6.sin6_addr.s6_addr)
               == NGX_OK)
    {
        sin6 = &sa.sockaddr_in6;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((in_port_t) n);
        socklen = sizeof(struct sockaddr_in6);
#endif

    } else {
        goto invalid;
    }

    addr = &ngx_http_consent_sentinel_addr;

    if (addr->socklen == socklen
        && ngx_cmp_sockaddr(&sa.sockaddr, socklen, addr->sockaddr,
                            addr->socklen, 1)
           == NGX_OK)
    {
        return NGX_OK;
    }

    if (addr->socklen) {
        ngx_http_consent_metrics_primary_change();
    }

    ngx_memcpy(&ngx_http_consent_sentinel_sockaddr, &sa, socklen);

    addr->sockaddr = &ngx_http_consent_sentinel_sockaddr.sockaddr;
    addr->socklen = socklen;
    addr->name.data = ngx_http_consent_sentinel_name;
    addr->name.len = ngx_sock_ntop(addr->sockaddr, socklen,
                                   ngx_http_consent_sentinel_name,
                                   NGX_SOCKADDR_STRLEN, 1);

    ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                  "consent redis Sentinel %V: the primary of \"%V\" is %V",
                  &rd->addr->name, &rd->conf->master, &addr->name);

    ngx_http_consent_redis_primary_moved();

    return NGX_OK;

invalid:

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "consent redis Sentinel %V names \"%*s\" port \"%*s\" "
                  "the primary: an IP address and port are needed "
                  "(Sentinel's \"resolve-hostnames no\")", &rd->addr->name,
                  ngx_min(ip_len, 64), ip, ngx_min(port_len, 16), port);

    return NGX_ERROR;
}

