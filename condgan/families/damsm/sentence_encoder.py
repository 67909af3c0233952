"""A DAMSM run's text encoder as a sentence encoder (`condgan.text.sentence_encoders`): the
sentence feature (the BiLSTM's final states, through its `sent_fc`) of the encoder AttnGAN
trains against, with the run's vocabulary and caption length."""
from __future__ import annotations

import os


def damsm_sentence_encoder(run_dir: str | os.PathLike):
    """A `KerasSentenceEncoder` of the DAMSM run's newest checkpoint: [tokens, lengths] ->
    sentence (N, dim), saveable as a sentence-encoder folder and loadable in safe mode."""
    import keras

    from condgan.families.attngan.model import text_encoder_model
    from condgan.families.damsm.family import load_damsm
    from condgan.text.sentence_encoders import KerasSentenceEncoder

    text_encoder, _, vocabulary, config = load_damsm(run_dir)
    text_encoder.trainable = False
    both = text_encoder_model(text_encoder, config.max_len)   # [words, sentence], as AttnGAN's
    sentence_only = keras.Model(both.inputs, both.outputs[1], name="damsm_sentence_encoder")
    return KerasSentenceEncoder(sentence_only, vocabulary, f"the DAMSM text encoder of {run_dir}")
