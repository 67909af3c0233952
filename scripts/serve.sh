#!/usr/bin/env bash
# The main job from the README: install the runtime and serve every model in models/.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt
exec python FlaskApp/endpoint_full.py "$@"
