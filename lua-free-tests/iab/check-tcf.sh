#!/bin/bash
#
# Cross-check of the core's TC string decoder with the IAB reference
# library: tcf-vectors.mjs makes COUNT strings with random fields for each
# SEED with @iabtechlabtcf/core, build/tcf_decode reads them with the
# core, and every field of every string is compared.
#
#   iab/check-tcf.sh [COUNT] [SEED...]      (defaults: 3000, 1 and 2)
#
# Needs node, `npm install` run here once (node_modules is git-ignored),
# and build/tcf_decode.  Prints how many strings were compared and each
# mismatch (string, field, expected, got); exits 1 on any mismatch, 2 when
# it could not run.

set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
tool=$here/../build/tcf_decode
count=${1:-3000}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)

if [ ! -x "$tool" ]; then
    echo "check-tcf: no $tool (make -C lua-free-tests build/tcf_decode)" >&2
    exit 2
fi

if [ ! -d "$here/node_modules/@iabtechlabtcf/core" ]; then
    echo "check-tcf: run npm install in $here first" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0

for seed in "${seeds[@]}"; do
    if ! node "$here/tcf-vectors.mjs" "$seed" "$count" >"$work/want"; then
        echo "check-tcf: tcf-vectors.mjs failed for seed $seed" >&2
        exit 2
    fi

    if ! "$tool" <"$work/want" >"$work/got"; then
        echo "check-tcf: tcf_decode failed for seed $seed" >&2
        exit 2
    fi

    # field by field, in node since both sides are JSON lines
    node --input-type=module - "$work/want" "$work/got" "$seed" <<'JS' \
        || status=1
import { readFileSync } from 'node:fs';
const [want, got, seed] = process.argv.slice(2);
const w = readFileSync(want, 'utf8').trim().split('\n').map(JSON.parse);
const g = readFileSync(got, 'utf8').trim().split('\n').map(JSON.parse);
let bad = 0;
if (w.length !== g.length) {
    console.log(`seed ${seed}: ${w.length} strings made, ${g.length} read`);
    bad++;
}
for (let i = 0; i < Math.min(w.length, g.length); i++) {
    const keys = new Set([...Object.keys(w[i]), ...Object.keys(g[i])]);
    for (const k of keys) {
        const a = JSON.stringify(w[i][k]);
        const b = JSON.stringify(g[i][k]);
        if (a !== b) {
            bad++;
            if (bad <= 20) {
                console.log(`seed ${seed} #${i} ${w[i].s}\n  ${k}: ` +
                    `want ${a}\n  ${' '.repeat(k.length)}  got  ${b}`);
            }
        }
    }
}
console.log(`seed ${seed}: ${w.length} strings compared, ` +
    `${bad} mismatching fields`);
process.exit(bad ? 1 : 0);
JS
done

exit $status
