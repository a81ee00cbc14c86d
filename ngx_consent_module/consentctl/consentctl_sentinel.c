/*
 * Copyright (C) ngx_consent_module authors
 *
 * consentctl: the primary from Redis Sentinel (--sentinel, --master).
 * Each Sentinel in turn is asked SENTINEL get-master-addr-by-name; the
 * address it gives is connected to as ctl_connect_node() does (AUTH,
 * SELECT) and must answer ROLE "master": a Sentinel that has not yet seen
 * a failover names a replica, and the next one is asked then.  Whatever
 * answers on a Sentinel's port may say anything: every reply is checked
 * for its type and form before it is read, and what it says reaches a
 * message only through ctl_plain_buf().
 */


#include <string.h>
#include <sys/time.h>

#include "consentctl.h"


/* a server's text quoted in a message at most */
#define CTL_SENTINEL_TEXT           128


static int ctl_sentinel_ask(ctl_t *ctl, const ctl_host_t *s,
    const char *name, ctl_host_t *primary);
static int ctl_sentinel_addr(ctl_t *ctl, const redisReply *r,
    const char *name, ctl_host_t *primary);
static int ctl_sentinel_role(ctl_t *ctl);
static const char *ctl_reply_kind(const redisReply *r, char *buf,
    size_t size);


/* "h:p[,h:p...]" (the port defaults to 26379) added to ctl->sentinels */

int
ctl_sentinel_list(ctl_t *ctl, const char *value, const char *what)
{
    const char  *p, *end, *comma;
    ctl_host_t  *s;

    p = value;
    end = value + strlen(value);

    for ( ;; ) {
        comma = memchr(p, ',', end - p);
        if (comma == NULL) {
            comma = end;
        }

        if (ctl->nsentinels == CTL_SENTINELS) {
            return ctl_arg_error("%s: more than %d Sentinels", what,
                                 CTL_SENTINELS);
        }

        s = &ctl->sentinels[ctl->nsentinels];
        s->port = CTL_SENTINEL_PORT;

        if (ctl_parse_host_port(p, comma - p, s->host, sizeof(s->host),
                                &s->port)
            != 0)
        {
            return ctl_arg_error("%s \"%s\": invalid Sentinel address "
                                 "\"%.*s\" (expected HOST:PORT, several "
                                 "joined by \",\")", what, value,
                                 (int) (comma - p), p);
        }

        ctl->nsentinels++;

        if (comma == end) {
            return CTL_OK;
        }

        p = comma + 1;
    }
}


/*
 * Connected to the primary (ctl->redis, ctl->addr its address) that the
 * first Sentinel to know one names, or CTL_ERROR after a message for
 * each Sentinel and one naming them all.
 */

int
ctl_sentinel_connect(ctl_t *ctl)
{
    int          i, j, ntried;
    char         name[CTL_HOST_SIZE + 16], primary_addr[CTL_HOST_SIZE + 16];
    char         list[CTL_SENTINELS * (CTL_HOST_SIZE + 16)];
    size_t       n;
    ctl_host_t   primary, tried[CTL_SENTINELS];

    ntried = 0;

    for (i = 0; i < ctl->nsentinels; i++) {
        ctl_host_format(ctl->sentinels[i].host, ctl->sentinels[i].port,
                        name, sizeof(name));

        if (ctl_sentinel_ask(ctl, &ctl->sentinels[i], name, &primary)
            != CTL_OK)
        {
            continue;
        }

        ctl_host_format(primary.host, primary.port, primary_addr,
                        sizeof(primary_addr));

        /* a primary that failed for an earlier Sentinel fails again */
        for (j = 0; j < ntried; j++) {
            if (tried[j].port == primary.port
                && strcmp(tried[j].host, primary.host) == 0)
            {
                break;
            }
        }

        if (j < ntried) {
            ctl_error("sentinel %s: master \"%s\" is %s, tried above",
                      name, ctl->master, primary_addr);
            continue;
        }

        tried[ntried++] = primary;

        memcpy(ctl->host_buf, primary.host, sizeof(ctl->host_buf));
        ctl->host = ctl->host_buf;
        ctl->port = primary.port;
        ctl->socket = NULL;

        snprintf(ctl->addr, sizeof(ctl->addr),
                 "%s (master \"%s\" from sentinel %s)", primary_addr,
                 ctl->master, name);

        if (ctl_connect_node(ctl) == CTL_OK
            && ctl_sentinel_role(ctl) == CTL_OK)
        {
            /* later messages name the primary alone */
            memcpy(ctl->addr, primary_addr, strlen(primary_addr) + 1);
            return CTL_OK;
        }

        ctl_disconnect(ctl);
    }

    /* the Sentinels asked, "a, b, c", cut to fit */
    n = 0;
    list[0] = '\0';

    for (i = 0; i < ctl->nsentinels && n < sizeof(list); i++) {
        ctl_host_format(ctl->sentinels[i].host, ctl->sentinels[i].port,
                        name, sizeof(name));
        n += snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
                      name);
    }

    ctl_error("no primary for master \"%s\" from the Sentinels %s",
              ctl->master, list);

    return CTL_ERROR;
}


/*
 * SENTINEL get-master-addr-by-name of Sentinel s (name for messages),
 * after AUTH with --sentinel-password-file: CTL_OK with the address in
 * *primary, or CTL_ERROR after a message
 */

static int
ctl_sentinel_ask(ctl_t *ctl, const ctl_host_t *s, const char *name,
    ctl_host_t *primary)
{
    int              rc;
    size_t           argvlen[3];
    const char      *argv[3];
    redisReply      *r;
    redisContext    *c;
    struct timeval   tv;

    tv.tv_sec = ctl->timeout / 1000;
    tv.tv_usec = (ctl->timeout % 1000) * 1000;

    c = redisConnectWithTimeout(s->host, s->port, tv);

    if (c == NULL) {
        ctl_error("sentinel %s: cannot connect: out of memory", name);
        return CTL_ERROR;
    }

    rc = CTL_ERROR;

    if (c->err) {
        ctl_error("sentinel %s: cannot connect: %s", name, c->errstr);
        goto done;
    }

    /* the connect timeout does not bound the commands: this does */
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        ctl_error("sentinel %s: cannot set the timeout: %s", name,
                  c->errstr);
        goto done;
    }

    if (ctl->sentinel_password_file
        && ctl_auth(ctl, c, ctl->sentinel_password_file, "sentinel ", name)
           != CTL_OK)
    {
        goto done;
    }

    argv[0] = "SENTINEL";
    argvlen[0] = sizeof("SENTINEL") - 1;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = ctl->master;
    argvlen[2] = strlen(ctl->master);

    r = redisCommandArgv(c, 3, argv, argvlen);
    if (r == NULL) {
        ctl_io_report(ctl, c, "sentinel ", name);
        goto done;
    }

    rc = ctl_sentinel_addr(ctl, r, name, primary);

    freeReplyObject(r);

done:

    redisFree(c);

    return rc;
}


/*
 * The answer to SENTINEL get-master-addr-by-name: nil (a master name the
 * Sentinel does not monitor), or an array of two strings, a host and a
 * port.  CTL_OK with them in *primary, or CTL_ERROR after a message.
 */

static int
ctl_sentinel_addr(ctl_t *ctl, const redisReply *r, const char *name,
    ctl_host_t *primary)
{
    size_t               i;
    char                 text[CTL_SENTINEL_TEXT + 8];
    const redisReply    *host, *port;
    unsigned long long   n;

    if (r->type == REDIS_REPLY_NIL) {
        ctl_error("sentinel %s does not know master \"%s\"", name,
                  ctl->master);
        return CTL_ERROR;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ctl_error("sentinel %s: SENTINEL get-master-addr-by-name: %s", name,
                  ctl_plain_buf(r->str, r->len, text, sizeof(text)));
        return CTL_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_STRING)
    {
        ctl_error("sentinel %s: SENTINEL get-master-addr-by-name: "
                  "unexpected reply (%s, not two strings)", name,
                  ctl_reply_kind(r, text, sizeof(text)));
        return CTL_ERROR;
    }

    host = r->element[0];
    port = r->element[1];

    /* a name or an address: printable, no spaces, as Sentinel keeps it */
    for (i = 0; i < host->len; i++) {
        if ((unsigned char) host->str[i] <= 0x20
            || (unsigned char) host->str[i] >= 0x7f)
        {
            break;
        }
    }

    if (host->len == 0 || host->len >= sizeof(primary->host)
        || i < host->len)
    {
        ctl_error("sentinel %s: master \"%s\": invalid host \"%s\"", name,
                  ctl->master,
                  ctl_plain_buf(host->str, host->len, text, sizeof(text)));
        return CTL_ERROR;
    }

    if (ctl_str_uint(port->str, port->len, 65535, &n) != 0 || n == 0) {
        ctl_error("sentinel %s: master \"%s\": invalid port \"%s\"", name,
                  ctl->master,
                  ctl_plain_buf(port->str, port->len, text, sizeof(text)));
        return CTL_ERROR;
    }

    memcpy(primary->host, host->str, host->len);
    primary->host[host->len] = '\0';
    primary->port = (int) n;

    return CTL_OK;
}


/* the server ctl->redis is connected to answers ROLE "master" */

static int
ctl_sentinel_role(ctl_t *ctl)
{
    char               text[CTL_SENTINEL_TEXT + 8];
    const char        *argv[1];
    size_t             argvlen[1];
    redisReply        *r;
    const redisReply  *role;

    argv[0] = "ROLE";
    argvlen[0] = sizeof("ROLE") - 1;

    r = ctl_command(ctl, 1, argv, argvlen);
    if (r == NULL) {
        return CTL_ERROR;
    }

    if (ctl_reply_error(ctl, r, "ROLE") != 0) {
        freeReplyObject(r);
        return CTL_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        ctl_error("redis at %s: ROLE: unexpected reply (%s)", ctl->addr,
                  ctl_reply_kind(r, text, sizeof(text)));
        freeReplyObject(r);
        return CTL_ERROR;
    }

    role = r->element[0];

    if (role->len == sizeof("master") - 1
        && memcmp(role->str, "master", role->len) == 0)
    {
        freeReplyObject(r);
        return CTL_OK;
    }

    /* "slave": the Sentinel has not seen a failover yet */
    ctl_error("redis at %s is not a primary: ROLE says \"%s\"", ctl->addr,
              ctl_plain_buf(role->str, role->len, text, sizeof(text)));

    freeReplyObject(r);

    return CTL_ERROR;
}


/* what a reply is, for a message: "an integer", "an array of 3" */

static const char *
ctl_reply_kind(const redisReply *r, char *buf, size_t size)
{
    size_t  i;

    switch (r->type) {

    case REDIS_REPLY_STRING:
        return "a string";

    case REDIS_REPLY_STATUS:
        return "a status";

    case REDIS_REPLY_INTEGER:
        return "an integer";

    case REDIS_REPLY_NIL:
        return "nil";

    case REDIS_REPLY_ERROR:
        return "an error";

    case REDIS_REPLY_ARRAY:
        for (i = 0; i < r->elements; i++) {
            if (r->element[i]->type != REDIS_REPLY_STRING) {
                snprintf(buf, size, "an array of %zu, element %zu %s",
                         r->elements, i + 1,
                         r->element[i]->type == REDIS_REPLY_ARRAY
                         ? "an array" : "not a string");
                return buf;
            }
        }

        snprintf(buf, size, "an array of %zu", r->elements);
        return buf;

    default:
        return "of an unknown type";
    }
}
