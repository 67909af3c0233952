"""The conditional VAE family: its objective against a hand computation, training that lowers the
held-out -ELBO, exact resume, the model folder (decoder served as a generator, encoder for
reconstruction and interpolation), bad input, the CLI, and JAX."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from condgan.errors import UserError
from condgan.families.cvae import CvaeConfig
from condgan.runs import train_run
from tests.helpers import run_cli, tiny_array_set


def tiny_config(**changes) -> CvaeConfig:
    base = dict(name="tiny_cvae", image_size=16, latent_dim=8, encoder_channels=16,
                decoder_channels=16, batch_size=16, epochs=2, checkpoint_every_steps=0,
                tensorboard=False, samples_per_class=4, verbose=0, kl_warmup_steps=4, lr=2e-3)
    base.update(changes)
    return CvaeConfig(**base)


def test_objective_matches_a_hand_computation():
    from condgan.families.cvae.objective import bits_per_dim, kl_to_prior, reconstruction_nll

    rng = np.random.default_rng(0)
    x, decoded = rng.uniform(-1, 1, (2, 4, 4, 3)), rng.uniform(-1, 1, (2, 4, 4, 3))
    log_sigma = np.float32(-0.7)
    sigma, dims = math.exp(-0.7), 48
    expected = [np.sum((x[i] - decoded[i]) ** 2) / (2 * sigma ** 2) + dims * math.log(sigma)
                + dims / 2 * math.log(2 * math.pi) for i in range(2)]
    np.testing.assert_allclose(np.asarray(reconstruction_nll(x.astype("float32"),
                                                             decoded.astype("float32"), log_sigma)),
                               expected, rtol=1e-5)
    mean, log_var = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    kl = [0.5 * np.sum(np.exp(log_var[i]) + mean[i] ** 2 - 1 - log_var[i]) for i in range(2)]
    np.testing.assert_allclose(np.asarray(kl_to_prior(mean.astype("float32"),
                                                      log_var.astype("float32"))), kl, rtol=1e-5)
    assert float(kl_to_prior(np.zeros((1, 5), "float32"), np.zeros((1, 5), "float32"))[0]) == 0.0
    # a perfect 8-bit model at -ELBO = -D log 127.5 nats has 0 bits per dimension
    assert abs(float(bits_per_dim(-dims * math.log(127.5), dims))) < 1e-9


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny cVAE trained for 12 epochs on two learnable classes, and its export."""
    from condgan.api import export_model

    root = tmp_path_factory.mktemp("cvae")
    data = tiny_array_set(64, 16)
    config = tiny_config(epochs=12)
    train_run(config, root / "run", data=data)
    model_dir = export_model(root / "run", "tiny_cvae", root / "models")
    return root, data, model_dir


def test_training_lowers_the_negative_elbo(trained):
    root, _, _ = trained
    history = [json.loads(line) for line in (root / "run" / "history.jsonl").read_text().splitlines()]
    assert len(history) == 12
    assert history[-1]["neg_elbo"] < history[0]["neg_elbo"] - 100
    assert {"reconstruction", "kl", "sigma", "loss"} <= set(history[-1])
    assert history[-1]["sigma"] < history[0]["sigma"]  # the decoder learned to be surer
    assert (root / "run" / "samples" / "epoch_0012.png").is_file()


def test_the_model_folder_serves_samples_and_reconstructs(trained):
    from condgan.api import load_generator

    _, data, model_dir = trained
    card = json.loads((model_dir / "card.json").read_text())
    assert card["kind"] == "cvae" and card["classes"] == ["dark", "stripes"]
    assert card["files"] == {"keras": "generator.keras", "encoder": "encoder.keras"}
    assert 0 < card["decoder_sigma"] < 1
    model = load_generator(model_dir)
    assert model.conditioning == "class"
    a = model.generate(labels=["stripes"] * 3, seed=4)
    np.testing.assert_array_equal(a, model.generate_for_seeds([4, 5, 6], [1, 1, 1]))
    # The stripes class is bright every other column: decoded stripes are brighter than dark.
    dark = model.generate(labels=["dark"] * 8, seed=0)
    assert a.mean() > dark.mean() + 20
    recon = model.reconstruct(data.x[:8], data.y[:8])
    assert recon.shape == (8, 16, 16, 3) and recon.dtype == np.uint8
    error = np.abs(recon.astype(float) - data.x[:8]).mean()
    swapped = np.abs(recon.astype(float) - data.x[1:9]).mean()  # against the other class
    assert error < swapped
    line = model.interpolate(data.x[0], data.x[1], label="dark", steps=5)
    assert line.shape == (5, 16, 16, 3)
    np.testing.assert_array_equal(line[0], model.reconstruct(data.x[:1], ["dark"])[0])
    elbo = model.negative_elbo(data.x[:6], data.y[:6])
    assert elbo.shape == (6,) and np.isfinite(elbo).all()


@pytest.mark.parametrize("call, message", [
    (lambda m, d: m.reconstruct(d.x[:2, :8], d.y[:2]), r"shape \(N, 16, 16, 3\)"),
    (lambda m, d: m.reconstruct(d.x[:2].astype("float32"), d.y[:2]), "uint8"),
    (lambda m, d: m.reconstruct(d.x[:2]), "labels"),
    (lambda m, d: m.reconstruct(d.x[:2], ["dark"]), "one label per image"),
    (lambda m, d: m.reconstruct(d.x[:2], ["zebra", "dark"]), "zebra"),
    (lambda m, d: m.interpolate(d.x[0], d.x[1], "dark", steps=1), "at least 2"),
])
def test_bad_input_names_the_fix(trained, call, message):
    from condgan.api import load_generator

    _, data, model_dir = trained
    with pytest.raises(UserError, match=message):
        call(load_generator(model_dir), data)


def test_resume_continues_exactly(tmp_path):
    from condgan.train.checkpoint import load_latest_checkpoint

    data = tiny_array_set(64, 16)
    train_run(tiny_config(epochs=4), tmp_path / "straight", data=data)
    train_run(tiny_config(epochs=2), tmp_path / "resumed", data=data)
    train_run(tiny_config(epochs=4), tmp_path / "resumed", resume=True, data=data)
    (step_a, a), (step_b, b) = (load_latest_checkpoint(tmp_path / r) for r in ("straight", "resumed"))
    assert step_a == step_b == 16
    for key in a:
        if key != "wall_time_s":
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_the_registry_serves_a_cvae_as_a_class_model(trained):
    from condgan.serve.app import create_app

    _, _, model_dir = trained
    app = create_app(model_dir.parent, background_load=False)
    client = app.test_client()
    (info,) = client.get("/v1/models").get_json()["models"]
    assert info["kind"] == "cvae" and info["conditioning"] == "label"
    answer = client.post("/v1/models/tiny_cvae:generate", json={"label": "dark", "n": 2, "seed": 1})
    assert answer.status_code == 200 and len(answer.get_json()["images"]) == 2


def test_a_config_file_trains_from_the_command_line_and_on_jax(tmp_path):
    from condgan.data.arrays import save_array_set

    # A data folder with a test split of its own: the history gets the held-out -ELBO.
    save_array_set(tmp_path / "tiny" / "train.npz", tiny_array_set(64, 16), source="tiny")
    save_array_set(tmp_path / "tiny" / "test.npz", tiny_array_set(32, 16), source="tiny")
    config = tmp_path / "cvae_tiny.py"
    fields = {k: v for k, v in vars(tiny_config()).items() if k not in ("name", "data")}
    config.write_text("from condgan.families.cvae import CvaeConfig\n\n\ndef get_config():\n"
                      f"    return CvaeConfig(name='cli_cvae', data={str(tmp_path / 'tiny')!r}, "
                      f"**{fields!r})\n")
    for backend in ("tensorflow", "jax"):
        run = tmp_path / backend
        result = run_cli("train", "--config", str(config), "--run-dir", str(run),
                         env={"KERAS_BACKEND": backend})
        assert result.returncode == 0, result.stderr[-2000:]
        last = json.loads((run / "history.jsonl").read_text().splitlines()[-1])
        assert last["images_seen"] == 128 and math.isfinite(last["neg_elbo"])
        assert last["val_neg_elbo"] > 0 and 0 < last["val_bits_per_dim"] < 9
    bad = run_cli("train", "--config", str(config), "--run-dir", str(tmp_path / "bad"),
                  "--set", "decoder_conditioning=film")
    assert bad.returncode == 2 and "decoder_conditioning" in bad.stderr and "projection" in bad.stderr


def _png(image: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_reconstruct_and_interpolate_over_http(trained, tmp_path):
    import io

    from PIL import Image

    from condgan.api import load_generator
    from condgan.serve.app import create_app
    from tests.test_serve_registry import make_models

    _, data, model_dir = trained
    make_models(model_dir.parent, caption=False)  # GANs beside it: they have no encoder
    client = create_app(model_dir.parent, background_load=False).test_client()
    big = np.kron(data.x[1][:, :12], np.ones((4, 4, 1), np.uint8))  # 64x48: cropped, resized
    answer = client.post("/v1/models/tiny_cvae:reconstruct", content_type="multipart/form-data",
                         data={"image": (io.BytesIO(_png(big)), "a.png"), "label": "stripes"})
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    assert np.asarray(Image.open(io.BytesIO(answer.data))).shape == (16, 34, 3)
    answer = client.post("/v1/models/tiny_cvae:reconstruct", content_type="multipart/form-data",
                         data={"image": (io.BytesIO(_png(data.x[1])), "a.png"), "label": "stripes"})
    grid = np.asarray(Image.open(io.BytesIO(answer.data)))
    model = load_generator(model_dir)
    np.testing.assert_array_equal(grid[:16, :16], data.x[1])  # the image as the model saw it
    np.testing.assert_array_equal(grid[:16, 18:34], model.reconstruct(data.x[1:2], ["stripes"])[0])
    line = client.post("/v1/models/tiny_cvae:interpolate", content_type="multipart/form-data",
                       data={"first": (io.BytesIO(_png(data.x[0])), "a.png"),
                             "second": (io.BytesIO(_png(data.x[1])), "b.png"),
                             "label": "dark", "steps": "4"})
    assert line.status_code == 200
    for files, fields, status, code in [
            ({"image": b"not a png"}, {"label": "dark"}, 400, "not_an_image"),
            ({"image": _png(data.x[0])}, {}, 400, "missing_label"),
            ({"image": _png(data.x[0])}, {"label": "dark", "colour": "red"}, 400, "invalid_field")]:
        body = {k: (io.BytesIO(v), "x.png") for k, v in files.items()} | fields
        answer = client.post("/v1/models/tiny_cvae:reconstruct", content_type="multipart/form-data",
                             data=body)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code)
    unknown = client.post("/v1/models/tiny_cvae:reconstruct", content_type="multipart/form-data",
                          data={"image": (io.BytesIO(_png(data.x[0])), "x.png"), "label": "zebra"})
    assert unknown.status_code == 400 and "zebra" in unknown.get_json()["error"]["message"]
    gan = client.post("/v1/models/tiny_gan:reconstruct", content_type="multipart/form-data",
                      data={"image": (io.BytesIO(_png(data.x[0])), "x.png")})
    assert gan.status_code == 400 and "['tiny_cvae']" in gan.get_json()["error"]["message"]
    json_body = client.post("/v1/models/tiny_cvae:reconstruct", json={"image": "x"})
    assert json_body.status_code == 415


def test_reconstruct_and_interpolate_from_the_command_line(trained, tmp_path):
    from PIL import Image

    _, data, model_dir = trained
    for i in range(2):
        Image.fromarray(data.x[i]).save(tmp_path / f"{i}.png")
    out = tmp_path / "recon.png"
    done = run_cli("reconstruct", str(model_dir), "--image", str(tmp_path / "0.png"), "--image",
                   str(tmp_path / "1.png"), "--label", "dark", "-o", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.is_file() and "2 images and their reconstructions" in done.stdout
    line = run_cli("interpolate", str(model_dir), "--image", str(tmp_path / "0.png"), "--image",
                   str(tmp_path / "1.png"), "--label", "dark", "--steps", "3", "-o",
                   str(tmp_path / "line.png"))
    assert line.returncode == 0, line.stderr[-2000:]
    one = run_cli("interpolate", str(model_dir), "--image", str(tmp_path / "0.png"), "--label",
                  "dark", "-o", str(tmp_path / "x.png"))
    assert one.returncode == 2 and "two images" in one.stderr
    missing = run_cli("reconstruct", str(model_dir), "--image", str(tmp_path / "nope.png"),
                      "--label", "dark", "-o", str(tmp_path / "y.png"))
    assert missing.returncode == 2 and "nope.png" in missing.stderr


def test_evaluate_scores_the_held_out_elbo_into_the_card(trained, tmp_path):
    from condgan.api import evaluate_model, load_generator
    from condgan.data.arrays import save_array_set
    from condgan.errors import UserError
    from tests.test_serve_registry import make_models

    _, data, model_dir = trained
    held_out = tiny_array_set(40, 16)
    save_array_set(tmp_path / "tiny" / "test.npz", held_out, source="tiny")
    save_array_set(tmp_path / "tiny" / "train.npz", data, source="tiny")
    results = evaluate_model(model_dir, str(tmp_path / "tiny"), metrics="held_out_neg_elbo", batch_size=16,
                             say=lambda line: None)
    entry = results["held_out_neg_elbo"]
    model = load_generator(model_dir)
    expected = np.concatenate([model.negative_elbo(held_out.x[s:s + 16],
                                                   [held_out.classes[i] for i in held_out.y[s:s + 16]],
                                                   seed=s) for s in range(0, 40, 16)]).mean()
    assert abs(entry["value"] - expected) < 1e-2 and 0 < entry["bits_per_dim"] < 9
    card = json.loads((model_dir / "card.json").read_text())
    assert card["metrics"]["held_out_neg_elbo"]["protocol"]["num_reference"] == 40
    gan_dir = make_models(tmp_path / "gans", caption=False) / "tiny_gan"
    with pytest.raises(UserError, match="encoder"):
        evaluate_model(gan_dir, str(tmp_path / "tiny"), metrics="held_out_neg_elbo", say=lambda line: None)
