"""Model folders and cards are not changed unasked: `export_run` refuses an existing folder
without `replace=True`, and a replacement keeps the old card's metrics only for the very same
weights; cards record runs and data by name and fingerprint, never by a machine-local path."""
import json

import keras
import numpy as np
import pytest

from condgan.families.gan import GanConfig
from condgan.errors import UserError
from condgan.model_folder import merge_card_metrics, read_card
from condgan.models import build_generator
from condgan.train.checkpoint import save_checkpoint, variables_state
from condgan.api import export_model

CLASSES = ["dark", "stripes"]
METRIC = {"classifier_fid": {"value": 12.5, "protocol": {"num_generated": 10000}}}


def _run(folder, seed: int, steps=(8,), data="/srv/datasets/cifar10/train"):
    """A run folder as `train` leaves it (config.json, dataset.json, checkpoints) holding a real
    generator's weights, random from `seed`; each step's weights differ."""
    config = GanConfig(name="tiny", data=data, image_size=16, latent_dim=8, g_channels=8)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"kind": "gan", "config": config.to_json()}))
    (folder / "dataset.json").write_text(json.dumps({
        "classes": CLASSES, "fingerprint": "sha256:0123456789abcdef", "num_images": 64,
        "source": f"class folders {data}"}))
    keras.utils.set_random_seed(seed)
    generator = build_generator(16, 8, 8, len(CLASSES), "projection")
    for step in steps:
        for variable in generator.variables:
            variable.assign(variable + 0.01)
        state = {**variables_state("ema", generator.variables),
                 **variables_state("g", [np.asarray(v) * 0.5 for v in generator.variables]),
                 "progress": np.array([step, 16 * step], np.int64), "wall_time_s": np.array(3.0)}
        save_checkpoint(folder, step, state, keep=len(steps))
    return folder


@pytest.fixture
def place(tmp_path, monkeypatch):
    """Runs and models outside the working directory, as on a user's machine."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_an_existing_model_folder_is_not_replaced_unasked(place):
    run = _run(place / "run", seed=0)
    out = export_model(run, "m", place / "models", legacy_h5=False, say=lambda line: None)
    merge_card_metrics(out, METRIC, say=lambda line: None)
    before = _snapshot(out)
    with pytest.raises(UserError) as error:
        export_model(run, "m", place / "models", legacy_h5=False)
    message = str(error.value)
    assert str(out) in message and "already exists" in message
    assert "another --name" in message and "--replace" in message and "replace=True" in message
    assert _snapshot(out) == before
    with pytest.raises(UserError, match="already exists"):  # a stray file blocks the name too
        (place / "models" / "file").write_text("x")
        export_model(run, "file", place / "models", legacy_h5=False)


def test_replacing_with_the_very_same_weights_keeps_the_metrics(place):
    run = _run(place / "run", seed=0)
    export_model(run, "m", place / "models", legacy_h5=False, say=lambda line: None)
    merge_card_metrics(place / "models" / "m", METRIC, say=lambda line: None)
    said = []
    out = export_model(run, "m", place / "models", legacy_h5=False, replace=True, say=said.append)
    card = read_card(out)
    assert card["metrics"]["classifier_fid"]["value"] == 12.5
    assert (card["run_dir"], card["step"], card["weights"]) == ("run", 8, "ema")
    assert card["generator_fingerprint"].startswith("sha256:")
    assert len(said) == 1 and "very same weights" in said[0] and "classifier_fid" in said[0]


@pytest.mark.parametrize("change", ["weights", "step", "run"])
def test_replacing_with_other_weights_drops_the_metrics_and_says_so(place, change):
    run = _run(place / "run", seed=0, steps=(4, 8))
    export_model(run, "m", place / "models", legacy_h5=False, say=lambda line: None)
    merge_card_metrics(place / "models" / "m", METRIC, say=lambda line: None)
    said = []
    kwargs = dict(legacy_h5=False, replace=True, say=said.append)
    if change == "weights":
        out = export_model(run, "m", place / "models", weights="live", **kwargs)
        reason = "weights 'ema' -> 'live'"
    elif change == "step":
        out = export_model(run, "m", place / "models", checkpoint=run / "checkpoints" /
                         "ckpt-0000000004.npz", **kwargs)
        reason = "step 8 -> 4"
    else:  # another run under the same folder name, same step, same weights choice
        other = _run(place / "elsewhere" / "run", seed=1, steps=(4, 8))
        out = export_model(other, "m", place / "models", **kwargs)
        reason = "generator_fingerprint"
    assert read_card(out)["metrics"] == {}
    assert len(said) == 1 and "dropped" in said[0] and "classifier_fid" in said[0], said
    assert reason in said[0] and "condgan evaluate" in said[0]


def test_cards_record_data_by_name_and_fingerprint_not_by_local_path(place):
    run = _run(place / "run", seed=0, data=str(place / "datasets" / "cifar10" / "train"))
    out = export_model(run, "m", place / "models", legacy_h5=False, say=lambda line: None)
    text = (out / "card.json").read_text()
    assert str(place) not in text
    card = json.loads(text)
    assert card["dataset"]["source"] == "class folders cifar10/train"
    assert card["dataset"]["fingerprint"] == "sha256:0123456789abcdef"
    assert card["training"]["data"] == "cifar10/train" and card["run_dir"] == "run"


def test_replacing_carries_no_old_local_paths_over(place):
    run = _run(place / "run", seed=0)
    out = export_model(run, "m", place / "models", legacy_h5=False, say=lambda line: None)
    merge_card_metrics(out, {"classifier_fid": {"value": 1.0, "protocol": {
        "data": str(place / "cifar10_test.npz"), "num_generated": 10}}}, say=lambda line: None)
    export_model(run, "m", place / "models", legacy_h5=False, replace=True, say=lambda line: None)
    card = read_card(out)
    assert card["metrics"]["classifier_fid"]["protocol"]["data"] == "cifar10_test.npz"
    assert str(place) not in (out / "card.json").read_text()
