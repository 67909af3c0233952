"""How well attribute edits do what they say: plain boundary normals against directions made
orthogonal to the other attributes' boundaries (InterFaceGAN's conditional manipulation), found
on the same images and measured on the same fresh ones; and, first, whether the model draws
what the data holds: each attribute's distribution on 2,000 generated images against 2,000
real ones (`--data`), as the reader sees them (total variation distance: 0 for the same
distribution, 1 for disjoint ones; a collapsed model draws few values).

    python bench/edit_directions.py models/gan_shapes [--data data/shapes_one.npz] [--n 4000] \\
        [--probe 200] [--strengths 0.5,1,2] [--space auto|z|w] [--out runs/edit_directions] [--card]

Prints one table per mode (success: the edited attribute shows the value; kept: every other
edited attribute as before; object lost: the reader no longer sees a shape) and writes
OUT/results.json and OUT/sweeps.png (rows: seeds 0..3 along colour=red, size=large,
position=center and background=white, those the model has, at strengths -2..2).  The model folder is only read,
unless `--card`: then the coverage and the plain directions' mean edit numbers are written into
its card (metrics it has already are kept: `condgan.model_folder.merge_card_metrics`).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def coverage(generator, reader, data: str, n: int = 2000) -> dict:
    """Per attribute: total variation distance between the reader's value frequencies on `n`
    generated and `n` real images, and how many values the generated ones show at all."""
    from condgan.data.arrays import load_array_set

    real = reader(load_array_set(data).x[:n])
    fake = reader(generator.generate(n=n, seed=0))
    out = {"object_seen": {"generated": float(fake["object"].mean()), "real": float(real["object"].mean())}}
    for attribute, values in reader.values.items():
        counts = [np.bincount(r[attribute], minlength=len(values)) / len(r[attribute]) for r in (fake, real)]
        out[attribute] = {"tv_distance": round(float(0.5 * np.abs(counts[0] - counts[1]).sum()), 4),
                          "values_drawn": int((counts[0] > 0.01).sum()), "values": len(values),
                          "generated": dict(zip(values, counts[0].round(3).tolist()))}
    return out


def write_card_metrics(model_dir: str, results: dict, data: str) -> None:
    from condgan.model_folder import merge_card_metrics

    protocol = (f"Shapes attribute classifier on 2,000 generated images (seeds 0..1999) and the "
                f"first 2,000 of {data}")
    cover = results["coverage"]
    metrics = {"shapes_object_seen": {"value": round(cover["object_seen"]["generated"], 4),
                                      "real": round(cover["object_seen"]["real"], 4),
                                      "n": 2000, "protocol": protocol},
               "shapes_attribute_tv": {"value": {a: cover[a]["tv_distance"] for a in
                                                 ("colour", "size", "position", "background", "shape")},
                                       "n": 2000, "protocol": protocol + "; total variation "
                                       "distance of each attribute's value frequencies"}}
    for strength, row in results["plain"]["mean"].items():
        metrics[f"edit_success_at_{strength}"] = {
            "value": row["success"], "kept": row["kept"], "n": results["probe"],
            "protocol": f"plain directions in {results['space']} from {results['n']} images; per edit, fresh images "
                        f"without the value edited toward it at strength {strength}: share "
                        "showing it (value) and keeping colour, size, position and background otherwise (kept)"}
    merge_card_metrics(model_dir, metrics)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--classifier", default="models/classifiers/shapes_attributes")
    parser.add_argument("--data", default="data/shapes_one.npz")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--probe", type=int, default=200)
    parser.add_argument("--strengths", default="0.5,1,2")
    parser.add_argument("--out", default="runs/edit_directions")
    parser.add_argument("--space", choices=("auto", "z", "w"), default="auto",
                        help="where to find the directions (auto: w for a StyleGAN, else z)")
    parser.add_argument("--card", action="store_true",
                        help="write the coverage and edit numbers into the model's card")
    args = parser.parse_args()

    from condgan.api import load_generator
    from condgan.basics import make_grid
    from condgan.control.find import find_directions, latent_view, measure_edits
    from condgan.control.shapes_reader import ShapesAttributeReader
    from condgan.control.sweep import edit_sweep
    from PIL import Image

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    generator = load_generator(args.model_dir)
    reader = ShapesAttributeReader(args.classifier)
    strengths = [float(s) for s in args.strengths.split(",")]
    fitted_on, space = latent_view(generator, args.space)
    results = {"model": args.model_dir, "n": args.n, "probe": args.probe, "space": space,
               "coverage": coverage(generator, reader, args.data)}
    print("attribute distributions, generated vs real (total variation distance):")
    for attribute, row in results["coverage"].items():
        if attribute == "object_seen":
            print(f"  object seen: generated {row['generated']:.1%}, real {row['real']:.1%}")
        else:
            print(f"  {attribute:<11} {row['tv_distance']:.3f}  values drawn "
                  f"{row['values_drawn']}/{row['values']}")
    sweeps = []
    for mode, conditional in (("plain", False), ("orthogonal", True)):
        start = time.time()
        directions = find_directions(fitted_on, reader, n=args.n, conditional=conditional)
        report = measure_edits(generator, reader, directions, strengths, n=args.probe)
        results[mode] = {"seconds": round(time.time() - start, 1), "mean": report.pop("mean"),
                         "per_edit": report,
                         "boundary_accuracy": directions.info["held_out_boundary_accuracy"]}
        print(f"\n{mode} directions in {space} ({results[mode]['seconds']} s)")
        print(f"{'strength':>8} {'success':>8} {'kept':>6} {'object lost':>12}")
        for s, row in results[mode]["mean"].items():
            print(f"{s:>8} {row['success']:>8.1%} {row['kept']:>6.1%} {row['object_lost']:>12.1%}")
        if mode == "plain":
            for name in [n for n in ("colour=red", "size=large", "position=center",
                                     "background=white") if n in directions.names]:
                sweeps.append(edit_sweep(generator, name, range(4), directions=directions))
    Image.fromarray(make_grid(np.concatenate(sweeps), columns=5)).save(out / "sweeps.png")
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    if args.card:
        write_card_metrics(args.model_dir, results, args.data)
    print(f"\nwrote {out / 'results.json'} and {out / 'sweeps.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
