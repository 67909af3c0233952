"""Perceptual path length: slerp, the percentile filtering, the walk through a generator's noise
(`generate_from_noise`; a caption model's with its caption and condition noise held), the pair
distances (the reference classifier's feature maps, the Shapes attribute classifier's, LPIPS on
VGG16) and `evaluate --metrics classifier_ppl,ppl_lpips` writing them with their protocol."""
import json
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from condgan.cli import main
from condgan.data.arrays import ArraySet, save_array_set
from condgan.errors import UserError
from condgan.generator import Generator, KerasGenerator
from condgan.metrics import ppl
from condgan.metrics.feature_distance import feature_map_distance
from tests.metrics_fixtures import (CLASSES, SIZE, exported_cgan, quadrant_images, tiny_cgan,
                                    untrained_classifier_dir)

ROOT = Path(__file__).resolve().parents[1]
SHAPES_CLASSIFIER = ROOT / "models" / "classifiers" / "shapes_attributes"


class LinearGenerator(Generator):
    """G(z) = offset * B + gain * W z, an unconditional SIZE x SIZE RGB image in [-1, 1] (B a
    fixed picture): its images move linearly with z, so in pixel space its path length scales
    exactly as gain^2.  With `condition_noise_dim`, only those trailing noise numbers reach the
    image."""

    def __init__(self, gain: float, offset: float = 0.0, noise_dim: int = 8,
                 condition_noise_dim: int = 0):
        super().__init__({"kind": "test", "image_size": SIZE}, "linear")
        self.gain, self.noise_dim, self.condition_noise_dim = gain, noise_dim, condition_noise_dim
        rng = np.random.default_rng(0)
        used = condition_noise_dim or noise_dim
        self.weights = np.zeros((noise_dim, SIZE * SIZE * 3), np.float32)
        self.weights[noise_dim - used:] = rng.standard_normal((used, SIZE * SIZE * 3)) / np.sqrt(used)
        self.base = offset * rng.uniform(-1, 1, SIZE * SIZE * 3).astype(np.float32)

    def _forward_noise(self, noise, conditions):
        # summed the same way for every row (a BLAS product may round rows differently)
        image = self.base + self.gain * np.sum(noise[:, :, None] * self.weights[None], axis=1)
        return [image.reshape(-1, SIZE, SIZE, 3)]


class CaptionStandIn(Generator):
    """A caption model's contract on numpy: G(z, c; caption) = P(caption) + gain * W z + V c, a
    SIZE x SIZE image in [-1, 1], where P is a fixed picture per caption and c the trailing
    `condition_noise_dim` numbers of the noise (AttnGAN's conditioning augmentation).  With
    gain 0 its images do not depend on the noise a walk moves.  Every `generate_from_noise`
    call is recorded, to see what the walk held fixed."""

    conditioning = "caption"

    def __init__(self, gain: float, noise_dim: int = 8, condition_noise_dim: int = 3,
                 size: int = SIZE):
        super().__init__({"kind": "test", "image_size": size, "name": "caption_stand_in"}, "stand_in")
        self.gain, self.size = gain, size
        self.noise_dim, self.condition_noise_dim = noise_dim, condition_noise_dim
        rng = np.random.default_rng(1)
        self.weights = rng.standard_normal((noise_dim, size * size * 3)).astype(np.float32) / 4
        self.weights[:noise_dim - condition_noise_dim] *= gain
        self.calls = []

    def _prepare(self, conditions):
        return list(conditions)

    def generate_from_noise(self, noise, conditions=None):
        self.calls.append((np.array(noise), list(conditions)))
        return super().generate_from_noise(noise, conditions)

    def _forward_noise(self, noise, captions):
        pictures = np.stack([np.random.default_rng(zlib.crc32(c.encode())).uniform(
            -0.5, 0.5, self.size * self.size * 3) for c in captions]).astype(np.float32)
        image = pictures + np.sum(noise[:, :, None] * self.weights[None], axis=1)
        return [np.tanh(image).reshape(-1, self.size, self.size, 3)]


def exported_gan(folder):
    """A real (untrained) unconditional generator of SIZE px as a model folder."""
    import keras

    from condgan.families.gan.family import save_generator

    keras.utils.set_random_seed(0)
    noise = keras.Input((4,))
    image = keras.layers.Activation("tanh")(keras.layers.UpSampling2D(4)(
        keras.layers.Reshape((4, 4, 3))(keras.layers.Dense(48)(noise))))
    return save_generator(keras.Model(noise, image), folder, latent_dim=4, legacy_h5=False)


def pixel_distance(a, b):
    return np.mean((np.asarray(a, np.float64) - b) ** 2, axis=(1, 2, 3))


def walk(generator, distance=pixel_distance, pairs=40, seed=0):
    found, _ = ppl.pair_distances(generator, {"d": distance}, pairs=pairs, seed=seed,
                                  batch_size=16, say=lambda line: None)
    return ppl.path_length(found["d"])


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    from condgan.metrics.reference import ReferenceClassifier

    return ReferenceClassifier(untrained_classifier_dir(tmp_path_factory.mktemp("ppl") / "clf"))


# --- slerp and the filtering -------------------------------------------------------------------

def test_slerp_walks_the_great_circle_between_two_latents():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 16))
    b *= (np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))[:, None]  # equal lengths
    np.testing.assert_allclose(ppl.slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(ppl.slerp(a, b, 1.0), b, atol=1e-12)
    angle = np.arccos(np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) ** 2)
    for t in (0.1, 0.5, 0.83):
        point = ppl.slerp(a, b, t)
        np.testing.assert_allclose(np.linalg.norm(point, axis=1), np.linalg.norm(a, axis=1))
        walked = np.arccos(np.clip(np.sum(point * a, axis=1) / np.linalg.norm(a, axis=1) ** 2, -1, 1))
        np.testing.assert_allclose(walked, t * angle, atol=1e-9)   # constant angular speed
    one, other = np.eye(2)
    np.testing.assert_allclose(ppl.slerp(one[None], other[None], 0.5)[0], [2 ** -0.5, 2 ** -0.5])
    # per-row t; parallel and zero rows take the straight line instead of dividing by sin(0)
    rows = ppl.slerp(np.array([[1.0, 0], [2, 0], [0, 0]]), np.array([[3.0, 0], [4, 0], [1, 1]]),
                     np.array([0.5, 0.25, 0.5]))
    np.testing.assert_allclose(rows, [[2, 0], [2.5, 0], [0.5, 0.5]])


def test_stylegan_percentile_filtering():
    values = np.arange(1000.0)
    kept = ppl.filtered(values)
    # 1st percentile, method 'lower': 9; 99th, method 'higher': 990; both kept
    assert kept.min() == 9 and kept.max() == 990 and kept.size == 982
    outliers = np.concatenate([np.full(198, 2e-8), [0.0, 1.0]])   # d; one 0 and one huge pair
    entry = ppl.path_length(outliers)
    assert entry["value"] == pytest.approx(2.0) and entry["pairs_kept"] == 198
    assert entry["standard_error"] == pytest.approx(0.0, abs=1e-9)


# --- the walk ----------------------------------------------------------------------------------

def test_a_generator_deaf_to_its_noise_has_path_length_zero(classifier):
    from condgan.metrics.feature_distance import classifier_distance

    model = tiny_cgan()
    spec = {"kind": "cgan", "image_size": SIZE, "latent_dim": 4, "classes": CLASSES}
    distance = classifier_distance(classifier)
    hearing = walk(KerasGenerator(model, spec, "hearing"), distance)["value"]
    dense = next(layer for layer in model.layers if layer.name.startswith("dense"))
    kernel, bias = dense.get_weights()
    kernel[:4] = 0.0   # the noise rows: only the label reaches the image
    dense.set_weights([kernel, bias])
    deaf = walk(KerasGenerator(model, spec, "deaf"), distance)["value"]
    # zero up to float32 rounding (the same image at another batch position may round
    # differently, and the distance is divided by epsilon squared)
    assert hearing > 0.0 and deaf <= 1e-6 * hearing
    # ... and so is one whose walk moves only noise that the image never sees
    assert walk(LinearGenerator(0.5, noise_dim=8, condition_noise_dim=3))["value"] == 0.0


def test_a_smoother_generator_has_a_shorter_path(classifier):
    from condgan.metrics.feature_distance import classifier_distance

    # in pixels a linear generator's path length is exactly quadratic in its gain
    smooth, rough = LinearGenerator(0.1), LinearGenerator(0.3)
    assert walk(rough)["value"] / walk(smooth)["value"] == pytest.approx(9.0, rel=0.01)
    # Through the classifier's feature maps too, about so, around a fixed picture (without it
    # this untrained net, all convolutions and ReLUs, could not tell the two apart: the
    # distance's unit-length normalisation ignores contrast).
    distance = classifier_distance(classifier)
    smooth, rough = LinearGenerator(0.05, offset=0.5), LinearGenerator(0.15, offset=0.5)
    assert walk(rough, distance)["value"] > 4 * walk(smooth, distance)["value"]


def test_same_seed_same_value_and_the_walk_is_drawn_from_it():
    g = LinearGenerator(0.2)
    first, again, other = walk(g, seed=3), walk(g, seed=3), walk(g, seed=4)
    assert first == again and first["value"] != other["value"]
    t, conditions, rule = ppl.walk_conditions(g, 5, seed=3)
    np.testing.assert_array_equal(t, np.random.default_rng(3).random(5))
    assert conditions is None and rule is None


def test_class_models_draw_one_label_per_pair_and_caption_models_need_captions():
    g = KerasGenerator(tiny_cgan(), {"kind": "cgan", "image_size": SIZE, "latent_dim": 4,
                                     "classes": CLASSES}, "cgan")
    t, labels, rule = ppl.walk_conditions(g, 300, seed=0)
    assert sorted(set(labels)) == [0, 1, 2] and "uniformly" in rule
    captions = ["a red circle", "a blue square", "a green triangle at the top"]
    stand_in = CaptionStandIn(0.3)
    with pytest.raises(UserError, match="held-out captions: evaluate it with --data a captioned"):
        ppl.walk_conditions(stand_in, 10, seed=0)
    t, drawn, rule = ppl.walk_conditions(stand_in, 300, seed=0, captions=captions)
    np.testing.assert_array_equal(t, np.random.default_rng(0).random(300))
    assert set(drawn) == set(captions) and "caption drawn uniformly" in rule and "3 captions" in rule


def test_a_caption_model_walks_its_noise_with_caption_and_condition_noise_held():
    captions = ["a red circle", "a blue square", "a green triangle at the top"]
    g = CaptionStandIn(0.3)
    found, rule = ppl.pair_distances(g, {"d": pixel_distance}, pairs=20, seed=4, batch_size=8,
                                     captions=captions, say=lambda line: None)
    assert np.all(found["d"] > 0) and "held-out images" in rule
    moving = g.noise_dim - g.condition_noise_dim
    pair = 0
    for noise, conditions in g.calls:
        count = len(noise) // 2
        z1 = g.noise_for_seeds(range(4 + 2 * pair, 4 + 2 * (pair + count), 2))
        # both images of a pair: one caption, from the held-out ones, and z1's condition noise
        assert conditions[:count] == conditions[count:] and set(conditions) <= set(captions)
        np.testing.assert_array_equal(noise[:count, moving:], z1[:, moving:])
        np.testing.assert_array_equal(noise[count:, moving:], z1[:, moving:])
        # ... while the image noise moves, by a step of about eps
        step = np.linalg.norm(noise[count:, :moving] - noise[:count, :moving], axis=1)
        assert np.all(step > 0) and np.all(step < 1e-2)
        pair += count
    assert pair == 20
    drawn = [c for _, conditions in g.calls for c in conditions[:len(conditions) // 2]]
    assert drawn == ppl.walk_conditions(g, 20, seed=4, captions=captions)[1]
    # A caption model whose images depend only on its caption and condition noise: 0 exactly.
    deaf = CaptionStandIn(0.0)
    found, _ = ppl.pair_distances(deaf, {"d": pixel_distance}, pairs=20, seed=4, batch_size=8,
                                  captions=captions, say=lambda line: None)
    assert np.all(found["d"] == 0.0) and ppl.path_length(found["d"])["value"] == 0.0


def test_noise_rows_give_the_seeds_images_unrounded():
    g = KerasGenerator(tiny_cgan(), {"kind": "cgan", "image_size": SIZE, "latent_dim": 4,
                                     "classes": CLASSES}, "cgan")
    seeds, labels = list(range(20)), [i % 3 for i in range(20)]   # more than one chunk
    pixels = g.generate_from_noise(g.noise_for_seeds(seeds), labels)
    assert pixels.dtype == np.float32 and pixels.min() >= 0 and pixels.max() <= 255
    np.testing.assert_array_equal(np.rint(pixels).astype(np.uint8), g.generate_for_seeds(seeds, labels))
    with pytest.raises(UserError, match=r"noise of shape \(N, 4\)"):
        g.generate_from_noise(np.zeros((2, 5)), labels[:2])
    with pytest.raises(UserError, match="one label per image"):
        g.generate_from_noise(np.zeros((2, 4)))


@pytest.mark.parametrize("name, conditions", [
    ("cgan_cifar10", ["airplane", "horse"]),
    ("attngan_shapes", ["a large blue circle at the top on a black background",
                        "a small red square at the bottom on white"])])
def test_shipped_models_take_noise_rows(name, conditions):
    import condgan

    model = condgan.load_generator(ROOT / "models" / name)
    pixels = model.generate_from_noise(model.noise_for_seeds([0, 7]), conditions)
    np.testing.assert_array_equal(np.rint(pixels).astype(np.uint8),
                                  model.generate_for_seeds([0, 7], conditions))
    if name == "attngan_shapes":   # z, then the conditioning augmentation's noise
        assert model.noise_dim == model.z_dim + model.condition_dim == model.card["latent_dim"]
        assert model.condition_noise_dim == model.condition_dim


# --- the pair distances ------------------------------------------------------------------------

def test_feature_map_distance_is_lpips_form():
    rng = np.random.default_rng(0)
    a = [rng.standard_normal((3, 4, 4, 5)), rng.standard_normal((3, 2, 2, 7))]
    b = [m + 0.1 * rng.standard_normal(m.shape) for m in a]
    unweighted = feature_map_distance(a, b)
    expected = sum(np.mean(np.sum((x / np.linalg.norm(x, axis=-1, keepdims=True)
                                   - y / np.linalg.norm(y, axis=-1, keepdims=True)) ** 2, axis=-1),
                           axis=(1, 2)) for x, y in zip(a, b))
    np.testing.assert_allclose(unweighted, expected, rtol=1e-8)
    np.testing.assert_allclose(feature_map_distance(a, [3 * m for m in a]), 0.0, atol=1e-12)
    np.testing.assert_allclose(feature_map_distance(a, b, [np.ones(5), np.ones(7)]), unweighted)
    np.testing.assert_allclose(feature_map_distance(a, b, [np.full(5, 2.0), np.full(7, 2.0)]),
                               2 * unweighted)


def test_lpips_random_network_only_through_its_test_hook(tmp_path):
    from condgan.metrics import lpips

    linear = tmp_path / "lin.npz"
    np.savez(linear, **{f"lin{k}": np.ones(c, np.float32) for k, c in enumerate(lpips.CHANNELS)})
    distance = lpips.random_vgg16_for_tests(linear)
    assert "RANDOM" in distance.name and distance.weights_fingerprint is None
    assert "lin.npz" in distance.form and "sha256:" in distance.form
    images = LinearGenerator(0.3).generate_from_noise(np.random.default_rng(0).standard_normal((4, 8)))
    d = distance(images[:2], images[2:])
    assert d.shape == (2,) and np.all(d > 0)
    np.testing.assert_allclose(distance(images[:2], images[:2]), 0.0, atol=1e-12)
    assert distance.resize.startswith("bilinear to 32x32")   # 16 px is below VGG16's smallest input
    np.savez(tmp_path / "bad.npz", lin0=np.ones(3))
    with pytest.raises(UserError, match="lin0..lin4"):
        lpips.read_linear_weights(tmp_path / "bad.npz")


def test_lpips_without_weights_is_a_clear_error(tmp_path, monkeypatch):
    from condgan.metrics import lpips

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    with pytest.raises(UserError) as error:
        lpips.lpips_vgg16()
    message = str(error.value)
    assert lpips.WEIGHTS_FILE in message and lpips.WEIGHTS_URL in message
    assert "--lpips-weights" in message and "classifier_ppl" in message
    with pytest.raises(UserError, match="does not exist"):
        lpips.lpips_vgg16(tmp_path / "missing.h5")
    (tmp_path / "fake.h5").write_bytes(b"not hdf5")
    with pytest.raises(UserError, match="not HDF5"):
        lpips.lpips_vgg16(tmp_path / "fake.h5")


def test_the_attribute_classifier_distance_reads_each_grid_cell_as_the_classifier_does():
    from condgan.basics import sha256_file
    from condgan.metrics.attngan_caption_accuracy import (CLASSIFIER_FILE, CROP, cell_crops,
                                                          feature_maps_model, load_classifier)
    from condgan.metrics.feature_distance import attribute_classifier_distance

    distance = attribute_classifier_distance(SHAPES_CLASSIFIER)
    assert distance.layers == ["conv1", "conv2", "conv3"] and distance.size == 3 * CROP
    assert distance.weights_fingerprint == sha256_file(SHAPES_CLASSIFIER / CLASSIFIER_FILE)
    assert distance.name.startswith("Shapes attribute classifier models/classifiers/shapes_attributes")
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 255, (3, 3 * CROP, 3 * CROP, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 8, a.shape), 0, 255).astype(np.float32)
    # LPIPS' form on each cell crop's own maps (the classifier sees one cell at a time), then
    # the mean over the nine cells
    maps = feature_maps_model(load_classifier(SHAPES_CLASSIFIER))
    per_cell = feature_map_distance(*(maps.predict_on_batch(cell_crops(x).reshape(-1, CROP, CROP, 3))
                                      for x in (a, b))).reshape(3, 9)
    np.testing.assert_allclose(distance(a, b), per_cell.mean(axis=1), rtol=1e-6)
    # a change inside the centre cell of image 0 reaches no other cell and no other image
    centre = a.copy()
    centre[0, CROP:2 * CROP, CROP:2 * CROP] = 255 - centre[0, CROP:2 * CROP, CROP:2 * CROP]
    moved = distance(a, centre)
    assert moved[0] > 0 and np.all(moved[1:] == 0.0)
    assert distance.resize == "none"
    distance(a[:, :32, :32], b[:, :32, :32])   # another size is fitted to the cells' size
    assert distance.resize == "bilinear to 72x72 (keras.ops.image.resize)"


# --- evaluate ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate_ppl")
    x, y = quadrant_images(30, seed=2)
    data = save_array_set(root / "ref.npz", ArraySet(x, y, CLASSES), source="test", command="test")
    return {"root": root, "data": str(data), "model": exported_cgan(root / "tiny_cgan"),
            "classifier": untrained_classifier_dir(root / "clf")}


def test_evaluate_writes_classifier_ppl_with_its_protocol(setup, tmp_path):
    from condgan.metrics.evaluate import evaluate_model

    model = shutil.copytree(setup["model"], tmp_path / "model")
    said = []
    results = evaluate_model(str(model), setup["data"], classifier_dir=str(setup["classifier"]),
                             metrics="classifier_ppl", ppl_pairs=40, batch_size=16, seed=5,
                             say=said.append)
    assert list(results) == ["classifier_ppl"] and results.card.written == ["classifier_ppl"]
    assert not any(line.startswith("generating") for line in said)   # no FID images drawn
    entry = json.loads((model / "card.json").read_text())["metrics"]["classifier_ppl"]
    assert entry["value"] > 0 and entry["pairs_kept"] <= 40 and entry["standard_error"] > 0
    protocol = entry["protocol"]
    assert protocol["pairs"] == 40 and protocol["num_generated"] == 80 and protocol["seed"] == 5
    assert protocol["epsilon"] == 1e-4 and "slerp" in protocol["interpolation"]
    assert "1st percentile" in protocol["filtering"] and "99th" in protocol["filtering"]
    assert "feature maps stage1_relu" in protocol["feature_network"]
    assert "unit length" in protocol["distance"] and "unweighted" in protocol["distance"]
    assert protocol["layers"] == ["stage1_relu", "stage2_relu", "stage3_relu", "stage3_add"]
    assert protocol["weights_fingerprint"].startswith("sha256:") and protocol["resize"] == "none"
    assert "uniformly" in protocol["conditions"] and protocol["num_reference"] is None
    assert str(setup["root"]) not in (model / "card.json").read_text()
    # 'auto' never walks: path length is computed only when named
    auto = evaluate_model(str(model), setup["data"], classifier_dir=str(setup["classifier"]),
                          n=12, batch_size=12, write_card=False, allow_download=False,
                          cache_dir=str(tmp_path / "cache"), say=lambda line: None)
    assert "classifier_ppl" not in auto and "ppl_lpips" not in auto and "classifier_fid" in auto


def test_evaluate_command_line(setup, tmp_path, monkeypatch, capsys):
    args = ["evaluate", str(setup["model"]), "--data", setup["data"], "--classifier",
            str(setup["classifier"]), "--ppl-pairs", "30", "--batch-size", "16", "--no-card"]
    assert main([*args, "--metrics", "classifier_ppl"]) == 0
    assert "classifier_ppl" in capsys.readouterr().out
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--metrics", "ppl_lpips"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "vgg16_weights" in err and "--lpips-weights" in err
    # a caption model walks with held-out captions: an array set has none
    with pytest.raises(SystemExit):
        main(["evaluate", str(ROOT / "models" / "attngan_shapes"), "--data", setup["data"],
              "--metrics", "classifier_ppl"])
    assert "captioned folder" in capsys.readouterr().err


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Tiny Shapes data (a one-object array set; a captioned folder with 10 held-out images)
    and an exported unconditional GAN."""
    from condgan.data.shapes import write_shapes, write_shapes_arrays

    root = tmp_path_factory.mktemp("shapes")
    return {"arrays": str(write_shapes_arrays(root / "shapes_one_tiny.npz", 12, size=32)),
            "captioned": str(write_shapes(root / "shapes_tiny", 40, size=32, test_fraction=0.25)),
            "gan": exported_gan(root / "tiny_gan")}


def test_shapes_data_is_judged_by_the_attribute_classifiers_maps(shapes, setup):
    from condgan.basics import sha256_file
    from condgan.metrics.evaluate import evaluate_model

    said = []
    options = dict(ppl_pairs=12, batch_size=8, write_card=False, say=said.append)
    # no reference classifier of Shapes' classes: the attribute classifier is the one it calls for
    entry = evaluate_model(str(shapes["gan"]), shapes["arrays"], metrics="classifier_ppl",
                           **options)["classifier_ppl"]
    protocol = entry["protocol"]
    assert protocol["feature_network"].startswith(
        "Shapes attribute classifier models/classifiers/shapes_attributes feature maps conv1, "
        "conv2, conv3")
    assert protocol["layers"] == ["conv1", "conv2", "conv3"] and "grid cells" in protocol["distance"]
    assert protocol["weights_fingerprint"] == sha256_file(SHAPES_CLASSIFIER / "attribute_classifier.keras")
    assert protocol["resize"] == "bilinear to 72x72 (keras.ops.image.resize)"
    assert protocol["conditions"] is None and entry["value"] > 0
    assert any("distance in: Shapes attribute classifier" in line for line in said)
    # It labels no classes of the data: the classifier metrics need a reference classifier ...
    with pytest.raises(UserError, match="classifier_fid need a reference classifier of --data's "
                                        "classes.*serves classifier_ppl only: train one with"):
        evaluate_model(str(shapes["gan"]), shapes["arrays"], metrics="classifier_fid,classifier_ppl",
                       **options)
    # ... and it reads Shapes images only
    with pytest.raises(UserError, match="is not Shapes data"):
        evaluate_model(str(shapes["gan"]), setup["data"], classifier_dir=str(SHAPES_CLASSIFIER),
                       metrics="classifier_ppl", **options)


def test_evaluate_walks_a_caption_model_with_held_out_captions(shapes):
    from condgan.data.caption_sets import load_caption_split
    from condgan.metrics.attngan_evaluate import evaluate_attngan

    held_out = [caption for captions in load_caption_split(shapes["captioned"], "test", 32).captions
                for caption in captions]   # 10 images, 10 captions each
    options = dict(metrics="classifier_ppl", ppl_pairs=10, batch_size=4, write_card=False,
                   say=lambda line: None)
    # the stand-in's card names no DAMSM run: path length alone needs none
    g = CaptionStandIn(0.3, size=32)
    entry = evaluate_attngan("stand_in", shapes["captioned"], classifier_dir=str(SHAPES_CLASSIFIER),
                             generator=g, **options)["classifier_ppl"]
    protocol = entry["protocol"]
    assert entry["value"] > 0 and protocol["pairs"] == 10 and protocol["data"].endswith("shapes_tiny")
    assert f"from the {len(held_out)} captions of the held-out images" in protocol["conditions"]
    assert protocol["feature_network"].startswith("Shapes attribute classifier")
    assert {caption for _, captions in g.calls for caption in captions} <= set(held_out)
    deaf = CaptionStandIn(0.0, size=32)
    assert evaluate_attngan("deaf", shapes["captioned"], classifier_dir=str(SHAPES_CLASSIFIER),
                            generator=deaf, **options)["classifier_ppl"]["value"] == 0.0
    with pytest.raises(UserError, match="train-shapes-attributes"):
        evaluate_attngan("stand_in", shapes["captioned"], classifier_dir=None, generator=g, **options)


def test_the_command_line_names_the_network_that_measured(shapes, tmp_path, capsys):
    assert main(["evaluate", str(shapes["gan"]), "--data", shapes["arrays"], "--metrics",
                 "classifier_ppl", "--ppl-pairs", "6", "--batch-size", "4", "--no-card"]) == 0
    out, err = capsys.readouterr()
    assert "Shapes attribute classifier" in out.splitlines()[1]
    assert "distance in: Shapes attribute classifier models/classifiers/shapes_attributes" in err
    # the shipped caption model, walked with the held-out captions of a Shapes folder
    attngan = str(ROOT / "models" / "attngan_shapes")
    assert main(["evaluate", attngan, "--data", shapes["captioned"], "--metrics", "classifier_ppl",
                 "--ppl-pairs", "4", "--no-card"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1].startswith("classifier_ppl") and "Shapes attribute classifier" in out
    assert "pairs from attngan_shapes" in err
    with pytest.raises(SystemExit):
        main(["evaluate", attngan, "--data", shapes["captioned"], "--metrics", "classifier_ppl",
              "--classifier", str(tmp_path / "missing"), "--no-card"])
    assert "train-shapes-attributes" in capsys.readouterr().err
