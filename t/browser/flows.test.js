'use strict';

// The example banner's consent flows in a real browser (issue 16): one
// visitor from FR (opt_in) on lib/site.js's site, clicking through the
// banner as a visitor would:
//
//   1. first visit: the banner is shown, in view and on top, without
//      taking the focus; no decision, no consent cookie
//   2. "Reject all"      3. "Accept all" (again from "Privacy choices")
//   4. withdraw (DELETE) 5. "Choose": functional and analytics only
//
// Each choice is checked where it lands: the request the banner sent, the
// API's answer, the signed consent cookie in chromium's jar (its purposes
// and policy version; HttpOnly, host-only, one subject throughout), the
// Redis record and receipt, the banner closing with its message, and what
// the origin then receives: the site's tags set their tracking cookies
// (/shop/?track) and the origin's echo shows the cookies and the Consent
// header that reached it.
//
//   6. re-consent: nginx reloaded with consent_policy_version 2
//      reconsent_below=2: the next visit shows the banner again (saying
//      why), the version 1 choice no longer counts (the origin gets the
//      opt_in default), and a new choice is recorded under version 2
//
// and no console error or uncaught exception throughout.  Screenshots go
// to build/browser-screenshots/ (flows-*.png).

const h = require('./lib/harness');
const site = require('./lib/site');

const ALL = site.OPTIONAL;

// the Consent header the origin gets for these purposes and version
const consentHeader = (granted, v) => ALL
    .map((p) => `${p}=?${granted.includes(p) ? 1 : 0}`).join(', ')
    + `, gpc=?0, v=${v}`;

// the Path=/ cookies the site's tags set that reach /echo for granted
// purposes, and the site's own (cart), and the consent cookie
const echoFor = (granted) => site.COOKIES
    .filter(([, purpose, where]) => where.endsWith(' /')
        && (purpose === 'necessary' || granted.includes(purpose)))
    .map(([name]) => name).concat('consent').sort();

// the site's tags set their cookies, then what the origin receives
async function trackThenEcho(s, tab, t) {
    await site.visit(tab, s.url('/shop/?track'));
    h.is(await tab.evaluate(() => window.__tracked), site.COOKIES.length,
        `${t} the site's tags set their cookies (/shop/?track)`);
    const echo = await h.fetchIn(tab, '/echo');
    const m = /Consent: \[([^\]]*)\]/.exec(echo.body);
    return { status: echo.status, names: h.echoedNames(echo.body),
        consent: m ? m[1] : null };
}

// one choice: what was sent, answered, stored, enforced
async function checkChoice(s, tab, t, r, want) {
    h.is(r.status, 200, `${t} answered 200`);
    if (want.sent !== undefined) {
        h.is(JSON.parse(r.sent), want.sent, `${t} the banner sent ${
            JSON.stringify(want.sent.purposes)}`);
    }
    const granted = ['necessary', ...want.granted];
    h.is(r.json && [r.json.purposes, r.json.reconsent,
        r.json.policy_version], [granted, false, want.v],
    `${t} the answer: purposes, no re-consent, version ${want.v}`);

    const c = await site.consentCookie(tab);
    h.is(c && [c.subject, c.purposes, c.pv], [want.subject || (r.json
        && r.json.subject), granted, want.v],
    `${t} the consent cookie in the jar: the subject, the purposes, `
        + `version ${want.v}`);
    h.is(c && [c.httpOnly, c.domain, c.path], [true, site.HOST, '/'],
        `${t} the consent cookie: HttpOnly, host-only, Path=/`);

    const rec = await s.record(c ? c.subject : 'none');
    h.is([rec.p, rec.v, rec.src], [want.granted.join(','), String(want.v),
        'api'], `${t} the Redis record`);
    const receipts = await s.receipts();
    const last = receipts[receipts.length - 1] || {};
    h.is([last.subject, last.action, last.purposes, last.v, last.region,
        last.regime], [c && c.subject, want.action, want.granted.join(','),
        String(want.v), 'FR', 'opt_in'], `${t} the receipt`);

    h.is(await tab.evaluate(() => [
        document.getElementById('consent-banner').hidden,
        document.getElementById('consent-status').textContent,
        !document.getElementById('consent-open').hidden,
        document.activeElement && document.activeElement.id]),
    [true, want.message, true, 'consent-open'],
    `${t} the banner closes, says "${want.message}", the focus goes to `
        + '"Privacy choices"');

    const echo = await trackThenEcho(s, tab, t);
    h.is(echo.names, echoFor(want.granted),
        `${t} the origin then receives ${JSON.stringify(echoFor(
            want.granted))}`);
    h.is(echo.consent, consentHeader(want.granted, want.v),
        `${t} and the Consent header of the choice`);
    return c;
}

async function main() {
    const s = await site.start({ policy: { version: 1 } });
    const b = await h.launchBrowser({ hosts: site.HOSTS, lang: 'en-US' });
    try {
        await h.runCase('flows', async (ctx) => {
            const context = await b.browser.createBrowserContext();
            const { tab, diag } = await h.openTab(context);
            Object.assign(ctx, { diag, close: () => context.close() });
            await tab.setExtraHTTPHeaders({ 'X-Country': 'FR' });

            // 1. the first visit
            let t = 'first visit:';
            const from = s.originLogSize();
            const res = await site.visit(tab, s.url('/banner/'));
            h.is(res.status(), 200, `${t} the page 200`);
            const view = await tab.evaluate(() => {
                const b = document.getElementById('consent-banner');
                const r = b.getBoundingClientRect();
                const top = document.elementFromPoint(r.left + r.width / 2,
                    r.top + r.height / 2);
                const st = getComputedStyle(b);
                const shown = (sel) => Array.from(document.querySelectorAll(
                    sel)).filter((e) => !e.hidden && e.offsetParent)
                    .map((e) => e.dataset.consent);
                return {
                    hidden: b.hidden,
                    inView: r.width > 0 && r.height > 0 && r.left >= 0
                        && r.top >= 0 && r.right <= innerWidth
                        && r.bottom <= innerHeight,
                    onTop: b.contains(top),
                    styles: [st.display !== 'none', st.visibility,
                        Number(st.opacity)],
                    role: b.getAttribute('role'),
                    name: document.getElementById(
                        b.getAttribute('aria-labelledby')).textContent,
                    buttons: shown('#consent-banner button[data-consent]'),
                    focus: document.activeElement.tagName,
                    opener: document.getElementById('consent-open').hidden,
                };
            });
            h.ok(!view.hidden && view.inView && view.onTop
                && view.styles[0] && view.styles[1] === 'visible'
                && view.styles[2] === 1,
            `${t} the banner is shown, in the viewport, on top`, view);
            h.is([view.role, view.name], ['dialog', 'Your privacy choices'],
                `${t} a dialog named by its title`);
            h.is(view.buttons, ['accept', 'reject', 'choose'],
                `${t} Accept all, Reject all and Choose offered, nothing to `
                + 'withdraw or close');
            h.is([view.focus, view.opener], ['BODY', true],
                `${t} the focus stays on the page (not stolen on load); `
                + 'no "Privacy choices" button yet');
            const first = await site.apiState(tab);
            h.is([first.json.reconsent, first.json.policy_version,
                first.json.source, first.json.regime], [true, null,
                'default', 'opt_in'], `${t} GET /consent: no decision`);
            h.is(await site.consentCookie(tab), null,
                `${t} no consent cookie in the jar`);
            const page = s.originLog(from).find((l) => l.uri === '/banner/');
            h.is(page && page.consent, consentHeader([], 0),
                `${t} the origin got the page with the opt_in default`);
            await h.screenshot(tab, 'flows-1-first-visit');

            // 2. reject all
            t = 'reject all:';
            let r = await site.act(tab,
                () => tab.click('[data-consent="reject"]'), 'POST');
            const c = await checkChoice(s, tab, t, r, {
                sent: { purposes: [], policy_version: 1,
                    vendors_refused: [] },
                granted: [], v: 1, action: 'grant',
                message: 'Saved: only necessary cookies.',
            });
            const subject = c && c.subject;
            await h.screenshot(tab, 'flows-2-rejected');

            // 3. accept all, from "Privacy choices"
            t = 'accept all:';
            await site.reopen(tab);
            h.is(await tab.evaluate(() => Array.from(document
                .querySelectorAll('#consent-banner button[data-consent]'))
                .filter((e) => !e.hidden).map((e) => e.dataset.consent)),
            ['accept', 'reject', 'choose', 'withdraw', 'close'],
            'reopened: withdraw and close offered with a decision');
            r = await site.act(tab,
                () => tab.click('[data-consent="accept"]'), 'POST');
            await checkChoice(s, tab, t, r, {
                sent: { purposes: ALL, policy_version: 1,
                    vendors_refused: [] },
                granted: ALL, v: 1, action: 'grant', subject,
                message: 'Saved: all purposes accepted.',
            });

            // 4. withdraw
            t = 'withdraw:';
            await site.reopen(tab);
            r = await site.act(tab,
                () => tab.click('[data-consent="withdraw"]'), 'DELETE');
            await checkChoice(s, tab, t, r, {
                granted: [], v: 1, action: 'withdraw', subject,
                message: 'Consent withdrawn: only necessary cookies from '
                    + 'now on.',
            });
            await site.visit(tab, s.url('/banner/'));
            h.ok(!(await tab.evaluate(site.bannerShown)),
                `${t} a withdrawal is a decision: the next visit does not `
                + 'ask again');

            // 5. a choice per purpose
            t = 'per purpose:';
            await site.reopen(tab);
            await site.choose(tab);
            h.is(await tab.$$eval('#consent-purposes input[data-purpose]',
                (a) => a.filter((x) => x.checked).map((x) => x.value)),
            ['necessary'], `${t} the form shows the decision standing `
                + '(withdrawn: necessary only)');
            await site.tick(tab, ['functional', 'analytics']);
            await h.screenshot(tab, 'flows-3-choose');
            r = await site.act(tab,
                () => tab.click('[data-consent="save"]'), 'POST');
            await checkChoice(s, tab, t, r, {
                sent: { purposes: ['functional', 'analytics'],
                    policy_version: 1, vendors_refused: [] },
                granted: ['functional', 'analytics'], v: 1, action: 'grant',
                subject, message: 'Saved: your choices.',
            });
            const receipts = (await s.receipts())
                .filter((x) => x.subject === subject);
            h.is(receipts.map((x) => `${x.action}:${x.purposes}`),
                ['grant:', `grant:${ALL.join(',')}`, 'withdraw:',
                    'grant:functional,analytics'],
                'four receipts for the subject, in order');
            h.noErrors('flows before the reload:', diag);

            // 6. a new policy version that asks again
            t = 're-consent:';
            await s.reload({ version: 2, reconsentBelow: 2 });
            const from2 = s.originLogSize();
            await site.visit(tab, s.url('/banner/'));
            const again = await tab.evaluate(() => ({
                shown: !document.getElementById('consent-banner').hidden,
                intro: document.getElementById('consent-intro').textContent,
                close: document.querySelector('[data-consent="close"]')
                    .hidden,
            }));
            h.ok(again.shown, `${t} the next visit shows the banner again`);
            h.ok(again.intro.startsWith('Our privacy policy has changed '
                + 'since you chose (version 1, now 2). Please choose again.'),
            `${t} saying why`, again.intro);
            h.ok(again.close, `${t} no "Close": a choice is needed`);
            const st = await site.apiState(tab);
            h.is([st.json.reconsent, st.json.policy_version,
                st.json.current_policy_version, st.json.purposes],
            [true, 1, 2, ['necessary']], `${t} GET /consent: version 1 `
                + 'below the floor, the opt_in default applies');
            const page2 = s.originLog(from2).find((l) => l.uri === '/banner/');
            h.is(page2 && [page2.cookies, page2.consent],
                [['cart', 'consent'], consentHeader([], 1)],
                `${t} the origin gets the default (v=1: the cookie's): `
                + 'the analytics cookies granted under version 1 stripped');
            h.is((await h.jar(tab)).filter((x) => /^_ga |^_gid /.test(x)),
                [], `${t} and expired in the jar`);
            await h.screenshot(tab, 'flows-4-reconsent');

            r = await site.act(tab,
                () => tab.click('[data-consent="accept"]'), 'POST');
            await checkChoice(s, tab, `${t} accept all:`, r, {
                sent: { purposes: ALL, policy_version: 2,
                    vendors_refused: [] },
                granted: ALL, v: 2, action: 'grant', subject,
                message: 'Saved: all purposes accepted.',
            });
            await site.visit(tab, s.url('/banner/'));
            h.ok(!(await tab.evaluate(site.bannerShown)),
                `${t} decided under version 2: the next visit does not ask`);
            h.noErrors('flows after the reload:', diag);
        });

        h.errorLogClean(s.ngx);
    } finally {
        await b.close();
        await s.stop();
    }
}

h.run(__filename, main, 150000);
