"""Images the user already has (`root/<class>/<image>`) as a candidate source.

Going through the same downloader as the web sources gives local images the same validation,
exact/near duplicate removal and manifest rows, so a dataset can mix both and still be built
deterministically from one manifest.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

from condgan.data.folders import list_class_folders
from condgan.scrape.downloader import DownloadOptions, Downloader, Summary
from condgan.scrape.manifest import Candidate, check_label
from condgan.scrape.validate import ImageLimits

NAME = "local"
LICENSE = "own images (licence as the user holds it)"


class LocalFolderSource:
    name = NAME

    def __init__(self, root: str | os.PathLike, classes: Sequence[str] | None = None) -> None:
        self.root = Path(root).resolve()
        self.classes, files = list_class_folders(self.root, classes)
        self._files = [(Path(path), self.classes[label]) for path, label in files]

    def candidates(self, query: str, label: str) -> Iterator[Candidate]:
        """The files of class folder `label` (query is unused: the folder is the query)."""
        for path, name in self._files:
            if name != label:
                continue
            relative = path.relative_to(self.root).as_posix()
            yield Candidate(key=f"{NAME}:{relative}", source=NAME, label=check_label(name),
                            query=f"folder {self.root.name}/{name}", url=path.as_uri(),
                            page_url="", author="", license=LICENSE)


def import_local_folders(root: str | os.PathLike, out: str | os.PathLike, *,
                         classes: Sequence[str] | None = None,
                         options: DownloadOptions | None = None) -> dict[str, Summary]:
    """Copy every class folder under `root` into `out` through the downloader; one summary per class.

    Without `options`, no size floor: the user chose these images, only undecodable ones go.
    """
    source = LocalFolderSource(root, classes)
    downloader = Downloader(out, options or DownloadOptions(limits=ImageLimits(min_side=1)))
    try:
        return {name: downloader.run(source.candidates("", name), name, limit=None)
                for name in source.classes}
    finally:
        downloader.close()
