"""Tiny Shapes data and a tiny (untrained, frozen) DAMSM run folder for the AttnGAN tests."""
import json

import numpy as np

from condgan.data.caption_sets import load_caption_split
from condgan.data.shapes import write_shapes
from condgan.families.attngan import AttnGANConfig
from condgan.families.damsm import DamsmConfig
from condgan.text import build_vocabulary, tokenize
from condgan.train.checkpoint import save_checkpoint

SIZE = 32
TINY_DAMSM = DamsmConfig(name="tiny_damsm", image_size=SIZE, cnn_width=8, dim=16, embed_dim=16,
                         dropout=0.0, batch_size=16, epochs=1)
TINY = AttnGANConfig(name="tiny_attngan", image_size=SIZE, stages=2, z_dim=8, condition_dim=4,
                     gf=8, df=8, residual_blocks=1, batch_size=16, epochs=1, damsm_lambda=5.0,
                     checkpoint_every_steps=2, sample_captions=2, samples_per_caption=2,
                     rp_images=0, tensorboard=False, verbose=0)


def make_shapes(folder):
    """64 training and 32 held-out images at 32 px."""
    write_shapes(folder, 96, size=SIZE, seed=0, test_fraction=32 / 96)
    return folder


def make_damsm_run(folder, data):
    """A DAMSM run folder `load_damsm` accepts: randomly initialised encoders (the AttnGAN
    tests need fixed encoders, not good ones), vocabulary from the training captions."""
    train = load_caption_split(data, "train", SIZE)
    vocab = build_vocabulary(tokenize(c) for caps in train.captions for c in caps)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"kind": "damsm", "config": dict(
        TINY_DAMSM.to_json(), data=str(data))}))
    vocab.save(folder / "vocabulary.json")
    from condgan.families.damsm.family import FAMILY
    from condgan.train.state import training_state

    import keras

    keras.utils.set_random_seed(TINY_DAMSM.seed)  # the same encoders in every test process
    trainer = FAMILY.build(TINY_DAMSM, _Prepared(vocab, folder / "vocabulary.json"), False)
    save_checkpoint(folder, 1, training_state(trainer, 1, 16, 0.0))
    return folder


class _Prepared:
    """What the DAMSM family's `build` reads of its prepared data."""

    def __init__(self, vocabulary, vocabulary_file):
        self.extras = {"vocabulary": vocabulary, "vocabulary_file": vocabulary_file}


def shapes_and_damsm(root):
    """(tiny Shapes folder, tiny DAMSM run folder) under `root`."""
    data = make_shapes(root / "shapes")
    return data, make_damsm_run(root / "damsm", data)


def fixed_batch(split, n=16, seed=0):
    from condgan.families.damsm.data import caption_batch
    index = np.arange(n)
    tokens, lengths = caption_batch(split, index, 18, None)
    images = split.images[index].astype(np.float32) / 127.5 - 1.0
    return images, tokens, lengths, split.class_ids[index].astype(np.int32)


def train_attngan(config, data, damsm, run_dir):
    """An AttnGAN run on `data` against `damsm` (trained, or resumed when `run_dir` holds it)."""
    import dataclasses

    from condgan.runs import train_run

    config = dataclasses.replace(config, data=str(data), damsm=str(damsm))
    return train_run(config, run_dir, resume="auto", say=lambda line: None)


def encoded_splits(data, vocabulary):
    """(train, test) of a captioned folder, encoded with `vocabulary` at the tests' size."""
    from condgan.families.damsm.data import encode_split

    return tuple(encode_split(load_caption_split(data, split, SIZE), vocabulary)
                 for split in ("train", "test"))
