"""Caption text processing: AttnGAN's tokeniser and the word vocabulary (see docs/attngan.md)."""
from condgan.text.tokenizer import tokenize, tokenize_all
from condgan.text.vocabulary import (END, MAX_LEN, Vocabulary, build_vocabulary, encode_texts,
                                     fit_length, pad_captions)

__all__ = ["END", "MAX_LEN", "Vocabulary", "build_vocabulary", "encode_texts", "fit_length",
           "pad_captions", "tokenize", "tokenize_all"]
