"""Training: one fit() epoch learns, writes its artefacts; exact resume after SIGKILL."""
import json

import numpy as np
import pytest

from condgan.families.gan import GanConfig
from condgan.train.checkpoint import load_latest_checkpoint
from condgan.families.gan.family import build_gan
from condgan.runs import train_run as train
from tests.helpers import check_sigkill_resume, run_script, tiny_array_set


def _tiny_config(**changes):
    base = dict(name="tiny", image_size=16, latent_dim=16, g_channels=16, d_channels=16, batch_size=16,
                epochs=1, checkpoint_every_steps=0, tensorboard=True, samples_per_class=4, verbose=0,
                d_lr=1e-3, g_lr=1e-4)
    base.update(changes)
    return GanConfig(**base)


def _d_loss_on(gan, data, seed=0):
    from condgan.train.losses import get_losses

    d_loss, _ = get_losses("hinge")
    rng = np.random.default_rng(seed)
    real = data.x[:32].astype(np.float32) / 127.5 - 1
    labels = data.y[:32].astype(np.int32)
    fake = np.asarray(gan.generator([rng.standard_normal((32, 16)).astype(np.float32), labels], training=False))
    return float(np.mean(d_loss(gan.discriminator([real, labels]), gan.discriminator([fake, labels]))))


def test_one_epoch_lowers_d_loss_and_writes_run_artefacts(tmp_path):
    data = tiny_array_set(128)
    config = _tiny_config()
    fresh = build_gan(config, 2)
    start = _d_loss_on(fresh, data)
    summary = train(config, tmp_path / "run", data=data)
    assert summary["images_seen"] == 128 and summary["step"] == 8
    trained = build_gan(config, 2)
    from condgan.train.state import restore_training_state

    restore_training_state(trained, load_latest_checkpoint(tmp_path / "run")[1], 16)
    assert _d_loss_on(trained, data) < start - 0.05
    run = tmp_path / "run"
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert history[0]["images_seen"] == 128 and history[0]["images_per_s"] > 0
    assert {"d_loss", "g_loss", "kimg", "wall_time_s"} <= set(history[0])
    assert (run / "samples" / "epoch_0001.png").stat().st_size > 500
    assert (run / "losses.png").stat().st_size > 5000
    assert json.loads((run / "config.json").read_text())["config"]["batch_size"] == 16
    assert any((run / "tensorboard").rglob("*tfevents*"))


def test_pretraining_moves_only_the_discriminator(tmp_path):
    data = tiny_array_set(64)
    config = _tiny_config(d_pretrain_steps=3, epochs=0)
    train(config, tmp_path / "run", data=data)
    # epochs=0: only pre-training ran; no adversarial step, so no checkpoint or history yet.
    assert load_latest_checkpoint(tmp_path / "run") is None


@pytest.mark.parametrize("extra", [[], ["--set", "n_critic=2", "--set", "diffaugment=color,translation,cutout",
                                           "--set", "aux_classifier_weight=1"],
                                   ["--set", "loss=bce"]])
def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path, extra):
    # 96 images / batch 16 = 6 steps per epoch; checkpoints every 2 steps; die at step 9.
    check_sigkill_resume(tmp_path, *extra)


def test_resume_may_extend_the_schedule_but_not_change_the_recipe(tmp_path):
    from condgan.errors import UserError

    data = tiny_array_set(32)
    config = _tiny_config(tensorboard=False)
    train(config, tmp_path / "run", data=data)
    with pytest.raises(UserError, match=r"--resume cannot change \['g_lr'\]"):
        train(_tiny_config(tensorboard=False, g_lr=1.0), tmp_path / "run", resume=True, data=data)
    with pytest.raises(UserError, match="different data"):
        train(config, tmp_path / "run", resume=True, data=tiny_array_set(48))
    summary = train(_tiny_config(tensorboard=False, epochs=2), tmp_path / "run", resume=True, data=data)
    assert summary["step"] == 4 and json.loads((tmp_path / "run" / "config.json").read_text())["config"]["epochs"] == 2
    sessions = [json.loads(x) for x in (tmp_path / "run" / "sessions.jsonl").read_text().splitlines()]
    assert [s.get("config_changed") for s in sessions] == [None, {"epochs": [1, 2]}]


def test_auxiliary_classifier_learns_the_classes_and_logs_its_losses(tmp_path):
    from condgan.errors import UserError
    from condgan.train.state import restore_training_state

    data = tiny_array_set(128)
    config = _tiny_config(aux_classifier_weight=1.0, tensorboard=False, epochs=3)
    train(config, tmp_path / "run", data=data)
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert {"d_class_loss", "g_class_loss"} <= set(history[0])
    # Dark noise vs stripes: the head separates them within a few dozen steps.
    assert history[-1]["d_class_loss"] < 0.5 * history[0]["d_class_loss"]
    trained = build_gan(config, 2)
    restore_training_state(trained, load_latest_checkpoint(tmp_path / "run")[1], 16)
    real = data.x.astype(np.float32) / 127.5 - 1
    _, class_logits = trained.discriminator([real, data.y.astype(np.int32)], training=False)
    assert (np.argmax(np.asarray(class_logits), 1) == data.y).mean() > 0.9
    with pytest.raises(UserError, match="needs class labels"):
        train(_tiny_config(aux_classifier_weight=1.0, conditional=False), tmp_path / "unc", data=data)
    assert not (tmp_path / "unc").exists()


def test_export_an_earlier_checkpoint_by_name(tmp_path):
    import shutil

    from condgan.errors import UserError
    from condgan.model_folder import read_card
    from condgan.api import export_model

    data = tiny_array_set(128)
    train(_tiny_config(tensorboard=False), tmp_path / "run", data=data)
    step, _ = load_latest_checkpoint(tmp_path / "run")
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy(tmp_path / "run" / "checkpoints" / f"ckpt-{step:010d}.npz", kept)
    train(_tiny_config(tensorboard=False, epochs=2), tmp_path / "run", resume=True, data=data)
    newest = export_model(tmp_path / "run", "newest", tmp_path / "models", legacy_h5=False)
    earlier = export_model(tmp_path / "run", "earlier", tmp_path / "models", legacy_h5=False,
                         checkpoint=kept / f"ckpt-{step:010d}.npz")
    assert (read_card(earlier)["step"], read_card(newest)["step"]) == (8, 16)
    with pytest.raises(UserError, match="ckpt-<step>.npz"):
        export_model(tmp_path / "run", "bad", tmp_path / "models", checkpoint=kept / "missing.npz")
    broken = kept / "ckpt-0000000099.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="cannot be read"):
        export_model(tmp_path / "run", "bad", tmp_path / "models", checkpoint=broken)


def test_resuming_a_run_whose_budget_is_spent_trains_nothing(tmp_path):
    data = tiny_array_set(128)
    said = []
    first = train(_tiny_config(tensorboard=False, epochs=50, max_minutes=0.02), tmp_path / "run",
                  data=data, say=said.append)
    assert 0 < first["step"] < 50 * 8 and any("budget is spent" in line for line in said)
    again = train(None, tmp_path / "run", resume=True, data=data, say=said.append)
    assert again["step"] == first["step"] and again["images_seen"] == first["images_seen"]
    assert any("nothing to train" in line for line in said[-3:])


def test_resnet_architecture_trains_exports_and_loads_in_safe_mode(tmp_path):
    from condgan.api import export_model, load_generator
    from condgan.errors import UserError
    from condgan.model_folder import read_card

    data = tiny_array_set(64)
    config = _tiny_config(architecture="resnet", g_channels=4, d_channels=4, tensorboard=False,
                          diffaugment="color,translation,cutout", aux_classifier_weight=1.0)
    summary = train(config, tmp_path / "run", data=data)
    assert summary["images_seen"] == 64
    folder = export_model(tmp_path / "run", "resnet", tmp_path / "models", legacy_h5=False)
    assert read_card(folder)["training"]["architecture"] == "resnet"
    generator = load_generator(folder)
    images = generator.generate(labels=[0, 1, 1], seed=3)
    assert images.shape == (3, 16, 16, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, generator.generate(labels=[0, 1, 1], seed=3))
    with pytest.raises(UserError, match="architecture 'vit' is not known"):
        train(_tiny_config(architecture="vit"), tmp_path / "bad", data=data)
    with pytest.raises(UserError, match="not available with architecture='resnet'"):
        train(_tiny_config(architecture="resnet", conditioning="concat"), tmp_path / "bad", data=data)
    assert not (tmp_path / "bad").exists()
