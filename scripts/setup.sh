#!/usr/bin/env bash
# Installs what Meseta's tests, demo and benchmarks need on a Debian/Ubuntu host, idempotently:
# zookeeper and haproxy (started privately by tests and the demo),
# busybox-static (a static shell for container root filesystems), runc and crun (peers in the
# launch benchmark), iproute2, docker-registry (a real registry on loopback for pull tests),
# docker.io (a real dockerd for the docker containerizer; started here when it is not running).
# Needs root. Rust (cargo >= 1.85) must already be installed.
set -euo pipefail

need=()
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v crun >/dev/null 2>&1 || need+=(crun)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v curl >/dev/null 2>&1 || need+=(curl)
# ZooKeeper (master election, Marathon/Chronos state) and HAProxy (marathon-lb): the tests start
# private instances by hand; the packages' own services are not used.
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
# libfaketime: the chronos daylight-saving test runs the real binary on a shifted clock.
[ -f /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || need+=(faketime)
# Packaging: lintian checks the .debs scripts/package.sh builds.
command -v lintian >/dev/null 2>&1 || need+=(lintian)
# Web UI tests: a real headless Chromium driven over WebDriver.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)

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

# The agent carries musl builds of its per-task programs (they start ~0.5 ms faster than glibc
# ones under virtualisation); without the target it builds and uses the glibc ones.
musl="$(uname -m)-unknown-linux-musl"
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    echo "setup: adding the Rust target $musl" >&2
    rustup target add "$musl" >&2 || echo "setup: cannot add $musl: the agent will start the glibc per-task programs" >&2
fi

# dockerd: machines without systemd (CI containers, this VM) have nobody to start it.
docker_up() { curl -sf --max-time 2 --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1; }
if [ "$(id -u)" = 0 ] && ! docker_up; then
    if command -v systemctl >/dev/null 2>&1 && systemctl start docker >/dev/null 2>&1; then :; else
        echo "setup: starting dockerd (log: /var/log/meseta-dockerd.log)" >&2
        nohup dockerd >>/var/log/meseta-dockerd.log 2>&1 </dev/null &
    fi
    for _ in $(seq 1 60); do docker_up && break; sleep 0.5; done
    docker_up || { echo "setup: dockerd did not come up; see /var/log/meseta-dockerd.log" >&2; exit 1; }
fi
