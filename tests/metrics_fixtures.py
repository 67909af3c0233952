"""Tiny real data, a tiny trained reference classifier and a tiny exported cGAN for metric tests."""
import numpy as np

CLASSES = ["top_left", "top_right", "bottom"]
SIZE = 16


def quadrant_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class = where a bright 6x6 square sits, on a noisy background: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(CLASSES)
    x = rng.integers(0, 90, (n, SIZE, SIZE, 3)).astype(np.uint8)
    corners = {0: (1, 1), 1: (1, 9), 2: (9, 5)}
    for i, label in enumerate(y):
        r, c = corners[int(label)]
        r, c = r + rng.integers(-1, 2), c + rng.integers(-1, 2)
        x[i, r:r + 6, c:c + 6] = rng.integers(180, 256, 3).astype(np.uint8)
    return x, y.astype(np.int64)


def tiny_cgan(latent_dim: int = 4):
    """A real (untrained) conditional generator with the export contract: (noise, label) -> [-1, 1]."""
    import keras

    noise = keras.Input((latent_dim,), name="noise")
    label = keras.Input((), dtype="int32", name="label")
    e = keras.layers.Flatten()(keras.layers.Embedding(len(CLASSES), 4)(keras.layers.Reshape((1,))(label)))
    h = keras.layers.Dense(4 * 4 * 3)(keras.layers.Concatenate()([noise, e]))
    h = keras.layers.UpSampling2D(4)(keras.layers.Reshape((4, 4, 3))(h))
    out = keras.layers.Activation("tanh")(h)
    return keras.Model([noise, label], out)


def untrained_classifier_dir(folder, width: int = 2, seed: int = 0):
    """A real, untrained reference classifier folder (mechanics of `evaluate`, not quality),
    its weights drawn from `seed`: the same network whichever tests ran before."""
    import keras

    from condgan.metrics.classifier import build_classifier
    from condgan.metrics.classifier_train import save_classifier

    keras.utils.set_random_seed(seed)
    model = build_classifier(len(CLASSES), SIZE, width)
    save_classifier(model, folder, {"kind": "classifier", "classes": CLASSES, "image_size": SIZE,
                                    "architecture": "untrained test net", "test_accuracy": None})
    return folder


def exported_cgan(folder):
    from condgan.families.gan.family import save_generator

    return save_generator(tiny_cgan(), folder, latent_dim=4, classes=CLASSES,
                            legacy_h5=False)
