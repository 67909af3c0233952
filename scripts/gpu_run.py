"""A prepared GPU run: measure the training step, train a config for a given number of minutes
on JAX, export and evaluate it, and gather what should come back into one folder.

Made for a bare GPU machine with JAX and no TensorFlow, and for a user's own GPU box alike
(docs/gpu.md says how to run it on each).  Everything runs through the project's own commands
(`python -m condgan get-data / train / export / evaluate` and bench/backend_throughput.py), under
KERAS_BACKEND=jax, within a deadline: each phase gets what is left, and a phase that would not
fit is skipped and says so.

    python scripts/gpu_run.py --config configs/cgan_cifar10.py --minutes 4 --out OUT \\
        [--cifar-from cifar10-jpeg.tar.gz] [--match-images 1716992] [--bench] [--deadline-s 560]

With `--match-images N` the run is first exported and evaluated when it has seen about N images
(e.g. as many as a shipped model: a like-for-like comparison), then trained on to `--minutes`
and exported and evaluated again (the first point's numbers go to the log).  OUT receives:
log.txt, bench.json, the final model folder as NAME.tar.gz (card inside, evaluated; in 15 MiB
parts when larger), and run_records.tar.gz (the run's config, history, sessions, summary, loss
plot and last sample grid).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/cgan_cifar10.py")
    parser.add_argument("--minutes", type=float, required=True, help="training budget (wall clock)")
    parser.add_argument("--out", required=True, help="where the results go")
    parser.add_argument("--name", default="gpu_run", help="run and model name")
    parser.add_argument("--cifar-from", help="a local CIFAR-10 copy for get-data, when data/cifar10 is missing")
    parser.add_argument("--match-images", type=int, default=0,
                        help="also export and evaluate once the run has seen about this many images")
    parser.add_argument("--bench", action="store_true", help="measure images/s and MFU first")
    parser.add_argument("--bench-runs", default="jax:64:float32,jax:64:float32:16,jax:256:float32:16,"
                        "jax:1024:float32:16,jax:256:mixed_bfloat16:16",
                        help="what to measure: backend:batch:precision[:steps_per_execution],...")
    parser.add_argument("--bench-steps", type=int, default=100, help="steps per measured round")
    parser.add_argument("--bench-budget-s", type=float, default=150)
    parser.add_argument("--eval-n", type=int, default=10000)
    parser.add_argument("--eval-metrics", default="accuracy,classifier_fid",
                        help="what evaluate measures on each export (comma-separated)")
    parser.add_argument("--deadline-s", type=float, default=560, help="finish everything within this")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="more config overrides for the training run")
    args = parser.parse_args()
    deadline = Deadline(args.deadline_s)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "log.txt", "a")
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        XLA_PYTHON_CLIENT_PREALLOCATE="false", PYTHONUNBUFFERED="1")

    def say(line: str) -> None:
        stamp = f"[{args.deadline_s - deadline.left():6.0f}s] {line}"
        print(stamp, flush=True)
        log.write(stamp + "\n")
        log.flush()

    def run(*command: str, budget: float) -> int:
        say("$ " + " ".join(command))
        try:
            result = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    timeout=max(budget, 1))
        except subprocess.TimeoutExpired:
            say(f"  stopped after {budget:.0f}s (deadline)")
            return -1
        say(f"  exit {result.returncode}")
        return result.returncode

    def condgan(*command: str, budget: float) -> int:
        return run(sys.executable, "-m", "condgan", *command, budget=budget)

    import jax

    say(f"devices: {jax.devices()}  jax {jax.__version__}")
    from condgan.config import load_config

    config = load_config(args.config)
    if not (ROOT / "data" / "cifar10" / "train.npz").is_file() and "cifar10" in str(config.data):
        if not args.cifar_from:
            say("no data/cifar10 and no --cifar-from: nothing to train on")
            return 2
        condgan("get-data", "cifar10", "--from", args.cifar_from, budget=deadline.left())

    if args.bench and deadline.left() > 300:
        run(sys.executable, "bench/backend_throughput.py", "--config", args.config, "--runs", args.bench_runs,
            "--steps", str(args.bench_steps), "--rounds", "2", "--json", str(out / "bench.json"),
            budget=min(args.bench_budget_s, deadline.left() - 300))

    run_dir = ROOT / "runs" / args.name
    models = ROOT / "runs" / "gpu_models"
    common = ["--name", args.name, "--set", "tensorboard=false", *sum((["--set", kv] for kv in args.overrides), [])]
    # Leave time for the export and evaluation at the end (and the matched one on the way).
    closing = 100 * (2 if args.match_images else 1)
    minutes = min(args.minutes, max(deadline.left() - closing - 75, 30) / 60)
    if args.match_images:
        steps_per_epoch = 50000 // config.batch_size  # CIFAR-10's training split
        epochs = math.ceil(args.match_images / (steps_per_epoch * config.batch_size))
        condgan("train", "--config", args.config, *common, "--set", f"epochs={epochs}",
                "--set", f"max_minutes={minutes:.2f}", budget=deadline.left() - closing)
        export_and_evaluate(condgan, say, run_dir, f"{args.name}_matched", models, out, args, deadline,
                            numbers_only=True)
        trained = json.loads((run_dir / "summary.json").read_text())["wall_time_s"] / 60 \
            if (run_dir / "summary.json").is_file() else 0.0
        # A start costs about a minute beyond the training minutes (data, compilation, the
        # epoch-end sample grids), which the deadline must leave room for.
        more = min(args.minutes - trained, max(deadline.left() - 100 - 75, 0) / 60)
        if more > 0.5:  # max_minutes is the run's whole budget, the minutes trained so far included
            condgan("train", "--config", args.config, *common, "--resume", "--set", "epochs=100000",
                    "--set", f"max_minutes={trained + more:.2f}", budget=deadline.left() - 100)
    else:
        condgan("train", "--config", args.config, *common, "--set", "epochs=100000",
                "--set", f"max_minutes={minutes:.2f}", budget=deadline.left() - closing)
    export_and_evaluate(condgan, say, run_dir, args.name, models, out, args, deadline)
    with tarfile.open(out / "run_records.tar.gz", "w:gz") as tar:
        for name in ("config.json", "history.jsonl", "sessions.jsonl", "summary.json", "losses.png"):
            if (run_dir / name).is_file():
                tar.add(run_dir / name, arcname=f"{args.name}/{name}")
        grids = sorted((run_dir / "samples").glob("epoch_*.png"))
        if grids:
            tar.add(grids[-1], arcname=f"{args.name}/samples/{grids[-1].name}")
    say("done")
    return 0


# What comes back from a lent machine is at most 16 MiB a file: larger archives travel in parts
# (`cat NAME.tar.gz.part* > NAME.tar.gz` joins them).
PART_BYTES = 15 * 2**20


def export_and_evaluate(condgan, say, run_dir: Path, name: str, models: Path, out: Path, args,
                        deadline: Deadline, numbers_only: bool = False) -> None:
    """Export the run's newest checkpoint as model `name`, evaluate it and archive it into `out`
    (with `numbers_only`, only log its numbers: an intermediate point)."""
    if not (run_dir / "checkpoints").is_dir():
        say(f"no checkpoint to export as {name}")
        return
    if condgan("export", str(run_dir), "--name", name, "--models-dir", str(models), "--replace",
               budget=min(60, deadline.left())) != 0:
        return
    folder = models / name
    condgan("evaluate", str(folder), "--data", "data/cifar10", "--n", str(args.eval_n),
            "--classifier", "models/classifiers/cifar10", "--metrics", args.eval_metrics,
            "--seed", "0", "--replace", budget=max(deadline.left() - 15, 1))
    from condgan.metrics.evaluate import format_value

    card = json.loads((folder / "card.json").read_text())
    say(f"{name}: {card.get('images_seen')} images, "
        + ", ".join(f"{k} {format_value(v['value'])}" for k, v in card.get("metrics", {}).items()))
    if numbers_only:  # its numbers are in the log; the model itself stays on the machine
        return
    archive = out / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=name)
    split_large(archive)


def split_large(archive: Path, part_bytes: int = PART_BYTES) -> None:
    if archive.stat().st_size <= part_bytes:
        return
    with open(archive, "rb") as whole:
        index = 0
        while chunk := whole.read(part_bytes):
            archive.with_name(f"{archive.name}.part{index}").write_bytes(chunk)
            index += 1
    archive.unlink()


if __name__ == "__main__":
    sys.exit(main())
