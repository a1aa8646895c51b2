#!/usr/bin/env bash
# Installs the marathon-python client (PyPI `marathon`, latest) unmodified into a virtualenv for
# the marathon end-to-end tests (default: target/marathon-python-venv; prints the venv's python
# on stdout). Idempotent.
#
# marathon 0.13 still does `from collections import Iterable` in places, which Python >= 3.10
# removed: a sitecustomize.py in the venv puts the old aliases back before anything imports it.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${MARATHON_PYTHON_VENV:-$PWD/target/marathon-python-venv}"
PY="$VENV/bin/python"
if [ -x "$PY" ] && "$PY" -c 'import marathon' 2>/dev/null; then
    echo "$PY"
    exit 0
fi
python3 -m venv "$VENV" >&2
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cat >"$SITE/sitecustomize.py" <<'PY'
# Python >= 3.10 removed the ABC aliases from `collections`; marathon-python 0.13 imports them.
import collections
import collections.abc

for _name in ("Iterable", "Mapping", "MutableMapping", "Sequence", "Callable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))
PY
"$PY" -m pip install -q marathon >&2
"$PY" -c 'import marathon' >&2
echo "$PY"
