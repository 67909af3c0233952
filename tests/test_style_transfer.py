"""Neural style transfer (condgan.style): the Gram matrix and loss math, the optimisation with a
random VGG19 (weights=None through the test-only switch: it checks the mechanics, not the art),
the weights resolution and its message when they are missing, a weights file in Keras' own
layout, the CLI end to end, and POST /v1/style on a bare Flask app.  Images are 32 pixels:
every transfer takes seconds.  Nothing is downloaded."""
from __future__ import annotations

import io
import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from condgan.errors import UserError
from condgan.style import (ImageRejected, LossWeights, StyleSettings, WeightsMissing, decode_image,
                           gram_matrix, load_vgg_features, resolve_vgg_weights, transfer_style)
from condgan.style.gatys import content_loss, style_loss, total_variation_loss
from condgan.style.vgg import FETCH_COMMAND, STYLE_LAYERS, WEIGHTS_ENV, WEIGHTS_FILE

SIZE = 32


def picture(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth colour gradients plus a little noise: something with structure for VGG to see."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    channels = [np.sin(6 * x + seed), np.cos(5 * y - seed), np.sin(4 * (x + y))]
    image = (np.stack(channels, -1) + 1) * 110 + rng.uniform(0, 30, (height, width, 3))
    return image.clip(0, 255).astype(np.uint8)


def encoded(image: np.ndarray, file_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=file_format)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims width x height pixels: a decompression bomb
    (its data would inflate to gigabytes if the decoder believed it)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def random_network():
    import keras

    keras.utils.set_random_seed(0)
    return load_vgg_features(random_weights_for_tests=True)


@pytest.fixture(scope="module")
def keras2_weights_file(tmp_path_factory):
    """A VGG19 weights file in the layout of Keras' published notop file (Keras 2 HDF5: layer
    names and weight names as attributes), holding seeded random weights; and those weights."""
    import h5py
    import keras

    keras.utils.set_random_seed(1)
    base = keras.applications.VGG19(include_top=False, weights=None)
    path = tmp_path_factory.mktemp("vgg") / WEIGHTS_FILE
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in base.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.5"
        for layer in base.layers:
            group = f.create_group(layer.name)
            values = layer.get_weights()
            names = [f"{layer.name}_W_1:0", f"{layer.name}_b_1:0"][:len(values)]
            group.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
            for name, value in zip(names, values):
                group.create_dataset(name, data=value)
    return path, {layer.name: layer.get_weights() for layer in base.layers if layer.get_weights()}


@pytest.fixture
def no_weights_anywhere(tmp_path, monkeypatch):
    """An empty Keras cache and no CONDGAN_VGG19_WEIGHTS: the state of a fresh machine."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    return tmp_path / "keras" / "models" / WEIGHTS_FILE


# ---- the math --------------------------------------------------------------------------------

def test_gram_matrix_is_channel_correlations_averaged_over_positions():
    from keras import ops

    features = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    gram = ops.convert_to_numpy(gram_matrix(features))
    flat = features.reshape(2, 12, 5)
    np.testing.assert_allclose(gram, np.einsum("bnc,bnd->bcd", flat, flat) / 12, rtol=1e-5)
    assert np.allclose(gram, gram.transpose(0, 2, 1))  # symmetric
    # averaged, not summed: the same texture over four times the area has the same Gram matrix
    tiled = np.tile(features, (1, 2, 2, 1))
    np.testing.assert_allclose(ops.convert_to_numpy(gram_matrix(tiled)), gram, rtol=1e-5)
    constant = np.full((1, 2, 2, 2), [1.0, 3.0], np.float32)
    np.testing.assert_allclose(ops.convert_to_numpy(gram_matrix(constant))[0], [[1, 3], [3, 9]])


def test_losses_are_zero_at_the_target_and_grow_away_from_it():
    from keras import ops

    rng = np.random.default_rng(1)
    features = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
    assert float(content_loss(features, features)) == 0
    assert float(content_loss(features + 2, features)) == pytest.approx(4)
    grams = [gram_matrix(features)]
    assert float(style_loss([features], grams)) == pytest.approx(0, abs=1e-6)
    assert float(style_loss([2 * features], grams)) > 0
    flat = np.zeros((1, 4, 4, 3), np.float32)
    assert float(total_variation_loss(flat)) == 0
    step = flat.copy()
    step[:, :, 2:, :] = 1.0  # one vertical edge: 4 rows x 3 channels of difference 1
    assert float(ops.convert_to_numpy(total_variation_loss(step))) == pytest.approx(12)


@pytest.mark.parametrize("bad", [dict(size=8), dict(steps=0), dict(optimizer="sgd"),
                                 dict(learning_rate=0.0), dict(init_noise=1.5),
                                 dict(weights=LossWeights(style=-1.0)),
                                 dict(weights=LossWeights(content=float("nan"))),
                                 dict(weights=LossWeights(content=0.0, style=0.0))])
def test_settings_refuse_what_cannot_work(bad):
    with pytest.raises(UserError):
        StyleSettings(**bad).check()


# ---- the optimisation (random VGG19: mechanics only) ------------------------------------------

@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_the_loss_decreases_and_the_result_has_the_content_shape(random_network, optimizer):
    content, style = picture(24, 32, seed=1), picture(40, 40, seed=2)
    seen = []
    result = transfer_style(content, style, StyleSettings(size=SIZE, steps=4, optimizer=optimizer),
                            network=random_network, on_progress=seen.append)
    assert result.image.dtype == np.uint8 and result.image.shape == (24, 32, 3)
    assert [p.step for p in seen] == [1, 2, 3, 4] and seen == result.history
    assert seen[-1].loss < seen[0].loss
    assert sum(seen[-1].parts.values()) == pytest.approx(seen[-1].loss, rel=1e-4)
    assert "RANDOM" in result.network


def test_style_alone_pulls_the_gram_matrices_together(random_network):
    weights = LossWeights(content=0.0, style=1.0, total_variation=0.0)
    result = transfer_style(picture(SIZE, SIZE, 3), picture(SIZE, SIZE, 4),
                            StyleSettings(size=SIZE, steps=6, weights=weights), network=random_network)
    style_losses = [p.parts["style"] for p in result.history]
    assert style_losses[-1] < 0.8 * style_losses[0]
    assert result.history[0].parts["content"] == 0


def test_the_same_inputs_give_the_same_pixels(random_network):
    settings = StyleSettings(size=SIZE, steps=2, init_noise=0.5, seed=7)
    first = transfer_style(picture(SIZE, SIZE, 5), picture(SIZE, SIZE, 6), settings, network=random_network)
    again = transfer_style(picture(SIZE, SIZE, 5), picture(SIZE, SIZE, 6), settings, network=random_network)
    np.testing.assert_array_equal(first.image, again.image)


def test_a_sliver_too_thin_for_vgg_is_refused(random_network):
    with pytest.raises(UserError, match="shorter side would be"):
        transfer_style(picture(4, 64, 1), picture(SIZE, SIZE, 2), StyleSettings(size=SIZE, steps=1),
                       network=random_network)


# ---- weights: found, never downloaded, missing explained ---------------------------------------

def test_missing_weights_say_which_file_where_and_how_to_get_it(no_weights_anywhere):
    with pytest.raises(WeightsMissing) as caught:
        resolve_vgg_weights()
    message = str(caught.value)
    assert WEIGHTS_FILE in message and str(no_weights_anywhere) in message
    assert FETCH_COMMAND in message and "--vgg-weights" in message and WEIGHTS_ENV in message
    with pytest.raises(WeightsMissing):  # and no random network in its place
        load_vgg_features()
    with pytest.raises(WeightsMissing, match="nothing is downloaded"):
        transfer_style(picture(SIZE, SIZE, 1), picture(SIZE, SIZE, 2), StyleSettings(size=SIZE, steps=1))


def test_a_named_weights_file_must_exist(no_weights_anywhere, monkeypatch, tmp_path):
    with pytest.raises(WeightsMissing, match="--vgg-weights names") as caught:
        resolve_vgg_weights(tmp_path / "nowhere.h5")
    assert FETCH_COMMAND in str(caught.value)
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "elsewhere.h5"))
    with pytest.raises(WeightsMissing, match=f"{WEIGHTS_ENV} names .*elsewhere.h5"):
        resolve_vgg_weights()


def test_weights_in_keras_layout_load_from_the_cache_env_or_path(keras2_weights_file, no_weights_anywhere,
                                                                 monkeypatch, tmp_path):
    path, expected = keras2_weights_file
    monkeypatch.setenv(WEIGHTS_ENV, str(path))
    assert resolve_vgg_weights() == path
    monkeypatch.delenv(WEIGHTS_ENV)
    no_weights_anywhere.parent.mkdir(parents=True)
    no_weights_anywhere.symlink_to(path)
    assert resolve_vgg_weights() == no_weights_anywhere
    network = load_vgg_features(path)
    assert "ImageNet" in network.description
    for name in ("block1_conv1", "block4_conv2", STYLE_LAYERS[-1]):
        loaded = network.model.get_layer(name).get_weights()
        for value, wanted in zip(loaded, expected[name]):
            np.testing.assert_array_equal(value, wanted)
    damaged = tmp_path / "damaged.h5"
    damaged.write_bytes(b"not hdf5 at all")
    with pytest.raises(UserError, match="not a usable VGG19 weights file"):
        load_vgg_features(damaged)


# ---- decoding untrusted images ------------------------------------------------------------------

def test_decode_refuses_non_images_other_formats_and_bombs():
    image = picture(8, 8, 1)
    np.testing.assert_array_equal(decode_image(encoded(image), name="x", max_pixels=100), image)
    cases = {"not_an_image": b"<html>not an image</html>",
             "unsupported_format": encoded(image, "GIF"),
             "too_many_pixels": png_claiming(100_000, 100_000)}  # past Pillow's own bomb limit
    for reason, data in cases.items():
        with pytest.raises(ImageRejected) as caught:
            decode_image(data, name="the upload", max_pixels=10_000, formats=("PNG", "JPEG", "WEBP"))
        assert caught.value.reason == reason and "the upload" in str(caught.value)
    with pytest.raises(ImageRejected, match="over the limit of 10,000 pixels"):  # our own limit
        decode_image(png_claiming(200, 200), name="x", max_pixels=10_000)
    with pytest.raises(ImageRejected, match="truncated or damaged"):
        decode_image(encoded(image)[:-30], name="x", max_pixels=100)


def test_decode_shows_transparency_over_white():
    rgba = np.zeros((2, 2, 4), np.uint8)  # fully transparent black
    assert decode_image(encoded(rgba), name="x", max_pixels=10).tolist() == [[[255] * 3] * 2] * 2


# ---- the command line ---------------------------------------------------------------------------

def test_cli_writes_the_result_with_explicit_weights(keras2_weights_file, tmp_path, capsys):
    from condgan.cli import main

    Image.fromarray(picture(48, 36, 1)).save(tmp_path / "content.png")
    Image.fromarray(picture(30, 30, 2)).save(tmp_path / "style.jpg", quality=95)
    out = tmp_path / "out.png"
    code = main(["style", "--content", str(tmp_path / "content.png"), "--style", str(tmp_path / "style.jpg"),
                 "-o", str(out), "--size", str(SIZE), "--steps", "3", "--progress-every", "2",
                 "--vgg-weights", str(keras2_weights_file[0])])
    assert code == 0
    printed = capsys.readouterr().out
    assert "step 2/3" in printed and "step 3/3" in printed and "step 1/3" not in printed
    assert f"wrote {out} (24x32, 3 steps" in printed
    with Image.open(out) as written:
        assert written.format == "PNG" and written.size == (24, 32)


@pytest.mark.parametrize("case", ["folder", "suffix", "weights", "content"])
def test_cli_mistakes_are_one_line_errors(case, tmp_path, capsys, no_weights_anywhere):
    from condgan.cli import main

    Image.fromarray(picture(SIZE, SIZE, 1)).save(tmp_path / "a.png")
    argv = {"content": str(tmp_path / "a.png"), "style": str(tmp_path / "a.png"),
            "o": str(tmp_path / "out.png")}
    expected = {"folder": "does not exist", "suffix": "end the name in one of",
                "weights": "VGG19 weights not found", "content": "--content"}[case]
    if case == "folder":
        argv["o"] = str(tmp_path / "missing" / "out.png")
    elif case == "suffix":
        argv["o"] = str(tmp_path / "out.tiff")
    elif case == "content":
        argv["content"] = str(tmp_path / "missing.png")
    with pytest.raises(SystemExit) as exited:
        main(["style", "--content", argv["content"], "--style", argv["style"], "-o", argv["o"],
              "--size", str(SIZE), "--steps", "1"])
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: ") and expected in error[0]
    assert not (tmp_path / "out.png").exists()


# ---- POST /v1/style -------------------------------------------------------------------------------

def style_app(**options):
    from flask import Flask

    from condgan.serve.style_api import style_blueprint

    app = Flask("style-test")
    app.register_blueprint(style_blueprint(**options))
    return app.test_client()


@pytest.fixture(scope="module")
def client(random_network):
    return style_app(network_factory=lambda: random_network, max_file_bytes=20_000,
                     max_pixels=250_000, default_size=SIZE, default_steps=2)


def post(client, content=None, style=None, **fields):
    data = {name: str(value) for name, value in fields.items()}
    for name, value in (("content", content), ("style", style)):
        if value is not None:
            data[name] = (io.BytesIO(value), f"{name}.png")
    return client.post("/v1/style", data=data, content_type="multipart/form-data")


def error_of(response) -> tuple[int, str, str]:
    body = response.get_json()
    return response.status_code, body["error"]["code"], body["error"]["message"]


def test_api_answers_a_png_of_the_content_shape(client):
    response = post(client, encoded(picture(40, 30, 1)), encoded(picture(SIZE, SIZE, 2), "JPEG"), steps=2)
    assert response.status_code == 200, response.get_data()[:300]
    assert response.mimetype == "image/png" and response.headers["X-Style-Steps"] == "2"
    with Image.open(io.BytesIO(response.data)) as result:
        assert result.format == "PNG" and result.size == (24, 32)
    assert response.headers["X-Style-Size"] == "24x32"
    info = client.get("/v1/style").get_json()
    assert info["defaults"] == {"size": SIZE, "steps": 2} and info["weights"]["available"]
    assert info["limits"]["max_file_bytes"] == 20_000 and info["busy"] is False


@pytest.mark.parametrize("case, status, code", [
    ("big_file", 413, "file_too_large"),
    ("big_body", 413, "payload_too_large"),
    ("text", 400, "not_an_image"),
    ("gif", 415, "unsupported_format"),
    ("bomb", 400, "too_many_pixels"),
    ("many_pixels", 400, "too_many_pixels"),
    ("no_style", 400, "missing_style"),
    ("size", 400, "invalid_size"),
    ("steps", 400, "invalid_steps"),
    ("unknown_field", 400, "invalid_field"),
])
def test_api_refuses_bad_uploads(client, case, status, code):
    good = encoded(picture(SIZE, SIZE, 1))
    noise = np.random.default_rng(0).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    content, style, fields = good, good, {}
    if case == "big_file":
        content = encoded(noise)  # ~30 kB of incompressible pixels, over 20,000 bytes
    elif case == "big_body":
        content = style = encoded(noise) * 2
    elif case == "text":
        style = b"just some text, not an image"
    elif case == "gif":
        style = encoded(picture(SIZE, SIZE, 1), "GIF")
    elif case == "bomb":
        style = png_claiming(100_000, 100_000)
    elif case == "many_pixels":
        content = png_claiming(1000, 1000)  # under Pillow's bomb limit, over this server's
    elif case == "no_style":
        style = None
    elif case == "size":
        fields = {"size": "4096"}
    elif case == "steps":
        fields = {"steps": "lots"}
    elif case == "unknown_field":
        fields = {"style_weight": "5"}
    got = error_of(post(client, content, style, **fields))
    assert got[:2] == (status, code), got


def test_api_wants_multipart(client):
    response = client.post("/v1/style", json={"content": "x"})
    assert error_of(response)[:2] == (415, "unsupported_media_type")


def test_api_without_weights_is_503_with_the_how_to(no_weights_anywhere):
    bare = style_app()
    info = bare.get("/v1/style").get_json()
    assert info["weights"]["available"] is False and WEIGHTS_FILE in info["weights"]["message"]
    good = encoded(picture(SIZE, SIZE, 1))
    status, code, message = error_of(post(bare, good, good, size=SIZE, steps=1))
    assert (status, code) == (503, "weights_missing")
    assert WEIGHTS_FILE in message and FETCH_COMMAND in message


def test_api_runs_one_transfer_at_a_time(random_network):
    entered, release = threading.Event(), threading.Event()

    def slow_network():
        entered.set()
        release.wait(30)
        return random_network

    busy_app = style_app(network_factory=slow_network, default_size=SIZE, default_steps=1)
    good = encoded(picture(SIZE, SIZE, 1))
    first = {}
    worker = threading.Thread(target=lambda: first.update(response=post(busy_app, good, good)))
    worker.start()
    try:
        assert entered.wait(30)
        second = post(busy_app, good, good)
        assert error_of(second)[:2] == (429, "busy") and second.headers["Retry-After"]
        assert busy_app.get("/v1/style").get_json()["busy"] is True
    finally:
        release.set()
        worker.join(60)
    assert first["response"].status_code == 200


def test_api_keeps_uploads_in_memory(random_network, monkeypatch):
    """Werkzeug would spool a file part over 500 kB to a temporary file; this route never does."""
    import werkzeug.formparser

    def no_disk(*args, **kwargs):
        raise AssertionError("an upload went to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_disk)  # Werkzeug's default
    big = encoded(np.random.default_rng(2).integers(0, 256, (420, 420, 3), dtype=np.uint8))
    assert len(big) > 500 * 1024
    app = style_app(network_factory=lambda: random_network, default_size=SIZE, default_steps=1)
    response = post(app, big, encoded(picture(SIZE, SIZE, 1)))
    assert response.status_code == 200 and response.mimetype == "image/png"
