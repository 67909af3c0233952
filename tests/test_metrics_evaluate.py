"""`python -m condgan evaluate` end to end on a tiny exported cGAN, and its bad-input errors."""
import json

import numpy as np
import pytest

from condgan.cli import main
from condgan.data.arrays import ArraySet, save_array_set
from tests.metrics_fixtures import CLASSES, exported_cgan, quadrant_images, untrained_classifier_dir


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    x, y = quadrant_images(60, seed=2)
    data = save_array_set(root / "ref.npz", ArraySet(x, y, CLASSES), source="test", command="test")
    other = save_array_set(root / "other.npz", ArraySet(x, y, ["a", "b", "c"]), source="test",
                           command="test")
    return {"root": root, "data": str(data), "other": str(other),
            "model": exported_cgan(root / "tiny_cgan"),
            "classifier": untrained_classifier_dir(root / "clf")}


def _evaluate(setup, *extra):
    return main(["evaluate", str(setup["model"]), "--data", setup["data"], "--classifier",
                 str(setup["classifier"]), "--cache-dir", str(setup["root"] / "cache"),
                 "--batch-size", "8", *extra])


def test_evaluate_writes_metrics_with_protocol_and_warns_on_small_n(setup, capsys):
    assert _evaluate(setup, "--n", "12", "--metrics", "classifier_fid,accuracy,intra_classifier_fid") == 0
    out, err = capsys.readouterr()
    assert "classifier_fid" in out and "top_left" in out
    # 12 images < 16 feature dimensions of the width-2 net: the warning says what N is needed.
    assert "singular" in err and "at least 17 images" in err
    metrics = json.loads((setup["model"] / "card.json").read_text())["metrics"]
    assert set(metrics) == {"classifier_fid", "classifier_accuracy", "intra_classifier_fid"}
    assert "fid" not in metrics  # classifier FID is never labelled FID
    fid = metrics["classifier_fid"]
    assert fid["value"] >= 0 and np.isfinite(fid["value"])
    protocol = fid["protocol"]
    assert protocol["num_generated"] == 12 and protocol["num_reference"] == 60
    assert protocol["weights_fingerprint"].startswith("sha256:") and protocol["seed"] == 0
    assert protocol["reference_split"] == "test" and protocol["resize"] == "none"
    assert protocol["warnings"] and protocol["versions"]["keras"]
    accuracy = metrics["classifier_accuracy"]
    assert 0 <= accuracy["value"] <= 1 and set(accuracy["per_class"]) == set(CLASSES)
    assert np.sum(accuracy["confusion"]) == 12
    assert len(list((setup["root"] / "cache").glob("ref-*.npz"))) == 1


def test_evaluate_is_deterministic_and_reuses_the_cache(setup, capsys):
    args = ("--n", "20", "--metrics", "classifier_fid", "--no-card")
    assert _evaluate(setup, *args) == 0
    first = capsys.readouterr().out
    cached = list((setup["root"] / "cache").glob("ref-*.npz"))
    assert _evaluate(setup, *args) == 0
    assert capsys.readouterr().out == first
    assert list((setup["root"] / "cache").glob("ref-*.npz")) == cached


def test_model_dir_without_card_is_a_clear_error(setup, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", str(tmp_path), "--data", setup["data"]])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "card.json" in err and "export" in err and len(err.strip().splitlines()) == 1


def test_data_with_other_classes_is_a_clear_error(setup, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", str(setup["model"]), "--data", setup["other"], "--n", "10"])
    err = capsys.readouterr().err
    assert "differ" in err and "top_left" in err and "'a'" in err


def test_inception_offline_without_weights_is_a_clear_error(setup, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    with pytest.raises(SystemExit):
        _evaluate(setup, "--metrics", "fid", "--no-download", "--n", "10")
    err = capsys.readouterr().err
    assert "InceptionV3 weights not found" in err and "--inception-weights" in err
    with pytest.raises(SystemExit):
        _evaluate(setup, "--metrics", "kid", "--inception-weights", str(tmp_path / "missing.h5"))
    assert "does not exist" in capsys.readouterr().err


def _tiny_gan(folder, dataset=None):
    import keras

    from condgan.families.gan.family import save_generator

    keras.utils.set_random_seed(0)
    noise = keras.Input((4,))
    image = keras.layers.Activation("tanh")(keras.layers.UpSampling2D(4)(
        keras.layers.Reshape((4, 4, 3))(keras.layers.Dense(48)(noise))))
    return save_generator(keras.Model(noise, image), folder, latent_dim=4, legacy_h5=False,
                          dataset=dataset)


def test_unconditional_model_refuses_accuracy(setup, tmp_path, capsys):
    model = _tiny_gan(tmp_path / "tiny_gan")
    with pytest.raises(SystemExit):
        main(["evaluate", str(model), "--data", setup["data"], "--metrics", "accuracy"])
    assert "class-conditional" in capsys.readouterr().err


def test_unconditional_model_of_one_class_is_scored_against_that_class(setup, tmp_path):
    """gan_horses' case: trained on one class of the reference data, so its accuracy is the share
    of samples the classifier puts in that class, and its FID compares with that class only."""
    from condgan.metrics.evaluate import evaluate_model

    args = dict(classifier_dir=str(setup["classifier"]), metrics="accuracy,classifier_fid",
                n=24, batch_size=8, write_card=False, say=lambda line: None)
    one_class = evaluate_model(str(_tiny_gan(tmp_path / "bottom", {"classes": ["bottom"]})),
                               setup["data"], **args)
    accuracy = one_class["classifier_accuracy"]
    assert accuracy["trained_classes"] == ["bottom"]
    assert accuracy["value"] == accuracy["predicted_as"]["bottom"]
    assert sum(accuracy["predicted_as"].values()) == pytest.approx(1.0)
    fid = one_class["classifier_fid"]
    assert fid["protocol"]["num_reference"] == 20 and fid["protocol"]["reference_classes"] == ["bottom"]
    # The same generator without the class record is compared with all 60 images: another value.
    args["metrics"] = "classifier_fid"
    everything = evaluate_model(str(_tiny_gan(tmp_path / "all")), setup["data"], **args)["classifier_fid"]
    assert everything["protocol"]["num_reference"] == 60
    assert abs(everything["value"] - fid["value"]) > 1e-6


def test_a_metric_already_in_the_card_is_replaced_only_on_request(setup, tmp_path, capsys):
    """A quick small-N check never overwrites a card's larger-sample score unasked: the metrics
    the card lacks are written, the ones it has are kept, and both values are reported."""
    from condgan.metrics.evaluate import evaluate_model

    model = exported_cgan(tmp_path / "shipped")
    args = dict(classifier_dir=str(setup["classifier"]), cache_dir=str(setup["root"] / "cache"),
                batch_size=8)
    first = evaluate_model(str(model), setup["data"], metrics="classifier_fid", n=24,
                           say=lambda line: None, **args)
    assert first.card.written == ["classifier_fid"] and not first.card.not_replaced
    before = (model / "card.json").read_bytes()
    said = []
    same = evaluate_model(str(model), setup["data"], metrics="classifier_fid", n=12,
                          say=said.append, **args)
    assert (model / "card.json").read_bytes() == before  # nothing new: the card is not rewritten
    assert same.card.written == [] and list(same.card.not_replaced) == ["classifier_fid"]
    old, new = first["classifier_fid"]["value"], same["classifier_fid"]["value"]
    line = next(line for line in said if line.startswith("not replaced"))
    assert f"{old:.4g} (24 generated images)" in line and f"{new:.4g} (12 generated images)" in line
    assert "--replace" in line and "replace=True" in line
    assert same.card_report().count("not replaced") == 1

    mixed = evaluate_model(str(model), setup["data"], metrics="classifier_fid,accuracy", n=12,
                           say=lambda line: None, **args)
    assert mixed.card.written == ["classifier_accuracy"]
    card = json.loads((model / "card.json").read_text())["metrics"]
    assert card["classifier_fid"]["protocol"]["num_generated"] == 24
    assert card["classifier_accuracy"]["protocol"]["num_generated"] == 12
    # the data is recorded by name and fingerprint, not by this machine's path
    assert card["classifier_fid"]["protocol"]["data"] == "ref.npz"
    assert card["classifier_fid"]["protocol"]["data_fingerprint"].startswith("sha256:")
    assert str(setup["root"]) not in (model / "card.json").read_text()

    assert main(["evaluate", str(model), "--data", setup["data"], "--classifier",
                 str(setup["classifier"]), "--cache-dir", str(setup["root"] / "cache"),
                 "--batch-size", "8", "--n", "12", "--metrics", "classifier_fid", "--replace"]) == 0
    err = capsys.readouterr().err
    assert "replaced classifier_fid" in err and "fewer images (12)" in err and "more (24)" in err
    card = json.loads((model / "card.json").read_text())["metrics"]
    assert card["classifier_fid"]["protocol"]["num_generated"] == 12


def test_evaluate_no_card_and_replace_contradict(setup, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _evaluate(setup, "--no-card", "--replace", "--n", "10")
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "contradict" in err and "--no-card" in err


def test_evaluate_without_card_writes_reports_none(setup):
    from condgan.metrics.evaluate import evaluate_model

    results = evaluate_model(str(setup["model"]), setup["data"], classifier_dir=str(setup["classifier"]),
                             metrics="classifier_fid", n=10, batch_size=8, write_card=False,
                             cache_dir=str(setup["root"] / "cache"), say=lambda line: None)
    assert results.card is None and "not written" in results.card_report()
