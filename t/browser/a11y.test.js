'use strict';

// axe-core (pinned in package-lock.json) on the example banner in a real
// browser (issue 16), on lib/site.js's site (the shipped rules: 203
// advertising companies, 94 analytics ones), a fresh FR visitor:
//
//   1. the first visit: the banner as a visitor first sees it
//   2. "Choose", advertising and analytics on, their company lists open,
//      one company switched off (every switch enabled, so each is checked)
//   3. the same in Japanese (the language switch: <html lang="ja">)
//   4. after "Reject all": the banner closed, "Privacy choices" and the
//      status message
//   5. reopened with a decision: Withdraw and Close offered
//   6. on a 375 px phone: the first visit, then the lists open
//
// Each state is checked to be what it claims (shown, open, in that
// language), then axe runs on the whole document (WCAG 2.0, 2.1 and 2.2 A
// and AA, and axe's best practices: landmarks and regions among them):
// no violation, and the rules that matter for a banner each found
// something to pass (the dialog's name, buttons' names, contrast, labels,
// links, lists, lang, regions, target size), so "no violation" is not
// "nothing checked".  On the desktop every text's contrast is decided
// (none left "incomplete"; with the lists open, in a window tall enough
// for the whole banner).
//
// axe's source goes in with CDP's Runtime.evaluate, as h.waitIn's
// functions do: page.addScriptTag would add an inline <script>, which the
// banner's Content-Security-Policy (default-src 'self') rightly refuses,
// and the page is tested under its own policy.

const fs = require('fs');
const h = require('./lib/harness');
const site = require('./lib/site');

const AXE_PATH = require.resolve('axe-core');
const AXE_SOURCE = fs.readFileSync(AXE_PATH, 'utf8');
const AXE_VERSION = require('axe-core/package.json').version;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
    'best-practice'];

const BANNER_RULES = ['aria-dialog-name', 'button-name', 'color-contrast',
    'html-has-lang', 'html-lang-valid', 'valid-lang', 'region',
    'landmark-one-main', 'target-size', 'aria-allowed-attr',
    'aria-valid-attr-value', 'nested-interactive'];
const LIST_RULES = [...BANNER_RULES, 'label', 'link-name', 'list',
    'listitem', 'aria-allowed-role', 'aria-required-attr',
    'form-field-multiple-labels', 'scrollable-region-focusable'];

// axe on the document: violations (rule, impact, the first nodes), the
// rules passed, the color-contrast nodes axe could not decide
async function axe(tab) {
    if (!(await tab.evaluate(() => !!window.axe))) {
        await tab.evaluate(AXE_SOURCE);
    }
    return tab.evaluate(async (tags) => {
        const r = await window.axe.run(document,
            { runOnly: { type: 'tag', values: tags },
                // passes: one node each (their rules are what is read)
                resultTypes: ['violations', 'incomplete'] });
        return {
            version: window.axe.version,
            violations: r.violations.map((v) => ({ id: v.id,
                impact: v.impact, help: v.help, nodes: v.nodes.length,
                first: v.nodes.slice(0, 3).map((n) => [n.target.join(' '),
                    n.failureSummary]) })),
            passes: r.passes.map((p) => p.id),
            undecidedContrast: (r.incomplete.find((i) =>
                i.id === 'color-contrast') || { nodes: [] }).nodes
                .map((n) => n.target.join(' ')),
        };
    }, TAGS);
}

// axe on the tab: violations none, the rules passed; contrast: every
// text's decided.  tall: in a window tall enough for the whole banner (it
// scrolls within itself above 85% of the window's height, and what is
// scrolled out of its box has no background axe can see), then back
async function check(tab, t, rules, { contrast = true, tall = false } = {}) {
    const vp = tab.viewport();
    if (tall) await tab.setViewport({ ...vp, height: 2400 });
    const r = await axe(tab);
    if (tall) await tab.setViewport(vp);
    h.is(r.violations, [], `${t} axe: no violations`);
    h.is(rules.filter((x) => !r.passes.includes(x)), [],
        `${t} axe passed ${rules.join(', ')}`);
    if (contrast) {
        h.is(r.undecidedContrast, [],
            `${t} axe decided every text's contrast`);
    }
    return r;
}

// what the state is: the banner, its form, the open lists, the language
const state = (tab) => tab.evaluate(() => ({
    lang: document.documentElement.lang,
    banner: !document.getElementById('consent-banner').hidden,
    form: !document.getElementById('consent-form').hidden,
    open: Array.from(document.querySelectorAll(
        'button[data-toggle][aria-expanded="true"]'))
        .map((b) => b.dataset.toggle),
    switches: Array.from(document.querySelectorAll(
        '.consent-vendors-panel:not([hidden]) input[role="switch"]'))
        .filter((b) => !b.disabled).length,
    title: document.getElementById('consent-title').textContent,
    opener: !document.getElementById('consent-open').hidden,
    status: document.getElementById('consent-status').textContent,
}));

async function openLists(tab) {
    await site.choose(tab);
    await site.tick(tab, ['analytics', 'advertising']);
    await tab.click('button[data-toggle="advertising"]');
    await tab.click('button[data-toggle="analytics"]');
    await tab.click('.consent-vendors[data-purpose="advertising"] '
        + 'input[data-vendor]');
}

async function visitor(b, name, viewport, fn) {
    await h.runCase(name, async (ctx) => {
        const context = await b.browser.createBrowserContext();
        const { tab, diag } = await h.openTab(context, { viewport });
        Object.assign(ctx, { diag, close: () => context.close() });
        await tab.setExtraHTTPHeaders({ 'X-Country': 'FR' });
        await site.visit(tab, s.url('/banner/'));
        await fn(tab);
        h.noErrors(`${name}:`, diag);
    });
}

let s;

async function main() {
    s = await site.start();
    const b = await h.launchBrowser({ hosts: site.HOSTS, lang: 'en-US' });
    try {
        await visitor(b, 'desktop', { width: 1280, height: 1000 },
            async (tab) => {
                let t = 'first visit:';
                let st = await state(tab);
                h.is([st.banner, st.form, st.lang], [true, false, 'en'],
                    `${t} the banner shown, in English`);
                const r = await check(tab, t, BANNER_RULES);
                h.is(r.version, AXE_VERSION,
                    `axe-core ${AXE_VERSION} ran (package-lock.json's)`);
                await h.screenshot(tab, 'a11y-1-first-visit');

                t = 'company lists open:';
                await openLists(tab);
                st = await state(tab);
                h.ok(st.form && st.open.join() === 'analytics,advertising'
                    && st.switches === 297,
                `${t} the purposes and both lists open, 297 switches `
                    + 'enabled', st);
                await h.screenshot(tab, 'a11y-2-lists');
                await check(tab, t, LIST_RULES, { tall: true });

                t = 'in Japanese:';
                await tab.click('#consent-lang button[data-lang="ja"]');
                st = await state(tab);
                h.is([st.lang, st.title, st.open.join()],
                    ['ja', 'プライバシーの選択', 'analytics,advertising'],
                    `${t} <html lang="ja">, the lists still open`);
                await h.screenshot(tab, 'a11y-3-lists-ja');
                await check(tab, t, LIST_RULES, { tall: true });
                await tab.click('#consent-lang button[data-lang="en"]');

                t = 'after "Reject all":';
                await site.act(tab, () => tab.click('[data-consent="reject"]'),
                    'POST');
                st = await state(tab);
                h.is([st.banner, st.opener, st.status],
                    [false, true, 'Saved: only necessary cookies.'],
                    `${t} the banner closed, "Privacy choices" and the `
                    + 'message');
                await check(tab, t, BANNER_RULES.filter((x) =>
                    x !== 'aria-dialog-name'));

                t = 'reopened:';
                await site.reopen(tab);
                h.is(await tab.$$eval('#consent-banner button[data-consent]',
                    (a) => a.filter((e) => !e.hidden)
                        .map((e) => e.dataset.consent)),
                ['accept', 'reject', 'choose', 'withdraw', 'close'],
                `${t} Withdraw and Close offered`);
                await check(tab, t, BANNER_RULES);
            });

        await visitor(b, 'phone', { width: 375, height: 667,
            deviceScaleFactor: 2, isMobile: true, hasTouch: true },
        async (tab) => {
            let t = 'phone, first visit:';
            const st = await state(tab);
            h.is([st.banner, await tab.evaluate(() => innerWidth)],
                [true, 375], `${t} the banner shown, 375 px wide`);
            // the phone's window as it is: the banner scrolls within
            // itself, its contrast is decided on the desktop
            await check(tab, t, BANNER_RULES, { contrast: false });
            t = 'phone, company lists open:';
            await openLists(tab);
            await check(tab, t, LIST_RULES, { contrast: false });
        });
    } finally {
        await b.close();
        await s.stop();
    }
}

h.run(__filename, main, 150000);
