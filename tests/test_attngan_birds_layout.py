"""The issue's birds commands end to end on a tiny AttnGAN/CUB-layout folder: pretrain-damsm
with configs/damsm_birds.py, train-attngan with configs/attngan_birds.py (three stages) under
`--strategy mirrored`, then the generic export and sample commands answer a caption.

Sizes are shrunk with --set so that this runs in about a minute on a CPU; the frozen Inception
image encoder of the birds DAMSM is swapped for the small CNN (tests/test_damsm_models.py builds the Inception encoder)."""
import json

from PIL import Image

from test_cub import write_fixture
from condgan.cli import main
from conftest import ROOT


def test_birds_configs_train_export_and_sample(tmp_path, capsys):
    birds = tmp_path / "birds"
    write_fixture(birds)
    damsm, run, models = tmp_path / "damsm_birds", tmp_path / "attngan_birds", tmp_path / "models"
    assert main(["pretrain-damsm", "--config", str(ROOT / "configs" / "damsm_birds.py"),
                 "--data", str(birds), "--run-dir", str(damsm), "--set", "image_encoder=cnn",
                 "--set", "image_size=32", "--set", "cnn_width=8", "--set", "dim=16",
                 "--set", "embed_dim=16", "--set", "epochs=1", "--set", "batch_size=2",
                 "--set", "val_batches=1", "--set", "rp_images=1"]) == 0
    tiny = ["image_size=64", "gf=4", "df=8", "z_dim=8", "condition_dim=8", "epochs=1",
            "batch_size=2", "rp_images=1", "sample_captions=1", "samples_per_caption=2",
            "tensorboard=false"]
    assert main(["train-attngan", "--config", str(ROOT / "configs" / "attngan_birds.py"),
                 "--data", str(birds), "--damsm", str(damsm), "--run-dir", str(run),
                 "--strategy", "mirrored", *[a for kv in tiny for a in ("--set", kv)]]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["step"] == 1 and summary["images_seen"] == 2   # 2 train images, batch 2
    assert (run / "samples" / "epoch_0001.png").is_file()

    assert main(["export", str(run), "--name", "birds", "--models-dir", str(models)]) == 0
    card = json.loads((models / "birds" / "card.json").read_text())
    assert card["kind"] == "attngan" and card["stages"] == 3 and card["image_size"] == 64
    out = tmp_path / "bird.png"
    capsys.readouterr()
    assert main(["sample", str(models / "birds"), "--caption", "this bird is red with a crown",
                 "-n", "2", "--seed", "3", "-o", str(out)]) == 0
    assert "crown" in capsys.readouterr().out   # an unknown word is reported, not dropped silently
    grid = Image.open(out)
    assert grid.size[1] >= 64 and grid.size[0] >= 2 * 64
