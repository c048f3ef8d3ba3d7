#!/usr/bin/env bash
# tests/cli/torch_reference.sh: self-checks of the PyTorch reference in tests/torch/ (the model
# the C forward/backward/AdamW is compared against). Needs Debian's python3-torch for
# /usr/bin/python3 (scripts/install-deps.sh installs it); skips (77) without it.
set -u
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "skip: $PY cannot import torch and numpy (apt-get install python3-torch python3-numpy)"
    exit 77
fi
PYTHONDONTWRITEBYTECODE=1 "$PY" tests/torch/test_reference.py
