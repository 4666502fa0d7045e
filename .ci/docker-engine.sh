#!/usr/bin/env bash
# Make a Docker engine available for the docker backend's tests and build the local PostgreSQL image.
# Idempotent: installs docker.io only if dockerd is missing, starts dockerd only if `docker info` fails.
# The engine runs without a bridge or iptables (CI sandboxes allow neither); containers use host networking.
set -euo pipefail

PYTHON=${PYTHON:-python}
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
WAIT_SECONDS=${DOCKER_WAIT_SECONDS:-60}

die() {
    echo "docker-engine.sh: $*" >&2
    exit 1
}

# Root runs commands directly; anyone else needs sudo for apt-get and dockerd.
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and sudo is missing (fix: run as root, or install sudo)"
    SUDO=(sudo -n)
fi

if ! command -v dockerd >/dev/null 2>&1; then
    echo "docker-engine.sh: installing docker.io" >&2
    "${SUDO[@]}" apt-get update -qq >/dev/null || die "apt-get update failed (fix: check the apt sources and network)"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null \
        || die "apt-get install docker.io failed (fix: check the apt sources and network)"
fi
command -v docker >/dev/null 2>&1 || die "the docker CLI is missing (fix: apt-get install docker.io)"

if ! docker info >/dev/null 2>&1; then
    echo "docker-engine.sh: starting dockerd (log: $DOCKERD_LOG)" >&2
    group_args=()
    # A non-root caller must be able to use the socket without sudo.
    if [ "$(id -u)" -ne 0 ]; then
        group_args=(--group "$(id -gn)")
    fi
    nohup "${SUDO[@]}" dockerd --bridge=none --iptables=false "${group_args[@]}" >"$DOCKERD_LOG" 2>&1 &
    deadline=$((SECONDS + WAIT_SECONDS))
    until docker info >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            last=$(tail -n 1 "$DOCKERD_LOG" 2>/dev/null || true)
            die "dockerd did not answer within ${WAIT_SECONDS} s: ${last:-no log output} (fix: see $DOCKERD_LOG)"
        fi
        sleep 1
    done
fi

"$PYTHON" -m dbops.backends.dockerimage || die "building the local PostgreSQL image failed (fix: see the line above)"
