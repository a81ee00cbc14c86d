#!/usr/bin/env bash
# The local demo (README's first command, via "make run"): a redis-server,
# a demo origin that echoes the cookies it receives, and nginx with the
# module in front of it, all on loopback.  The front nginx also serves the
# consent API (/consent), the rules' vendor list (/consent/vendors) and an
# example consent banner (/banner/, a copy of docker/demo/banner/).
# Ctrl-C stops everything.
#
# Ports: DEMO_PORT (default 8080), DEMO_ORIGIN_PORT (default DEMO_PORT+1),
# DEMO_REDIS_PORT (default 6390).  A port another process holds is refused
# before anything starts, and the demo is only announced once the redis
# and the nginx this script started are running and answering on them
# (a redis-server or an nginx that died, or someone else's server on the
# port, is an error, exit 1).  If either dies later, the demo stops with
# exit 1 too.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
module="$top/build/ngx_http_consent_module.so"
banner_src="$top/docker/demo/banner"
rules_dir="$top/ngx_consent_module/rules"
consentctl="$top/build/consentctl"
nginx=${NGINX_BIN:-/usr/sbin/nginx}
port=${DEMO_PORT:-8080}
origin_port=${DEMO_ORIGIN_PORT:-$((port + 1))}
redis_port=${DEMO_REDIS_PORT:-6390}

fail() {
    echo "make run: $*" >&2
    exit 1
}

[ -f "$module" ] || fail "build the module first: make"

for cmd in "$nginx" redis-server redis-cli curl timeout; do
    command -v "$cmd" >/dev/null || fail "$cmd not found (make deps)"
done

for p in "$port" "$origin_port" "$redis_port"; do
    [[ $p =~ ^[1-9][0-9]{0,4}$ ]] && ((p <= 65535)) \
        || fail "invalid port \"$p\" (DEMO_PORT, DEMO_ORIGIN_PORT," \
                "DEMO_REDIS_PORT: 1 to 65535)"
done

if ((port == origin_port || port == redis_port
     || origin_port == redis_port)); then
    fail "the ports must differ: front $port, origin $origin_port," \
         "redis $redis_port"
fi

# Someone already accepting connections there would answer in place of
# the demo's own servers: refuse rather than talk to them.
for what in "front:$port" "origin:$origin_port" "redis:$redis_port"; do
    p=${what#*:}
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        holder=""
        if command -v ss >/dev/null; then
            holder=$(ss -Hltnp "sport = :$p" 2>/dev/null \
                     | grep -o 'users:.*' | head -1 || true)
        fi
        fail "port $p (the ${what%%:*}) on 127.0.0.1 is already in use" \
             "by another process${holder:+ ($holder)}; stop it, or choose" \
             "free ports: DEMO_PORT=N DEMO_ORIGIN_PORT=N DEMO_REDIS_PORT=N" \
             "make run"
    fi
done

# DEMO_TMPDIR: where the run directory goes; nginx workers must be able
# to reach it (the banner check below says so if they cannot)
dir=$(mktemp -d "${DEMO_TMPDIR:-/tmp}/consent-demo.XXXXXX")

cleanup() {
    # either may be gone already: that is no reason to stop cleaning up
    set +e
    [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null
    [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null
    wait 2>/dev/null
    echo "stopped; logs kept in $dir/logs" >&2
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Workers run as nobody when this runs as root, and a checkout under
# /root (or any 0700 home) is out of their reach: they serve the banner
# and write temp files under this directory instead, readable by all
# whatever the umask (the keys file alone stays private, and only the
# master reads it).
chmod 755 "$dir"
mkdir -p "$dir/logs" "$dir/tmp" "$dir/banner"
cp -R "$banner_src/." "$dir/banner/"
chmod -R a+rX "$dir/banner"

# a fresh signing key for this demo run
key=$(head -c 32 /dev/urandom | base64 -w0)
printf '# kid base64key: the first line signs, all lines verify\nk1 %s\n' \
    "$key" > "$dir/keys"
chmod 600 "$dir/keys"

# what this run's nginx answers at /.demo-id: proof that it is the one
# listening, not another server on the same port
token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

cat > "$dir/nginx.conf" <<CONF
load_module $module;
daemon off;
worker_processes 1;
error_log $dir/logs/error.log info;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
    client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp;
    fastcgi_temp_path $dir/tmp; uwsgi_temp_path $dir/tmp;
    scgi_temp_path $dir/tmp;

    consent_rules $rules_dir/ocd.rules;
    consent_rules $rules_dir/default.rules;
    consent_rules $rules_dir/japan.rules;
    consent_rules $rules_dir/keep.rules;
    consent_keys $dir/keys;

    # decisions recorded by the API live in redis, cached in shared memory
    consent_redis 127.0.0.1:$redis_port;
    consent_zone zone=consent:1m;
    consent_policy_version 1;

    log_format consent '\$remote_addr "\$request" region=\$consent_region '
                       'regime=\$consent_regime source=\$consent_source '
                       'purposes=\$consent_purposes gpc=\$consent_gpc '
                       'stripped=\$consent_stripped';

    # the demo origin: shows what reached it
    server {
        listen 127.0.0.1:$origin_port;
        access_log off;
        default_type text/plain;
        location / {
            return 200 "origin received Cookie: [\$http_cookie]\n";
        }
        location = /.demo-id {
            return 200 "$token";
        }
    }

    server {
        listen 127.0.0.1:$port;
        access_log $dir/logs/access.log consent;

        consent on;
        # a CDN or GeoIP country header in production
        consent_region \$http_x_country;
        # tracking cookies the visitor refused are deleted in the browser
        consent_expire_rejected on;

        # the consent API the banner talks to: GET, POST, DELETE
        location = /consent {
            consent_api;
        }

        # the rules' vendors per purpose, for the banner's vendor lists
        location = /consent/vendors {
            consent_vendors;
        }

        # the example banner, static files (consent applies here too)
        location = /banner {
            return 301 /banner/;
        }
        location /banner/ {
            alias $dir/banner/;
            types {
                text/html html;
                text/css css;
                text/javascript js;
            }
            charset utf-8;
            charset_types text/css text/javascript;
            add_header X-Content-Type-Options nosniff;
            # no inline code, nothing from anywhere else
            add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'";
        }

        location = /.demo-id {
            default_type text/plain;
            return 200 "$token";
        }

        # everything else goes to the origin, which shows what reached it
        location / {
            proxy_pass http://127.0.0.1:$origin_port;
        }
    }
}
CONF

# fails unless the process this script started is still running
check_alive() {
    local name=$1 pid=$2 log=$3 status=0

    kill -0 "$pid" 2>/dev/null && return 0

    wait "$pid" || status=$?
    echo "make run: $name exited (status $status) while starting;" \
         "the end of $log:" >&2
    tail -n 5 "$log" >&2
    exit 1
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$dir" >"$dir/logs/redis.log" 2>&1 &
redis_pid=$!

# nginx only once this redis answers: the API's first write succeeds.
# INFO's process_id says it is this redis-server, not another one.
ok=""
for _ in $(seq 100); do
    check_alive redis-server "$redis_pid" "$dir/logs/redis.log"
    id=$(timeout 2 redis-cli -h 127.0.0.1 -p "$redis_port" INFO server \
         2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p' || true)
    if [ "$id" = "$redis_pid" ]; then
        pong=$(timeout 2 redis-cli -h 127.0.0.1 -p "$redis_port" PING \
               2>/dev/null || true)
        [ "$pong" = PONG ] && { ok=1; break; }
    elif [ -n "$id" ]; then
        fail "another redis-server (pid $id) answers on" \
             "127.0.0.1:$redis_port, not the one this script started"
    fi
    sleep 0.1
done
[ -n "$ok" ] || fail "redis-server (pid $redis_pid) did not answer PING on" \
                     "127.0.0.1:$redis_port within 10 s;" \
                     "see $dir/logs/redis.log"

"$nginx" -p "$dir" -c "$dir/nginx.conf" 2>"$dir/logs/nginx.stderr" &
nginx_pid=$!

ok=""
for _ in $(seq 100); do
    check_alive nginx "$nginx_pid" "$dir/logs/nginx.stderr"
    front=$(curl -s --max-time 2 "http://127.0.0.1:$port/.demo-id" || true)
    origin=$(curl -s --max-time 2 "http://127.0.0.1:$origin_port/.demo-id" \
             || true)
    [ "$front" = "$token" ] && [ "$origin" = "$token" ] && { ok=1; break; }
    sleep 0.1
done
[ -n "$ok" ] || fail "the nginx this script started (pid $nginx_pid) does" \
                     "not answer on 127.0.0.1:$port and :$origin_port" \
                     "within 10 s; see $dir/logs/error.log"

# what a browser gets first: the banner, and the origin through the module
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
         "http://127.0.0.1:$port/banner/" || true)
[ "$status" = 200 ] || fail "the banner answers $status, not 200:" \
    "$(tail -n 3 "$dir/logs/error.log")"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
         "http://127.0.0.1:$port/" || true)
[ "$status" = 200 ] || fail "the origin, through the module, answers" \
    "$status, not 200: $(tail -n 3 "$dir/logs/error.log")"

jar='_ga=GA1.2.1.1; _gid=GA1.2.3.4; _fbp=fb.1.2.3; _gcl_au=1.1.1; session=abc'
cat <<TXT

ngx_consent_module demo on http://127.0.0.1:$port  (work dir: $dir)
redis-server (pid $redis_pid) on 127.0.0.1:$redis_port, nginx (pid $nginx_pid),
origin on 127.0.0.1:$origin_port

Try (tracking cookies + a first-party session cookie):

  # EU visitor (opt-in): analytics and advertising cookies stripped
  curl -H 'X-Country: FR' -H 'Cookie: $jar' http://127.0.0.1:$port/

  # Japan (notice): analytics kept, advertising stripped
  curl -H 'X-Country: JP' -H 'Cookie: $jar' http://127.0.0.1:$port/

  # California (opt-out): all kept ... until Global Privacy Control
  curl -H 'X-Country: US-CA' -H 'Cookie: $jar' http://127.0.0.1:$port/
  curl -H 'X-Country: US-CA' -H 'Sec-GPC: 1' -H 'Cookie: $jar' \\
       http://127.0.0.1:$port/

  # the example consent banner: open in a browser (served from a copy in
  # $dir/banner: restart make run to see changes to docker/demo/banner/)
  http://127.0.0.1:$port/banner/

  # the consent API: record a choice (writes from other sites are refused)
  curl -i -H 'Origin: http://127.0.0.1:$port' \\
       -H 'Content-Type: application/json' \\
       -d '{"purposes":["analytics"],"policy_version":1}' \\
       http://127.0.0.1:$port/consent
  # then send the returned consent cookie back: analytics kept, ads stripped
  curl -H 'Cookie: consent=<value from Set-Cookie>; $jar' \\
       http://127.0.0.1:$port/
  # the vendors each purpose's cookies go to (the banner's vendor lists);
  # a choice may refuse some of them: their cookies are stripped even
  # where their purpose is granted
  curl http://127.0.0.1:$port/consent/vendors
  curl -i -H 'Origin: http://127.0.0.1:$port' \\
       -H 'Content-Type: application/json' \\
       -d '{"purposes":["analytics"],"policy_version":1,"vendors_refused":["Hotjar"]}' \\
       http://127.0.0.1:$port/consent
  # withdraw everything optional (and expire the tracking cookies)
  curl -i -X DELETE -H 'Origin: http://127.0.0.1:$port' \\
       -H 'Cookie: consent=<value>' http://127.0.0.1:$port/consent
TXT

if [ -x "$consentctl" ]; then
    cat <<TXT

  # the record and its receipts in redis (subject: "subject" in the JSON;
  # an id may start with '-')
  $consentctl -p $redis_port subject get <subject>
  $consentctl -p $redis_port receipts <subject>
TXT
fi

cat <<TXT

  # what was decided and stripped, per request
  tail -f $dir/logs/access.log

Ctrl-C stops nginx and redis.
TXT

# until Ctrl-C, or until one of the two dies: then the demo is broken,
# say which and stop the other
status=0
wait -n "$redis_pid" "$nginx_pid" || status=$?

if ! kill -0 "$redis_pid" 2>/dev/null; then
    fail "redis-server (pid $redis_pid) exited (status $status); see" \
         "$dir/logs/redis.log"
fi

fail "nginx (pid $nginx_pid) exited (status $status); see" \
     "$dir/logs/error.log"
