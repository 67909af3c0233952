"""Bring your own generator: a Keras-2-era `.h5` generator file as a GAN-family model folder.

    from condgan.families.gan.import_h5 import import_h5
    import_h5("old_generator.h5", "models/legacy_cgan", classes=CIFAR10_CLASSES)

The notebooks condgan grew out of saved their generators with Keras 2's `model.save("x.h5")`:
inputs `[noise (latent,), label (1,)]` (a class embedding reshaped and concatenated to the
projected noise) or noise only, transposed convolutions, a `tanh` (or `sigmoid`) output.  Such a
file is read in Keras 3's safe mode, after its `model_config` has been checked layer by layer
(no `Lambda` or unknown layer is ever deserialised: no code from the file runs).  What the model
says about itself is read from it: the noise size, which input is the class label and its shape,
the number of classes (its `Embedding`), the image size and channels, the value range (its last
activation).  Only the class names are not in the file.  The model is run once and, when
`tf_keras` (Keras 2) is installed, compared with what Keras 2 computes from the same file, then
written as a normal model folder: `generator.keras`, the original file as `generator.h5`, and a
card (kind `cgan` or `gan`) with `provenance`.

Noise: condgan draws standard-normal noise (`condgan.basics.seed_noise`), as Keras-2 DCGANs
usually did (`np.random.normal`); the card says so (`noise`).  See docs/importing.md.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from condgan.errors import UserError

SOURCE = "imported from a Keras 2 HDF5 file"
NOISE = "standard normal"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# A container of layers in a model_config: walked into, never refused itself.
MODEL_CLASSES = ("Functional", "Model", "Sequential")
# Layers refused by class whatever their settings, and why.
REFUSED = {
    "Lambda": "a Lambda layer holds Python code, which safe mode never runs",
    "TFOpLambda": "a TensorFlow operation applied to a Keras tensor in the model code (such as "
                  "tf.concat or x * 2), which Keras 3 cannot read",
    "SlicingOpLambda": "a tensor slice (x[:, 0]) in the model code, which Keras 3 cannot read",
    "TFSMLayer": "a layer that loads a TensorFlow SavedModel from a path",
}
WHAT_TO_DO = ("re-save the generator without it (with a built-in layer in its place, in the "
              "Keras 2 code that made it), or rebuild the architecture in Keras 3 code and load "
              "the weights with model.load_weights(PATH.h5)")
_ANY = object()
# Keys Keras 2 writes into a layer's config that Keras 3 does not take, dropped only at values
# that change nothing at inference (a `groups` other than 1 is a real setting and is refused).
KERAS2_LEFTOVERS = {
    **{name: {"groups": 1} for name in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")},
    **{name: {"groups": 1, "kernel_initializer": _ANY, "kernel_regularizer": _ANY,
              "kernel_constraint": _ANY} for name in ("SeparableConv1D", "SeparableConv2D")},
    **{name: {"trainable": _ANY} for name in ("SpatialDropout1D", "SpatialDropout2D",
                                               "SpatialDropout3D")},
}
# Last activations that bound the output, and the range they give.
BOUNDED = {"tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "sigmoid": (0.0, 1.0),
           "hard_sigmoid": (0.0, 1.0)}
# Outputs this far (in units of the value range) outside what Keras 2 computes are a misread.
CHECK_TOLERANCE = 1e-3
CHECK_SEEDS = 16


@dataclass
class Inspection:
    """What a generator file says about itself (filled from the loaded model)."""

    latent_dim: int
    noise_input: str
    label_input: str | None = None
    label_shape: tuple[int, ...] = ()
    num_classes: int = 0
    embedding: str | None = None
    input_roles: list[str] = field(default_factory=list)
    image_size: int = 0
    channels: int = 3
    value_range: tuple[float, float] | None = None
    last_layer: str = ""
    last_activation: str = ""

    @property
    def conditional(self) -> bool:
        return self.label_input is not None


# --- reading the file ---------------------------------------------------------------------------
def read_model_config(path: str | os.PathLike) -> tuple[dict, dict[str, str]]:
    """The file's `model_config` (parsed JSON) and its Keras version attributes; a UserError
    for a file that is not a complete Keras HDF5 model file."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{str(path)!r} does not exist: pass the generator's .h5 file")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head != HDF5_SIGNATURE and not _signature_further_in(path):
        raise UserError(f"{str(path)!r} is not an HDF5 file: pass the .h5 file a Keras 2 "
                        "model.save(...) wrote")
    try:
        with h5py.File(path, "r") as handle:
            attrs = {key: _text(handle.attrs[key]) for key in handle.attrs
                     if key in ("model_config", "keras_version", "backend")}
            has_weights = "model_weights" in handle or "layer_names" in handle.attrs
    except OSError as error:
        raise UserError(f"{str(path)!r} could not be read as HDF5 ({_first_line(error)}): the "
                        "file is truncated or damaged; copy it again from where it was saved"
                        ) from None
    if "model_config" not in attrs:
        what = ("holds weights only (model.save_weights)" if has_weights
                else "holds no Keras model")
        raise UserError(f"{str(path)!r} {what}: import needs a whole model saved with "
                        "model.save(PATH.h5); for weights alone, rebuild the architecture in "
                        "Keras 3 code and load them with model.load_weights")
    try:
        config = json.loads(attrs.pop("model_config"))
    except json.JSONDecodeError as error:
        raise UserError(f"{str(path)!r}: its model_config is not valid JSON ({error}): the file "
                        "is damaged") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise UserError(f"{str(path)!r}: its model_config describes no Keras model")
    return config, attrs


def _signature_further_in(path: Path) -> bool:
    """HDF5 allows a user block before the signature, at 512, 1024, 2048, ... bytes."""
    size, offset = path.stat().st_size, 512
    with open(path, "rb") as handle:
        while offset + 8 <= size:
            handle.seek(offset)
            if handle.read(8) == HDF5_SIGNATURE:
                return True
            offset *= 2
    return False


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def iter_layers(config: dict) -> Iterator[dict]:
    """Every layer entry of a model_config, nested models and wrapped layers included."""
    stack = [config]
    while stack:
        entry = stack.pop()
        if not isinstance(entry, dict):
            continue
        inner = entry.get("config")
        if entry.get("class_name") in MODEL_CLASSES:
            layers = inner.get("layers", []) if isinstance(inner, dict) else inner
            stack.extend(reversed(layers or []))
            continue
        yield entry
        if isinstance(inner, dict) and isinstance(inner.get("layer"), dict):
            stack.append(inner["layer"])   # TimeDistributed, Bidirectional, ...


def layer_name(entry: dict) -> str:
    inner = entry.get("config")
    return str(entry.get("name") or (inner.get("name") if isinstance(inner, dict) else "") or "?")


def check_layers(config: dict, file: str = "the file") -> None:
    """Refuse, before anything is deserialised, a layer Keras 3 cannot read safely: a Lambda, a
    TensorFlow-op layer, a custom or unknown class.  The message names the layer and its class
    and says what to do."""
    import keras

    for entry in iter_layers(config):
        name, cls = layer_name(entry), str(entry.get("class_name"))
        if cls in REFUSED:
            why = REFUSED[cls]
        elif not _builtin_layer(keras, cls) or entry.get("registered_name") not in (None, cls):
            why = ("not a layer Keras 3 knows: a custom layer (its code is not in the file), or "
                   "a Keras 2 layer that Keras 3 dropped")
        else:
            continue
        raise UserError(f"{file}: layer {name!r} (class {cls}) cannot be imported: {why}. "
                        f"To import this generator, {WHAT_TO_DO}")


def _builtin_layer(keras, cls: str) -> bool:
    found = getattr(keras.layers, cls, None)
    return isinstance(found, type) and issubclass(found, keras.layers.Layer)


def keras3_config(config: dict, file: str = "the file") -> dict:
    """The config with the settings Keras 2 writes and Keras 3 does not take removed, where they
    are no-ops (`KERAS2_LEFTOVERS`); a real setting Keras 3 lacks is refused by name."""
    config = json.loads(json.dumps(config))
    for entry in iter_layers(config):
        leftovers, inner = KERAS2_LEFTOVERS.get(entry.get("class_name"), {}), entry.get("config")
        if not isinstance(inner, dict):
            continue
        for key, harmless in leftovers.items():
            if key not in inner:
                continue
            if harmless is not _ANY and inner[key] != harmless:
                raise UserError(f"{file}: layer {layer_name(entry)!r} (class "
                                f"{entry['class_name']}) has {key}={inner[key]!r}, which Keras 3's "
                                f"{entry['class_name']} does not support. To import this "
                                f"generator, {WHAT_TO_DO}")
            del inner[key]
    return config


def load_h5_model(path: str | os.PathLike):
    """The generator in a Keras 2 `.h5` file as a Keras 3 model: its layers checked first
    (`check_layers`), then read in safe mode (no code from the file runs), uncompiled."""
    import h5py
    import keras

    path = Path(path)
    config, _ = read_model_config(path)
    check_layers(config, path.name)
    fixed = keras3_config(config, path.name)
    with tempfile.TemporaryDirectory(prefix="condgan-import-") as folder:
        # Keras reads the config from the file itself: a copy carries the Keras 3 one.
        copy = Path(folder) / "generator.h5"
        shutil.copyfile(path, copy)
        with h5py.File(copy, "r+") as handle:
            handle.attrs["model_config"] = json.dumps(fixed)
        try:
            with warnings.catch_warnings():
                # "Argument `alpha` is deprecated" and the like: Keras 3 reading Keras 2 names.
                warnings.simplefilter("ignore")
                model = keras.saving.load_model(copy, safe_mode=True, compile=False)
        except Exception as error:  # noqa: BLE001 - any failure to read becomes the user's message
            raise UserError(f"{path.name}: Keras 3 could not read this model "
                            f"({_keras_reason(error)}). To import this generator, re-save it from "
                            "Keras 2 with built-in layers and settings only, or rebuild the "
                            "architecture in Keras 3 code and load the weights with "
                            "model.load_weights(PATH.h5)") from None
    return model


def _keras_reason(error: BaseException) -> str:
    """Keras' deserialisation error, short: the layer, its class and what was wrong."""
    text = str(error)
    where = re.search(r"deserializing class '(\w+)' using config=\{'name': '([^']*)'", text)
    reason = text.split("Exception encountered:")[-1] if "Exception encountered:" in text \
        else _first_line(error)
    reason = " ".join(reason.split())[:300]
    return f"layer {where.group(2)!r} (class {where.group(1)}): {reason}" if where else reason


# --- what the model says about itself -----------------------------------------------------------
def inspect_generator(model, file: str = "the file") -> Inspection:
    """Noise and label inputs, classes, image size, channels and value range of `model`."""
    import keras

    inputs = list(model.inputs)
    if not 1 <= len(inputs) <= 2:
        raise UserError(f"{file}: the model has {len(inputs)} inputs; condgan imports generators "
                        "taking noise, or noise and a class label")
    label = None
    if len(inputs) == 2:
        label, embedding = _label_input(model, inputs, file)
    noise = next(t for t in inputs if t is not label)
    if len(noise.shape) != 2:
        raise UserError(f"{file}: the noise input {noise.name!r} has shape {tuple(noise.shape[1:])}; "
                        "condgan draws one noise vector per image, shape (latent_dim,)")
    facts = Inspection(latent_dim=noise.shape[1] or 0, noise_input=noise.name,
                       input_roles=["label" if t is label else "noise" for t in inputs])
    if label is not None:
        shape = tuple(label.shape[1:])
        if shape not in ((), (1,)):
            raise UserError(f"{file}: the label input {label.name!r} has shape {shape}; condgan "
                            "imports generators taking one class index per image, shape (1,) or ()")
        facts.label_input, facts.label_shape = label.name, shape
        facts.num_classes, facts.embedding = int(embedding.input_dim), embedding.name
    outputs = list(model.outputs)
    shape = tuple(outputs[0].shape[1:]) if len(outputs) == 1 else ()
    if len(outputs) != 1 or len(shape) != 3 or shape[0] != shape[1] or shape[2] not in (1, 3) \
            or not shape[0]:
        raise UserError(f"{file}: the model's output is {[tuple(o.shape[1:]) for o in outputs]}; "
                        "condgan imports generators of one square image batch (N, H, H, 1 or 3), "
                        "channels last")
    facts.image_size, facts.channels = int(shape[0]), int(shape[2])
    facts.value_range, facts.last_layer, facts.last_activation = _value_range(model, keras)
    return facts


def _label_input(model, inputs, file: str):
    """The input feeding an Embedding directly (the class label), and that Embedding."""
    import keras

    for layer in _all_layers(model):
        if not isinstance(layer, keras.layers.Embedding):
            continue
        for node in getattr(layer, "_inbound_nodes", []):
            for tensor in node.input_tensors:
                for candidate in inputs:
                    if tensor is candidate:
                        return candidate, layer
    raise UserError(f"{file}: the model takes two inputs {[t.name for t in inputs]} but neither "
                    "feeds an Embedding layer, so which one is the class label cannot be told; "
                    "condgan imports class-conditional generators whose label (a class index) "
                    "goes into an Embedding")


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(getattr(layer, "layers", None), list):
            yield from _all_layers(layer)


def _value_range(model, keras) -> tuple[tuple[float, float] | None, str, str]:
    """The range the last activation bounds the output to, walking back through layers that
    keep values in range (reshapes, crops, upsampling, dropout at inference)."""
    passes = (keras.layers.Reshape, keras.layers.Cropping2D, keras.layers.UpSampling2D,
              keras.layers.Permute, keras.layers.Dropout, keras.layers.SpatialDropout2D,
              keras.layers.GaussianNoise, keras.layers.GaussianDropout, keras.layers.ZeroPadding2D,
              keras.layers.AveragePooling2D, keras.layers.MaxPooling2D)
    layer = model.outputs[0]._keras_history.operation
    try:
        for _ in range(1000):
            if isinstance(layer, keras.Model):   # a nested model: its own last layer
                layer = layer.outputs[0]._keras_history.operation
                continue
            activation = getattr(getattr(layer, "activation", None), "__name__", None)
            if activation in BOUNDED:
                return BOUNDED[activation], layer.name, activation
            if activation in (None, "linear") and isinstance(layer, passes):
                layer = layer.input._keras_history.operation
                continue
            return None, layer.name, activation or type(layer).__name__
    except (AttributeError, ValueError, IndexError):
        pass   # a layer used twice has no single input: the range is the user's to give
    return None, layer.name, type(layer).__name__


# --- classes ------------------------------------------------------------------------------------
def classes_from(source: str) -> list[str]:
    """Class names from `cifar10`, a model folder (its card) or a labelled array set's
    `NAME.json` / `NAME.npz`."""
    from condgan.data.cifar10 import CIFAR10_CLASSES

    if source == "cifar10":
        return list(CIFAR10_CLASSES)
    path = Path(source)
    if path.is_dir() and (path / "card.json").is_file():
        from condgan.model_folder import read_card

        classes = read_card(path).get("classes")
    elif path.suffix in (".json", ".npz") and path.with_suffix(".json").is_file():
        try:
            classes = json.loads(path.with_suffix(".json").read_text()).get("classes")
        except (json.JSONDecodeError, AttributeError):
            classes = None
    else:
        raise UserError(f"--classes-from {source!r}: use cifar10, a model folder with a card.json, "
                        "or a labelled array set (NAME.json beside NAME.npz)")
    if not classes:
        raise UserError(f"--classes-from {source!r} names no classes")
    return [str(c) for c in classes]


def parse_classes(text: str) -> list[str]:
    classes = [c.strip() for c in str(text).split(",")]
    if not all(classes) or len(set(classes)) != len(classes):
        raise UserError(f"--classes {text!r}: give distinct, non-empty names separated by commas "
                        "(label 0 first)")
    return classes


def parse_value_range(text) -> tuple[float, float]:
    """`-1,1` (or a pair of numbers) -> (-1.0, 1.0)."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        low, high = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise UserError(f"--value-range {text!r}: give LOW,HIGH such as -1,1 or 0,1") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise UserError(f"--value-range {text!r}: LOW must be below HIGH, both finite")
    return low, high


# --- the import -----------------------------------------------------------------------------------
def import_h5(path: str | os.PathLike, out_dir: str | os.PathLike, *,
              classes: Sequence[str] | None = None, latent_dim: int | None = None,
              value_range=None, replace: bool = False,
              ask_classes: Callable[[int], Sequence[str]] | None = None,
              cross_check: bool = True, say: Callable[[str], None] = print) -> Path:
    """Import the Keras 2 generator file `path` as the model folder `out_dir` (refused if it
    exists, unless `replace`).  `classes`: the class names, label 0 first (the file does not
    hold them; `ask_classes(count)` is asked when given and they are not); `latent_dim`,
    `value_range`: only where the model cannot tell (they must agree with it where it can).
    `cross_check`: compare with what `tf_keras` (Keras 2) computes from the file, when installed."""
    from condgan.basics import library_versions, seed_noise, sha256_file
    from condgan.model_folder import H5_FILE, KERAS_FILE, check_export_target, make_card, \
        read_card, write_model_folder

    path, out_dir = Path(path), check_export_target(out_dir, replace)
    _, attrs = read_model_config(path)
    model = load_h5_model(path)
    facts = inspect_generator(model, path.name)
    made_with = f"Keras {attrs.get('keras_version', '?')}, {attrs.get('backend', '?')} backend"
    say(f"read {path.name} ({made_with}): {len(model.layers)} layers")

    latent = _latent_dim(facts, latent_dim, path.name)
    classes = _classes(facts, classes, ask_classes, path.name)
    span = _choose_value_range(facts, value_range, path.name, say)
    label_text = (f"; label: input {facts.label_input!r} of shape {facts.label_shape}, "
                  f"{facts.num_classes} classes (Embedding {facts.embedding!r})"
                  if facts.conditional else "; no label (unconditional)")
    say(f"noise: input {facts.noise_input!r} ({latent},){label_text}")
    say(f"output: {facts.image_size}x{facts.image_size}x{facts.channels}, last activation "
        f"{facts.last_activation} (layer {facts.last_layer!r}), value range {list(span)}")

    card_fields = dict(
        kind="cgan" if classes else "gan", image_size=facts.image_size, latent_dim=latent,
        channels=facts.channels, classes=classes or None, training=None, dataset=None,
        value_range=[float(span[0]), float(span[1])], inputs=[t.name for t in model.inputs],
        input_roles=facts.input_roles, noise=NOISE)
    if facts.conditional:
        card_fields["label_shape"] = list(facts.label_shape)
    seeds = list(range(CHECK_SEEDS))
    labels = [i % len(classes) for i in seeds] if classes else None
    probe = _keras_generator(model, card_fields, out_dir)
    images = np.asarray(model.predict_on_batch(probe.model_inputs(seed_noise(seeds, latent), labels)))
    check = _check_outputs(images, span, path.name, say)
    if cross_check:
        check.update(_cross_check(path, images, seeds, labels, probe, span, say))
    else:
        say("not compared with Keras 2 (cross_check off)")
        check["compared_with"] = None
    provenance = {"source": SOURCE, "file": path.name, "sha256": sha256_file(path),
                  "keras_version": attrs.get("keras_version"), "backend": attrs.get("backend"),
                  "imported_with": {k: v for k, v in library_versions().items()
                                    if k in ("keras", "keras_backend", "tensorflow")},
                  "check": check}
    metrics = _kept_metrics(out_dir, provenance["sha256"], read_card, say) if replace else {}
    card = make_card(out_dir, metrics=metrics, provenance=provenance, **card_fields)

    def write_files(folder: Path) -> dict:
        model.save(folder / KERAS_FILE)
        shutil.copyfile(path, folder / H5_FILE)
        # the written folder must draw what the checked model drew
        from condgan.generator import load_keras_generator

        again = load_keras_generator(folder, {**card, "files": {"keras": KERAS_FILE}})
        if not np.array_equal(again.generate_for_seeds(seeds, labels), probe.to_uint8(images)):
            raise UserError(f"{path.name}: the saved generator.keras draws other images than the "
                            "model read from the file; nothing was written")
        return {"keras": KERAS_FILE, "h5": H5_FILE}

    written = write_model_folder(out_dir, card, write_files)
    say(f"imported {path.name} -> {written} (kind {card['kind']})")
    return written


def _latent_dim(facts: Inspection, given: int | None, file: str) -> int:
    if facts.latent_dim and given is not None and int(given) != facts.latent_dim:
        raise UserError(f"--latent-dim {given}: the model's noise input {facts.noise_input!r} "
                        f"takes {facts.latent_dim} values; drop --latent-dim (it is read from "
                        "the model)")
    latent = facts.latent_dim or given
    if not latent or int(latent) < 1:
        raise UserError(f"{file}: the noise input {facts.noise_input!r} does not say its size: "
                        "pass --latent-dim N")
    return int(latent)


def _classes(facts: Inspection, classes, ask, file: str) -> list[str]:
    if not facts.conditional:
        if classes:
            raise UserError(f"{file}: the model takes no class label (its only input is noise): "
                            "drop --classes / --classes-from")
        return []
    count = facts.num_classes
    if classes is None and ask is not None:
        classes = ask(count)
    if classes is None:
        hint = " (for CIFAR-10's classes in their usual order: --classes-from cifar10)" \
            if count == 10 else ""
        raise UserError(f"{file}: the model takes a class label ({count} classes, from its "
                        f"Embedding {facts.embedding!r}) but the file holds no class names: pass "
                        f"--classes a,b,... ({count} names, label 0 first) or --classes-from "
                        f"DATA{hint}; classes=[...] from Python")
    classes = [str(c) for c in classes]
    if len(classes) != count or len(set(classes)) != count:
        raise UserError(f"{file}: the model's Embedding {facts.embedding!r} has {count} classes, "
                        f"but {len(classes)} names were given ({classes}): give {count} distinct "
                        "names, label 0 first")
    return classes


def _choose_value_range(facts: Inspection, given, file: str, say) -> tuple[float, float]:
    if given is not None:
        span = parse_value_range(given)
        if facts.value_range and tuple(facts.value_range) != span:
            say(f"note: the last activation ({facts.last_activation}) bounds the output to "
                f"{list(facts.value_range)}; using --value-range {list(span)} as asked")
        return span
    if facts.value_range is None:
        raise UserError(f"{file}: the output's value range cannot be told: its last layer "
                        f"{facts.last_layer!r} has activation {facts.last_activation!r}, which does "
                        "not bound it; pass --value-range LOW,HIGH (e.g. -1,1 for images scaled "
                        "to [-1, 1] in training, 0,1 for [0, 1])")
    return facts.value_range


def _keras_generator(model, card_fields: dict, out_dir: Path):
    from condgan.generator import KerasGenerator

    return KerasGenerator(model, {**card_fields, "name": Path(out_dir).name}, out_dir)


def _check_outputs(images: np.ndarray, span, file: str, say) -> dict[str, Any]:
    if not np.all(np.isfinite(images)):
        raise UserError(f"{file}: the model's output holds NaN or infinite values for standard "
                        "normal noise: its weights are damaged; nothing was written")
    low, high = span
    outside = float(np.mean((images < low - 1e-3) | (images > high + 1e-3)))
    if outside:
        say(f"note: {outside:.1%} of the output values lie outside {[low, high]} and are clipped "
            "when turned into pixels")
    return {"images": int(len(images)), "output_min": float(images.min()),
            "output_max": float(images.max()), "outside_value_range": outside}


def _cross_check(path: Path, images, seeds, labels, probe, span, say) -> dict[str, Any]:
    """Keras 3's output against Keras 2's (tf_keras) for the same noise and labels."""
    try:
        import tf_keras
    except ImportError:
        say("not compared with Keras 2: tf_keras is not installed (pip install tf_keras)")
        return {"compared_with": None}
    from condgan.basics import seed_noise

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = tf_keras.models.load_model(path, compile=False)
            inputs = probe.model_inputs(seed_noise(seeds, probe.latent_dim), labels)
            expected = np.asarray(reference.predict_on_batch(inputs))
    except Exception as error:  # noqa: BLE001 - Keras 2 reading it is a check, not the import
        say(f"not compared with Keras 2: tf_keras could not read {path.name} "
            f"({_first_line(error)[:200]})")
        return {"compared_with": f"tf_keras {tf_keras.__version__} (could not read the file)"}
    difference = float(np.max(np.abs(expected.astype(np.float64) - images)))
    if not difference <= CHECK_TOLERANCE * (span[1] - span[0]):
        raise UserError(f"{path.name}: Keras 3 computes other images from this file than Keras 2 "
                        f"does (largest difference {difference:.3g} in the output): not imported. "
                        f"To import this generator, {WHAT_TO_DO}")
    say(f"checked: {len(seeds)} images, Keras 3 and Keras 2 (tf_keras {tf_keras.__version__}) "
        f"agree to {difference:.2g}")
    return {"compared_with": f"tf_keras {tf_keras.__version__}", "max_abs_difference": difference}


def _kept_metrics(out_dir: Path, sha256: str, read_card, say) -> dict:
    """A replaced folder's metrics, kept only when it was imported from the very same file."""
    if not out_dir.exists():
        return {}
    try:
        old = read_card(out_dir)
    except UserError:
        return {}
    metrics = dict(old.get("metrics") or {})
    same = (old.get("provenance") or {}).get("sha256") == sha256
    if metrics and same:
        say(f"replacing {out_dir}: the same file as before, so its metrics ({', '.join(sorted(metrics))}) are kept")
        return metrics
    if metrics:
        say(f"replacing {out_dir}: its metrics ({', '.join(sorted(metrics))}) measured another "
            "model and are dropped")
    return {}
