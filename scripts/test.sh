#!/usr/bin/env bash
# Set up (as scripts/setup.sh), check the code with ruff (lint and format), and run the whole test
# suite. pytest's "no tests ran" (exit 5) is a failure here like any other non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
