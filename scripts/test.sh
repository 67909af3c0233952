#!/usr/bin/env bash
# The test command from the README: install the pinned dependencies, run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements-dev.txt     # includes condgan itself (-e .)
python -m pytest -q -p no:cacheprovider --durations=40 "$@"
