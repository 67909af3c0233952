"""`evaluate`: FID/KID/IS, classifier FID, per-class accuracy and intra-class FID of a model,
and on request its perceptual path length.

Images are generated batch by batch (image i from seed `seed + i`, labels cycling through the
classes for conditional models) and fed to every feature network as they come, so each image
is drawn once and memory holds only features.  Perceptual path length (`ppl_lpips`,
`classifier_ppl`: only when --metrics names them) walks the latent space in pairs of its own
(ppl.py); `classifier_ppl` measures in the feature maps of the classifier the data calls for:
the reference classifier of its classes, else, for Shapes data, the Shapes attribute classifier
(which serves no other metric).  Which metrics a model gets, how each is computed and how its
protocol (protocol.py) is built is the metrics registry's (registry.py); each goes into
`card.json` with its protocol.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from typing import Callable

from condgan.errors import UserError
from condgan.metrics import ppl, registry
from condgan.metrics.attngan_caption_accuracy import is_attribute_classifier
from condgan.metrics.datasets import data_name, load_reference, made_by_shapes
from condgan.metrics.features import balanced_labels, extract_many, generated_batches
from condgan.metrics.registry import Judge, MetricContext
from condgan.metrics.registry import covariance_warning  # noqa: F401  (importable from here too)
from condgan.metrics.results import EvaluationResults
from condgan.metrics.stats_cache import reference_features, restrict_features

# The conditionings evaluate_model scores (against labelled images); caption models go to
# attngan_evaluate.  The names below are the registry's, for callers that read them.
LABELLED = registry.IMAGES
ALL_METRICS = tuple(registry.names_for(LABELLED))
INCEPTION_METRICS = tuple(m for m in ALL_METRICS if registry.METRICS[m].needs == "inception")
CLASSIFIER_METRICS = tuple(m for m in ALL_METRICS if registry.METRICS[m].needs == "classifier")
CONDITIONAL_ONLY = tuple(sorted(m for m in ALL_METRICS if m not in registry.names_for(["none"])))
PATH_LENGTH_METRICS = tuple(m for m in ALL_METRICS if registry.METRICS[m].needs
                            in registry.PATH_LENGTH_NEEDS)
# The judges a reference classifier serves: its features and predictions, and its feature maps.
CLASSIFIER_NEEDS = {"classifier", "classifier_maps"}


def parse_metrics(text: str, conditional: bool, class_subset: bool = False) -> list[str] | None:
    """The requested metrics, or None for 'auto'.  `class_subset`: an unconditional model
    trained on some of the reference classes, which has an accuracy (see trained_classes)."""
    names = registry.parse_names(text, LABELLED)
    if names is None or conditional:
        return names
    fits = registry.names_for(["none"], class_subset)
    if any(m not in fits for m in names):
        conditional_only = sorted(m for m in ALL_METRICS if m not in fits)
        raise UserError(f"--metrics {text!r}: {', '.join(conditional_only)} need a class-conditional "
                        "model; this one is unconditional"
                        + ("" if class_subset else " (accuracy works for an unconditional model "
                           "trained on some of --data's classes, such as gan_horses)"))
    return names

def trained_classes(card: dict, reference) -> list[int] | None:
    """For an unconditional model trained on some of the reference data's classes (gan_horses:
    the CIFAR-10 horses, per its card's dataset record), those classes' indices; else None.
    Such a model is scored against those classes' reference images, and its "accuracy" is the
    share of samples the classifier puts in them."""
    names = list((card.get("dataset") or {}).get("classes") or [])
    if card.get("classes") or not names or len(names) >= len(reference.classes) \
            or not set(names) <= set(reference.classes):
        return None
    return [list(reference.classes).index(name) for name in names]


def _check_classes(model_classes, data_classes, data, what: str) -> None:
    if list(model_classes) != list(data_classes):
        raise UserError(f"the classes of {what} {list(model_classes)} differ from those of --data "
                        f"{data!r} {list(data_classes)}: evaluate against the data set the model was "
                        "trained on (same class names, same order)")


def _default_classifier(data: str, reference) -> Path | None:
    """The classifier `data` calls for: models/classifiers/<data name>, else for Shapes data the
    Shapes attribute classifier (which serves classifier_ppl only)."""
    folder = Path("models") / "classifiers" / data_name(data)
    if (folder / "classifier.keras").is_file():
        return folder
    return _default_attribute_classifier() if made_by_shapes(reference.meta) else None


def _maps_only_classifier(folder: Path, data: str, reference, candidates, wanted, say) -> Path:
    """The Shapes attribute classifier `folder` as classifier_ppl's judge: its feature maps.
    It names no classes of --data, so the classifier metrics are refused when named, skipped
    under 'auto'."""
    from condgan.metrics.attngan_caption_accuracy import CLASSIFIER_FILE

    if not made_by_shapes(reference.meta):
        raise UserError(f"{str(folder)!r} holds the Shapes attribute classifier ({CLASSIFIER_FILE}), "
                        f"which reads Shapes images; --data {data!r} is not Shapes data (made by "
                        "`python -m condgan make-shapes`): pass --classifier a reference classifier "
                        "of its classes")
    labelling = [spec.name for spec in candidates if spec.needs == "classifier"]
    if labelling:
        why = (f"{', '.join(labelling)} need a reference classifier of --data's classes; "
               f"{str(folder)!r} is the Shapes attribute classifier, which serves classifier_ppl "
               f"only: train one with `python -m condgan train-classifier --data {data} "
               f"-o models/classifiers/{data_name(data)}` or pass --classifier DIR")
        if wanted is not None:
            raise UserError(why)
        say(f"skipping classifier metrics: {why}")
    return folder


def evaluate_model(model_dir: str, data: str, *, split: str = "test", n: int = 10000,
                   classifier_dir: str | None = None, metrics: str = "auto",
                   inception_weights: str | None = None, cache_dir: str | None = None,
                   batch_size: int = 100, seed: int = 0, write_card: bool = True,
                   replace: bool = False, allow_download: bool = True,
                   ppl_pairs: int = ppl.DEFAULT_PAIRS, lpips_weights: str | None = None,
                   lpips_linear: str | None = None,
                   say: Callable[[str], None] = print, generator=None) -> EvaluationResults:
    """Measure `model_dir` against `data`; returns metric name -> {value, protocol, ...}.

    Perceptual path length, when `metrics` names it, walks `ppl_pairs` pairs; `ppl_lpips` reads
    VGG16's weights from `lpips_weights` (else Keras' cache; never downloaded) and LPIPS' linear
    layers from the .npz `lpips_linear` (else unweighted), see lpips.py.

    With `write_card`, metrics the card lacks are written into it; one it already has is
    replaced only with `replace=True` (`--replace`): otherwise the card keeps it, and `say`
    tells both values and their numbers of images.  `results.card` records what was written,
    replaced and left in place (None without `write_card`)."""
    from condgan.families import load_model_folder
    from condgan.model_folder import card_path, merge_card_metrics, read_card

    card = read_card(model_dir)  # a clear error for a folder without card.json
    g = generator if generator is not None else load_model_folder(model_dir)
    conditional = g.conditioning == "class"
    conditioning = "class" if conditional else "none"
    reference = load_reference(data, split)
    subset = None if conditional else trained_classes(card, reference)
    wanted = parse_metrics(metrics, conditional, subset is not None)
    if conditional:
        _check_classes(card["classes"], reference.classes, data, f"model {model_dir!r}")
    candidates = ([registry.METRICS[m] for m in wanted] if wanted is not None
                  else registry.applicable(conditioning, subset is not None))
    needs = {spec.needs for spec in candidates}

    classifier = attribute_classifier = None
    folder = Path(classifier_dir) if classifier_dir else _default_classifier(data, reference)
    if needs & CLASSIFIER_NEEDS and folder is not None and is_attribute_classifier(folder):
        attribute_classifier = _maps_only_classifier(folder, data, reference, candidates, wanted, say)
    elif needs & CLASSIFIER_NEEDS and folder is not None:
        from condgan.metrics.reference import ReferenceClassifier

        classifier = ReferenceClassifier(folder)
        _check_classes(classifier.classes, reference.classes, data,
                       f"reference classifier {str(folder)!r}")
    elif wanted is None:
        say(f"skipping classifier metrics: no reference classifier at models/classifiers/"
            f"{data_name(data)}; train one with `python -m condgan train-classifier --data {data} "
            f"-o models/classifiers/{data_name(data)}` or pass --classifier DIR")
    elif needs & CLASSIFIER_NEEDS:
        raise UserError(f"classifier metrics need a reference classifier: pass --classifier DIR or "
                        f"train one with `python -m condgan train-classifier --data {data} "
                        f"-o models/classifiers/{data_name(data)}`")
    networks = {"classifier": classifier} if "classifier" in needs and classifier else {}
    if "inception" in needs:
        from condgan.metrics.inception import InceptionFeatures

        try:  # 'auto' never downloads 92 MB unasked; an explicit request may
            networks["inception"] = InceptionFeatures(
                inception_weights or "auto",
                allow_download=allow_download and wanted is not None)
        except UserError as error:
            if wanted is not None:
                raise
            say(f"skipping Inception metrics (fid, kid, is): {error}")
    distances = ppl.distances_for(needs, classifier=classifier,
                                  attribute_classifier=attribute_classifier,
                                  lpips_weights=lpips_weights, lpips_linear=lpips_linear)
    own = {"encoder": g} if "encoder" in needs and callable(getattr(g, "negative_elbo", None)) else {}
    if wanted is not None and "encoder" in needs and not own:
        raise UserError(f"held_out_neg_elbo needs a model with an encoder (a VAE, kind cvae); "
                        f"{model_dir!r} is a {card['kind']}")
    if not networks and not distances and not own:
        raise UserError("no metric can be computed: pass --classifier DIR (train one with "
                        "`train-classifier`) or --inception-weights PATH")
    selected = [spec for spec in candidates
                if spec.needs in networks or spec.needs in distances or spec.needs in own]

    judges, real_labels, num_reference = {}, reference.y, len(reference)
    labels = balanced_labels(n, len(card["classes"])) if conditional else None
    if networks:
        sample = (lambda lab, seeds: g.generate_for_seeds(list(seeds), None if lab is None else list(lab)))
        say(f"generating {n} images from {model_dir} (seeds {seed}..{seed + n - 1})")
        gen = extract_many(networks, generated_batches(sample, n, batch_size, seed, labels), total=n)
        refs = {name: reference_features(net, reference, cache_dir, batch_size, say)
                for name, net in networks.items()}
        if subset is not None:  # compare with the trained classes' images only
            in_subset = np.isin(reference.y, subset)
            refs = {name: restrict_features(out, in_subset) for name, out in refs.items()}
            real_labels, num_reference = reference.y[in_subset], int(in_subset.sum())
        judges = {name: Judge.of(net, gen[name], refs[name]) for name, net in networks.items()}
    found, walk = ppl.walk_distances(g, distances, pairs=ppl_pairs, seed=seed,
                                     batch_size=batch_size, say=say)
    judges.update({need: Judge.of_distance(distances[need], found[need]) for need in found})
    if own:
        judges["encoder"] = _held_out_elbo_judge(g, reference, batch_size, seed, say)

    context = MetricContext(
        n=n, seed=seed, judges=judges,
        # card_safe (in registry.score) records the data by name and fingerprint
        protocol=dict(
            num_generated=n, num_reference=num_reference, split=split, seed=seed,
            data=card_path(data), data_fingerprint=reference.fingerprint(),
            labels="balanced: image i asks for class i mod K" if conditional else None,
            reference_classes=[reference.classes[i] for i in subset] if subset is not None else None),
        classes=card["classes"] if conditional else None, labels=labels, real_labels=real_labels,
        reference_classes=reference.classes, reference_size=len(reference), subset=subset,
        walk=walk)
    results = registry.score(selected, context, say=say, warn=True)
    if write_card:
        results.card = merge_card_metrics(
            model_dir, results, replace=replace, say=say,
            how_to_replace="rerun with --replace (evaluate_model(..., replace=True) from Python)")
    return results


def _held_out_elbo_judge(model, reference, batch_size: int, seed: int, say) -> Judge:
    """The model's own encoder and decoder as the judge of the reference images: their -ELBO."""
    say(f"scoring {len(reference)} reference images by the model's own -ELBO")
    labels = [model.classes[i] for i in reference.y] if model.conditioning == "class" else None
    parts = [model.negative_elbo(reference.x[start:start + batch_size],
                                 None if labels is None else labels[start:start + batch_size],
                                 seed=seed + start)
             for start in range(0, len(reference), batch_size)]
    return Judge(f"the model's own encoder and decoder ({model.name})", None, np.concatenate(parts),
                 dim=int(np.prod(reference.x.shape[1:])))


def evaluate(model_dir, data, *, n: int | None = None, write_card: bool = True,
             replace: bool = False, say: Callable[[str], None] = print, **options) -> EvaluationResults:
    """Measure a model folder with the metrics of its kind of conditioning: class and
    unconditional models against labelled images (`evaluate_model`), caption models on held-out
    captions (`attngan_evaluate.evaluate_attngan`)."""
    from condgan.families import family_of_card
    from condgan.model_folder import read_card

    if family_of_card(read_card(model_dir)).conditioning == "caption":
        from condgan.metrics.attngan_evaluate import evaluate_attngan

        classifier = options.get("classifier_dir") or _default_attribute_classifier()
        return evaluate_attngan(model_dir, data, damsm_dir=options.get("damsm_dir"),
                                classifier_dir=classifier, n=n or 1000, seed=options.get("seed", 0),
                                metrics=options.get("metrics") or "auto",
                                ppl_pairs=options.get("ppl_pairs", ppl.DEFAULT_PAIRS),
                                batch_size=options.get("batch_size", 100),
                                lpips_weights=options.get("lpips_weights"),
                                lpips_linear=options.get("lpips_linear"),
                                generator=options.get("generator"),
                                write_card=write_card, replace=replace, say=say)
    options.pop("damsm_dir", None)
    return evaluate_model(str(model_dir), str(data), n=n or 10000, write_card=write_card,
                          replace=replace, say=say, **options)


def _default_attribute_classifier() -> Path | None:
    from condgan.paths import project_path

    folder = project_path("models/classifiers/shapes_attributes")
    return folder if folder.is_dir() else None


def format_table(results: dict) -> str:
    """Metric, value (+- std, or a mean's standard error), feature network, numbers of images;
    a metric whose value is a table (per class, per attribute) gets one indented row per entry."""
    rows = [("metric", "value", "+-", "feature network", "N gen", "N ref")]
    for name, entry in results.items():
        p = entry.get("protocol")
        p = p if isinstance(p, dict) else {"feature_network": str(p or "")}
        value = entry["value"]
        shown = "" if isinstance(value, dict) else format_value(value)
        spread = entry.get("std", entry.get("standard_error"))
        rows.append((name, shown, f"{spread:.4f}" if spread is not None else "",
                     str(p.get("feature_network", ""))[:48], str(p.get("num_generated") or ""),
                     str(p.get("num_reference") or "")))
        sub = value if isinstance(value, dict) else (entry.get("per_class") or entry.get("predicted_as") or {})
        for key, item in sub.items():
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                rows.append((f"  {key}", format_value(item), "", "", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def format_value(value) -> str:
    """A metric's value on one line: a number to four places, a table of numbers (precision and
    recall, per attribute) as {name value, ...}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} {format_value(item)}" for key, item in value.items()) + "}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
