/*
 * Copyright (C) ngx_consent_module authors
 *
 * Expiring refused cookies the browser still holds (consent_expire_rejected
 * and the consent API's withdrawals).  A browser deletes a cookie only for
 * a Set-Cookie with the same name, Domain and Path, and a script may have
 * set a tracker on the host, on the site's registrable domain or on a
 * directory of the page: one Max-Age=0 header goes out for each likely
 * place.  The places come from the server's own names (consent_cookie_domain
 * or the public suffix rule), never from every parent of a Host header a
 * client chose, and everything is capped: names, levels, domains and the
 * headers in all.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_expire.h"

#include "expiry.h"


typedef struct {
    ngx_str_t                  *names;
    ngx_uint_t                  nnames;
    ngx_uint_t                  secure;
    consent_span_t              domains[NGX_HTTP_CONSENT_EXPIRE_DOMAINS + 1];
    size_t                      ndomains;
    consent_span_t              paths[1 + 2 * NGX_HTTP_CONSENT_EXPIRE_DEPTH];
    size_t                      npaths;
} ngx_http_consent_expiry_t;


static ngx_uint_t ngx_http_consent_expire_collect(ngx_array_t *in,
    ngx_str_t *out);
static ngx_int_t ngx_http_consent_expire_one(ngx_http_request_t *r,
    ngx_str_t *name, consent_span_t *path, consent_span_t *domain,
    ngx_uint_t secure);


ngx_int_t
ngx_http_consent_expire_cookies(ngx_http_request_t *r, ngx_array_t *names)
{
    size_t                          i, d, n;
    ngx_str_t                       path, *name;
    ngx_uint_t                      sent, host_prefix;
    ngx_http_request_t             *mr;
    ngx_http_consent_expiry_t       ex;
    ngx_http_consent_loc_conf_t    *lcf;
    ngx_http_consent_main_conf_t   *cmcf;
    ngx_str_t                       uniq[NGX_HTTP_CONSENT_EXPIRE_NAMES];

    if (names == NULL || names->nelts == 0) {
        return NGX_OK;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_consent_module);
    mr = r->main;

    ex.names = uniq;
    ex.nnames = ngx_http_consent_expire_collect(names, uniq);

    if (ex.nnames == 0) {
        return NGX_OK;
    }

    /* index 0 is the host-only variant: no Domain attribute */
    ex.domains[0].data = NULL;
    ex.domains[0].len = 0;
    ex.ndomains = 1 + consent_expiry_domains(mr->headers_in.server.data,
                                        mr->headers_in.server.len,
                                        lcf->cookie_domains
                                        ? lcf->cookie_domains->elts : NULL,
                                        lcf->cookie_domains
                                        ? lcf->cookie_domains->nelts : 0,
                                        cmcf->psl, &ex.domains[1],
                                        NGX_HTTP_CONSENT_EXPIRE_DOMAINS);

    /* the path as the browser sent it, without the query */
    path = mr->unparsed_uri;

    for (i = 0; i < path.len; i++) {
        if (path.data[i] == '?') {
            path.len = i;
            break;
        }
    }

    ex.npaths = consent_expiry_paths(path.data, path.len,
                                     NGX_HTTP_CONSENT_EXPIRE_DEPTH, ex.paths);

#if (NGX_HTTP_SSL)
    ex.secure = (mr->connection->ssl != NULL);
#else
    ex.secure = 0;
#endif

    /*
     * The likeliest places first for every name, so that a cap cuts only
     * the least likely: Path=/ host-only, Path=/ on the registrable
     * domain... then the deeper paths.
     */
    sent = 0;

    for (i = 0; i < ex.npaths; i++) {
        for (d = 0; d < ex.ndomains; d++) {
            for (n = 0; n < ex.nnames; n++) {
                name = &ex.names[n];

                /* __Host-: Path=/, no Domain, Secure, or browsers ignore it */
                host_prefix = (name->len > 7
                               && ngx_strncmp(name->data, "__Host-", 7) == 0);

                if (host_prefix && (i > 0 || d > 0)) {
                    continue;
                }

                if (sent++ == NGX_HTTP_CONSENT_EXPIRE_HEADERS) {
                    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                                   "consent expiry capped at %d headers",
                                   NGX_HTTP_CONSENT_EXPIRE_HEADERS);
                    return NGX_OK;
                }

                if (ngx_http_consent_expire_one(r, name, &ex.paths[i],
                                                &ex.domains[d],
                                                ex.secure || host_prefix
                                                || (name->len > 9
                                                    && ngx_strncmp(name->data,
                                                         "__Secure-", 9)
                                                       == 0))
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
        }
    }

    return NGX_OK;
}


/* distinct token names, at most NGX_HTTP_CONSENT_EXPIRE_NAMES */

static ngx_uint_t
ngx_http_consent_expire_collect(ngx_array_t *in, ngx_str_t *out)
{
    ngx_str_t   *name;
    ngx_uint_t   i, j, n;

    name = in->elts;
    n = 0;

    for (i = 0; i < in->nelts && n < NGX_HTTP_CONSENT_EXPIRE_NAMES; i++) {

        /* a name that would end or split the header is never written */
        if (!consent_cookie_name_is_token(name[i].data, name[i].len)) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (out[j].len == name[i].len
                && ngx_strncmp(out[j].data, name[i].data, name[i].len) == 0)
            {
                break;
            }
        }

        if (j == n) {
            out[n++] = name[i];
        }
    }

    return n;
}


static ngx_int_t
ngx_http_consent_expire_one(ngx_http_request_t *r, ngx_str_t *name,
    consent_span_t *path, consent_span_t *domain, ngx_uint_t secure)
{
    u_char  *v, *p;
    size_t   len;

    len = name->len + sizeof("=; Max-Age=0; Path=") - 1 + path->len
          + sizeof("; Domain=") - 1 + domain->len + sizeof("; Secure") - 1;

    v = ngx_pnalloc(r->pool, len);
    if (v == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(v, name->data, name->len);
    p = ngx_cpymem(p, "=; Max-Age=0; Path=", sizeof("=; Max-Age=0; Path=") - 1);
    p = ngx_cpymem(p, path->data, path->len);

    if (domain->len) {
        p = ngx_cpymem(p, "; Domain=", sizeof("; Domain=") - 1);
        p = ngx_cpymem(p, domain->data, domain->len);
    }

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    if (ngx_http_consent_add_set_cookie(r, v, p - v) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* consent_cookie_domain off | domain ... */

char *
ngx_http_consent_cookie_domain(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_loc_conf_t *lcf = conf;

    u_char          *p;
    ngx_str_t       *value, d;
    ngx_uint_t       i;
    consent_span_t  *s;

    if (lcf->cookie_domains != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->cookie_domains = NULL;
        return NGX_CONF_OK;
    }

    lcf->cookie_domains = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                           sizeof(consent_span_t));
    if (lcf->cookie_domains == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        d = value[i];

        /* ".example.com" as browsers write it means example.com */
        if (d.len && d.data[0] == '.') {
            d.data++;
            d.len--;
        }

        for (p = d.data; p < d.data + d.len; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                  || *p == '-' || *p == '_' || *p == '.'))
            {
                break;
            }
        }

        if (d.len == 0 || p < d.data + d.len
            || ngx_strlchr(d.data, d.data + d.len, '.') == NULL
            || d.data[d.len - 1] == '.'
            || ngx_strstrn(d.data, "..", 2 - 1) != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cookie domain \"%V\" (lowercase, "
                               "at least two labels)", &value[i]);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(lcf->cookie_domains);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        s->data = d.data;
        s->len = d.len;
    }

    return NGX_CONF_OK;
}


/* consent_public_suffix_list file */

char *
ngx_http_consent_public_suffix_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_consent_main_conf_t *cmcf = conf;

    ngx_str_t      *value, name, content;
    consent_err_t   err;

    if (cmcf->psl) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_http_consent_read_file(cf, &name, &content) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cmcf->psl = consent_psl_create(&cmcf->alloc);
    if (cmcf->psl == NULL) {
        return NGX_CONF_ERROR;
    }

    if (consent_psl_parse(cmcf->psl, content.data, content.len, &err) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V:%ud: %s",
                           &name, err.line, err.msg);
        return NGX_CONF_ERROR;
    }

    if (consent_psl_count(cmcf->psl) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" has no public suffix rules", &name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
