'use strict';

// The example consent banner (docker/demo/banner/) in a real browser,
// against the module's consent API, with per-vendor choices (issue 14):
// under each purpose the banner lists the purpose's vendors (from
// /consent/vendors), each with a switch; a vendor switched off goes into
// the POST's "vendors_refused", GET /consent gives it back, and the module
// strips that vendor's cookies though its purpose is granted.  In English
// and in Japanese, from the browser's languages or the banner's switch.
//
// nginx is configured like docker/demo/run.sh's: the consent API at
// /consent (a private redis-server, started here), the vendor list at
// /consent/vendors, the banner's files at /banner/ (an alias to the
// repository's docker/demo/banner/ itself, with the demo's
// Content-Security-Policy) and, behind the module, an origin that echoes
// the Cookie header it receives.  The rules are this file's: three
// advertising vendors and two analytics ones, each with one cookie.
//
// Cases, each a fresh chromium profile (the second is the first's after a
// reload):
//   1. English browser: first visit shows the banner (lang="en"); a
//      choice of advertising with its vendor adsone switched off is
//      saved: the POST said so, GET /consent says so, Redis keeps it, and
//      the origin then receives ads2_id but not ads1_id
//   2. the reload: the banner reopened shows adsone off, the others on
//   3. Japanese browser: lang="ja" and the banner's Japanese texts; the
//      language switch turns it to English (lang="en"), which stays
//   4. the keyboard: Choose, a purpose and its vendor list's toggle are
//      reached with Tab; Enter opens the list (aria-expanded="true")
// and in each, no console error, no uncaught exception.  Screenshots go
// to build/browser/ (BROWSER_ARTEFACTS).

const path = require('path');
const crypto = require('crypto');
const h = require('./lib/harness');

const KEY = crypto.createHash('sha256').update('browser-banner-key-1')
    .digest();
const HOST = 'shop.test';
const BANNER_DIR = path.join(h.REPO, 'docker', 'demo', 'banner');

const RULES = `# the banner's browser test: 3 advertising vendors, 2 analytics ones
@vendor adsone name="Ads One" purposes=advertising country=FR policy=https://ads-one.example/privacy optout=https://ads-one.example/optout storage=ads1_*
ads1_id         advertising     adsone
@vendor adstwo name="Ads Two" controller="Ads Two KK" purposes=advertising country=JP policy=https://ads-two.example/privacy storage=ads2_key
ads2_id         advertising     adstwo
@vendor adsthree name="Ads Three" purposes=advertising country=US
ads3_id         advertising     adsthree
@vendor statsone name="Stats One" purposes=analytics country=DE policy=https://stats-one.example/privacy storage=stats1
stats1_id       analytics       statsone
@vendor statstwo name="Stats Two" purposes=analytics
stats2_id       analytics       statstwo
`;
const AD_VENDORS = ['adsone', 'adstwo', 'adsthree'];
const ANALYTICS_VENDORS = ['statsone', 'statstwo'];

// what docker/demo/run.sh's nginx does, on private ports
const conf = (redisPort) => ({ dir, ports: [P, O] }) => `
    consent_rules ${dir}/vendors.rules;
    consent_keys  ${dir}/keys;
    # the demo's default timeout is 50 ms: too short for a loaded test
    # machine that also runs chromium (a POST answered 503 once)
    consent_redis 127.0.0.1:${redisPort} timeout=1s;
    consent_zone zone=consent:1m;
    consent_policy_version 1;

    log_format consent 'uri=$request_uri status=$status '
                       'source=$consent_source purposes=$consent_purposes '
                       'stripped=$consent_stripped '
                       'lang="$http_accept_language"';

    # the origin: shows what reached it
    server {
        listen 127.0.0.1:${O};
        access_log off;
        consent off;
        location / {
            return 200 "origin received Cookie: [$http_cookie]\\n";
        }
    }

    server {
        listen 127.0.0.1:${P};
        server_name ${HOST};
        access_log ${dir}/access.log consent;

        consent on;
        consent_region $http_x_country;
        consent_expire_rejected on;

        location = /consent {
            consent_api;
        }

        location = /consent/vendors {
            consent_vendors;
        }

        location = /banner {
            return 301 /banner/;
        }
        location /banner/ {
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
        }

        location / {
            proxy_pass http://127.0.0.1:${O};
        }
    }
`;

const files = {
    keys: h.keysLine('k1', KEY),
    'vendors.rules': RULES,
};

// --------------------------------------------------------------- helpers

const { waitIn, echoedNames, noErrors, runCase } = h;

const bannerShown = () => {
    const b = document.getElementById('consent-banner');
    return b && !b.hidden;
};

// the texts and states the cases look at, in one evaluate
function snapshot() {
    const q = (s) => document.querySelector(s);
    const text = (s) => (q(s) ? q(s).textContent.trim() : null);
    const vendorsOf = (p) => Array.from(document.querySelectorAll(
        `.consent-vendors[data-purpose="${p}"] input[data-vendor]`))
        .map((b) => ({ id: b.dataset.vendor, checked: b.checked,
            disabled: b.disabled, role: b.getAttribute('role'),
            name: (document.querySelector(`label[for="${b.id}"]`) || {})
                .textContent }));
    const toggle = (p) => q(`button[data-toggle="${p}"]`);
    return {
        lang: document.documentElement.lang,
        languages: navigator.languages,
        title: text('#consent-title'),
        intro: text('#consent-intro'),
        accept: text('[data-consent="accept"]'),
        choose: text('[data-consent="choose"]'),
        save: text('[data-consent="save"]'),
        heading: text('[data-demo-text="heading"]'),
        docTitle: document.title,
        bannerShown: !q('#consent-banner').hidden,
        openerShown: !q('#consent-open').hidden,
        formShown: !q('#consent-form').hidden,
        status: text('#consent-status'),
        message: text('#consent-message'),
        langPressed: Array.from(document.querySelectorAll(
            '#consent-lang button[data-lang]'))
            .filter((b) => b.getAttribute('aria-pressed') === 'true')
            .map((b) => b.dataset.lang),
        purposes: Object.fromEntries(Array.from(document.querySelectorAll(
            '#consent-purposes input[data-purpose]'))
            .map((b) => [b.dataset.purpose, b.checked])),
        toggles: Object.fromEntries(['analytics', 'advertising']
            .filter((p) => toggle(p))
            .map((p) => [p, { text: toggle(p).textContent,
                expanded: toggle(p).getAttribute('aria-expanded'),
                panelShown: !document.getElementById(
                    toggle(p).getAttribute('aria-controls')).hidden }])),
        advertising: vendorsOf('advertising'),
        analytics: vendorsOf('analytics'),
        links: Array.from(document.querySelectorAll(
            '.consent-vendors[data-purpose="advertising"] a'))
            .map((a) => a.href),
    };
}

const pick = (vs, k) => Object.fromEntries(vs.map((v) => [v.id, v[k]]));

// the Accept-Language nginx logged for the banner page's request (the
// line is written once the answer went out: waited for)
async function acceptLanguage(ngx, from) {
    const line = () => ngx.log('access.log').slice(from).split('\n')
        .find((x) => x.startsWith('uri=/banner/ '));
    await h.poll('the page\'s access log line', line, 5000)
        .catch(() => {});
    const m = /lang="([^"]*)"/.exec(line() || '');
    return m ? m[1] : null;
}

async function apiGet(tab) {
    return tab.evaluate(async () => {
        const r = await fetch('/consent', { credentials: 'same-origin',
            cache: 'no-store', headers: { Accept: 'application/json' } });
        return { status: r.status, json: await r.json() };
    });
}

// build/browser/banner-NAME.png (BROWSER_ARTEFACTS)
const shot = (tab, name) => h.screenshot(tab, `banner-${name}`, h.ARTEFACTS);

// a fresh profile and a tab that records what the cases check (console
// errors, uncaught exceptions, failed requests: h.openTab) and the POSTs
// to /consent
async function openBrowser(lang) {
    const b = await h.launchBrowser({ hosts: [HOST], lang });
    const { tab, diag } = await h.openTab(b.browser);
    diag.posts = [];
    tab.on('request', (r) => {
        const u = new URL(r.url());
        if (u.pathname === '/consent' && r.method() === 'POST') {
            diag.posts.push({ body: r.postData(), headers: r.headers() });
        }
    });
    return { ...b, tab, diag };
}

// ----------------------------------------------------------------- cases

// 1 and 2: an English browser refuses adsone, keeps advertising; reload
async function englishChoice(ngx, redis) {
    const [P] = ngx.ports;
    const base = `http://${HOST}:${P}`;
    await runCase('en', async (ctx) => {
        const { tab, diag, close } = await openBrowser('en-US');
        Object.assign(ctx, { diag, close });
        let t = 'en, first visit:';
        const logFrom = ngx.log('access.log').length;

        const res = await tab.goto(`${base}/banner/`, { waitUntil: 'load' });
        h.is(res.status(), 200, `${t} the banner page 200`);
        h.is(await acceptLanguage(ngx, logFrom), 'en-US,en;q=0.9',
            `${t} chromium sent Accept-Language en-US`);
        await waitIn(tab, 'the banner shown', bannerShown);
        let s = await tab.evaluate(snapshot);
        h.is(s.lang, 'en', `${t} <html lang="en">`);
        h.is([s.title, s.accept, s.choose],
            ['Your privacy choices', 'Accept all', 'Choose'],
            `${t} the banner in English`);
        h.is(s.langPressed, ['en'], `${t} the switch marks English`);
        h.ok(!s.openerShown, `${t} no "Privacy choices" button yet`);
        const first = await apiGet(tab);
        h.is([first.json.reconsent, first.json.vendors_refused],
            [true, []], `${t} GET /consent: no decision, none refused`);
        await shot(tab, '1-en-first-visit');

        // Choose: the purposes, then (from /consent/vendors) the toggles
        await tab.click('[data-consent="choose"]');
        await waitIn(tab, 'the vendor toggles', () =>
            !!document.querySelector('button[data-toggle="advertising"]'));
        s = await tab.evaluate(snapshot);
        h.ok(s.formShown, `${t} Choose opens the purposes`);
        h.is(s.toggles.advertising && s.toggles.advertising.text,
            'Advertising: 3 companies', `${t} advertising: "3 companies"`);
        h.is(s.toggles.analytics && s.toggles.analytics.text,
            'Analytics: 2 companies', `${t} analytics: "2 companies"`);
        h.is(s.toggles.advertising && s.toggles.advertising.expanded,
            'false', `${t} the lists start collapsed`);

        // advertising on, its list open, adsone off
        if (!s.purposes.advertising) await tab.click('#consent-p-advertising');
        await tab.click('button[data-toggle="advertising"]');
        s = await tab.evaluate(snapshot);
        h.ok(s.purposes.advertising, `${t} advertising switched on`);
        h.is([s.toggles.advertising.expanded, s.toggles.advertising.panelShown],
            ['true', true], `${t} the advertising list opens`);
        h.is(s.advertising.map((v) => [v.id, v.name, v.role]),
            [['adsone', 'Ads One', 'switch'], ['adstwo', 'Ads Two', 'switch'],
             ['adsthree', 'Ads Three', 'switch']],
            `${t} its three vendors, each a switch, in rules order`);
        h.is(pick(s.advertising, 'checked'),
            { adsone: true, adstwo: true, adsthree: true },
            `${t} all on at first`);
        h.is(s.links, ['https://ads-one.example/privacy',
            'https://ads-one.example/optout',
            'https://ads-two.example/privacy'],
            `${t} the vendors' policy and opt-out links`);

        await tab.click('input[data-vendor="adsone"]');
        s = await tab.evaluate(snapshot);
        h.is(pick(s.advertising, 'checked'),
            { adsone: false, adstwo: true, adsthree: true },
            `${t} adsone switched off, the others on`);
        h.is(s.toggles.advertising.text, 'Advertising: 3 companies, 1 off',
            `${t} the toggle counts it`);
        await shot(tab, '2-en-adsone-off');

        // what the vendors' scripts would have left in localStorage
        await tab.evaluate(() => {
            for (const k of ['ads1_x', 'ads1_y', 'ads2_key', 'stats1',
                'site_pref']) {
                window.localStorage.setItem(k, '1');
            }
        });

        // save: the POST, then the demo page's own request to the origin
        const posted = tab.waitForResponse((r) =>
            new URL(r.url()).pathname === '/consent'
            && r.request().method() === 'POST');
        const asked = tab.waitForResponse((r) =>
            new URL(r.url()).pathname === '/' && r.request().method() === 'GET');
        // awaited below, unless the case failed before: then not unhandled
        posted.catch(() => {});
        asked.catch(() => {});
        await tab.click('[data-consent="save"]');
        const post = await posted;
        t = 'en, saved:';
        let body = null;
        try {
            body = JSON.parse(diag.posts[diag.posts.length - 1].body);
        } catch (e) { /* compared below */ }
        h.is(diag.posts.length, 1, `${t} one POST /consent`);
        h.is(body, { purposes: ['advertising'], policy_version: 1,
            vendors_refused: ['adsone'] },
            `${t} the POST sent vendors_refused ["adsone"]`);
        h.is(post.status(), 200, `${t} POST answered 200`);
        const answer = await post.json().catch(() => null);
        h.is(answer && answer.vendors_refused, ['adsone'],
            `${t} its answer shows adsone refused`);
        await waitIn(tab, 'the banner closed', () =>
            document.getElementById('consent-banner').hidden);
        // storage= of refused vendors goes: adsone (switched off) and
        // statsone (analytics refused); adstwo's and the site's stay
        await waitIn(tab, 'refused vendors\' localStorage cleared', () =>
            window.localStorage.getItem('ads1_x') === null).catch(() => {});
        h.is(await tab.evaluate(() => Object.keys(window.localStorage)
            .filter((k) => k !== 'consent-banner-lang').sort()),
            ['ads2_key', 'site_pref'],
            `${t} localStorage: the refused vendors' keys removed (ads1_*, `
            + 'stats1), the granted vendor\'s and the site\'s kept');
        s = await tab.evaluate(snapshot);
        h.is([s.status, s.openerShown], ['Saved: your choices.', true],
            `${t} the banner closes, says so, offers "Privacy choices"`);

        const got = await apiGet(tab);
        h.is(got.status, 200, `${t} GET /consent 200`);
        h.is([got.json.purposes, got.json.vendors_refused, got.json.reconsent],
            [['necessary', 'advertising'], ['adsone'], false],
            `${t} GET /consent: advertising granted, vendors_refused `
            + '["adsone"]');
        const rec = await redis.cmd('HGETALL',
            `consent:s:${got.json.subject}`);
        const recObj = {};
        for (let i = 0; rec && i + 1 < rec.length; i += 2) {
            recObj[rec[i]] = rec[i + 1];
        }
        h.is([recObj.p, recObj.vr], ['advertising', 'adsone'],
            `${t} the Redis record keeps the purposes and vr=adsone`);

        // the demo page asked the origin after the save: then the jar
        await asked;
        await tab.evaluate(() => {
            for (const c of ['ads1_id=one', 'ads2_id=two', 'ads3_id=three',
                'stats1_id=four']) {
                document.cookie = `${c}; path=/; max-age=600; samesite=lax`;
            }
        });
        const jar = (await tab.cookies(`${base}/`)).map((c) => c.name).sort();
        h.is(jar, ['ads1_id', 'ads2_id', 'ads3_id', 'consent', 'stats1_id'],
            `${t} the jar: the consent cookie and four tracking cookies`);
        const echo = await tab.evaluate(async () => {
            const r = await fetch('/echo', { credentials: 'same-origin',
                cache: 'no-store' });
            return { status: r.status, body: await r.text() };
        });
        h.is(echo.status, 200, `${t} the origin through nginx 200`);
        h.is(echoedNames(echo.body), ['ads2_id', 'ads3_id', 'consent'],
            `${t} the origin got ads2_id and ads3_id, not ads1_id `
            + '(refused vendor) nor stats1_id (refused purpose)');
        await h.poll('access log line', () =>
            /uri=\/echo /.test(ngx.log('access.log')), 5000).catch(() => {});
        const line = ngx.log('access.log').split('\n')
            .find((l) => l.startsWith('uri=/echo ')) || '';
        const stripped = ((/stripped=(\S*)/.exec(line) || [])[1] || '')
            .split(',').filter(Boolean).sort();
        h.is(stripped, ['ads1_id', 'stats1_id'],
            `${t} $consent_stripped names ads1_id and stats1_id`);
        // consent_expire_rejected: what was stripped expires in the jar
        h.is((await tab.cookies(`${base}/`)).map((c) => c.name).sort(),
            ['ads2_id', 'ads3_id', 'consent'],
            `${t} consent_expire_rejected: ads1_id and stats1_id expired `
            + 'in the jar');
        await tab.click('#demo-ask');
        await waitIn(tab, 'the demo shows the origin', () =>
            /ads2_id/.test(document.getElementById('demo-origin')
                .textContent));
        await shot(tab, '3-en-saved');
        noErrors('en, first visit and save:', diag);

        // 2. the reload: the state from GET /consent
        t = 'en, reload:';
        diag.errors.length = 0;
        diag.pageErrors.length = 0;
        await tab.reload({ waitUntil: 'load' });
        await waitIn(tab, 'the opener shown', () =>
            !document.getElementById('consent-open').hidden);
        s = await tab.evaluate(snapshot);
        h.ok(!s.bannerShown, `${t} a decision: the banner stays closed`);
        await tab.click('#consent-open');
        await waitIn(tab, 'the banner shown', bannerShown);
        await tab.click('[data-consent="choose"]');
        await waitIn(tab, 'the vendor toggles', () =>
            !!document.querySelector('button[data-toggle="advertising"]'));
        s = await tab.evaluate(snapshot);
        h.is(s.purposes, { necessary: true, functional: false,
            analytics: false, advertising: true, personalization: false,
            sharing: false }, `${t} the purposes as saved`);
        h.is(s.toggles.advertising.text, 'Advertising: 3 companies, 1 off',
            `${t} advertising: "3 companies, 1 off"`);
        await tab.click('button[data-toggle="advertising"]');
        await tab.click('button[data-toggle="analytics"]');
        s = await tab.evaluate(snapshot);
        h.is(pick(s.advertising, 'checked'),
            { adsone: false, adstwo: true, adsthree: true },
            `${t} the adsone switch off, the others on`);
        h.is(pick(s.advertising, 'disabled'),
            { adsone: false, adstwo: false, adsthree: false },
            `${t} all three can be switched`);
        h.is([pick(s.analytics, 'checked'), pick(s.analytics, 'disabled')],
            [{ statsone: false, statstwo: false },
             { statsone: true, statstwo: true }],
            `${t} analytics off: its vendors shown off, disabled`);
        await shot(tab, '4-en-reload');
        noErrors(t, diag);
    });
}

// 3. a Japanese browser, then the switch to English
async function japanese(ngx) {
    const [P] = ngx.ports;
    await runCase('ja', async (ctx) => {
        const { tab, diag, close } = await openBrowser('ja');
        Object.assign(ctx, { diag, close });
        let t = 'ja:';
        const logFrom = ngx.log('access.log').length;

        await tab.goto(`http://${HOST}:${P}/banner/`, { waitUntil: 'load' });
        h.is(await acceptLanguage(ngx, logFrom), 'ja',
            `${t} chromium sent Accept-Language ja`);
        await waitIn(tab, 'the banner shown', bannerShown);
        let s = await tab.evaluate(snapshot);
        h.is([s.lang, s.languages], ['ja', ['ja']],
            `${t} navigator.languages ["ja"]: <html lang="ja">`);
        h.is([s.title, s.accept, s.choose],
            ['プライバシーの選択', 'すべて同意する', '選択する'],
            `${t} the banner in Japanese`);
        h.ok(/^このサイトの運営には必須のCookieを使用しています。/.test(s.intro),
            `${t} the introduction in Japanese`, s.intro);
        h.is([s.heading, s.docTitle],
            ['デモショップ', 'デモショップ - ngx_consent_module'],
            `${t} the demo page follows`);
        h.is(s.langPressed, ['ja'], `${t} the switch marks 日本語`);

        await tab.click('[data-consent="choose"]');
        await waitIn(tab, 'the vendor toggles', () =>
            !!document.querySelector('button[data-toggle="advertising"]'));
        await tab.click('button[data-toggle="advertising"]');
        s = await tab.evaluate(snapshot);
        h.is([s.save, s.toggles.advertising.text, s.toggles.analytics.text],
            ['選択を保存', '広告：3社', 'アクセス解析：2社'],
            `${t} the purposes and their vendor counts in Japanese`);
        const note = await tab.$eval(
            '.consent-vendors[data-purpose="advertising"] .consent-vendors-note',
            (e) => [e.hidden, e.textContent]);
        h.is(note, [false, '事業者を個別に選ぶには「広告」をオンにしてください。'],
            `${t} advertising off: the note says to turn it on`);
        const meta = await tab.$$eval(
            '.consent-vendors[data-purpose="advertising"] .consent-vendor-meta',
            (a) => a.map((e) => e.textContent));
        h.is(meta, ['フランス', 'Ads Two KK · 日本', 'アメリカ合衆国'],
            `${t} controllers and countries in Japanese`);
        await shot(tab, '5-ja');

        // the switch: English, re-rendered, remembered
        await tab.click('#consent-lang button[data-lang="en"]');
        t = 'ja, switched to English:';
        s = await tab.evaluate(snapshot);
        h.is(s.lang, 'en', `${t} <html lang="en">`);
        h.is([s.title, s.accept, s.save],
            ['Your privacy choices', 'Accept all', 'Save choices'],
            `${t} the banner in English`);
        h.ok(/^We use necessary cookies/.test(s.intro),
            `${t} the introduction in English`, s.intro);
        h.is([s.toggles.advertising.text, s.toggles.advertising.expanded,
            s.formShown], ['Advertising: 3 companies', 'true', true],
            `${t} the open lists stay open, in English`);
        h.is([s.heading, s.langPressed], ['Demo shop', ['en']],
            `${t} the demo page follows, the switch marks English`);
        await shot(tab, '6-ja-to-en');

        await tab.reload({ waitUntil: 'load' });
        await waitIn(tab, 'the banner shown', bannerShown);
        s = await tab.evaluate(snapshot);
        h.is([s.lang, s.title], ['en', 'Your privacy choices'],
            `${t} after a reload still English (the switch is remembered)`);
        noErrors(t, diag);
    });
}

// 4. the keyboard alone
async function keyboard(ngx) {
    const [P] = ngx.ports;
    await runCase('keyboard', async (ctx) => {
        const { tab, diag, close } = await openBrowser('en-US');
        Object.assign(ctx, { diag, close });
        const t = 'keyboard:';

        await tab.goto(`http://${HOST}:${P}/banner/`, { waitUntil: 'load' });
        await waitIn(tab, 'the banner shown', bannerShown);

        // Tab until sel has the focus: the number of presses, or null
        const tabTo = async (sel, max = 30) => {
            for (let n = 1; n <= max; n++) {
                await tab.keyboard.press('Tab');
                if (await tab.evaluate((q) => document.activeElement
                    && document.activeElement.matches(q), sel)) return n;
            }
            return null;
        };
        const focused = () => tab.evaluate(() => {
            const a = document.activeElement;
            return a ? (a.id || a.dataset.consent || a.dataset.toggle
                || a.dataset.vendor || a.tagName) : null;
        });

        let n = await tabTo('[data-consent="choose"]');
        h.ok(n !== null, `${t} Choose reached with Tab (${n} presses)`);
        await tab.keyboard.press('Enter');
        await waitIn(tab, 'the vendor toggles', () =>
            !!document.querySelector('button[data-toggle="advertising"]'));
        let s = await tab.evaluate(snapshot);
        h.ok(s.formShown, `${t} Enter on Choose opens the purposes`);
        h.is(await focused(), 'consent-p-functional',
            `${t} the focus moves to the first purpose one can switch`);

        n = await tabTo('#consent-p-advertising', 10);
        h.ok(n !== null, `${t} the advertising switch reached with Tab`);
        await tab.keyboard.press('Space');
        n = await tabTo('button[data-toggle="advertising"]', 3);
        h.is(n, 1, `${t} its vendor list's toggle next, one Tab on`);
        s = await tab.evaluate(snapshot);
        h.is([s.purposes.advertising, s.toggles.advertising.expanded],
            [true, 'false'], `${t} Space turned advertising on, list closed`);
        await tab.keyboard.press('Enter');
        s = await tab.evaluate(snapshot);
        h.is([s.toggles.advertising.expanded, s.toggles.advertising.panelShown],
            ['true', true], `${t} Enter opens the list: aria-expanded="true"`);
        h.is(await focused(), 'advertising',
            `${t} the focus stays on the toggle`);

        n = await tabTo('input[data-vendor="adsone"]', 1);
        h.is(n, 1, `${t} Tab goes into the list: the first vendor's switch`);
        await tab.keyboard.press('Space');
        s = await tab.evaluate(snapshot);
        h.is(pick(s.advertising, 'checked'),
            { adsone: false, adstwo: true, adsthree: true },
            `${t} Space switches adsone off`);
        await shot(tab, '7-keyboard');

        // Enter again closes it
        await tab.focus('button[data-toggle="advertising"]');
        await tab.keyboard.press('Enter');
        s = await tab.evaluate(snapshot);
        h.is([s.toggles.advertising.expanded, s.toggles.advertising.panelShown],
            ['false', false], `${t} Enter again closes the list`);
        noErrors(t, diag);
    });
}

async function main() {
    const redis = await h.startRedis();
    let ngx = null;
    try {
        ngx = await h.startNginx({
            conf: conf(redis.port), files, nports: 2,
            ready: { port: 0, host: HOST, path: '/consent/vendors' },
        });
        const v = await h.get(ngx.ports[0], '/consent/vendors', HOST);
        let doc = null;
        try { doc = JSON.parse(v.body); } catch (e) { /* below */ }
        h.is(doc && doc.purposes.map((p) => [p.purpose,
            p.vendors.map((x) => x.id)]),
            [['analytics', ANALYTICS_VENDORS], ['advertising', AD_VENDORS]],
            '/consent/vendors lists the rules\' vendors per purpose');

        await englishChoice(ngx, redis);
        await japanese(ngx);
        await keyboard(ngx);

        h.errorLogClean(ngx);
    } finally {
        if (ngx) await ngx.stop();
        await redis.stop();
    }
}

// a promise of a failed case left behind: a failure, not a crash that
// skips stopping nginx and redis
process.on('unhandledRejection', (e) => h.bail(e));

h.run(__filename, main, 150000);
