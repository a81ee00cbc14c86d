'use strict';

// Harness of the real-browser tests (t/browser/*.test.js), Node.js only
// plus puppeteer-core.  What t/lib/ConsentTest.pm does for the Perl suite:
//
//   const h = require('./lib/harness');
//   const ngx = await h.startNginx({ conf: (p) => '...', files: {...} });
//       // nginx (NGINX_BIN, default /usr/sbin/nginx) with the module
//       // (CONSENT_MODULE, default build/ngx_http_consent_module.so) in a
//       // temp prefix (kept with CONSENT_KEEP=1), on free loopback ports;
//       // conf(p) gets { dir, ports: [...] } and returns the http{} body
//   const browser = await h.launchBrowser({ hosts: ['site.test', ...] });
//       // Debian's chromium (CHROMIUM, default /usr/bin/chromium),
//       // headless, a fresh profile, the hosts mapped to 127.0.0.1
//   const redis = await h.startRedis();
//       // a private redis-server (REDIS_SERVER, default redis-server) on a
//       // free loopback port, answering PING: { port, cmd(...args), stop() }
//   h.launchBrowser({ hosts, lang: 'ja', args: [...] })
//       // lang: the browser's languages (--lang, --accept-lang), so
//       // navigator.languages and Accept-Language; args: more switches
//   h.ok(cond, name, diag); h.is(got, want, name); h.done();
//       // TAP lines; done() prints the plan and "N passed, N failed" and
//       // sets the exit status
//   await ngx.reload({ conf }); // SIGHUP with a new http{} body: resolved
//       // once the old worker is gone (a refused one rejects)
//   const { tab, diag } = await h.openTab(browserOrContext, { viewport });
//       // a tab recording console errors, page errors, failed requests;
//       // h.noErrors(t, diag) checks there were none
//   h.runCase(name, async (ctx) => {...}); h.waitIn(tab, what, fn);
//   h.jar(tab)                  // chromium's whole cookie jar (CDP)
//   h.screenshot(tab, name)     // build/browser-screenshots/NAME.png
//   lib/site.js: the example banner's site (redis, nginx with the module,
//       // the consent API, the banner, an origin that echoes cookies)
//
// Readiness is polled (a request answered, a log line there), never slept.

const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const http = require('http');
const crypto = require('crypto');
const { spawn } = require('child_process');

const REPO = path.resolve(__dirname, '..', '..', '..');
const NGINX_BIN = process.env.NGINX_BIN || '/usr/sbin/nginx';
const MODULE = process.env.CONSENT_MODULE
    || path.join(REPO, 'build', 'ngx_http_consent_module.so');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const KEEP = !!process.env.CONSENT_KEEP;
// screenshots and other artefacts: under build/ (git-ignored)
const ARTEFACTS = process.env.BROWSER_ARTEFACTS
    || path.join(REPO, 'build', 'browser');
// the screenshots of the banner's flows, layouts and accessibility
// states, kept by CI: build/browser-screenshots/ (git-ignored)
const SCREENSHOTS = process.env.BROWSER_SCREENSHOTS
    || path.join(REPO, 'build', 'browser-screenshots');

// ------------------------------------------------------------------ TAP

let nTests = 0;
let nFailed = 0;

function ok(cond, name, diag) {
    nTests++;
    if (cond) {
        console.log(`ok ${nTests} - ${name}`);
    } else {
        nFailed++;
        console.log(`not ok ${nTests} - ${name}`);
        if (diag !== undefined) note(typeof diag === 'string'
            ? diag : JSON.stringify(diag, null, 2));
    }
    return !!cond;
}

function is(got, want, name) {
    const g = JSON.stringify(got);
    const w = JSON.stringify(want);
    return ok(g === w, name, `     got: ${g}\nexpected: ${w}`);
}

function note(text) {
    for (const l of String(text).split('\n')) console.log(`# ${l}`);
}

function bail(err) {
    nFailed++;
    console.log(`not ok ${++nTests} - the test ran to its end`);
    note(err && err.stack ? err.stack : String(err));
}

// a test file's main, within limitMs whatever hangs; the summary printed
// either way
function run(file, main, limitMs) {
    const guard = setTimeout(() => {
        bail(new Error(`${path.basename(file)}: not done after `
            + `${limitMs / 1000} s`));
        done(file);
        process.exit(1);
    }, limitMs);

    main().catch(bail).finally(() => {
        clearTimeout(guard);
        done(file);
    });
}

function done(file) {
    console.log(`1..${nTests}`);
    const name = path.basename(file || process.argv[1]);
    console.log(`${name}: ${nTests - nFailed} passed, ${nFailed} failed`);
    process.exitCode = nFailed || nTests === 0 ? 1 : 0;
}

// ---------------------------------------------------------------- tokens

function b64url(buf) {
    return Buffer.from(buf).toString('base64')
        .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// the signed consent cookie's value, as t/lib/ConsentTest.pm's mint_token:
// "1.KID.SUBJECT.MASK(8 hex).PV.IAT" and its HMAC-SHA256, base64url
function mintToken(kid, key, subject, mask, pv = 1,
                   iat = Math.floor(Date.now() / 1000)) {
    const payload = `1.${kid}.${subject}.`
        + mask.toString(16).padStart(8, '0') + `.${pv}.${Math.floor(iat)}`;
    const sig = crypto.createHmac('sha256', key).update(payload).digest();
    return `${payload}.${b64url(sig)}`;
}

// a keys file line: "kid base64key"
function keysLine(kid, key) {
    return `${kid} ${Buffer.from(key).toString('base64')}\n`;
}

const PURPOSE_BITS = {
    necessary: 0x01, functional: 0x02, analytics: 0x04, advertising: 0x08,
    personalization: 0x10, sharing: 0x20,
};

// --------------------------------------------------------------- polling

async function poll(what, fn, timeoutMs = 10000, everyMs = 20) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > deadline) {
            throw new Error(`${what}: not after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

async function freePorts(n) {
    const ports = [];
    while (ports.length < n) {
        const p = await freePort();
        if (!ports.includes(p)) ports.push(p);
    }
    return ports;
}

// GET http://127.0.0.1:port/path with a Host header: { status, headers,
// body }, or null when nothing answers
function get(port, urlPath, host, headers = {}) {
    return new Promise((resolve) => {
        const req = http.get({
            host: '127.0.0.1', port, path: urlPath,
            headers: { Host: host, ...headers }, agent: false,
        }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { body += c; });
            res.on('end', () => resolve({
                status: res.statusCode, headers: res.headers, body,
            }));
        });
        req.on('error', () => resolve(null));
        req.setTimeout(2000, () => { req.destroy(); });
    });
}

// ----------------------------------------------------------------- nginx

const running = new Set();

// TERM, not KILL: a killed nginx master leaves its workers running, a
// terminated one stops them (fast shutdown) after this process is gone
function killAll() {
    for (const child of running) {
        try { child.kill('SIGTERM'); } catch (e) { /* gone */ }
    }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => { killAll(); process.exit(130); });
}

// the prefix's files and nginx.conf for p = { dir, ports }: opts.files
// ({ name: text or fn(p) }) and the http{} body opts.conf(p) returns
function writeNginxConf(opts, p) {
    const { dir } = p;
    for (const [name, content] of Object.entries(opts.files || {})) {
        const f = path.join(dir, name);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, typeof content === 'function'
            ? content(p) : content);
    }
    const user = process.getuid && process.getuid() === 0
        ? 'user root;' : '';
    const conf = `${user}
load_module ${MODULE};
daemon off;
master_process on;
worker_processes 1;
error_log ${dir}/error.log info;
pid ${dir}/nginx.pid;

events {
    worker_connections 256;
}

http {
    client_body_temp_path ${dir}/tmp/client_body;
    proxy_temp_path       ${dir}/tmp/proxy;
    fastcgi_temp_path     ${dir}/tmp/fastcgi;
    uwsgi_temp_path       ${dir}/tmp/uwsgi;
    scgi_temp_path        ${dir}/tmp/scgi;
    default_type text/plain;
    keepalive_timeout 5s;

${opts.conf(p)}
}
`;
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
}

// startNginx({ conf(p), files: { name: text or fn(p) }, nports,
// ready: { port: i, host, path } }): a started instance
// { dir, ports, log(name), errorLog(), reload(changes), stop() }.
// p = { dir, ports }.  Ports are picked free, then bound by nginx a
// little later: when another process took one in between, new ports and
// another try (as ConsentTest.pm).
async function startNginx(opts) {
    if (!fs.existsSync(MODULE)) {
        throw new Error(`module not built: ${MODULE} (run make)`);
    }
    opts = { ...opts };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consent-browser-'));
    fs.chmodSync(dir, 0o755);
    for (const d of ['tmp', 'logs']) fs.mkdirSync(path.join(dir, d));

    for (let attempt = 1; ; attempt++) {
        const ports = await freePorts(opts.nports || 2);
        const p = { dir, ports };
        writeNginxConf(opts, p);
        for (const f of ['error.log', 'stderr.log']) {
            fs.rmSync(path.join(dir, f), { force: true });
        }

        const errFd = fs.openSync(path.join(dir, 'stderr.log'), 'a');
        const child = spawn(NGINX_BIN,
            ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf')],
            { stdio: ['ignore', errFd, errFd] });
        fs.closeSync(errFd);
        running.add(child);
        let exited = null;
        child.on('exit', (code, sig) => {
            exited = sig || code;
            running.delete(child);
        });

        const r = opts.ready;
        let err = null;
        try {
            // an answer means a worker is there, not only the master
            await poll('nginx answering', async () => exited !== null
                || (await get(ports[r.port], r.path, r.host)) !== null,
                10000);
            if (exited !== null) err = `nginx exited (${exited})`;
        } catch (e) {
            err = e.message;
        }
        if (!err) {
            const errorLog = () => readFile(path.join(dir, 'error.log'))
                + readFile(path.join(dir, 'stderr.log'));
            return {
                dir, ports, child,
                log: (name) => readFile(path.join(dir, name)),
                errorLog,
                // the configuration again with opts changed (conf, files),
                // then SIGHUP: resolved once the new worker started and
                // the old one has exited, so every connection from then
                // on, a browser's kept-alive ones too, gets the new one;
                // rejected when nginx refused it ([emerg]: the old one
                // stays)
                reload: async (changes = {}) => {
                    Object.assign(opts, changes);
                    const from = readFile(path.join(dir, 'error.log'))
                        .length;
                    writeNginxConf(opts, p);
                    child.kill('SIGHUP');
                    await poll('nginx reloaded', () => {
                        const log = readFile(path.join(dir, 'error.log'))
                            .slice(from);
                        if (/\[emerg\]/.test(log) || exited !== null) {
                            throw new Error(`nginx reload failed:\n${log}`
                                + readFile(path.join(dir, 'stderr.log')));
                        }
                        return /start worker process \d+/.test(log)
                            && /worker process \d+ exited/.test(log);
                    }, 15000);
                },
                stop: () => stopNginx(child, dir, () => exited !== null),
            };
        }
        const logs = readFile(path.join(dir, 'stderr.log'))
            + readFile(path.join(dir, 'error.log'));
        if (exited === null) child.kill('SIGKILL');
        await poll('nginx gone', () => exited !== null, 10000);
        if (attempt < 5 && /Address already in use/.test(logs)) continue;
        throw new Error(`nginx did not start: ${err}\n${logs}`);
    }
}

async function stopNginx(child, dir, gone) {
    if (!gone()) {
        child.kill('SIGTERM');
        try {
            await poll('nginx stopping', gone, 10000);
        } catch (e) {
            child.kill('SIGKILL');
            await poll('nginx killed', gone, 5000);
        }
    }
    if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else note(`kept ${dir}`);
}

function readFile(f) {
    try { return fs.readFileSync(f, 'utf8'); } catch (e) { return ''; }
}

// ----------------------------------------------------------------- redis

// one command to redis on port, its reply decoded (RESP2: a string, a
// number, null, an array; an error reply rejects): a connection each
function redisCmd(port, ...args) {
    return new Promise((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port });
        let buf = Buffer.alloc(0);
        const fail = (e) => { sock.destroy(); reject(e); };
        // [value, bytes used] or null while incomplete
        const parse = (at) => {
            const eol = buf.indexOf('\r\n', at);
            if (eol < 0) return null;
            const type = String.fromCharCode(buf[at]);
            const line = buf.toString('utf8', at + 1, eol);
            const next = eol + 2;
            if (type === '+') return [line, next];
            if (type === '-') return [new Error(`redis: ${line}`), next];
            if (type === ':') return [Number(line), next];
            if (type === '$') {
                const n = Number(line);
                if (n < 0) return [null, next];
                if (buf.length < next + n + 2) return null;
                return [buf.toString('utf8', next, next + n), next + n + 2];
            }
            if (type === '*') {
                const n = Number(line);
                if (n < 0) return [null, next];
                const a = [];
                let pos = next;
                for (let i = 0; i < n; i++) {
                    const r = parse(pos);
                    if (!r) return null;
                    a.push(r[0]);
                    pos = r[1];
                }
                return [a, pos];
            }
            return [new Error(`redis: bad reply ${line}`), next];
        };
        sock.setTimeout(2000, () => fail(new Error('redis: timeout')));
        sock.on('error', fail);
        sock.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            const r = parse(0);
            if (!r) return;
            sock.end();
            if (r[0] instanceof Error) reject(r[0]); else resolve(r[0]);
        });
        sock.on('connect', () => {
            sock.write(`*${args.length}\r\n` + args.map((a) => {
                const b = String(a);
                return `$${Buffer.byteLength(b)}\r\n${b}\r\n`;
            }).join(''));
        });
    });
}

// startRedis(): a private redis-server (no persistence) on a free
// loopback port, once it answers PING and INFO names its pid (not
// another server's): { port, dir, cmd(...args), stop() }.  A port taken
// in between: another port, another try.
async function startRedis() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consent-redis-'));
    for (let attempt = 1; ; attempt++) {
        const [port] = await freePorts(1);
        const logFile = path.join(dir, 'redis.log');
        fs.rmSync(logFile, { force: true });
        const fd = fs.openSync(logFile, 'a');
        const child = spawn(REDIS_SERVER, ['--port', String(port),
            '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
            '--dir', dir], { stdio: ['ignore', fd, fd] });
        fs.closeSync(fd);
        running.add(child);
        let exited = null;
        child.on('error', (e) => { exited = e.message; });
        child.on('exit', (code, sig) => {
            exited = sig || code;
            running.delete(child);
        });
        const mine = async () => {
            try {
                const info = await redisCmd(port, 'INFO', 'server');
                const m = /process_id:(\d+)/.exec(info);
                return m && Number(m[1]) === child.pid
                    && (await redisCmd(port, 'PING')) === 'PONG';
            } catch (e) {
                return false;
            }
        };
        let err = null;
        try {
            await poll('redis answering', async () => exited !== null
                || mine(), 10000);
            if (exited !== null) err = `redis-server exited (${exited})`;
        } catch (e) {
            err = e.message;
        }
        if (!err) {
            return {
                port, dir, child,
                cmd: (...args) => redisCmd(port, ...args),
                log: () => readFile(logFile),
                stop: async () => {
                    if (exited === null) {
                        child.kill('SIGTERM');
                        try {
                            await poll('redis stopping',
                                () => exited !== null, 10000);
                        } catch (e) {
                            child.kill('SIGKILL');
                            await poll('redis killed',
                                () => exited !== null, 5000);
                        }
                    }
                    if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
                    else note(`kept ${dir}`);
                },
            };
        }
        const log = readFile(logFile);
        if (exited === null) child.kill('SIGKILL');
        await poll('redis gone', () => exited !== null, 10000);
        if (attempt < 5 && /Address already in use/i.test(log)) continue;
        throw new Error(`redis-server did not start: ${err}\n${log}`);
    }
}

// ---------------------------------------------------------------- chromium

// a headless chromium with a fresh profile (so localStorage and cookies
// start empty) and the fake hosts resolved to 127.0.0.1: { browser,
// close() }
async function launchBrowser({ hosts, lang, args: extra = [] }) {
    const puppeteer = require('puppeteer-core');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(),
        'consent-chromium-'));
    const rules = hosts.map((h) => `MAP ${h} 127.0.0.1`).join(',');
    const browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,            // the new headless mode
        userDataDir: profile,
        args: [
            '--no-sandbox',        // as root
            '--disable-dev-shm-usage',
            '--no-first-run',
            '--no-default-browser-check',
            '--no-proxy-server',
            `--host-resolver-rules=${rules}`,
            // plain http to the fake hosts, as written, not upgraded
            '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable',
            // the browser's languages: navigator.languages, Accept-Language
            ...(lang ? [`--lang=${lang}`, `--accept-lang=${lang}`] : []),
            ...extra,
        ],
    });
    return {
        browser,
        close: async () => {
            await browser.close();
            fs.rmSync(profile, { recursive: true, force: true });
        },
    };
}

// ------------------------------------------------------------------ pages

// fn(...args) in the page, until it is truthy: its value (CDP's
// evaluate: not subject to the page's Content-Security-Policy, as
// waitForFunction is)
function waitIn(tab, what, fn, ...args) {
    return poll(what, () => tab.evaluate(fn, ...args), 10000);
}

// a tab in target (a browser or a browser context: a fresh cookie jar
// and storage) that records what the cases check: console messages and
// errors, uncaught exceptions, failed requests.  viewport: as puppeteer's
// setViewport (default 1000x900).  { tab, diag }
async function openTab(target, { viewport } = {}) {
    const tab = await target.newPage();
    await tab.setViewport(viewport || { width: 1000, height: 900 });
    tab.setDefaultTimeout(15000);
    const diag = { console: [], errors: [], pageErrors: [], failed: [] };
    tab.on('console', (m) => {
        diag.console.push(`${m.type()}: ${m.text()}`);
        if (m.type() === 'error') {
            diag.errors.push(`${m.text()} ${JSON.stringify(m.location())}`);
        }
    });
    tab.on('pageerror', (e) => diag.pageErrors.push(String(e)));
    tab.on('requestfailed', (r) => diag.failed.push(
        `${r.method()} ${r.url()} ${(r.failure() || {}).errorText}`));
    return { tab, diag };
}

// no console error, no uncaught exception in what diag recorded: two
// checks; forgotten afterwards, so the next call sees what came since
function noErrors(t, diag) {
    is(diag.errors, [], `${t} no console error`);
    is(diag.pageErrors, [], `${t} no uncaught exception`);
    diag.errors.length = 0;
    diag.pageErrors.length = 0;
}

// nginx's error.log has no alert, crit or emerg and no crash: one check
function errorLogClean(ngx) {
    const bad = ngx.errorLog().split('\n')
        .filter((l) => /\[(alert|crit|emerg)\]|signal 11|core dumped/
            .test(l));
    is(bad, [], 'error.log: no alert, crit or emerg');
}

// one case: fn(ctx) with ctx = {}; it may set ctx.diag (printed when the
// case failed) and ctx.close (awaited at the end, whatever happened).  An
// exception is one failure, and the cases after it still run.
async function runCase(name, fn) {
    const failedBefore = nFailed;
    const ctx = { diag: null, close: null };
    try {
        await fn(ctx);
    } catch (e) {
        bail(e);
    } finally {
        if (nFailed > failedBefore && ctx.diag) {
            note(`${name}: console ${JSON.stringify(ctx.diag.console,
                null, 1)}`);
            note(`${name}: failed requests ${JSON.stringify(
                ctx.diag.failed, null, 1)}`);
        }
        if (ctx.close) {
            try { await ctx.close(); } catch (e) { bail(e); }
        }
    }
}

// a screenshot of the tab's viewport as dir/name.png (dir: SCREENSHOTS,
// build/browser-screenshots/, unless given); its path
async function screenshot(tab, name, dir = SCREENSHOTS) {
    fs.mkdirSync(dir, { recursive: true });
    const f = path.join(dir, `${name}.png`);
    await tab.screenshot({ path: f });
    note(`screenshot ${path.relative(REPO, f)}`);
    return f;
}

// every cookie of the tab's browser context, from chromium's own jar
// (CDP Network.getAllCookies: HttpOnly ones too, every domain and path),
// as "name domain path" strings sorted ("_gid .consent.test /" for a
// Domain= cookie, "_ga www.consent.test /" host-only); raw: the objects
async function jar(tab, raw = false) {
    const cdp = await tab.createCDPSession();
    try {
        const { cookies } = await cdp.send('Network.getAllCookies');
        return raw ? cookies
            : cookies.map((c) => `${c.name} ${c.domain} ${c.path}`).sort();
    } finally {
        await cdp.detach().catch(() => {});
    }
}

// the Cookie names of an origin's echo ("origin received Cookie: [...]"),
// sorted; null without one
function echoedNames(body) {
    const m = /Cookie: \[([^\]]*)\]/.exec(body || '');
    if (!m) return null;
    return m[1].split('; ').filter(Boolean).map((c) => c.split('=')[0])
        .sort();
}

// GET url from inside the page (its cookies, same origin): { status,
// body }
function fetchIn(tab, url) {
    return tab.evaluate(async (u) => {
        const r = await fetch(u, { credentials: 'same-origin',
            cache: 'no-store' });
        return { status: r.status, body: await r.text() };
    }, url);
}

module.exports = {
    REPO, ARTEFACTS, SCREENSHOTS, CHROMIUM, NGINX_BIN, MODULE, PURPOSE_BITS,
    ok, is, note, bail, done, run, poll, failed: () => nFailed, get,
    mintToken, keysLine,
    startNginx, launchBrowser, startRedis, redisCmd,
    waitIn, openTab, noErrors, errorLogClean, runCase, screenshot, jar,
    echoedNames, fetchIn,
};
