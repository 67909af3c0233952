"""What each change does to a GAN recipe: the config trained once per variant (a name and its
config changes) for the same number of epochs, each scored by the metrics that see collapse
(recall and diversity against the real images, beside precision, accuracy and classifier FID),
with a sample grid per variant; then the best variant trained on, scored at milestones.

    python bench/recipe_ablation.py --config configs/gan_horses.py --data data/cifar10 \\
        --variant shipped --variant no-diffaugment diffaugment= \\
        --variant translation diffaugment=translation --epochs 60 [--extend 150 300] \\
        [--n 2000] [--out runs/recipe_ablation] [--work DIR] [--deadline-s S] \\
        [--set steps_per_execution=16 ...]

`--set` changes apply to every variant (after the variant's own); a time budget
(`--epochs 100000 --set max_minutes=12`) compares variants at equal time instead of equal
epochs.  A variant's `config=PATH` trains another config file (another recipe or family) in
place of `--config`, so different recipes are compared side by side:

    python bench/recipe_ablation.py --data data/cifar10 --epochs 2 \
        --variant classic config=configs/cgan_cifar10_classic.py \
        --variant resnet config=configs/cgan_cifar10_resnet.py

Every run goes through the library's own train / export / evaluate (`condgan.train_model`,
`export_model`, `evaluate_model`), under whatever KERAS_BACKEND is set.  OUT receives
results.json (one record per variant and milestone), grids.png (one row of samples per variant,
seeds 0..15, in order), the model folders under OUT/models and the runs under OUT/runs; the
best run's final model folder also as best.tar.gz.  "Best": the highest recall relative to the
real images' plus diversity (both 1.0 for samples as varied as the data).
"""
from __future__ import annotations

import argparse
import json
import re
import tarfile
import time
from pathlib import Path

import numpy as np

METRICS = "accuracy,classifier_fid,precision_recall,diversity"
GRID_SEEDS = 16
NAME = re.compile(r"[A-Za-z0-9_-]+")  # variant names become run and model folder names


def score(record: dict) -> float:
    """Recall over the real images' recall, plus diversity: 2.0 for samples as varied as the data."""
    return record["recall"] / max(record["real_recall"], 1e-9) + record["diversity"]


def summarise(metrics: dict) -> dict:
    pr = metrics["precision_recall"]
    return {"precision": pr["value"]["precision"], "recall": pr["value"]["recall"],
            "real_recall": pr["real"]["recall"], "diversity": metrics["diversity"]["value"],
            "classifier_fid": metrics["classifier_fid"]["value"],
            "accuracy": metrics["classifier_accuracy"]["value"]}


def grid_row(generator) -> np.ndarray:
    """Seeds 0..GRID_SEEDS-1; a class model's labels cycle through its classes."""
    classes = getattr(generator, "classes", None)
    if classes:
        return generator.generate([classes[i % len(classes)] for i in range(GRID_SEEDS)], seed=0)
    return generator.generate(n=GRID_SEEDS, seed=0)


def variant_config(variant: list[str], default: str) -> str:
    """The config file a variant trains: its own `config=PATH`, else --config."""
    chosen = [change.split("=", 1)[1] for change in variant[1:] if change.startswith("config=")]
    return chosen[-1] if chosen else default


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/gan_horses.py")
    parser.add_argument("--data", default="data/cifar10")
    parser.add_argument("--classifier", default="models/classifiers/cifar10")
    parser.add_argument("--variant", dest="variants", action="append", nargs="+", required=True,
                        metavar="NAME [KEY=VALUE ...]", help="a variant: its name and config changes")
    parser.add_argument("--epochs", type=int, default=60, help="epochs per variant")
    parser.add_argument("--extend", type=int, nargs="*", default=[],
                        help="train the best variant on to these epoch counts, scoring each")
    parser.add_argument("--n", type=int, default=2000, help="generated images per evaluation")
    parser.add_argument("--out", default="runs/recipe_ablation")
    parser.add_argument("--work", help="where the runs and model folders go (default: --out)")
    parser.add_argument("--deadline-s", type=float, default=0.0, help="0: no deadline")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    for variant in args.variants:
        if not NAME.fullmatch(variant[0]):
            parser.error(f"variant name {variant[0]!r}: use letters, digits, '_' and '-'")
        config_file = variant_config(variant, args.config)
        if not Path(config_file).is_file():
            parser.error(f"variant {variant[0]!r}: config file {config_file!r} does not exist")

    import condgan
    from condgan.basics import make_grid
    from PIL import Image

    started = time.monotonic()
    out = Path(args.out)
    work = Path(args.work or args.out)
    out.mkdir(parents=True, exist_ok=True)
    (work / "runs").mkdir(parents=True, exist_ok=True)
    log = open(out / "log.txt", "a")

    def say(line: str) -> None:
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    records, rows = [], []

    def train_and_score(variant: list[str], epochs: int, tag: str) -> dict:
        name = variant[0]
        changes = [change for change in variant[1:] if not change.startswith("config=")]
        config_file = variant_config(variant, args.config)
        config = condgan.load_config(config_file, [
            f"epochs={epochs}", "max_minutes=0", "tensorboard=false", "sample_every_epochs=100000",
            "checkpoint_every_steps=100000", *changes, *args.overrides])
        start = time.monotonic()
        summary = condgan.train_model(config, work / "runs" / name, data=args.data,
                                      say=lambda line: log.write(line + "\n"))
        seconds = time.monotonic() - start
        model = condgan.export_model(work / "runs" / name, f"{name}_{tag}", work / "models",
                                     replace=True, say=lambda line: None)
        metrics = condgan.evaluate_model(model, args.data, n=args.n, metrics=METRICS,
                                         classifier_dir=args.classifier, replace=True,
                                         say=lambda line: None)
        images, loop_seconds = summary.get("images_seen"), summary.get("wall_time_s")
        record = {"variant": name, "config": config_file, "epochs": epochs, "images": images,
                  "train_seconds": round(seconds, 1),  # with building the models and reading the data
                  "images_per_second": round(images / loop_seconds, 1) if images and loop_seconds else None,
                  **summarise(metrics)}
        record["score"] = score(record)
        records.append(record)
        (out / "results.json").write_text(json.dumps(records, indent=2))
        say(" | ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()))
        rows.append(grid_row(condgan.load_generator(model)))
        Image.fromarray(make_grid(np.concatenate(rows), columns=GRID_SEEDS, scale=2)).save(out / "grids.png")
        return {**record, "model": model}

    finals = [train_and_score(variant, args.epochs, f"e{args.epochs}") for variant in args.variants]
    best = max(finals, key=lambda r: r["score"])
    say(f"best at {args.epochs} epochs: {best['variant']} (score {best['score']:.3f})")
    best_variant = next(v for v in args.variants if v[0] == best["variant"])
    seconds_per_epoch = max(r["train_seconds"] for r in finals) / args.epochs
    trained = args.epochs
    for epochs in args.extend:
        needed = (epochs - trained) * seconds_per_epoch + 60  # + export and evaluation
        if args.deadline_s and time.monotonic() - started + needed > args.deadline_s:
            say(f"skipped: {epochs} epochs would take about {needed:.0f}s, past the deadline")
            break
        trained = epochs
        latest = train_and_score(best_variant, epochs, f"e{epochs}")
        if latest["score"] >= best["score"]:
            best = latest
    say(f"best model: {best['model']} (score {best['score']:.3f})")
    with tarfile.open(out / "best.tar.gz", "w:gz") as tar:
        tar.add(best["model"], arcname=Path(best["model"]).name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
