#!/bin/bash
# consent-healthcheck, the image's HEALTHCHECK: nginx answers /healthz on
# CONSENT_HEALTH_PORT.  Redis is not asked: without it nginx still serves
# (consent_redis_fail), and a restart of nginx would not bring it back.
# bash's /dev/tcp, no HTTP client in the image.
set -euo pipefail
port=${CONSENT_HEALTH_PORT:-8081}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
[[ $status == "HTTP/1.1 200 "* ]]
