#!/usr/bin/env bash
# Builds the local base image that docker/Dockerfile starts from when no
# registry is reachable: Debian 12 (bookworm), minbase, straight from
# Debian's package repository with mmdebstrap, imported into podman.
#
#   docker/base.sh [IMAGE]      default localhost/debian:bookworm-slim
#
# Does nothing when IMAGE exists already (FORCE=1 builds it again).
# MIRROR and SECURITY_MIRROR: the Debian repositories (deb.debian.org).
# podman reads docker/containers.conf unless CONTAINERS_CONF says
# otherwise (see that file for why).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
image=${1:-localhost/debian:bookworm-slim}
mirror=${MIRROR:-http://deb.debian.org/debian}
security=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}

for cmd in mmdebstrap podman; do
    command -v "$cmd" >/dev/null || {
        echo "base.sh: $cmd not found (apt-get install mmdebstrap podman," \
             "or make image)" >&2
        exit 1
    }
done

if [ -z "${FORCE:-}" ] && podman image exists "$image"; then
    echo "base.sh: $image exists (FORCE=1 to build it again)"
    exit 0
fi

start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/consent-base.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Like Docker's debian:bookworm-slim: no manuals, docs (but copyrights) or
# translations, in this image and in what later apt-get installs into it
# (mmdebstrap keeps --dpkgopt/--aptopt in the image's dpkg and apt
# configuration).  force-unsafe-io: dpkg without an fsync per file, which
# made this and each image build minutes slower on a busy disk; an
# interrupted image build is thrown away anyway.  A complete tarball
# first: a failed run must not leave a half image under the final name.
mmdebstrap --variant=minbase \
    --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --aptopt='Acquire::Languages "none"' \
    bookworm "$tmp/rootfs.tar" \
    "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main"

podman import --change 'CMD ["/bin/bash"]' "$tmp/rootfs.tar" "$image" \
    >/dev/null
echo "base.sh: $image built in $((SECONDS - start))s" \
     "($(du -m "$tmp/rootfs.tar" | cut -f1) MB)"
