"""Every shipped model loads through `condgan.load_generator`, answers `generate` with uint8
images, and draws the pixels it drew when it was shipped for a few pinned seeds (to one level of
rounding: another CPU may order float sums differently)."""
from pathlib import Path

import numpy as np
import pytest

import condgan

ROOT = Path(__file__).resolve().parents[1]
PINNED = np.load(ROOT / "tests" / "data" / "shipped_pixels.npz", allow_pickle=False)
SEEDS = [0, 7, 123, 99999]
CONDITIONS = {
    "cgan_cifar10": {"labels": ["airplane", "horse", "ship", "truck"]},
    "gan_horses": {},
    "gan_shapes": {},
    "cvae_digits": {"labels": ["0", "3", "7", "9"]},
    "cvae_cifar10": {"labels": ["airplane", "cat", "frog", "truck"]},
    "cgan_digits": {"labels": ["2", "4", "6", "8"]},
    "attngan_shapes": {"captions": ["a large blue circle at the top on a black background",
                                    "a small red square at the bottom on white",
                                    "a large green triangle in the center on a gray background",
                                    "a big yellow diamond on the left on a white background"]},
    "stylegan_shapes": {},
}
CONDITIONS["stackgan_shapes"] = CONDITIONS["gan_int_cls_shapes"] = CONDITIONS["attngan_shapes"]


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_shipped_model_draws_its_pinned_pixels(name):
    model = condgan.load_generator(ROOT / "models" / name)
    conditions = next(iter(CONDITIONS[name].values()), None)
    images = model.generate_for_seeds(SEEDS, conditions)
    assert images.dtype == np.uint8 and images.shape == PINNED[name].shape
    difference = np.abs(images.astype(int) - PINNED[name].astype(int))
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01, (difference.max(), (difference > 0).mean())
    # the keyword form gives the same images: image i depends on its own condition and seed only
    again = model.generate(seed=SEEDS[0], n=None if conditions else 1, **{k: v[:1] for k, v in CONDITIONS[name].items()})
    np.testing.assert_array_equal(again[0], images[0])
