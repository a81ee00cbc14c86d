/*
 * Copyright (C) ngx_consent_module authors
 *
 * Vendors switched off at run time: the set <prefix>rules:disabled holds
 * vendor names (any case); a disabled vendor's rules are ignored, so its
 * cookies count as unknown and are kept.  "consentctl rules disable X"
 * changes the set and publishes "*rules" on <prefix>inval; each worker
 * then reads the set again (and whenever a Redis connection comes up).
 *
 * The answer is per worker and costs one bit test per matched cookie.
 * Until the first answer, and while Redis is away, the last answer
 * stands: nothing is switched off that was not before.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_overrides.h"

#include "record.h"

#include <hiredis/hiredis.h>


typedef struct {
    ngx_http_consent_main_conf_t  *cmcf;
    void                          *cmd;         /* in flight */
    u_char                        *disabled;    /* one bit per vendor id */
    ngx_uint_t                     nvendors;
    ngx_uint_t                     again;       /* asked while in flight */
    ngx_uint_t                     generation;  /* answers taken so far */
    ngx_uint_t                     off;         /* vendors switched off */
} ngx_http_consent_overrides_t;


static void ngx_http_consent_overrides_reply(void *data, void *reply);


static ngx_http_consent_overrides_t  ngx_http_consent_overrides;


ngx_uint_t
ngx_http_consent_vendor_disabled(ngx_uint_t vendor_id)
{
    ngx_http_consent_overrides_t  *ov = &ngx_http_consent_overrides;

    return ov->disabled && vendor_id < ov->nvendors
           && (ov->disabled[vendor_id >> 3] & (1 << (vendor_id & 7)));
}


ngx_uint_t
ngx_http_consent_overrides_active(void)
{
    return ngx_http_consent_overrides.off;
}


ngx_uint_t
ngx_http_consent_overrides_generation(void)
{
    return ngx_http_consent_overrides.generation;
}


const consent_rule_t *
ngx_http_consent_rule_active(const consent_rule_t *rule)
{
    if (rule && ngx_http_consent_vendor_disabled(rule->vendor_id)) {
        return NULL;
    }

    return rule;
}


void
ngx_http_consent_overrides_fetch(ngx_http_consent_main_conf_t *cmcf)
{
    size_t                         argvlen[CONSENT_SMEMBERS_ARGS];
    const char                    *argv[CONSENT_SMEMBERS_ARGS];
    consent_span_t                 key;
    ngx_http_consent_overrides_t  *ov;

    ov = &ngx_http_consent_overrides;

    if (cmcf->redis == NULL || cmcf->nrules == 0) {
        return;
    }

    ov->cmcf = cmcf;

    /* one question at a time: a change during it asks once more after */
    if (ov->cmd) {
        ov->again = 1;
        return;
    }

    key.data = cmcf->redis->rules_disabled.data;
    key.len = cmcf->redis->rules_disabled.len;

    if (ngx_http_consent_redis_command(
                        consent_rules_disabled_argv(&key, argv, argvlen),
                        argv, argvlen, ngx_http_consent_overrides_reply, ov,
                        &ov->cmd)
        != NGX_OK)
    {
        ov->cmd = NULL;
    }
}


static void
ngx_http_consent_overrides_reply(void *data, void *reply)
{
    ngx_http_consent_overrides_t *ov = data;

    int            id;
    size_t         i, n, len;
    u_char        *bits, *name;
    redisReply    *r, *e;
    ngx_uint_t     v, nvendors, off;
    const u_char  *vname;
    consent_ruleset_t  *rs;

    ov->cmd = NULL;
    r = reply;

    if (r == NULL) {
        return;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "consent redis: %Vrules:disabled is not a set, "
                      "vendor overrides unchanged",
                      &ov->cmcf->redis->prefix);
        goto again;
    }

    rs = ov->cmcf->rules;
    nvendors = consent_ruleset_vendors(rs);

    bits = ngx_calloc((nvendors + 7) / 8 + 1, ngx_cycle->log);
    if (bits == NULL) {
        goto again;
    }

    off = 0;

    for (i = 0; i < r->elements; i++) {
        e = r->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            continue;
        }

        name = (u_char *) e->str;
        n = e->len;
        id = -1;

        for (v = 0; v < nvendors; v++) {
            vname = consent_ruleset_vendor(rs, v, &len);

            if (len == n && ngx_strncasecmp((u_char *) vname, name, n) == 0)
            {
                id = (int) v;
                break;
            }
        }

        if (id < 0) {
            continue;
        }

        bits[id >> 3] |= (u_char) (1 << (id & 7));
        off++;
    }

    if (ov->disabled) {
        ngx_free(ov->disabled);
    }

    ov->disabled = bits;
    ov->nvendors = nvendors;
    ov->off = off;
    ov->generation++;

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "consent rules: %ui of %ui vendors switched off in redis",
                  off, nvendors);

again:

    if (ov->again) {
        ov->again = 0;
        ngx_http_consent_overrides_fetch(ov->cmcf);
    }
}
