"""Training images/s of a config's recipe on each Keras backend, side by side.

One worker process per (backend, batch, precision) builds the family's trainer exactly as
`python -m condgan train` does and trains through `fit()` on synthetic images of the config's
size; rounds are interleaved across workers (A, B, A, B, ...) so machine noise hits all alike,
and the median round is reported.  The first fit of each worker (compilation) is not timed.
Under JAX the worker also reports the step's FLOPs (XLA's cost analysis of the lowered
program) and, on a GPU whose peak it knows, the model FLOPs utilisation.

    python bench/backend_throughput.py [--config configs/cgan_cifar10.py]
        [--backends tensorflow,jax] [--batches 64] [--precisions float32]
        [--runs backend:batch:precision,...] [--steps 50] [--rounds 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Dense peaks per chip (NVIDIA's datasheets, SXM parts): float32 matrix work on tensor cores
# runs as TF32, which is what XLA uses for float32 convolutions and products by default.
PEAK_TFLOPS = {"H100": {"tf32": 494.7, "bf16": 989.4}, "H200": {"tf32": 494.7, "bf16": 989.4}}


# --- the worker -------------------------------------------------------------------------------
def worker(args) -> None:
    os.environ["KERAS_BACKEND"] = args.worker
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import dataclasses

    import keras
    import numpy as np

    from condgan.config import load_config
    from condgan.data.arrays import ArraySet
    from condgan.families import family_of_config
    from condgan.train.strategies import make_strategy
    from condgan.train.trainer import backend_steps

    config = load_config(args.config)
    config = dataclasses.replace(config, batch_size=args.batch, precision=args.precision,
                                 steps_per_execution=args.spe, verbose=0, tensorboard=False)
    family = family_of_config(config)
    rng = np.random.default_rng(0)
    n = args.steps * args.batch
    data = ArraySet(rng.integers(0, 256, (n, config.image_size, config.image_size, 3), dtype=np.uint8),
                    (np.arange(n) % 10).astype(np.int64), [str(i) for i in range(10)], {})
    strategy = make_strategy("default")
    keras.utils.set_random_seed(0)
    prepared = family.prepare(config, data, None, lambda line: None)
    trainer = family.build(config, prepared, False)
    stream = prepared.stream

    def fit(epoch: int) -> float:
        start = time.perf_counter()
        trainer.fit(stream.distributed(strategy, epoch), steps_per_epoch=stream.steps_per_epoch,
                    epochs=1, verbose=0, shuffle=False)
        return stream.steps_per_epoch * stream.global_batch / (time.perf_counter() - start)

    start = time.perf_counter()
    fit(0)
    report = {"ready": True, "compile_and_first_round_s": round(time.perf_counter() - start, 1),
              "devices": backend_steps().describe_devices()}
    if args.worker == "jax":
        report["step_flops"] = jax_step_flops(trainer, stream)
    print(json.dumps(report), flush=True)
    epoch = 1
    for line in sys.stdin:
        if line.strip() != "round":
            break
        print(json.dumps({"images_per_s": fit(epoch)}), flush=True)
        epoch += 1


def jax_step_flops(trainer, stream) -> float | None:
    """FLOPs of one training step, as XLA counts them on the lowered program (before the
    backend's passes: on a GPU the compiled program's count leaves out the convolutions that
    become cuDNN calls)."""
    import jax

    state = trainer._get_jax_state(trainable_variables=True, non_trainable_variables=True,
                                   optimizer_variables=True, metrics_variables=True)
    batch = next(iter(stream.batches(0)))
    cost = jax.jit(trainer.train_step).lower(state, batch).cost_analysis()
    if isinstance(cost, list):
        cost = cost[0]
    return float(cost["flops"]) if cost and "flops" in cost else None


# --- the conductor ----------------------------------------------------------------------------
def start_worker(args, backend: str, batch: int, precision: str, spe: int) -> subprocess.Popen:
    command = [sys.executable, __file__, "--worker", backend, "--config", args.config,
               "--batch", str(batch), "--precision", precision, "--spe", str(spe),
               "--steps", str(args.steps)]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, PYTHONPATH=path, KERAS_BACKEND=backend)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def ask(proc: subprocess.Popen, line: str | None = None) -> dict:
    if line is not None:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
    answer = proc.stdout.readline()
    if not answer:
        raise SystemExit(f"a worker stopped (exit {proc.wait()}): see its error above")
    return json.loads(answer)


def peak_for(devices: str) -> dict | None:
    return next((peak for chip, peak in PEAK_TFLOPS.items() if chip in devices), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/cgan_cifar10.py")
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--batches", default="64")
    parser.add_argument("--precisions", default="float32",
                        help="comma list of float32, mixed_bfloat16")
    parser.add_argument("--runs", help="instead of the product of the three lists above: "
                        "backend:batch:precision[:steps_per_execution],... e.g. "
                        "jax:256:float32,jax:256:mixed_bfloat16,jax:64:float32:16")
    parser.add_argument("--steps", type=int, default=50, help="steps per measured round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--spe", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    if args.runs:
        keys = [(parts[0], int(parts[1]), parts[2], int(parts[3]) if len(parts) > 3 else 1)
                for parts in (run.split(":") for run in args.runs.split(","))]
    else:
        keys = [(backend, int(batch), precision, 1) for backend in args.backends.split(",")
                for batch in args.batches.split(",") for precision in args.precisions.split(",")]
    results = {}
    # Workers are started and compiled one at a time (compilation would disturb the others'
    # rounds), then measured in interleaved rounds; the results so far are written after each
    # round, so a run stopped early still leaves its numbers.
    workers = {}
    for key in keys:
        workers[key] = start_worker(args, *key)
        results[key] = {**ask(workers[key]), "rounds": []}
    for _ in range(args.rounds):
        for key, proc in workers.items():
            results[key]["rounds"].append(ask(proc, "round")["images_per_s"])
        report(results, args)
    for proc in workers.values():
        proc.stdin.close()
        proc.wait(timeout=120)
    print(json.dumps(report(results, args), indent=2))


def report(results: dict, args) -> dict:
    rows = []
    for (backend, batch, precision, spe), r in results.items():
        row = {"backend": backend, "batch": batch, "precision": precision, "steps_per_execution": spe,
               "devices": r["devices"], "images_per_s": statistics.median(r["rounds"]),
               "rounds": [round(v, 1) for v in r["rounds"]],
               "compile_and_first_round_s": r["compile_and_first_round_s"]}
        flops = r.get("step_flops")
        if flops:
            row["gflop_per_image"] = flops / batch / 1e9
            row["achieved_tflops"] = row["images_per_s"] * flops / batch / 1e12
            peak = peak_for(r["devices"])
            if peak:
                row["mfu_vs_tf32_peak"] = row["achieved_tflops"] / peak["tf32"]
                row["mfu_vs_bf16_peak"] = row["achieved_tflops"] / peak["bf16"]
        rows.append(row)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "load_average": os.getloadavg(), "config": args.config, "steps_per_round": args.steps,
              "results": rows}
    by_key = {(r["backend"], r["batch"], r["precision"], r["steps_per_execution"]): r["images_per_s"]
              for r in rows}
    ratios = {f"jax_over_tensorflow_batch{b}_{p}_spe{k}": rate / by_key[("tensorflow", b, p, k)]
              for (backend, b, p, k), rate in by_key.items()
              if backend == "jax" and ("tensorflow", b, p, k) in by_key}
    if ratios:
        result["ratios"] = ratios
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
