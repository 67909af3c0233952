"""Redraw the README's AttnGAN figures from a caption model (default models/attngan_shapes).

    python scripts/attngan_figures.py [--model models/attngan_shapes] [--out images]

Writes <out>/attngan_shapes_samples.png (one caption per row, seeds 0-5 in every row, so rows
differ only by caption) and <out>/attngan_shapes_attention.png (each word's attention over the
attentional stage's sub-regions for ATTENTION_CAPTION, seed 0).
"""
from __future__ import annotations

import argparse
from pathlib import Path


SAMPLE_CAPTIONS = (
    "a large blue circle at the top on a black background",
    "a large red square on the left on white",
    "a large green triangle in the center on a gray background",
    "a large yellow diamond in the lower right corner on a black background",
    "a small purple circle in the upper left corner and a large purple square at the bottom on gray",
)
ATTENTION_CAPTION = "a large green triangle in the center on a gray background"
SEEDS = range(6)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/attngan_shapes")
    parser.add_argument("--out", default="images")
    args = parser.parse_args(argv)

    from condgan.families.attngan.model import load_attngan
    from condgan.attngan_viz import attention_grid
    from condgan.viz import save_grid, save_png

    model = load_attngan(args.model)
    captions = [c for c in SAMPLE_CAPTIONS for _ in SEEDS]
    images = model.generate_for_seeds([s for _ in SAMPLE_CAPTIONS for s in SEEDS], captions)
    missing = sorted({w for caption in SAMPLE_CAPTIONS for w in model.unknown_words(caption)})
    if missing:
        raise SystemExit(f"{args.model} does not know the words {missing}: edit SAMPLE_CAPTIONS")
    out = Path(args.out)
    print(save_grid(images, out / "attngan_shapes_samples.png", columns=len(SEEDS)))
    print(save_png(attention_grid(model.attention(ATTENTION_CAPTION, seed=0)),
                   out / "attngan_shapes_attention.png"))


if __name__ == "__main__":
    main()
