"""bench/train_throughput.py runs end to end (tiny rounds) and reports what BENCHMARKS.md quotes.
Speed itself is measured by hand (BENCHMARKS.md), not asserted: this machine is shared."""
import json

from tests.helpers import run_script


def test_throughput_bench_reports_every_loop(tmp_path):
    out = tmp_path / "bench.json"
    result = run_script("bench/train_throughput.py", "--steps", "3", "--rounds", "1", "--batch", "16",
                        "--epoch-steps", "10", "--json", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report["median_images_per_s"]) == {"classic", "fused", "fused_two_pass", "trainer",
                                                  "trainer_real_epoch"}
    assert all(v > 0 for v in report["median_images_per_s"].values())
    # The bench's recipe is BCE with a per-image D, so the trainer shares D's backward pass and
    # does 3g + 6d against the classic loop's 4g + 8d.
    assert report["shared_fake_backward"] is True
    flops = report["gflop_per_image"]
    assert abs(flops["fused"] - (3 * flops["g_forward"] + 6 * flops["d_forward"])) < 1e-9
    assert report["flop_ratio_classic_over_fused"] > 1.3
