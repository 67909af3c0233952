"""The prepared GPU run's own plumbing (the training it drives is tested with the trainers)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _gpu_run():
    spec = importlib.util.spec_from_file_location("gpu_run", ROOT / "scripts" / "gpu_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_large_archive_travels_in_parts_that_join_to_it(tmp_path):
    archive = tmp_path / "model.tar.gz"
    content = bytes(range(256)) * 40 + b"end"
    archive.write_bytes(content)
    _gpu_run().split_large(archive, part_bytes=4096)
    parts = sorted(tmp_path.glob("model.tar.gz.part*"))
    assert not archive.exists()
    assert [p.stat().st_size for p in parts] == [4096, 4096, 2048 + 3]
    assert b"".join(p.read_bytes() for p in parts) == content


def test_a_small_archive_stays_whole(tmp_path):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"x" * 100)
    _gpu_run().split_large(archive, part_bytes=4096)
    assert [p.name for p in tmp_path.iterdir()] == ["model.tar.gz"]


def test_nested_metric_values_are_logged_briefly():
    from condgan.metrics.evaluate import format_value

    assert format_value({"precision": 0.5, "recall": 0.25}) == "{precision 0.5000, recall 0.2500}"
    assert format_value(3) == "3" and format_value("n/a") == "n/a" and format_value(float("nan")) == "nan"
