"""GAN-INT-CLS model folders, loaded: `models/<name>/` with the generator and the frozen
sentence encoder it was trained with.

Layout (card `kind: "gan_int_cls"`):
* `generator.keras`: [noise (latent_dim,), sentence (text_dim,)] -> image in [-1, 1]
  (`condgan.models.text_dcgan`);
* `sentence_encoder.keras` and `vocabulary.json`: the sentence encoder, a sentence-encoder
  folder's two files (`condgan.text.sentence_encoders`), so the model folder is itself a
  sentence-encoder folder;
* `card.json`: the common card fields plus text_dim, max_len, vocabulary_size, warmup_caption,
  example_caption, and the encoder it came from (`dataset.text_encoder`, and `dataset.damsm`
  when that was a DAMSM run: caption evaluation's judge by default).

`load_intcls(path)` loads both models in Keras safe mode and returns an `IntClsModel`: the
generator contract (`condgan.generator`) for captions, plus `unknown_words` and
`check_caption`.  Unknown words are dropped from the encoded caption; a caption with no known
word is refused.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from condgan.errors import UserError
from condgan.generator import Generator
from condgan.model_folder import KERAS_FILE, model_files, read_card

KIND = "gan_int_cls"


class IntClsModel(Generator):
    """An exported GAN-INT-CLS model: captions and seeds in, uint8 images out."""

    conditioning = "caption"

    def __init__(self, generator, encoder, card: Mapping, path: Path):
        super().__init__(card, path)
        self.model, self.encoder = generator, encoder
        self.noise_dim = int(card["latent_dim"])
        self.vocabulary, self.max_len = encoder.vocabulary, encoder.max_len

    def unknown_words(self, caption: str) -> list[str]:
        return self.encoder.unknown_words(caption)

    def check_caption(self, caption: str) -> list[str]:
        """Unknown words of `caption`; UserError when none of its words is known."""
        return self.encoder.check_caption(caption)

    def _prepare(self, conditions: Sequence) -> list:
        for caption in conditions:
            self.check_caption(caption)
        return list(conditions)

    def _forward_noise(self, noise, captions):
        return [self.model.predict_on_batch([noise, self.encoder.encode(captions)])]


def load_intcls(path: str | os.PathLike, card: Mapping | None = None) -> IntClsModel:
    """Load `models/<name>/` (kind gan_int_cls) in safe mode."""
    import keras

    from condgan.text.sentence_encoders import (SENTENCE_ENCODER_FILE, VOCABULARY_FILE,
                                                load_sentence_encoder)

    path = Path(path)
    card = card or read_card(path)
    if card["kind"] != KIND:
        raise UserError(f"{str(path)!r} is a {card['kind']!r} model, not a {KIND} model: load it "
                        "with condgan.load_generator")
    files = model_files(path, card, {"keras": KERAS_FILE, "sentence_encoder": SENTENCE_ENCODER_FILE,
                                     "vocabulary": VOCABULARY_FILE})
    if files[2].name != VOCABULARY_FILE:
        raise UserError(f"{str(path)!r}: its vocabulary must be named {VOCABULARY_FILE}: re-export "
                        "the model")
    generator = keras.saving.load_model(files[0], safe_mode=True, compile=False)
    encoder = load_sentence_encoder(path, encoder_file=files[1].name)
    return IntClsModel(generator, encoder, card, path)
