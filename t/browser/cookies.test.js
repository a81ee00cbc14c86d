'use strict';

// What the visitor's choice does to chromium's real cookie jar (issue
// 16): the cookies a site's own scripts set with document.cookie, which
// the module never saw being set and can only expire when the browser
// sends them back (consent_expire_rejected, and the consent API's answers:
// a POST for the purposes it turns off, a DELETE).  The site's tags
// (lib/site.js's tracker.js, on /shop/?track) set an analytics and an
// advertising cookie in each of three places: host-only on "/", on the
// parent domain (Domain=consent.test, consent_cookie_domain), and under
// the shop's path (Path=/shop/, and Path=/shop, a script's default path
// on /shop/); and the site's own cart (a "necessary" rule) and shop_view
// (no rule).  The jar is read whole through CDP (Network.getAllCookies:
// name, domain and path of each cookie), what the origin receives from
// its echo and its log.  Cases, each a fresh browser context:
//
//   1. US (opt_out: granted until refused): the tags' cookies are kept
//      and reach the origin; "Reject all" expires those its POST carried
//      (Path=/, host and parent domain), the next page under /shop/ the
//      ones only sent there; the site's own stay
//   2. FR (opt_in), no choice yet: the first request after the tags ran
//      strips and expires every tracking cookie, in every place
//   3. FR, "Accept all": every cookie kept, all reach the origin; then
//      withdraw: the DELETE expires the Path=/ ones, the next page under
//      /shop/ the rest
//   4. FR, "Choose" analytics only: the analytics cookies stay in all
//      three places, the advertising ones go from all three
//
// and no console error or uncaught exception in any.

const h = require('./lib/harness');
const site = require('./lib/site');

const { tracked } = site;
const ALL = tracked();
const OWN = tracked((p) => p === 'necessary' || p === null);
const CONSENT = `consent ${site.HOST} /`;
const names = (list) => [...new Set(list.map((c) => c.split(' ')[0]))].sort();
// what goes with a request to a path: the cookies whose path it is under
const sentTo = (list, urlPath) => names(list.filter((c) => {
    const p = c.split(' ')[2];
    return urlPath === p || urlPath.startsWith(p.endsWith('/') ? p : `${p}/`);
}));
const sorted = (...lists) => [].concat(...lists).sort();

async function visitor(b, country, fn) {
    await h.runCase(country, async (ctx) => {
        const context = await b.browser.createBrowserContext();
        const { tab, diag } = await h.openTab(context);
        Object.assign(ctx, { diag, close: () => context.close() });
        await tab.setExtraHTTPHeaders({ 'X-Country': country });
        await fn(tab, diag);
    });
}

// the tags set their cookies: the jar then
async function track(s, tab, t) {
    await site.visit(tab, s.url('/shop/?track'));
    h.is(await tab.evaluate(() => window.__tracked), site.COOKIES.length,
        `${t} the site's tags ran (/shop/?track)`);
}

async function echo(tab, urlPath) {
    return h.echoedNames((await h.fetchIn(tab, urlPath)).body);
}

// a page under /shop/: what the origin received for it
async function shopPage(s, tab) {
    const from = s.originLogSize();
    await site.visit(tab, s.url('/shop/'));
    const line = s.originLog(from).find((l) => l.uri === '/shop/');
    return line ? line.cookies : null;
}

async function main() {
    const s = await site.start();
    const b = await h.launchBrowser({ hosts: site.HOSTS, lang: 'en-US' });
    try {
        // 1. opt_out, then "Reject all"
        await visitor(b, 'US', async (tab, diag) => {
            let t = 'US, no choice yet:';
            await track(s, tab, t);
            h.is(await h.jar(tab), ALL,
                `${t} the jar: every cookie the tags set, where they set it`);
            h.is(await echo(tab, '/shop/echo'), names(ALL),
                `${t} opt_out: all reach the origin`);
            h.is(await h.jar(tab), ALL, `${t} and all stay in the jar`);

            t = 'US, reject all:';
            const r = await site.act(tab,
                () => tab.click('[data-consent="reject"]'), 'POST');
            h.is(r.status, 200, `${t} POST answered 200`);
            const shop = ALL.filter((c) => / \/shop\/?$/.test(c));
            h.is(await h.jar(tab), sorted(CONSENT, OWN,
                shop.filter((c) => !OWN.includes(c))),
            `${t} its answer expired the tracking cookies it was sent: `
                + 'host-only and Domain=consent.test on /; the /shop ones '
                + 'are not sent to /consent');
            const got = await shopPage(s, tab);
            h.is(got, sorted('consent', sentTo(OWN, '/shop/')),
                `${t} the next page under /shop/ reaches the origin without `
                + 'them');
            h.is(await h.jar(tab), sorted(CONSENT, OWN),
                `${t} and its answer expired Path=/shop/ and Path=/shop: `
                + 'only the consent cookie and the site\'s own left');
            h.noErrors('US:', diag);
        });

        // 2. opt_in, nothing chosen
        await visitor(b, 'FR', async (tab, diag) => {
            const t = 'FR, no choice yet:';
            await track(s, tab, t);
            h.is(await echo(tab, '/shop/echo'), names(OWN),
                `${t} opt_in: no tracking cookie reaches the origin`);
            h.is(await h.jar(tab), OWN,
                `${t} that one request expired them in every place`);
            h.noErrors('FR, no choice:', diag);
        });

        // 3. "Accept all", then withdraw
        await visitor(b, 'FR', async (tab, diag) => {
            let t = 'FR, accept all:';
            await site.visit(tab, s.url('/banner/'));
            const r = await site.act(tab,
                () => tab.click('[data-consent="accept"]'), 'POST');
            h.is(r.status, 200, `${t} POST answered 200`);
            await track(s, tab, t);
            h.is(await echo(tab, '/shop/echo'), sorted('consent', names(ALL)),
                `${t} every cookie reaches the origin`);
            h.is(await h.jar(tab), sorted(CONSENT, ALL),
                `${t} the jar keeps them all`);

            t = 'FR, withdraw:';
            await site.reopen(tab);
            const w = await site.act(tab,
                () => tab.click('[data-consent="withdraw"]'), 'DELETE');
            h.is(w.status, 200, `${t} DELETE answered 200`);
            const slash = ALL.filter((c) => c.endsWith(' /'));
            h.is(await h.jar(tab), sorted(CONSENT, ALL.filter((c) =>
                !slash.includes(c) || OWN.includes(c))),
            `${t} its answer expired the Path=/ ones (host-only and `
                + 'Domain=consent.test)');
            h.is(await shopPage(s, tab), sorted('consent',
                sentTo(OWN, '/shop/')),
            `${t} the next page under /shop/ reaches the origin without `
                + 'the rest');
            h.is(await h.jar(tab), sorted(CONSENT, OWN),
                `${t} and its answer expired them: no tracking cookie left`);
            h.noErrors('FR, accept and withdraw:', diag);
        });

        // 4. analytics only
        await visitor(b, 'FR', async (tab, diag) => {
            const t = 'FR, analytics only:';
            await site.visit(tab, s.url('/banner/'));
            await site.choose(tab);
            await site.tick(tab, ['analytics']);
            const r = await site.act(tab,
                () => tab.click('[data-consent="save"]'), 'POST');
            h.is([r.status, JSON.parse(r.sent).purposes], [200,
                ['analytics']], `${t} POST of ["analytics"] answered 200`);
            await track(s, tab, t);
            const kept = tracked((p) => p !== 'advertising');
            h.is(await echo(tab, '/shop/echo'),
                sorted('consent', names(kept)),
            `${t} the analytics cookies reach the origin, from all three `
                + 'places, the advertising ones do not');
            h.is(await h.jar(tab), sorted(CONSENT, kept),
                `${t} the jar: _ga, _gid and _ga_SHOP1 kept, _fbp, _gcl_au `
                + 'and _fbc expired from host-only /, Domain=consent.test '
                + 'and /shop');
            h.noErrors('FR, analytics only:', diag);
        });

        h.errorLogClean(s.ngx);
    } finally {
        await b.close();
        await s.stop();
    }
}

h.run(__filename, main, 150000);
