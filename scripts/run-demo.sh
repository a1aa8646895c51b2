#!/usr/bin/env bash
# Sets up a fresh machine and runs the demo: a task in a Meseta container with cgroup limits
# and pid/uts/ipc/mount namespaces, printing its output, termination and resource usage.
# (The vertical-slice issue turns this into a single-node master + agent launching a task.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --bins
exec target/release/meseta-run --cpus=0.5 --mem=64 --cgroups_enable_cfs --hostname=meseta-demo -- \
    sh -c 'echo "hello from $(hostname), I am pid $$"; head -c 50000000 /dev/urandom | md5sum'
