"""`python -m condgan pretrain-damsm` and `evaluate-damsm` (condgan.train.damsm_trainer)."""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

from condgan.errors import UserError


def load_config_file(path: str):
    """Run a config file (configs/damsm_*.py) and return its `get_config()`."""
    file = Path(path)
    if file.suffix != ".py" or not file.is_file():
        raise UserError(f"--config {path!r} must be an existing .py file such as "
                        "configs/damsm_shapes.py")
    spec = importlib.util.spec_from_file_location(f"condgan_config_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise UserError(f"--config {path!r} defines no get_config(): see configs/damsm_shapes.py")
    return module.get_config()


def _overrides(cfg, pairs: list[str]):
    import dataclasses
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    changes = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in fields:
            raise UserError(f"--set {pair!r}: use KEY=VALUE with KEY one of {sorted(fields)}")
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value
    return dataclasses.replace(cfg, **changes)


def add_pretrain_damsm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="config file, e.g. configs/damsm_shapes.py")
    parser.add_argument("--data", required=True,
                        help="captioned folder (captions.jsonl) or AttnGAN birds folder")
    parser.add_argument("--run-dir", default=None, help="default runs/<config name>")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set epochs=2 --set fc=false")


def run_pretrain_damsm(args: argparse.Namespace) -> int:
    from condgan.train.damsm_trainer import pretrain_damsm
    cfg = _overrides(load_config_file(args.config), args.set)
    run_dir = args.run_dir or f"runs/{cfg.name}"
    summary = pretrain_damsm(cfg, args.data, run_dir, log=lambda m: print(m, flush=True))
    print(json.dumps({"run_dir": run_dir, **summary["metrics"],
                      "train_seconds": summary["train_seconds"]}))
    return 0


def add_evaluate_damsm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a pretrain-damsm run folder, e.g. runs/damsm_shapes")
    parser.add_argument("--data", default=None, help="default: the data the run was trained on")
    parser.add_argument("--repeats", type=int, default=10,
                        help="R-precision repeats with fresh mismatched captions (default 10)")
    parser.add_argument("--examples", type=int, default=5, help="retrieval examples to print")


def run_evaluate_damsm(args: argparse.Namespace) -> int:
    from condgan.train.damsm_trainer import evaluate_damsm
    result = evaluate_damsm(args.run_dir, args.data, repeats=args.repeats, examples=args.examples)
    for example in result["examples"]:
        print(f"{example['image']}: true {example['true']!r}")
        for rank, caption in enumerate(example["retrieved"], 1):
            print(f"   {rank}. {caption}")
    print(json.dumps({k: result[k] for k in ("r_precision", "r_precision_std", "queries")}))
    return 0
