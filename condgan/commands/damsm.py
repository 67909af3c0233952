"""`python -m condgan pretrain-damsm` and `evaluate-damsm` (condgan.train.damsm_trainer)."""
from __future__ import annotations

import argparse
import json


def add_pretrain_damsm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="config file, e.g. configs/damsm_shapes.py")
    parser.add_argument("--data", required=True,
                        help="captioned folder (captions.jsonl) or AttnGAN birds folder")
    parser.add_argument("--run-dir", default=None, help="default runs/<config name>")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set epochs=2 --set fc=false")


def run_pretrain_damsm(args: argparse.Namespace) -> int:
    from condgan.config import load_config
    from condgan.train.damsm_trainer import DamsmConfig, pretrain_damsm
    cfg = load_config(args.config, args.set, expect=DamsmConfig)
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
