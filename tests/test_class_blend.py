"""Class blends and class-to-class interpolation of projection cGANs: conditional batch norm
taking class weights, the re-wired generator, the CLI's --interpolate and the API's blended
label.  A tiny real projection generator with random per-class gains and biases stands in for
a trained one (an untrained one's classes would all draw the same image)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from condgan.errors import UserError
from tests.helpers import run_cli

CLASSES = ["cat", "dog", "horse"]
LATENT = 8


def projection_generator():
    import keras

    from condgan.models.dcgan import build_generator

    keras.utils.set_random_seed(3)
    model = build_generator(16, LATENT, 4, num_classes=len(CLASSES), conditioning="projection")
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if type(layer).__name__ == "ConditionalBatchNorm":
            layer.gain.assign(rng.uniform(0.2, 2.0, layer.gain.shape).astype("float32"))
            layer.bias.assign(rng.normal(0.0, 1.0, layer.bias.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    from condgan.families.gan.family import save_generator
    from tests.metrics_fixtures import tiny_cgan

    root = tmp_path_factory.mktemp("models")
    save_generator(projection_generator(), root / "blendable", latent_dim=LATENT, classes=CLASSES,
                   legacy_h5=False)
    save_generator(tiny_cgan(LATENT), root / "embedding_cgan", latent_dim=LATENT, classes=CLASSES,
                   legacy_h5=False)
    return root


@pytest.fixture(scope="module")
def blendable(models_dir):
    from condgan.api import load_generator

    return load_generator(models_dir / "blendable")


def test_conditional_batch_norm_blends_the_classes_gains_and_biases():
    import keras

    from condgan.models.layers import ConditionalBatchNorm

    layer = ConditionalBatchNorm(3)
    features = np.random.default_rng(1).normal(size=(2, 4, 4, 5)).astype("float32")
    layer([features, np.zeros(2, "int32")])
    gain = np.random.default_rng(2).uniform(0.5, 2, (3, 5)).astype("float32")
    bias = np.random.default_rng(3).normal(size=(3, 5)).astype("float32")
    layer.gain.assign(gain)
    layer.bias.assign(bias)
    by_index = np.asarray(layer([features, np.array([2, 0], "int32")], training=False))
    one_hot = np.asarray(layer([features, np.eye(3, dtype="float32")[[2, 0]]], training=False))
    np.testing.assert_allclose(one_hot, by_index, rtol=1e-6, atol=1e-6)
    weights = np.array([[0.25, 0.75, 0.0], [0.0, 0.5, 0.5]], "float32")
    blended = np.asarray(layer([features, weights], training=False))
    normed = np.asarray(keras.layers.BatchNormalization(center=False, scale=False,
                                                        epsilon=1e-5)(features, training=False))
    expected = normed * (weights @ gain)[:, None, None, :] + (weights @ bias)[:, None, None, :]
    np.testing.assert_allclose(blended, expected, rtol=1e-5, atol=1e-5)


def test_a_one_hot_blend_draws_the_class_itself_and_a_mix_lies_between(blendable):
    seeds = [0, 1, 2, 3]
    for label in CLASSES:
        np.testing.assert_array_equal(blendable.generate_blend(seeds, [{label: 1}] * 4),
                                      blendable.generate_for_seeds(seeds, [label] * 4))
    cat, dog = (blendable.generate_for_seeds(seeds, [c] * 4).astype(int) for c in ("cat", "dog"))
    half = blendable.generate_blend(seeds, [{"cat": 0.5, "dog": 0.5}] * 4).astype(int)
    assert np.abs(half - cat).mean() > 1 and np.abs(half - dog).mean() > 1
    # weights are normalised: 2:2 is 1:1; indices name classes as names do
    np.testing.assert_array_equal(blendable.generate_blend(seeds, [{"cat": 2, 1: 2}] * 4), half)
    np.testing.assert_array_equal(blendable.generate_blend(seeds, [[0.5, 0.5, 0.0]] * 4), half)


def test_an_interpolation_walks_from_one_class_to_the_other(blendable):
    walk = blendable.class_interpolation("cat", "horse", 5, [7, 8]).astype(int)
    assert walk.shape == (10, 16, 16, 3)
    rows = walk.reshape(2, 5, 16, 16, 3)
    for row, seed in zip(rows, (7, 8)):
        np.testing.assert_array_equal(row[0], blendable.generate_for_seeds([seed], ["cat"])[0])
        np.testing.assert_array_equal(row[-1], blendable.generate_for_seeds([seed], ["horse"])[0])
        distance_to_end = [np.abs(image - row[-1]).mean() for image in row]
        assert distance_to_end[0] > distance_to_end[2] > distance_to_end[-1] == 0


@pytest.mark.parametrize("blend, says", [
    ({"zebra": 1}, "unknown class"), ({"cat": -1, "dog": 2}, ">= 0"), ({"cat": 0}, "add up to 0"),
    ({}, "is empty"), ({"cat": "much"}, "must be a number"), ([1, 0], "3 classes")])
def test_bad_blends_name_the_problem(blendable, blend, says):
    with pytest.raises(UserError, match=says):
        blendable.generate_blend([0], [blend])


def test_models_that_read_the_label_otherwise_have_no_blend(models_dir):
    from condgan.api import load_generator

    with pytest.raises(UserError, match="conditional batch norm"):
        load_generator(models_dir / "embedding_cgan").generate_blend([0], [{"cat": 1}])
    with pytest.raises(UserError, match="at least 2 steps"):
        load_generator(models_dir / "blendable").class_interpolation("cat", "dog", 1, [0])


def test_sample_interpolate_writes_a_row_per_seed(models_dir, tmp_path):
    from PIL import Image

    out = tmp_path / "walk.png"
    result = run_cli("sample", str(models_dir / "blendable"), "--interpolate", "cat", "dog",
                     "--steps", "6", "-n", "3", "--seed", "5", "-o", str(out))
    assert result.returncode == 0, result.stderr
    width, height = Image.open(out).size
    assert width > height * 1.5        # 6 columns by 3 rows of 16 px images
    refused = run_cli("sample", str(models_dir / "embedding_cgan"), "--interpolate", "cat", "dog",
                      "-o", str(tmp_path / "no.png"))
    assert refused.returncode != 0 and "conditional batch norm" in refused.stderr
    both = run_cli("sample", str(models_dir / "blendable"), "--interpolate", "cat", "dog",
                   "--label", "cat", "-o", str(tmp_path / "no.png"))
    assert both.returncode != 0 and "--interpolate" in both.stderr


def test_the_api_draws_a_blended_label(models_dir, blendable):
    import base64
    import io

    from PIL import Image

    from condgan.serve.app import create_app

    app = create_app(models_dir)
    assert app.extensions["condgan"]["registry"].wait(60)
    client = app.test_client()

    def post(name, body):
        return client.post(f"/v1/models/{name}:generate", data=json.dumps(body),
                           content_type="application/json")

    answer = post("blendable", {"label": {"cat": 1, "dog": 3}, "n": 2, "seed": 4})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["blend"] == {"cat": 0.25, "dog": 0.75} and body["label"] is None
    expected = blendable.generate_blend([4, 5], [{"cat": 0.25, "dog": 0.75}] * 2)
    drawn = [np.asarray(Image.open(io.BytesIO(base64.b64decode(image["b64_json"]))).convert("RGB"))
             for image in body["images"]]
    np.testing.assert_array_equal(np.stack(drawn), expected)
    for name, body, code in [
            ("blendable", {"label": {"zebra": 1}}, "unknown_label"),
            ("blendable", {"label": {"cat": True}}, "invalid_label"),
            ("blendable", {"label": {"cat": -1}}, "unknown_label"),
            ("blendable", {"label": {"cat": 1}, "edits": {"x=y": 1}}, "invalid_field"),
            ("embedding_cgan", {"label": {"cat": 1}}, "invalid_request")]:
        error = post(name, body)
        assert error.status_code == 400, (name, body)
        assert error.get_json()["error"]["code"] == code, error.get_json()


def test_the_models_list_says_which_take_a_blend(models_dir):
    from condgan.serve.app import create_app

    app = create_app(models_dir)
    assert app.extensions["condgan"]["registry"].wait(60)
    listed = {m["name"]: m for m in app.test_client().get("/v1/models").get_json()["models"]}
    assert listed["blendable"]["class_blend"] is True
    assert listed["embedding_cgan"]["class_blend"] is False


def test_the_page_blends_towards_another_class_with_a_slider(models_dir, blendable, tmp_path):
    from test_serve_browser import browser_tab, grid_pixels

    with browser_tab(models_dir, tmp_path, "/?model=embedding_cgan") as page:
        page.wait_for_selector("#model option[value=blendable]", state="attached")
        assert page.is_hidden("#blend-field")   # reads its label through an embedding
        page.select_option("#model", "blendable")
        assert page.is_visible("#blend-field")
        page.select_option("#label", "cat")
        page.select_option("#blend-class", "horse")
        page.fill("#n", "4")
        page.fill("#seed", "11")
        page.click("#generate")
        page.wait_for_function("document.querySelectorAll('#grid img').length === 4")
        np.testing.assert_array_equal(grid_pixels(page),
                                      blendable.generate_for_seeds(range(11, 15), ["cat"] * 4))
        before = page.eval_on_selector("#grid img", "i => i.src")
        page.fill("#blend-weight", "0.5")     # moving the slider redraws by itself
        page.wait_for_function("src => document.querySelector('#grid img').src !== src",
                               arg=before)
        page.wait_for_function("document.querySelectorAll('#grid img').length === 4")
        np.testing.assert_array_equal(
            grid_pixels(page), blendable.generate_blend(range(11, 15), [{"cat": .5, "horse": .5}] * 4))
        assert page.inner_text("#blend-shown") == "0.5"
        assert "cat 0.5 + horse 0.5" in page.get_attribute("#grid img", "alt")
        assert page.is_hidden("#error")
        page.screenshot(path=str(tmp_path / "blend_page.png"), full_page=True)
