#!/usr/bin/env bash
# Score one checkpoint of a train-attngan run, the way the shipped model is scored.
#
#   bash scripts/score_attngan_checkpoint.sh RUN_DIR CHECKPOINT.npz OUT_DIR [evaluate-attngan options]
#   e.g. bash scripts/score_attngan_checkpoint.sh runs/attngan_shapes_proj \
#            /work/keep/ckpt-0000014000.npz /tmp/scored --data data/shapes -n 1000
#
# export-attngan always takes a run's newest checkpoint, and the trainer keeps only the newest
# two, so to judge a run over several checkpoints, hard-link them aside while it trains, e.g.
#   while sleep 30; do ln -f runs/NAME/checkpoints/*.npz /work/keep/ 2>/dev/null; done
# This script builds OUT_DIR/run (the run's config.json and vocabulary.json plus that one
# checkpoint), exports it to OUT_DIR/models/<checkpoint name>, and evaluates that export; the
# metrics land in its card.json.  Paths are taken from the current directory (run it from the
# repository root for the data paths of the examples); `python -m condgan` must be importable.
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
mkdir -p "$out/run/checkpoints" "$out/models"
cp "$run_dir/config.json" "$run_dir/vocabulary.json" "$out/run/"
rm -f "$out/run/checkpoints/"*.npz
ln -f "$checkpoint" "$out/run/checkpoints/" 2>/dev/null || cp "$checkpoint" "$out/run/checkpoints/"
python -m condgan export-attngan "$out/run" --name "$name" --models-dir "$out/models"
python -m condgan evaluate-attngan "$out/models/$name" "$@"
