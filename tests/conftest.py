"""Test-wide settings: CPU TensorFlow, quiet logs, deterministic ops, no network."""
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402


# the notebook series of this session (or None), for the terminal summary
SERIES_KEY = pytest.StashKey()


def _reads_the_series(item) -> bool:
    return "series" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    """The tests that read the notebook series go last: the series runs in the background
    meanwhile (see `notebook_series`)."""
    items[:] = [i for i in items if not _reads_the_series(i)] + [i for i in items if _reads_the_series(i)]


@pytest.fixture(scope="session", autouse=True)
def notebook_series(request, tmp_path_factory):
    """The notebook series (tests/test_notebooks.py), started before the first test when a
    selected test reads it, so that its time-budgeted trainings overlap the rest of the suite;
    None otherwise.  Teardown waits for it: no kernel outlives the session."""
    from tests.test_notebooks import HAVE_CIFAR10, BackgroundSeries

    wanted = HAVE_CIFAR10 and any(_reads_the_series(item) for item in request.session.items)
    series = BackgroundSeries(tmp_path_factory.mktemp("notebooks")) if wanted else None
    request.config.stash[SERIES_KEY] = series
    yield series
    if series is not None:
        series.result()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Each notebook's minutes in the series, per lane: where the suite's time goes."""
    series = config.stash.get(SERIES_KEY, None)
    if series is None:
        return
    terminalreporter.section("notebook series (quick), minutes per notebook")
    for lane, minutes in series.minutes().items():
        terminalreporter.write_line(f"{lane}: " + ", ".join(f"{n} {m:.1f}" for n, m in minutes.items()))
