"""The protocol record stored beside every metric value.

A FID number means little without how it was measured: FID is biased in the number of
samples (Binkowski et al. 2018; Chong & Forsyth 2020), depends on the feature network and its
exact weights, and on how images are resized (Parmar et al. 2022, "clean-fid").  So each
metric in `card.json` carries this record, and two numbers are comparable only when their
protocols agree on everything but the date.
"""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from condgan.basics import library_versions, sha256_file


def make_protocol(*, num_generated: int | None, num_reference: int | None, split: str | None,
                  feature_network: str, weights_fingerprint: str | None, resize: str,
                  seed: int | None, **extra: Any) -> dict[str, Any]:
    """Everything needed to reproduce (or refuse to compare) a metric value."""
    record = {
        "num_generated": num_generated,
        "num_reference": num_reference,
        "reference_split": split,
        "feature_network": feature_network,
        "weights_fingerprint": weights_fingerprint,
        "resize": resize,
        "seed": seed,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
    }
    record.update(extra)
    return record


def model_fingerprint(path: str | os.PathLike | None) -> str | None:
    return sha256_file(path) if path is not None and Path(path).is_file() else None
