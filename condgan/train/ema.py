"""Adam whose built-in EMA of the weights warms up.

With a fixed decay of 0.999 the average still holds 37 % of the *initial* (random) weights
after 1,000 steps, which on a CPU budget of a few thousand steps means the EMA generator draws
noise for most of the run.  TensorFlow's `ExponentialMovingAverage(num_updates=...)` rule
caps the decay at (1 + t) / (10 + t), so early averages follow the weights closely and the
full decay applies once t is large.  Only the momentum changes; Keras keeps doing the update
inside `apply()`, where it is already correct under tf.distribute.
"""
from __future__ import annotations

import keras
from keras import ops


class WarmupEmaAdam(keras.optimizers.Adam):
    def _update_model_variables_moving_average(self, trainable_variables):
        if not self.use_ema:
            return
        step = ops.cast(self.iterations, "float32")
        momentum = ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step))
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                m = ops.cast(momentum, var.dtype)
                average.assign(m * average + (1.0 - m) * var)
