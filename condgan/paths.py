"""Where the project's files are, whatever the working directory.

Notebooks, scripts and the web app name project files (`configs/cgan_cifar10.py`,
`models/classifiers/cifar10`, `data/cifar10`) relative to the repository root.  Jupyter may be
started in the root or in `notebooks/`, a script anywhere: `project_path` gives the same file in
every case.  (The command line keeps the shell's rule: its paths are relative to the working
directory.)
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from condgan.errors import UserError

# A folder is the project root when it holds these (the package itself and the configs).
_MARKERS = ("condgan/__init__.py", "configs", "pyproject.toml")


def _is_root(folder: Path) -> bool:
    return all((folder / marker).exists() for marker in _MARKERS)


@lru_cache(maxsize=1)
def project_root() -> Path:
    """The checkout this package was installed from (`pip install -e .`), or else the nearest
    folder at or above the working directory that holds the project."""
    here = Path(__file__).resolve().parents[1]
    if _is_root(here):
        return here
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if _is_root(folder):
            return folder
    raise UserError("cannot find the condgan checkout (a folder with configs/ and condgan/): "
                    "install it with `pip install -e .` from the clone, or start from inside it")


def project_path(path: str | os.PathLike) -> Path:
    """`path` itself when absolute, else the same path under the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else project_root() / path
