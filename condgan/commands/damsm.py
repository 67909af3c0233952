"""`python -m condgan evaluate-damsm`: R-precision and retrieval examples of a DAMSM run."""
from __future__ import annotations

import argparse
import json


def add_evaluate_damsm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a DAMSM run folder, e.g. runs/damsm_shapes")
    parser.add_argument("--data", default=None, help="default: the data the run was trained on")
    parser.add_argument("--repeats", type=int, default=10,
                        help="R-precision repeats with fresh mismatched captions (default 10)")
    parser.add_argument("--examples", type=int, default=5, help="retrieval examples to print")


def run_evaluate_damsm(args: argparse.Namespace) -> int:
    from condgan.families.damsm.family import evaluate_damsm
    result = evaluate_damsm(args.run_dir, args.data, repeats=args.repeats, examples=args.examples)
    for example in result["examples"]:
        print(f"{example['image']}: true {example['true']!r}")
        for rank, caption in enumerate(example["retrieved"], 1):
            print(f"   {rank}. {caption}")
    print(json.dumps({k: result[k] for k in ("r_precision", "r_precision_std", "queries")}))
    return 0
