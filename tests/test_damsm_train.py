"""DAMSM pretraining on tiny Shapes: an epoch lowers the loss, resume is exact, CLI end to end."""
import dataclasses
import json

import numpy as np
import pytest

from condgan.cli import main
from condgan.data.caption_sets import load_caption_split
from condgan.data.shapes import write_shapes
from condgan.errors import UserError
from condgan.families.damsm import DamsmConfig
from condgan.families.damsm.data import caption_batch, encode_split, to_float
from condgan.families.damsm.trainer import DamsmTrainer
from condgan.text import build_vocabulary, tokenize
from condgan.train.checkpoint import load_latest_checkpoint
from condgan.runs import train_run

TINY = DamsmConfig(name="tiny", image_size=32, cnn_width=8, dim=16, embed_dim=16, dropout=0.0,
                   batch_size=16, epochs=1, lr=0.003, checkpoint_every_steps=3, val_batches=1,
                   rp_images=100, verbose=0)


def pretrain_damsm(config, data, run_dir, say=lambda line: None):
    return train_run(dataclasses.replace(config, data=str(data)), run_dir, resume="auto", say=say)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    write_shapes(folder, 228, size=32, seed=0, test_fraction=100 / 228)  # 128 train, 100 test
    return folder


def test_one_epoch_lowers_the_loss(shapes):
    data = load_caption_split(shapes, "train", 32)
    vocab = build_vocabulary(tokenize(c) for caps in data.captions for c in caps)
    split = encode_split(data, vocab)
    import keras

    models = DamsmTrainer(TINY, len(vocab))
    models.compile(keras.optimizers.Adam(TINY.lr, beta_1=TINY.beta1))

    def loss():
        total = 0.0
        for k in range(len(split.images) // 16):
            index = np.arange(k * 16, (k + 1) * 16)
            tokens, lengths = caption_batch(split, index, 18, None)
            w, s = models.eval_losses(to_float(split.images[index]), tokens, lengths,
                                      split.class_ids[index])
            total += float(w) + float(s)
        return total

    before = loss()
    for epoch in range(2):  # one epoch on this tiny set is 8 steps; two to be clear of noise
        for k in range(8):
            rng = np.random.default_rng([epoch, k])
            index = rng.permutation(128)[:16]
            tokens, lengths = caption_batch(split, index, 18, rng)
            models.train_step((to_float(split.images[index]), tokens, lengths,
                               split.class_ids[index].astype(np.int32)))
    assert loss() < 0.9 * before


@pytest.fixture(scope="module")
def cli_run(shapes, tmp_path_factory):
    """Two epochs through the command line (config file + --set overrides)."""
    tmp = tmp_path_factory.mktemp("cli")
    config = tmp / "tiny_config.py"
    config.write_text("from condgan.families.damsm import DamsmConfig\n"
                      "def get_config():\n"
                      f"    return DamsmConfig(**{TINY.to_json()!r})\n")
    run = tmp / "run"
    assert main(["pretrain-damsm", "--config", str(config), "--data", str(shapes),
                 "--run-dir", str(run), "--set", "epochs=2"]) == 0
    return config, run


def test_history_config_and_tensorboard(cli_run):
    _, run = cli_run
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and rows[-1]["images_seen"] == 16 * 16
    for key in ("train_w_loss", "train_s_loss", "val_w_loss", "val_s_loss", "val_r_precision"):
        assert np.isfinite(rows[-1][key])
    assert json.loads((run / "config.json").read_text())["config"]["epochs"] == 2
    assert (run / "vocabulary.json").is_file() and any((run / "tensorboard").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["kind"] == "damsm" and summary["wall_time_s"] > 0 and summary["vocabulary_size"] > 10


def test_resume_is_exact(shapes, cli_run, tmp_path):
    """One epoch, then resume to two: the same weights, optimizer slots and step as straight."""
    _, straight = cli_run
    run = tmp_path / "resumed"
    pretrain_damsm(TINY, shapes, run)                                # stops after epoch 1
    pretrain_damsm(dataclasses.replace(TINY, epochs=2), shapes, run)
    a, b = load_latest_checkpoint(straight), load_latest_checkpoint(run)
    assert a[0] == b[0] == 16
    for key in a[1]:
        if key != "wall_time_s":
            np.testing.assert_array_equal(a[1][key], b[1][key], err_msg=key)
    rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    with pytest.raises(UserError, match=r"cannot change \[.dim.\]"):
        pretrain_damsm(dataclasses.replace(TINY, dim=8), shapes, run)


def test_cli_evaluate_and_bad_override(cli_run, capsys):
    config, run = cli_run
    assert main(["evaluate-damsm", str(run), "--repeats", "2", "--examples", "1"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert 0.0 <= result["r_precision"] <= 1.0 and result["queries"] == 100
    assert "1. " in out  # a retrieval example
    summary = json.loads((run / "summary.json").read_text())
    assert summary["evaluation"]["repeats"] == 2
    with pytest.raises(SystemExit):
        main(["pretrain-damsm", "--config", str(config), "--data", str(run),
              "--run-dir", str(run), "--set", "bogus=1"])
    assert "bogus" in capsys.readouterr().err


def test_pretraining_with_swap_negatives(shapes, tmp_path):
    """`swap_negatives` (with exchanges) trains end to end and is recorded; whether the encoders then separate
    the swapped attributes is measured on the real run (bench/attngan_swap_probe.py): on this
    tiny set a few dozen steps do not show it."""
    cfg = dataclasses.replace(TINY, swap_negatives="shapes", swap_exchange=0.5)
    pretrain_damsm(cfg, shapes, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["kind"] == "damsm" and saved["config"]["swap_negatives"] == "shapes"
    assert saved["config"]["swap_exchange"] == 0.5
    row = json.loads((tmp_path / "run" / "history.jsonl").read_text().splitlines()[-1])
    assert np.isfinite(row["train_w_loss"]) and np.isfinite(row["train_s_loss"])
    # a resume may sharpen the negatives (weigh shape up); the change is said and recorded
    said = []
    sharper = dataclasses.replace(cfg, epochs=2, swap_negatives="shapes:shape=3,colour,size")
    pretrain_damsm(sharper, shapes, tmp_path / "run", say=said.append)
    sessions = [json.loads(x) for x in (tmp_path / "run" / "sessions.jsonl").read_text().splitlines()]
    assert "config_changed" not in sessions[0]
    assert sessions[1]["config_changed"] == {"epochs": [1, 2], "swap_negatives":
                                             ["shapes", "shapes:shape=3,colour,size"]}
    assert any("swap_negatives" in line and "shape=3" in line for line in said), said
    with pytest.raises(UserError, match=r"cannot change \[.dim.\]"):   # the encoders' shape: no
        pretrain_damsm(dataclasses.replace(sharper, dim=8), shapes, tmp_path / "run")
