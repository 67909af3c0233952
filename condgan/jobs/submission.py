"""A job request checked before anything runs, and the recipes a job may train.

A request names a **recipe** (a config file of the recipes folder, `configs/` by default, by its
name) or a **family** (then the first recipe of that kind, by name, whose data is present), a
**data** set (a name under the data root; absolute paths, `..` and symlinks that leave the root
are refused), the **name** of the model it makes a new version of, and **set**: hyperparameter
overrides, parsed and checked by the recipe's typed config exactly as `--set` is.  Every mistake
is a `UserError` naming the field and the valid choices.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from condgan.config import apply_overrides, config_fields, load_config
from condgan.errors import UserError
from condgan.model_folder import CARD_FILE, check_model_name, model_versions

REQUEST_FIELDS = {"family", "config", "data", "name", "set"}
# Decided by the job itself (its run directory, its data path, one device), never by a request.
RESERVED_KEYS = ("name", "data", "damsm", "strategy", "verbose")


@dataclasses.dataclass(frozen=True)
class JobSettings:
    """Where jobs read and write, and their limits."""

    recipes_dir: Path
    data_root: Path
    runs_root: Path
    models_dir: Path
    max_running: int = 1          # jobs training at once; the rest wait in the queue
    max_queued: int = 8           # queued jobs beyond which a request is refused (429)
    max_minutes: float = 120.0    # a job's training budget at most (its config's max_minutes)
    min_free_gb: float = 2.0      # a job starts only with this much disk free under runs_root
    python: str = sys.executable  # the interpreter the child processes run
    cwd: Path | None = None       # where they run (the project root: recipes' relative paths)

    @property
    def database(self) -> Path:
        return self.runs_root / "jobs.sqlite"


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    file: Path
    config: Any
    family: Any

    @property
    def kind(self) -> str:
        return self.family.card_kind(self.config)

    def describe(self, settings: JobSettings) -> dict[str, Any]:
        return {"name": self.name, "family": self.kind, "data": self.config.data,
                "data_present": _recipe_data_present(self, settings),
                "fields": [f for f in config_fields(self.config) if f["name"] not in RESERVED_KEYS]}


def recipes(settings: JobSettings) -> dict[str, Recipe]:
    """Every config file of the recipes folder whose family exports models, by name."""
    from condgan.families import family_of_config

    found = {}
    for file in sorted(settings.recipes_dir.glob("*.py")):
        if file.name.startswith("_"):
            continue
        try:
            config = load_config(file)
            family = family_of_config(config)
        except UserError:
            continue  # not a config file this version can read
        if family.exportable:
            found[file.stem] = Recipe(file.stem, file, config, family)
    return found


def _recipe_data_present(recipe: Recipe, settings: JobSettings) -> bool:
    """Whether the recipe's own data is on this machine (a job never downloads)."""
    return (Path(settings.cwd or Path.cwd()) / recipe.config.data).exists()


def resolve_data(name: Any, settings: JobSettings) -> Path:
    """A data set named by a request: a relative path inside the data root, existing."""
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"data must be the name of a data set under the data root, got "
                        f"{json.dumps(name)}: choose one of {data_sets(settings)}")
    if Path(name).is_absolute() or ".." in Path(name).parts or "\\" in name:
        raise UserError(f"data {name!r} must be a name under the data root (no absolute path, no "
                        f"'..'): choose one of {data_sets(settings)}")
    root = settings.data_root.resolve()
    path = (root / name).resolve()  # follows symlinks: one pointing out of the root is refused
    if path != root and root not in path.parents:
        raise UserError(f"data {name!r} leads out of the data root: choose one of {data_sets(settings)}")
    if not path.exists():
        raise UserError(f"data {name!r} does not exist under the data root: choose one of "
                        f"{data_sets(settings)}")
    return path


def data_sets(settings: JobSettings) -> list[str]:
    """The data sets a request may name: the data root's folders and array files."""
    if not settings.data_root.is_dir():
        return []
    return sorted(p.name for p in settings.data_root.iterdir()
                  if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".npz"))


def override_text(key: str, value: Any) -> str:
    """A JSON value as the `key=value` text `--set` parses."""
    if isinstance(value, bool):
        return f"{key}={'true' if value else 'false'}"
    if value is None:
        return f"{key}=none"
    if isinstance(value, (list, dict)):
        return f"{key}={json.dumps(value)}"
    return f"{key}={value}"


@dataclasses.dataclass(frozen=True)
class CheckedRequest:
    name: str
    recipe: Recipe
    data: str             # as the request named it ("" for the recipe's own)
    overrides: list[str]  # "key=value", checked, with the job's limits applied


def check_request(body: dict[str, Any], settings: JobSettings) -> CheckedRequest:
    unknown = sorted(set(body) - REQUEST_FIELDS)
    if unknown:
        raise UserError(f"unknown field(s) {unknown}: a job request takes {sorted(REQUEST_FIELDS)}")
    available = recipes(settings)
    recipe = _pick_recipe(body, available, settings)
    name = body.get("name", recipe.name)
    if not isinstance(name, str):
        raise UserError(f"name must be a text, got {json.dumps(name)}")
    check_model_name(name, "name")
    folder = settings.models_dir / name
    if (folder / CARD_FILE).is_file():
        raise UserError(f"name {name!r} is a model of a single version (a shipped or exported "
                        "folder); a job never changes it: choose another name")
    data = body.get("data")
    overrides = []
    if data is not None:
        overrides.append(f"data={resolve_data(data, settings)}")
    elif not _recipe_data_present(recipe, settings):
        raise UserError(f"recipe {recipe.name!r} trains on {recipe.config.data!r}, which is not "
                        f"here: name a data set (data), one of {data_sets(settings)}")
    sets = body.get("set", {})
    if not isinstance(sets, dict):
        raise UserError(f'set must be an object of config fields, e.g. {{"epochs": 2}}, '
                        f"got {json.dumps(sets)}")
    reserved = sorted(set(sets) & set(RESERVED_KEYS))
    if reserved:
        raise UserError(f"set may not change {reserved}: a job's name, data and devices are its "
                        "own (use the request's name and data fields)")
    user = [override_text(key, value) for key, value in sets.items()]
    config = apply_overrides(recipe.config, user)  # unknown key / wrong type: the valid ones
    budget = float(getattr(config, "max_minutes", 0) or 0)
    if budget <= 0 or budget > settings.max_minutes:
        user.append(f"max_minutes={settings.max_minutes:g}")
    overrides = [*overrides, *user]
    apply_overrides(recipe.config, overrides)
    return CheckedRequest(name, recipe, data or "", overrides)


def check_resume(job: dict[str, Any], body: dict[str, Any], settings: JobSettings) -> list[str]:
    """A resumed job's overrides: its own, then the request's `set`, which may change only the
    schedule (the fields its family lets a resumed run change: epochs, max_minutes, ...)."""
    unknown = sorted(set(body) - {"set"})
    if unknown:
        raise UserError(f"unknown field(s) {unknown}: a resume takes only set (its schedule)")
    sets = body.get("set", {})
    if not isinstance(sets, dict):
        raise UserError(f'set must be an object, e.g. {{"epochs": 20}}, got {json.dumps(sets)}')
    recipe = recipes(settings).get(job["recipe"])
    if recipe is None:
        raise UserError(f"job {job['id']}'s recipe {job['recipe']!r} is no longer in the recipes folder")
    allowed = sorted(set(recipe.family.resumable) - set(RESERVED_KEYS) - {"data"})
    wrong = sorted(set(sets) - set(allowed))
    if wrong:
        raise UserError(f"a resume may change only the schedule {allowed}, not {wrong}: start a "
                        "new job to change the recipe")
    changes = [override_text(key, value) for key, value in sets.items()]
    if "max_minutes" in sets:
        budget = float(apply_overrides(recipe.config, changes).max_minutes or 0)
        if budget <= 0 or budget > settings.max_minutes:
            changes.append(f"max_minutes={settings.max_minutes:g}")
    keys = {item.partition("=")[0] for item in changes}
    overrides = [item for item in job["overrides"] if item.partition("=")[0] not in keys] + changes
    apply_overrides(recipe.config, overrides)
    return overrides


def _pick_recipe(body: dict[str, Any], available: dict[str, Recipe], settings: JobSettings) -> Recipe:
    if "config" in body:
        if body["config"] not in available:
            raise UserError(f"config {json.dumps(body['config'])} is not a recipe here: choose one "
                            f"of {sorted(available)}")
        recipe = available[body["config"]]
        if "family" in body and body["family"] != recipe.kind:
            raise UserError(f"config {recipe.name!r} trains a {recipe.kind} model, not "
                            f"{json.dumps(body['family'])}: drop family or pick another config")
        return recipe
    if "family" in body:
        kinds = sorted({r.kind for r in available.values()})
        candidates = [r for r in available.values() if r.kind == body["family"]]
        if not candidates:
            raise UserError(f"family {json.dumps(body['family'])} has no recipe here: choose one "
                            f"of {kinds}")
        present = [r for r in candidates if _recipe_data_present(r, settings)]
        return (present or candidates)[0]
    raise UserError(f"a job request needs config (one of {sorted(available)}) or family")


def settings_from_env(models_dir: str | os.PathLike) -> JobSettings:
    """Job settings for a server or worker: the project's folders unless the environment says
    otherwise (CONDGAN_JOBS_DIR, CONDGAN_DATA_ROOT, CONDGAN_RECIPES_DIR) and its limits
    (CONDGAN_MAX_JOBS, CONDGAN_MAX_QUEUED, CONDGAN_JOB_MAX_MINUTES, CONDGAN_MIN_FREE_GB)."""
    from condgan.env_settings import env_float, env_int
    from condgan.paths import project_root

    root = project_root()
    settings = JobSettings(
        recipes_dir=Path(os.environ.get("CONDGAN_RECIPES_DIR") or root / "configs").resolve(),
        data_root=Path(os.environ.get("CONDGAN_DATA_ROOT") or root / "data").resolve(),
        runs_root=Path(os.environ.get("CONDGAN_JOBS_DIR") or root / "runs" / "jobs").resolve(),
        models_dir=Path(models_dir).resolve(),
        max_running=env_int("CONDGAN_MAX_JOBS", 1), max_queued=env_int("CONDGAN_MAX_QUEUED", 8),
        max_minutes=env_float("CONDGAN_JOB_MAX_MINUTES", 120.0),
        min_free_gb=env_float("CONDGAN_MIN_FREE_GB", 2.0), cwd=root)
    if settings.max_running < 1 or settings.max_minutes <= 0:
        raise UserError("CONDGAN_MAX_JOBS must be at least 1 and CONDGAN_JOB_MAX_MINUTES above 0")
    return settings


def disk_free_gb(path: Path) -> float:
    path.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(path).free / 1e9


def child_environment() -> dict[str, str]:
    """The server's environment for a job's child process, minus the admin token: a training
    run has no use for it."""
    env = {k: v for k, v in os.environ.items() if k != "CONDGAN_ADMIN_TOKEN"}
    env["PYTHONUNBUFFERED"] = "1"
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"  # TensorFlow's C++ chatter (graph-optimiser notes) would bury the log
    return env
