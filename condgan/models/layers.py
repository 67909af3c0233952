"""Custom layers, registered so that saved models load in safe mode on any Keras backend."""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="condgan")
class ConditionalBatchNorm(keras.layers.Layer):
    """Batch norm whose scale and shift are looked up per class (de Vries et al. 2017;
    Miyato & Koyama 2018).  Called on ``[features (B,H,W,C), labels (B,)]``, or on
    ``[features, class weights (B, num_classes)]`` for a weighted blend of the classes' scales
    and shifts.

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
        normed = self.norm(features, training=training)
        if len(labels.shape) == 2 and labels.shape[-1] == self.num_classes and self.num_classes > 1:
            # Class weights (B, num_classes) instead of indices: the gain and bias of a blend of
            # classes, what class-to-class interpolation walks along (one-hot = the class).
            weights = ops.cast(labels, self.gain.dtype)
            gain = ops.matmul(weights, self.gain)[:, None, None, :]
            bias = ops.matmul(weights, self.bias)[:, None, None, :]
            return normed * ops.cast(gain, normed.dtype) + ops.cast(bias, normed.dtype)
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
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
class MinibatchStdDev(keras.layers.Layer):
    """Features (B,H,W,C) -> (B,H,W,C+1): one more channel holding how much the batch varies,
    the standard deviation over the batch of every feature, averaged (Karras et al. 2018,
    ProGAN).  A batch of images that are all alike stands out to D at once, so G cannot
    collapse to one image unnoticed.  D must see real and generated images in separate calls."""

    def call(self, features):
        spread = ops.mean(ops.sqrt(ops.var(features, axis=0) + 1e-8))
        extra = ops.ones_like(features[..., :1]) * ops.cast(spread, features.dtype)
        return ops.concatenate([features, extra], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)


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


@keras.saving.register_keras_serializable(package="condgan")
class SpectralNorm(keras.layers.Wrapper):
    """Spectral normalisation of a `Dense` or `Conv2D` layer (Miyato et al. 2018), with the
    paper's semantics on every Keras backend: the layer computes with W / sigma(W), the gradient
    flows through sigma (as in the paper and PyTorch), the trainable kernel keeps the raw W, and
    each training call advances the power iteration's vector u by one step.

    Keras' own `SpectralNormalization` instead writes W / sigma back into the kernel on every
    training call, which under TensorFlow cuts d(sigma)/dW out of the gradient and under JAX
    (stateless calls drop the write) does not: the same config would train a different algorithm
    per backend.  The variables are those of that wrapper, in its order (kernel, u, bias), so checkpoints written with it still load.
    """

    def __init__(self, layer, power_iterations: int = 1, **kwargs):
        if not isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            raise ValueError(f"SpectralNorm wraps Dense or Conv2D layers, got {type(layer).__name__}")
        # The power iteration and sigma run in float32 under mixed precision too.
        kwargs.setdefault("autocast", False)
        super().__init__(layer, **kwargs)
        self.power_iterations = int(power_iterations)

    def build(self, input_shape):
        super().build(input_shape)
        if getattr(self.layer, "data_format", "channels_last") != "channels_last":
            raise ValueError("SpectralNorm supports channels_last convolutions only")
        # Tracked here before u, which gives Keras' wrapper's variable order.
        self.kernel = self.layer.kernel
        self.vector_u = self.add_weight(
            shape=(1, self.layer.kernel.shape[-1]),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02), trainable=False,
            name="vector_u", dtype=self.layer.kernel.dtype)

    def normalized_kernel(self, training=False):
        """(W / sigma(W), the power iteration's new u).  u and v are constants to the gradient."""
        kernel = ops.cast(self.kernel, "float32")
        weights = ops.reshape(kernel, (-1, kernel.shape[-1]))
        u = ops.cast(self.vector_u, "float32")
        for _ in range(self.power_iterations if training else 1):
            v = ops.normalize(ops.matmul(u, ops.transpose(weights)), axis=None)
            if training:
                u = ops.normalize(ops.matmul(v, weights), axis=None)
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.matmul(ops.matmul(v, weights), ops.transpose(u))
        return kernel / sigma[0, 0], u

    def call(self, inputs, training=False):
        kernel, u = self.normalized_kernel(training)
        if training:
            self.vector_u.assign(u)
        layer = self.layer
        inputs = ops.cast(inputs, self.compute_dtype)
        kernel = ops.cast(kernel, inputs.dtype)
        if isinstance(layer, keras.layers.Conv2D):
            outputs = layer.convolution_op(inputs, kernel)
        else:
            outputs = ops.matmul(inputs, kernel)
        if layer.use_bias:  # shaped as Conv2D adds it, which TensorFlow's graph rewriter expects
            bias = ops.cast(layer.bias, inputs.dtype)
            outputs = ops.add(outputs, ops.reshape(bias, (1,) * (len(outputs.shape) - 1) + (-1,)))
        return layer.activation(outputs) if layer.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
