#!/usr/bin/env bash
# Score one checkpoint of an AttnGAN run, the way the shipped model is scored.
#
#   bash scripts/score_attngan_checkpoint.sh RUN_DIR CHECKPOINT.npz OUT_DIR [evaluate options]
#   e.g. bash scripts/score_attngan_checkpoint.sh runs/attngan_shapes_proj \
#            runs/attngan_shapes_proj_kept/ckpt-0000014000.npz runs/scored --data data/shapes -n 1000
#
# The trainer keeps only the newest two checkpoints, so to judge a run over several, hard-link
# them aside while it trains, e.g.
#   mkdir -p runs/NAME_kept
#   while sleep 30; do ln -f runs/NAME/checkpoints/*.npz runs/NAME_kept/ 2>/dev/null; done
# This script exports that checkpoint (`python -m condgan export --checkpoint`) into the models
# folder OUT_DIR/models, as OUT_DIR/models/<checkpoint name> (never into models/), and measures
# the export (`python -m condgan evaluate`); the metrics land in its card.json.  Paths are taken
# from the current directory (run it from the repository root for the data paths of the
# examples).  Exit status 2 for a wrong call, else that of the first command that fails.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 RUN_DIR CHECKPOINT.npz OUT_DIR [evaluate options, e.g. --data data/shapes -n 1000]" >&2
    exit 2
fi
run_dir=$1 checkpoint=$2 out=$3
shift 3
for need in "$run_dir/config.json" "$run_dir/vocabulary.json" "$checkpoint"; do
    [ -f "$need" ] || { echo "$need: not found (RUN_DIR must be an AttnGAN run folder, e.g. from python -m condgan train --config configs/attngan_shapes_proj.py)" >&2; exit 2; }
done
name=$(basename "$checkpoint" .npz)
python -m condgan export "$run_dir" --checkpoint "$checkpoint" --name "$name" --models-dir "$out/models"
python -m condgan evaluate "$out/models/$name" "$@"
