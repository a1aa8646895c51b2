#!/usr/bin/env bash
# Runs every Meseta test. As root (as in CI) the kernel tests run for real: cgroups,
# namespaces, mounts, OOM kills; without root they print SKIPPED and pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# pymesos 0.3.15 from PyPI, unmodified, for the end-to-end tests (also used by master-lite's).
PY="$(tests/python/setup-pymesos.sh)"
PYMESOS_PYTHONPATH="$("$PY" -c 'import site; print(site.getsitepackages()[0])')"
export PYMESOS_PYTHONPATH
# No incremental caches: they add ~1.6 GB to a from-scratch build and a full run rebuilds anyway.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "disk free for the build: $(df -h --output=avail . | tail -1 | tr -d ' ') (a from-scratch build needs ~3 GB)"
cargo build --workspace --bins
cargo test --workspace --no-fail-fast
# The launch benchmark must keep working: a short smoke run (figures are not recorded).
if [ "$(id -u)" = 0 ]; then
    echo "launch benchmark smoke run (debug build, 3 runs: a check that it works, not a measurement):"
    target/debug/meseta-bench launch --iterations 3 --warmup 1 | tail -1
fi
