#!/usr/bin/env bash
# Set up rlvr on Debian (Python 3.11, root): system packages from Debian's archive, then a
# virtual environment in .venv with rlvr and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
SYSTEM_PACKAGES="bubblewrap iverilog procps"
if ! "$PYTHON" -c "import ensurepip, venv" 2>/dev/null; then SYSTEM_PACKAGES="$SYSTEM_PACKAGES python3-venv"; fi

missing=""
for package in $SYSTEM_PACKAGES; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned: on a machine with no torch a loose requirement pulls a multi-GB CUDA
# build; 2.13.0 is the CPU wheel on our machines. A GPU user installs their own torch first.
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[dev,docker,photos,train,hf,trl,eval,ray]"
# verl for the adapter's tests: verl pins transformers<5.11 and ray[default], so install only its
# pure-Python package and what its dataset and reward manager import (verl users have their own).
.venv/bin/python -m pip install -q --no-deps "verl==0.9.1" "tensordict==0.10.0" "pyvers<0.2" codetiming
.venv/bin/python -m pip install -q "omegaconf>=2.4" orjson cloudpickle importlib_metadata
