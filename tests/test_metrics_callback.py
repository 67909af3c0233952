"""The training-time metrics callback: history.jsonl lines, TensorBoard events, fit logs."""
import json

import keras
import numpy as np

from condgan.data.arrays import ArraySet
from condgan.export import to_uint8
from condgan.metrics.callback import ClassifierMetrics
from tests.metrics_fixtures import CLASSES, quadrant_images, tiny_cgan, untrained_classifier_dir


def test_callback_writes_classifier_metrics_every_k_epochs(tmp_path):
    generator = tiny_cgan()
    calls = []

    def sample_fn(labels, seed):  # the trainer-independent contract: labels + seed -> uint8
        calls.append((len(labels), seed))
        noise = np.random.default_rng(seed).standard_normal((len(labels), 4)).astype("float32")
        return to_uint8(np.asarray(generator([noise, labels.astype("int32")])))

    x, y = quadrant_images(30, seed=3)
    callback = ClassifierMetrics(sample_fn, untrained_classifier_dir(tmp_path / "clf"),
                                 ArraySet(x, y, CLASSES), tmp_path / "run", every_epochs=2, n=12,
                                 batch_size=8, seed=5, say=lambda line: None)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=4, verbose=0, callbacks=[callback])
    lines = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [2, 4]
    assert all(line["event"] == "metrics" and line["classifier_fid"] >= 0 for line in lines)
    assert all(0 <= line["classifier_accuracy"] <= 1 for line in lines)
    assert "classifier_accuracy/bottom" in lines[0] and "fid" not in lines[0]
    # Same seed each time: the generator is unchanged, so the numbers repeat exactly.
    assert lines[0]["classifier_fid"] == lines[1]["classifier_fid"]
    assert calls[:2] == [(8, 5), (4, 13)]
    assert list((tmp_path / "run" / "tensorboard" / "metrics").glob("events.out.tfevents.*"))
    assert "classifier_fid" in history.history
