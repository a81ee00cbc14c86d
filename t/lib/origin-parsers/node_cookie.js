// What a Node.js application reads as cookie names from a Cookie header
// (driver for t/71-origin-parsers.t): the npm `cookie` package's parse(),
// which Express (cookie-parser), Fastify and most Node frameworks call on
// req.headers.cookie.  Node's http server hands header values over as
// latin-1 strings (one character a byte); so does this driver.
//
//   node node_cookie.js NODE_MODULES PACKAGE < input > output
//
// PACKAGE is the directory under NODE_MODULES: "cookie" (1.x) or an npm
// alias of an older release ("cookie06" = cookie@0.6.0, whose trim() also
// removes VT, FF, CR, LF and 0xA0 around names).
//
// Input: one Cookie header value a line, as hex.  Output: one line per
// input line, "ok<TAB>hexname hexname ..." or "err<TAB><TAB>message".
// Exit status 3 when the package is not installed.

'use strict';

const fs = require('fs');
const path = require('path');

const dir = path.join(process.argv[2] || '.', process.argv[3] || 'cookie');
let cookie, version;
try {
  cookie = require(dir);
  version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'))).version;
} catch (e) {
  process.stderr.write(`${dir}: not installed (${e.message})\n`);
  process.exit(3);
}
const parse = cookie.parse || cookie.parseCookie;
process.stderr.write(`cookie ${version} (${path.basename(dir)})\n`);

const lines = fs.readFileSync(0, 'latin1').split('\n');
if (lines[lines.length - 1] === '') lines.pop();   // the text's last newline
const out = [];
for (const line of lines) {
  try {
    const s = Buffer.from(line.trim(), 'hex').toString('latin1');
    const names = Object.keys(parse(s));
    out.push('ok\t' + names.map((n) => Buffer.from(n, 'latin1').toString('hex')).join(' ') + '\n');
  } catch (e) {
    out.push('err\t\t' + String(e).replace(/[\t\r\n]/g, ' ') + '\n');
  }
}
process.stdout.write(out.join(''));
