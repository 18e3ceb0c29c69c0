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
# Scheduling's, Knapsack's and SubsetSum's solvers, SetCover's shaped draw, BinPacking's two-bin
# plant and the graph families' canonical form are compiled by numba on first use (~7 s, ~4 s, ~6 s,
# ~5 s, ~7 s) and cached beside their modules: compile them now, so that no test or first task waits
.venv/bin/python -c "from rlvr.generators import job_shop_solver as j, material_numbers as k, set_cover_draws as s, \
bin_packing_draws as b, graph_canonical as g; j.warm_up(); k.warm_up(); s.warm_up(); b.warm_up(); g.warm_up()"

# The docker sandbox (sandbox="docker"): Debian's engine and debootstrap, the engine started when
# none answers, and the base image (Python, pytest, Icarus) built from Debian's archive once: a tag
# from the recipe's hash, so it is rebuilt only when the recipe changes. Images are never pulled.
# Where this cannot be done, setup goes on and the docker tests say why they skip.
docker_missing=""
for package in docker.io debootstrap; do
  dpkg -s "$package" >/dev/null 2>&1 || docker_missing="$docker_missing $package"
done
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ -n "$docker_missing" ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $docker_missing \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $docker_missing; } \
    || echo "setup: could not install$docker_missing; the docker sandbox is unavailable" >&2
fi
if command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ]; then
    $SUDO systemctl start docker || true
  else
    # an engine still shutting down holds its pid file: give it time; a stale pid file is removed
    for _ in $(seq 30); do
      [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null || break
      sleep 1
    done
    $SUDO rm -f /var/run/docker.pid
    $SUDO sh -c 'nohup dockerd >/var/log/rlvr-dockerd.log 2>&1 &' || true
  fi
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
if docker info >/dev/null 2>&1; then
  .venv/bin/rlvr sandbox build-image >/dev/null || echo "setup: the docker sandbox's image was not built" >&2
else
  echo "setup: no Docker engine answers (see /var/log/rlvr-dockerd.log); the docker sandbox is unavailable" >&2
fi
