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
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA
from tests.helpers import cifar10_arrays, mnist_arrays

sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import NOTEBOOKS  # noqa: E402

CIFAR_ARCHIVE = SHARED_DATA / "cifar10-jpeg.tar.gz"
# Figures each notebook must show inline: its grids and charts.
MIN_FIGURES = {"01_build_dataset": 2, "02_gan_one_class": 5, "03_cgan_cifar10": 4,
               "04_cgan_own_dataset": 5, "05_attngan_damsm": 3, "06_attngan_train": 7,
               "07_evaluate": 2, "08_bring_your_own_generator": 5, "09_digits": 11,
               "10_controllable": 11, "11_stylegan": 7}
# Started in the repository root: notebooks that need no earlier one's output and between them
# resolve every kind of path the series uses (data they write, data/ arrays, configs, shipped
# models and classifiers, an imported file, a server they start); the others resolve theirs
# through the same helper (`condgan.notebook.path`), so running all of them twice would test
# nothing more.
ROOT_SERIES = ("01", "08", "10")
# The run from notebooks/ goes as two lanes side by side (the trainings are time-budgeted, so
# two at once take the time of one), each notebook in the lane of those whose output it reads:
# 04 reads 01's arrays, 06 05's DAMSM, 07 03's model, 08 serves what 02 exported.
LANES = {"notebooks": (("01", "04", "05", "06"), ("02", "03", "07", "08", "09", "10", "11")),
         "root": (ROOT_SERIES,)}
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


# what scripts/run_notebooks.py prints as each notebook ends
TIMING_LINE = re.compile(r"^(\d\d_\w+): ([\d.]+) min -> ")


def _figures(notebook: dict) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook["cells"]
               if cell["cell_type"] == "code" for output in cell.get("outputs", []))


class BackgroundSeries:
    """Both runs of the whole series, in lanes (`LANES`) that are each a process of its own
    (`scripts/run_notebooks.py`, whose kernels are processes too); `result()` waits for them:
    {"runs": {cwd: (executed dir, workspace)}, "errors": {cwd: log tail}, "log": {cwd: text}}.

    The conftest starts it before the first test of the session, because most of the series'
    time is time-budgeted training, which takes as long whatever else runs, and the rest of the
    suite runs meanwhile; the tests that read it go last.  Processes rather than threads: the
    suite's own work (parsing sources, formatting tracebacks) shares no interpreter state with
    papermill's."""

    def __init__(self, base):
        cifar10_arrays()  # what the README's get-data steps make
        mnist_arrays()
        for made in ("data/shapes", "data/shapes_one.npz"):  # made once, before the two runs race
            if not (ROOT / made).exists():
                subprocess.run([sys.executable, "-m", "condgan", "make-shapes", "-o", made, "--size",
                                "32" if made.endswith(".npz") else "64"],
                               cwd=ROOT, check=True, capture_output=True)
        self._before = _git_status()
        self._runs, self._processes, self._result = {}, [], None
        for cwd, lanes in LANES.items():
            run_dir = base / f"series_{cwd}"
            self._runs[cwd] = (run_dir / "executed", run_dir / "runs" / "quick")
            for lane, only in enumerate(lanes):
                log_file = base / f"{cwd}_lane{lane}.log"
                with open(log_file, "w") as log:
                    process = subprocess.Popen(
                        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "--quick",
                         "--cwd", cwd, "--output-dir", str(run_dir / "executed"),
                         "--runs-root", str(run_dir / "runs"), "--only", *only],
                        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
                self._processes.append((cwd, process, log_file))

    def result(self) -> dict:
        if self._result is None:
            logs, errors = {}, {}
            for cwd, process, log_file in self._processes:
                code = process.wait()
                text = log_file.read_text()
                logs[cwd] = logs.get(cwd, "") + text
                if code != 0:
                    errors[cwd] = errors.get(cwd, "") + f"{log_file.name}: exit code {code}:\n{text[-6000:]}\n"
            self._result = {"runs": self._runs, "errors": errors, "log": logs,
                            "git_before": self._before, "git_after": _git_status()}
        return self._result

    def minutes(self) -> dict[str, dict[str, float]]:
        """{lane log: {notebook: minutes}} from the lines run_notebooks prints as each ends."""
        found = {}
        for _, _, log_file in self._processes:
            lines = log_file.read_text().splitlines()   # made when the lane started
            found[log_file.stem] = {m.group(1): float(m.group(2)) for m in map(TIMING_LINE.match, lines) if m}
        return found


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


def test_each_notebooks_minutes_are_reported(notebook_series, series):
    """The terminal summary's table (tests/conftest.py) has every notebook of each run."""
    minutes = notebook_series.minutes()
    for cwd in LANES:
        seen = {name: m for lane, found in minutes.items() if lane.startswith(f"{cwd}_lane")
                for name, m in found.items()}
        assert sorted(seen) == _run_in(cwd) and all(m >= 0 for m in seen.values()), (cwd, seen)


def _run_in(cwd: str) -> list[str]:
    return [name for name in NOTEBOOKS
            if cwd == "notebooks" or any(name.startswith(n) for n in ROOT_SERIES)]


def test_the_lanes_run_every_notebook_once_after_what_it_reads():
    """Each notebook in exactly one lane, and each reader after the notebook it reads (the order
    of NOTEBOOKS within a lane)."""
    lanes = [n for lane in LANES["notebooks"] for n in lane]
    assert sorted(lanes) == sorted(name[:2] for name in NOTEBOOKS) and len(set(lanes)) == len(lanes)
    reads = {"04": "01", "06": "05", "07": "03", "08": "02"}
    for reader, source in reads.items():
        lane = next(lane for lane in LANES["notebooks"] if reader in lane)
        assert source in lane and lane.index(source) < lane.index(reader), (reader, source)
    for lane in LANES["notebooks"]:
        assert list(lane) == sorted(lane)


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
    """scripts/run_notebooks.py logs papermill's warnings as "papermill...: WARNING: ..."."""
    noisy = [line for text in series["log"].values() for line in text.splitlines()
             if line.startswith("papermill") and "WARNING" in line
             and ("parameter" in line.lower() or "parse" in line.lower())]
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
