"""build_arrays: manifest or class folders -> deterministic array sets with balance + licence info."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from condgan.data.arrays import load_array_set
from condgan.data.build_arrays import balance_report, build_arrays, main
from condgan.errors import UserError
from condgan.scrape.downloader import DownloadOptions
from condgan.scrape.local import import_local_folders
from condgan.scrape.validate import ImageLimits

ROOT = Path(__file__).resolve().parents[1]


def two_tone(path: Path, size=(40, 80), top=(255, 0, 0), bottom=(0, 0, 255), seed=0):
    """A tall image: top half one colour, bottom half another (plus a seed-coloured pixel)."""
    w, h = size
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[: h // 2], pixels[h // 2:] = top, bottom
    pixels[0, 0] = (seed * 37) % 256
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def folders(tmp_path):
    root = tmp_path / "mine"
    for i in range(12):
        two_tone(root / "cat" / f"{i}.png", seed=i)
    two_tone(root / "dog" / "only.png", top=(0, 255, 0), seed=99)
    return root


def scraped(folders, tmp_path):
    out = tmp_path / "raw"
    import_local_folders(folders, out, options=DownloadOptions(
        limits=ImageLimits(min_side=16), progress=False, workers=2))
    return out


def test_manifest_to_arrays_is_deterministic_and_keeps_provenance(folders, tmp_path):
    out = scraped(folders, tmp_path)
    data, described = build_arrays(out, 16, workers=1)
    assert described.startswith("manifest:") and data.classes == ["cat", "dog"]
    assert data.x.shape == (13, 16, 16, 3) and data.x.dtype == np.uint8
    assert data.y.tolist() == [0] * 12 + [1]
    assert data.meta["keys"] == sorted(data.meta["keys"][:12]) + ["local:dog/only.png"]
    assert data.meta["licenses"] == {"own images (licence as the user holds it)": 13}
    # Manifest lines in another order (a different scrape interleaving): same arrays.
    manifest = out / "manifest.jsonl"
    manifest.write_text("".join(reversed(manifest.read_text().splitlines(keepends=True))))
    again, _ = build_arrays(out, 16, workers=2)
    assert again.fingerprint() == data.fingerprint()


def test_crop_and_pad(folders, tmp_path):
    crop, _ = build_arrays(folders, 8, classes=["dog"], workers=1)
    pad, _ = build_arrays(folders, 8, classes=["dog"], fit="pad", workers=1)
    # Centre crop of a tall green-over-blue image fills the square: green on top, blue below.
    assert crop.x[0, 1, 0].argmax() == 1 and crop.x[0, 6, 0].argmax() == 2
    assert crop.x[0].max(axis=2).min() > 100  # no black anywhere
    # Padding keeps the whole picture and adds black columns at the sides.
    assert pad.x[0, :, 0].max() == 0 and pad.x[0, :, -1].max() == 0
    assert pad.x[0, 1, 4].argmax() == 1 and pad.x[0, 6, 4].argmax() == 2


def test_cli_writes_sidecar_with_balance_warning(folders, tmp_path):
    target = tmp_path / "data" / "mine.npz"
    done = subprocess.run([sys.executable, str(ROOT / "dataset" / "build_arrays.py"), str(folders),
                           "--size", "16", "-o", str(target), "--workers", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "warning: class 'dog' has 1 images, 8.3% of the largest" in done.stdout
    data = load_array_set(target)
    side = json.loads(target.with_suffix(".json").read_text())
    assert data.classes == ["cat", "dog"] and side["class_counts"] == [12, 1]
    assert side["balance_warnings"] and side["source"].startswith("folders:")
    assert side["fit"] == "crop" and len(side["keys"]) == 13


def test_balance_report_only_warns_under_ten_percent(folders):
    data, _ = build_arrays(folders, 8, workers=1)
    table, warnings = balance_report(data)
    assert "cat" in table and len(warnings) == 1 and "'dog'" in warnings[0]
    _, none = balance_report(data, min_share=0.05)
    assert none == []


def test_missing_files_are_skipped_and_escaping_paths_refused(folders, tmp_path):
    out = scraped(folders, tmp_path)
    victim = next((out / "cat").iterdir())
    victim.unlink()
    data, _ = build_arrays(out, 8, workers=1)
    assert len(data) == 12 and len(data.meta["skipped"]) == 1
    line = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])
    line.update(key="evil", path="../../etc/passwd", status="downloaded")
    with open(out / "manifest.jsonl", "a") as handle:
        handle.write(json.dumps(line) + "\n")
    with pytest.raises(UserError, match="outside its folder"):
        build_arrays(out, 8, workers=1)


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "nowhere"), "-o", str(tmp_path / "x.npz")])
    assert stop.value.code == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(UserError, match="--size"):
        build_arrays(tmp_path, 0)
