"""Model registry, micro-batcher and image helpers of condgan.serve, on tiny real Keras models.

Also holds the tiny-model builders the other test_serve_* files import.  The caption model is
an honest stand-in: the real AttnGAN (kind 'attngan') does not exist yet, so `TinyCaptionModel`
implements the serving interface (`check_caption`, `generate_for_seeds`) over a real, exported
and reloaded tiny Keras model that embeds the caption's known words.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest

CLASSES = ["cat", "dog", "horse"]
VOCAB = ["<pad>", "a", "small", "red", "bird", "black", "wings", "blue"]
LATENT = 8
MAX_WORDS = 8


def tiny_cgan(classes=CLASSES, latent=LATENT):
    import keras
    from keras import layers

    noise = keras.Input((latent,), name="noise")
    label = keras.Input((), dtype="int32", name="label")
    emb = layers.Embedding(len(classes), latent)(label)
    x = layers.Concatenate()([noise, emb])
    x = layers.Dense(4 * 4 * 8)(x)
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model([noise, label], x)


def tiny_gan(latent=LATENT):
    import keras
    from keras import layers

    noise = keras.Input((latent,), name="noise")
    x = layers.Dense(4 * 4 * 8)(noise)
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model(noise, x)


def tiny_text_generator(latent=LATENT):
    import keras
    from keras import layers

    noise = keras.Input((latent,), name="noise")
    tokens = keras.Input((MAX_WORDS,), dtype="int32", name="tokens")
    words = layers.Embedding(len(VOCAB), latent)(tokens)
    sentence = layers.GlobalAveragePooling1D()(words)
    x = layers.Concatenate()([noise, sentence])
    x = layers.Dense(4 * 4 * 8)(x)
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model([noise, tokens], x)


class TinyCaptionModel:
    """Stand-in caption model: the serving interface over a real tiny Keras text generator."""

    def __init__(self, loaded) -> None:
        self.model = loaded.model
        self.card = loaded.card
        self.vocab = {word: i for i, word in enumerate(self.card["vocabulary"])}
        self.latent_dim = loaded.latent_dim

    def _split(self, caption: str):
        words = re.findall(r"[a-z]+", caption.lower())
        return [w for w in words if w in self.vocab], [w for w in words if w not in self.vocab]

    def check_caption(self, caption: str) -> list[str]:
        from condgan.errors import UserError

        known, unknown = self._split(caption)
        if not known:
            raise UserError(f"no word of caption {caption!r} is in the vocabulary")
        return unknown

    conditioning = "caption"

    def generate_for_seeds(self, seeds, captions):
        from condgan.basics import seed_noise, to_uint8

        tokens = np.zeros((len(captions), MAX_WORDS), dtype=np.int32)
        for row, caption in enumerate(captions):
            self.check_caption(caption)
            known, _ = self._split(caption)
            ids = [self.vocab[w] for w in known][:MAX_WORDS]
            tokens[row, :len(ids)] = ids
        noise = seed_noise(seeds, self.latent_dim)
        return to_uint8(np.asarray(self.model([noise, tokens], training=False)))


def caption_loader(path):
    from condgan.generator import load_keras_generator

    return TinyCaptionModel(load_keras_generator(path))


def make_models(root: Path, caption: bool = True) -> Path:
    """models/ with tiny_cgan (cgan), tiny_gan (gan) and, optionally, tiny_birds (attngan)."""
    import keras

    from condgan.families.gan.family import save_generator

    keras.utils.set_random_seed(0)
    save_generator(tiny_cgan(), root / "tiny_cgan", latent_dim=LATENT, classes=CLASSES,
                   metrics={"fid": {"value": 123.4, "protocol": "test"}}, legacy_h5=False)
    save_generator(tiny_gan(), root / "tiny_gan", latent_dim=LATENT, legacy_h5=False)
    if caption:
        save_caption_stand_in(root / "tiny_birds")
    return root


def loaded_app(root: Path, **options):
    """The serving app over `make_models(root)` (the caption stand-in loaded by its loader),
    returned once its models are in."""
    from condgan.serve.app import create_app

    app = create_app(make_models(root), loaders={"attngan": caption_loader}, **options)
    assert app.extensions["condgan"]["registry"].wait(60)
    return app


def save_caption_stand_in(out_dir: Path, **card_fields) -> Path:
    """The stand-in caption model as a model folder of kind attngan (loaded by `caption_loader`)."""
    from condgan.model_folder import KERAS_FILE, make_card, write_model_folder

    generator = tiny_text_generator()
    card = make_card(out_dir, kind="attngan", image_size=int(generator.outputs[0].shape[1]),
                     latent_dim=LATENT, vocabulary=VOCAB, **card_fields)
    return write_model_folder(out_dir, card, lambda folder: generator.save(folder / KERAS_FILE)
                              or {"keras": KERAS_FILE})


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return make_models(tmp_path_factory.mktemp("models"))


def test_registry_discovers_loads_and_reports(models_dir, tmp_path):
    from condgan.serve.registry import Registry

    (models_dir / "not_a_model").mkdir(exist_ok=True)  # no card.json: ignored
    registry = Registry(models_dir, loaders={"attngan": caption_loader}).start(background=False)
    assert sorted(registry.models) == ["tiny_birds", "tiny_cgan", "tiny_gan"]
    info = registry.models["tiny_cgan"].info()
    assert info["classes"] == CLASSES and info["image_size"] == 8
    assert info["metrics"] == {"fid": 123.4} and info["version"].startswith("sha256:")
    assert registry.default_caption_model().name == "tiny_birds"


def test_registry_reports_unloadable_models(models_dir):
    from condgan.serve.registry import Registry

    registry = Registry(models_dir).start(background=False)  # tiny_birds has no real files
    assert "tiny_birds" in registry.failed and "tiny_cgan" in registry.models


def test_registry_refuses_missing_dir(tmp_path):
    from condgan.errors import UserError
    from condgan.serve.registry import Registry

    with pytest.raises(UserError, match="--models-dir"):
        Registry(tmp_path / "nope")


def test_batcher_gathers_concurrent_requests_and_keeps_pixels(models_dir):
    from condgan.serve.batching import MicroBatcher
    from condgan.serve.registry import Registry

    served = Registry(models_dir, warm_up=False).start(background=False).models["tiny_cgan"]
    batcher = MicroBatcher(served.run, max_images=64, max_wait_s=0.05)
    results = {}

    def call(i):
        results[i] = batcher.submit([i % 3], [100 + i])[0]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert batcher.requests == 8 and batcher.batches < 8  # gathered into fewer calls
    for i in range(8):  # the same pixels as an unbatched call
        alone, _ = served.run([i % 3], [100 + i])
        np.testing.assert_array_equal(results[i], alone)
    batcher.close()


def test_batcher_isolates_a_bad_request(models_dir):
    from condgan.errors import UserError
    from condgan.serve.batching import MicroBatcher
    from condgan.serve.registry import Registry

    served = Registry(models_dir, warm_up=False).start(background=False).models["tiny_cgan"]
    batcher = MicroBatcher(served.run, max_wait_s=0.05)
    outcome = {}

    def call(key, label):
        try:
            outcome[key] = batcher.submit([label], [1])[0].shape
        except UserError as error:
            outcome[key] = error

    threads = [threading.Thread(target=call, args=("good", 0)),
               threading.Thread(target=call, args=("bad", 99))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome["good"] == (1, 8, 8, 3) and isinstance(outcome["bad"], UserError)
    batcher.close()


def test_grid_layout_and_png_determinism():
    from PIL import Image
    import io

    from condgan.basics import make_grid
    from condgan.serve.images import png_for_images

    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    tiled = make_grid(images, border=False)
    assert tiled.shape == (2 * 8 + 2, 3 * 8 + 4, 3)
    np.testing.assert_array_equal(tiled[10:18, 10:18], images[4])
    png = png_for_images(images)
    assert png == png_for_images(images)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), tiled)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`python FlaskApp/endpoint_full.py [--models-dir DIR] --port P` as the README runs it,
    returned once `wait_for` answers 200: `/readyz` (models in) or `/healthz` (listening, models
    maybe still loading).  `models_dir` None serves the shipped models."""

    def __init__(self, models_dir: Path | None, *extra: str, timeout: float = 90,
                 wait_for: str = "/readyz", log_dir: Path | None = None) -> None:
        import os
        import subprocess
        import sys
        import time

        import requests

        from conftest import ROOT

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open((log_dir or models_dir.parent) / f"server-{self.port}.log", "w+")
        env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
        where = ["--models-dir", str(models_dir)] if models_dir is not None else []
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "FlaskApp" / "endpoint_full.py"), *where,
             "--port", str(self.port), *extra],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if requests.get(self.url + wait_for, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout}s: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except Exception:  # noqa: BLE001
            self.process.kill()
        self.log.close()


def test_served_pixels_are_those_of_the_loaded_generator(models_dir):
    """The server runs a model through the family's loader: the pixels of `load_generator`."""
    from condgan.api import load_generator
    from condgan.serve.registry import Registry

    served = Registry(models_dir, warm_up=False).start(background=False).models["tiny_cgan"]
    labels = [i % 3 for i in range(20)]
    images, _ = served.run(labels, list(range(20)))
    np.testing.assert_array_equal(
        images, load_generator(models_dir / "tiny_cgan").generate_for_seeds(range(20), labels))


def test_batcher_never_makes_a_sequential_client_wait(models_dir):
    import time

    from condgan.serve.batching import MicroBatcher
    from condgan.serve.registry import Registry

    served = Registry(models_dir).start(background=False).models["tiny_cgan"]
    batcher = MicroBatcher(served.run, max_wait_s=2.0)
    start = time.monotonic()
    for i in range(3):
        batcher.submit([0], [i])
    assert time.monotonic() - start < 2.0 and batcher.batches == 3
    batcher.close()
