"""DAMSM text encoder (AttnGAN `RNN_ENCODER`, Xu et al. 2018, sec. 3.3), in Keras 3.

tokens (B, T) int32 + lengths (B,) -> word features (B, D, T) and sentence feature (B, D).

* Embedding (uniform +-0.1 init, as AttnGAN), dropout 0.5, one bidirectional LSTM layer with
  D/2 units per direction.  The padded positions are masked, so the forward state stops at the
  last real word and the backward state starts there: the same as PyTorch's packed sequences.
* Word features are the concatenated per-step outputs, zero at padding (`pad_packed_sequence`);
  the sentence feature is the concatenated final hidden states of both directions.
* `fc=True` (the default) adds the seed project's extra fully connected layer on both the word
  and the sentence features (a Dense D -> D each); its measured effect is in docs/attngan.md.

Features are channels-first (B, D, T) like AttnGAN's, so the attention code of part 2 reads the
same as the paper; `keras.ops.transpose(words, (0, 2, 1))` gives (B, T, D).
"""
from __future__ import annotations

import keras
from keras import layers, ops


def word_mask(lengths, steps):
    """(B, steps) bool: True on a caption's real words, False on its padding; `lengths` (B,) or
    (B, 1)."""
    return ops.arange(steps)[None, :] < ops.cast(ops.reshape(lengths, (-1,)), "int32")[:, None]


@keras.saving.register_keras_serializable(package="condgan")
class DamsmTextEncoder(keras.Model):
    def __init__(self, vocab_size: int, dim: int = 256, embed_dim: int = 300,
                 dropout: float = 0.5, fc: bool = True, **kwargs):
        super().__init__(**kwargs)
        if dim % 2:
            raise ValueError(f"text feature size {dim} must be even (two LSTM directions)")
        self.vocab_size, self.dim, self.embed_dim = vocab_size, dim, embed_dim
        self.dropout_rate, self.fc = dropout, fc
        init = keras.initializers.RandomUniform(-0.1, 0.1)
        self.embedding = layers.Embedding(vocab_size, embed_dim, embeddings_initializer=init,
                                          name="embedding")
        self.drop = layers.Dropout(dropout)
        self.rnn = layers.Bidirectional(
            layers.LSTM(dim // 2, return_sequences=True, return_state=True), name="bilstm")
        if fc:
            self.word_fc = layers.Dense(dim, name="word_fc")
            self.sent_fc = layers.Dense(dim, name="sent_fc")

    def call(self, tokens, lengths, training=False):
        """tokens (B, T) int, lengths (B,) int >= 1 -> (words (B, D, T), sentence (B, D))."""
        steps = ops.shape(tokens)[1]
        mask = word_mask(lengths, steps)
        x = self.drop(self.embedding(tokens), training=training)
        outputs, h_fwd, _, h_bwd, _ = self.rnn(x, mask=mask, training=training)
        sentence = ops.concatenate([h_fwd, h_bwd], axis=-1)
        words = outputs
        if self.fc:
            words, sentence = self.word_fc(words), self.sent_fc(sentence)
        words = words * ops.cast(mask, words.dtype)[:, :, None]  # zeros at padding
        return ops.transpose(words, (0, 2, 1)), sentence

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim,
                "embed_dim": self.embed_dim, "dropout": self.dropout_rate, "fc": self.fc}


def build_text_encoder(vocab_size: int, dim: int = 256, embed_dim: int = 300,
                       dropout: float = 0.5, fc: bool = True, max_len: int = 18) -> DamsmTextEncoder:
    """A built encoder (variables created), ready for checkpoint restore."""
    encoder = DamsmTextEncoder(vocab_size, dim, embed_dim, dropout, fc)
    encoder(ops.zeros((1, max_len), "int32"), ops.ones((1,), "int32"))
    return encoder
