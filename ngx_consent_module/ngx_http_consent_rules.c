/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_rules and consent_rule: rule lines parsed by the pure core into
 * the main configuration's rule set while the configuration is read, a
 * bad line failing "nginx -t" with its file, line and why.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_rules.h"


static char *ngx_http_consent_add_rule_line(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf, u_char *p, size_t len,
    ngx_str_t *file, ngx_uint_t line);
static void ngx_http_consent_rule_field(u_char *p, size_t len, ngx_uint_t n,
    ngx_str_t *field);


static char *
ngx_http_consent_add_rule_line(ngx_conf_t *cf,
    ngx_http_consent_main_conf_t *cmcf, u_char *p, size_t len,
    ngx_str_t *file, ngx_uint_t line)
{
    ngx_int_t               rc;
    ngx_str_t               what;
    const char             *msg;
    consent_err_t           perr;
    consent_rule_t          rule;
    consent_vendor_meta_t   meta;
    char                    err[256];

    rc = consent_rule_parse(p, len, &cmcf->purposes, &rule, &perr);

    if (rc == CONSENT_LINE_BLANK) {
        return NGX_CONF_OK;
    }

    msg = perr.msg;

    if (rc == CONSENT_LINE_RULE) {
        rule.line = (uint32_t) line;

        if (consent_ruleset_add(cmcf->rules, &rule, err, sizeof(err)) == 0) {
            cmcf->nrules++;
            return NGX_CONF_OK;
        }

        msg = err;

    } else if (rc == CONSENT_LINE_VENDOR) {
        rc = consent_vendor_parse(p, len, &cmcf->purposes, &meta, &perr);

        if (rc == 1) {
            if (consent_ruleset_vendor_set(cmcf->rules, &meta, err,
                                           sizeof(err))
                == 0)
            {
                return NGX_CONF_OK;
            }

            msg = err;

        } else {
            msg = perr.msg;
        }
    }

    while (len && (p[len - 1] == '\r' || p[len - 1] == ' ')) {
        len--;
    }

    /* name the word that is wrong, not only what is wrong with it */
    ngx_str_null(&what);

    if (rc == -1 && perr.code == CONSENT_RULE_E_UNKNOWN_PURPOSE) {
        ngx_http_consent_rule_field(p, len, 1, &what);

    } else if (rc == -1 && perr.at.len && perr.at.data >= p
               && perr.at.data + perr.at.len <= p + len)
    {
        what.data = (u_char *) perr.at.data;
        what.len = perr.at.len;
    }

    if (file) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V:%ui: %s%s%V%s in \"%*s\"",
                           file, line, msg, what.len ? " \"" : "", &what,
                           what.len ? "\"" : "", len, p);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "consent_rule: %s%s%V%s in \"%*s\"",
                           msg, what.len ? " \"" : "", &what,
                           what.len ? "\"" : "", len, p);
    }

    return NGX_CONF_ERROR;
}


/* the n-th whitespace-separated field of a rule line, for messages */

static void
ngx_http_consent_rule_field(u_char *p, size_t len, ngx_uint_t n,
    ngx_str_t *field)
{
    u_char  *end;

    end = p + len;

    for ( ;; ) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        field->data = p;

        while (p < end && *p != ' ' && *p != '\t') {
            p++;
        }

        field->len = p - field->data;

        if (n-- == 0 || p == end) {
            return;
        }
    }
}


char *
ngx_http_consent_rules(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    u_char      *p, *end, *nl;
    ngx_str_t   *value, name, content;
    ngx_uint_t   line;

    value = cf->args->elts;
    name = value[1];

    if (ngx_http_consent_read_file(cf, &name, &content) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    p = content.data;
    end = p + content.len;

    for (line = 1; p < end; line++) {
        nl = ngx_strlchr(p, end, '\n');
        if (nl == NULL) {
            nl = end;
        }

        if (ngx_http_consent_add_rule_line(cf, cmcf, p, nl - p, &name, line)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        p = nl + 1;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_consent_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    u_char      *line, *p;
    size_t       len;
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;
    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0
            || ngx_strlchr(value[i].data, value[i].data + value[i].len, ' ')
            || ngx_strlchr(value[i].data, value[i].data + value[i].len, '\t'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        len += value[i].len + 1;
    }

    line = ngx_pnalloc(cf->pool, len);
    if (line == NULL) {
        return NGX_CONF_ERROR;
    }

    p = line;

    for (i = 1; i < cf->args->nelts; i++) {
        p = ngx_cpymem(p, value[i].data, value[i].len);
        *p++ = ' ';
    }

    return ngx_http_consent_add_rule_line(cf, cmcf, line, len - 1, NULL,
                                          cf->conf_file->line);
}


void
ngx_http_consent_scope(ngx_http_request_t *r, consent_ruleset_t *rules,
    const u_char *domain, size_t len, consent_scope_t *scope)
{
    if (len == 0) {
        /* validated by nginx: no port, lower case */
        domain = r->headers_in.server.data;
        len = r->headers_in.server.len;
    }

    consent_ruleset_scope(rules, domain, len, scope);
}
