'use strict';

// The example banner with the keyboard alone (issue 16), on lib/site.js's
// site, one FR visitor (chromium's real key events: Tab, Shift+Tab,
// Enter, Space, Escape):
//
//   - on a first visit the page keeps the focus (nothing is stolen on
//     load); Tab reaches the language switch, then the banner's buttons
//     before anything of the page, each with a visible focus ring
//     (:focus-visible, an outline at least 2px wide, not transparent: the
//     banner's is 3px, amber)
//   - Escape does not close the banner while a choice is needed
//   - Enter on "Reject all" saves it (the POST), the focus goes to the
//     "Privacy choices" button, visibly
//   - Space on it opens the banner with the focus on its title; Escape
//     closes it (a decision stands) and gives the focus back
//   - Enter opens it again; three Tabs reach "Choose"; Space opens the
//     purposes with the focus on the first one; Space ticks functional,
//     Tab passes its company list's toggle to analytics, Space ticks it;
//     Tab to "Save choices" and Space saves exactly those two
//
// and no console error or uncaught exception.  banner.test.js covers the
// company lists' toggles and switches by keyboard.

const h = require('./lib/harness');
const site = require('./lib/site');

// the focused element, named by what it is
const focused = (tab) => tab.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return 'body';
    if (a.dataset.lang) return `lang:${a.dataset.lang}`;
    if (a.dataset.toggle) return `toggle:${a.dataset.toggle}`;
    return a.dataset.consent || a.id || a.tagName;
});

// whether the focused element shows a focus ring: [name, why not] or null
const noRing = (tab) => tab.evaluate(() => {
    const a = document.activeElement;
    const st = getComputedStyle(a);
    const ok = a.matches(':focus-visible') && st.outlineStyle !== 'none'
        && parseFloat(st.outlineWidth) >= 2
        && !/^rgba\(.*, 0\)$|^transparent$/.test(st.outlineColor);
    return ok ? null : [a.outerHTML.slice(0, 60), a.matches(':focus-visible'),
        st.outlineStyle, st.outlineWidth, st.outlineColor];
});

async function press(tab, key, n = 1) {
    for (let i = 0; i < n; i++) await tab.keyboard.press(key);
}

// Tab until sel has the focus: the number of presses, or null
async function tabTo(tab, sel, max = 40) {
    for (let n = 1; n <= max; n++) {
        await tab.keyboard.press('Tab');
        if (await tab.evaluate((q) => document.activeElement
            && document.activeElement.matches(q), sel)) return n;
    }
    return null;
}

const bannerOpen = (tab) => tab.evaluate(site.bannerShown);

async function main() {
    const s = await site.start();
    const b = await h.launchBrowser({ hosts: site.HOSTS, lang: 'en-US' });
    try {
        await h.runCase('keyboard', async (ctx) => {
            const context = await b.browser.createBrowserContext();
            const { tab, diag } = await h.openTab(context);
            Object.assign(ctx, { diag, close: () => context.close() });
            await tab.setExtraHTTPHeaders({ 'X-Country': 'FR' });

            let t = 'first visit:';
            await site.visit(tab, s.url('/banner/'));
            h.ok(await bannerOpen(tab), `${t} the banner shown`);
            h.is(await focused(tab), 'body',
                `${t} the page keeps the focus`);
            const order = [];
            const rings = [];
            for (let i = 0; i < 5; i++) {
                await press(tab, 'Tab');
                order.push(await focused(tab));
                const bad = await noRing(tab);
                if (bad) rings.push(bad);
            }
            h.is(order, ['lang:ja', 'lang:en', 'accept', 'reject', 'choose'],
                `${t} Tab: the language switch, then Accept all, Reject `
                + 'all, Choose, before the page');
            h.is(rings, [], `${t} each with a visible focus ring`);
            await h.screenshot(tab, 'keyboard-1-focus-choose');

            await press(tab, 'Escape');
            h.is([await bannerOpen(tab), await focused(tab)],
                [true, 'choose'], `${t} Escape: the banner stays (a choice `
                + 'is needed), the focus too');

            t = 'reject by Enter:';
            await tab.keyboard.down('Shift');
            await press(tab, 'Tab');
            await tab.keyboard.up('Shift');
            h.is(await focused(tab), 'reject', `${t} Shift+Tab back to it`);
            let r = await site.act(tab, () => press(tab, 'Enter'), 'POST');
            h.is([r.status, JSON.parse(r.sent).purposes], [200, []],
                `${t} Enter saves it: POST of [] answered 200`);
            h.is([await focused(tab), await noRing(tab)],
                ['consent-open', null], `${t} the focus on "Privacy `
                + 'choices", visibly');

            t = 'reopened:';
            await press(tab, 'Space');
            await h.waitIn(tab, 'the banner open', site.bannerShown);
            h.is([await focused(tab), await noRing(tab)],
                ['consent-title', null], `${t} Space on "Privacy choices" `
                + 'opens the banner, the focus on its title, visibly');
            await press(tab, 'Escape');
            h.is([await bannerOpen(tab), await focused(tab)],
                [false, 'consent-open'], `${t} Escape closes it (a `
                + 'decision stands), the focus back on "Privacy choices"');

            t = 'choose by keyboard:';
            await press(tab, 'Enter');
            await h.waitIn(tab, 'the banner open', site.bannerShown);
            h.is(await focused(tab), 'consent-title',
                `${t} Enter on "Privacy choices" opens the banner too`);
            h.is(await tabTo(tab, '[data-consent="choose"]', 5), 3,
                `${t} three Tabs on: Choose`);
            await press(tab, 'Space');
            await h.waitIn(tab, 'the vendor lists', () =>
                !!document.querySelector('button[data-toggle="functional"]'));
            h.is([await tab.$eval('[data-consent="choose"]',
                (e) => e.getAttribute('aria-expanded')), await focused(tab)],
            ['true', 'consent-p-functional'], `${t} Space on Choose opens `
                + 'the purposes, the focus on the first one that can change');
            await press(tab, 'Space');
            await press(tab, 'Tab');
            h.is(await focused(tab), 'toggle:functional',
                `${t} Tab: functional's company list toggle`);
            await press(tab, 'Tab');
            h.is(await focused(tab), 'consent-p-analytics',
                `${t} Tab: analytics`);
            await press(tab, 'Space');
            h.is(await tab.$$eval('#consent-purposes input[data-purpose]',
                (a) => a.filter((x) => x.checked).map((x) => x.value)),
            ['necessary', 'functional', 'analytics'],
            `${t} Space ticked functional and analytics`);
            h.ok(await tabTo(tab, '[data-consent="save"]') !== null,
                `${t} Tab reaches "Save choices"`);
            h.is(await noRing(tab), null, `${t} visibly focused`);
            await h.screenshot(tab, 'keyboard-2-focus-save');
            r = await site.act(tab, () => press(tab, 'Space'), 'POST');
            h.is([r.status, JSON.parse(r.sent).purposes,
                r.json && r.json.purposes], [200, ['functional', 'analytics'],
                ['necessary', 'functional', 'analytics']],
            `${t} Space saves exactly those`);
            const c = await site.consentCookie(tab);
            h.is(c && c.purposes, ['necessary', 'functional', 'analytics'],
                `${t} the consent cookie says so`);
            h.is(await focused(tab), 'consent-open',
                `${t} the focus back on "Privacy choices"`);
            h.noErrors('keyboard:', diag);
        });
    } finally {
        await b.close();
        await s.stop();
    }
}

h.run(__filename, main, 120000);
