#!/usr/bin/env bash
# make test-image: the images make image built, run as docker/compose.yaml
# runs them (podman-compose, a project of its own, a free loopback port),
# checked through the stack from outside:
#
#   a  a tracking cookie without consent (an opt-in region) does not
#      reach the origin; a notice region's does
#   b  POST /consent writes the record to the stack's Redis
#   c  the signed cookie it returns lets the cookie through
#   d  consentctl in the nginx container shows the record
#   e  Redis stopped and started again under traffic: every request
#      still answered 200 (consent_redis_fail: traffic always flows), the
#      consent still applied (from the cache, or the signed cookie for a
#      visitor not cached); the API answers 503 while Redis is away
#      (README, consent API), writes work again after, and the record
#      written before is still there (AOF on the volume)
#   f  nginx runs as www-data, access log on stdout, errors on stderr,
#      the health check answers
#   g  the entrypoint: keys from a secret, refused when unreadable or
#      missing (unless CONSENT_DEMO_KEYS=1), bad values refused; Redis
#      Sentinel, a read replica and WAIT from the environment
#
# Everything it creates (containers, network, volume, secret, temp dir)
# is removed at exit, failed or not.  IMAGE_PREFIX: localhost/consent.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
prefix=${IMAGE_PREFIX:-localhost/consent}
image=$prefix-nginx:latest
project=consent-test-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/consent-test-image.XXXXXX")
passed=0
loop_pid=''
t0=$SECONDS

for cmd in podman podman-compose curl; do
    command -v "$cmd" >/dev/null \
        || { echo "test-image: $cmd not found (make image installs it)" >&2
             exit 1; }
done
for t in nginx redis origin; do
    podman image exists "$prefix-$t:latest" \
        || { echo "test-image: no image $prefix-$t:latest (make image)" >&2
             exit 1; }
done

cleanup() {
    local rc=$? c
    set +e
    [ -z "$loop_pid" ] || kill "$loop_pid" 2>/dev/null
    if [ "$rc" != 0 ]; then
        for c in $(podman ps -aq \
                   --filter "label=io.podman.compose.project=$project"); do
            echo "=== logs of $(podman inspect -f '{{.Name}}' "$c")" >&2
            podman logs --tail 25 "$c" >&2 2>&1
        done
    fi
    podman-compose -p "$project" -f "$here/compose.yaml" down -v -t 2 \
        >"$work/down.log" 2>&1
    # podman-compose 1.0 leaves the network, and anything it did not
    # start stays too when "up" failed half-way
    podman ps -aq --filter "label=io.podman.compose.project=$project" \
        | xargs -r podman rm -f -t 0 >/dev/null 2>&1
    podman volume ls -q --filter "label=io.podman.compose.project=$project" \
        | xargs -r podman volume rm -f >/dev/null 2>&1
    podman network rm -f "${project}_default" >/dev/null 2>&1
    podman secret rm "$project-keys" >/dev/null 2>&1
    rm -rf "$work"
    echo "test-image: cleaned up ($project); $((SECONDS - t0))s in all"
}
trap cleanup EXIT

fail() {
    echo "test-image: FAILED: $*" >&2
    echo "test-image: $passed passed, 1 failed"
    exit 1
}
ok() {
    passed=$((passed + 1))
    echo "ok $passed - $*"
}

step_start=''
step() {
    [ -z "$step_start" ] || echo "--- took $((SECONDS - step_start))s"
    step_start=$SECONDS
    echo "=== $*"
}

# until DESC SECONDS CMD...: polls CMD (every 0.2 s) until it succeeds
until_ok() {
    local desc=$1 limit=$2 end=$((SECONDS + $2))
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || fail "$desc: not within ${limit}s"
        sleep 0.2
    done
}

# a free port on 127.0.0.1 for the stack's nginx
port=''
for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        port=$p
        break
    fi
done
[ -n "$port" ] || fail "no free port"
base=http://127.0.0.1:$port

# cnt SERVICE: the container id of the service in this project
cnt() {
    podman ps -q --filter "label=io.podman.compose.project=$project" \
        --filter "label=com.docker.compose.service=$1"
}
origin_got() { # CURL ARGS...: what the origin received as Cookie
    curl -sS --max-time 5 "$@" "$base/" \
        | sed -n 's/^origin received Cookie: //p'
}
consent_post() { # JSON [CURL ARGS...]: POST /consent, headers in $work/h
    local body=$1
    shift
    curl -sS --max-time 5 -D "$work/h" -o "$work/body" -w '%{http_code}' \
        -H "Origin: $base" -H 'Content-Type: application/json' \
        -d "$body" "$@" "$base/consent"
}
redis_cli() {
    podman exec "$(cnt redis)" redis-cli "$@" | tr -d '\r'
}
front_ready() { origin_got -H 'X-Country: FR' | grep -q '^\[' ; }
redis_ready() { [ "$(redis_cli PING)" = PONG ]; }

step "compose up ($project, port $port)"
CONSENT_PORT=$port IMAGE_PREFIX=$prefix \
    podman-compose -p "$project" -f "$here/compose.yaml" up -d --no-build \
    >"$work/up.log" 2>&1 \
    || { cat "$work/up.log" >&2; fail "podman-compose up"; }
nginx=$(cnt nginx) redis=$(cnt redis)
[ -n "$nginx" ] && [ -n "$redis" ] || fail "containers not running"
until_ok "redis answers PING" 60 redis_ready
until_ok "nginx answers through to the origin" 60 front_ready
until_ok "the nginx container's health check" 30 podman healthcheck run "$nginx"
ok "stack up: redis, origin, nginx (healthy) on $base"

step "a: stripping"
jar='_ga=GA1.2.3.4; _fbp=fb.1.2.3; session=abc'
got=$(origin_got -H 'X-Country: FR' -H "Cookie: $jar")
[ "$got" = "[session=abc]" ] \
    || fail "FR (opt-in), no consent: origin got $got"
ok "FR, no consent: _ga and _fbp stripped, origin got $got"
got=$(origin_got -H 'X-Country: JP' -H "Cookie: $jar")
[ "$got" = "[_ga=GA1.2.3.4; session=abc]" ] \
    || fail "JP (notice): origin got $got"
ok "JP (notice, from CONSENT_REGION_HEADER): _ga kept, _fbp stripped"

step "b: consent API writes to the stack's Redis"
code=$(consent_post '{"purposes":["analytics"],"policy_version":1}')
[ "$code" = 200 ] || fail "POST /consent: $code $(cat "$work/body")"
subject=$(sed -n 's/.*"subject":"\([^"]*\)".*/\1/p' "$work/body")
cookie=$(tr -d '\r' <"$work/h" \
         | sed -n 's/^[Ss]et-[Cc]ookie: consent=\([^;]*\);.*/\1/p')
[ -n "$subject" ] && [ -n "$cookie" ] \
    || fail "POST /consent: no subject or no cookie: $(cat "$work/h")"
ok "POST /consent: 200, subject $subject, signed cookie"
p=$(redis_cli HGET "consent:s:$subject" p)
[ "$p" = analytics ] || fail "redis consent:s:$subject p = '$p'"
ok "redis-cli: consent:s:$subject p=analytics"

step "c: the consent cookie lets _ga through"
got=$(origin_got -H 'X-Country: FR' -H "Cookie: consent=$cookie; $jar")
[ "$got" = "[consent=$cookie; _ga=GA1.2.3.4; session=abc]" ] \
    || fail "with consent: origin got $got"
ok "FR with the cookie: _ga kept, _fbp (advertising) stripped"

step "d: consentctl in the nginx container"
out=$(podman exec "$nginx" consentctl -H redis subject get "$subject")
[[ $out == *"\"subject\":\"$subject\""* && $out == *'"analytics"'* ]] \
    || fail "consentctl subject get: $out"
ok "consentctl -H redis subject get: $out"

step "e: Redis restarted under traffic"
# traffic: alternately with and without consent, each answer checked;
# bounded (3000 requests, 180 s), stopped by the stop file
traffic() {
    local n=0 end=$((SECONDS + 180)) with want got
    while [ ! -e "$work/stop" ] && ((n < 3000 && SECONDS < end)); do
        n=$((n + 1))
        if ((n % 2)); then
            with="consent=$cookie; "
            want="[consent=$cookie; _ga=GA1.2.3.4; session=abc]"
        else
            with='' want="[session=abc]"
        fi
        got=$(curl -s --max-time 5 -w ' %{http_code}' -H 'X-Country: FR' \
              -H "Cookie: $with$jar" "$base/" \
              | sed 's/^origin received Cookie: //' | tr -d '\n') || true
        if [ "$got" = "$want 200" ]; then
            echo ok >>"$work/traffic"
        else
            echo "request $n: got '$got', wanted '$want 200'" >>"$work/traffic"
        fi
    done
}
traffic_count() { wc -l <"$work/traffic" 2>/dev/null || echo 0; }
traffic_reached() { [ "$(traffic_count)" -ge "$1" ]; }
traffic &
loop_pid=$!
until_ok "traffic flowing" 30 traffic_reached 20
# a third visitor's consent, dropped from nginx's cache (consent_zone) at
# once: with Redis away, only the signed cookie can decide for it
code=$(consent_post '{"purposes":["analytics"],"policy_version":1}')
[ "$code" = 200 ] || fail "POST /consent: $code $(cat "$work/body")"
subject3=$(sed -n 's/.*"subject":"\([^"]*\)".*/\1/p' "$work/body")
cookie3=$(tr -d '\r' <"$work/h" \
          | sed -n 's/^[Ss]et-[Cc]ookie: consent=\([^;]*\);.*/\1/p')
n=$(redis_cli PUBLISH consent:inval "$subject3")
[ "$n" -ge 1 ] || fail "PUBLISH consent:inval: $n subscribers"
before=$(traffic_count)
rs=$SECONDS
# stopped and started rather than "podman restart": the outage is then
# long enough to check what happens during it.  SIGTERM: Redis syncs its
# AOF.  (podman without systemd says it cannot set up health check timers)
podman stop -t 10 "$redis" >"$work/restart.log" 2>&1 \
    || { cat "$work/restart.log" >&2; fail "podman stop"; }
write_refused() { [ "$(consent_post '{"purposes":["functional"]}')" = 503 ]; }
until_ok "POST /consent answering 503 with Redis stopped" 20 write_refused
! grep -qi '^set-cookie: consent=' "$work/h" \
    || fail "a 503 with a consent cookie: $(cat "$work/h")"
ok "Redis stopped: POST /consent answers 503 (README: a write Redis" \
   "could not take), nothing set"
got=$(origin_got -H 'X-Country: FR' -H "Cookie: consent=$cookie3; $jar")
[ "$got" = "[consent=$cookie3; _ga=GA1.2.3.4; session=abc]" ] \
    || fail "Redis stopped, subject not cached: origin got $got"
ok "Redis stopped, a subject not in the cache: its signed cookie decides" \
   "(_ga kept)"
during=$(($(traffic_count) + 20))
until_ok "traffic with Redis stopped" 30 traffic_reached "$during"
podman start "$redis" >>"$work/restart.log" 2>&1 \
    || { cat "$work/restart.log" >&2; fail "podman start"; }
echo "redis stopped and started again in $((SECONDS - rs))s"
until_ok "redis answers PING again" 60 redis_ready
# a write only succeeds once nginx talks to the new Redis (the circuit
# breaker's reconnect, or a reload by the entrypoint when the address
# changed): poll, 503s meanwhile are what the README says
n503=0 code=''
end=$((SECONDS + 60))
while :; do
    code=$(consent_post '{"purposes":["analytics","advertising"]}') || true
    [ "$code" != 200 ] || break
    [ "$code" = 503 ] || fail "POST /consent after the restart: $code"
    ((SECONDS < end)) || fail "POST /consent: still 503 after 60s"
    n503=$((n503 + 1))
    sleep 0.2
done
subject2=$(sed -n 's/.*"subject":"\([^"]*\)".*/\1/p' "$work/body")
ok "API writes again $((SECONDS - rs))s after the stop" \
   "($n503 more answers 503 after Redis was back)"
# some traffic after the recovery too
after=$(($(traffic_count) + 20))
until_ok "traffic after the restart" 30 traffic_reached "$after"
touch "$work/stop"
wait "$loop_pid" || true
loop_pid=''
total=$(traffic_count)
bad=$(grep -vc '^ok$' "$work/traffic" || true)
if [ "$bad" != 0 ]; then
    grep -v '^ok$' "$work/traffic" | head -5 >&2
    fail "$bad of $total requests during the restart were not answered" \
         "as expected"
fi
ok "$total requests ($((total - before)) from the stop on): all 200," \
   "_ga kept with the cookie, stripped without"
p=$(redis_cli HGET "consent:s:$subject" p)
[ "$p" = analytics ] || fail "after the restart: consent:s:$subject p = '$p'"
p=$(redis_cli HGET "consent:s:$subject2" p)
[ "$p" = analytics,advertising ] \
    || fail "the new write: consent:s:$subject2 p = '$p'"
ok "record written before the restart still there (AOF volume), the new" \
   "one too"
podman logs --since "$((SECONDS - rs + 5))s" "$nginx" >"$work/since" \
    2>/dev/null
sources=$(grep -o 'source=[a-z]*' "$work/since" | sort | uniq -c \
          | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')
echo "decision sources from the restart on: $sources"

step "f: non-root, logs, health"
# the real uid of every process (podman exec's own too)
uids=$(podman exec "$nginx" sh -c 'for s in /proc/[0-9]*/status; do
           sed -n "s/^Uid:\t\([0-9]*\).*/\1/p" $s; done' \
       | sort -u | tr '\n' ' ')
[ "$uids" = "33 " ] || fail "uids in the nginx container: $uids"
ok "every process in the nginx container runs as uid 33 (www-data)"
podman logs "$nginx" >"$work/stdout" 2>"$work/stderr"
grep -q '"GET / HTTP/1.1" 200 .*source=' "$work/stdout" \
    || fail "no access log line on stdout"
grep -q 'start worker process' "$work/stderr" \
    || fail "no error log line on stderr"
ok "access log on stdout, error log on stderr"
podman healthcheck run "$nginx" >/dev/null || fail "health check"
[ "$(podman inspect -f '{{.State.Health.Status}}' "$nginx")" = healthy ] \
    || fail "health: $(podman inspect -f '{{.State.Health.Status}}' "$nginx")"
ok "health check: healthy"
# the metrics on the health port: the traffic above counted
podman exec "$nginx" bash -c 'exec 3<>/dev/tcp/127.0.0.1/${CONSENT_HEALTH_PORT:-8081}
    printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
    cat <&3' >"$work/metrics"
grep -q '^consent_api_writes_total{code="200"} [1-9]' "$work/metrics" \
    && grep -q '^consent_cookies_stripped_total{vendor="Meta",purpose="advertising"} [1-9]' \
           "$work/metrics" \
    || fail "metrics: $(grep -c . "$work/metrics") lines, no counts of the traffic"
ok "metrics on the health port count the API writes and stripped _fbp"

step "g: entrypoint: keys, refusals"
# run_check EXPECT(0|1) PATTERN ARGS...: the image's "check" (render the
# configuration, nginx -t), its exit status and what it printed
run_check() {
    local want=$1 pattern=$2 rc=0
    shift 2
    # no health check timers (podman without systemd complains)
    podman run --rm --no-healthcheck -e CONSENT_UPSTREAM=http://origin:8080 \
        -e CONSENT_REDIS=127.0.0.1:6379 "$@" "$image" check \
        >"$work/check" 2>&1 || rc=$?
    if [ "$want" = 0 ]; then
        [ "$rc" = 0 ] || fail "check $*: exit $rc: $(cat "$work/check")"
    else
        [ "$rc" != 0 ] || fail "check $*: accepted: $(cat "$work/check")"
    fi
    grep -q -- "$pattern" "$work/check" \
        || fail "check $*: no '$pattern' in: $(cat "$work/check")"
}
podman run --rm --no-healthcheck "$image" consentctl keys generate \
    >"$work/keys"
chmod 600 "$work/keys"
run_check 1 'no keys file'
ok "no keys and no CONSENT_DEMO_KEYS: refused"
run_check 1 'not readable by uid 33' \
    -v "$work/keys:/run/secrets/consent_keys:ro"
ok "a keys file www-data cannot read: refused, and said why"
podman secret create "$project-keys" "$work/keys" >/dev/null
run_check 0 'test is successful' \
    --secret "$project-keys,target=consent_keys,uid=33,mode=0400"
ok "keys as a podman secret (uid 33, mode 0400) at /run/secrets/consent_keys"
run_check 1 'no spaces, newlines' -e 'CONSENT_REGION_HEADER=X-Country;' \
    -e CONSENT_DEMO_KEYS=1
run_check 1 'no spaces, newlines' -e "CONSENT_REDIS=redis:6379
include /etc/passwd" -e CONSENT_DEMO_KEYS=1
run_check 1 'expected closed or open' -e CONSENT_REDIS_FAIL=maybe \
    -e CONSENT_DEMO_KEYS=1
ok "values with ; or a newline, or out of form: refused"
many=(-e CONSENT_REDIS= -e CONSENT_REDIS_SENTINELS=127.0.0.1,127.0.0.2:26380
      -e CONSENT_REDIS_MASTER=consent -e CONSENT_REDIS_READ=127.0.0.1:6380
      -e CONSENT_WRITE_REPLICAS=1 -e CONSENT_WRITE_WAIT=300ms
      -e CONSENT_DEMO_KEYS=1)
run_check 0 'test is successful' "${many[@]}"
podman run --rm --no-healthcheck -e CONSENT_UPSTREAM=http://origin:8080 \
    "${many[@]}" --entrypoint sh "$image" -c \
    'consent-entrypoint check >/dev/null 2>&1; cat /tmp/consent/nginx.conf' \
    >"$work/many.conf" 2>&1 || true
grep -q 'consent_redis sentinel=127.0.0.1:26379,127.0.0.2:26380 master=consent;' \
    "$work/many.conf" \
    && grep -q 'consent_redis_read 127.0.0.1:6380; consent_write_replicas 1 300ms;' \
    "$work/many.conf" \
    || fail "many nodes: $(grep -n consent_ "$work/many.conf")"
run_check 1 'needs CONSENT_REDIS_MASTER' -e CONSENT_REDIS= \
    -e CONSENT_REDIS_SENTINELS=127.0.0.1 -e CONSENT_DEMO_KEYS=1
run_check 1 'not both' -e CONSENT_REDIS_SENTINELS=127.0.0.1 \
    -e CONSENT_REDIS_MASTER=consent -e CONSENT_DEMO_KEYS=1
ok "many nodes: Sentinels, master, read replica and WAIT from the environment, rendered and nginx -t; refusals"
echo "--- took $((SECONDS - step_start))s"

echo "test-image: $passed passed, 0 failed"
