'use strict';

// The example banner's layout on a desktop window and on a 375 px wide
// phone (issue 16), on lib/site.js's site, a fresh FR visitor in each:
//
//   desktop: 1280 x 800
//   phone:   375 x 667, a mobile viewport (meta viewport honoured), touch
//
// In each, the banner on a first visit, with the purposes and the two
// longest company lists open (advertising: 203 companies of the shipped
// rules, analytics), the same in Japanese (the language switch), and
// after "Reject all" (tapped on the phone):
//
//   - no horizontal overflow: document.documentElement.scrollWidth is at
//     most the viewport's width (375 on the phone), the banner does not
//     scroll sideways within itself, and no company row reaches past the
//     window
//   - the banner stays within the window (at most 85% of its height: the
//     page stays in sight) and is on top at its centre; it scrolls within
//     itself no further than its content (no blank space past its
//     buttons)
//   - every button offered can be reached: scrolled into view (inside the
//     banner's own scrolling box when it is taller than that), it lies
//     within the window, nothing covers its centre, and it is at least
//     24 x 24 CSS px (WCAG 2.2 target size, minimum)
//
// Screenshots of each state go to build/browser-screenshots/
// (layout-desktop-*.png, layout-phone-*.png); no console error or
// uncaught exception.

const h = require('./lib/harness');
const site = require('./lib/site');

const VIEWPORTS = [
    { name: 'desktop', viewport: { width: 1280, height: 800 } },
    { name: 'phone', viewport: { width: 375, height: 667,
        deviceScaleFactor: 2, isMobile: true, hasTouch: true } },
];

// the layout as the page has it now (the buttons matching sel checked
// for reach)
function measure(sel) {
    const vw = innerWidth;
    const vh = innerHeight;
    const unreachable = [];
    for (const b of document.querySelectorAll(sel)) {
        if (b.hidden || !b.offsetParent) continue;
        b.scrollIntoView({ block: 'center', inline: 'nearest' });
        const r = b.getBoundingClientRect();
        const at = document.elementFromPoint(r.left + r.width / 2,
            r.top + r.height / 2);
        // (a sub-pixel past an edge is rounding, not out of reach)
        if (!(r.left >= -0.5 && r.top >= -0.5 && r.right <= vw + 0.5
            && r.bottom <= vh + 0.5 && at && b.contains(at)
            && r.width >= 24 && r.height >= 24)) {
            unreachable.push({ button: b.dataset.consent || b.dataset.toggle
                    || b.id,
                rect: [r.left, r.top, r.width, r.height].map(Math.round),
                at: at ? at.outerHTML.slice(0, 50) : null });
        }
    }
    const banner = document.getElementById('consent-banner');
    const br = banner.getBoundingClientRect();
    const mid = document.elementFromPoint(br.left + br.width / 2,
        br.top + br.height / 2);
    const rows = Array.from(document.querySelectorAll('.consent-vendor'))
        .filter((e) => e.offsetParent);
    return {
        viewport: [vw, vh],
        scrollWidth: document.documentElement.scrollWidth,
        bodyScrollWidth: document.body.scrollWidth,
        banner: banner.hidden ? null : {
            // how far the banner scrolls past its last line (its padding:
            // 1rem)
            // wider than its box: it would scroll sideways
            sideways: banner.scrollWidth - banner.clientWidth,
            blank: Math.round(banner.scrollHeight - (banner.lastElementChild
                .getBoundingClientRect().bottom - br.top + banner.scrollTop)),
            inWindow: br.left >= 0 && br.top >= 0 && br.right <= vw
                && br.bottom <= vh + 0.5,
            share: br.height / vh,
            onTop: !!mid && banner.contains(mid),
        },
        rows: rows.length,
        rowsPast: rows.filter((e) => e.getBoundingClientRect().right > vw)
            .length,
        unreachable,
    };
}

const ACTIONS = '#consent-banner .consent-actions button';

// for the screenshot: the advertising company list at the top of the
// banner's box
const showList = () => document.querySelector(
    'button[data-toggle="advertising"]').scrollIntoView({ block: 'start' });

function checkLayout(t, m, width) {
    h.is(m.viewport[0], width, `${t} the viewport is ${width} px wide`);
    h.ok(m.scrollWidth <= width && m.bodyScrollWidth <= width
        && (!m.banner || m.banner.sideways <= 0),
    `${t} no horizontal overflow (scrollWidth ${m.scrollWidth} <= `
        + `${width}; none within the banner either)`, m);
    if (m.banner) {
        h.ok(m.banner.inWindow && m.banner.share <= 0.851 && m.banner.onTop,
            `${t} the banner within the window, at most 85% of its height `
            + `(${Math.round(m.banner.share * 100)}%), on top`, m.banner);
        h.ok(m.banner.blank <= 32, `${t} the banner scrolls no further `
            + `than its content (${m.banner.blank} px past its last line)`,
        m.banner);
    }
    h.is(m.unreachable, [], `${t} every button offered reachable: in `
        + 'view, uncovered, at least 24 x 24 px');
}

async function main() {
    const s = await site.start();
    const b = await h.launchBrowser({ hosts: site.HOSTS, lang: 'en-US' });
    try {
        for (const { name, viewport } of VIEWPORTS) {
            await h.runCase(name, async (ctx) => {
                const context = await b.browser.createBrowserContext();
                const { tab, diag } = await h.openTab(context, { viewport });
                Object.assign(ctx, { diag, close: () => context.close() });
                await tab.setExtraHTTPHeaders({ 'X-Country': 'FR' });
                const W = viewport.width;
                const shot = (n) => h.screenshot(tab, `layout-${name}-${n}`);

                let t = `${name}, first visit:`;
                await site.visit(tab, s.url('/banner/'));
                h.ok(await tab.evaluate(site.bannerShown),
                    `${t} the banner shown`);
                let m = await tab.evaluate(measure, ACTIONS);
                checkLayout(t, m, W);
                h.is(await tab.$$eval(ACTIONS, (a) => a.filter((e) =>
                    !e.hidden).map((e) => e.dataset.consent)),
                ['accept', 'reject', 'choose'],
                `${t} the three buttons checked`);
                await shot('1-banner');

                t = `${name}, companies listed:`;
                await tab.evaluate(() => window.scrollTo(0, 0));
                await site.choose(tab);
                await tab.click('button[data-toggle="advertising"]');
                await tab.click('button[data-toggle="analytics"]');
                m = await tab.evaluate(measure,
                    `${ACTIONS}, #consent-purposes button[data-toggle]`);
                checkLayout(t, m, W);
                h.ok(m.rows > 250 && m.rowsPast === 0,
                    `${t} none of the ${m.rows} company rows reaches past `
                    + 'the window', m);
                await tab.evaluate(showList);
                await shot('2-choices');

                t = `${name}, in Japanese:`;
                await tab.evaluate(() => window.scrollTo(0, 0));
                await tab.click('#consent-lang button[data-lang="ja"]');
                h.is(await tab.evaluate(() => document.documentElement.lang),
                    'ja', `${t} <html lang="ja">`);
                m = await tab.evaluate(measure, ACTIONS);
                checkLayout(t, m, W);
                await tab.evaluate(showList);
                await shot('3-choices-ja');
                await tab.evaluate(() => window.scrollTo(0, 0));
                await tab.click('#consent-lang button[data-lang="en"]');

                t = `${name}, after "Reject all":`;
                const r = await site.act(tab, () => (viewport.hasTouch
                    ? tab.tap('[data-consent="reject"]')
                    : tab.click('[data-consent="reject"]')), 'POST');
                h.is([r.status, JSON.parse(r.sent).purposes], [200, []],
                    `${t} ${viewport.hasTouch ? 'tapped' : 'clicked'}: `
                    + 'POST of [] answered 200');
                m = await tab.evaluate(measure, '#consent-open');
                checkLayout(t, m, W);
                await shot('4-after-choice');
                h.noErrors(`${name}:`, diag);
            });
        }
    } finally {
        await b.close();
        await s.stop();
    }
}

h.run(__filename, main, 120000);
