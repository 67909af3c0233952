"""Loss functions against hand values; DiffAugment geometry."""
import numpy as np
import pytest

from condgan.errors import UserError
from condgan.train.diffaugment import diff_augment, parse_policy
from condgan.train.losses import get_losses


def test_bce_and_hinge_values():
    d_bce, g_bce = get_losses("bce")
    real, fake = np.array([[2.0]], np.float32), np.array([[-1.0]], np.float32)
    expected = np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))
    np.testing.assert_allclose(np.asarray(d_bce(real, fake)), [[expected]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g_bce(fake)), [[np.log1p(np.exp(1.0))]], rtol=1e-6)
    d_hinge, g_hinge = get_losses("hinge")
    np.testing.assert_allclose(np.asarray(d_hinge(np.array([0.5, 3.0]), np.array([-2.0, 0.0]))),
                               [0.5 + 0.0, 0.0 + 1.0])
    np.testing.assert_allclose(np.asarray(g_hinge(np.array([0.7]))), [-0.7])
    with pytest.raises(UserError, match="loss 'wgan'"):
        get_losses("wgan")


def test_translation_moves_pixels_and_zero_fills():
    x = np.zeros((1, 16, 16, 1), np.float32)
    x[0, 8, 8, 0] = 1.0
    # u = (0.5, 0.5) is no shift; u -> 1 is the largest positive shift (2 px at 16 px).
    same = np.asarray(diff_augment(x, np.array([[0, 0, 0, 0.5, 0.5, 0, 0]], np.float32), ("translation",)))
    np.testing.assert_array_equal(same, x)
    moved = np.asarray(diff_augment(x, np.array([[0, 0, 0, 0.99, 0.0, 0, 0]], np.float32), ("translation",)))
    assert moved[0, 10, 6, 0] == 1.0 and moved.sum() == 1.0


def test_cutout_blanks_a_square_of_half_the_side():
    x = np.ones((1, 16, 16, 3), np.float32)
    out = np.asarray(diff_augment(x, np.array([[0, 0, 0, 0, 0, 0.5, 0.5]], np.float32), ("cutout",)))
    zero_rows = (out[0, :, :, 0] == 0).sum(axis=1)
    assert (out == 0).sum() == 8 * 8 * 3 and zero_rows.max() == 8


def test_color_keeps_shape_and_policy_parsing():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    u = np.full((2, 7), 0.5, np.float32)  # brightness 0, saturation x1, contrast x1: identity
    np.testing.assert_allclose(np.asarray(diff_augment(x, u, ("color",))), x, atol=1e-6)
    assert parse_policy("color, cutout") == ("color", "cutout")
    with pytest.raises(UserError, match="policy"):
        parse_policy("color,zoom")


def test_instance_noise_is_what_d_sees_on_top_and_fades_over_its_steps():
    from condgan.families.gan.trainer import GAN
    from condgan.models import build_discriminator, build_generator

    gan = GAN(build_generator(16, 8, 8), build_discriminator(16, 8), latent_dim=8,
              conditional=False, d_input_noise=0.3, d_input_noise_steps=100)
    images = np.zeros((32, 16, 16, 3), np.float32)
    at_start = np.asarray(gan._augment(images, 0, 32, 6))
    halfway = np.asarray(gan._augment(images, 50, 32, 6))
    after = np.asarray(gan._augment(images, 100, 32, 6))
    assert abs(at_start.std() - 0.3) < 0.01 and abs(halfway.std() - 0.15) < 0.01
    assert np.all(after == 0)
    # Keyed by (seed, stream, step): the same step draws the same noise (a resume redraws it).
    np.testing.assert_array_equal(at_start, np.asarray(gan._augment(images, 0, 32, 6)))
    assert not np.array_equal(at_start, np.asarray(gan._augment(images, 1, 32, 6)))
    plain = GAN(build_generator(16, 8, 8), build_discriminator(16, 8), latent_dim=8,
                conditional=False)
    assert np.all(np.asarray(plain._augment(images, 0, 32, 6)) == 0)
