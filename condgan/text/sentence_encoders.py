"""Sentence encoders: captions in, one float32 vector per caption out.

A text-to-image model conditioned on a sentence embedding (GAN-INT-CLS) needs only this of its
text side, so any encoder that keeps the `SentenceEncoder` protocol can condition it:

    encoder.dim                       # embedding width
    encoder.encode(["a red circle"])  # float32 (N, dim)
    encoder.unknown_words(caption)    # the caption's words the encoder ignores
    encoder.check_caption(caption)    # the same, UserError when it knows none of them

`KerasSentenceEncoder` is the one implementation: a Keras model taking token ids (N, T) int32
(padded with 0, the vocabulary's `<end>`), and optionally their lengths (N,) int32 as a second
input, returning (N, dim), with the project's vocabulary (`condgan.text.vocabulary`).  On disk it
is a **sentence-encoder folder**: `sentence_encoder.keras` (loaded in Keras safe mode) and
`vocabulary.json`.  Such a folder may hold a pretrained encoder exported to Keras (a CLIP-style
text tower) or the DAMSM text encoder a DAMSM run trained (`condgan.families.damsm.
sentence_encoder` wraps one); a model folder of a sentence-conditioned family carries one too.
Nothing is ever downloaded: a folder is read from where it is.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from condgan.errors import UserError

SENTENCE_ENCODER_FILE = "sentence_encoder.keras"
VOCABULARY_FILE = "vocabulary.json"


@runtime_checkable
class SentenceEncoder(Protocol):
    dim: int

    def encode(self, captions: Sequence[str]) -> np.ndarray:
        """float32 (N, dim): one embedding per caption."""

    def unknown_words(self, caption: str) -> list[str]:
        """The words of `caption` the encoder does not know (they are dropped)."""

    def check_caption(self, caption: str) -> list[str]:
        """`unknown_words`; UserError when none of the caption's words is known."""


class KerasSentenceEncoder:
    """A Keras text tower with its vocabulary (see the module docstring for its inputs)."""

    def __init__(self, model, vocabulary, description: str = "sentence encoder"):
        from condgan.text.vocabulary import MAX_LEN

        if len(model.inputs) not in (1, 2) or len(model.outputs) != 1:
            raise UserError(f"{description} must take token ids (and optionally their lengths) "
                            f"and return one (N, dim) embedding; it has {len(model.inputs)} "
                            f"inputs and {len(model.outputs)} outputs: export the text tower alone")
        shape = tuple(model.outputs[0].shape)
        if len(shape) != 2 or shape[1] is None:
            raise UserError(f"{description} returns shape {shape}; a sentence encoder returns "
                            "(N, dim): pool its token features inside the model")
        self.model, self.vocabulary, self.description = model, vocabulary, description
        self.dim = int(shape[1])
        # A tower with a fixed context takes exactly that many tokens; otherwise AttnGAN's 18.
        self.max_len = int(model.inputs[0].shape[1] or MAX_LEN)
        self.takes_lengths = len(model.inputs) == 2

    def tokens(self, captions: Sequence[str]):
        """(token ids (N, max_len) int32, lengths (N,) int32), deterministic."""
        from condgan.text.vocabulary import encode_texts

        return encode_texts(list(captions), self.vocabulary, self.max_len)

    def encode(self, captions: Sequence[str]) -> np.ndarray:
        tokens, lengths = self.tokens(captions)
        return self.encode_tokens(tokens, lengths)

    def encode_tokens(self, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        inputs = [tokens, lengths] if self.takes_lengths else tokens
        # predict_on_batch runs a compiled function: several times faster than an eager call.
        return np.asarray(self.model.predict_on_batch(inputs), dtype=np.float32)

    def unknown_words(self, caption: str) -> list[str]:
        return self.vocabulary.unknown_words(caption)

    def check_caption(self, caption: str) -> list[str]:
        return self.vocabulary.check_caption(caption)

    def save(self, folder: str | os.PathLike) -> dict[str, str]:
        """Write the sentence-encoder folder's two files into `folder` (made if missing);
        returns role -> file."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save(folder / SENTENCE_ENCODER_FILE)
        self.vocabulary.save(folder / VOCABULARY_FILE)
        return {"sentence_encoder": SENTENCE_ENCODER_FILE, "vocabulary": VOCABULARY_FILE}


def is_sentence_encoder_folder(path: str | os.PathLike) -> bool:
    path = Path(path)
    return (path / VOCABULARY_FILE).is_file() and bool(_keras_files(path))


def load_sentence_encoder(path: str | os.PathLike, encoder_file: str | None = None
                          ) -> KerasSentenceEncoder:
    """A sentence-encoder folder: `sentence_encoder.keras` (or the folder's one `.keras` file,
    or `encoder_file`) and `vocabulary.json`, the model loaded in safe mode."""
    import keras

    import condgan.models  # noqa: F401  registers the custom layers before deserialising
    import condgan.models.damsm_text  # noqa: F401  a wrapped DAMSM text encoder deserialises
    from condgan.text.vocabulary import Vocabulary

    path = Path(path)
    how = ("a sentence-encoder folder holds sentence_encoder.keras (a Keras model taking token "
           "ids, returning (N, dim)) and vocabulary.json (condgan.text.Vocabulary.save)")
    if not path.is_dir():
        raise UserError(f"sentence encoder {str(path)!r} is not a folder: pass a DAMSM run "
                        f"(runs/damsm_NAME) or a local sentence-encoder folder; {how}")
    if encoder_file is not None:
        if Path(encoder_file).name != encoder_file or not (path / encoder_file).is_file():
            raise UserError(f"{str(path)!r} lacks {encoder_file!r}: re-export the model")
        model_file = path / encoder_file
    else:
        candidates = _keras_files(path)
        if not candidates:
            raise UserError(f"{str(path)!r} holds no .keras model: {how}")
        if len(candidates) > 1 and not (path / SENTENCE_ENCODER_FILE).is_file():
            raise UserError(f"{str(path)!r} holds several .keras files "
                            f"({', '.join(p.name for p in candidates)}): name the text tower "
                            f"{SENTENCE_ENCODER_FILE}")
        model_file = path / SENTENCE_ENCODER_FILE if len(candidates) > 1 else candidates[0]
    if not (path / VOCABULARY_FILE).is_file():
        raise UserError(f"{str(path)!r} has no {VOCABULARY_FILE}: {how}")
    vocabulary = Vocabulary.load(path / VOCABULARY_FILE)
    try:
        with warnings.catch_warnings():
            # A wrapped subclassed encoder (DAMSM) cannot build from its build config; the
            # functional wrapper builds it by calling it, and its weights load after that.
            warnings.filterwarnings("ignore", message=".*cannot be built automatically.*")
            model = keras.saving.load_model(model_file, safe_mode=True, compile=False)
    except (ValueError, TypeError, OSError) as error:
        raise UserError(f"cannot load {str(model_file)!r} in Keras safe mode ({error}): save the "
                        "text tower with model.save('sentence_encoder.keras') from Keras 3, "
                        "built from Keras layers only (no Lambda layers)") from None
    return KerasSentenceEncoder(model, vocabulary, f"sentence encoder {str(model_file)!r}")


def _keras_files(path: Path) -> list[Path]:
    return sorted(p for p in path.glob("*.keras") if p.is_file())
