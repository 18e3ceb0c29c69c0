#!/usr/bin/env bash
# Set up (as scripts/setup.sh), check the code with ruff (lint and format), and run the whole test
# suite in two worker processes. pytest's "no tests ran" (exit 5) is a failure here like any
# other non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# two pytest workers (pytest-xdist), each taking whole test files, so one file's tests never
# run beside each other: the suite took 28 min in one process on a slow day of this two-core
# machine, 21 min in two while other work ran
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile "$@"
