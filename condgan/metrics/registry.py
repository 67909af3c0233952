"""Every metric condgan computes, in one table: metric name -> `MetricSpec`.

A spec says what the metric is called in card.json, which judge scores the images (a feature
network or another scorer: "inception", "classifier", "damsm", "attributes"; for perceptual path
length a pair distance: "lpips", "classifier_maps", the latter in the feature maps of the
reference classifier, or of the Shapes attribute classifier for Shapes data), which models it
applies to (by the generator contract's `conditioning`: "none", "class", "caption"), how its
entry {"value": ..., extras} is computed from a `MetricContext`, and how its protocol record is
built (always `protocol.make_protocol`, a dict).  A metric `on_request` (perceptual path length:
a walk of its own through the generator) is computed only when named, never by 'auto'.

`evaluate.evaluate_model` (class and unconditional models, scored against labelled images) and
`attngan_evaluate.evaluate_attngan` (caption models, scored on held-out captions) load the
judges their metrics need, put what the judges made of the generated and the real images into a
`MetricContext`, and compute the selected metrics with `score`.

Importing this module imports no metric math and no deep-learning library: each computation
imports what it uses when it runs, so the command line can list the metrics cheaply.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping, Sequence

from condgan.errors import UserError
from condgan.generator import CONDITIONINGS
from condgan.metrics.protocol import make_protocol
from condgan.metrics.results import EvaluationResults

NEEDS = ("inception", "classifier", "damsm", "attributes", "attributes_two_objects",
         "lpips", "classifier_maps", "encoder")
# The judges of perceptual path length: pair distances of images along a latent walk.
PATH_LENGTH_NEEDS = ("lpips", "classifier_maps")
# KID's estimator: the mean over this many random subsets of at most this many images per set.
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000
IS_SPLITS = 10
R_PRECISION_REPEATS = 3
R_PRECISION_METHOD = (f"1 true + 99 mismatched captions of other attribute sets, top-1 by "
                      f"cosine, {R_PRECISION_REPEATS} repeats")


@dataclasses.dataclass
class Judge:
    """One judge as a protocol names it, and what it made of the generated and the real images:
    an `Extracted` (features, probs, mean, covariance) for a feature network, or the images
    themselves for a judge that scores images directly (the attribute classifier)."""

    name: str
    generated: Any        # for a pair distance: the (pairs,) distances of the walk's pairs
    real: Any
    dim: int | None = None
    weights_fingerprint: str | None = None
    resize: str = "none"
    network: Any = None   # the judge itself, for what a metric reads from it (test accuracy)

    @classmethod
    def of(cls, network, generated, real) -> "Judge":
        """The judge of a `features.FeatureNetwork`; build it after the extraction, since a
        classifier records how it resized only once it has seen the images."""
        return cls(name=network.name, generated=generated, real=real, dim=network.dim,
                   weights_fingerprint=network.weights_fingerprint, resize=network.resize,
                   network=network)

    @classmethod
    def of_distance(cls, distance, distances) -> "Judge":
        """The judge of a path length: its pair distance (`feature_distance.FeatureMapDistance`)
        and the (pairs,) distances it measured along the walk (`ppl.walk_distances`)."""
        return cls(name=distance.name, generated=distances, real=None,
                   weights_fingerprint=distance.weights_fingerprint, resize=distance.resize,
                   network=distance)


@dataclasses.dataclass
class MetricContext:
    """What a metric's computation and protocol read.  `score` hands each metric a copy with
    `judge` (its own judge) and `metric` (its name) filled in."""

    n: int                                  # generated images
    seed: int
    judges: Mapping[str, Judge]             # need -> judge, for every judge this run loaded
    # The protocol fields every metric of the run shares: num_generated, num_reference, split,
    # seed and the run's extras (data, its fingerprint, how conditions were chosen, ...).
    protocol: Mapping[str, Any]
    classes: Sequence[str] | None = None          # a class model's classes
    labels: Any = None                            # the class index each generated image asked for
    real_labels: Any = None                       # the class index of each real image
    reference_classes: Sequence[str] | None = None
    reference_size: int | None = None             # images in the reference split
    # An unconditional model trained on some of the reference classes: their indices.
    subset: Sequence[int] | None = None
    sentences: Mapping[str, Any] | None = None    # "generated"/"real" -> DAMSM sentence features
    class_ids: Any = None                         # R-precision draws mismatches across these
    attributes: Sequence[dict] | None = None      # what the attribute judge's captions name
    max_words: int | None = None                  # captions the attribute judge scores: <= this
    two_object_attributes: Sequence[dict] | None = None   # the two-object captions' attributes
    truncated: int | None = None                  # of those, captions longer than max_words
    walk: Mapping[str, Any] | None = None         # perceptual path length's walk (ppl.walk_protocol)
    judge: Judge | None = None
    metric: str | None = None


def covariance_warning(n: int, dim: int, what: str) -> str | None:
    """A d-dim covariance from n samples has rank <= n-1: singular, FID meaningless, if n <= d."""
    if n > dim:
        return None
    return (f"warning: {what} uses {n} images but its features have {dim} dimensions, so the "
            f"covariance is singular and the value is unreliable: use at least {dim + 1} images "
            f"(ideally {max(10 * dim, 10000)}+) for a stable covariance")


def judged_protocol(ctx: MetricContext, **fields) -> dict:
    """The protocol record: the run's shared fields, the judge's name, weights and resize, then
    `fields` (a metric's own: another description of the network, its method)."""
    record = dict(ctx.protocol)
    record.update(feature_network=ctx.judge.name, weights_fingerprint=ctx.judge.weights_fingerprint,
                  resize=ctx.judge.resize)
    record.update(fields)
    return make_protocol(**record)


def _no_warnings(ctx: MetricContext) -> list[str | None]:
    return []


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    """One metric: its names, its judge, the models it applies to, and how its entry and its
    protocol are made."""

    name: str                                          # as --metrics names it
    card_name: str                                     # the key in card.json and the results
    needs: str                                         # one of NEEDS
    conditionings: tuple[str, ...]                     # the models it applies to
    compute: Callable[[MetricContext], dict]           # -> {"value": ..., extras}
    protocol: Callable[[MetricContext], dict] = judged_protocol
    warnings: Callable[[MetricContext], list] = _no_warnings
    # Also applies to an unconditional model trained on some of the reference data's classes.
    class_subset: bool = False
    # Computed only when --metrics names it ('auto' leaves it out): a pass of its own.
    on_request: bool = False

    def applies_to(self, conditioning: str, class_subset: bool = False) -> bool:
        return conditioning in self.conditionings or (
            class_subset and self.class_subset and conditioning == "none")


# --- the computations ------------------------------------------------------------------------

def _frechet(ctx: MetricContext) -> dict:
    from condgan.metrics.fid import frechet_distance

    g, r = ctx.judge.generated, ctx.judge.real
    return {"value": frechet_distance(g.mean, g.covariance, r.mean, r.covariance)}


def _intra_class_frechet(ctx: MetricContext) -> dict:
    from condgan.metrics.accuracy import intra_class_fid

    return intra_class_fid(ctx.judge.generated.features, ctx.labels, ctx.judge.real.features,
                           ctx.real_labels, ctx.classes)


def _kid(ctx: MetricContext) -> dict:
    from condgan.metrics.kid import kernel_distance

    value, std = kernel_distance(ctx.judge.generated.features, ctx.judge.real.features,
                                 num_subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE, seed=ctx.seed)
    return {"value": value, "std": std, "subsets": KID_SUBSETS,
            "subset_size": min(KID_SUBSET_SIZE, ctx.n, ctx.reference_size)}


def _inception_score(ctx: MetricContext) -> dict:
    from condgan.metrics.inception_score import inception_score

    value, std = inception_score(ctx.judge.generated.probs, splits=IS_SPLITS)
    return {"value": value, "std": std, "splits": IS_SPLITS}


def _accuracy(ctx: MetricContext) -> dict:
    """Of the asked-for classes; for an unconditional model trained on some of the reference
    classes, the share of its samples the classifier puts in those classes."""
    from condgan.metrics.accuracy import accuracy_report, subset_share

    predicted = ctx.judge.generated.probs.argmax(axis=1)
    entry = (subset_share(predicted, ctx.subset, ctx.reference_classes) if ctx.subset is not None
             else accuracy_report(predicted, ctx.labels, ctx.classes))
    entry["classifier_test_accuracy"] = ctx.judge.network.test_accuracy
    return entry


def _r_precision(side: str) -> Callable[[MetricContext], dict]:
    def compute(ctx: MetricContext) -> dict:
        from condgan.metrics.r_precision import r_precision

        return {"value": r_precision(getattr(ctx.judge, side).features, ctx.sentences[side],
                                     seed=ctx.seed, class_ids=ctx.class_ids,
                                     repeats=R_PRECISION_REPEATS)["r_precision"]}
    return compute


def _caption_accuracy(side: str) -> Callable[[MetricContext], dict]:
    def compute(ctx: MetricContext) -> dict:
        from condgan.metrics.attngan_caption_accuracy import caption_accuracy

        return {"value": caption_accuracy(ctx.judge.network, getattr(ctx.judge, side),
                                          ctx.attributes)}
    return compute


def _set_size(ctx: MetricContext) -> int:
    """Images per set for precision and recall: the generated set, one half of the reference
    and the other half, all the same size."""
    return min(ctx.n, len(ctx.judge.real.features) // 2)


def _precision_recall(ctx: MetricContext) -> dict:
    from condgan.metrics import precision_recall as pr

    generated, real = ctx.judge.generated.features, ctx.judge.real.features
    size = _set_size(ctx)
    first, second = (half[:size] for half in pr.halves(len(real), ctx.seed))
    model = pr.precision_recall(real[first], generated[:size])
    ceiling = pr.precision_recall(real[first], real[second])
    warnings = []
    if model["recall"] < ceiling["recall"] - pr.RECALL_MARGIN:
        warnings.append(f"warning: recall {model['recall']:.3f} is far below real images' "
                        f"{ceiling['recall']:.3f}: the samples cover only part of what the data "
                        "holds (mode collapse?); look at a grid of them")
    return {"value": model, "real": ceiling, "warnings": warnings}


def _diversity(ctx: MetricContext) -> dict:
    from condgan.metrics import precision_recall as pr

    generated, real = ctx.judge.generated.features, ctx.judge.real.features
    if ctx.classes:
        entry = pr.diversity(generated, real, ctx.labels, ctx.real_labels, ctx.classes, seed=ctx.seed)
        narrow = {name: ratio for name, ratio in entry["per_class"].items() if ratio < pr.DIVERSITY_FLOOR}
    else:
        entry = pr.diversity(generated, real, seed=ctx.seed)
        narrow = {"all samples": entry["value"]} if entry["value"] < pr.DIVERSITY_FLOOR else {}
    entry["warnings"] = [
        f"warning: less varied than the real images ({', '.join(f'{k} {v:.2f}' for k, v in narrow.items())}; "
        f"1.00 = as varied as the data): look for near-identical samples"] if narrow else []
    return entry


def _path_length(ctx: MetricContext) -> dict:
    from condgan.metrics.ppl import path_length

    return path_length(ctx.judge.generated)


# --- what the protocols add, and the warnings -------------------------------------------------

def _held_out_elbo(ctx: MetricContext) -> dict:
    """The model's own -ELBO of the held-out images (a VAE scores them with its encoder)."""
    import numpy as np

    from condgan.families.cvae.objective import bits_per_dim

    per_image = np.asarray(ctx.judge.real, dtype=np.float64)
    dims = ctx.judge.dim
    return {"value": round(float(per_image.mean()), 3),
            "bits_per_dim": round(float(bits_per_dim(per_image.mean(), dims)), 4),
            "stderr": round(float(per_image.std(ddof=1) / np.sqrt(len(per_image))), 3)}


def _held_out_elbo_protocol(ctx: MetricContext) -> dict:
    return judged_protocol(ctx, num_generated=None, feature_network=ctx.judge.name,
                           method="-ELBO in nats per image on [-1, 1] pixels, one posterior "
                                  "sample per image; bits_per_dim on 0..255 pixels, no "
                                  "dequantisation")


def _unpaired_protocol(ctx: MetricContext) -> dict:
    """Accuracy compares with no reference images."""
    return judged_protocol(ctx, num_reference=None)


def _r_precision_protocol(ctx: MetricContext) -> dict:
    return judged_protocol(ctx, feature_network=f"{ctx.judge.name} (global image and sentence "
                           "features)", method=R_PRECISION_METHOD)


def _damsm_fid_protocol(ctx: MetricContext) -> dict:
    return judged_protocol(ctx, feature_network=f"{ctx.judge.name} global image features "
                           f"({ctx.judge.dim}-d); NOT Inception FID")


def _two_object_accuracy(side: str) -> Callable[[MetricContext], dict]:
    def compute(ctx: MetricContext) -> dict:
        from condgan.metrics.attngan_caption_accuracy import two_object_accuracy

        return {"value": two_object_accuracy(ctx.judge.network, getattr(ctx.judge, side),
                                             ctx.two_object_attributes)}
    return compute


def _two_object_protocol(ctx: MetricContext) -> dict:
    count = len(ctx.two_object_attributes)
    return judged_protocol(ctx, num_generated=count, num_reference=count, method=(
        f"every two-object caption among the held-out ones ({count}), scored against all it "
        f"names; {ctx.truncated} of them are longer than the text encoder's {ctx.max_words} "
        "words, which it reads truncated"))


def _caption_accuracy_protocol(ctx: MetricContext) -> dict:
    return judged_protocol(ctx, method=f"the attributes of each object read in its cell; captions "
                           f"of <= {ctx.max_words} words")


def _precision_recall_protocol(ctx: MetricContext) -> dict:
    from condgan.metrics.precision_recall import K_NEAREST

    size = _set_size(ctx)
    return judged_protocol(ctx, method=f"improved precision and recall (Kynkaanniemi et al. 2019), "
                           f"k={K_NEAREST}: {size} generated images against one random half of the "
                           f"reference images; 'real': the other half against it, {size} each")


def _diversity_protocol(ctx: MetricContext) -> dict:
    scope = "per class, then their mean" if ctx.classes else "over all samples"
    return judged_protocol(ctx, method=f"mean distance between two samples (at most 2000 drawn), "
                           f"generated over real, {scope}")


def _path_length_protocol(ctx: MetricContext) -> dict:
    """The walk's record and the pair distance's; no reference images, data or split."""
    distance = ctx.judge.network
    return make_protocol(
        num_generated=2 * ctx.walk["pairs"], num_reference=None, split=None,
        feature_network=ctx.judge.name, weights_fingerprint=ctx.judge.weights_fingerprint,
        resize=ctx.judge.resize, seed=ctx.seed, distance=distance.form, layers=list(distance.layers),
        **ctx.walk)


def _whole_set_warning(ctx: MetricContext) -> list[str | None]:
    return [covariance_warning(ctx.n, ctx.judge.dim, ctx.metric)]


def _per_class_warning(ctx: MetricContext) -> list[str | None]:
    return [covariance_warning(ctx.n // len(ctx.classes), ctx.judge.dim, f"{ctx.metric} (per class)")]


# --- the table --------------------------------------------------------------------------------

IMAGES = ("none", "class")   # models scored against labelled images (evaluate_model)
CLASS, CAPTION = ("class",), ("caption",)


def _spec(name, needs, conditionings, compute, card_name=None, **more) -> MetricSpec:
    return MetricSpec(name=name, card_name=card_name or name, needs=needs,
                      conditionings=tuple(conditionings), compute=compute, **more)


# In report order: a model's results (and its card) list its metrics as they come here.
_TABLE = (
    _spec("r_precision_generated", "damsm", CAPTION, _r_precision("generated"),
          protocol=_r_precision_protocol),
    _spec("r_precision_real", "damsm", CAPTION, _r_precision("real"), protocol=_r_precision_protocol),
    _spec("damsm_fid", "damsm", CAPTION, _frechet, protocol=_damsm_fid_protocol),
    _spec("fid", "inception", IMAGES + CAPTION, _frechet, warnings=_whole_set_warning),
    _spec("kid", "inception", IMAGES, _kid),
    _spec("is", "inception", IMAGES, _inception_score),
    _spec("intra_fid", "inception", CLASS, _intra_class_frechet, warnings=_per_class_warning),
    _spec("classifier_fid", "classifier", IMAGES, _frechet, warnings=_whole_set_warning),
    _spec("accuracy", "classifier", CLASS, _accuracy, card_name="classifier_accuracy",
          protocol=_unpaired_protocol, class_subset=True),
    _spec("intra_classifier_fid", "classifier", CLASS, _intra_class_frechet,
          warnings=_per_class_warning),
    _spec("precision_recall", "classifier", IMAGES, _precision_recall,
          protocol=_precision_recall_protocol),
    _spec("diversity", "classifier", IMAGES, _diversity, protocol=_diversity_protocol),
    # Models with an encoder (VAEs) only: evaluate skips it for the others.
    _spec("held_out_neg_elbo", "encoder", IMAGES, _held_out_elbo, protocol=_held_out_elbo_protocol),
    _spec("caption_accuracy_generated", "attributes", CAPTION, _caption_accuracy("generated"),
          protocol=_caption_accuracy_protocol),
    _spec("caption_accuracy_real", "attributes", CAPTION, _caption_accuracy("real"),
          protocol=_caption_accuracy_protocol),
    _spec("caption_accuracy_two_objects_generated", "attributes_two_objects", CAPTION,
          _two_object_accuracy("generated"), protocol=_two_object_protocol),
    _spec("caption_accuracy_two_objects_real", "attributes_two_objects", CAPTION,
          _two_object_accuracy("real"), protocol=_two_object_protocol),
    # Every kind of model: a caption model walks with its caption fixed.
    _spec("ppl_lpips", "lpips", IMAGES + CAPTION, _path_length, protocol=_path_length_protocol,
          on_request=True),
    _spec("classifier_ppl", "classifier_maps", IMAGES + CAPTION, _path_length,
          protocol=_path_length_protocol, on_request=True),
)
METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in _TABLE}


# --- selection --------------------------------------------------------------------------------

def applicable(conditioning: str, class_subset: bool = False, *,
               on_request: bool = False) -> list[MetricSpec]:
    """The metrics 'auto' computes for a model with this `conditioning`, in report order; with
    `on_request`, also those computed only when named.  `class_subset`: an unconditional model
    trained on some of the reference data's classes (it has an accuracy)."""
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"conditioning {conditioning!r}: expected one of {CONDITIONINGS}")
    return [spec for spec in _TABLE if spec.applies_to(conditioning, class_subset)
            and (on_request or not spec.on_request)]


def names_for(conditionings: Iterable[str], class_subset: bool = False) -> list[str]:
    """Names of the metrics that apply to any of `conditionings` (those computed on request
    too), in report order."""
    names = {spec.name for c in conditionings
             for spec in applicable(c, class_subset, on_request=True)}
    return [spec.name for spec in _TABLE if spec.name in names]


def parse_names(text: str, conditionings: Iterable[str]) -> list[str] | None:
    """A comma-separated --metrics list checked against the metrics of `conditionings`; None for
    'auto'.  An empty list or a name outside them is a UserError that lists the valid names."""
    if text == "auto":
        return None
    valid = names_for(conditionings)
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in valid]
    if unknown or not names:
        raise UserError(f"--metrics {text!r}: unknown {unknown}; choose from {', '.join(valid)}")
    return names


# --- computing --------------------------------------------------------------------------------

def score(specs: Iterable[MetricSpec], ctx: MetricContext, *, say: Callable[[str], None] = print,
          warn: bool = False, suffixes: Mapping[str, str] | None = None) -> EvaluationResults:
    """Compute `specs` on `ctx`: card name -> {"value", extras..., "protocol"}, in the order of
    `specs`.  `warn`: say each warning (a covariance too small, a recall far below the real
    data's) and record them all in the protocol's "warnings" (None when there are none).
    `suffixes`: need -> text appended to the card names of that judge's metrics, so numbers from
    another judge than the card's own go in beside its own.  Protocols keep no machine-local path
    (`model_folder.card_safe`)."""
    from condgan.model_folder import card_safe

    suffixes = suffixes or {}
    results = EvaluationResults()
    for spec in specs:
        view = dataclasses.replace(ctx, judge=ctx.judges[spec.needs], metric=spec.name)
        warnings = [line for line in spec.warnings(view) if line] if warn else []
        entry = spec.compute(view)
        # What only the result can show (a recall far below the real data's) comes with it.
        found = entry.pop("warnings", [])
        if warn:
            warnings += found
        for line in warnings:
            say(line)
        protocol = spec.protocol(view)
        if warn:
            protocol["warnings"] = warnings or None
        entry["protocol"] = card_safe(protocol)
        results[spec.card_name + suffixes.get(spec.needs, "")] = entry
    return results
