"""The notebook series, as a new user runs it: every notebook top to bottom in a real Jupyter
kernel with `quick=True` started in `notebooks/` (as Jupyter opened there), and, at the same
time, the notebooks of `ROOT_SERIES` with the kernel started in the repository root, through
`scripts/run_notebooks.py`.

Checks: each executed notebook shows its figures inline (image/png outputs), papermill accepts
the parameters without warnings, each training notebook exported its model with the right card
into the series' workspace, and nothing tracked by git changed (no shipped model, card, figure
or notebook).  CIFAR-10 comes from the shared data folder (`get-data cifar10 --from ...`);
nothing is downloaded.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA
from tests.helpers import cifar10_arrays, mnist_arrays

sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import NOTEBOOKS, run_series  # noqa: E402

CIFAR_ARCHIVE = SHARED_DATA / "cifar10-jpeg.tar.gz"
# Figures each notebook must show inline: its grids and charts.
MIN_FIGURES = {"01_build_dataset": 2, "02_gan_one_class": 5, "03_cgan_cifar10": 4,
               "04_cgan_own_dataset": 5, "05_attngan_damsm": 3, "06_attngan_train": 7,
               "07_evaluate": 2, "08_bring_your_own_generator": 5, "09_digits": 11,
               "10_controllable": 11, "11_stylegan": 7}
# Started in the repository root: notebooks that need no earlier one's output and between them
# resolve every kind of path the series uses (data they write, data/ arrays, shipped models and
# classifiers, an imported file, a server they start); the others resolve theirs through the
# same helper (`condgan.notebook.path`), so running all of them twice would test nothing more.
ROOT_SERIES = ("01", "05", "08", "10")
# Models the series exports into its workspace, and what their cards must say.
EXPORTED = {"gan_horse_nb": ("gan", None), "cgan_cifar10_nb": ("cgan", 10),
            "cgan_mine_nb": ("cgan", 3), "attngan_shapes_nb": ("attngan", None),
            "legacy_cgan_nb": ("cgan", 10), "cgan_digits_nb": ("cgan", 10),
            "cvae_digits_nb": ("cvae", 10), "gan_shapes_nb": ("gan", None),
            "stylegan_shapes_nb": ("stylegan", None)}

HAVE_CIFAR10 = CIFAR_ARCHIVE.exists() or (ROOT / "data/cifar10/train.npz").exists()
pytestmark = pytest.mark.skipif(not HAVE_CIFAR10,
                                reason="no CIFAR-10: neither data/cifar10 nor the shared archive")


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


class _PapermillWarnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _figures(notebook: dict) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook["cells"]
               if cell["cell_type"] == "code" for output in cell.get("outputs", []))


class BackgroundSeries:
    """Both runs of the whole series, started in threads (the kernels are processes of their
    own); `result()` waits for them: {"runs": {cwd: (executed dir, workspace)}, ...}.

    The conftest starts it before the first test of the session, because most of the series'
    time is time-budgeted training, which takes as long whatever else runs, and the rest of the
    suite runs meanwhile; the tests that read it go last."""

    def __init__(self, base):
        cifar10_arrays()  # what the README's get-data steps make
        mnist_arrays()
        for made in ("data/shapes", "data/shapes_one.npz"):  # made once, before the two runs race
            if not (ROOT / made).exists():
                subprocess.run([sys.executable, "-m", "condgan", "make-shapes", "-o", made, "--size",
                                "32" if made.endswith(".npz") else "64"],
                               cwd=ROOT, check=True, capture_output=True)
        self._before, self._started_in = _git_status(), Path.cwd()
        self._warnings = _PapermillWarnings()
        logging.getLogger("papermill").addHandler(self._warnings)
        self._runs, self._errors, self._result = {}, {}, None
        self._threads = [threading.Thread(target=self._run, args=(cwd, base / f"series_{cwd}"))
                         for cwd in ("notebooks", "root")]
        for thread in self._threads:
            thread.start()

    def _run(self, cwd, base):
        try:
            run_series(True, only=ROOT_SERIES if cwd == "root" else (), cwd=cwd,
                       output_dir=str(base / "executed"),
                       runs_root=str(base / "runs"), log=lambda line: None)
        except Exception as error:  # noqa: BLE001 - reported by the test that reads it
            self._errors[cwd] = error
        self._runs[cwd] = (base / "executed", base / "runs" / "quick")

    def result(self) -> dict:
        if self._result is None:
            for thread in self._threads:
                thread.join()
            logging.getLogger("papermill").removeHandler(self._warnings)
            self._result = {"runs": self._runs, "errors": self._errors,
                            "warnings": self._warnings.messages, "git_before": self._before,
                            "git_after": _git_status(), "cwd_before": self._started_in,
                            "cwd_after": Path.cwd()}
        return self._result


@pytest.fixture(scope="module")
def series(notebook_series):
    return notebook_series.result()


@pytest.mark.parametrize("cwd", ["notebooks", "root"])
def test_every_notebook_runs_top_to_bottom_and_shows_its_figures(series, cwd):
    assert cwd not in series["errors"], series["errors"].get(cwd)
    executed, _ = series["runs"][cwd]
    for name in _run_in(cwd):
        notebook = json.loads((executed / f"{name}.ipynb").read_text())
        assert _figures(notebook) >= MIN_FIGURES[name], (cwd, name, _figures(notebook))
        text = json.dumps(notebook["cells"])
        assert "this notebook ran for" in text, (cwd, name)


def _run_in(cwd: str) -> list[str]:
    return [name for name in NOTEBOOKS
            if cwd == "notebooks" or any(name.startswith(n) for n in ROOT_SERIES)]


def test_running_the_series_leaves_this_process_where_it_was(series):
    """The later tests resolve models/ from here; the series must not move the process."""
    assert series["cwd_after"] == series["cwd_before"]


def test_every_parameters_cell_parses(caplog):
    """papermill reads each parameter (a comment with quotes or '=' would hide it)."""
    import papermill

    for name in NOTEBOOKS:
        text = (ROOT / "notebooks" / f"{name}.ipynb").read_text()
        source = "".join(next(c for c in json.loads(text)["cells"]
                              if "parameters" in c["metadata"].get("tags", []))["source"])
        names = [line.split("=")[0].strip() for line in source.splitlines()
                 if line and not line.startswith("#")]
        with caplog.at_level(logging.WARNING, logger="papermill"):
            found = papermill.inspect_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"))
        assert list(found) == names, (name, list(found), names)
        assert "quick" in found and "runs_root" in found
    assert not [r for r in caplog.records if r.name.startswith("papermill")]


def test_papermill_takes_the_parameters_without_warnings(series):
    noisy = [m for m in series["warnings"] if "parameter" in m.lower() or "parse" in m.lower()]
    assert not noisy, noisy


@pytest.mark.parametrize("cwd", ["notebooks", "root"])
def test_the_series_exports_its_models_into_its_workspace(series, cwd):
    _, workspace = series["runs"][cwd]
    exported = {name: what for name, what in EXPORTED.items()
                if (workspace / "models" / name).exists() or cwd == "notebooks"}
    if cwd == "root":   # the root series' own notebooks export these two
        assert set(exported) == {"legacy_cgan_nb", "gan_shapes_nb"}, sorted(exported)
    for name, (kind, classes) in exported.items():
        card = json.loads((workspace / "models" / name / "card.json").read_text())
        assert card["kind"] == kind, (name, card["kind"])
        if classes:
            assert len(card["classes"]) == classes
        assert "/tmp/" not in json.dumps(card) and str(Path.home()) not in json.dumps(card)
    if cwd == "root":
        return
    # notebook 07 measured the notebook-03 model into its own card
    card = json.loads((workspace / "models" / "cgan_cifar10_nb" / "card.json").read_text())
    assert card["metrics"]["classifier_accuracy"]["protocol"]["num_generated"] == 1000
    arrays = json.loads((workspace / "data" / "mine.json").read_text())
    assert arrays["classes"] == ["cat", "dog", "horse"] and arrays["num_images"] == 600


def test_running_the_series_changes_nothing_tracked(series):
    """No shipped model, card, figure or notebook changes: what the series writes is under its
    workspace (and data/, which git ignores)."""
    assert series["git_after"] == series["git_before"]
