"""bench/binding_probe.py: the exchanged caption it scores, and a run on tiny Shapes data with
an untrained DAMSM (the numbers of the real DAMSMs are in BENCHMARKS.md)."""
import importlib.util

import pytest

from attngan_fixtures import shapes_and_damsm
from condgan.data.caption_sets import load_caption_split
from condgan.data.shapes import word_groups
from tests.conftest import ROOT


def _probe():
    spec = importlib.util.spec_from_file_location("binding_probe", ROOT / "bench" / "binding_probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_exchange_trades_the_two_objects_words_of_one_group():
    probe, colour = _probe(), word_groups()["colour"]
    captions = ["a red circle on the left and a red square on the right",   # one colour twice
                "a red circle on the left and a blue square on the right"]
    true, swapped = probe.exchange_pair(captions, colour)
    assert " ".join(true) == captions[1]
    assert " ".join(swapped) == "a blue circle on the left and a red square on the right"
    assert probe.exchange_pair(captions[:1], colour) is None
    assert probe.exchange_pair(["a big red circle at the top"], colour) is None  # one object
    true, swapped = probe.exchange_pair(["a big disk at the top and a small box at the bottom"],
                                        word_groups()["shape"])
    assert " ".join(swapped) == "a big box at the top and a small disk at the bottom"


def test_a_probe_run_counts_every_two_object_image_it_can_exchange(tmp_path):
    data, damsm = shapes_and_damsm(tmp_path)
    out = tmp_path / "probe.json"
    result = _probe().main(["--data", str(data), "--damsm", str(damsm), "--json", str(out)])
    test = load_caption_split(data, "test", 32)
    two = [i for i, a in enumerate(test.meta["attributes"]) if len(a["objects"]) == 2]
    assert two, "the tiny set should hold two-object images"
    for name, accuracy in result["accuracy"].items():
        group = word_groups()[name]
        expected = sum(_probe().exchange_pair(test.captions[i], group) is not None for i in two)
        assert accuracy["probes"] == expected
        if expected:
            assert 0.0 <= accuracy["sentence"] <= 1.0 and 0.0 <= accuracy["word"] <= 1.0
    assert out.is_file() and result["max_len"] == 18
