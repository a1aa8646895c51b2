#!/usr/bin/env bash
# Installs chronos-python 1.2.1 from PyPI, unmodified, into a virtualenv for the chronos
# end-to-end tests (default: target/chronos-python-venv; prints the venv's python on stdout).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${CHRONOS_PYTHON_VENV:-$PWD/target/chronos-python-venv}"
PY="$VENV/bin/python"
if [ -x "$PY" ] && "$PY" -c 'import chronos, httplib2' 2>/dev/null \
    && [ "$("$PY" -m pip show chronos-python 2>/dev/null | sed -n 's/^Version: //p')" = "1.2.1" ]; then
    echo "$PY"
    exit 0
fi
python3 -m venv "$VENV" >&2
"$PY" -m pip install -q chronos-python==1.2.1 >&2
"$PY" -c 'import chronos, httplib2' >&2
echo "$PY"
