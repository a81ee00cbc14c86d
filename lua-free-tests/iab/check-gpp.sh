#!/usr/bin/env bash
# Cross-checks the core's GPP decoder against the IAB's reference
# library: gpp-vectors.mjs makes N strings with random sections and
# fields through @iabgpp/cmpapi's encoder, with what the library reads
# back from each; build/gpp_decode reads the same strings; the two are
# compared field by field.  Prints the counts and every mismatch; exits 1
# on a mismatch.
#
#   iab/check-gpp.sh [COUNT] [SEED...]   (defaults: 2000, 1 and 2)
#
# Needs node and `npm install` in iab/, and build/gpp_decode (see
# tools/gpp_decode.c).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tests=$(dirname "$here")
n=${1:-2000}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)
decoder=${GPP_DECODE:-$tests/build/gpp_decode}

if [ ! -d "$here/node_modules/@iabgpp/cmpapi" ]; then
    echo "check-gpp: run npm install in $here first" >&2
    exit 2
fi

if [ ! -x "$decoder" ]; then
    echo "check-gpp: $decoder not built" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0

for seed in "${seeds[@]}"; do

(cd "$here" && node gpp-vectors.mjs "$seed" "$n") >"$tmp/want"
node -e '
    const fs = require("fs");
    for (const l of fs.readFileSync(process.argv[1], "utf8").split("\n")) {
        if (l) console.log(JSON.parse(l).gpp);
    }' "$tmp/want" >"$tmp/strings"
"$decoder" <"$tmp/strings" >"$tmp/got"

node -e '
    const fs = require("fs");
    const read = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean);
    const want = read(process.argv[1]), got = read(process.argv[2]);
    const seed = process.argv[3];
    let strings = 0, sections = 0, fields = 0, bad = 0;
    const miss = (msg) => { bad++; if (bad <= 50) console.log("MISMATCH " + msg); };
    if (want.length !== got.length) miss(`line counts ${want.length} vs ${got.length}`);
    for (let i = 0; i < Math.min(want.length, got.length); i++) {
        const w = JSON.parse(want[i]);
        strings++;
        if (got[i].startsWith("error")) { miss(`${w.gpp}: ${got[i]}`); continue; }
        const g = JSON.parse(got[i]);
        const wids = w.sections.map((s) => s.id).join(",");
        const gids = g.sections.map((s) => s.id).join(",");
        if (wids !== gids) { miss(`${w.gpp}: sections ${wids} vs ${gids}`); continue; }
        w.sections.forEach((ws, j) => {
            const gs = g.sections[j];
            sections++;
            if (ws.name !== gs.name) miss(`${w.gpp}: name ${ws.name} vs ${gs.name}`);
            const keys = new Set([...Object.keys(ws.fields), ...Object.keys(gs.fields)]);
            for (const k of keys) {
                fields++;
                const a = JSON.stringify(ws.fields[k]), b = JSON.stringify(gs.fields[k]);
                if (a !== b) miss(`${w.gpp}: ${ws.name}.${k} library ${a} core ${b}`);
            }
        });
    }
    console.log(`check-gpp seed ${seed}: ${strings} strings, ${sections} sections, ${fields} fields compared, ${bad} mismatches`);
    process.exit(bad ? 1 : 0);
' "$tmp/want" "$tmp/got" "$seed" || status=1
done

exit $status
