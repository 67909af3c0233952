"""AttnGAN training on tiny Shapes: steps lower the DAMSM loss; a run checkpoints, samples,\nresumes, exports and samples through the commands."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from attngan_fixtures import TINY, encoded_splits, fixed_batch, shapes_and_damsm, train_attngan
from condgan.api import export_model
from condgan.cli import main
from condgan.errors import UserError
from condgan.families.attngan.family import build_models
from condgan.families.damsm.family import load_damsm
from condgan.train.checkpoint import list_checkpoints


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return shapes_and_damsm(tmp_path_factory.mktemp("attngan"))


def test_training_steps_lower_the_damsm_loss(setup):
    data, damsm = setup
    text, image, vocab, damsm_cfg = load_damsm(damsm)
    keras.utils.set_random_seed(0)
    trainer = build_models(TINY, damsm_cfg, text, image)
    train, _ = encoded_splits(data, vocab)
    batch = fixed_batch(train)
    evaluate = tf.function(lambda *b: trainer.losses(*b, counter=tf.constant(0, tf.int64),
                                                     training=True))
    step = tf.function(trainer.train_step)

    def damsm_loss():
        parts = evaluate(*batch)
        return float(parts["w_loss"] + parts["s_loss"])

    before = damsm_loss()
    frozen = [np.asarray(v) for v in text.variables + image.variables]
    for _ in range(14):
        logs = step(batch)
    assert all(np.isfinite(float(v)) for v in logs.values())
    after = damsm_loss()
    assert after < 0.9 * before, (before, after)
    # the pretrained encoders stay frozen
    for v, old in zip(text.variables + image.variables, frozen):
        np.testing.assert_array_equal(np.asarray(v), old)


@pytest.fixture(scope="module")
def trained_run(setup, tmp_path_factory):
    data, damsm = setup
    run = tmp_path_factory.mktemp("run") / "run"
    summary = train_attngan(TINY, data, damsm, run)
    return run, summary


def test_run_writes_history_checkpoints_and_samples(trained_run):
    run, summary = trained_run
    assert summary["step"] == 4 and summary["images_seen"] == 64
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert len(history) == 1 and {"d_loss", "g_loss", "w_loss", "s_loss", "kl"} <= set(history[0])
    assert list_checkpoints(run)[-1].name == "ckpt-0000000004.npz"
    assert (run / "samples" / "epoch_0001.png").is_file()
    assert (run / "samples" / "captions.txt").read_text().count("row ") == 2
    assert json.loads((run / "config.json").read_text())["kind"] == "attngan"


def test_export_of_an_earlier_checkpoint_and_the_old_command_names(trained_run, tmp_path, capsys):
    run, _ = trained_run
    models = tmp_path / "models"
    card = json.loads((export_model(run, "tiny", models) / "card.json").read_text())
    assert card["kind"] == "attngan" and card["images_seen"] == 64
    assert card["example_caption"] and card["dataset"]["data_fingerprint"].startswith("sha256:")
    earlier = list_checkpoints(run)[0]  # step 2 of 4
    assert main(["export-attngan", str(run), "--name", "early", "--models-dir", str(models),
                 "--checkpoint", str(earlier)]) == 0
    assert json.loads((models / "early" / "card.json").read_text())["images_seen"] == 32
    out = tmp_path / "grid.png"
    assert main(["sample-attngan", str(models / "tiny"), "--caption", "a red zebra circle",
                 "-n", "3", "--seed", "1", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert out.is_file() and "['zebra']" in captured.out
    assert "`sample-attngan` is `python -m condgan sample` now" in captured.err
    with pytest.raises(UserError, match="not a run directory"):
        export_model(tmp_path, "x", models)


def test_generic_export_and_sample_commands_handle_attngan(trained_run, tmp_path, capsys):
    """`condgan export RUN --name N` and `condgan sample MODEL --caption` serve every kind."""

    run, _ = trained_run
    models = tmp_path / "models"
    assert main(["export", str(run), "--name", "tiny", "--models-dir", str(models)]) == 0
    assert json.loads((models / "tiny" / "card.json").read_text())["kind"] == "attngan"
    out = tmp_path / "grid.png"
    assert main(["sample", str(models / "tiny"), "--caption", "a red circle", "-n", "2",
                 "--seed", "4", "-o", str(out)]) == 0
    assert out.is_file()
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(models / "tiny"), "--label", "red", "-o", str(out)])
    assert exit_info.value.code == 2 and "pass captions" in capsys.readouterr().err


def test_raising_epochs_resumes(setup, trained_run, tmp_path):
    import shutil
    data, damsm = setup
    run = tmp_path / "longer"
    shutil.copytree(trained_run[0], run)  # leave the module's run as it was
    more = train_attngan(TINY.__class__(**{**TINY.to_json(), "epochs": 2}), data, damsm, run)
    assert more["step"] == 8
    assert len((run / "history.jsonl").read_text().splitlines()) == 2


def test_resume_from_a_mid_epoch_checkpoint_is_exact(setup, trained_run, tmp_path):
    """Drop the final checkpoint of a finished run, resume from step 2: the step-4 weights,
    optimizer slots and EMA are bit-identical to the uninterrupted run's."""
    import shutil

    from condgan.train.checkpoint import load_latest_checkpoint
    data, damsm = setup
    run, _ = trained_run
    with np.load(run / "checkpoints" / "ckpt-0000000004.npz") as npz:
        reference = {k: npz[k] for k in npz.files}
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    for path in list_checkpoints(copy):
        if path.name != "ckpt-0000000002.npz":
            path.unlink()
    (copy / "history.jsonl").write_text("")
    summary = train_attngan(TINY.__class__(**{**TINY.to_json(), "tensorboard": True}), data,
                            damsm, copy)
    assert summary["step"] == 4 and (copy / "tensorboard").is_dir()
    step, state = load_latest_checkpoint(copy)
    assert step == 4 and state.keys() == reference.keys()
    for key in reference:
        if key != "wall_time_s":
            np.testing.assert_array_equal(state[key], reference[key], err_msg=key)
