"""Custom layers, registered so that saved models load in safe mode on any Keras backend."""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="condgan")
class ConditionalBatchNorm(keras.layers.Layer):
    """Batch norm whose scale and shift are looked up per class (de Vries et al. 2017;
    Miyato & Koyama 2018).  Called on ``[features (B,H,W,C), labels (B,)]``.

    The per-class gain starts at one and the bias at zero, so at initialisation the layer is a
    plain batch norm and conditioning is learnt, not imposed.
    """

    def __init__(self, num_classes: int, momentum: float = 0.9, epsilon: float = 1e-5,
                 synchronized: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.momentum = momentum
        self.epsilon = epsilon
        self.synchronized = synchronized
        self.norm = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, center=False,
                                                    scale=False, synchronized=synchronized)

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.norm.build(input_shape[0])
        self.gain = self.add_weight(shape=(self.num_classes, channels), initializer="ones", name="gain")
        self.bias = self.add_weight(shape=(self.num_classes, channels), initializer="zeros", name="bias")

    def call(self, inputs, training=None):
        features, labels = inputs
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        normed = self.norm(features, training=training)
        gain = ops.take(self.gain, labels, axis=0)[:, None, None, :]
        bias = ops.take(self.bias, labels, axis=0)[:, None, None, :]
        return normed * gain + bias

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = {**super().get_config(), "num_classes": self.num_classes,
                  "momentum": self.momentum, "epsilon": self.epsilon}
        if self.synchronized:  # only training-time models under tf.distribute set it
            config["synchronized"] = True
        return config


@keras.saving.register_keras_serializable(package="condgan")
class ProjectionLogit(keras.layers.Layer):
    """The class term of the projection discriminator (Miyato & Koyama 2018, eq. 3):
    ``<embed(y), phi(x)>``, added to the unconditional logit.  Called on ``[features (B,C), labels (B,)]``."""

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.embedding = self.add_weight(shape=(self.num_classes, channels),
                                         initializer="glorot_uniform", name="embedding")

    def call(self, inputs):
        features, labels = inputs
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        embedded = ops.take(self.embedding, labels, axis=0)
        return ops.sum(embedded * features, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
