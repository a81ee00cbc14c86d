#!/usr/bin/env bash
# Instruction counts per request (valgrind --tool=callgrind), for the
# module's own functions and in all, on a fixed request set: repeatable
# where wall time is not.  Compares the module location against a plain
# proxy_pass location in the same nginx.
#
#   bench/instructions.sh [requests=N] [rules=shipped|default|N]
#                         [iab=cached|uncached] [csp=on]
#                         [vendors=NAME,NAME...] [redis=on] [provision=on]
#                         [metrics=on]
#
# iab=: the visitor has no consent cookie but a CMP's TC string (about
# 600 bytes: 11 purposes, 400 vendors, as large CMP strings are), which
# decides under consent_iab on; "uncached" turns the worker's cache of
# decoded strings off, to show what one decode costs.
#
# vendors=: the consent cookie also refuses these vendors one by one (a
# version 2 token), so their cookies go though analytics is granted.
#
# redis=on: a local redis-server, consent_redis and a consent_zone (the
# visitor's record is looked up once, then answered by the zone).
# provision=on: the same, and consent_provision_log on: compare with
# redis=on for what the provision log costs.
#
# metrics=on: a consent_metrics location, so every request adds to the
# shared counters.
#
# csp=on: the origin sends a 1 KB Content-Security-Policy naming a dozen
# vendors' hosts, and consent_csp rewrites it for the visitor (who granted
# analytics, not advertising: the ad networks' hosts go).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/common.sh"
module="$top/build/ngx_http_consent_module.so"
requests=500
nrules=shipped
iab=
csp=
vendors=
redis=
provision=
metrics=

for a in "$@"; do
    case $a in
        requests=*) requests=${a#requests=} ;;
        rules=*) nrules=${a#rules=} ;;
        iab=*) iab=${a#iab=} ;;
        csp=*) csp=${a#csp=} ;;
        vendors=*) vendors=${a#vendors=} ;;
        redis=*) redis=${a#redis=} ;;
        provision=on) redis=on; provision=on ;;
        metrics=*) metrics=${a#metrics=} ;;
    esac
done

command -v valgrind >/dev/null || { echo "valgrind is missing" >&2; exit 1; }
[ -f "$module" ] || { echo "build the module first: make" >&2; exit 1; }

dir=$(mktemp -d /tmp/consent-callgrind.XXXXXX)
mkdir -p "$dir/logs" "$dir/tmp"
trap 'kill $(cat "$dir/nginx.pid" "$dir/redis.pid" 2>/dev/null) 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"' EXIT

port=$(free_port)
key=$(bench_keys "$dir")

rules=$(bench_rules "$nrules" "$dir")
cookies=$(bench_cookies "$key" "$vendors")

if [ -n "$iab" ]; then
    tc=$(perl -I"$top/t/lib" -MConsentIAB=tcf_string -e '
        srand(7);
        my %v;
        $v{1 + int rand 1200} = 1 while keys %v < 400;
        my @v = sort { $a <=> $b } keys %v;
        print tcf_string(purposes => [1 .. 11], features => [1],
                         vendors => \@v, vendors_li => [@v[0 .. 199]],
                         cmp_id => 28)')
    cookies="${cookies%; consent=*}; euconsent-v2=$tc"
    MOD_CONF="consent_iab on cmp=any; ${MOD_CONF:-}"
    [ "$iab" = uncached ] && HTTP_CONF="consent_iab_cache 0;"
    echo "TC string: ${#tc} bytes"
fi

if [ "$redis" = on ]; then
    rport=$(free_port)
    redis-server --port "$rport" --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" \
        --logfile "$dir/logs/redis.log" >/dev/null
    wait_port "$rport" 100 0.05
    # the visitor's record (bench_cookies' subject): found, as a returning
    # visitor's is
    redis-cli -p "$rport" HSET consent:s:benchsubject0001 p analytics v 1 \
        t "$(date +%s)" >/dev/null
    HTTP_CONF="consent_redis 127.0.0.1:$rport timeout=1s; \
consent_zone zone=consent:1m ttl=600s negative_ttl=600s; ${HTTP_CONF:-}"
    if [ "$provision" = on ]; then
        MOD_CONF="consent_provision_log on; ${MOD_CONF:-}"
    fi
fi

if [ "$metrics" = on ]; then
    SERVER_CONF="location = /metrics { consent_metrics; }"
fi

if [ "$csp" = on ]; then
    policy="default-src 'self'; script-src 'self' 'nonce-r4nd0m' \
https://www.googletagmanager.com https://c.amazon-adsystem.com \
https://cdn.adform.net https://*.demdex.net https://cdn.amplitude.com \
https://static.criteo.net https://s.yimg.jp https://connect.facebook.net; \
img-src 'self' data: https://*.amazon-adsystem.com https://track.adform.net \
https://dpm.demdex.net https://www.facebook.com https://b97.yahoo.co.jp \
https://*.criteo.com; connect-src 'self' https://api2.amplitude.com \
https://*.demdex.net https://c.amazon-adsystem.com https://bid.g.doubleclick.net \
https://gum.criteo.com; frame-src https://*.doubleclick.net \
https://s.amazon-adsystem.com https://*.adform.net; style-src 'self' \
'unsafe-inline' https://fonts.googleapis.com; font-src 'self' \
https://fonts.gstatic.com; frame-ancestors 'self'; base-uri 'self'; \
form-action 'self'; object-src 'none'; worker-src 'self' \
https://www.googletagmanager.com; media-src 'self' https://*.adform.net \
https://b97.yahoo.co.jp; manifest-src 'self'; upgrade-insecure-requests; report-uri /csp-report"
    ORIGIN_CONF="add_header Content-Security-Policy \"$policy\";"
    MOD_CONF="consent_csp on; ${MOD_CONF:-}"
    echo "policy: ${#policy} bytes"
fi

cat > "$dir/nginx.conf" <<CONF
load_module $module;
daemon off;
master_process off;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp;
    $rules
    consent_keys $dir/keys;
    ${HTTP_CONF:-}
    server {
        listen 127.0.0.1:$port;
        location /origin { ${ORIGIN_CONF:-} return 200 "ok\n"; }
        location /plain { proxy_pass http://127.0.0.1:$port/origin; }
        ${SERVER_CONF:-}
        location /mod {
            consent on;
            consent_region \$http_x_country;
            ${MOD_CONF:-}
            proxy_pass http://127.0.0.1:$port/origin;
        }
    }
}
CONF


valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    --dump-instr=no --collect-atstart=yes \
    /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" >/dev/null 2>&1 &

wait_port "$port" 600 0.1 || true

# the same fixed request set against each location, one connection each
send() {
    perl -MIO::Socket::INET -e '
        my ($port, $path, $n, $cookie) = @ARGV;
        my $s = IO::Socket::INET->new("127.0.0.1:$port") or die;
        my $req = "GET $path HTTP/1.1\r\nHost: x\r\nCookie: $cookie\r\n"
                . "X-Country: FR\r\nSec-GPC: 1\r\n\r\n";
        for (1 .. $n) {
            print $s $req;
            my $head = "";
            while ($head !~ /\r\n\r\n/) { sysread $s, $head, 4096, length $head }
            my ($cl) = $head =~ /Content-Length: (\d+)/i;
            my ($body) = $head =~ /\r\n\r\n(.*)/s;
            while (length($body) < $cl) { sysread $s, $body, 4096, length $body }
        }' "$port" "$1" "$requests" "$cookies"
}

# counters start at zero once nginx is up, and each location's share is
# dumped on its own so start-up and configuration never count
cgpid=$(cat "$dir/nginx.pid")
callgrind_control -z "$cgpid" >/dev/null

send /plain
callgrind_control -d plain "$cgpid" >/dev/null
send /mod
callgrind_control -d mod "$cgpid" >/dev/null

kill -QUIT "$cgpid"
wait || true

plain_out=$(ls "$dir"/cg.out.*1 | head -1)
mod_out=$(ls "$dir"/cg.out.*2 | head -1)
callgrind_annotate --auto=no --threshold=100 --inclusive=no "$mod_out" > "$dir/mod.txt" 2>/dev/null
callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$mod_out" > "$dir/mod-incl.txt" 2>/dev/null

total() {
    callgrind_annotate --auto=no "$1" 2>/dev/null \
        | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

plain=$(total "$plain_out")
mod=$(total "$mod_out")

echo "requests: $requests to each location (rules: $nrules${iab:+, iab: $iab}${csp:+, csp: $csp}${vendors:+, vendors refused: $vendors}${redis:+, redis}${provision:+, provision log}${metrics:+, metrics})"
awk -v p="$plain" -v m="$mod" -v n="$requests" 'BEGIN {
    printf "plain proxy_pass: %8.0f instructions per request\n", p / n;
    printf "with the module:  %8.0f instructions per request (+%.0f, %.1f%%)\n",
           m / n, (m - p) / n, (m - p) * 100 / p }'
echo
echo "module functions, inclusive instructions per /mod request:"
fn() {
    awk -v n="$requests" '{
        c = $1; gsub(",", "", c);
        f = $0; sub(/ \[[^]]*\]$/, "", f); sub(/.*:/, "", f);
        printf "  %8.0f  %s\n", c / n, f }'
}
# a function can be listed once per object it was seen from: once here
# (awk, not head: with pipefail, a writer cut off by head fails the script)
grep -E ':(ngx_http_)?consent_' "$dir/mod-incl.txt" | fn | awk '!seen[$2]++' \
    | awk 'NR <= 20'
echo
echo "hottest functions in the /mod run (self):"
grep -E '^ *[0-9,]+ .*:' "$dir/mod.txt" | grep -vE 'PROGRAM TOTALS|main|0x0000000000|\?\?\?:0x' \
    | awk 'NR <= 25' | fn
