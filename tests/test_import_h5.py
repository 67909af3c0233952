"""`python -m condgan import`: real Keras 2 `.h5` generators (written here with tf_keras, the
Keras 2 package for TensorFlow 2.16+) imported as model folders, served, sampled and scored like
any other model; and the files it must refuse with a clear message.

The served images must equal what Keras 2 itself computes from the file for the same noise and
labels (to float tolerance: at most one level after the uint8 conversion)."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import warnings

import numpy as np
import pytest
from PIL import Image

tf_keras = pytest.importorskip("tf_keras", reason="writing Keras 2 files needs tf_keras (requirements.txt)")

from condgan.api import load_generator
from condgan.basics import seed_noise, to_uint8
from condgan.errors import UserError
from condgan.families.gan.import_h5 import import_h5
from condgan.model_folder import read_card
from tests.helpers import run_cli
from tests.metrics_fixtures import CLASSES, SIZE, quadrant_images, untrained_classifier_dir

LATENT = 16


def _randomise_batch_norm(model, seed: int = 0) -> None:
    """Moving statistics other than 0 and 1, so a misread of them would show."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, tf_keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.2, beta.shape),
                               rng.normal(0, 0.3, mean.shape), rng.uniform(0.5, 2.0, var.shape)])


def keras2_cgan():
    """The classic Keras 2 cGAN generator: inputs [noise (latent,), label (1,)], the label's
    embedding projected to one 4x4 map and concatenated to the projected noise, transposed
    convolutions, tanh (the seed notebooks' layout, at 16 px)."""
    from tf_keras import layers

    noise = tf_keras.Input((LATENT,))
    label = tf_keras.Input((1,))
    li = layers.Embedding(len(CLASSES), 8)(label)
    li = layers.Reshape((4, 4, 1))(layers.Dense(4 * 4)(li))
    gen = layers.Reshape((4, 4, 16))(layers.LeakyReLU(alpha=0.2)(layers.Dense(4 * 4 * 16)(noise)))
    x = layers.Concatenate()([gen, li])
    x = layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same")(x)
    x = layers.LeakyReLU(alpha=0.2)(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same")(x)
    x = layers.LeakyReLU(alpha=0.2)(x)
    model = tf_keras.Model([noise, label], layers.Conv2D(3, (3, 3), activation="tanh", padding="same")(x))
    _randomise_batch_norm(model)
    return model


def keras2_dcgan():
    """A noise-only DCGAN generator built as a Sequential, with a sigmoid output of one channel
    (an MNIST-style model): value range [0, 1], grayscale."""
    from tf_keras import layers

    return tf_keras.Sequential([
        tf_keras.Input((LATENT,)), layers.Dense(4 * 4 * 16), layers.ReLU(), layers.Reshape((4, 4, 16)),
        layers.UpSampling2D(), layers.Conv2D(8, 3, padding="same"), layers.BatchNormalization(),
        layers.ReLU(), layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid")])


def keras2_label_first():
    """A cGAN taking [label (), noise]: the label first, as a scalar index, its embedding
    concatenated to the noise."""
    from tf_keras import layers

    label = tf_keras.Input((), dtype="int32")
    noise = tf_keras.Input((LATENT,))
    x = layers.Concatenate()([noise, layers.Embedding(len(CLASSES), 4)(label)])
    x = layers.Reshape((4, 4, 4))(layers.Dense(4 * 4 * 4, activation="relu")(x))
    x = layers.Conv2DTranspose(3, 4, strides=4, padding="same")(x)
    return tf_keras.Model([label, noise], layers.Activation("tanh")(x))


def keras2_linear_output():
    """Noise only, ending in a linear transposed convolution: nothing bounds its output."""
    from tf_keras import layers

    noise = tf_keras.Input((LATENT,))
    x = layers.Reshape((4, 4, 1))(layers.Dense(16)(noise))
    return tf_keras.Model(noise, layers.Conv2DTranspose(3, 4, strides=4, padding="same")(x))


def keras2_with_lambda():
    from tf_keras import layers

    noise = tf_keras.Input((LATENT,))
    x = layers.Reshape((4, 4, 1))(layers.Dense(16)(noise))
    x = layers.Lambda(lambda t: t * 2.0, name="double_it")(x)
    return tf_keras.Model(noise, layers.Conv2DTranspose(3, 4, strides=4, padding="same",
                                                        activation="tanh")(x))


def keras2_with_tf_op():
    """`x * 2.0` on a Keras 2 tensor: tf_keras records a TFOpLambda layer."""
    from tf_keras import layers

    noise = tf_keras.Input((LATENT,))
    x = layers.Reshape((4, 4, 1))(layers.Dense(16)(noise)) * 2.0
    return tf_keras.Model(noise, layers.Conv2DTranspose(3, 4, strides=4, padding="same",
                                                        activation="tanh")(x))


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """The Keras 2 files and their models (for the reference outputs)."""
    root = tmp_path_factory.mktemp("legacy")
    models = {"cgan": keras2_cgan(), "dcgan": keras2_dcgan(), "label_first": keras2_label_first(),
              "linear": keras2_linear_output(), "lambda": keras2_with_lambda(), "tf_op": keras2_with_tf_op()}
    files = {}
    for name, model in models.items():
        files[name] = root / f"{name}.h5"
        with warnings.catch_warnings():   # Keras 2 calls its own .h5 format legacy
            warnings.simplefilter("ignore")
            model.save(files[name])
    data = files["cgan"].read_bytes()
    files["truncated"] = root / "truncated.h5"
    files["truncated"].write_bytes(data[:len(data) // 2])
    files["not_hdf5"] = root / "notes.h5"
    files["not_hdf5"].write_text("this is a text file with a .h5 name\n")
    files["weights_only"] = root / "weights_only.h5"
    models["cgan"].save_weights(files["weights_only"])
    return {"root": root, "files": files, "models": models}


@pytest.fixture(scope="module")
def imported(legacy):
    """The classic cGAN imported through the library into a models folder."""
    models_dir = legacy["root"] / "models"
    lines = []
    out = import_h5(legacy["files"]["cgan"], models_dir / "legacy_cgan", classes=CLASSES,
                    say=lines.append)
    return {"models_dir": models_dir, "folder": out, "lines": lines}


def keras2_pixels(model, seeds, labels=None, label_shape=(1,), value_range=(-1, 1)):
    """What Keras 2 computes for condgan's noise of these seeds, as uint8."""
    z = seed_noise(seeds, LATENT)
    if labels is None:
        out = model.predict_on_batch(z)
    else:
        y = np.asarray(labels).reshape((-1, *label_shape))
        inputs = [z, y] if model.inputs[0].shape[-1] == LATENT else [y, z]
        out = model.predict_on_batch(inputs)
    out = np.asarray(out, dtype=np.float64)
    low, high = value_range
    pixels = to_uint8(out) if (low, high) == (-1, 1) else \
        np.clip(np.rint((out - low) * 255.0 / (high - low)), 0, 255).astype(np.uint8)
    return np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels


def assert_close(images, expected):
    assert images.dtype == np.uint8 and images.shape == expected.shape, (images.shape, expected.shape)
    assert np.abs(images.astype(int) - expected.astype(int)).max() <= 1


def test_import_writes_a_model_folder_with_what_the_file_says(legacy, imported):
    folder = imported["folder"]
    assert {p.name for p in folder.iterdir()} == {"generator.keras", "generator.h5", "card.json"}
    original = legacy["files"]["cgan"].read_bytes()
    assert (folder / "generator.h5").read_bytes() == original  # the original, kept as it was
    card = read_card(folder)
    assert card["kind"] == "cgan" and card["classes"] == CLASSES
    assert card["latent_dim"] == LATENT and card["image_size"] == SIZE and card["channels"] == 3
    assert card["value_range"] == [-1.0, 1.0] and card["label_shape"] == [1]
    assert card["input_roles"] == ["noise", "label"] and card["noise"] == "standard normal"
    assert card["files"] == {"keras": "generator.keras", "h5": "generator.h5"}
    assert card["training"] == {} and card["images_seen"] is None
    provenance = card["provenance"]
    assert provenance["source"] == "imported from a Keras 2 HDF5 file"
    assert provenance["sha256"] == "sha256:" + hashlib.sha256(original).hexdigest()
    assert provenance["file"] == "cgan.h5" and provenance["keras_version"].startswith("2.")
    assert provenance["check"]["compared_with"].startswith("tf_keras")
    assert provenance["check"]["max_abs_difference"] < 1e-4
    said = "\n".join(imported["lines"])
    assert "3 classes" in said and "shape (1,)" in said and "tanh" in said


def test_served_images_equal_what_keras_2_computes(legacy, imported):
    from condgan.serve.app import create_app

    app = create_app(imported["models_dir"], background_load=False)
    client = app.test_client()
    info = client.get("/v1/models/legacy_cgan").get_json()
    assert info["kind"] == "cgan" and info["classes"] == CLASSES and info["conditioning"] == "label"
    assert info["image_size"] == SIZE and info["latent_dim"] == LATENT
    for label in (0, 2):
        body = client.post("/v1/models/legacy_cgan:generate", content_type="application/json",
                           data=json.dumps({"label": CLASSES[label], "n": 5, "seed": 40})).get_json()
        served = np.stack([np.asarray(Image.open(io.BytesIO(base64.b64decode(i["b64_json"]))))
                           for i in body["images"]])
        assert_close(served, keras2_pixels(legacy["models"]["cgan"], range(40, 45), [label] * 5))
    page = client.get("/")
    assert page.status_code == 200


def test_imported_generator_keeps_the_generator_contract(legacy, imported):
    gen = load_generator(imported["folder"])
    labels = [CLASSES[i % 3] for i in range(21)]   # two chunks
    many = gen.generate(labels=labels, seed=5)
    np.testing.assert_array_equal(many[:3], gen.generate(labels=labels[:3], seed=5))
    np.testing.assert_array_equal(gen.generate_for_seeds([9], [1])[0], many[4])
    assert_close(many, keras2_pixels(legacy["models"]["cgan"], range(5, 26), [i % 3 for i in range(21)]))


def test_noise_only_dcgan_by_the_command_line(legacy, tmp_path):
    """Sequential, sigmoid output in [0, 1], one channel: served as RGB, scaled from [0, 1]."""
    result = run_cli("import", str(legacy["files"]["dcgan"]), "--name", "old_dcgan",
                     "--models-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sigmoid" in result.stdout and "imported" in result.stdout
    card = read_card(tmp_path / "old_dcgan")
    assert card["kind"] == "gan" and card["classes"] is None and card["value_range"] == [0.0, 1.0]
    assert card["channels"] == 1 and "label_shape" not in card
    images = load_generator(tmp_path / "old_dcgan").generate(n=6, seed=3)
    assert_close(images, keras2_pixels(legacy["models"]["dcgan"], range(3, 9), value_range=(0, 1)))


def test_label_first_with_a_scalar_label(legacy, tmp_path):
    out = import_h5(legacy["files"]["label_first"], tmp_path / "label_first", classes=CLASSES,
                    say=lambda line: None)
    card = read_card(out)
    assert card["input_roles"] == ["label", "noise"] and card["label_shape"] == []
    images = load_generator(out).generate(labels=["bottom", "top_left"], seed=11)
    assert_close(images, keras2_pixels(legacy["models"]["label_first"], [11, 12], [2, 0], label_shape=()))


def test_a_keras_2_2_era_config_is_read_too(legacy, tmp_path):
    """Standalone Keras 2.2 wrote no `groups`, and glorot_normal as VarianceScaling with
    distribution "normal"."""
    import h5py

    old = tmp_path / "keras22.h5"
    old.write_bytes(legacy["files"]["cgan"].read_bytes())
    with h5py.File(old, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        for layer in config["config"]["layers"]:
            layer["config"].pop("groups", None)
            if "kernel_initializer" in layer["config"]:
                layer["config"]["kernel_initializer"] = {"class_name": "VarianceScaling", "config": {
                    "scale": 1.0, "mode": "fan_avg", "distribution": "normal", "seed": None}}
        handle.attrs["model_config"] = json.dumps(config)
        handle.attrs["keras_version"] = "2.2.4"
    out = import_h5(old, tmp_path / "keras22", classes=CLASSES, say=lambda line: None)
    assert read_card(out)["provenance"]["keras_version"] == "2.2.4"
    images = load_generator(out).generate(labels=CLASSES, seed=2)
    assert_close(images, keras2_pixels(legacy["models"]["cgan"], [2, 3, 4], [0, 1, 2]))


def test_evaluate_scores_an_imported_model(imported, tmp_path, capsys):
    from condgan.cli import main
    from condgan.data.arrays import ArraySet, save_array_set

    x, y = quadrant_images(30, seed=2)
    data = save_array_set(tmp_path / "ref.npz", ArraySet(x, y, CLASSES), source="test", command="test")
    classifier = untrained_classifier_dir(tmp_path / "clf")
    assert main(["evaluate", str(imported["folder"]), "--data", str(data), "--classifier",
                 str(classifier), "--cache-dir", str(tmp_path / "cache"), "--batch-size", "8",
                 "--n", "12", "--metrics", "accuracy"]) == 0
    metrics = read_card(imported["folder"])["metrics"]
    assert 0 <= metrics["classifier_accuracy"]["value"] <= 1
    assert set(metrics["classifier_accuracy"]["per_class"]) == set(CLASSES)


@pytest.mark.parametrize("which, layer, cls", [("lambda", "double_it", "Lambda"),
                                                ("tf_op", "tf.math.multiply", "TFOpLambda")])
def test_a_layer_keras_3_cannot_read_is_refused_by_name(legacy, tmp_path, which, layer, cls):
    with pytest.raises(UserError, match=rf"layer '{layer}' \(class {cls}\).*re-save the generator "
                                        "without it.*load the weights"):
        import_h5(legacy["files"][which], tmp_path / "refused", say=lambda line: None)
    assert not (tmp_path / "refused").exists()


def test_the_lambda_is_refused_before_it_is_deserialised(legacy, tmp_path, monkeypatch):
    """The check reads the file's model_config: Keras never sees the Lambda."""
    import keras

    def never(*args, **kwargs):
        raise AssertionError("keras.saving.load_model was called")

    monkeypatch.setattr(keras.saving, "load_model", never)
    with pytest.raises(UserError, match="Lambda"):
        import_h5(legacy["files"]["lambda"], tmp_path / "refused", say=lambda line: None)


@pytest.mark.parametrize("which, words", [
    ("truncated", "truncated or damaged"),
    ("not_hdf5", "not an HDF5 file"),
    ("weights_only", "weights only"),
])
def test_damaged_or_wrong_files_are_clear_errors(legacy, tmp_path, which, words):
    with pytest.raises(UserError, match=words):
        import_h5(legacy["files"][which], tmp_path / "x", classes=CLASSES, say=lambda line: None)
    assert not (tmp_path / "x").exists()


def test_class_names_are_asked_for_when_missing(legacy, tmp_path):
    """No names and no terminal: a one-line error naming --classes and --classes-from."""
    result = run_cli("import", str(legacy["files"]["cgan"]), "--name", "nameless",
                     "--models-dir", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert error and "--classes" in error[0] and "--classes-from" in error[0]
    assert "3 classes" in error[0] and not (tmp_path / "nameless").exists()
    asked = []
    out = import_h5(legacy["files"]["cgan"], tmp_path / "asked", say=lambda line: None,
                    ask_classes=lambda count: asked.append(count) or ["x", "y", "z"])
    assert asked == [3] and read_card(out)["classes"] == ["x", "y", "z"]


def test_given_facts_must_agree_with_the_model(legacy, tmp_path):
    quiet = dict(say=lambda line: None)
    with pytest.raises(UserError, match="3 classes, but 2 names"):
        import_h5(legacy["files"]["cgan"], tmp_path / "a", classes=["a", "b"], **quiet)
    with pytest.raises(UserError, match="takes 16 values"):
        import_h5(legacy["files"]["cgan"], tmp_path / "a", classes=CLASSES, latent_dim=100, **quiet)
    with pytest.raises(UserError, match="takes no class label"):
        import_h5(legacy["files"]["dcgan"], tmp_path / "a", classes=CLASSES, **quiet)


def test_an_unbounded_output_needs_its_value_range(legacy, tmp_path):
    with pytest.raises(UserError, match="value range cannot be told.*--value-range LOW,HIGH"):
        import_h5(legacy["files"]["linear"], tmp_path / "linear", say=lambda line: None)
    out = import_h5(legacy["files"]["linear"], tmp_path / "linear", value_range="-1,1",
                    say=lambda line: None)
    assert read_card(out)["value_range"] == [-1.0, 1.0]
    images = load_generator(out).generate(n=4, seed=0)
    assert_close(images, keras2_pixels(legacy["models"]["linear"], range(4)))


@pytest.mark.parametrize("layer_class, key, value, words", [
    ("Conv2DTranspose", "groups", 2, r"layer '\w+' \(class Conv2DTranspose\) has groups=2"),
    ("Dense", "units_per_group", 4, r"Keras 3 could not read this model \(.*units_per_group"),
])
def test_a_setting_keras_3_lacks_is_refused(legacy, tmp_path, layer_class, key, value, words):
    """A grouped transposed convolution (Keras 3's has no groups, so it is not dropped), or a
    setting unknown to Keras 3: an error saying so, never a traceback."""
    import h5py

    edited = tmp_path / "edited.h5"
    edited.write_bytes(legacy["files"]["cgan"].read_bytes())
    with h5py.File(edited, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        layer = next(l for l in config["config"]["layers"] if l["class_name"] == layer_class)
        layer["config"][key] = value
        handle.attrs["model_config"] = json.dumps(config)
    with pytest.raises(UserError, match=words):
        import_h5(edited, tmp_path / "edited", classes=CLASSES, say=lambda line: None)
    assert not (tmp_path / "edited").exists()


def test_an_existing_folder_is_replaced_only_when_asked(legacy, imported):
    folder = imported["folder"]
    with pytest.raises(UserError, match="already exists.*--replace"):
        import_h5(legacy["files"]["cgan"], folder, classes=CLASSES, say=lambda line: None)
    before = read_card(folder)
    lines = []
    import_h5(legacy["files"]["cgan"], folder, classes=CLASSES, replace=True, say=lines.append)
    # the same file: whatever the card measured still holds
    assert read_card(folder)["metrics"] == before["metrics"]
