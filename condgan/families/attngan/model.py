"""AttnGAN model folders, loaded: `models/<name>/` with the generator, the text encoder, the
vocabulary.

Layout (card `kind: "attngan"`):
* `generator.keras`: the EMA generator, inputs [noise (Z,), ca_noise (C,), sentence (D,),
  words (D, T), lengths ()] -> [image per stage in [-1, 1], mu, logvar, word attention maps
  per attentional stage] (`condgan.models.attngan_generator`); the last stage's image is the
  output, the rest feed `AttnGANModel.attention`;
* `text_encoder.keras`: the frozen DAMSM text encoder as a functional model
  [tokens (T,) int32, lengths () int32] -> [words (D, T), sentence (D,)];
* `vocabulary.json`: the DAMSM vocabulary (`condgan.text.Vocabulary`);
* `card.json`: the common card fields plus z_dim, condition_dim, max_len, stages,
  vocabulary_size, warmup_caption and example_caption (a held-out caption of its data).

`load_attngan(path)` loads both models in Keras safe mode and returns an `AttnGANModel`: the
generator contract (`condgan.generator`) for captions, plus `unknown_words`, `check_caption`
and `attention`.  Words missing from the vocabulary are dropped from the encoded caption (as
AttnGAN does) and reported by `unknown_words`; a caption with no known word is refused.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from condgan.basics import seed_noise, to_uint8
from condgan.errors import UserError
from condgan.generator import Generator
from condgan.model_folder import KERAS_FILE, model_files, read_card

# the first stage's word attention layer, as condgan.models.attngan_generator names it
FIRST_STAGE_ATTENTION = "init_words_attn"

TEXT_ENCODER_FILE = "text_encoder.keras"
VOCABULARY_FILE = "vocabulary.json"


def noise_for_seeds(seeds: Sequence[int], z_dim: int, condition_dim: int):
    """(z (N, Z), eps (N, C)) float32: one standard-normal draw of Z + C numbers per seed."""
    both = seed_noise(seeds, z_dim + condition_dim)
    return both[:, :z_dim], both[:, z_dim:]


def text_encoder_model(text_encoder, max_len: int):
    """The DAMSM encoder (a subclassed model with two call arguments) as a functional model,
    which saves and loads in safe mode like any other."""
    import keras
    tokens = keras.Input((max_len,), dtype="int32", name="tokens")
    lengths = keras.Input((), dtype="int32", name="lengths")
    words, sentence = text_encoder(tokens, lengths, training=False)
    return keras.Model([tokens, lengths], [words, sentence], name="text_encoder")


class AttnGANModel(Generator):
    """An exported AttnGAN: captions and seeds in, uint8 images out."""

    conditioning = "caption"

    def __init__(self, generator, text_encoder, vocabulary, card: Mapping, path: Path):
        super().__init__(card, path)
        self.model, self.text_encoder, self.vocabulary = generator, text_encoder, vocabulary
        self.z_dim, self.condition_dim = int(card["z_dim"]), int(card["condition_dim"])
        # One seed's noise is z, then the conditioning augmentation's (`noise_for_seeds`).
        self.noise_dim, self.condition_noise_dim = self.z_dim + self.condition_dim, self.condition_dim
        self.max_len = int(card["max_len"])
        self.stages = int(card["stages"])
        self.image_output = self.stages - 1
        self._attending = None   # built by _attention_network on first use

    def unknown_words(self, caption: str) -> list[str]:
        return self.vocabulary.unknown_words(caption)

    def check_caption(self, caption: str) -> list[str]:
        """Unknown words of `caption`; UserError when none of its words is known."""
        return self.vocabulary.check_caption(caption)

    def _prepare(self, conditions: Sequence) -> list:
        for caption in conditions:
            self.check_caption(caption)
        return list(conditions)

    def _forward_noise(self, noise, captions, network=None):
        from condgan.text import encode_texts
        tokens, lengths = encode_texts(captions, self.vocabulary, self.max_len)
        z, eps = noise[:, :self.z_dim], noise[:, self.z_dim:]
        words, sentence = self.text_encoder.predict_on_batch([tokens, lengths])
        return (network or self.model).predict_on_batch(
            [z, eps, np.asarray(sentence), np.asarray(words), lengths])

    def _attention_network(self):
        """The generator, with its first stage's word attention map as one more output when the
        first stage attends over the words (`initial_word_attention`); else the generator."""
        if self._attending is None:
            import keras
            if any(layer.name == FIRST_STAGE_ATTENTION for layer in self.model.layers):
                first = self.model.get_layer(FIRST_STAGE_ATTENTION).output[1]
                self._attending = keras.Model(self.model.inputs, [*self.model.outputs, first])
            else:
                self._attending = self.model
        return self._attending

    @property
    def word_attention(self) -> bool:
        """Whether its later stages attend over the caption's words (AttnGAN; not StackGAN)."""
        return len(self.model.outputs) > self.stages + 2

    def attention(self, caption: str, seed: int = 0) -> dict:
        """One caption's images per stage (uint8) and, per attentional stage, the attention
        map of each known word over that stage's input sub-regions (words x h x w); "stages"
        numbers the stage (from 1) whose image each map belongs to.  A first stage that attends
        over the words (8x8 cells after its first up-block) comes first."""
        from condgan.text import tokenize
        self.check_caption(caption)
        network = self._attention_network()
        outputs = self._run([int(seed)], [caption], forward=lambda seeds, captions: self._forward_noise(
            self.noise_for_seeds(seeds), captions, network))
        words = [w for w in tokenize(caption) if w in self.vocabulary][:self.max_len]
        later = outputs[self.stages + 2:len(self.model.outputs)]
        first = outputs[len(self.model.outputs):]
        stages = [1] * len(first) + list(range(2, 2 + len(later)))
        return {"images": [to_uint8(o[0]) for o in outputs[:self.stages]], "words": words,
                "maps": [o[0, :len(words)] for o in [*first, *later]], "stages": stages}


def load_attngan(path: str | os.PathLike, card: Mapping | None = None) -> AttnGANModel:
    """Load `models/<name>/` (kind attngan) in safe mode."""
    import keras

    import condgan.models  # noqa: F401  registers the foundation's custom layers
    import condgan.models.attngan_generator  # noqa: F401  registers GLU, CA, WordAttention
    import condgan.models.damsm_text  # noqa: F401  registers DamsmTextEncoder
    from condgan.text import Vocabulary

    path = Path(path)
    card = card or read_card(path)
    if card["kind"] != "attngan":
        raise UserError(f"{str(path)!r} is a {card['kind']!r} model, not a caption model: load it "
                        "with condgan.load_generator")
    needed = model_files(path, card, {"keras": KERAS_FILE, "text_encoder": TEXT_ENCODER_FILE,
                                      "vocabulary": VOCABULARY_FILE})
    generator = keras.saving.load_model(needed[0], safe_mode=True, compile=False)
    with warnings.catch_warnings():
        # The nested subclassed DAMSM encoder cannot build from its build config; the functional
        # wrapper builds it by calling it, and its weights load after that (round trip tested).
        warnings.filterwarnings("ignore", message=".*cannot be built automatically.*")
        text_encoder = keras.saving.load_model(needed[1], safe_mode=True, compile=False)
    return AttnGANModel(generator, text_encoder, Vocabulary.load(needed[2]), card, path)
