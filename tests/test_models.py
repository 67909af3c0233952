"""Generators and discriminators: shapes, range, conditioning, safe-mode round trip."""
import numpy as np
import pytest

import keras

from condgan.errors import UserError
from condgan.models import build_discriminator, build_generator


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("conditioning", ["none", "concat", "projection"])
def test_shapes_and_value_range(size, conditioning):
    classes = 0 if conditioning == "none" else 3
    g = build_generator(size, 8, 8, classes, conditioning)
    d = build_discriminator(size, 8, classes, conditioning, spectral_norm=conditioning == "projection")
    noise = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32) * 3
    labels = np.array([0, 1, 2, 0], np.int32)
    images = np.asarray(g([noise, labels] if classes else noise, training=False))
    assert images.shape == (4, size, size, 3)
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0
    logits = np.asarray(d([images, labels] if classes else images, training=False))
    assert logits.shape == (4, 1) and np.isfinite(logits).all()


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_label_changes_generator_and_discriminator_output(conditioning):
    g = build_generator(16, 8, 8, 3, conditioning)
    d = build_discriminator(16, 8, 3, conditioning)
    if conditioning == "projection":  # CBN starts as plain BN: give classes distinct gains
        g.get_layer("cbn1").gain.assign(np.random.default_rng(0).uniform(0.5, 1.5, (3, 8)))
    noise = np.repeat(np.random.default_rng(1).standard_normal((1, 8)).astype(np.float32), 2, 0)
    labels = np.array([0, 2], np.int32)
    images = np.asarray(g([noise, labels], training=False))
    assert np.abs(images[0] - images[1]).max() > 1e-4
    same = np.repeat(images[:1], 2, 0)
    logits = np.asarray(d([same, labels], training=False))
    assert abs(logits[0, 0] - logits[1, 0]) > 1e-6


def test_unsupported_image_size_is_a_user_error():
    with pytest.raises(UserError, match="image size 48 is not supported"):
        build_generator(48)
    with pytest.raises(UserError, match="conditioning 'film'"):
        build_generator(32, conditioning="film")


def test_custom_layers_round_trip_in_safe_mode(tmp_path):
    g = build_generator(16, 8, 8, 3, "projection")
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    noise = np.ones((2, 8), np.float32)
    labels = np.array([1, 2], np.int32)
    np.testing.assert_allclose(loaded([noise, labels]), g([noise, labels]), atol=1e-6)


def test_standing_statistics_match_the_weights_they_belong_to():
    """After re-estimation, inference-mode output matches training-mode output on a large
    batch (the statistics describe these weights, not stale ones)."""
    from condgan.models.standing_stats import recompute_bn_statistics

    g = build_generator(16, 8, 8, 0, "none")
    for v in g.trainable_variables:  # weights the moving statistics never saw
        v.assign(v.numpy() * 1.7 + 0.05)
    noise = np.random.default_rng(5).standard_normal((512, 8)).astype(np.float32)
    stale = np.abs(np.asarray(g(noise, training=False)) - np.asarray(g(noise, training=True))).mean()
    recompute_bn_statistics(g, 8, 0, seed=1, batches=4, batch_size=256)
    fresh = np.abs(np.asarray(g(noise, training=False)) - np.asarray(g(noise, training=True))).mean()
    assert fresh < 0.25 * stale
    assert all(bn.momentum == 0.9 for bn in g.layers if isinstance(bn, keras.layers.BatchNormalization))


def test_auxiliary_classifier_adds_a_class_logits_output():
    d = build_discriminator(16, 8, 3, "projection", spectral_norm=True, aux_classifier=True)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    score, class_logits = d([images, np.array([0, 1, 2, 0], np.int32)], training=False)
    assert np.asarray(score).shape == (4, 1) and np.asarray(class_logits).shape == (4, 3)
    # The class head reads the image only: the label given with it does not move it.
    _, other = d([images, np.array([2, 2, 2, 2], np.int32)], training=False)
    np.testing.assert_allclose(np.asarray(class_logits), np.asarray(other), atol=1e-6)
    with pytest.raises(UserError, match="aux_classifier_weight=0"):
        build_discriminator(16, 8, 0, "none", aux_classifier=True)


def test_spectral_norm_has_the_papers_semantics():
    """The layer computes with W / sigma(W), the gradient flows through sigma (u and v held
    constant, as in the paper and PyTorch), and a training call moves u but never the kernel."""
    import tensorflow as tf

    from condgan.models.layers import SpectralNorm

    rng = np.random.default_rng(0)
    layer = SpectralNorm(keras.layers.Dense(3))
    x = rng.standard_normal((4, 5)).astype(np.float32)
    layer(x)
    w = layer.kernel.numpy().copy()
    u_before = layer.vector_u.numpy().copy()
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * np.arange(12, dtype=np.float32).reshape(4, 3))
    grad = tape.gradient(loss, layer.kernel).numpy()
    np.testing.assert_array_equal(layer.kernel.numpy(), w)        # the kernel keeps W
    assert not np.allclose(layer.vector_u.numpy(), u_before)       # u advanced

    # The same function in numpy with the step's u and v fixed, differentiated numerically.
    u = u_before.ravel() / np.linalg.norm(u_before)
    v = u @ w.T
    v /= np.linalg.norm(v)
    u = v @ w
    u /= np.linalg.norm(u)
    bias = layer.layer.bias.numpy()
    weights = np.arange(12, dtype=np.float64).reshape(4, 3)

    def f(kernel):
        sigma = v @ kernel @ u
        return np.sum((x @ (kernel / sigma) + bias) * weights)

    np.testing.assert_allclose(np.asarray(y), x @ (w / (v @ w @ u)) + bias, rtol=1e-5, atol=1e-6)
    numeric = np.zeros_like(w, dtype=np.float64)
    for index in np.ndindex(w.shape):
        step = np.zeros_like(w, dtype=np.float64)
        step[index] = 1e-4
        numeric[index] = (f(w + step) - f(w - step)) / 2e-4
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-3)
    # and the sigma term matters: the gradient of x @ W / sigma with sigma held fixed differs
    assert np.abs(grad - x.T @ weights / (v @ w @ u)).max() > 1e-2


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("conditioning", ["none", "projection"])
def test_resnet_shapes_value_range_and_class_head(size, conditioning):
    from condgan.models import build_resnet_discriminator, build_resnet_generator

    classes = 3 if conditioning == "projection" else 0
    g = build_resnet_generator(size, 8, 4, classes, conditioning)
    d = build_resnet_discriminator(size, 4, classes, conditioning, aux_classifier=bool(classes))
    noise = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32) * 3
    labels = np.array([0, 1, 2, 0], np.int32)
    images = np.asarray(g([noise, labels] if classes else noise, training=False))
    assert images.shape == (4, size, size, 3)
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0
    out = d([images, labels] if classes else images, training=False)
    score, class_logits = out if classes else (out, None)
    assert np.asarray(score).shape == (4, 1) and np.isfinite(np.asarray(score)).all()
    if classes:
        assert np.asarray(class_logits).shape == (4, 3)
    # D ends at 8x8 whatever the size (SNGAN's and BigGAN's CIFAR networks), then sum-pools.
    assert d.get_layer(next(l.name for l in reversed(d.layers) if l.name.startswith("block"))
                       ).output.shape[1:3] == (8, 8)


def test_resnet_widths_are_sngans_at_base_64():
    """G 4 x base channels and D 2 x base, as docs and configs/cgan_cifar10_resnet.py state."""
    from condgan.models import build_resnet_discriminator, build_resnet_generator

    assert round(build_resnet_generator(32, 128, 64, 10, "projection").count_params() / 1e6, 1) == 4.3
    assert round(build_resnet_discriminator(32, 64, 10, "projection").count_params() / 1e6, 2) == 1.06


def test_resnet_rejects_what_it_does_not_have():
    from condgan.models import build_resnet_discriminator, build_resnet_generator

    with pytest.raises(UserError, match="architecture='resnet'"):
        build_resnet_generator(32, 8, 4, 3, "concat")
    with pytest.raises(UserError, match="auxiliary classifier"):
        build_resnet_discriminator(32, 4, 0, "none", aux_classifier=True)
    with pytest.raises(UserError, match="image size 48"):
        build_resnet_generator(48)


def test_minibatch_stddev_lets_d_see_a_batch_of_identical_images(tmp_path):
    from condgan.models.layers import MinibatchStdDev

    layer = MinibatchStdDev()
    varied = np.random.default_rng(0).normal(size=(8, 4, 4, 3)).astype("float32")
    same = np.repeat(varied[:1], 8, axis=0)
    out_varied, out_same = np.asarray(layer(varied)), np.asarray(layer(same))
    assert out_varied.shape == (8, 4, 4, 4)
    np.testing.assert_array_equal(out_varied[..., :3], varied)
    assert out_same[..., 3].max() < 1e-3 < out_varied[..., 3].min()
    d = build_discriminator(32, 8, spectral_norm=True, minibatch_std=True)
    assert "minibatch_std" in [layer.name for layer in d.layers]
    d.save(tmp_path / "d.keras")
    loaded = keras.saving.load_model(tmp_path / "d.keras", safe_mode=True)
    images = np.random.default_rng(1).uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded(images), d(images), atol=1e-5)
