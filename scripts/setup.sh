#!/usr/bin/env bash
# One-command set-up: a Python 3.10 virtualenv in .venv with the project and pinned dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PY="$(scripts/find_python310.sh)"
echo "using $PY ($("$PY" --version 2>&1))"

# Reuse an existing venv only if it is a working Python 3.10 one.
if ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade "pip<25" "setuptools<76" wheel
# This machine's pip config lists local mirrors that lack some packages; pip warns once per
# package about each. Filter that line only: real errors still reach stderr.
"$VENV/bin/python" -m pip install --quiet -c requirements/constraints.txt -e ".[dev]" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
# Fail now, not in the first pipeline run, if the stack does not import.
TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -c \
  "import tensorflow, tensorflow_text, tfx, tensorflow_transform, tensorflow_model_analysis, apache_beam; print('lexflow environment ready:', 'tfx', tfx.__version__, 'tensorflow', tensorflow.__version__)" 2>&1 | grep -v -i warning || true
"$VENV/bin/lexflow" --help >/dev/null
echo "activate with: source $VENV/bin/activate"
