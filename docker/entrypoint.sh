#!/bin/bash
# consent-entrypoint: the consent container's entry point.
#
#   (no argument) or nginx   write nginx.conf from the CONSENT_* environment
#                            and the template, then run nginx (PID 1)
#   check                    write it and run nginx -t
#   anything else            run it as given (consentctl -H redis stats)
#
# nginx resolves the Redis and origin host names once, when it reads its
# configuration, and containers get new addresses when they restart: a
# background loop resolves them (Redis or its Sentinels, the read
# replica, the origin) again every CONSENT_RESOLVE_INTERVAL seconds and
# reloads nginx (gracefully, the consent_zone cache kept) when an address
# changed.  A name that does not resolve (yet) leaves the
# previous address, or at start an unreachable one: nginx serves anyway,
# under consent_redis_fail, or answers 502 for the origin.
set -euo pipefail

run=/tmp/consent
conf=$run/nginx.conf
template=/etc/nginx/consent/nginx.conf.template
# nothing is listening there: an address for a name not resolved yet
unreachable=127.0.0.1:1

log() { echo "consent-entrypoint: $*" >&2; }
die() { log "$*"; exit 1; }

case ${1:-nginx} in
    nginx|check) ;;
    *) exec "$@" ;;
esac

# Every value lands in nginx.conf: none may end a directive, open a block,
# quote, escape or bring a variable in, whatever its own pattern says.
# want NAME DEFAULT REGEX WHAT: the value of NAME (or DEFAULT), checked
want() {
    local name=$1 value=${!1:-$2}
    case $value in
        *[\;\'\"\{\}\$\\\`#]* | *[[:space:]]* | *[[:cntrl:]]*)
            die "$name: no spaces, newlines, quotes or any of" \
                "; { } \$ \\ \` #" ;;
    esac
    [[ $value =~ $3 ]] || die "$name=$value: expected $4"
    printf '%s' "$value"
}

host_re='([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])'
port_re='([1-9][0-9]{0,4})'
path_re='^/[A-Za-z0-9._/-]+$'

redis=$(want CONSENT_REDIS redis:6379 \
    "^(unix:/[A-Za-z0-9._/-]+|$host_re:$port_re)$" \
    "host:port or unix:/path")
redis_password=$(want CONSENT_REDIS_PASSWORD_FILE '' "^(|${path_re:1:-1})$" \
    "an absolute path")
# Sentinel instead of CONSENT_REDIS (see README: Running on many nodes)
sentinels=$(want CONSENT_REDIS_SENTINELS '' \
    "^(|$host_re(:$port_re)?(,$host_re(:$port_re)?)*)$" \
    "host[:port],host[:port]...")
master=$(want CONSENT_REDIS_MASTER '' '^(|[A-Za-z0-9._-]{1,64})$' \
    "the master name the Sentinels monitor")
sentinel_password=$(want CONSENT_REDIS_SENTINEL_PASSWORD_FILE '' \
    "^(|${path_re:1:-1})$" "an absolute path")
redis_read=$(want CONSENT_REDIS_READ '' "^(|$host_re:$port_re)$" \
    "host:port of this node's replica")
write_replicas=$(want CONSENT_WRITE_REPLICAS 0 '^[0-9]{1,3}$' "a number")
write_wait=$(want CONSENT_WRITE_WAIT 500ms '^[1-9][0-9]{0,5}(ms|s)?$' \
    "a time such as 500ms")
redis_fail=$(want CONSENT_REDIS_FAIL closed '^(closed|open)$' "closed or open")
upstream=$(want CONSENT_UPSTREAM '' "^(http|https)://$host_re(:$port_re)?/?$" \
    "the origin as http[s]://host[:port], no path (required)")
region_header=$(want CONSENT_REGION_HEADER X-Country '^[A-Za-z0-9-]+$' \
    "a header name such as X-Country or CF-IPCountry")
keys=$(want CONSENT_KEYS_FILE /run/secrets/consent_keys "$path_re" \
    "an absolute path")
demo_keys=$(want CONSENT_DEMO_KEYS 0 '^[01]$' "0 or 1")
policy_version=$(want CONSENT_POLICY_VERSION 1 '^[0-9]{1,9}$' "a number")
cookie_secure=$(want CONSENT_COOKIE_SECURE auto '^(auto|on|off)$' \
    "auto, on or off")
zone_size=$(want CONSENT_ZONE_SIZE 10m '^[1-9][0-9]{0,6}[kKmM]$' \
    "a size such as 10m")
port=$(want CONSENT_PORT 8080 "^$port_re$" "a port")
health_port=$(want CONSENT_HEALTH_PORT 8081 "^$port_re$" "a port")
workers=$(want CONSENT_WORKERS auto '^(auto|[1-9][0-9]{0,2})$' \
    "auto or a number")
log_level=$(want CONSENT_LOG_LEVEL notice \
    '^(debug|info|notice|warn|error|crit|alert|emerg)$' "an error_log level")
interval=$(want CONSENT_RESOLVE_INTERVAL 5 '^[0-9]{1,4}$' \
    "seconds (0: never)")

((port <= 65535 && health_port <= 65535 && port != health_port)) \
    || die "CONSENT_PORT and CONSENT_HEALTH_PORT: two ports up to 65535"
if [ -n "$sentinels" ]; then
    [ -z "${CONSENT_REDIS:-}" ] \
        || die "CONSENT_REDIS or CONSENT_REDIS_SENTINELS, not both"
    [ -n "$master" ] || die "CONSENT_REDIS_SENTINELS needs CONSENT_REDIS_MASTER"
elif [ -n "$master$sentinel_password" ]; then
    die "CONSENT_REDIS_MASTER and CONSENT_REDIS_SENTINEL_PASSWORD_FILE are" \
        "for CONSENT_REDIS_SENTINELS"
fi

mkdir -p "$run"
chmod 700 "$run"
# as root (docker run --user 0) nginx's workers are www-data: their temp
# files go here too
[ "$(id -u)" != 0 ] || chown www-data: "$run"

# The signing keys: a mounted file or secret.  Only when asked for, a key
# made here (kept in the container's own file system: it survives a
# restart, not a new container, and each replica would have its own).
if [ ! -e "$keys" ]; then
    [ "$demo_keys" = 1 ] || die "no keys file $keys: mount one (one" \
        "'kid base64key' line, from: consentctl keys generate) or, for a" \
        "demo only, set CONSENT_DEMO_KEYS=1"
    keys_file=$keys keys=$run/demo-keys
    if [ ! -s "$keys" ]; then
        (umask 077 && consentctl keys generate > "$keys.tmp") \
            && mv "$keys.tmp" "$keys"
    fi
    log "DEMO KEYS: no $keys_file, signing consent cookies with" \
        "a key made in this container (CONSENT_DEMO_KEYS=1); not for" \
        "production"
fi
[ -r "$keys" ] || die "$keys is not readable by uid $(id -u): make it" \
    "readable by www-data (uid 33), e.g. chgrp 33 and mode 0440"
for secret in "$redis_password" "$sentinel_password"; do
    if [ -n "$secret" ] && [ ! -r "$secret" ]; then
        die "password file $secret is not readable by uid $(id -u)"
    fi
done

# $http_x_country for X-Country
region=\$http_$(printf '%s' "$region_header" | tr 'A-Z-' 'a-z_')

up_scheme=${upstream%%://*}
up_hostport=${upstream#*://}
up_hostport=${up_hostport%/}
if [[ $up_hostport =~ ^(.*):([0-9]+)$ ]] && [[ $up_hostport != *']' ]]; then
    up_host=${BASH_REMATCH[1]} up_port=${BASH_REMATCH[2]}
else
    up_host=$up_hostport
    up_port=$([ "$up_scheme" = https ] && echo 443 || echo 80)
fi
((up_port <= 65535)) || die "CONSENT_UPSTREAM: port $up_port"

redis_host='' redis_port=''
if [ -n "$sentinels" ]; then
    redis_host=sentinels
elif [[ $redis != unix:* ]]; then
    redis_host=${redis%:*} redis_port=${redis##*:}
    ((redis_port <= 65535)) || die "CONSENT_REDIS: port $redis_port"
fi

# resolve HOST: its IPv4 addresses, else its IPv6 ones, sorted, one a
# line; nothing when the name does not resolve.  One lookup for both
# families: two could see a container between stop and start differently.
resolve() {
    local host=$1 all v4
    if [[ $host == \[*\] || $host =~ ^[0-9]+(\.[0-9]+){3}$ ]]; then
        echo "$host"
        return
    fi
    all=$(timeout 5 getent ahosts "$host" \
          | awk '$1 !~ /^::ffff:/ { print $1 }' | sort -u) || true
    v4=$(grep -E '^[0-9.]+$' <<<"$all") || true
    if [ -n "$v4" ]; then
        printf '%s' "$v4"
    elif [ -n "$all" ]; then
        sed 's/.*/[&]/' <<<"$all"
    fi
}

# host[:port] with a default port: its addresses, host:port a line
resolve_port() {
    local host=$1 port=$2
    if [[ $host =~ ^(.*):([0-9]+)$ ]] && [[ $host != *']' ]]; then
        host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
    fi
    ((port <= 65535)) || die "port $port of $host"
    resolve "$host" | sed "s/\$/:$port/"
}

# The addresses now, each falling back to $1, $2 and $3 (the ones in use)
# when its name does not resolve: sets redis_addr (consent_redis's
# address, or sentinel=... with every Sentinel that resolves),
# upstream_addrs and read_addr
lookup() {
    local s a all=''
    if [ -n "$sentinels" ]; then
        for s in ${sentinels//,/ }; do
            a=$(resolve_port "$s" 26379 | tr '\n' ',')
            [ -z "$a" ] || all+="${a%,},"
        done
        redis_addr=${all:+sentinel=${all%,}}
        redis_addr=${redis_addr:-sentinel=${1#sentinel=}}
    elif [ -z "$redis_host" ]; then
        redis_addr=$redis
    else
        redis_addr=$(resolve "$redis_host" | head -n 1)
        redis_addr=${redis_addr:+$redis_addr:$redis_port}
        redis_addr=${redis_addr:-$1}
    fi
    read_addr=''
    if [ -n "$redis_read" ]; then
        read_addr=$(resolve_port "$redis_read" 6379 | head -n 1)
        read_addr=${read_addr:-$3}
    fi
    upstream_addrs=$(resolve "$up_host" | sed "s/\$/:$up_port/" \
                     | tr '\n' ' ')
    upstream_addrs=${upstream_addrs:-$2}
}

# what follows consent_redis's address: the Sentinels' master, passwords
redis_params() {
    local p=''
    [ -z "$sentinels" ] || p+=" master=$master"
    [ -z "$sentinel_password" ] || p+=" sentinel_password_file=$sentinel_password"
    [ -z "$redis_password" ] || p+=" password_file=$redis_password"
    printf '%s' "$p"
}

# consent_redis_read and consent_write_replicas, when asked for
redis_more() {
    local more=''
    [ -z "$read_addr" ] || more+="consent_redis_read $read_addr; "
    ((write_replicas == 0)) \
        || more+="consent_write_replicas $write_replicas $write_wait;"
    printf '%s' "$more"
}

# render FILE: the template with redis_addr and upstream_addrs
render() {
    local text name value a servers='' user_line=''
    text=$(<"$template")
    for a in $upstream_addrs; do
        servers+="        server $a;"$'\n'
    done
    # as root (docker run --user 0), workers run as www-data
    [ "$(id -u)" != 0 ] || user_line='user www-data;'
    local -A values=(
        [RUN]=$run [WORKERS]=$workers [LOG_LEVEL]=$log_level
        [USER_LINE]=$user_line [KEYS]=$keys [COOKIE_SECURE]=$cookie_secure
        [REDIS]="$redis_addr$(redis_params)" [REDIS_MORE]=$(redis_more)
        [REDIS_FAIL]=$redis_fail [ZONE_SIZE]=$zone_size
        [POLICY_VERSION]=$policy_version [UPSTREAM_SERVERS]=${servers%$'\n'}
        [PORT]=$port [REGION]=$region [UPSTREAM_SCHEME]=$up_scheme
        [UPSTREAM_HOST]=$up_host [HEALTH_PORT]=$health_port
    )
    for name in "${!values[@]}"; do
        value=${values[$name]}
        text=${text//"\${$name}"/"$value"}
    done
    printf '%s\n' "$text" > "$1"
}

lookup "$unreachable" "$unreachable" "$unreachable"
[ "${redis_addr#sentinel=}" != "$unreachable" ] \
    || log "CONSENT_REDIS${sentinels:+_SENTINELS}:" \
    "${sentinels:-$redis_host} does not resolve (yet): serving under" \
    "consent_redis_fail $redis_fail"
[ "$read_addr" != "$unreachable" ] || log "CONSENT_REDIS_READ: $redis_read" \
    "does not resolve (yet)"
[ "$upstream_addrs" != "$unreachable" ] || log "CONSENT_UPSTREAM: $up_host" \
    "does not resolve (yet): answering 502"
render "$conf"

if [ "${1:-nginx}" = check ]; then
    exec nginx -t -e stderr -c "$conf"
fi

# the re-resolving loop; $$ is this process, nginx once exec'd
watch() {
    local redis_now=$redis_addr upstream_now=$upstream_addrs
    local read_now=$read_addr
    # a failed lookup or reload is logged, never the end of the loop
    set +e
    while sleep "$interval" && kill -0 $$ 2>/dev/null; do
        lookup "$redis_now" "$upstream_now" "$read_now"
        [ "$redis_addr" != "$redis_now" ] \
            || [ "$upstream_addrs" != "$upstream_now" ] \
            || [ "$read_addr" != "$read_now" ] || continue
        log "reloading: redis $redis_now -> $redis_addr," \
            "read ${read_now:-none} -> ${read_addr:-none}," \
            "origin ${upstream_now% } -> ${upstream_addrs% }"
        render "$conf.new"
        if nginx -t -q -e stderr -c "$conf.new"; then
            mv "$conf.new" "$conf"
            kill -HUP "$(cat "$run/nginx.pid")" || log "reload failed"
            redis_now=$redis_addr upstream_now=$upstream_addrs
            read_now=$read_addr
        else
            log "the new configuration fails nginx -t: keeping the old one"
        fi
    done
}

if ((interval > 0)) && [ -n "$redis_host$up_host$redis_read" ]; then
    watch &
fi
exec nginx -e stderr -c "$conf"
