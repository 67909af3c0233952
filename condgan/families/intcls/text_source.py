"""Where a GAN-INT-CLS run's sentence encoder comes from: a DAMSM run (its text encoder's
sentence feature, `condgan.families.damsm.sentence_encoder`) or a local sentence-encoder folder
(`condgan.text.sentence_encoders`).  Read from disk only; nothing is downloaded."""
from __future__ import annotations

import os
from pathlib import Path

from condgan.errors import UserError

# The encoder a run trained with, kept in its run directory: a resume and the export use this
# copy, so a DAMSM run trained further afterwards changes neither.
RUN_ENCODER_FOLDER = "sentence_encoder"


def open_sentence_encoder(source: str | os.PathLike):
    """A `KerasSentenceEncoder` from a DAMSM run folder (it has config.json) or a
    sentence-encoder folder (sentence_encoder.keras + vocabulary.json); a relative path that is
    not here is looked up in the project."""
    from condgan.text.sentence_encoders import is_sentence_encoder_folder, load_sentence_encoder

    if not str(source).strip():
        raise UserError("no sentence encoder given: set text_encoder=runs/damsm_NAME (a DAMSM run) "
                        "or a folder holding sentence_encoder.keras and vocabulary.json")
    path = source_path(source)
    if not path.is_dir():
        raise UserError(f"sentence encoder {str(source)!r} does not exist: train a DAMSM run "
                        "(python -m condgan train --config configs/damsm_shapes.py) and pass "
                        "text_encoder=runs/damsm_shapes, or pass a local folder holding "
                        "sentence_encoder.keras and vocabulary.json")
    if is_damsm_run(path):
        from condgan.families.damsm.sentence_encoder import damsm_sentence_encoder

        return damsm_sentence_encoder(path)
    if is_sentence_encoder_folder(path):
        return load_sentence_encoder(path)
    raise UserError(f"sentence encoder {str(source)!r} is neither a DAMSM run (config.json) nor a "
                    "sentence-encoder folder (sentence_encoder.keras + vocabulary.json): pass "
                    "one of those")


def source_path(source: str | os.PathLike) -> Path:
    """`source` as given, or from the project's root when it is relative and not here (a
    notebook or the web app may run elsewhere)."""
    from condgan.paths import project_path

    path = Path(source)
    return project_path(source) if not path.exists() and not path.is_absolute() else path


def is_damsm_run(source: str | os.PathLike) -> bool:
    """A run directory (config.json) rather than a sentence-encoder folder."""
    return (source_path(source) / "config.json").is_file()


def run_sentence_encoder(run_dir: Path, source: str | os.PathLike):
    """(encoder, kept): the encoder a run trains with, its own kept copy for a resumed run that
    has one (kept True), else the one at `source`."""
    from condgan.text.sentence_encoders import load_sentence_encoder

    kept = Path(run_dir) / RUN_ENCODER_FOLDER
    if (Path(run_dir) / "config.json").is_file() and kept.is_dir():
        return load_sentence_encoder(kept), True
    return open_sentence_encoder(source), False


def keep_sentence_encoder(run_dir: Path, encoder) -> None:
    """Save the run's encoder into the run directory (a staging folder renamed in; a stale copy
    in a reused folder is replaced)."""
    import shutil

    kept = Path(run_dir) / RUN_ENCODER_FOLDER
    staging = kept.with_name(f".{RUN_ENCODER_FOLDER}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    encoder.save(staging)
    shutil.rmtree(kept, ignore_errors=True)
    os.replace(staging, kept)
