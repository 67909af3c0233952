"""A restricted unpickler: pickles are code, so only plain data may come out of them.

`safe_load` admits the builtin containers and scalars (what AttnGAN's `captions.pickle` and
`filenames.pickle` hold).  `allow_numpy=True` also admits the handful of numpy constructors
that the original CIFAR-10 python batches use to rebuild arrays; nothing else can be imported,
so a malicious pickle that names `os.system` raises instead of running.
"""
from __future__ import annotations

import io
import pickle
from typing import Any, BinaryIO

from condgan.errors import UserError

_BUILTINS = {"list", "dict", "tuple", "set", "frozenset", "str", "bytes", "bytearray",
             "int", "float", "bool", "complex"}
_NUMPY = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    # Protocol-2 pickles written by Python 3 store array bytes as latin-1 text re-encoded
    # through _codecs.encode, a pure function.
    ("_codecs", "encode"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, allow_numpy: bool, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.allow_numpy = allow_numpy

    def find_class(self, module: str, name: str) -> Any:
        if module in ("builtins", "__builtin__") and name in _BUILTINS:
            return super().find_class("builtins", name)
        if self.allow_numpy and (module, name) in _NUMPY:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a pickle: only plain "
                                     "data (lists, dicts, strings, numbers) is allowed")


def safe_load(source: bytes | BinaryIO, *, allow_numpy: bool = False, encoding: str = "ASCII",
              name: str = "pickle") -> Any:
    """Unpickle plain data only; anything else raises UserError naming `name`."""
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        return _RestrictedUnpickler(file, allow_numpy, encoding=encoding).load()
    except pickle.UnpicklingError as error:
        raise UserError(f"{name}: {error}") from None
