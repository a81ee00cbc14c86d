/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_policy_version and consent_policy_next; see
 * ngx_http_consent_policy.h.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_policy.h"


static ngx_int_t ngx_http_consent_policy_floor(ngx_conf_t *cf,
    ngx_str_t *value, ngx_int_t version, ngx_uint_t *floor);
static time_t ngx_http_consent_policy_date(ngx_str_t *s);


void
ngx_http_consent_policy(ngx_http_consent_loc_conf_t *lcf, time_t now,
    ngx_http_consent_policy_t *p)
{
    if (lcf->next_version && now >= lcf->next_effective) {
        p->version = lcf->next_version;

        /* no floor of its own: the location's current one stands */
        p->reconsent_below =
            (lcf->next_reconsent_below == NGX_CONF_UNSET_UINT)
            ? lcf->reconsent_below : lcf->next_reconsent_below;
        p->next = 0;
        p->next_effective = 0;
        return;
    }

    p->version = lcf->policy_version;
    p->reconsent_below = lcf->reconsent_below;
    p->next = lcf->next_version;
    p->next_effective = lcf->next_version ? lcf->next_effective : 0;
}


char *
ngx_http_consent_policy_version(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (lcf->policy_version != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n > 0xffffffff) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid policy version \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->reconsent_below = 0;

    if (cf->args->nelts == 3
        && ngx_http_consent_policy_floor(cf, &value[2], n,
                                         &lcf->reconsent_below)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    lcf->policy_version = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/* consent_policy_next N effective=DATE [reconsent_below=M] | off */

char *
ngx_http_consent_policy_next(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    time_t       t;
    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i, floor, dated;

    if (lcf->next_version != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->next_version = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n == 0 || n > 0xffffffff) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid policy version \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    floor = NGX_CONF_UNSET_UINT;
    dated = 0;
    t = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_consent_param(&value[i], "effective=", &s) == NGX_OK) {
            t = ngx_http_consent_policy_date(&s);
            if (t == (time_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": a date (2027-01-01), "
                                   "a time (2027-01-01T09:00:00Z) or "
                                   "@unix-seconds", &value[i]);
                return NGX_CONF_ERROR;
            }

            dated = 1;
            continue;
        }

        if (ngx_http_consent_policy_floor(cf, &value[i], n, &floor)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (!dated) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"consent_policy_next\" needs effective=DATE");
        return NGX_CONF_ERROR;
    }

    lcf->next_version = (ngx_uint_t) n;
    lcf->next_effective = t;
    lcf->next_reconsent_below = floor;

    return NGX_CONF_OK;
}


char *
ngx_http_consent_policy_merge(ngx_conf_t *cf,
    ngx_http_consent_loc_conf_t *prev, ngx_http_consent_loc_conf_t *conf)
{
    /* the version and its floor go together */
    if (conf->policy_version == NGX_CONF_UNSET_UINT) {
        conf->policy_version = prev->policy_version;
        conf->reconsent_below = prev->reconsent_below;
    }

    ngx_conf_init_uint_value(conf->policy_version, 1);
    ngx_conf_init_uint_value(conf->reconsent_below, 0);

    /* and so do the next one's */
    if (conf->next_version == NGX_CONF_UNSET_UINT) {
        conf->next_version = prev->next_version;
        conf->next_effective = prev->next_effective;
        conf->next_reconsent_below = prev->next_reconsent_below;
    }

    ngx_conf_init_uint_value(conf->next_version, 0);

    if (conf->next_version == 0) {
        return NGX_CONF_OK;
    }

    /* here or inherited: either way an announcement of the past is wrong */
    if (conf->next_version <= conf->policy_version) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "consent_policy_next %ui (here or inherited) is "
                           "not above consent_policy_version %ui: raise it, "
                           "or say \"consent_policy_next off\" where the "
                           "version is set", conf->next_version,
                           conf->policy_version);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_consent_policy_floor(ngx_conf_t *cf, ngx_str_t *value,
    ngx_int_t version, ngx_uint_t *floor)
{
    ngx_int_t  n;

    if (value->len <= 16
        || ngx_strncmp(value->data, "reconsent_below=", 16) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", value);
        return NGX_ERROR;
    }

    n = ngx_atoi(value->data + 16, value->len - 16);

    /* a floor above the version would ask everyone again, forever */
    if (n == NGX_ERROR || n > version) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\": must be a number no greater "
                           "than the policy version", value);
        return NGX_ERROR;
    }

    *floor = (ngx_uint_t) n;

    return NGX_OK;
}


/* "2027-01-01", "2027-01-01T09:00:00Z", "@1798761600": UTC seconds */

static time_t
ngx_http_consent_policy_date(ngx_str_t *s)
{
    u_char      *p, *end;
    time_t       t;
    ngx_int_t    v[6];
    ngx_uint_t   i, n;
    struct tm    tm, back;

    static const size_t  width[6] = { 4, 2, 2, 2, 2, 2 };
    static const u_char  sep[6] = { '-', '-', 'T', ':', ':', 'Z' };

    if (s->len > 1 && s->data[0] == '@') {
        v[0] = ngx_atoi(s->data + 1, s->len - 1);
        return (v[0] == NGX_ERROR) ? (time_t) NGX_ERROR : (time_t) v[0];
    }

    if (s->len != 10 && s->len != 20) {
        return (time_t) NGX_ERROR;
    }

    ngx_memzero(v, sizeof(v));
    p = s->data;
    end = s->data + s->len;
    n = (s->len == 10) ? 3 : 6;

    for (i = 0; i < n; i++) {
        v[i] = ngx_atoi(p, width[i]);
        p += width[i];

        if (v[i] == NGX_ERROR) {
            return (time_t) NGX_ERROR;
        }

        if (p < end) {
            if (*p != sep[i]) {
                return (time_t) NGX_ERROR;
            }

            p++;
        }
    }

    if (p != end || v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1
        || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
    {
        return (time_t) NGX_ERROR;
    }

    ngx_memzero(&tm, sizeof(struct tm));
    tm.tm_year = (int) v[0] - 1900;
    tm.tm_mon = (int) v[1] - 1;
    tm.tm_mday = (int) v[2];
    tm.tm_hour = (int) v[3];
    tm.tm_min = (int) v[4];
    tm.tm_sec = (int) v[5];

    t = timegm(&tm);

    /* timegm() rolls 2027-02-31 over into March: a day that is not one */
    if (t == (time_t) -1 || gmtime_r(&t, &back) == NULL
        || back.tm_mday != (int) v[2] || back.tm_mon != (int) v[1] - 1)
    {
        return (time_t) NGX_ERROR;
    }

    return t;
}
