#!/usr/bin/env bash
# Score one checkpoint of a train-attngan run, the way the shipped model is scored.
#
#   bash scripts/score_attngan_checkpoint.sh RUN_DIR CHECKPOINT.npz OUT_DIR [evaluate-attngan options]
#   e.g. bash scripts/score_attngan_checkpoint.sh runs/attngan_shapes_proj \
#            /work/keep/ckpt-0000014000.npz /tmp/scored --data data/shapes -n 1000
#
# The trainer keeps only the newest two checkpoints, so to judge a run over several, hard-link
# them aside while it trains, e.g.
#   while sleep 30; do ln -f runs/NAME/checkpoints/*.npz /work/keep/ 2>/dev/null; done
# This script exports that checkpoint (`export-attngan --checkpoint`) to OUT_DIR/models/<checkpoint
# name> and evaluates the export; the metrics land in its card.json.  Paths are taken from the
# current directory (run it from the repository root for the data paths of the examples).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 RUN_DIR CHECKPOINT.npz OUT_DIR [evaluate-attngan options, e.g. --data data/shapes -n 1000]" >&2
    exit 2
fi
run_dir=$1 checkpoint=$2 out=$3
shift 3
for need in "$run_dir/config.json" "$run_dir/vocabulary.json" "$checkpoint"; do
    [ -f "$need" ] || { echo "$need: not found (RUN_DIR must be a train-attngan run folder)" >&2; exit 2; }
done
name=$(basename "$checkpoint" .npz)
python -m condgan export-attngan "$run_dir" --checkpoint "$checkpoint" --name "$name" --models-dir "$out/models"
python -m condgan evaluate-attngan "$out/models/$name" "$@"
