#!/usr/bin/env bash
# wrk on loopback: requests/s through the module against a plain
# proxy_pass in the same nginx, same run, alternating rounds.  Prints a
# table with the ratio (module / plain); absolute numbers depend on the
# machine, the ratio is what DESIGN.md sets targets for.
#
#   bench/run.sh [scenario=S] [rules=default|N] [rounds=N] [duration=S]
#
# scenarios: cookie  - decision from the signed cookie (no Redis)
#            cache   - Redis + shared cache, every lookup a cache hit
#            nocache - Redis, no cache: every request asks Redis
#            down    - Redis configured but down: the fail policy
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/common.sh"
module="$top/build/ngx_http_consent_module.so"
rounds=${ROUNDS:-3}
duration=${DURATION:-5}
conns=${CONNS:-32}
nrules=${RULES:-default}
scenario=${SCENARIO:-cookie}

for a in "$@"; do
    case $a in
        rules=*) nrules=${a#rules=} ;;
        scenario=*) scenario=${a#scenario=} ;;
        rounds=*) rounds=${a#rounds=} ;;
        duration=*) duration=${a#duration=} ;;
    esac
done

command -v wrk >/dev/null || { echo "wrk is missing: make deps" >&2; exit 1; }
[ -f "$module" ] || { echo "build the module first: make" >&2; exit 1; }

dir=$(mktemp -d /tmp/consent-bench.XXXXXX)
mkdir -p "$dir/logs" "$dir/tmp"
cleanup() {
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null
    [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
    if [ -n "${KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

p_mod=$(free_port); p_plain=$(free_port); p_origin=$(free_port)
p_redis=$(free_port)

redis_conf=""
case $scenario in
    cookie) ;;
    cache) redis_conf="consent_redis 127.0.0.1:$p_redis;
                       consent_zone zone=consent:16m ttl=10m;" ;;
    nocache) redis_conf="consent_redis 127.0.0.1:$p_redis;" ;;
    down) redis_conf="consent_redis 127.0.0.1:$p_redis;" ;;
    *) echo "unknown scenario $scenario" >&2; exit 1 ;;
esac

if [ "$scenario" = cache ] || [ "$scenario" = nocache ]; then
    redis-server --port "$p_redis" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/logs/redis.log"
    for _ in $(seq 100); do
        redis-cli -p "$p_redis" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    redis-cli -p "$p_redis" hset consent:s:benchsubject0001 \
        p analytics v 1 t "$(date +%s)" >/dev/null
fi

key=$(bench_keys "$dir")

# with two cores or more, the nginx worker (module, plain proxy and
# origin alike) gets core 0 and wrk (and redis) core 1: rounds then vary
# far less than when the scheduler moves them about.  PIN=0 turns it off.
affinity=""
pin_wrk=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null
then
    affinity="worker_cpu_affinity 01;"
    pin_wrk=(taskset -c 1)
    [ -f "$dir/redis.pid" ] && taskset -a -p -c 1 "$(cat "$dir/redis.pid")" \
        >/dev/null
fi

rules=$(bench_rules "$nrules" "$dir")

cat > "$dir/nginx.conf" <<CONF
load_module $module;
worker_processes 1;
$affinity
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log ${ACCESS_LOG:-off};
    client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp;
    fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp;
    scgi_temp_path $dir/tmp;

    $rules
    consent_keys $dir/keys;
    $redis_conf

    upstream origin { server 127.0.0.1:$p_origin; keepalive 32; }

    server {
        listen 127.0.0.1:$p_origin;
        location / { return 200 "ok\n"; }
    }

    server {
        listen 127.0.0.1:$p_mod;
        consent on;
        consent_region \$http_x_country;
        ${MOD_CONF:-}
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://origin;
        }
    }

    server {
        listen 127.0.0.1:$p_plain;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://origin;
        }
    }
}
CONF

/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf"

for p in $p_mod $p_plain $p_origin; do
    wait_port "$p" 100 0.05 || true
done

# a browser-like request: 10 tracking cookies, a session, a consent cookie
# granting analytics, Sec-GPC
cookies=$(bench_cookies "$key")

run_wrk() {
    "${pin_wrk[@]}" wrk -t1 -c"$conns" -d"${duration}s" --latency \
        -H "Cookie: $cookies" -H "X-Country: FR" -H "Sec-GPC: 1" \
        "http://127.0.0.1:$1/" 2>&1
}

# sanity: the module really strips on this request
out=$(curl -s -H "Cookie: $cookies" -H "X-Country: FR" \
      "http://127.0.0.1:$p_mod/" -o /dev/null -w '%{http_code}')
[ "$out" = 200 ] || { echo "module server answered $out" >&2; exit 1; }

printf 'machine: %s, %s cores; nginx %s; scenario: %s; rules: %s; ' \
    "$(uname -m)" "$(nproc)" "$(/usr/sbin/nginx -v 2>&1 | sed 's|.*/||')" \
    "$scenario" "$nrules"
printf 'wrk -t1 -c%s -d%ss\n' "$conns" "$duration"
printf '%-6s %12s %10s %12s %10s %8s\n' round plain_rps plain_p99 \
    module_rps module_p99 ratio

redis_commands() {
    redis-cli -p "$p_redis" info stats 2>/dev/null \
        | awk -F: '/^total_commands_processed/ {print $2 + 0}'
}

ratios=()
mod_requests=0
cmds_before=$(redis_commands || true)
for r in $(seq "$rounds"); do
    plain=$(run_wrk "$p_plain")
    mod=$(run_wrk "$p_mod")
    prps=$(awk '/Requests\/sec/ {print $2}' <<<"$plain")
    mrps=$(awk '/Requests\/sec/ {print $2}' <<<"$mod")
    pp99=$(awk '$1 == "99%" {print $2}' <<<"$plain")
    mp99=$(awk '$1 == "99%" {print $2}' <<<"$mod")
    n=$(awk '/requests in/ {print $1}' <<<"$mod")
    mod_requests=$((mod_requests + n))
    ratio=$(awk -v m="$mrps" -v p="$prps" 'BEGIN {printf "%.3f", m / p}')
    ratios+=("$ratio")
    printf '%-6s %12s %10s %12s %10s %8s\n' "$r" "$prps" "$pp99" "$mrps" \
        "$mp99" "$ratio"
done
cmds_after=$(redis_commands || true)

# proof of what the scenario measured: how often Redis was really asked
if [ -n "$cmds_before" ] && [ -n "$cmds_after" ]; then
    echo "redis: $((cmds_after - cmds_before)) commands for" \
         "$mod_requests module requests"
fi

median=$(printf '%s\n' "${ratios[@]}" | sort -n \
         | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "median ratio module/plain: $median"

if grep -E '\[(alert|crit|emerg)\]' "$dir/logs/error.log"; then
    echo "error.log has alerts" >&2
    exit 1
fi
