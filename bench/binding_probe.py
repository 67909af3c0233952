"""Does a DAMSM know which object each word belongs to?  The exchange probe on Shapes.

For held-out two-object Shapes images, a caption that names one group's value once per object
("a *red* circle ... and a *blue* square", colour) is scored against its *exchange*, the same
caption with the two words traded ("a *blue* circle ... and a *red* square"): every word of it
is still true of the image, only the binding is wrong.  Accuracy is how often the DAMSM scores
the true caption higher for the real image (chance 0.5), at the sentence level (cosine of the
global image feature and the sentence feature: what R-precision and the generator's sentence
loss use) and at the word level (AttnGAN's region-word matching score R(Q, D), eq. 10: what the
word loss uses).  A DAMSM at chance cannot teach a generator to bind attributes to objects.

With `--model` (an exported caption model) the DAMSM also scores *generated* images drawn from
the true captions (seed = probe index): "generated" is how often it prefers the true caption
there, i.e. how often the generator drew the binding the DAMSM can see.

    python bench/binding_probe.py --damsm runs/damsm_shapes_long [--model models/attngan_shapes]
        [--data data/shapes] [--n 1000] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from condgan.data.caption_sets import load_caption_split
from condgan.data.shapes import word_groups
from condgan.text import pad_captions, tokenize

GROUPS = ("colour", "shape", "size")


def exchange_pair(captions: list[str], group: dict[str, list[str]]):
    """(true tokens, exchanged tokens) for the first caption naming two different values of the
    group in one word each, or None."""
    lookup = {w: v for v, words in group.items() for w in words}
    for caption in captions:
        tokens = tokenize(caption)
        hits = [i for i, t in enumerate(tokens) if t in lookup]
        if len(hits) == 2 and lookup[tokens[hits[0]]] != lookup[tokens[hits[1]]]:
            swapped = list(tokens)
            swapped[hits[0]], swapped[hits[1]] = tokens[hits[1]], tokens[hits[0]]
            return tokens, swapped
    return None


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/shapes")
    parser.add_argument("--damsm", default="runs/damsm_shapes_long")
    parser.add_argument("--model", help="an exported caption model: also score its images")
    parser.add_argument("--n", type=int, default=1000, help="at most this many two-object images")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from keras import ops

    from condgan.families.damsm.data import to_float
    from condgan.families.damsm.family import load_damsm
    from condgan.families.damsm.losses import paired_word_scores
    from condgan.metrics.r_precision import resize_uint8

    text, image, vocab, dcfg = load_damsm(args.damsm)
    test = load_caption_split(args.data, "test", dcfg.image_size)
    index = [i for i, a in enumerate(test.meta["attributes"]) if len(a["objects"]) == 2][:args.n]
    model = None
    if args.model:
        from condgan.families.attngan.model import load_attngan
        model = load_attngan(args.model)

    def scores(images_uint8, true, swapped):
        """(sentence, word) score differences true - exchanged, one per image."""
        regions, global_features = image(to_float(images_uint8), training=False)
        g = np.asarray(global_features, np.float64)
        g /= np.linalg.norm(g, axis=-1, keepdims=True)
        out = []
        for variant in (true, swapped):
            tokens, lengths = pad_captions([vocab.encode(t) for t in variant], dcfg.max_len)
            words, sentences = text(tokens, lengths, training=False)
            s = np.asarray(sentences, np.float64)
            cosine = (g * s).sum(-1) / np.linalg.norm(s, axis=-1)
            word = np.asarray(ops.convert_to_numpy(paired_word_scores(words, regions, lengths)))
            out.append((cosine, word))
        return out[0][0] - out[1][0], out[0][1] - out[1][1]

    groups = word_groups()
    result = {"damsm": args.damsm, "model": args.model, "max_len": dcfg.max_len, "accuracy": {}}
    for name in GROUPS:
        found = [(i, exchange_pair(test.captions[i], groups[name])) for i in index]
        found = [(i, pair) for i, pair in found if pair is not None]
        true = [pair[0] for _, pair in found]
        swapped = [pair[1] for _, pair in found]
        chosen = [i for i, _ in found]
        sentence, word = scores(test.images[chosen], true, swapped)
        accuracy = {"probes": len(found), "sentence": round(float(np.mean(sentence > 0)), 3),
                    "word": round(float(np.mean(word > 0)), 3)}
        if model is not None:
            drawn = model.generate_for_seeds(list(range(len(true))), [" ".join(t) for t in true])
            sentence, word = scores(resize_uint8(drawn, dcfg.image_size), true, swapped)
            accuracy.update({"generated_sentence": round(float(np.mean(sentence > 0)), 3),
                             "generated_word": round(float(np.mean(word > 0)), 3)})
        result["accuracy"][name] = accuracy
        print(f"{name:7s} " + "  ".join(f"{k} {v}" for k, v in accuracy.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
