#!/usr/bin/env bash
# Installs what Meseta's tests, demo and benchmarks need on a Debian/Ubuntu host, idempotently:
# busybox-static (a static shell for container root filesystems), runc and crun (peers in the
# launch benchmark), iproute2, docker-registry (a real registry on loopback for pull tests).
# Needs root. Rust (cargo >= 1.85) must already be installed.
set -euo pipefail

need=()
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v crun >/dev/null 2>&1 || need+=(crun)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)

if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup: need root to install: ${need[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found: install Rust >= 1.85" >&2; exit 1; }
