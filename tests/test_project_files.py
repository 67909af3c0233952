"""What a fresh clone's user reads and installs: Jupyter comes with the runtime requirements,
the project installs as a package (no `sys.path.insert` anywhere), docs, configs and shipped
cards name no machine-local path, issue or session, and the notebooks' full runs use the
shipped models' own recipes."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READ_BY_USERS = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *(ROOT / "docs").glob("*.md"),
                 *(ROOT / "configs").glob("*.py"), *(ROOT / "models").rglob("card.json"),
                 *(ROOT / "notebooks").glob("[!.]*.ipynb")]   # not a run in progress (.NN.partial)
LOCAL = re.compile(r"/tmp/|\.\./shared|/work/|/root/|/home/\w+")
HISTORY = re.compile(r"\b(issue|session)s? ?#?\d+|\b(first|second|third|fourth|fifth|sixth|seventh|"
                     r"eighth|ninth|tenth) session", re.IGNORECASE)


def test_runtime_requirements_bring_jupyter_and_install_condgan():
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    names = {re.split(r"[=<>\s]", line)[0].lower() for line in requirements if line and not line.startswith("#")}
    assert {"jupyterlab", "nbconvert", "ipykernel", "papermill"} <= names
    assert "-e ." in [line.split("#")[0].strip() for line in requirements]


@pytest.mark.skipif(shutil.which("jupyter") is None, reason="requirements.txt not installed")
@pytest.mark.parametrize("command", [["jupyter", "lab", "--version"], ["jupyter", "nbconvert", "--version"]])
def test_the_notebook_commands_exist(command):
    assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0


def test_nothing_adds_itself_to_sys_path():
    code = [*ROOT.glob("condgan/**/*.py"), *ROOT.glob("dataset/*.py"), *ROOT.glob("bench/*.py"),
            *ROOT.glob("scripts/*.py"), *ROOT.glob("FlaskApp/*.py"), *ROOT.glob("notebooks/*.ipynb")]
    assert [str(f.relative_to(ROOT)) for f in code if "sys.path.insert" in f.read_text()] == []


@pytest.mark.parametrize("file", READ_BY_USERS, ids=lambda f: str(f.relative_to(ROOT)))
def test_what_users_read_names_no_local_path_issue_or_session(file):
    text = file.read_text()
    if file.suffix == ".ipynb":  # outputs included: scripts/run_notebooks.py writes them portable
        text = "".join("".join(c["source"]) for c in json.loads(text)["cells"]) + text
    assert LOCAL.findall(text) == [] and HISTORY.findall(text) == []


def test_executed_notebooks_name_paths_relative_to_the_repository(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from run_notebooks import portable

    root, home = ROOT, Path.home()
    notebook = {"cells": [{"cell_type": "code", "source": f"x = '{root}/keep'", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": [f"workspace: {root}/runs/notebooks/full\n"]},
        {"output_type": "display_data", "data": {"text/plain": [f"{home}/.keras/models/w.h5"]}}]}],
        "metadata": {"papermill": {"input_path": f"{root}/notebooks/a.ipynb"}}}
    file = tmp_path / "a.ipynb"
    file.write_text(json.dumps(notebook))
    portable(file, root)
    cleaned = json.loads(file.read_text())
    outputs = cleaned["cells"][0]["outputs"]
    assert outputs[0]["text"] == ["workspace: runs/notebooks/full\n"]
    assert outputs[1]["data"]["text/plain"] == ["~/.keras/models/w.h5"]
    assert cleaned["metadata"]["papermill"]["input_path"] == "notebooks/a.ipynb"
    assert cleaned["cells"][0]["source"] == f"x = '{root}/keep'"  # the code is the user's


RECIPE_NOTEBOOKS = {"02_gan_one_class": "gan_horses", "03_cgan_cifar10": "cgan_cifar10",
                    "06_attngan_train": "attngan_shapes"}
# What may differ between a recipe and a shipped run: where it lay, what it was called, how
# long it ran, how it reported, and how many steps ran between callbacks.
SCHEDULE = {"name", "data", "damsm", "epochs", "max_minutes", "verbose", "tensorboard",
            "checkpoint_every_steps", "sample_every_epochs", "strategy", "rp_images",
            "steps_per_execution"}


@pytest.mark.parametrize("notebook", sorted(RECIPE_NOTEBOOKS))
def test_the_full_notebook_runs_use_the_shipped_recipes(notebook):
    import papermill

    from condgan.config import load_config

    config_file = papermill.inspect_notebook(str(ROOT / "notebooks" / f"{notebook}.ipynb"))["config_file"]
    config = load_config(ROOT / json.loads(config_file["default"]))
    recipe = config.to_json()
    # a field added after the model shipped was trained at its default
    defaults = type(config)().to_json()
    shipped = json.loads((ROOT / "models" / RECIPE_NOTEBOOKS[notebook] / "card.json").read_text())["training"]
    differ = {k: (recipe.get(k), shipped.get(k, defaults.get(k))) for k in set(recipe) | set(shipped)
              if k not in SCHEDULE and recipe.get(k) != shipped.get(k, defaults.get(k))}
    assert differ == {}
