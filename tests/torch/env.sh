# tests/torch/env.sh: sourced by the command-line tests that use the PyTorch reference.
# Sets PY (Debian's interpreter, which has python3-torch) and a scratch directory T that
# is removed on exit; skips the test (exit 77, reason printed) when torch is missing.
PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "skip: $PY cannot import torch and numpy (apt-get install python3-torch python3-numpy)"
    exit 77
fi
export PYTHONDONTWRITEBYTECODE=1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
