"""The GAN-INT-CLS family (Reed et al. 2016) and the sentence-encoder interface: the loss terms
against hand computations, mismatched captions that never share an image's attributes, local
and DAMSM sentence encoders (and their bad paths), a tiny run that trains, resumes exactly,
exports, loads, generates, samples from the command line and serves, and the same on JAX."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from condgan.errors import UserError
from condgan.families.intcls import IntClsConfig
from tests.helpers import assert_same_training_state, run_cli

SIZE = 16       # the networks' image size (the 32 px Shapes images are resized)
CAPTION = "a small red circle at the top"


def _softplus(x):
    return math.log1p(math.exp(x))


# --- losses --------------------------------------------------------------------------------------
def test_discriminator_loss_has_the_three_gan_cls_terms():
    from condgan.families.intcls.losses import discriminator_loss

    real, fake, wrong = np.float32([2.0, -1.0]), np.float32([-0.5, 3.0]), np.float32([1.5, -2.0])
    got = np.asarray(discriminator_loss(real, fake, wrong))
    # -log s_r - (log(1 - s_w) + log(1 - s_f)) / 2, s = sigmoid(logit)
    expected = [_softplus(-r) + (_softplus(w) + _softplus(f)) / 2 for r, f, w in zip(real, fake, wrong)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # each term moves the loss: a more confident "wrong = real" and "fake = real" cost more,
    # a more confident "real = real" costs less
    base = float(discriminator_loss(real[:1], fake[:1], wrong[:1])[0])
    assert float(discriminator_loss(real[:1], fake[:1], wrong[:1] + 1)[0]) > base
    assert float(discriminator_loss(real[:1], fake[:1] + 1, wrong[:1])[0]) > base
    assert float(discriminator_loss(real[:1] + 1, fake[:1], wrong[:1])[0]) < base
    # without CLS: the plain conditional GAN's two terms
    np.testing.assert_allclose(np.asarray(discriminator_loss(real, fake)),
                               [_softplus(-r) + _softplus(f) for r, f in zip(real, fake)], rtol=1e-6)


def test_generator_loss_adds_the_interpolated_term():
    from condgan.families.intcls.losses import generator_loss, interpolate

    fake, mixed = np.float32([0.3, -2.0]), np.float32([1.0, 0.5])
    np.testing.assert_allclose(np.asarray(generator_loss(fake)), [_softplus(-f) for f in fake],
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(generator_loss(fake, mixed, 0.5)),
                               [_softplus(-f) + 0.5 * _softplus(-m) for f, m in zip(fake, mixed)],
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(interpolate(np.float32([2.0]), np.float32([4.0]), 0.25)),
                               [3.5])


def test_hinge_losses_keep_the_gan_cls_terms():
    from condgan.families.intcls.losses import (discriminator_hinge_loss, generator_hinge_loss,
                                                get_losses)

    real, fake, wrong = np.float32([2.0, -1.0, 0.5]), np.float32([-0.5, 3.0, -2.0]), \
        np.float32([1.5, -2.0, 0.0])
    # relu(1 - s_r) = [0, 2, 0.5], relu(1 + s_w) = [2.5, 0, 1], relu(1 + s_f) = [0.5, 4, 0]
    np.testing.assert_allclose(np.asarray(discriminator_hinge_loss(real, fake, wrong)),
                               [1.5, 4.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(discriminator_hinge_loss(real, fake)), [0.5, 6.0, 0.5],
                               rtol=1e-6)
    mixed = np.float32([1.0, -0.5, 2.0])
    np.testing.assert_allclose(np.asarray(generator_hinge_loss(fake)), [0.5, -3.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(generator_hinge_loss(fake, mixed, 0.5)),
                               [0.0, -2.75, 1.0], rtol=1e-6)
    assert get_losses("hinge") == (discriminator_hinge_loss, generator_hinge_loss)
    with pytest.raises(UserError, match="loss 'wasserstein' is not known.*bce.*hinge"):
        get_losses("wasserstein")


def _scored_batch(encoder, **changes):
    """A tiny trainer (weights from seed 0) and a batch: 4 random images, their captions'
    embeddings, and the mismatched ones (the same, reversed)."""
    import keras

    from condgan.families.intcls.family import build_trainer

    keras.utils.set_random_seed(0)
    trainer = build_trainer(_tiny_config("unused", "unused", **changes), encoder.dim)
    tensor = keras.ops.convert_to_tensor
    images = tensor(np.random.default_rng(0).uniform(-1, 1, (4, SIZE, SIZE, 3)).astype("float32"))
    right = encoder.encode(["a red circle", "a blue square", "a green rhombus", "a white circle"])
    return trainer, images, tensor(right), tensor(right[::-1].copy())


def _fakes(trainer, stream: int, sentences):
    """G's images for `sentences` from the trainer's noise `stream` at step 0, as `losses` draws them."""
    from condgan.train.trainer import backend_steps

    z = backend_steps().random_numbers(trainer, "normal", stream, 0, len(sentences), trainer.latent_dim)
    return trainer.generator([z, sentences], training=False)


def _logits(trainer, images, sentences) -> np.ndarray:
    return np.asarray(trainer.discriminator([images, sentences], training=False)).reshape(-1)


def test_the_trainer_takes_the_configured_loss(tiny_encoder):
    """loss="hinge": the trainer's D and G losses are the hinge terms of D's logits."""
    from condgan.families.intcls.losses import discriminator_hinge_loss, generator_hinge_loss

    trainer, images, right, wrong = _scored_batch(tiny_encoder[1], loss="hinge")
    parts = trainer.losses(images, right, wrong, 0, training=False)
    fakes, mixed = _fakes(trainer, 1, right), 0.5 * right + 0.5 * wrong
    fake_right = _logits(trainer, fakes, right)
    expected_d = np.mean(np.asarray(discriminator_hinge_loss(
        _logits(trainer, images, right), fake_right, _logits(trainer, images, wrong))))
    expected_g = np.mean(np.asarray(generator_hinge_loss(
        fake_right, _logits(trainer, _fakes(trainer, 2, mixed), mixed))))
    np.testing.assert_allclose(float(parts["d_loss"]), expected_d, rtol=1e-5)
    np.testing.assert_allclose(float(parts["g_loss"]), expected_g, rtol=1e-5, atol=1e-6)


def test_the_trainer_scores_real_wrong_and_fake_pairs(tiny_encoder):
    """The trainer's D loss is the three-term loss of D's logits on (real, right), (fake,
    right) and (real, wrong): recomputed here from the networks themselves."""
    from condgan.families.intcls.losses import discriminator_loss

    trainer, images, right, wrong = _scored_batch(tiny_encoder[1])
    parts = trainer.losses(images, right, wrong, 0, training=False)
    expected = np.mean(np.asarray(discriminator_loss(
        _logits(trainer, images, right), _logits(trainer, _fakes(trainer, 1, right), right),
        _logits(trainer, images, wrong))))
    np.testing.assert_allclose(float(parts["d_loss"]), expected, rtol=1e-5)
    trainer.matching_aware = False
    plain = trainer.losses(images, right, wrong, 0, training=False)
    assert "d_wrong" not in plain and float(plain["d_loss"]) != pytest.approx(float(parts["d_loss"]))


def test_instance_noise_blurs_what_d_sees_and_fades_out(tiny_encoder):
    """With `d_input_noise` D scores noisy images (its losses change), the noise shrinks
    linearly over `d_input_noise_steps` and is gone after them (the losses of the plain run)."""
    import keras

    from condgan.families.intcls.family import build_trainer

    _, encoder = tiny_encoder
    keras.utils.set_random_seed(0)
    noisy = build_trainer(_tiny_config("unused", "unused", d_input_noise=0.5,
                                       d_input_noise_steps=10), encoder.dim)
    images = keras.ops.convert_to_tensor(np.zeros((4, SIZE, SIZE, 3), "float32"))
    seen = [np.asarray(noisy._seen_by_d(images, 3, step)) for step in (0, 5, 10)]
    assert abs(seen[0].std() - 0.5) < 0.02 and abs(seen[1].std() - 0.25) < 0.02
    assert np.all(seen[2] == 0)
    right = keras.ops.convert_to_tensor(encoder.encode(["a red circle", "a blue square"] * 2))
    wrong = right[::-1]
    real = keras.ops.convert_to_tensor(
        np.random.default_rng(0).uniform(-1, 1, (4, SIZE, SIZE, 3)).astype("float32"))
    at_start = noisy.losses(real, right, wrong, 0, training=False)
    after = noisy.losses(real, right, wrong, 10, training=False)
    noisy.d_input_noise = 0.0
    plain = noisy.losses(real, right, wrong, 10, training=False)
    assert float(at_start["d_real"]) != pytest.approx(float(plain["d_real"]))
    for key in plain:
        assert float(after[key]) == pytest.approx(float(plain[key]), rel=1e-6)
    with pytest.raises(UserError, match="d_input_noise"):
        from condgan.families.intcls.family import FAMILY
        FAMILY.check(_tiny_config("unused", "unused", d_input_noise=-1))


# --- networks ------------------------------------------------------------------------------------
# The tiny config's networks (text_dim 16) as they were before D had options: a run without them
# must keep these variables, in this order (checkpoints and model folders index by position).
DEFAULT_G_VARIABLES = [
    ("text_projection_dense/kernel", (16, 8)), ("text_projection_dense/bias", (8,)),
    ("project/kernel", (16, 256)), ("bn0/gamma", (16,)), ("bn0/beta", (16,)),
    ("bn0/moving_mean", (16,)), ("bn0/moving_variance", (16,)), ("up1/kernel", (4, 4, 8, 16)),
    ("bn1/gamma", (8,)), ("bn1/beta", (8,)), ("bn1/moving_mean", (8,)),
    ("bn1/moving_variance", (8,)), ("to_rgb/kernel", (4, 4, 3, 8)), ("to_rgb/bias", (3,))]
DEFAULT_D_VARIABLES = [
    ("down1/kernel", (4, 4, 3, 8)), ("down1/bias", (8,)),
    ("text_projection_dense/kernel", (16, 8)), ("text_projection_dense/bias", (8,)),
    ("down2/kernel", (4, 4, 8, 16)), ("down2_bn/gamma", (16,)), ("down2_bn/beta", (16,)),
    ("down2_bn/moving_mean", (16,)), ("down2_bn/moving_variance", (16,)),
    ("joint/kernel", (1, 1, 24, 16)), ("joint_bn/gamma", (16,)), ("joint_bn/beta", (16,)),
    ("joint_bn/moving_mean", (16,)), ("joint_bn/moving_variance", (16,)),
    ("logit/kernel", (4, 4, 16, 1)), ("logit/bias", (1,))]


def _variables(model):
    return [(v.path, tuple(v.shape)) for v in model.variables]


def _layers(model, kind):
    return [layer for layer in model._flatten_layers() if isinstance(layer, kind)]


def test_discriminator_options_change_d_only_when_asked():
    import keras

    from condgan.families.intcls.family import build_trainer
    from condgan.models.layers import MinibatchStdDev, SpectralNorm

    default = build_trainer(_tiny_config("unused", "unused"), 16)
    assert _variables(default.generator) == DEFAULT_G_VARIABLES
    assert _variables(default.discriminator) == DEFAULT_D_VARIABLES
    assert not _layers(default.discriminator, SpectralNorm)
    assert not _layers(default.discriminator, MinibatchStdDev)
    assert type(default.g_optimizer) is keras.optimizers.Adam and not default.g_optimizer.use_ema

    sn = build_trainer(_tiny_config("unused", "unused", spectral_norm=True), 16).discriminator
    wrapped = {layer.layer.name for layer in _layers(sn, SpectralNorm)}
    assert wrapped == {"down1", "down2", "text_projection_dense", "joint", "logit"}
    # every convolution and dense layer is inside a wrapper; no batch norm is left
    assert {layer.name for layer in _layers(sn, (keras.layers.Conv2D, keras.layers.Dense))} == wrapped
    assert not _layers(sn, keras.layers.BatchNormalization)
    assert not _layers(sn, MinibatchStdDev)

    mbstd = build_trainer(_tiny_config("unused", "unused", minibatch_std=True), 16).discriminator
    assert [layer.name for layer in _layers(mbstd, MinibatchStdDev)] == ["minibatch_std"]
    assert mbstd.get_layer("joint").kernel.shape == (1, 1, 16 + 1 + 8, 16)  # features, spread, text
    assert len(_layers(mbstd, keras.layers.BatchNormalization)) == 2
    both = build_trainer(_tiny_config("unused", "unused", spectral_norm=True, minibatch_std=True),
                         16).discriminator
    assert _layers(both, MinibatchStdDev) and len(_layers(both, SpectralNorm)) == 5
    scores = both([np.zeros((3, SIZE, SIZE, 3), "float32"), np.zeros((3, 16), "float32")],
                  training=True)
    assert tuple(scores.shape) == (3, 1)


# --- data ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """32 training and 16 held-out Shapes images (32 px)."""
    from condgan.data.shapes import write_shapes

    return write_shapes(tmp_path_factory.mktemp("intcls_data") / "shapes", 48, size=32, seed=0,
                        test_fraction=16 / 48)


def test_mismatched_captions_never_share_the_image_attributes(shapes):
    from condgan.data.caption_sets import load_caption_split
    from condgan.families.intcls.data import EmbeddedCaptions, IntClsStream, mismatched_images

    train = load_caption_split(shapes, "train", SIZE)
    counts = [len(c) for c in train.captions]
    first = np.concatenate([[0], np.cumsum(counts)])
    embeddings = np.arange(first[-1], dtype=np.float32)[:, None]   # row number = caption id
    # classes as Shapes gives them, and a harsher set: almost every image of one class
    for class_ids in (train.class_ids, np.where(np.arange(len(train)) % 16 == 0, 1, 0)):
        data = EmbeddedCaptions(train.images, embeddings, first, np.asarray(class_ids))
        stream = IntClsStream(data, 8, seed=3)
        for epoch in range(4):
            plan = stream.plan(epoch)
            assert np.all(data.class_ids[plan["images"]] != data.class_ids[plan["wrong_images"]])
            owner = np.searchsorted(first, plan["wrong"], side="right") - 1
            np.testing.assert_array_equal(owner, plan["wrong_images"])   # its own caption
            owner = np.searchsorted(first, plan["right"], side="right") - 1
            np.testing.assert_array_equal(owner, plan["images"])
            _, right, wrong = stream.arrays(epoch)
            np.testing.assert_array_equal(right[:, 0], plan["right"])
            np.testing.assert_array_equal(wrong[:, 0], plan["wrong"])
        # the same epoch draws the same pairs (what an exact resume needs)
        np.testing.assert_array_equal(stream.plan(2)["wrong"], IntClsStream(data, 8, 3).plan(2)["wrong"])
    # within the batch when it can: a batch with another class never looks outside it
    batch = np.array([0, 1, 2, 3])
    ids = np.array([0, 0, 1, 1, 2, 2])
    picked = mismatched_images(batch, ids, np.random.default_rng(0))
    assert set(picked) <= {0, 1, 2, 3} and np.all(ids[picked] != ids[batch])
    assert np.all(ids[mismatched_images(np.array([0, 1]), ids, np.random.default_rng(0))] != 0)


# --- sentence encoders ---------------------------------------------------------------------------
def _save_local_encoder(folder, vocabulary, dim=16, seed=1):
    """A small CLIP-style text tower (token ids -> pooled embedding) as a sentence-encoder folder."""
    import keras

    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    tokens = keras.Input((18,), dtype="int32", name="tokens")
    h = keras.layers.Embedding(len(vocabulary), 16, mask_zero=True)(tokens)
    h = keras.layers.GlobalAveragePooling1D()(h)
    keras.Model(tokens, keras.layers.Dense(dim)(h), name="text_tower").save(
        folder / "sentence_encoder.keras")
    vocabulary.save(folder / "vocabulary.json")
    return folder


@pytest.fixture(scope="module")
def tiny_encoder(shapes, tmp_path_factory):
    from condgan.data.caption_sets import load_caption_split
    from condgan.text import build_vocabulary, tokenize
    from condgan.text.sentence_encoders import load_sentence_encoder

    train = load_caption_split(shapes, "train", SIZE)
    vocabulary = build_vocabulary(tokenize(c) for caps in train.captions for c in caps)
    folder = _save_local_encoder(tmp_path_factory.mktemp("intcls_encoder") / "encoder", vocabulary)
    return folder, load_sentence_encoder(folder)


def test_a_local_sentence_encoder_keeps_the_protocol(tiny_encoder, tmp_path):
    from condgan.text.sentence_encoders import SentenceEncoder, load_sentence_encoder

    folder, encoder = tiny_encoder
    assert isinstance(encoder, SentenceEncoder) and encoder.dim == 16 and encoder.max_len == 18
    vectors = encoder.encode([CAPTION, "a blue square", CAPTION])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 16)
    # float32 kernels may round differently by batch position and size: equal to a rounding
    # error, where a different caption or a weight not restored moves every element by far more
    same = dict(rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(vectors[0], vectors[2], **same)
    assert not np.allclose(vectors[0], vectors[1], **same)
    assert encoder.unknown_words("a zebra circle") == ["zebra"]
    with pytest.raises(UserError, match="no word this model knows"):
        encoder.check_caption("zebra unicorn")
    # saved again (as a model folder does) it loads to the same numbers
    encoder.save(tmp_path / "again")
    np.testing.assert_allclose(load_sentence_encoder(tmp_path / "again").encode([CAPTION]),
                               vectors[:1], **same)


def test_bad_sentence_encoder_paths_say_what_to_do(tiny_encoder, tmp_path):
    import shutil

    from condgan.families.intcls.text_source import open_sentence_encoder
    from condgan.text.sentence_encoders import load_sentence_encoder

    folder, _ = tiny_encoder
    missing = tmp_path / "nowhere"
    with pytest.raises(UserError, match="nowhere.*does not exist.*sentence_encoder.keras"):
        open_sentence_encoder(missing)
    with pytest.raises(UserError, match="not a folder"):
        load_sentence_encoder(missing)
    no_vocabulary = tmp_path / "no_vocabulary"
    no_vocabulary.mkdir()
    shutil.copy(folder / "sentence_encoder.keras", no_vocabulary)
    with pytest.raises(UserError, match="no_vocabulary.*vocabulary.json"):
        load_sentence_encoder(no_vocabulary)
    with pytest.raises(UserError, match="neither a DAMSM run.*nor a sentence-encoder folder"):
        open_sentence_encoder(no_vocabulary)
    no_model = tmp_path / "no_model"
    no_model.mkdir()
    shutil.copy(folder / "vocabulary.json", no_model)
    with pytest.raises(UserError, match="no_model.*no .keras model"):
        load_sentence_encoder(no_model)
    several = tmp_path / "several"
    shutil.copytree(folder, several)
    shutil.copy(folder / "sentence_encoder.keras", several / "other.keras")
    (several / "sentence_encoder.keras").rename(several / "tower.keras")
    with pytest.raises(UserError, match="several .keras files"):
        load_sentence_encoder(several)
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "sentence_encoder.keras").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="safe mode"):
        load_sentence_encoder(broken)


def test_the_damsm_sentence_encoder_is_the_damsm_sentence_feature(tmp_path):
    from condgan.families.damsm.family import load_damsm
    from condgan.families.damsm.sentence_encoder import damsm_sentence_encoder
    from condgan.families.intcls.text_source import open_sentence_encoder
    from condgan.text import encode_texts
    from condgan.text.sentence_encoders import load_sentence_encoder
    from tests.attngan_fixtures import shapes_and_damsm

    _, damsm = shapes_and_damsm(tmp_path)
    encoder = damsm_sentence_encoder(damsm)
    text, _, vocabulary, config = load_damsm(damsm)
    captions = [CAPTION, "a big blue square on the left", "zebra circle"]
    tokens, lengths = encode_texts(captions, vocabulary, config.max_len)
    expected = np.asarray(text(tokens, lengths, training=False)[1])
    np.testing.assert_allclose(encoder.encode(captions), expected, rtol=1e-5, atol=1e-6)
    assert encoder.dim == config.dim and encoder.unknown_words("zebra circle") == ["zebra"]
    assert open_sentence_encoder(damsm).vocabulary == vocabulary
    encoder.save(tmp_path / "saved")   # a DAMSM encoder becomes a sentence-encoder folder too
    np.testing.assert_allclose(load_sentence_encoder(tmp_path / "saved").encode(captions), expected,
                               rtol=1e-5, atol=1e-6)


# --- a tiny run ----------------------------------------------------------------------------------
def _tiny_config(data, text_encoder, **changes) -> IntClsConfig:
    base = dict(name="tiny_int_cls", data=str(data), text_encoder=str(text_encoder),
                image_size=SIZE, latent_dim=8, projected_dim=8, g_channels=8, d_channels=8,
                batch_size=8, epochs=2, checkpoint_every_steps=2, sample_captions=2,
                samples_per_caption=2, tensorboard=False, verbose=0)
    base.update(changes)
    return IntClsConfig(**base)


def _final_checkpoint(run_dir) -> dict:
    from condgan.train.checkpoint import load_latest_checkpoint

    return load_latest_checkpoint(run_dir)[1]


@pytest.fixture(scope="module")
def trained(shapes, tiny_encoder, tmp_path_factory):
    """The same tiny run straight through (2 epochs of 4 steps) and stopped after one epoch
    then resumed; the straight run exported."""
    import condgan

    root = tmp_path_factory.mktemp("intcls_run")
    folder, _ = tiny_encoder
    config = _tiny_config(shapes, folder)
    condgan.train_model(config, root / "straight", say=lambda line: None)
    condgan.train_model(dataclasses.replace(config, epochs=1), root / "resumed", say=lambda line: None)
    condgan.train_model(config, root / "resumed", say=lambda line: None)
    model_dir = condgan.export_model(root / "straight", "tiny_int_cls", root / "models",
                                     say=lambda line: None)
    return root, model_dir


def test_a_tiny_run_trains_and_resumes_exactly(trained):
    root, _ = trained
    straight, resumed = _final_checkpoint(root / "straight"), _final_checkpoint(root / "resumed")
    assert int(straight["progress"][0]) == 8
    assert_same_training_state(straight, resumed)
    history = [json.loads(line) for line in (root / "straight" / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [4, 8]
    assert all(math.isfinite(h[k]) for h in history for k in ("d_loss", "g_loss", "d_wrong"))
    assert (root / "straight" / "samples" / "epoch_0002.png").is_file()
    assert (root / "straight" / "sentence_encoder" / "vocabulary.json").is_file()
    record = json.loads((root / "straight" / "dataset.json").read_text())
    assert record["num_images"] == 32 and record["text_dim"] == 16 and record["num_classes"] > 2


def test_the_exported_model_draws_captions_deterministically(trained):
    import condgan
    from condgan.families import get_family

    _, model_dir = trained
    card = json.loads((model_dir / "card.json").read_text())
    assert card["kind"] == "gan_int_cls" and card["image_size"] == SIZE and card["text_dim"] == 16
    assert card["step"] == 8 and card["example_caption"]
    assert get_family("gan_int_cls").conditioning == "caption"
    model = condgan.load_generator(model_dir)
    assert model.conditioning == "caption" and model.noise_dim == 8
    captions = [CAPTION, "a big blue square on the left", CAPTION]
    images = model.generate(captions=captions, seed=11)
    assert images.shape == (3, SIZE, SIZE, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, condgan.load_generator(model_dir).generate(
        captions=captions, seed=11))                                      # same seed, same pixels
    np.testing.assert_array_equal(images[0], model.generate_for_seeds([11], [CAPTION])[0])
    np.testing.assert_array_equal(images[1], model.generate_for_seeds([12], captions[1:2])[0])
    assert not np.array_equal(images[0], images[2])                      # another seed
    assert not np.array_equal(model.generate_for_seeds([5], [CAPTION]),
                              model.generate_for_seeds([5], ["a big blue square on the left"]))
    pixels = model.generate_from_noise(model.noise_for_seeds([11, 12]), captions[:2])
    np.testing.assert_array_equal(np.rint(pixels).astype(np.uint8), images[:2])
    assert model.unknown_words("a zebra circle") == ["zebra"]
    with pytest.raises(UserError, match="no word this model knows"):
        model.generate(captions=["zebra unicorn"], seed=1)


def test_sample_and_serve_need_no_change(trained, tmp_path):
    from PIL import Image

    from condgan.cli import main
    from condgan.serve.app import create_app

    _, model_dir = trained
    out = tmp_path / "grid.png"
    assert main(["sample", str(model_dir), "--caption", CAPTION, "-n", "3", "-o", str(out)]) in (0, None)
    assert out.is_file()
    client = create_app(model_dir.parent, background_load=False).test_client()
    reply = client.post("/v1/models/tiny_int_cls:generate",
                        json={"caption": "a small red zebra circle", "n": 2, "seed": 4})
    body = reply.get_json()
    assert reply.status_code == 200 and body["unknown_words"] == ["zebra"] and len(body["images"]) == 2
    reply = client.post("/v1/models/tiny_int_cls:generate", json={"caption": "zebra", "n": 1})
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "no_known_words"
    assert Image.open(out).size[0] >= 3 * SIZE


def _generator_weights(model_dir) -> list:
    import condgan

    return condgan.load_generator(model_dir).model.get_weights()


def test_without_ema_both_export_weights_are_g_own(trained):
    import condgan

    root, model_dir = trained
    live = condgan.export_model(root / "straight", "tiny_int_cls", root / "models_live",
                                weights="live", say=lambda line: None)
    state = _final_checkpoint(root / "straight")
    for exported in (model_dir, live):
        card = json.loads((exported / "card.json").read_text())
        assert card["weights"] == "live" and card["training"]["ema_decay"] == 0.0
        for i, value in enumerate(_generator_weights(exported)):
            np.testing.assert_array_equal(value, state[f"g/{i:04d}"])
    assert (json.loads((live / "card.json").read_text())["generator_fingerprint"]
            == json.loads((model_dir / "card.json").read_text())["generator_fingerprint"])
    assert not any(key.startswith("standing_sentences/") for key in state)


@pytest.fixture(scope="module")
def trained_ema(shapes, tiny_encoder, tmp_path_factory):
    """A tiny run with every new option (SNGAN's D with the minibatch channel, hinge, EMA of G)
    straight through and resumed after one epoch; the straight run exported both ways."""
    import condgan

    root = tmp_path_factory.mktemp("intcls_ema_run")
    folder, _ = tiny_encoder
    config = _tiny_config(shapes, folder, spectral_norm=True, minibatch_std=True, loss="hinge",
                          ema_decay=0.9, g_lr=1e-3, d_lr=4e-3, beta1=0.0, beta2=0.9)
    condgan.train_model(config, root / "straight", say=lambda line: None)
    condgan.train_model(dataclasses.replace(config, epochs=1), root / "resumed", say=lambda line: None)
    condgan.train_model(config, root / "resumed", say=lambda line: None)
    models = {weights: condgan.export_model(root / "straight", f"tiny_{weights}", root / "models",
                                            weights=weights, say=lambda line: None)
              for weights in ("ema", "live")}
    return root, models


def test_an_ema_run_resumes_exactly_and_keeps_the_average(trained_ema):
    from condgan.families.intcls.data import STANDING_CAPTIONS

    root, _ = trained_ema
    straight, resumed = _final_checkpoint(root / "straight"), _final_checkpoint(root / "resumed")
    assert int(straight["progress"][0]) == 8
    assert_same_training_state(straight, resumed)   # EMA slots and standing captions included
    assert straight["standing_sentences/0000"].shape == (STANDING_CAPTIONS, 16)
    g_keys = sorted(k for k in straight if k.startswith("g/"))
    assert any(not np.array_equal(straight[k], straight["ema" + k[1:]]) for k in g_keys)
    history = [json.loads(line) for line in (root / "straight" / "history.jsonl").read_text().splitlines()]
    assert all(math.isfinite(h[k]) for h in history for k in ("d_loss", "g_loss", "d_wrong"))


def test_an_ema_run_exports_the_average_or_g_own_weights(trained_ema):
    import condgan

    root, models = trained_ema
    state = _final_checkpoint(root / "straight")
    cards = {w: json.loads((d / "card.json").read_text()) for w, d in models.items()}
    assert cards["ema"]["weights"] == "ema" and cards["live"]["weights"] == "live"
    assert cards["ema"]["generator_fingerprint"] != cards["live"]["generator_fingerprint"]
    ema, live = _generator_weights(models["ema"]), _generator_weights(models["live"])
    for i, value in enumerate(live):
        np.testing.assert_array_equal(value, state[f"g/{i:04d}"])
    # the EMA's trainable weights are the checkpoint's averages; its batch-norm statistics are
    # re-estimated for them, so they are not G's
    model = condgan.load_generator(models["ema"]).model
    trainable = {id(v) for v in model.trainable_variables}
    for i, (variable, value) in enumerate(zip(model.variables, ema)):
        if id(variable) in trainable:
            np.testing.assert_array_equal(value, state[f"ema/{i:04d}"])
        else:
            assert "moving" in variable.path and not np.allclose(value, state[f"g/{i:04d}"])
    assert any(not np.array_equal(a, b) for a, b in zip(ema, live))


def test_an_ema_run_draws_its_grid_with_the_average(trained_ema):
    """The epoch's grid is the EMA export's pictures for the grid's captions and seeds, not G's."""
    import condgan
    from PIL import Image

    from condgan.basics import make_grid
    from condgan.viz import SAMPLE_GRID_SCALE

    root, models = trained_ema
    lines = (root / "straight" / "samples" / "captions.txt").read_text().splitlines()
    captions = [line.split(": ", 1)[1] for line in lines]
    columns = 2   # the tiny config's samples_per_caption
    seeds = np.tile(np.arange(columns), len(captions))
    grid = np.asarray(Image.open(root / "straight" / "samples" / "epoch_0002.png").convert("RGB"),
                      dtype=np.float32)

    def distance(weights):
        images = condgan.load_generator(models[weights]).generate_for_seeds(
            seeds, np.repeat(captions, columns).tolist())
        return np.abs(make_grid(images, columns, scale=SAMPLE_GRID_SCALE) - grid).max()

    assert distance("ema") <= 1 < distance("live")


def test_a_run_against_a_damsm_run_names_it_as_the_judge(tmp_path):
    import condgan
    from tests.attngan_fixtures import shapes_and_damsm

    data, damsm = shapes_and_damsm(tmp_path)
    config = _tiny_config(data, damsm, epochs=1, batch_size=16, checkpoint_every_steps=0)
    condgan.train_model(config, tmp_path / "run", say=lambda line: None)
    model_dir = condgan.export_model(tmp_path / "run", "damsm_int_cls", tmp_path / "models",
                                     say=lambda line: None)
    card = json.loads((model_dir / "card.json").read_text())
    assert card["dataset"]["damsm"] and card["text_dim"] == 16
    images = condgan.load_generator(model_dir).generate(captions=[CAPTION], seed=2)
    assert images.shape == (1, SIZE, SIZE, 3)


def test_bad_configs_are_refused_before_the_data_is_read(tmp_path):
    from condgan.families.intcls.family import FAMILY

    with pytest.raises(UserError, match="image size 24"):
        FAMILY.check(_tiny_config(tmp_path, tmp_path, image_size=24))
    with pytest.raises(UserError, match="interpolation_beta"):
        FAMILY.check(_tiny_config(tmp_path, tmp_path, interpolation_beta=1.5))
    with pytest.raises(UserError, match="sentence encoder"):
        FAMILY.check(_tiny_config(tmp_path, ""))
    with pytest.raises(UserError, match="loss 'wasserstein' is not known.*'bce', 'hinge'"):
        FAMILY.check(_tiny_config(tmp_path, tmp_path, loss="wasserstein"))
    for decay in (1.0, -0.1):
        with pytest.raises(UserError, match=f"ema_decay={decay} must lie in \\[0, 1\\)"):
            FAMILY.check(_tiny_config(tmp_path, tmp_path, ema_decay=decay))
    # training refuses them before it looks for the data or the encoder, and writes nothing
    import condgan

    for bad, message in (({"loss": "wasserstein"}, "wasserstein"), ({"ema_decay": 1.0}, "ema_decay")):
        with pytest.raises(UserError, match=message):
            condgan.train_model(_tiny_config(tmp_path / "no_data", tmp_path / "no_encoder", **bad),
                                tmp_path / "run", say=lambda line: None)
        assert not (tmp_path / "run").exists()


def test_a_config_file_trains_on_jax(shapes, tiny_encoder, tmp_path):
    folder, _ = tiny_encoder
    config = tmp_path / "int_cls_tiny.py"
    fields = {k: v for k, v in vars(_tiny_config(shapes, folder, epochs=1)).items()}
    config.write_text("from condgan.families.intcls import IntClsConfig\n\n\ndef get_config():\n"
                      f"    return IntClsConfig(**{fields!r})\n")
    result = run_cli("train", "--config", str(config), "--run-dir", str(tmp_path / "jax"),
                     env={"KERAS_BACKEND": "jax"})
    assert result.returncode == 0, result.stderr[-2000:]
    last = json.loads((tmp_path / "jax" / "history.jsonl").read_text().splitlines()[-1])
    assert last["images_seen"] == 32 and math.isfinite(last["d_loss"]) and math.isfinite(last["g_loss"])
    sessions = (tmp_path / "jax" / "sessions.jsonl").read_text()
    assert '"jax"' in sessions


def test_the_sn_config_loads_and_differs_from_the_baseline_in_its_recipe_only():
    from condgan.config import load_config
    from condgan.families import family_of_config
    from tests.helpers import ROOT

    config = load_config(ROOT / "configs" / "gan_int_cls_shapes_sn.py")
    assert isinstance(config, IntClsConfig)
    family = family_of_config(config)
    assert family.kind == "gan_int_cls"
    family.check(config)
    baseline = load_config(ROOT / "configs" / "gan_int_cls_shapes.py")
    changed = {k: v for k, v in config.to_json().items() if baseline.to_json()[k] != v}
    assert changed == {"name": "gan_int_cls_shapes_sn", "spectral_norm": True,
                       "minibatch_std": True, "loss": "hinge", "ema_decay": 0.999, "g_lr": 1e-4,
                       "d_lr": 4e-4, "beta1": 0.0, "beta2": 0.9}
    assert config.d_input_noise == 0.3 and config.d_input_noise_steps == 10 * 281
    assert config.epochs == 10 and config.image_size == 64
    assert config.text_encoder == "runs/damsm_shapes"
