"""The StyleGAN family (StyleGAN2-lite): the networks' shapes, weight demodulation, truncation,
style mixing, the tracked average w, the R1 penalty against an independent gradient and finite
differences, the same losses and R1 on TensorFlow and JAX, and a tiny run that trains, resumes
exactly, exports, loads in safe mode, samples from the command line and serves."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from condgan.errors import UserError
from condgan.families.stylegan import StyleganConfig
from tests.helpers import ROOT, assert_same_training_state, tiny_array_set

SIZE = 16
CHANNELS = [16, 16, 8]     # widths at 4, 8 and 16 px


def _tiny_config(**changes) -> StyleganConfig:
    base = dict(name="tiny_stylegan", image_size=SIZE, latent_dim=8, w_dim=8, mapping_layers=2,
                channels=CHANNELS, conditional=True, batch_size=8, epochs=2, r1_interval=2,
                checkpoint_every_steps=2, samples_per_class=2, tensorboard=False, verbose=0)
    base.update(changes)
    return StyleganConfig(**base)


@pytest.fixture(scope="module")
def data():
    return tiny_array_set(32, SIZE)


@pytest.fixture(scope="module")
def trainer(data):
    """A freshly built conditional trainer (not trained)."""
    import keras

    from condgan.families.stylegan.family import FAMILY

    config = _tiny_config()
    keras.utils.set_random_seed(0)
    return FAMILY.build(config, FAMILY.prepare(config, data, None, print), False)


# --- networks ------------------------------------------------------------------------------------
def test_mapping_synthesis_and_discriminator_shapes():
    from condgan.models.stylegan import (build_discriminator, build_style_generator, noise_size,
                                         num_ws)

    networks = build_style_generator(SIZE, 8, 6, 2, CHANNELS, num_classes=3)
    assert networks.num_ws == num_ws(SIZE) == 6 and networks.w_dim == 6
    assert networks.noise_size == noise_size(SIZE) == 4 * 4 + 2 * 8 * 8 + 2 * 16 * 16
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 8)).astype(np.float32)
    labels = np.array([0, 1, 2, 0, 1], np.int32)
    w = np.asarray(networks.mapping([z, labels]))
    assert w.shape == (5, 6)
    ws = np.repeat(w[:, None], 6, axis=1)
    pixel_noise = rng.standard_normal((5, networks.noise_size)).astype(np.float32)
    assert np.asarray(networks.synthesis([ws, pixel_noise])).shape == (5, SIZE, SIZE, 3)
    assert np.asarray(networks.generator([z, labels, pixel_noise])).shape == (5, SIZE, SIZE, 3)
    images = rng.uniform(-1, 1, (5, SIZE, SIZE, 3)).astype(np.float32)
    assert np.asarray(build_discriminator(SIZE, CHANNELS, 3)([images, labels])).shape == (5, 1)
    assert np.asarray(build_discriminator(SIZE, CHANNELS)(images)).shape == (5, 1)
    names = {layer.name for layer in networks.synthesis.layers}
    assert {"const", "b4_conv1_conv", "b16_conv0_noise", "b16_torgb_conv", "b16_rgb"} <= names


def test_demodulation_brings_unit_inputs_back_to_unit_variance():
    """Styles far from 1 scale a modulated conv's output with them; demodulated, the output
    of unit-variance inputs has unit variance whatever the styles."""
    import keras

    from condgan.models.stylegan import ModulatedConv2D

    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 16, 16, 64)).astype(np.float32)
    styles = (1 + 4 * rng.standard_normal((4, 64))).astype(np.float32)
    demodulated = ModulatedConv2D(32, 3)
    plain = ModulatedConv2D(32, 3, demodulate=False)
    plain.build([x.shape, styles.shape])
    demodulated.build([x.shape, styles.shape])
    plain.kernel.assign(demodulated.kernel)
    interior = (slice(None), slice(1, -1), slice(1, -1))   # away from the zero padding
    std = float(np.std(np.asarray(demodulated([x, styles]))[interior]))
    assert 0.9 < std < 1.1, std
    assert float(np.std(np.asarray(plain([x, styles]))[interior])) > 2.5
    # ... and is the per-image kernel's output: one image convolved with its own scaled kernel
    kernel = np.asarray(demodulated.kernel) * demodulated.weight_gain * styles[0][None, None, :, None]
    kernel = kernel / np.sqrt(np.sum(kernel ** 2, axis=(0, 1, 2)) + 1e-8)
    expected = np.asarray(keras.ops.conv(x[:1], kernel, padding="same"))
    np.testing.assert_allclose(np.asarray(demodulated([x[:1], styles[:1]])), expected,
                               rtol=1e-4, atol=1e-4)


def _sampling(num_classes=0, seed=0):
    import keras

    from condgan.models.stylegan import build_style_generator, fixed_pixel_noise, sampling_models

    keras.utils.set_random_seed(seed)
    networks = build_style_generator(SIZE, 8, 8, 2, CHANNELS, num_classes=num_classes)
    w_avg = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
    return networks, sampling_models(networks, w_avg, fixed_pixel_noise(networks.noise_size, 0))


def test_truncation_zero_draws_the_average_image_and_one_leaves_w_alone():
    networks, models = _sampling(num_classes=2)
    z = np.random.default_rng(2).standard_normal((3, 8)).astype(np.float32)
    same_class = np.zeros(3, np.int32)

    def draw(psi):
        return np.asarray(models.generator([z, same_class, np.full((3, 1), psi, np.float32)]))

    at_zero, at_one = draw(0.0), draw(1.0)
    np.testing.assert_allclose(at_zero[1], at_zero[0], atol=1e-6)
    np.testing.assert_allclose(at_zero[2], at_zero[0], atol=1e-6)
    assert np.abs(at_one[1] - at_one[0]).max() > 1e-3
    # psi = 1 is the untruncated w
    w = np.asarray(models.mapping([z, same_class, np.ones((3, 1), np.float32)]))
    np.testing.assert_allclose(w, np.asarray(networks.mapping([z, same_class])), atol=1e-6)


def test_changing_a_later_layers_w_changes_the_image():
    networks, models = _sampling()
    ws = np.repeat(np.random.default_rng(3).standard_normal((2, 1, 8)).astype(np.float32),
                   networks.num_ws, axis=1)
    mixed = ws.copy()
    mixed[:, -3:] = np.random.default_rng(4).standard_normal((2, 3, 8))  # the last block's ws
    before, after = np.asarray(models.synthesis(ws)), np.asarray(models.synthesis(mixed))
    assert np.abs(after - before).max() > 1e-3


def test_style_mixing_crosses_over_at_the_drawn_layer(trainer):
    w = np.ones((3, 8), np.float32)
    w_mix = np.full((3, 8), 2.0, np.float32)
    # image 0 mixes (crossover 1 + floor(0.5 * 5) = 3), 1 mixes at layer 1, 2 does not mix
    uniforms = np.array([[0.1, 0.5], [0.2, 0.0], [0.95, 0.5]], np.float32)
    ws = np.asarray(trainer.mixed_ws(w, w_mix, uniforms))
    assert ws.shape == (3, trainer.num_ws, 8) == (3, 6, 8)
    np.testing.assert_array_equal(ws[:, :, 0], [[1, 1, 1, 2, 2, 2], [1, 2, 2, 2, 2, 2],
                                                [1, 1, 1, 1, 1, 1]])


# --- R1 ------------------------------------------------------------------------------------------
def test_r1_penalty_is_the_squared_input_gradient(trainer):
    """Against an independent tape and against finite differences of D's summed output."""
    import tensorflow as tf
    from keras import ops

    from condgan.train.penalties import r1_penalty

    rng = np.random.default_rng(5)
    images = rng.uniform(-1, 1, (4, SIZE, SIZE, 3)).astype(np.float32)
    labels = np.array([0, 1, 1, 0], np.int32)
    judge = trainer.judge(ops.convert_to_tensor(labels))
    penalty = np.asarray(r1_penalty(trainer, judge, ops.convert_to_tensor(images)))
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(judge(x))
    grads = tape.gradient(total, x).numpy()
    np.testing.assert_allclose(penalty, np.sum(grads ** 2, axis=(1, 2, 3)), rtol=1e-5)
    assert penalty.shape == (4,) and penalty.min() > 0

    def summed(values):
        return float(np.sum(np.asarray(judge(ops.convert_to_tensor(values)), np.float64)))

    eps = 1e-2
    for direction in (grads / np.linalg.norm(grads),
                      rng.standard_normal(images.shape).astype(np.float32)):
        slope = (summed(images + eps * direction) - summed(images - eps * direction)) / (2 * eps)
        np.testing.assert_allclose(slope, float(np.sum(grads * direction)), rtol=2e-2, atol=1e-4)
    # the slope along the gradient is its norm: sqrt of the penalty summed over the batch
    along = grads / np.linalg.norm(grads)
    slope = (summed(images + eps * along) - summed(images - eps * along)) / (2 * eps)
    np.testing.assert_allclose(slope, math.sqrt(penalty.sum()), rtol=2e-2)


def test_lazy_r1_is_added_only_on_its_steps(trainer):
    from keras import ops

    from condgan.train.penalties import lazily

    assert float(lazily(ops.convert_to_tensor(4), 2, lambda: ops.ones(()) * 3.0)) == 3.0
    assert float(lazily(ops.convert_to_tensor(5), 2, lambda: ops.ones(()) * 3.0)) == 0.0
    assert float(lazily(ops.convert_to_tensor(5), 1, lambda: ops.ones(()) * 3.0)) == 3.0


@pytest.mark.skipif(__import__("importlib").util.find_spec("jax") is None, reason="no JAX")
def test_tensorflow_and_jax_give_the_same_losses_and_r1(tmp_path):
    """Both backends from the same weights, data and random numbers (one process each):
    the R1 penalty of the initial D, three steps' losses (R1 on steps 0 and 2) and the final
    weights, EMA and average w."""
    script = ROOT / "tests" / "scripts" / "stylegan_equivalence.py"
    for backend, extra in (("tensorflow", ["--write-init"]), ("jax", [])):
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
               "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, str(script), str(tmp_path), *extra], env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    tf_run, jax_run = (dict(np.load(tmp_path / f"{b}.npz")) for b in ("tensorflow", "jax"))
    assert tf_run["r1"].shape == (8,) and tf_run["r1"].min() > 0
    np.testing.assert_allclose(jax_run["r1"], tf_run["r1"], rtol=1e-4)
    assert list(tf_run["loss_names"]) == list(jax_run["loss_names"]) == ["d_loss", "d_r1", "g_loss"]
    r1_column = tf_run["losses"][:, 1]
    assert r1_column[0] > 0 and r1_column[1] == 0 and r1_column[2] > 0   # lazy: every 2nd step
    np.testing.assert_allclose(jax_run["losses"], tf_run["losses"], rtol=1e-4, atol=1e-5)
    keys = [k for k in tf_run if k.startswith("final:") and tf_run[k].dtype.kind == "f"]
    assert "final:w_avg/0000" in keys and np.abs(tf_run["final:w_avg/0000"]).max() > 0
    for key in keys:
        np.testing.assert_allclose(jax_run[key], tf_run[key], rtol=0, atol=5e-5, err_msg=key)


# --- a tiny run ----------------------------------------------------------------------------------
def _checkpoint(run_dir, step=None) -> dict:
    from condgan.train.checkpoint import list_checkpoints, load_checkpoint_file

    files = list_checkpoints(run_dir)
    file = files[-1] if step is None else next(f for f in files if f.name == f"ckpt-{step:010d}.npz")
    return load_checkpoint_file(file)[1]


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """The same tiny conditional run straight through (2 epochs of 4 steps, with DiffAugment and
    instance noise) and stopped after one epoch then resumed; the straight run exported."""
    import condgan

    root = tmp_path_factory.mktemp("stylegan_run")
    config = _tiny_config(diffaugment="translation", d_input_noise=0.1, d_input_noise_steps=6)
    quiet = {"say": lambda line: None}
    condgan.train_model(config, root / "straight", data=data, **quiet)
    condgan.train_model(dataclasses.replace(config, epochs=1), root / "resumed", data=data, **quiet)
    condgan.train_model(config, root / "resumed", data=data, resume=True, **quiet)
    model_dir = condgan.export_model(root / "straight", "tiny_stylegan", root / "models", **quiet)
    return root, model_dir


def test_a_tiny_run_trains_and_resumes_exactly(trained):
    root, _ = trained
    straight, resumed = _checkpoint(root / "straight"), _checkpoint(root / "resumed")
    assert int(straight["progress"][0]) == 8
    assert_same_training_state(straight, resumed)
    history = [json.loads(line) for line in (root / "straight" / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [4, 8]
    assert all(math.isfinite(h[k]) for h in history for k in ("d_loss", "g_loss", "d_r1"))
    assert (root / "straight" / "samples" / "epoch_0002.png").is_file()


def test_the_average_w_moves_during_training(trained):
    root, _ = trained
    at_6, at_8 = _checkpoint(root / "straight", 6)["w_avg/0000"], _checkpoint(root / "straight")["w_avg/0000"]
    assert at_6.shape == (8,) and np.abs(at_6).max() > 0 and np.abs(at_8 - at_6).max() > 1e-6


def test_the_exported_model_loads_in_safe_mode_and_truncates(trained):
    import condgan

    root, model_dir = trained
    card = json.loads((model_dir / "card.json").read_text())
    assert card["kind"] == "stylegan" and card["classes"] == ["dark", "stripes"]
    assert card["num_ws"] == 6 and card["w_dim"] == 8 and card["truncation"] == 1.0
    assert set(card["files"].values()) == {"generator.keras", "mapping.keras", "synthesis.keras"}
    model = condgan.load_generator(model_dir)
    assert model.conditioning == "class" and model.noise_dim == 8
    images = model.generate(labels=["dark", "stripes", "dark"], seed=11)
    assert images.shape == (3, SIZE, SIZE, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, condgan.load_generator(model_dir).generate(
        labels=["dark", "stripes", "dark"], seed=11))                     # same seed, same pixels
    np.testing.assert_array_equal(images[1], model.generate_for_seeds([12], ["stripes"])[0])
    # the run's average w is the truncation centre
    np.testing.assert_allclose(model.w_avg, _checkpoint(root / "straight")["w_avg/0000"], rtol=1e-6)
    # truncation: psi 0 draws the average image for every seed, psi 1 is the model as exported
    average = model.with_options(truncation=0.0).generate_for_seeds([1, 2, 3], ["dark"] * 3)
    assert np.array_equal(average[0], average[1]) and np.array_equal(average[0], average[2])
    np.testing.assert_array_equal(model.with_options(truncation=1.0).generate(labels=["dark"], seed=11),
                                  images[:1])
    assert model.truncation == 1.0   # with_options left the model itself alone
    with pytest.raises(UserError, match="truncation.*from 0 to 1"):
        model.with_options(truncation=1.5)
    # W: mapping and synthesis draw what the one-file generator draws
    noise = model.noise_for_seeds([11, 12])
    w = model.w_for_noise(noise, ["dark", "stripes"])
    assert w.shape == (2, 8)
    np.testing.assert_allclose(model.generate_from_w(w), model.generate_from_noise(noise, ["dark", "stripes"]),
                               atol=1e-3)
    with pytest.raises(UserError, match="class-conditional"):
        model.w_space()


def test_an_unconditional_model_offers_its_w_space(tmp_path):
    import condgan
    from condgan.families.stylegan.family import save_stylegan

    networks, models = _sampling(num_classes=0, seed=7)
    model_dir = save_stylegan(models, tmp_path / "plain", w_dim=8, num_ws=networks.num_ws,
                              mapping_layers=2, truncation=0.7)
    model = condgan.load_generator(model_dir)
    assert model.conditioning == "none" and model.truncation == 0.7   # the card's psi
    view = model.w_space()
    assert view.noise_dim == 8 and view.directions is None
    w = view.noise_for_seeds([3, 4])
    np.testing.assert_allclose(w, model.w_for_noise(model.noise_for_seeds([3, 4])), atol=1e-6)
    np.testing.assert_allclose(view.generate_from_noise(w), model.generate_from_noise(
        model.noise_for_seeds([3, 4])), atol=1e-3)
    # truncated to 0.7 of the way out from the average w
    untruncated = model.with_options(truncation=1.0).w_for_noise(model.noise_for_seeds([3]))
    np.testing.assert_allclose(w[0], model.w_avg + 0.7 * (untruncated[0] - model.w_avg), atol=1e-5)


class BrightnessReader:
    """Reads one attribute off any image, its brightness against a fixed threshold."""

    name = "brightness"
    values = {"brightness": ["dark", "light"]}
    edit_attributes = ["brightness"]

    def __init__(self, threshold: float):
        self.threshold = threshold

    def __call__(self, images):
        mean = np.asarray(images, np.float32).mean(axis=(1, 2, 3))
        return {"object": np.ones(len(mean), bool), "brightness": (mean > self.threshold).astype(int)}


def test_directions_found_in_w_edit_each_image_s_w_after_truncation(tmp_path):
    import condgan
    from condgan.control.find import find_directions, measure_edits
    from condgan.control.sweep import edit_sweep
    from condgan.families.stylegan.family import save_stylegan

    networks, models = _sampling(num_classes=0, seed=7)
    model_dir = save_stylegan(models, tmp_path / "plain", w_dim=8, num_ws=networks.num_ws,
                              mapping_layers=2, truncation=0.7)
    model = condgan.load_generator(model_dir)
    reader = BrightnessReader(float(np.median(model.generate(n=400, seed=0).mean(axis=(1, 2, 3)))))
    directions = find_directions(model.w_space(), reader, n=400, seed=0, say=lambda line: None)
    assert directions.space == "w" and directions.noise_dim == 8
    assert directions.names == ["brightness=dark", "brightness=light"]
    directions.save(model_dir)
    model = condgan.load_generator(model_dir)
    assert model.directions.space == "w"
    # an edit moves the truncated w of each seed, not its noise
    step = directions.offset({"brightness=light": 1.5})
    w = model.w_for_noise(model.noise_for_seeds([5, 6]))
    edited = model.generate(n=2, seed=5, edits={"brightness=light": 1.5})
    np.testing.assert_allclose(edited, model.generate_from_w(w + step), atol=1.0)
    assert np.abs(edited.astype(float) - model.generate(n=2, seed=5)).max() > 1
    sweep = edit_sweep(model, "brightness=light", [5, 6], strengths=(0.0, 1.5))
    np.testing.assert_array_equal(sweep[0::2], model.generate(n=2, seed=5))
    np.testing.assert_array_equal(sweep[1::2], edited)
    # measured through the model or through its W view: the same images
    through_model = measure_edits(model, reader, directions, strengths=(2.0,), n=60)
    assert through_model == measure_edits(model.w_space(), reader, directions, strengths=(2.0,), n=60)
    assert through_model["mean"]["2"]["success"] > 0.5
    # the API's description of the edits says where they live
    from condgan.serve.app import create_app
    from test_serve_browser import png_pixels

    client = create_app(model_dir.parent, background_load=False).test_client()
    assert client.get("/v1/models/plain").get_json()["edits"]["space"] == "w"
    reply = client.post("/v1/models/plain:generate",
                        json={"n": 2, "seed": 5, "edits": {"brightness=light": 1.5}})
    served = [png_pixels(image["b64_json"]) for image in reply.get_json()["images"]]
    np.testing.assert_array_equal(np.stack(served), edited)


def test_directions_must_fit_the_space_they_name(tmp_path):
    import condgan
    from condgan.control.directions import LatentDirections
    from condgan.families.stylegan.family import save_stylegan

    networks, models = _sampling(num_classes=0, seed=7)
    model_dir = save_stylegan(models, tmp_path / "plain", w_dim=8, num_ws=networks.num_ws,
                              mapping_layers=2, truncation=1.0)
    LatentDirections(["size=large"], np.eye(1, 5, dtype=np.float32), [1.0], {"space": "w"}).save(model_dir)
    with pytest.raises(UserError, match="5 numbers, its w space 8"):
        condgan.load_generator(model_dir).generate(n=1, seed=0, edits={"size=large": 1})
    with pytest.raises(UserError, match="space 'u' is not one of z, w"):
        LatentDirections(["size=large"], np.eye(1, 8, dtype=np.float32), [1.0], {"space": "u"})
    plain = condgan.load_generator(ROOT / "models" / "gan_shapes")
    from condgan.control.find import latent_view

    assert latent_view(plain) == (plain, "z")
    with pytest.raises(UserError, match="has no w space to find directions in \\(it has z\\)"):
        latent_view(plain, "w")
    view, space = latent_view(condgan.load_generator(model_dir))
    assert space == "w" and view.latent_space == "w" and view.noise_dim == 8
    with pytest.raises(UserError, match="live in a w space, which this model does not have"):
        plain._directions = LatentDirections(["size=large"], np.eye(1, 64, dtype=np.float32), [1.0],
                                             {"space": "w"})
        plain.generate(n=1, seed=0, edits={"size=large": 1})


def test_the_page_draws_with_the_truncation_slider_and_w_edits(tmp_path):
    import condgan
    from condgan.control.directions import LatentDirections
    from condgan.families.stylegan.family import save_stylegan
    from test_serve_browser import browser_tab, grid_pixels

    networks, models = _sampling(num_classes=0, seed=7)
    model_dir = save_stylegan(models, tmp_path / "models" / "styled", w_dim=8,
                              num_ws=networks.num_ws, mapping_layers=2, truncation=0.7)
    unit = np.eye(1, 8, dtype=np.float32)
    LatentDirections(["brightness=light"], unit, [2.0], {"space": "w"}).save(model_dir)
    model = condgan.load_generator(model_dir)

    def redrawn(page, action):
        before = page.eval_on_selector("#grid img", "i => i.src")
        action()
        page.wait_for_function("src => document.querySelector('#grid img').src !== src", arg=before)
        page.wait_for_function("document.querySelectorAll('#grid img').length === 3")

    with browser_tab(tmp_path / "models", tmp_path, "/?model=styled") as page:
        page.wait_for_selector("#model option[value=styled]", state="attached")
        page.select_option("#model", "styled")
        assert page.is_visible("#truncation-field") and page.is_visible("#edits-field")
        assert page.input_value("#truncation") == "0.7"     # the card's psi
        page.fill("#n", "3")
        page.fill("#seed", "5")
        page.click("#generate")
        page.wait_for_function("document.querySelectorAll('#grid img').length === 3")
        np.testing.assert_array_equal(grid_pixels(page), model.generate(n=3, seed=5))
        redrawn(page, lambda: page.fill("#truncation", "0"))   # the slider redraws by itself
        average = grid_pixels(page)
        assert page.inner_text("#truncation-shown") == "0"
        assert np.array_equal(average[0], average[1]) and np.array_equal(average[0], average[2])
        np.testing.assert_array_equal(average, model.with_options(truncation=0.0).generate(n=3, seed=5))
        redrawn(page, lambda: page.fill("#edit-brightness-strength", "1.5"))
        np.testing.assert_array_equal(grid_pixels(page), model.with_options(truncation=0.0).generate(
            n=3, seed=5, edits={"brightness=light": 1.5}))
        assert page.is_hidden("#error")
        page.screenshot(path=str(tmp_path / "stylegan_page.png"), full_page=True)


def test_sample_and_serve_with_truncation_need_no_kind_check(trained, tmp_path):
    from PIL import Image

    from condgan.cli import main
    from condgan.serve.app import create_app

    _, model_dir = trained
    out = tmp_path / "grid.png"
    assert main(["sample", str(model_dir), "--label", "stripes", "-n", "3", "--truncation", "0.5",
                 "-o", str(out)]) in (0, None)
    assert Image.open(out).size[0] >= 3 * SIZE
    client = create_app(model_dir.parent, background_load=False).test_client()
    reply = client.post("/v1/models/tiny_stylegan:generate",
                        json={"label": "dark", "n": 1, "seed": 4, "format": "png"})
    assert reply.status_code == 200 and reply.mimetype == "image/png"
    assert Image.open(__import__("io").BytesIO(reply.data)).size == (SIZE, SIZE)
    info = client.get("/v1/models/tiny_stylegan").get_json()
    assert info["kind"] == "stylegan" and info["classes"] == ["dark", "stripes"]
    assert info["options"] == ["truncation"]
    # truncation through the API: psi 0 draws the average image for every seed
    reply = client.post("/v1/models/tiny_stylegan:generate",
                        json={"label": "dark", "n": 2, "seed": 4, "truncation": 0})
    body = reply.get_json()
    assert reply.status_code == 200 and body["options"] == {"truncation": 0.0}
    assert body["images"][0]["b64_json"] == body["images"][1]["b64_json"]
    for bad in (1.5, "high", True):
        reply = client.post("/v1/models/tiny_stylegan:generate",
                            json={"label": "dark", "truncation": bad})
        assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "invalid_option"


def test_a_model_without_the_option_says_so(tmp_path):
    from condgan.generator import Generator
    from condgan.serve.validation import ApiError, parse_generate

    model = Generator({"kind": "gan", "image_size": 8, "name": "plain"}, tmp_path)
    assert model.with_options(truncation=None) is model
    with pytest.raises(UserError, match="takes no sampling option truncation"):
        model.with_options(truncation=0.7)
    with pytest.raises(ApiError, match="takes no sampling options") as refused:
        parse_generate({"n": 1, "truncation": 0.7}, conditioning="none", classes=None, max_n=4,
                       random_seed=lambda n: 0, model="model 'plain'")
    assert refused.value.code == "invalid_option"


def test_bad_configs_are_refused_before_the_data_is_read():
    from condgan.families.stylegan.family import FAMILY

    with pytest.raises(UserError, match=r"channels=\[16, 16\] must give one positive width per "
                                        r"resolution.*4 px, 8 px, 16 px"):
        FAMILY.check(_tiny_config(channels=[16, 16]))
    with pytest.raises(UserError, match="image size 24"):
        FAMILY.check(_tiny_config(image_size=24))
    with pytest.raises(UserError, match="truncation"):
        FAMILY.check(_tiny_config(truncation=1.5))
    with pytest.raises(UserError, match="style_mixing"):
        FAMILY.check(_tiny_config(style_mixing=2.0))
    with pytest.raises(UserError, match="mapping_lr_multiplier"):
        FAMILY.check(_tiny_config(mapping_lr_multiplier=0.0))
    with pytest.raises(UserError, match="minibatch_std"):
        FAMILY.check(_tiny_config(strategy="mirrored"))


def test_the_shipped_configs_load_and_pass_the_checks():
    from condgan.config import load_config
    from condgan.families import family_of_config

    for name, conditional in (("stylegan_shapes", False), ("stylegan_cifar10", True)):
        config = load_config(ROOT / "configs" / f"{name}.py")
        assert isinstance(config, StyleganConfig) and config.conditional is conditional
        family = family_of_config(config)
        assert family.kind == "stylegan"
        family.check(config)
