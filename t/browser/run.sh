#!/bin/bash
#
# The real-browser tests: every t/browser/*.test.js with node, one after
# the other (each starts its own nginx and chromium).  make test-browser
# installs what they need first (chromium, node_modules) and builds the
# module; run by hand, this needs those already.
#
#   t/browser/run.sh [FILE.test.js...]
#
# Each file prints TAP lines and "FILE: N passed, N failed"; this prints
# each file's time, the sum the same way and exits 1 when a file failed or
# ran no test.  A run of every file first removes the screenshots an
# earlier run left in build/browser-screenshots/ (BROWSER_SCREENSHOTS), so
# what is there afterwards is this run's.

set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1; then
    echo "test-browser: no node (apt-get install nodejs)" >&2
    exit 2
fi
if [ ! -d "$here/node_modules/puppeteer-core" ]; then
    echo "test-browser: no puppeteer-core: run npm ci in $here" \
         "(PUPPETEER_SKIP_DOWNLOAD=1), or make test-browser" >&2
    exit 2
fi

files=("$@")
if [ ${#files[@]} = 0 ]; then
    files=("$here"/*.test.js)
    shots=${BROWSER_SCREENSHOTS:-$(cd "$here/../.." && pwd)/build/browser-screenshots}
    rm -f "$shots"/*.png
fi

passed=0 failed=0 bad_files=()
start=$SECONDS
for f in "${files[@]}"; do
    echo "# $(basename "$f")"
    out=$(mktemp)
    t0=$SECONDS
    node "$f" | tee "$out"
    rc=$?
    echo "# $(basename "$f"): $((SECONDS - t0))s"
    line=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
    rm -f "$out"
    if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    fi
    if [ $rc != 0 ] || [ -z "$line" ]; then
        bad_files+=("$(basename "$f")")
        [ -n "$line" ] || failed=$((failed + 1))
    fi
done

echo "# $((SECONDS - start))s; files failed: ${bad_files[*]:-none}"
echo "test-browser: $passed passed, $failed failed"
[ ${#bad_files[@]} = 0 ] && [ "$passed" -gt 0 ]
