'use strict';

// The example banner's site for the browser tests of its flows, cookies,
// keyboard use, layouts and accessibility (flows.test.js, cookies.test.js,
// keyboard.test.js, layout.test.js, a11y.test.js): what
// docker/demo/run.sh serves, on private ports, with the site's own
// tracking tags added.
//
//   const site = require('./lib/site');
//   const s = await site.start();        // redis + nginx, as below
//   const b = await h.launchBrowser({ hosts: site.HOSTS });
//   const { tab, diag } = await h.openTab(await b.browser
//       .createBrowserContext());        // a fresh jar per visitor
//   await site.visit(tab, s.url('/shop/?track'));
//   await site.act(tab, () => tab.click('[data-consent="reject"]'), 'POST');
//   await s.reload({ version: 2, reconsentBelow: 2 });
//   await s.stop();
//
// nginx, with the module and the shipped rules (ngx_consent_module/rules/,
// in docker/demo/run.sh's order):
//   - http://www.consent.test:P/ (chromium maps *.consent.test to
//     127.0.0.1): consent on, the region from X-Country (none: the
//     default opt_in regime), consent_expire_rejected on,
//     consent_cookie_domain consent.test; the consent API at /consent (a
//     private redis-server), the rules' vendors at /consent/vendors, and
//     everything else proxied to the origin;
//   - the origin (consent off): the banner's page (docker/demo/banner/ of
//     this checkout, the demo's Content-Security-Policy) at /banner/ and at
//     /shop/, with the site's tags (/tracker.js) added before </head>; any
//     other path echoes the Cookie and Consent headers it received
//     ("origin received Cookie: [...]"); origin.log has a line per
//     request: the method, the URI and those two headers.
//
// tracker.js stands for a site's analytics and ad tags: on a page opened
// with ?track in its query it sets, with document.cookie, tracking
// cookies where such tags put them (COOKIES below), an analytics and an
// advertising one in each place: host-only on "/" (_ga, _fbp), on the
// parent domain (Domain=consent.test: _gid, _gcl_au), and under the
// shop's path (_ga_SHOP1 with Path=/shop/; _fbc with no Path, which on
// /shop/ is /shop, a script's default); and the site's own cookies
// (cart: a "necessary" rule; shop_view, Path=/shop: no rule), which stay
// whatever the visitor chooses.

const path = require('path');
const crypto = require('crypto');
const h = require('./harness');

const HOST = 'www.consent.test';
const PARENT = 'consent.test';
const HOSTS = ['*.consent.test'];
const BANNER_DIR = path.join(h.REPO, 'docker', 'demo', 'banner');
const RULES_DIR = path.join(h.REPO, 'ngx_consent_module', 'rules');
const RULES = ['ocd.rules', 'default.rules', 'japan.rules', 'keep.rules'];
const KEY = crypto.createHash('sha256').update('browser-site-key-1').digest();
const OPTIONAL = ['functional', 'analytics', 'advertising', 'personalization',
    'sharing'];

// where tracker.js puts each cookie: [name, purpose, "domain path" as
// chromium's jar shows it, the attributes document.cookie is given]
const COOKIES = [
    ['_ga', 'analytics', `${HOST} /`, 'path=/'],
    ['_fbp', 'advertising', `${HOST} /`, 'path=/'],
    ['_gid', 'analytics', `.${PARENT} /`, `domain=${PARENT}; path=/`],
    ['_gcl_au', 'advertising', `.${PARENT} /`, `domain=${PARENT}; path=/`],
    ['_ga_SHOP1', 'analytics', `${HOST} /shop/`, 'path=/shop/'],
    ['_fbc', 'advertising', `${HOST} /shop`, ''],
    ['cart', 'necessary', `${HOST} /`, 'path=/'],
    ['shop_view', null, `${HOST} /shop`, 'path=/shop'],
];

const TRACKER_JS = `// the site's analytics and ad tags, as far as cookies go
// (the browser tests' lib/site.js): on a page opened with ?track,
// first-party cookies set the way such tags set them
(function () {
  if (!/[?&]track(&|=|$)/.test(location.search)) {
    return;
  }
  var set = ${JSON.stringify(COOKIES.map(([name, , , attrs]) =>
        [`${name}=${name.replace(/_/g, '')}-1`, attrs].filter(Boolean)
            .join('; ')))};
  set.forEach(function (c) {
    document.cookie = c + '; max-age=3600; samesite=lax';
  });
  window.__tracked = set.length;
}());
`;

// the page locations of the origin: the banner's files as the demo
// serves them, the tags added
const pageLocation = (prefix) => `
        location ${prefix} {
            alias ${BANNER_DIR}/;
            types {
                text/html html;
                text/css css;
                text/javascript js;
            }
            charset utf-8;
            charset_types text/css text/javascript;
            add_header X-Content-Type-Options nosniff;
            add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'";
            sub_filter '</head>' '<script src="/tracker.js" defer></script>\n</head>';
        }`;

const conf = (redisPort, policy) => ({ dir, ports: [P, O] }) => `
${RULES.map((r) => `    consent_rules ${RULES_DIR}/${r};`).join('\n')}
    consent_keys  ${dir}/keys;
    consent_redis 127.0.0.1:${redisPort} timeout=1s;
    consent_zone zone=consent:1m;
    consent_policy_version ${policy.version}${policy.reconsentBelow
        ? ` reconsent_below=${policy.reconsentBelow}` : ''};

    log_format front 'uri=$request_uri method=$request_method '
                     'status=$status source=$consent_source '
                     'purposes=$consent_purposes stripped=$consent_stripped';
    log_format origin '$request_method $request_uri '
                      'cookie="$http_cookie" consent="$http_consent"';

    # the origin: the site's pages; anything else echoes what reached it
    server {
        listen 127.0.0.1:${O};
        access_log ${dir}/origin.log origin;
        consent off;
${pageLocation('/banner/')}
${pageLocation('/shop/')}
        location = /tracker.js {
            alias ${dir}/tracker.js;
            default_type text/javascript;
        }
        # under /shop/: the cookies with Path=/shop go with it
        location = /shop/echo {
            return 200 "origin received Cookie: [$http_cookie]\\nConsent: [$http_consent]\\n";
        }
        location / {
            return 200 "origin received Cookie: [$http_cookie]\\nConsent: [$http_consent]\\n";
        }
    }

    # the site: the module in front of the origin, the consent API
    server {
        listen 127.0.0.1:${P};
        server_name ${HOST};
        access_log ${dir}/access.log front;

        consent on;
        consent_region $http_x_country;
        consent_expire_rejected on;
        consent_cookie_domain ${PARENT};

        location = /consent {
            consent_api;
        }
        location = /consent/vendors {
            consent_vendors;
        }
        location / {
            proxy_pass http://127.0.0.1:${O};
        }
    }
`;

// redis + nginx as above; policy: { version, reconsentBelow }
// (consent_policy_version).  The site: { ngx, redis, P, base, url(path),
// originLog(from), originLogSize(), record(subject), receipts(),
// reload(policy), stop() }
async function start({ policy = { version: 1 } } = {}) {
    const redis = await h.startRedis();
    let ngx;
    try {
        ngx = await h.startNginx({
            conf: conf(redis.port, policy), nports: 2,
            files: { keys: h.keysLine('k1', KEY), 'tracker.js': TRACKER_JS },
            ready: { port: 0, host: HOST, path: '/consent/vendors' },
        });
    } catch (e) {
        await redis.stop();
        throw e;
    }
    const [P] = ngx.ports;
    const base = `http://${HOST}:${P}`;
    return {
        ngx, redis, P, base,
        url: (p) => `${base}${p}`,
        // what the origin received, a line a request from offset from:
        // [{ method, uri, cookies: [names, sorted], consent }]
        originLog: (from = 0) => ngx.log('origin.log').slice(from)
            .split('\n').filter(Boolean).map((l) => {
                const m = /^(\S+) (\S+) cookie="([^"]*)" consent="([^"]*)"$/
                    .exec(l) || [];
                // nginx logs an empty header as "-"
                const hdr = (v) => (v === '-' || !v ? '' : v);
                return { method: m[1], uri: m[2],
                    cookies: hdr(m[3]).split('; ').filter(Boolean)
                        .map((c) => c.split('=')[0]).sort(),
                    consent: hdr(m[4]) };
            }),
        originLogSize: () => ngx.log('origin.log').length,
        // the subject's Redis record as an object
        record: async (subject) => {
            const a = await redis.cmd('HGETALL', `consent:s:${subject}`);
            const o = {};
            for (let i = 0; a && i + 1 < a.length; i += 2) o[a[i]] = a[i + 1];
            return o;
        },
        // the receipts, oldest first, each an object of its fields
        receipts: async () => (await redis.cmd('XRANGE', 'consent:log',
            '-', '+')).map(([, f]) => {
            const o = {};
            for (let i = 0; i + 1 < f.length; i += 2) o[f[i]] = f[i + 1];
            return o;
        }),
        reload: (p) => ngx.reload({ conf: conf(redis.port, p) }),
        stop: async () => {
            try { await ngx.stop(); } finally { await redis.stop(); }
        },
    };
}

// ------------------------------------------------------ in the browser

const bannerShown = () => {
    const b = document.getElementById('consent-banner');
    return !!b && !b.hidden;
};

// goto url, then until banner.js has the visitor's state (the banner or
// its opener shown); the navigation's response
async function visit(tab, url) {
    const res = await tab.goto(url, { waitUntil: 'load' });
    await h.waitIn(tab, 'the banner\'s state loaded', () =>
        !document.getElementById('consent-banner').hidden
        || !document.getElementById('consent-open').hidden);
    return res;
}

const isApi = (method) => (r) => new URL(r.url()).pathname === '/consent'
    && r.request().method() === method;

// press() (a click, a key) makes the banner write (POST, DELETE): waited
// for are its answer, the banner closing and the demo page's own request
// to the origin that follows every new state, so nothing is in flight
// after.  { status, json (the answer), sent (the request's body) }
async function act(tab, press, method) {
    const api = tab.waitForResponse(isApi(method));
    const asked = tab.waitForResponse((r) =>
        new URL(r.url()).pathname === '/' && r.request().method() === 'GET');
    api.catch(() => {});
    asked.catch(() => {});
    await press();
    const res = await api;
    const json = await res.json().catch(() => null);
    // a write refused: the banner stays open, nothing follows
    if (res.ok()) {
        await asked;
        await h.waitIn(tab, 'the banner closed', () =>
            document.getElementById('consent-banner').hidden);
    }
    return {
        status: res.status(), json,
        sent: res.request().postData() || null,
    };
}

// the "Privacy choices" button: the banner again, with a decision
async function reopen(tab) {
    await tab.click('#consent-open');
    await h.waitIn(tab, 'the banner shown', bannerShown);
}

// "Choose", then until the purposes' vendor lists are there
async function choose(tab) {
    await tab.click('[data-consent="choose"]');
    await h.waitIn(tab, 'the vendor lists', () =>
        !!document.querySelector('button[data-toggle="advertising"]'));
}

// the purposes ticked in the open form: exactly want (optional ones)
async function tick(tab, want) {
    for (const p of OPTIONAL) {
        const on = await tab.$eval(`#consent-p-${p}`, (b) => b.checked);
        if (on !== want.includes(p)) await tab.click(`#consent-p-${p}`);
    }
}

// GET /consent from the page
function apiState(tab) {
    return tab.evaluate(async () => {
        const r = await fetch('/consent', { credentials: 'same-origin',
            cache: 'no-store', headers: { Accept: 'application/json' } });
        return { status: r.status, json: await r.json() };
    });
}

// the signed consent cookie in the jar: { subject, purposes (names, in
// mask order), pv, httpOnly, domain, path } or null
async function consentCookie(tab) {
    const c = (await h.jar(tab, true)).find((x) => x.name === 'consent');
    if (!c) return null;
    const f = c.value.split('.');
    const mask = parseInt(f[3], 16);
    return {
        subject: f[2],
        purposes: Object.entries(h.PURPOSE_BITS)
            .filter(([, bit]) => mask & bit).map(([n]) => n),
        pv: Number(f[4]), httpOnly: c.httpOnly, domain: c.domain,
        path: c.path,
    };
}

// the cookies tracker.js sets whose purpose keep(purpose) accepts (all
// by default; null: the one no rule names), as h.jar() shows them, sorted
const tracked = (keep = () => true) => COOKIES
    .filter(([, purpose]) => keep(purpose))
    .map(([name, , where]) => `${name} ${where}`).sort();

module.exports = {
    HOST, PARENT, HOSTS, BANNER_DIR, COOKIES, OPTIONAL, start, bannerShown,
    visit, act, reopen, choose, tick, apiState, consentCookie, tracked,
};
