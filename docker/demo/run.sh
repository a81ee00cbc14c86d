#!/usr/bin/env bash
# The local demo (README's first command, via "make run"): a redis-server,
# a demo origin that echoes the cookies it receives, and nginx with the
# module in front of it, all on loopback.  The front nginx also serves the
# consent API (/consent) and an example consent banner (/banner/, the
# static files in docker/demo/banner/).  Ctrl-C stops everything.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
module="$top/build/ngx_http_consent_module.so"
banner="$top/docker/demo/banner"
consentctl="$top/build/consentctl"
port=${DEMO_PORT:-8080}
origin_port=$((port + 1))
redis_port=${DEMO_REDIS_PORT:-6390}
dir=$(mktemp -d /tmp/consent-demo.XXXXXX)

[ -f "$module" ] || { echo "build the module first: make" >&2; exit 1; }

mkdir -p "$dir/logs" "$dir/tmp"

# a fresh signing key for this demo run
key=$(head -c 32 /dev/urandom | base64 -w0)
printf '# kid base64key: the first line signs, all lines verify\nk1 %s\n' \
    "$key" > "$dir/keys"
chmod 600 "$dir/keys"

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

    consent_rules $top/ngx_consent_module/rules/default.rules;
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
        location / {
            default_type text/plain;
            return 200 "origin received Cookie: [\$http_cookie]\n";
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

        # the example banner, static files (consent applies here too)
        location = /banner {
            return 301 /banner/;
        }
        location /banner/ {
            alias $banner/;
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

        # everything else goes to the origin, which shows what reached it
        location / {
            proxy_pass http://127.0.0.1:$origin_port;
        }
    }
}
CONF

cleanup() {
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null
    [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null
    wait 2>/dev/null || true
    echo "stopped; logs kept in $dir/logs"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# wait for a socket to accept connections, not for a fixed time
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$2 did not come up on 127.0.0.1:$1; see $3" >&2
    return 1
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$dir" >"$dir/logs/redis.log" 2>&1 &
redis_pid=$!

# nginx only once redis takes connections: the API's first write succeeds
wait_port "$redis_port" redis-server "$dir/logs/redis.log" || exit 1

/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" &

wait_port "$port" nginx "$dir/logs/error.log" || exit 1

jar='_ga=GA1.2.1.1; _gid=GA1.2.3.4; _fbp=fb.1.2.3; _gcl_au=1.1.1; session=abc'
cat <<TXT

ngx_consent_module demo on http://127.0.0.1:$port  (work dir: $dir)
redis-server on 127.0.0.1:$redis_port, origin on 127.0.0.1:$origin_port

Try (tracking cookies + a first-party session cookie):

  # EU visitor (opt-in): analytics and advertising cookies stripped
  curl -H 'X-Country: FR' -H 'Cookie: $jar' http://127.0.0.1:$port/

  # Japan (notice): analytics kept, advertising stripped
  curl -H 'X-Country: JP' -H 'Cookie: $jar' http://127.0.0.1:$port/

  # California (opt-out): all kept ... until Global Privacy Control
  curl -H 'X-Country: US-CA' -H 'Cookie: $jar' http://127.0.0.1:$port/
  curl -H 'X-Country: US-CA' -H 'Sec-GPC: 1' -H 'Cookie: $jar' \\
       http://127.0.0.1:$port/

  # the example consent banner: open in a browser
  http://127.0.0.1:$port/banner/

  # the consent API: record a choice (writes from other sites are refused)
  curl -i -H 'Origin: http://127.0.0.1:$port' \\
       -H 'Content-Type: application/json' \\
       -d '{"purposes":["analytics"],"policy_version":1}' \\
       http://127.0.0.1:$port/consent
  # then send the returned consent cookie back: analytics kept, ads stripped
  curl -H 'Cookie: consent=<value from Set-Cookie>; $jar' \\
       http://127.0.0.1:$port/
  # withdraw everything optional (and expire the tracking cookies)
  curl -i -X DELETE -H 'Origin: http://127.0.0.1:$port' \\
       -H 'Cookie: consent=<value>' http://127.0.0.1:$port/consent
TXT

if [ -x "$consentctl" ]; then
    cat <<TXT

  # the record and its receipts in redis (subject: "subject" in the JSON)
  $consentctl -p $redis_port subject get <subject>
  $consentctl -p $redis_port receipts <subject>
TXT
fi

cat <<TXT

  # what was decided and stripped, per request
  tail -f $dir/logs/access.log

Ctrl-C stops nginx and redis.
TXT

wait
