"""Which caption attributes do the DAMSM and an AttnGAN run's discriminators actually read?

For held-out one-object Shapes images, a caption naming the object is rewritten once per value
of an attribute group (shape: circle / square / triangle / diamond; colour: six values; size);
each scorer picks the variant it rates highest for the *real* image:
* DAMSM: cosine of the global image feature and the sentence feature (what R-precision uses);
* each stage's sentence-conditional discriminator logit (what the generator's adversarial
  term rewards), when a run folder is given.
* each stage's object-wise head (runs with `d_object_weight`), which reads the object's cell
  directly: the value it picks for each attribute ("objects_real_stageK"; with `--model`, the
  same reading of the generated image, "objects_on_generated_stageK").
Accuracy 1.0 means the scorer tells every value apart; chance is 1 / number of values.  An
attribute that no scorer reads cannot be learned by the generator from these losses.

With `--model` (an exported caption model) the DAMSM also scores *generated* images: one image
per probe, drawn from the true caption (seed = probe index), and "damsm_on_generated" is how often
the DAMSM prefers the caption it was drawn from.  Far above the held-out classifier's accuracy
for the same attribute (`evaluate-attngan`), it means the generator fools the frozen DAMSM
rather than drawing the attribute.

    python bench/attngan_swap_probe.py --data data/shapes --damsm runs/damsm_shapes \
        --run runs/attngan_shapes [--model models/attngan_shapes] --n 300 [--json out.json]
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

GROUPS = ("shape", "colour", "size")


def _unit(x) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def caption_variants(captions: list[str], group: dict[str, list[str]], true_value: str):
    """Token lists of the first caption with a one-word mention of the group, rewritten to each
    value (the value's first word), and the index of the true value; None if no caption has one."""
    lookup = {w: v for v, words in group.items() for w in words}
    for caption in captions:
        tokens = tokenize(caption)
        hits = [i for i, t in enumerate(tokens) if t in lookup]
        if len(hits) == 1 and lookup[tokens[hits[0]]] == true_value:
            values = list(group)
            variants = [tokens[:hits[0]] + [group[v][0]] + tokens[hits[0] + 1:] for v in values]
            return variants, values.index(true_value)
    return None


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/shapes")
    parser.add_argument("--damsm", default="runs/damsm_shapes")
    parser.add_argument("--run", help="an AttnGAN run folder: also probe its discriminators")
    parser.add_argument("--checkpoint", help="with --run: the discriminators of this ckpt-<step>.npz "
                        "(e.g. one kept aside while the run trained); default: the run's newest")
    parser.add_argument("--model", help="an exported caption model: also score its images")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    from condgan.metrics.r_precision import resize_uint8
    from condgan.families.damsm.data import to_float
    from condgan.families.damsm.family import load_damsm
    text, image, vocab, dcfg = load_damsm(args.damsm)
    records = [json.loads(line) for line in open(Path(args.data) / "captions.jsonl")]
    test_records = [r for r in records if r["split"] == "test"]
    test = load_caption_split(args.data, "test", dcfg.image_size)
    index = [i for i, r in enumerate(test_records) if len(r["attributes"]["objects"]) == 1][:args.n]
    images = to_float(test.images[index])
    global_features = _unit(image(images, training=False)[1])

    stages, trainer, run_cfg, probed = [], None, None, None
    if args.run:
        stages, trainer, run_cfg, probed = _discriminator_scorers(
            Path(args.run), text, image, vocab, dcfg, args.data, index, args.checkpoint)

    model = None
    if args.model:
        from condgan.families.attngan.model import load_attngan
        model = load_attngan(args.model)

    groups = word_groups()
    result = {"images": len(index), "damsm": args.damsm, "run": args.run, "model": args.model,
              "accuracy": {}}
    for name in GROUPS:
        found = [(j, caption_variants(test_records[i]["captions"], groups[name],
                                      test_records[i]["attributes"]["objects"][0][name]))
                 for j, i in enumerate(index)]
        found = [(j, f) for j, f in found if f is not None]
        generated = None
        if model is not None:
            drawn = [" ".join(variants[truth]) for _, (variants, truth) in found]
            images = model.generate_for_seeds(list(range(len(drawn))), drawn)
            images = resize_uint8(images, dcfg.image_size)
            generated = _unit(image(to_float(images), training=False)[1])
        hits = np.zeros(2 + len(stages))
        for probe, (j, (variants, truth)) in enumerate(found):
            tokens, lengths = pad_captions([vocab.encode(v) for v in variants], dcfg.max_len)
            words, sentences = (np.asarray(x) for x in text(tokens, lengths, training=False))
            hits[0] += int(np.argmax(_unit(sentences) @ global_features[j])) == truth
            for k, score in enumerate(stages):
                hits[1 + k] += int(np.argmax(score(j, sentences, words, np.asarray(lengths),
                                                   np.asarray(tokens)))) == truth
            if generated is not None:
                hits[-1] += int(np.argmax(_unit(sentences) @ generated[probe])) == truth
        probes = len(found)
        accuracy = {"damsm": round(hits[0] / probes, 3), "chance": round(1 / len(groups[name]), 3),
                    "probes": probes}
        accuracy.update({f"d_stage{k + 1}": round(hits[1 + k] / probes, 3)
                         for k in range(len(stages))})
        if generated is not None:
            accuracy["damsm_on_generated"] = round(hits[-1] / probes, 3)
        result["accuracy"][name] = accuracy
    if trainer is not None and trainer.discriminator.object_heads:
        _object_head_readings(trainer, run_cfg, probed, args.data, model, result["accuracy"])
    for name in GROUPS:
        print(f"{name:7s} " + "  ".join(f"{k} {v}" for k, v in result["accuracy"][name].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return result


def _discriminator_scorers(run: Path, text, image, vocab, dcfg, data, index, checkpoint=None):
    """One function per stage: (image j, sentences (V, D), words (V, D, T), lengths (V,),
    tokens (V, T)) -> conditional logits (V,), from `checkpoint` (a path) or the run's newest."""
    from condgan.families import read_run_config
    from condgan.families.attngan.family import build_models
    from condgan.families.attngan.trainer import downsample
    from condgan.families.damsm.data import to_float
    from condgan.train.checkpoint import load_checkpoint_file, load_latest_checkpoint
    from condgan.train.state import restore_training_state

    _, cfg = read_run_config(run)
    trainer = build_models(cfg, dcfg, text, image, vocabulary=vocab)
    state = load_checkpoint_file(checkpoint) if checkpoint else load_latest_checkpoint(run)
    restore_training_state(trainer, state[1], cfg.batch_size)
    probed = load_caption_split(data, "test", cfg.image_size).subset(index)
    images = to_float(probed.images)
    D = trainer.discriminator
    scorers = []
    for stage, size in enumerate(trainer.sizes):
        features = np.asarray(D.features(stage, downsample(images, size)))

        def score(j, sentences, words, lengths, tokens, stage=stage, features=features):
            tiled = np.repeat(features[j:j + 1], len(sentences), axis=0)
            return np.asarray(D.logits(stage, tiled, D.caption(sentences, words, lengths, tokens))[1])
        scorers.append(score)
    return scorers, trainer, cfg, probed


def _object_head_readings(trainer, cfg, probed, data, model, accuracy):
    """Each stage's object-wise head at the object's cell of the probed one-object images (and
    of images the model draws from their first captions): how often it picks the true value."""
    from condgan.data.object_cells import parse_object_attributes
    from condgan.families.attngan.family import object_labels
    from condgan.families.attngan.trainer import downsample
    from condgan.families.damsm.data import to_float

    names = parse_object_attributes(cfg.d_object_attributes)
    labels, _ = object_labels(cfg, probed, data)
    rows = np.arange(len(probed))
    cell = (labels[..., 0] >= 0).argmax(axis=1)
    truth = labels[rows, cell]                                                     # (n, attributes)
    sets = {"objects_real": probed.images}
    if model is not None:
        sets["objects_on_generated"] = model.generate_for_seeds(
            list(rows), [captions[0] for captions in probed.captions])
    D = trainer.discriminator
    for label, images in sets.items():
        x = to_float(images)
        for stage, stage_size in enumerate(trainer.sizes):
            logits = np.asarray(D.object_logits(stage, D.features(stage, downsample(x, stage_size))))
            at_cell = logits[rows, cell]
            start = 1
            for k, name in enumerate(names):
                picked = at_cell[:, start:start + D.object_classes[k]].argmax(-1)
                start += D.object_classes[k]
                if name in accuracy:
                    accuracy[name][f"{label}_stage{stage + 1}"] = round(float(np.mean(picked == truth[:, k])), 3)


if __name__ == "__main__":
    main()
