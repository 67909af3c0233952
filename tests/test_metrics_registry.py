"""The metrics registry: one spec per metric, selection by the generator contract's conditioning,
--metrics lists checked against it, and every protocol built by make_protocol."""
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from condgan.errors import UserError
from condgan.generator import CONDITIONINGS
from condgan.metrics import registry
from condgan.metrics.features import Extracted
from condgan.metrics.registry import METRICS, Judge, MetricContext, MetricSpec

LABELLED = ("fid", "kid", "is", "intra_fid", "classifier_fid", "accuracy", "intra_classifier_fid",
            "precision_recall", "diversity")
ENCODER = ("held_out_neg_elbo",)                # models with an encoder (VAEs) only
PATH_LENGTH = ("ppl_lpips", "classifier_ppl")   # computed only when named
CAPTION = ("r_precision_generated", "r_precision_real", "damsm_fid", "fid",
           "caption_accuracy_generated", "caption_accuracy_real",
           "caption_accuracy_two_objects_generated", "caption_accuracy_two_objects_real")


def test_every_metric_has_a_complete_spec():
    assert set(METRICS) == set(LABELLED) | set(ENCODER) | set(PATH_LENGTH) | set(CAPTION)
    assert {name for name, spec in METRICS.items() if spec.on_request} == set(PATH_LENGTH)
    assert len(registry._TABLE) == len(METRICS)  # no name twice
    for name, spec in METRICS.items():
        assert isinstance(spec, MetricSpec) and spec.name == name
        assert spec.needs in registry.NEEDS
        assert spec.conditionings and set(spec.conditionings) <= set(CONDITIONINGS)
        assert callable(spec.compute) and callable(spec.protocol) and callable(spec.warnings)
    card_names = [spec.card_name for spec in METRICS.values()]
    assert len(set(card_names)) == len(card_names)
    # classifier accuracy is never a bare "accuracy" in a card
    assert METRICS["accuracy"].card_name == "classifier_accuracy"
    assert {name for name, spec in METRICS.items() if spec.card_name != name} == {"accuracy"}


def test_what_each_metric_needs():
    needs = {name: spec.needs for name, spec in METRICS.items()}
    assert {m for m, need in needs.items() if need == "inception"} == {"fid", "kid", "is", "intra_fid"}
    assert {m for m, need in needs.items() if need == "classifier"} == {
        "classifier_fid", "accuracy", "intra_classifier_fid", "precision_recall", "diversity"}
    assert {m for m, need in needs.items() if need == "damsm"} == {
        "r_precision_generated", "r_precision_real", "damsm_fid"}
    assert {m for m, need in needs.items() if need == "attributes"} == {
        "caption_accuracy_generated", "caption_accuracy_real"}
    assert {m for m, need in needs.items() if need == "attributes_two_objects"} == {
        "caption_accuracy_two_objects_generated", "caption_accuracy_two_objects_real"}
    assert needs["ppl_lpips"] == "lpips" and needs["classifier_ppl"] == "classifier_maps"


def test_selection_by_conditioning_in_report_order():
    def names(conditioning, class_subset=False):
        return [spec.name for spec in registry.applicable(conditioning, class_subset)]

    assert names("class") == list(LABELLED + ENCODER)
    assert names("none") == ["fid", "kid", "is", "classifier_fid", "precision_recall", "diversity",
                             *ENCODER]
    # an unconditional model trained on some of the reference classes also has an accuracy
    assert names("none", class_subset=True) == ["fid", "kid", "is", "classifier_fid", "accuracy",
                                                "precision_recall", "diversity", *ENCODER]
    assert names("class", class_subset=True) == list(LABELLED + ENCODER)
    assert names("caption") == list(CAPTION)
    assert names("caption", class_subset=True) == list(CAPTION)
    assert [spec.name for spec in registry.applicable("none", on_request=True)][-2:] == list(PATH_LENGTH)
    # a caption model's path length (its caption held along the walk), also only when named
    assert registry.names_for(["caption"]) == list(CAPTION + PATH_LENGTH)
    assert registry.parse_names("classifier_ppl", ["caption"]) == ["classifier_ppl"]
    assert registry.names_for(["none", "class"]) == list(LABELLED + ENCODER + PATH_LENGTH)
    assert registry.names_for(registry.IMAGES) == list(LABELLED + ENCODER + PATH_LENGTH)
    with pytest.raises(ValueError, match="conditioning 'cgan'"):
        registry.applicable("cgan")


def test_a_metrics_list_is_checked_against_the_registry():
    assert registry.parse_names("auto", ["class"]) is None
    assert registry.parse_names(" fid, accuracy ,", ["class"]) == ["fid", "accuracy"]
    assert registry.parse_names("r_precision_real,fid", ["caption"]) == ["r_precision_real", "fid"]
    for text, conditionings in (("fid,bogus", ["none", "class"]), ("r_precision_real", ["class"]),
                                ("kid", ["caption"])):
        with pytest.raises(UserError) as error:
            registry.parse_names(text, conditionings)
        valid = registry.names_for(conditionings)
        bad = [m for m in text.split(",") if m not in valid]
        assert str(error.value) == f"--metrics {text!r}: unknown {bad}; choose from {', '.join(valid)}"
    with pytest.raises(UserError, match="unknown \\[\\]; choose from fid, kid, is"):
        registry.parse_names(" , ", ["none"])


def test_evaluate_keeps_its_error_messages_and_names():
    from condgan.metrics import evaluate

    assert evaluate.ALL_METRICS == LABELLED + ENCODER + PATH_LENGTH
    assert evaluate.PATH_LENGTH_METRICS == PATH_LENGTH
    assert evaluate.INCEPTION_METRICS == ("fid", "kid", "is", "intra_fid")
    assert evaluate.CLASSIFIER_METRICS == ("classifier_fid", "accuracy", "intra_classifier_fid",
                                           "precision_recall", "diversity")
    assert evaluate.CONDITIONAL_ONLY == ("accuracy", "intra_classifier_fid", "intra_fid")
    with pytest.raises(UserError) as error:
        evaluate.parse_metrics("fid,damsm_fid", conditional=True)
    assert str(error.value) == ("--metrics 'fid,damsm_fid': unknown ['damsm_fid']; choose from "
                                "fid, kid, is, intra_fid, classifier_fid, accuracy, intra_classifier_fid, "
                                "precision_recall, diversity, held_out_neg_elbo, ppl_lpips, classifier_ppl")
    with pytest.raises(UserError) as error:
        evaluate.parse_metrics("fid,accuracy", conditional=False)
    assert str(error.value) == (
        "--metrics 'fid,accuracy': accuracy, intra_classifier_fid, intra_fid need a "
        "class-conditional model; this one is unconditional (accuracy works for an unconditional "
        "model trained on some of --data's classes, such as gan_horses)")
    assert evaluate.parse_metrics("fid,accuracy", conditional=False, class_subset=True) == ["fid", "accuracy"]
    with pytest.raises(UserError, match="'intra_fid': intra_classifier_fid, intra_fid need a "
                                        "class-conditional model; this one is unconditional$"):
        evaluate.parse_metrics("intra_fid", conditional=False, class_subset=True)


def _extracted(features, probs=None):
    from condgan.metrics.fid import feature_statistics

    return Extracted(features, probs, *feature_statistics(features))


def _context(n=30, dim=4):
    rng = np.random.default_rng(0)
    classes = ["a", "b", "c"]
    labels = np.arange(n) % 3
    real_labels = np.arange(45) % 3
    probs = np.eye(3, dtype=np.float32)[(labels + (np.arange(n) % 5 == 0)) % 3]

    net = SimpleNamespace(name="test net /tmp/x", dim=dim, weights_fingerprint="sha256:ab",
                          resize="none", test_accuracy=0.9)
    judge = Judge.of(net, _extracted(rng.normal(size=(n, dim)), probs),
                     _extracted(rng.normal(size=(45, dim)) + 0.5))
    return MetricContext(
        n=n, seed=0, judges={"classifier": judge, "inception": judge},
        protocol=dict(num_generated=n, num_reference=45, split="test", seed=0, data="ref.npz",
                      labels="balanced"),
        classes=classes, labels=labels, real_labels=real_labels, reference_classes=classes,
        reference_size=45)


def test_score_computes_through_the_specs_with_one_protocol_format():
    from condgan.metrics.fid import frechet_distance

    ctx = _context()
    said = []
    # (the held-out -ELBO's judge is the model's own encoder: test_cvae.py scores it)
    specs = [spec for spec in registry.applicable("class") if spec.needs != "encoder"]
    results = registry.score(specs, ctx, say=said.append, warn=True)
    assert list(results) == [spec.card_name for spec in specs]
    g, r = ctx.judges["classifier"].generated, ctx.judges["classifier"].real
    assert results["classifier_fid"]["value"] == frechet_distance(g.mean, g.covariance, r.mean, r.covariance)
    assert results["classifier_accuracy"]["value"] == pytest.approx(24 / 30)
    assert results["classifier_accuracy"]["classifier_test_accuracy"] == 0.9
    assert results["kid"]["subsets"] == 100 and results["kid"]["subset_size"] == 30
    assert set(results["intra_fid"]["per_class"]) == {"a", "b", "c"}
    assert results["is"]["splits"] == 10
    fixed = ("num_generated", "num_reference", "reference_split", "feature_network",
             "weights_fingerprint", "resize", "seed", "date", "versions")
    for name, entry in results.items():
        protocol = entry["protocol"]
        assert isinstance(protocol, dict) and tuple(protocol)[:len(fixed)] == fixed, name
        method = ["method"] if name in ("precision_recall", "diversity") else []
        assert list(protocol)[len(fixed):] == ["data", "labels", *method, "warnings"], name
        assert protocol["feature_network"] == "test net x"  # card_safe: no machine-local path
        assert protocol["num_reference"] == (None if name == "classifier_accuracy" else 45)
    # 10 images per class for 4-d features are enough; 30 images too: no covariance warning
    # (the generated points are shifted from the real ones, so recall and diversity may warn)
    assert not [line for line in said if "covariance" in line]
    assert all(e["protocol"]["warnings"] is None for name, e in results.items()
               if name not in ("precision_recall", "diversity"))


def test_covariance_warnings_are_said_and_recorded_only_when_asked():
    ctx = _context(n=12, dim=12)
    said = []
    results = registry.score([METRICS["fid"], METRICS["intra_fid"], METRICS["kid"]], ctx,
                             say=said.append, warn=True)
    assert len(said) == 2 and "fid uses 12 images" in said[0] and "intra_fid (per class) uses 4" in said[1]
    assert results["fid"]["protocol"]["warnings"] == said[:1]
    assert results["kid"]["protocol"]["warnings"] is None
    quiet = registry.score([METRICS["fid"]], ctx, say=said.append)
    assert len(said) == 2 and "warnings" not in quiet["fid"]["protocol"]
    assert quiet["fid"]["value"] == results["fid"]["value"]


def test_suffixes_rename_one_judges_metrics():
    ctx = _context()
    ctx.judges = {"damsm": ctx.judges["inception"], "inception": ctx.judges["inception"]}
    ctx.protocol = dict(ctx.protocol, method=None)
    results = registry.score([METRICS["damsm_fid"], METRICS["fid"]], ctx, say=print,
                             suffixes={"damsm": "@other"})
    assert list(results) == ["damsm_fid@other", "fid"]
    assert results["damsm_fid@other"]["value"] == results["fid"]["value"]
    assert results["damsm_fid@other"]["protocol"]["feature_network"] == (
        "test net x global image features (4-d); NOT Inception FID")
    assert results["fid"]["protocol"]["method"] is None


def test_importing_the_registry_loads_no_deep_learning_library():
    code = ("import sys, condgan.metrics.registry, condgan.metrics.evaluate; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
