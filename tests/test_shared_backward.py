"""The fused step's shared backward pass through D on the fakes (BCE) computes the same update
as the plain two-pass step, and is only used where it is exact."""
import numpy as np
import pytest

from condgan.families.gan import GanConfig
from condgan.families.gan.family import build_gan


def _config(**changes):
    base = dict(image_size=16, latent_dim=8, g_channels=8, d_channels=8, batch_size=8, loss="bce",
                conditioning="concat", spectral_norm=False, d_dropout=0.0, ema_decay=0.0,
                d_lr=1e-3, g_lr=1e-3, beta1=0.5)
    base.update(changes)
    return GanConfig(**base)


def _weights_after_steps(config, shared: bool, steps: int = 3):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    gan = build_gan(config, 3)
    assert gan.shared_fake_backward  # the configs below all qualify
    gan.shared_fake_backward = shared
    rng = np.random.default_rng(0)
    real = tf.constant(rng.uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32))
    labels = tf.constant(np.arange(8, dtype=np.int32) % 3)
    step = tf.function(gan.train_step)
    for _ in range(steps):
        logs = step((real, labels))
    logs = {k: float(v) for k, v in logs.items()} if steps else {}
    return ([v.numpy() for v in gan.discriminator.trainable_variables],
            [v.numpy() for v in gan.generator.trainable_variables], logs)


@pytest.mark.parametrize("changes", [
    {},                                                                    # the benchmark's recipe, no dropout
    {"conditioning": "projection", "spectral_norm": True,
     "diffaugment": "color,translation,cutout"},                          # SN, projection, augmentation
    {"conditional": False, "conditioning": "none", "d_dropout": 0.3},     # dropout (per image)
])
def test_shared_backward_matches_two_backward_passes(changes):
    config = _config(**changes)
    d_shared, g_shared, logs_shared = _weights_after_steps(config, shared=True)
    d_plain, g_plain, logs_plain = _weights_after_steps(config, shared=False)
    for a, b in zip(d_shared + g_shared, d_plain + g_plain):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert logs_shared == pytest.approx(logs_plain, rel=1e-4)
    # and the steps moved both players: the comparison is not between two no-ops
    d_start, g_start, _ = _weights_after_steps(config, shared=False, steps=0)
    assert max(np.abs(a - b).max() for a, b in zip(d_start, d_plain)) > 1e-4
    assert max(np.abs(a - b).max() for a, b in zip(g_start, g_plain)) > 1e-4


@pytest.mark.parametrize("changes", [{"loss": "hinge"}, {"aux_classifier_weight": 1.0, "conditioning": "projection"},
                                     {"n_critic": 2}])
def test_shared_backward_is_off_where_it_would_not_be_exact(changes):
    assert not build_gan(_config(**changes), 3).shared_fake_backward


def test_generator_gradient_survives_fakes_the_discriminator_rejects():
    """A fake with logit -100 has sigmoid(x) ~ 4e-44 (float32 underflow): without the floor its G gradient would be
    lost in the rescaling; with it, G still gets the plain step's gradient."""
    import tensorflow as tf

    config = _config()
    gan = build_gan(config, 3)
    bias = gan.discriminator.get_layer("logit").bias
    bias.assign(bias - 100.0)  # every fake (and real) logit near -100
    rng = np.random.default_rng(1)
    real = tf.constant(rng.uniform(-1, 1, (8, 16, 16, 3)).astype(np.float32))
    labels = tf.constant(np.arange(8, dtype=np.int32) % 3)
    from condgan.families.gan.tf_shared_backward import shared_backward_gradients

    _, g_shared, _ = shared_backward_gradients(gan, real, labels)
    with tf.GradientTape() as tape:
        losses, _ = gan.fused_losses(real, labels, gan.d_optimizer.iterations)
    g_plain = tape.gradient(losses["g"], gan.generator.trainable_variables)
    g_shared, g_plain = ([tf.convert_to_tensor(g).numpy() for g in grads] for grads in (g_shared, g_plain))
    for a, b in zip(g_shared, g_plain):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)
    assert max(np.abs(g).max() for g in g_plain) > 1e-3
