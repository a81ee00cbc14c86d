'use strict';

// consent_csp in a real browser (issue 14): a page whose
// Content-Security-Policy lists two ad vendors' hosts loads both vendors'
// scripts with consent and neither without, and nothing is written to
// localStorage without consent.
//
// nginx (the module, consent on, consent_csp on) serves http://site.test:P
// by proxy_pass to an origin server (consent off) that sends the page, its
// policy and a first-party script; the vendors' hosts ads-one.test and
// cdn.ads-two.test and a host the policy does not list (unlisted.test, a
// control: always blocked, by the origin's own policy) are another server
// of the same nginx.  chromium maps the four names to 127.0.0.1.  No Redis:
// the decision is the signed consent cookie's or the region's default
// (CF-IPCountry: FR is opt_in, US opt_out).
//
// Each case is a fresh chromium profile.  It checks what chromium
// received (status, the policy header, $consent_advertising), what ran
// (each script's global), what the browser refused (securitypolicyviolation
// events), what reached the vendors' server (its access log), and
// localStorage of the page's origin.  A screenshot of each case goes to
// build/browser/.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const h = require('./lib/harness');

const KEY = crypto.createHash('sha256').update('browser-csp-key-1').digest();
const { necessary, analytics, advertising } = h.PURPOSE_BITS;

const VENDORS = ['ads-one.test', 'cdn.ads-two.test'];
const CONTROL = 'unlisted.test';
const HOSTS = ['site.test', ...VENDORS, CONTROL];

const RULES = `# two ad vendors (issue 14's browser test)
@vendor adsone name="Ads One" purposes=advertising domains=ads-one.test
_adsone_id      advertising     adsone
@vendor adstwo name="Ads Two" purposes=advertising domains=ads-two.test
_adstwo_uid     advertising     adstwo
`;

// the origin's policy (P: the port chromium sees) and what the module
// makes of it when advertising is refused
const policy = (P) => `default-src 'self'; script-src 'self' `
    + `http://ads-one.test:${P} http://cdn.ads-two.test:${P}; `
    + `img-src 'self' data:`;
const REFUSED_POLICY = `default-src 'self'; script-src 'self'; `
    + `img-src 'self' data:`;

const page = (P) => `<!doctype html>
<html>
<head><meta charset="utf-8"><title>consent_csp in chromium</title></head>
<body>
<h1>consent_csp in chromium</h1>
<pre id="status">site.js did not run</pre>
<script src="http://ads-one.test:${P}/tag.js"></script>
<script src="http://cdn.ads-two.test:${P}/lib/tag.js"></script>
<script src="http://${CONTROL}:${P}/tag.js"></script>
<script src="/site.js"></script>
</body>
</html>
`;

const SITE_JS = `window.__site = 'ran';
document.getElementById('status').textContent = [
    'site.js (first party): ran',
    'ads-one.test/tag.js: ' + (window.__adsone || 'did not run'),
    'cdn.ads-two.test/lib/tag.js: ' + (window.__adstwo || 'did not run'),
    '${CONTROL}/tag.js (not in the policy): '
        + (window.__unlisted || 'did not run'),
    'localStorage: ' + JSON.stringify(Object.keys(localStorage).sort()),
].join('\\n');
`;

const vendorJs = (global, key, value) => `window.${global} = 'loaded';
localStorage.setItem(${JSON.stringify(key)}, ${JSON.stringify(value)});
`;

const conf = ({ dir, ports: [P, O] }) => `
    types {
        text/html               html;
        application/javascript  js;
    }
    consent_rules ${dir}/vendors.rules;
    consent_keys  ${dir}/keys;
    log_format site 'uri=$request_uri status=$status region=$consent_region '
                    'source=$consent_source advertising=$consent_advertising';
    log_format vendor '$host $request_uri $status';

    # the site: the module in front of the origin
    server {
        listen 127.0.0.1:${P};
        server_name site.test;
        access_log ${dir}/site.log site;
        consent on;
        consent_region $http_cf_ipcountry;
        consent_csp on;

        location / {
            proxy_pass http://127.0.0.1:${O};
            add_header X-Consent-Advertising $consent_advertising always;
            add_header X-Consent-Source $consent_source always;
        }
    }

    # the origin: the page with its policy, the first-party script
    server {
        listen 127.0.0.1:${O};
        server_name origin;
        access_log ${dir}/origin.log;
        consent off;
        root ${dir}/origin;

        location = /page.html {
            add_header Content-Security-Policy "${policy(P)}" always;
        }
    }

    # the vendors, and a host no policy lists
    server {
        listen 127.0.0.1:${P};
        server_name ${VENDORS.join(' ')} ${CONTROL};
        access_log ${dir}/vendors.log vendor;
        consent off;
        root ${dir}/vendors/$host;

        location = /__ready {
            return 204;
        }
    }
`;

const files = {
    keys: h.keysLine('k1', KEY),
    'vendors.rules': RULES,
    'origin/page.html': ({ ports: [P] }) => page(P),
    'origin/site.js': SITE_JS,
    'vendors/ads-one.test/tag.js': vendorJs('__adsone', 'adsone', '1'),
    'vendors/cdn.ads-two.test/lib/tag.js':
        vendorJs('__adstwo', 'adstwo', 'uid-42'),
    [`vendors/${CONTROL}/tag.js`]: vendorJs('__unlisted', 'unlisted', '1'),
};

const CASES = [
    { name: 'FR, signed cookie grants advertising', country: 'FR',
      grant: necessary | advertising, consent: true, source: 'cookie' },
    { name: 'FR, no cookie (opt_in default)', country: 'FR',
      consent: false, source: 'default' },
    { name: 'FR, signed cookie grants analytics only', country: 'FR',
      grant: necessary | analytics, consent: false, source: 'cookie' },
    { name: 'US, no cookie (opt_out default)', country: 'US',
      consent: true, source: 'default' },
];

let seq = 0;

async function runCase(ngx, c, n) {
    const [P] = ngx.ports;
    const url = `http://site.test:${P}/page.html`;
    const t = `${c.name}:`;
    const logFrom = ngx.log('vendors.log').length;

    const { browser, close } = await h.launchBrowser({ hosts: HOSTS });
    const diag = { console: [], failed: [] };
    const failedBefore = h.failed();
    try {
        const tab = await browser.newPage();
        tab.setDefaultTimeout(15000);
        tab.on('console', (m) => diag.console.push(`${m.type()}: ${m.text()}`));
        tab.on('requestfailed', (r) => diag.failed.push(
            `${r.url()} ${(r.failure() || {}).errorText}`));
        await tab.evaluateOnNewDocument(() => {
            window.__violations = [];
            document.addEventListener('securitypolicyviolation', (e) => {
                window.__violations.push({
                    blocked: e.blockedURI, directive: e.effectiveDirective,
                    disposition: e.disposition,
                });
            });
        });
        await tab.setExtraHTTPHeaders({ 'CF-IPCountry': c.country });
        if (c.grant !== undefined) {
            await tab.setCookie({
                name: 'consent', url: `http://site.test:${P}/`,
                value: h.mintToken('k1', KEY, `browser-${++seq}`, c.grant,
                    1, Math.floor(Date.now() / 1000) - 5),
            });
        }

        const res = await tab.goto(url, { waitUntil: 'load' });
        const hdr = res.headers();

        h.is(res.status(), 200, `${t} page 200`);
        h.is(hdr['content-security-policy'],
            c.consent ? policy(P) : REFUSED_POLICY,
            `${t} the policy chromium received`);
        h.is(hdr['x-consent-advertising'], c.consent ? '1' : '0',
            `${t} $consent_advertising`);
        h.is(hdr['x-consent-source'], c.source, `${t} $consent_source`);

        // the control's violation is reported after those of the scripts
        // before it: once it is there, every violation of the page is
        let violations;
        try {
            violations = await h.poll(`${CONTROL} refused`, () =>
                tab.evaluate(() => window.__violations).then((v) =>
                    v.some((x) => x.blocked.includes('unlisted.test'))
                        && v), 10000);
        } catch (e) {
            violations = await tab.evaluate(() => window.__violations);
        }
        const refusedHosts = violations
            .map((v) => { try { return new URL(v.blocked).hostname; }
                          catch (e) { return v.blocked; } })
            .sort();
        h.is(refusedHosts, c.consent ? [CONTROL] : [...VENDORS, CONTROL],
            `${t} the hosts chromium refused (securitypolicyviolation)`);
        h.ok(violations.every((v) => v.directive === 'script-src-elem'
            && v.disposition === 'enforce'),
            `${t} every refusal by script-src, enforced`, violations);

        const ran = await tab.evaluate(() => ({
            site: window.__site, adsone: window.__adsone,
            adstwo: window.__adstwo, unlisted: window.__unlisted,
        }));
        const want = c.consent ? 'loaded' : undefined;
        h.is(ran.site, 'ran', `${t} the first-party script ran`);
        h.is(ran.adsone, want, `${t} ads-one.test's script ${
            c.consent ? 'ran' : 'did not run'}`);
        h.is(ran.adstwo, want, `${t} cdn.ads-two.test's script ${
            c.consent ? 'ran' : 'did not run'}`);
        h.is(ran.unlisted, undefined, `${t} ${CONTROL}'s script did not run`);

        const stored = await tab.evaluate(() => {
            const o = {};
            for (const k of Object.keys(localStorage).sort()) {
                o[k] = localStorage.getItem(k);
            }
            return o;
        });
        h.is(stored, c.consent ? { adsone: '1', adstwo: 'uid-42' } : {},
            `${t} localStorage of http://site.test:${P}`);

        // what reached the vendors' server: the log line is written
        // after the answer went out, so wait for it when one is expected
        const vendorLog = () => ngx.log('vendors.log').slice(logFrom)
            .split('\n').filter((l) => l && !l.includes('/__ready'));
        const wantLog = c.consent
            ? ['ads-one.test /tag.js 200', 'cdn.ads-two.test /lib/tag.js 200']
            : [];
        if (c.consent) {
            await h.poll('vendor log', () => vendorLog().length >= 2, 5000)
                .catch(() => {});
        }
        h.is(vendorLog().sort(), wantLog,
            `${t} requests that reached the vendors' hosts`);

        // the case and the policy on the page, for the screenshot
        await tab.evaluate((title, csp) => {
            const p = document.createElement('pre');
            p.textContent = `${title}\nContent-Security-Policy: ${csp}`;
            document.body.insertBefore(p, document.body.firstChild);
        }, c.name, hdr['content-security-policy']);
        fs.mkdirSync(h.ARTEFACTS, { recursive: true });
        const shot = path.join(h.ARTEFACTS, `csp-${n}.png`);
        await tab.screenshot({ path: shot });
        h.note(`${c.name}: screenshot ${path.relative(h.REPO, shot)}`);
    } catch (e) {
        h.bail(e);
    } finally {
        if (h.failed() > failedBefore) {
            h.note(`console: ${JSON.stringify(diag.console, null, 1)}`);
            h.note(`failed requests: ${JSON.stringify(diag.failed, null, 1)}`);
        }
        await close();
    }
}

async function main() {
    const ngx = await h.startNginx({
        conf, files, nports: 2,
        ready: { port: 0, host: 'ads-one.test', path: '/__ready' },
    });
    try {
        for (const [i, c] of CASES.entries()) {
            await runCase(ngx, c, i + 1);
        }
        h.errorLogClean(ngx);
    } finally {
        await ngx.stop();
    }
}

h.run(__filename, main, 150000);
