#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, or fail with a clear message.
# TFX 1.16 supports Python <= 3.10, while this machine's default python3 may be newer; pyenv
# keeps other versions in its versions folder even when no shim is active.
set -euo pipefail

is_py310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }

candidates=()
[[ -n "${PYTHON:-}" ]] && candidates+=("$PYTHON")
candidates+=(python3.10)
if command -v pyenv >/dev/null 2>&1; then
  root="$(pyenv root)"
  for p in "$root"/versions/3.10*/bin/python3; do candidates+=("$p"); done
fi
for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3 /usr/bin/python3.10 /usr/local/bin/python3.10 python3; do
  candidates+=("$p")
done

for candidate in "${candidates[@]}"; do
  if path="$(command -v "$candidate" 2>/dev/null)" && is_py310 "$path"; then
    echo "$path"
    exit 0
  fi
done
echo "error: no Python 3.10 found (TFX 1.16 needs Python 3.10). Tried: \$PYTHON, python3.10 on PATH," \
     "pyenv's versions/3.10.*, /usr/bin/python3.10. Install one (e.g. 'pyenv install 3.10') or set PYTHON=/path/to/python3.10." >&2
exit 1
