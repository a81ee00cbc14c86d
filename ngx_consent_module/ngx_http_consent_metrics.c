/*
 * Copyright (C) ngx_consent_module authors
 *
 * consent_metrics: the counters live in a zone of their own
 * ("consent_metrics"), so every worker adds to the same ones and a
 * reload keeps them.  Per-vendor counters are entries keyed by the
 * vendor's and the purpose's names, added by the master when it sets the
 * zone up for a configuration (workers never add entries, so they need
 * no lock): each worker finds its entry through a table the master
 * filled, one per rules vendor and purpose, and adds atomically.  Label
 * values come from the rules, never from requests.
 */


#include "ngx_http_consent_module.h"
#include "ngx_http_consent_metrics.h"
#include "ngx_http_consent_cache.h"
#include "ngx_http_consent_overrides.h"


#define NGX_HTTP_CONSENT_METRICS_ZONE     (2 * 1024 * 1024)
#define NGX_HTTP_CONSENT_METRICS_ENTRIES  8192
#define NGX_HTTP_CONSENT_METRICS_SOURCES  7
#define NGX_HTTP_CONSENT_METRICS_CODES    5
#define NGX_HTTP_CONSENT_METRICS_RESULTS  5
#define NGX_HTTP_CONSENT_METRICS_BUCKETS  11
#define NGX_HTTP_CONSENT_METRICS_PIDS     64
#define NGX_HTTP_CONSENT_VENDOR_MAX       64


typedef struct {
    u_char                      vendor[NGX_HTTP_CONSENT_VENDOR_MAX];
    u_char                      purpose[CONSENT_PURPOSE_NAME_MAX + 1];
    u_char                      vendor_len;
    u_char                      purpose_len;
    ngx_atomic_t                stripped;
    ngx_atomic_t                dropped;
} ngx_http_consent_metrics_entry_t;


typedef struct {
    ngx_atomic_t                decisions[NGX_HTTP_CONSENT_METRICS_SOURCES]
                                         [CONSENT_REGIMES];
    ngx_atomic_t                required;
    ngx_atomic_t                api[NGX_HTTP_CONSENT_METRICS_CODES];
    ngx_atomic_t                lookups[NGX_HTTP_CONSENT_METRICS_RESULTS];
    ngx_atomic_t                latency[NGX_HTTP_CONSENT_METRICS_BUCKETS];
    ngx_atomic_t                latency_ms;
    ngx_atomic_t                latency_count;
    /* the pids of workers whose circuit is open: the gauge */
    ngx_atomic_t                circuit_pid[NGX_HTTP_CONSENT_METRICS_PIDS];
    ngx_atomic_t                circuit_opened;
    ngx_atomic_t                circuit_closed;
    /* counts of pairs the entries had no room for */
    ngx_atomic_t                overflow_stripped;
    ngx_atomic_t                overflow_dropped;
    /* a worker moved to another primary; WAIT counted too few replicas */
    ngx_atomic_t                primary_changes;
    ngx_atomic_t                unconfirmed;
    ngx_uint_t                  nentries;
    ngx_http_consent_metrics_entry_t
                                entries[NGX_HTTP_CONSENT_METRICS_ENTRIES];
} ngx_http_consent_metrics_sh_t;


/* what a configuration knows of the zone: the entry of each pair */
typedef struct {
    ngx_http_consent_main_conf_t   *cmcf;
    ngx_http_consent_metrics_sh_t  *sh;
    /* [vendor_id * CONSENT_MAX_PURPOSES + purpose]: entry + 1, 0 none */
    uint32_t                       *map;
    ngx_uint_t                      nvendors;
} ngx_http_consent_metrics_conf_t;


static ngx_int_t ngx_http_consent_metrics_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_consent_metrics_map(
    ngx_http_consent_metrics_conf_t *mc);
static ngx_uint_t ngx_http_consent_metrics_entry(
    ngx_http_consent_metrics_sh_t *sh, const u_char *vendor, size_t vlen,
    const u_char *purpose, size_t plen);
static ngx_int_t ngx_http_consent_metrics_handler(ngx_http_request_t *r);
static u_char *ngx_http_consent_metrics_render(u_char *p,
    ngx_http_consent_metrics_sh_t *sh, ngx_uint_t nentries,
    ngx_http_consent_main_conf_t *cmcf);
static u_char *ngx_http_consent_metrics_vendors(u_char *p,
    ngx_http_consent_metrics_sh_t *sh, ngx_uint_t nentries,
    ngx_uint_t set_cookie);
static ngx_uint_t ngx_http_consent_metrics_circuits(
    ngx_http_consent_metrics_sh_t *sh);


/* the worker's: NULL when no location has consent_metrics */
static ngx_http_consent_metrics_conf_t  *ngx_http_consent_metrics_conf;
static ngx_uint_t                        ngx_http_consent_metrics_open;


/* in seconds, as Prometheus wants them; the last is +Inf */
static ngx_msec_t  ngx_http_consent_metrics_le[] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 0
};

static const char  *ngx_http_consent_metrics_le_text[] = {
    "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5", "1", "+Inf"
};

static const char  *ngx_http_consent_metrics_code_text[] = {
    "200", "400", "403", "503", "other"
};

static const char  *ngx_http_consent_metrics_result_text[] = {
    "hit", "miss", "timeout", "error", "down"
};


char *
ngx_http_consent_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                         name;
    ngx_shm_zone_t                   *zone;
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_consent_main_conf_t     *cmcf;
    ngx_http_consent_metrics_conf_t  *mc;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_consent_metrics_handler;

    if (cmcf->metrics_zone) {
        return NGX_CONF_OK;
    }

    mc = ngx_pcalloc(cf->pool, sizeof(ngx_http_consent_metrics_conf_t));
    if (mc == NULL) {
        return NGX_CONF_ERROR;
    }

    mc->cmcf = cmcf;

    ngx_str_set(&name, "consent_metrics");

    zone = ngx_shared_memory_add(cf, &name, NGX_HTTP_CONSENT_METRICS_ZONE,
                                 &ngx_http_consent_module);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    /* a consent_zone of the same name has the module's tag too */
    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    zone->init = ngx_http_consent_metrics_init_zone;
    zone->data = mc;
    cmcf->metrics_zone = zone;

    return NGX_CONF_OK;
}


/* the table of entries, filled when the zone is set up */

ngx_int_t
ngx_http_consent_metrics_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_consent_main_conf_t     *cmcf;
    ngx_http_consent_metrics_conf_t  *mc;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_consent_module);

    if (cmcf->metrics_zone == NULL || cmcf->rules == NULL
        || cmcf->nrules == 0)
    {
        return NGX_OK;
    }

    mc = cmcf->metrics_zone->data;
    mc->nvendors = consent_ruleset_vendors(cmcf->rules);

    mc->map = ngx_pcalloc(cf->pool, mc->nvendors * CONSENT_MAX_PURPOSES
                                    * sizeof(uint32_t) + 1);
    if (mc->map == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * In the master, once the configuration is read: the counters of the
 * zone a reload keeps, or new ones, and an entry for each rules vendor
 * and purpose that does not have one yet.
 */

static ngx_int_t
ngx_http_consent_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_consent_metrics_conf_t *omc = data;

    ngx_slab_pool_t                  *shpool;
    ngx_http_consent_metrics_conf_t  *mc;

    mc = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (omc) {
        mc->sh = omc->sh;

    } else if (zone->shm.exists) {
        mc->sh = shpool->data;

    } else {
        mc->sh = ngx_slab_calloc(shpool,
                                 sizeof(ngx_http_consent_metrics_sh_t));
        if (mc->sh == NULL) {
            return NGX_ERROR;
        }

        shpool->data = mc->sh;
    }

    return ngx_http_consent_metrics_map(mc);
}


static ngx_int_t
ngx_http_consent_metrics_map(ngx_http_consent_metrics_conf_t *mc)
{
    size_t                         vlen;
    ngx_uint_t                     id, p;
    consent_mask_t                 purposes;
    const u_char                  *vendor;
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = mc->cmcf;

    if (mc->map == NULL) {
        return NGX_OK;
    }

    for (id = 0; id < mc->nvendors; id++) {
        vendor = consent_ruleset_vendor(cmcf->rules, id, &vlen);
        purposes = consent_ruleset_vendor_rule_purposes(cmcf->rules, id);

        for (p = 1; p < cmcf->purposes.n; p++) {
            if (!(purposes & CONSENT_BIT(p))) {
                continue;
            }

            mc->map[id * CONSENT_MAX_PURPOSES + p] =
                ngx_http_consent_metrics_entry(mc->sh, vendor, vlen,
                    (u_char *) cmcf->purposes.name[p], cmcf->purposes.len[p]);
        }
    }

    return NGX_OK;
}


/*
 * The entry of a pair, added if need be: its number + 1, or 0 when the
 * entries are full.  Written in full before nentries counts it, so a
 * worker rendering meanwhile never sees half an entry.
 */

static ngx_uint_t
ngx_http_consent_metrics_entry(ngx_http_consent_metrics_sh_t *sh,
    const u_char *vendor, size_t vlen, const u_char *purpose, size_t plen)
{
    ngx_uint_t                         i;
    ngx_http_consent_metrics_entry_t  *e;

    if (vlen > NGX_HTTP_CONSENT_VENDOR_MAX || plen > CONSENT_PURPOSE_NAME_MAX)
    {
        return 0;
    }

    for (i = 0; i < sh->nentries; i++) {
        e = &sh->entries[i];

        if (e->vendor_len == vlen && e->purpose_len == plen
            && ngx_memcmp(e->vendor, vendor, vlen) == 0
            && ngx_memcmp(e->purpose, purpose, plen) == 0)
        {
            return i + 1;
        }
    }

    if (sh->nentries == NGX_HTTP_CONSENT_METRICS_ENTRIES) {
        return 0;
    }

    e = &sh->entries[sh->nentries];
    ngx_memcpy(e->vendor, vendor, vlen);
    ngx_memcpy(e->purpose, purpose, plen);
    e->vendor_len = (u_char) vlen;
    e->purpose_len = (u_char) plen;

    ngx_memory_barrier();

    return ++sh->nentries;
}


void
ngx_http_consent_metrics_init_process(ngx_cycle_t *cycle)
{
    ngx_http_consent_main_conf_t  *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_consent_module);

    if (cmcf && cmcf->metrics_zone) {
        ngx_http_consent_metrics_conf = cmcf->metrics_zone->data;
    }
}


/* a worker going away takes its open circuit with it: no transition */

void
ngx_http_consent_metrics_exit_process(void)
{
    ngx_uint_t                      i;
    ngx_http_consent_metrics_sh_t  *sh;

    if (ngx_http_consent_metrics_conf == NULL
        || !ngx_http_consent_metrics_open)
    {
        return;
    }

    sh = ngx_http_consent_metrics_conf->sh;

    for (i = 0; i < NGX_HTTP_CONSENT_METRICS_PIDS; i++) {
        (void) ngx_atomic_cmp_set(&sh->circuit_pid[i], ngx_pid, 0);
    }
}


void
ngx_http_consent_metrics_decision(ngx_uint_t source, ngx_uint_t regime)
{
    if (ngx_http_consent_metrics_conf
        && source < NGX_HTTP_CONSENT_METRICS_SOURCES
        && regime < CONSENT_REGIMES)
    {
        (void) ngx_atomic_fetch_add(
            &ngx_http_consent_metrics_conf->sh->decisions[source][regime], 1);
    }
}


void
ngx_http_consent_metrics_cookie(const consent_rule_t *rule,
    ngx_uint_t set_cookie)
{
    uint32_t                           n;
    ngx_http_consent_metrics_sh_t     *sh;
    ngx_http_consent_metrics_conf_t   *mc;
    ngx_http_consent_metrics_entry_t  *e;

    mc = ngx_http_consent_metrics_conf;

    if (mc == NULL || rule == NULL) {
        return;
    }

    sh = mc->sh;
    n = (mc->map && rule->vendor_id < mc->nvendors)
        ? mc->map[rule->vendor_id * CONSENT_MAX_PURPOSES + rule->purpose]
        : 0;

    if (n == 0) {
        (void) ngx_atomic_fetch_add(set_cookie ? &sh->overflow_dropped
                                               : &sh->overflow_stripped, 1);
        return;
    }

    e = &sh->entries[n - 1];
    (void) ngx_atomic_fetch_add(set_cookie ? &e->dropped : &e->stripped, 1);
}


void
ngx_http_consent_metrics_required(void)
{
    if (ngx_http_consent_metrics_conf) {
        (void) ngx_atomic_fetch_add(
            &ngx_http_consent_metrics_conf->sh->required, 1);
    }
}


void
ngx_http_consent_metrics_primary_change(void)
{
    if (ngx_http_consent_metrics_conf) {
        (void) ngx_atomic_fetch_add(
            &ngx_http_consent_metrics_conf->sh->primary_changes, 1);
    }
}


void
ngx_http_consent_metrics_unconfirmed(void)
{
    if (ngx_http_consent_metrics_conf) {
        (void) ngx_atomic_fetch_add(
            &ngx_http_consent_metrics_conf->sh->unconfirmed, 1);
    }
}


void
ngx_http_consent_metrics_api(ngx_uint_t status)
{
    ngx_uint_t  i;

    if (ngx_http_consent_metrics_conf == NULL) {
        return;
    }

    switch (status) {
    case NGX_HTTP_OK:
        i = 0;
        break;
    case NGX_HTTP_BAD_REQUEST:
        i = 1;
        break;
    case NGX_HTTP_FORBIDDEN:
        i = 2;
        break;
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        i = 3;
        break;
    default:
        i = 4;
    }

    (void) ngx_atomic_fetch_add(&ngx_http_consent_metrics_conf->sh->api[i],
                                1);
}


void
ngx_http_consent_metrics_lookup(ngx_uint_t result)
{
    if (ngx_http_consent_metrics_conf
        && result < NGX_HTTP_CONSENT_METRICS_RESULTS)
    {
        (void) ngx_atomic_fetch_add(
            &ngx_http_consent_metrics_conf->sh->lookups[result], 1);
    }
}


void
ngx_http_consent_metrics_latency(ngx_msec_t ms)
{
    ngx_uint_t                      i;
    ngx_http_consent_metrics_sh_t  *sh;

    if (ngx_http_consent_metrics_conf == NULL) {
        return;
    }

    sh = ngx_http_consent_metrics_conf->sh;

    /* one bucket per reply; the cumulative counts are summed on output */
    for (i = 0; i < NGX_HTTP_CONSENT_METRICS_BUCKETS - 1; i++) {
        if (ms <= ngx_http_consent_metrics_le[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&sh->latency[i], 1);
    (void) ngx_atomic_fetch_add(&sh->latency_ms, ms);
    (void) ngx_atomic_fetch_add(&sh->latency_count, 1);
}


void
ngx_http_consent_metrics_circuit(ngx_uint_t open)
{
    ngx_uint_t                      i;
    ngx_http_consent_metrics_sh_t  *sh;

    if (ngx_http_consent_metrics_conf == NULL
        || open == ngx_http_consent_metrics_open)
    {
        return;
    }

    sh = ngx_http_consent_metrics_conf->sh;
    ngx_http_consent_metrics_open = open;

    /* a slot holds the worker's pid while its circuit is open */
    for (i = 0; i < NGX_HTTP_CONSENT_METRICS_PIDS; i++) {
        if (open ? ngx_atomic_cmp_set(&sh->circuit_pid[i], 0, ngx_pid)
                 : ngx_atomic_cmp_set(&sh->circuit_pid[i], ngx_pid, 0))
        {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(open ? &sh->circuit_opened
                                     : &sh->circuit_closed, 1);
}


/* the slots of workers still there: one that crashed is not counted */

static ngx_uint_t
ngx_http_consent_metrics_circuits(ngx_http_consent_metrics_sh_t *sh)
{
    ngx_pid_t   pid;
    ngx_uint_t  i, n;

    n = 0;

    for (i = 0; i < NGX_HTTP_CONSENT_METRICS_PIDS; i++) {
        pid = (ngx_pid_t) sh->circuit_pid[i];

        if (pid && (kill(pid, 0) == 0 || ngx_errno == NGX_EPERM)) {
            n++;
        }
    }

    return n;
}


/* GET or HEAD: text/plain; version=0.0.4, never cached */

static ngx_int_t
ngx_http_consent_metrics_handler(ngx_http_request_t *r)
{
    size_t                             size;
    ngx_int_t                          rc;
    ngx_buf_t                         *b;
    ngx_uint_t                         nentries;
    ngx_chain_t                        out;
    ngx_http_consent_main_conf_t      *cmcf;
    ngx_http_consent_metrics_conf_t   *mc;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_consent_module);
    mc = cmcf->metrics_zone->data;

    /*
     * The entries as they are now: a reload may add some meanwhile, and
     * the buffer is sized for these.  16 KB for the fixed part (under
     * 6 KB with 20-digit counters), 2 lines of at most 256 bytes an entry.
     */
    nentries = mc->sh->nentries;
    ngx_memory_barrier();

    size = 16384 + nentries * 2 * 256;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_http_consent_metrics_render(b->pos, mc->sh, nentries,
                                              cmcf);
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    if (ngx_http_consent_add_header(r, "Cache-Control", 13,
                                    (u_char *) "no-store", 8)
        == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


#define ngx_http_consent_metrics_head(p, name, type, help)                   \
    ngx_sprintf(p, "# HELP " name " " help "\n# TYPE " name " " type "\n")


static u_char *
ngx_http_consent_metrics_render(u_char *p, ngx_http_consent_metrics_sh_t *sh,
    ngx_uint_t nentries, ngx_http_consent_main_conf_t *cmcf)
{
    ngx_uint_t         i, j;
    const char        *source;
    ngx_atomic_uint_t  n, entries, evictions, invalidations;

    p = ngx_http_consent_metrics_head(p, "consent_decisions_total",
            "counter", "Decisions made, by where they came from and regime.");

    for (i = 0; i < NGX_HTTP_CONSENT_METRICS_SOURCES; i++) {
        source = consent_source_name(i);

        for (j = 0; j < CONSENT_REGIMES; j++) {
            p = ngx_sprintf(p, "consent_decisions_total{source=\"%s\","
                            "regime=\"%s\"} %uA\n",
                            *source ? source : "none",
                            consent_regime_name(j), sh->decisions[i][j]);
        }
    }

    p = ngx_http_consent_metrics_head(p, "consent_cookies_stripped_total",
            "counter", "Cookies stripped from requests, by vendor and "
            "purpose.");
    p = ngx_http_consent_metrics_vendors(p, sh, nentries, 0);

    p = ngx_http_consent_metrics_head(p, "consent_set_cookies_dropped_total",
            "counter", "Set-Cookie headers dropped from responses, by vendor "
            "and purpose.");
    p = ngx_http_consent_metrics_vendors(p, sh, nentries, 1);

    p = ngx_http_consent_metrics_head(p, "consent_require_refused_total",
            "counter", "Requests answered by consent_require.");
    p = ngx_sprintf(p, "consent_require_refused_total %uA\n", sh->required);

    p = ngx_http_consent_metrics_head(p, "consent_api_writes_total",
            "counter", "Consent API writes (POST, DELETE) by status.");

    for (i = 0; i < NGX_HTTP_CONSENT_METRICS_CODES; i++) {
        p = ngx_sprintf(p, "consent_api_writes_total{code=\"%s\"} %uA\n",
                        ngx_http_consent_metrics_code_text[i], sh->api[i]);
    }

    p = ngx_http_consent_metrics_head(p, "consent_redis_lookups_total",
            "counter", "Record lookups, by result (down: not asked, the "
            "circuit open).");

    for (i = 0; i < NGX_HTTP_CONSENT_METRICS_RESULTS; i++) {
        p = ngx_sprintf(p, "consent_redis_lookups_total{result=\"%s\"} %uA\n",
                        ngx_http_consent_metrics_result_text[i],
                        sh->lookups[i]);
    }

    p = ngx_http_consent_metrics_head(p, "consent_redis_reply_seconds",
            "histogram", "Time from a command queued to its reply, for "
            "lookups and writes (millisecond resolution).");

    for (n = 0, i = 0; i < NGX_HTTP_CONSENT_METRICS_BUCKETS; i++) {
        n += sh->latency[i];
        p = ngx_sprintf(p, "consent_redis_reply_seconds_bucket{le=\"%s\"} "
                        "%uA\n", ngx_http_consent_metrics_le_text[i], n);
    }

    p = ngx_sprintf(p, "consent_redis_reply_seconds_sum %uA.%03uA\n"
                    "consent_redis_reply_seconds_count %uA\n",
                    sh->latency_ms / 1000, sh->latency_ms % 1000,
                    sh->latency_count);

    p = ngx_http_consent_metrics_head(p, "consent_redis_circuit_open",
            "gauge", "Workers whose Redis circuit is open.");
    p = ngx_sprintf(p, "consent_redis_circuit_open %ui\n",
                    ngx_http_consent_metrics_circuits(sh));

    p = ngx_http_consent_metrics_head(p,
            "consent_redis_circuit_transitions_total", "counter",
            "Circuit breaker transitions, by the state entered.");
    p = ngx_sprintf(p, "consent_redis_circuit_transitions_total"
                    "{to=\"open\"} %uA\n"
                    "consent_redis_circuit_transitions_total"
                    "{to=\"closed\"} %uA\n",
                    sh->circuit_opened, sh->circuit_closed);

    p = ngx_http_consent_metrics_head(p,
            "consent_redis_primary_changes_total", "counter",
            "Times a worker moved to another primary named by Sentinel.");
    p = ngx_sprintf(p, "consent_redis_primary_changes_total %uA\n",
                    sh->primary_changes);

    p = ngx_http_consent_metrics_head(p,
            "consent_writes_unconfirmed_total", "counter",
            "Consent writes answered 503 because fewer replicas than "
            "consent_write_replicas confirmed them.");
    p = ngx_sprintf(p, "consent_writes_unconfirmed_total %uA\n",
                    sh->unconfirmed);

    entries = evictions = invalidations = 0;

    if (cmcf->zone) {
        ngx_http_consent_cache_stats(cmcf->zone->data, &entries, &evictions,
                                     &invalidations);
    }

    p = ngx_http_consent_metrics_head(p, "consent_cache_entries", "gauge",
            "Records in the shared cache (consent_zone).");
    p = ngx_sprintf(p, "consent_cache_entries %uA\n", entries);

    p = ngx_http_consent_metrics_head(p, "consent_cache_evictions_total",
            "counter", "Cache entries pushed out to make room.");
    p = ngx_sprintf(p, "consent_cache_evictions_total %uA\n", evictions);

    p = ngx_http_consent_metrics_head(p, "consent_cache_invalidations_total",
            "counter", "Invalidations the cache received (flushes too).");
    p = ngx_sprintf(p, "consent_cache_invalidations_total %uA\n",
                    invalidations);

    p = ngx_http_consent_metrics_head(p, "consent_vendor_overrides", "gauge",
            "Rules vendors switched off at run time (this worker's view).");
    p = ngx_sprintf(p, "consent_vendor_overrides %ui\n",
                    ngx_http_consent_overrides_active());

    return p;
}


static u_char *
ngx_http_consent_metrics_vendors(u_char *p, ngx_http_consent_metrics_sh_t *sh,
    ngx_uint_t nentries, ngx_uint_t set_cookie)
{
    ngx_uint_t                         i;
    const char                        *name;
    ngx_http_consent_metrics_entry_t  *e;

    name = set_cookie ? "consent_set_cookies_dropped_total"
                      : "consent_cookies_stripped_total";

    for (i = 0; i < nentries; i++) {
        e = &sh->entries[i];
        p = ngx_sprintf(p, "%s{vendor=\"%*s\",purpose=\"%*s\"} %uA\n", name,
                        (size_t) e->vendor_len, e->vendor,
                        (size_t) e->purpose_len, e->purpose,
                        set_cookie ? e->dropped : e->stripped);
    }

    /* pairs beyond the entries' room: counted, not lost */
    return ngx_sprintf(p, "%s{vendor=\"_overflow\",purpose=\"_overflow\"} "
                       "%uA\n", name, set_cookie ? sh->overflow_dropped
                                                 : sh->overflow_stripped);
}
