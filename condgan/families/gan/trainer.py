"""The GAN as a `keras.Model` with a TensorFlow `train_step`, so `fit()` and callbacks work.

This is one of the few TensorFlow-only modules (the gradient tape and `tf.distribute` replica
context); the networks, losses and augmentation it calls are backend-neutral.

Design notes:
* **Fused step** (n_critic = 1): one forward pass of G and of D on real and fake, one
  persistent tape, both updates from it.  This saves a G forward and a D forward on the fakes
  per step compared with the alternating recipe, and is what the benchmark's "bare fused step"
  measures.  With n_critic > 1 the classic alternating schedule runs instead.
* **Shared backward pass through D on the fakes** (BCE loss, per-example D, no auxiliary
  classifier): D's update needs the backward pass of the D loss through D on the fakes, and
  G's needs the G loss's gradient at D's input.  Both losses reach D only through each fake's
  own logit x, and D treats each image on its own (no batch norm), so the G loss's gradient at
  D's input is the D loss's, scaled per image by -sigmoid(-x) / sigmoid(x).  One backward pass
  through D then serves both players: 3 G- and 6 D-forwards' worth of arithmetic per step
  instead of 3 and 7 (the classic loop does 4 and 8).  Equal to the two-pass step up to float
  rounding (tested); hinge (zero D gradient for confident fakes) and the auxiliary classifier
  (a second output) keep the two passes.
* **Randomness** comes from stateless ops seeded by (seed, optimizer iteration), so the random
  stream is a function of the step counter alone: a resumed run draws exactly the numbers the
  uninterrupted run would have drawn, with no RNG state to save.
* **Distribution**: noise and augmentation numbers are drawn for the *global* batch and each
  replica takes its slice, and losses are averaged over the global batch, so N replicas compute
  the same update as one device fed the same global batch.
* **Auxiliary classifier** (AC-GAN, optional): D's second head learns the class of *real*
  images only, and G is asked to make fakes that head assigns to their label.  Training the
  head on fakes too (the original AC-GAN) rewards G for easily classified, less varied images.
* **EMA generator** (Karras et al. 2018; Yazici et al. 2019) is the G optimizer's built-in
  `use_ema` average, which Keras keeps correct under tf.distribute.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from condgan.train.diffaugment import RANDOM_NUMBERS_PER_IMAGE, diff_augment, parse_policy
from condgan.train.losses import class_loss, get_losses
from condgan.train.tf_two_player import TwoPlayerModel

_D_STREAM, _G_STREAM, _AUG_STREAM = 1, 2, 3
# The shared backward pass carries each fake's D gradient sigmoid(x) and rescales it for G by
# 1/sigmoid(x); flooring the carried value keeps G's gradient finite for fakes D rejects with
# x < -30, and changes D's gradient by at most 1e-13 per such image, far below float32 rounding.
_SHARED_COTANGENT_FLOOR = 1e-13
# Layers that mix the images of a batch, which would void the per-image rescaling.
_BATCH_COUPLED_LAYERS = (keras.layers.BatchNormalization,)


class GAN(TwoPlayerModel):
    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, latent_dim: int,
                 conditional: bool, seed: int = 0, n_critic: int = 1, diffaugment: str = "",
                 aux_classifier_weight: float = 0.0, **kwargs):
        super().__init__(generator, discriminator, seed, **kwargs)
        self.aux_classifier_weight = float(aux_classifier_weight)
        self.latent_dim = latent_dim
        self.conditional = conditional
        self.n_critic = int(n_critic)
        self.policy = parse_policy(diffaugment)
        self.d_only = False  # discriminator pre-training phase

    def compile(self, d_optimizer, g_optimizer, loss: str = "hinge", **kwargs):
        super().compile(d_optimizer, g_optimizer, **kwargs)
        self.d_loss_fn, self.g_loss_fn = get_losses(loss)
        per_image_d = not any(isinstance(layer, _BATCH_COUPLED_LAYERS)
                              for layer in self.discriminator._flatten_layers())
        self.shared_fake_backward = (loss == "bce" and per_image_d and not self.aux_classifier_weight
                                     and self.n_critic == 1)

    # --- randomness -------------------------------------------------------------------------
    def _noise(self, stream, counter, global_batch, local_batch):
        return self._random(tf.random.stateless_normal, stream, counter, global_batch, local_batch,
                            self.latent_dim)

    def _augment(self, images, counter, global_batch, local_batch, which):
        if not self.policy:
            return images
        u = self._random(tf.random.stateless_uniform, _AUG_STREAM * 2 + which, counter,
                         global_batch, local_batch, RANDOM_NUMBERS_PER_IMAGE)
        return diff_augment(images, u, self.policy)

    # --- the step ---------------------------------------------------------------------------
    def _g_inputs(self, noise, labels):
        return [noise, labels] if self.conditional else noise

    def _d_inputs(self, images, labels):
        return [images, labels] if self.conditional else images

    def _mean(self, per_example, global_batch):
        # Sum over the local batch divided by the global batch: replicas' sums add up to the mean.
        return tf.reduce_sum(per_example) / tf.cast(global_batch, per_example.dtype)

    def _judge(self, images, labels):
        """D's realness logits, and its class logits when it has the auxiliary classifier."""
        out = self.discriminator(self._d_inputs(images, labels), training=True)
        return (out[0], out[1]) if self.aux_classifier_weight else (out, None)

    def _forward(self, real, labels, counter, global_batch, local_batch, tape=None):
        """One forward pass of G, and of D on augmented real and fake images:
        (D's outputs on real, D's input fakes, D's outputs on them).  `tape` watches the fakes
        as D sees them, for the shared backward pass."""
        noise = self._noise(_D_STREAM, counter, global_batch, local_batch)
        fake = self.generator(self._g_inputs(noise, labels), training=True)
        fake_in = self._augment(fake, counter, global_batch, local_batch, 1)
        if tape is not None:
            tape.watch(fake_in)
        real_out = self._judge(self._augment(real, counter, global_batch, local_batch, 0), labels)
        return real_out, fake_in, self._judge(fake_in, labels)

    def _d_losses(self, real, labels, counter, global_batch, local_batch):
        """(d_loss, g_loss, logs) of one forward pass of G and of D on real and fake."""
        (real_logits, real_classes), _, (fake_logits, fake_classes) = self._forward(
            real, labels, counter, global_batch, local_batch)
        d_loss = self._mean(self.d_loss_fn(real_logits, fake_logits), global_batch)
        g_loss = self._mean(self.g_loss_fn(fake_logits), global_batch)
        logs = {"d_loss": d_loss, "g_loss": g_loss}
        if self.aux_classifier_weight:
            logs["d_class_loss"] = self._mean(class_loss(labels, real_classes), global_batch)
            logs["g_class_loss"] = self._mean(class_loss(labels, fake_classes), global_batch)
            d_loss = d_loss + self.aux_classifier_weight * logs["d_class_loss"]
            g_loss = g_loss + self.aux_classifier_weight * logs["g_class_loss"]
        return d_loss, g_loss, logs

    def train_step(self, data):
        real, labels = data
        local_batch = tf.shape(real)[0]
        global_batch = self._global_batch(local_batch)
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        if self.shared_fake_backward and not self.d_only:
            d_grads, g_grads, logs = self._shared_backward_grads(real, labels, global_batch, local_batch)
            self.d_optimizer.apply(d_grads, d_vars)
            self.g_optimizer.apply(g_grads, g_vars)
            return self.replica_logs(logs)
        if self.d_only or self.n_critic == 1:
            counter = self.d_optimizer.iterations
            with tf.GradientTape(persistent=not self.d_only) as tape:
                d_loss, g_loss, logs = self._d_losses(real, labels, counter, global_batch, local_batch)
            self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
            if not self.d_only:
                self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
            del tape
            return self.replica_logs(logs)
        # Alternating schedule: n_critic D updates on this batch, then one G update.
        for _ in range(self.n_critic):
            counter = self.d_optimizer.iterations
            with tf.GradientTape() as tape:
                d_loss, _, logs = self._d_losses(real, labels, counter, global_batch, local_batch)
            self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
        counter = self.g_optimizer.iterations
        with tf.GradientTape() as tape:
            noise = self._noise(_G_STREAM, counter, global_batch, local_batch)
            fake = self.generator(self._g_inputs(noise, labels), training=True)
            fake = self._augment(fake, counter + (1 << 40), global_batch, local_batch, 1)
            fake_logits, fake_classes = self._judge(fake, labels)
            g_loss = self._mean(self.g_loss_fn(fake_logits), global_batch)
            logs["g_loss"] = g_loss
            if self.aux_classifier_weight:
                logs["g_class_loss"] = self._mean(class_loss(labels, fake_classes), global_batch)
                g_loss = g_loss + self.aux_classifier_weight * logs["g_class_loss"]
        self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        return self.replica_logs(logs)

    def _shared_backward_grads(self, real, labels, global_batch, local_batch):
        """(D gradients, G gradients, logs) of the fused step, with one backward pass through D
        on the fakes serving both players (see the module docstring; BCE only)."""
        counter = self.d_optimizer.iterations
        with tf.GradientTape(persistent=True) as tape:
            (real_logits, _), fake_in, (fake_logits, _) = self._forward(
                real, labels, counter, global_batch, local_batch, tape)
        logs = {"d_loss": self._mean(self.d_loss_fn(real_logits, fake_logits), global_batch),
                "g_loss": self._mean(self.g_loss_fn(fake_logits), global_batch)}
        scale = tf.cast(global_batch, real_logits.dtype)
        # d/dx of the BCE losses of the module `losses`: D's softplus(-x_real) + softplus(x_fake),
        # G's softplus(-x_fake), each averaged over the global batch.
        real_cotangent = -tf.sigmoid(-real_logits) / scale
        carried = tf.maximum(tf.sigmoid(fake_logits), _SHARED_COTANGENT_FLOOR)
        d_vars = self.discriminator.trainable_variables
        *d_grads, at_fake_in = tape.gradient([real_logits, fake_logits], d_vars + [fake_in],
                                             output_gradients=[real_cotangent, carried / scale])
        per_image = tf.reshape(-tf.sigmoid(-fake_logits) / carried, (-1, 1, 1, 1))
        g_grads = tape.gradient(fake_in, self.generator.trainable_variables,
                                output_gradients=per_image * at_fake_in)
        del tape
        return d_grads, g_grads, logs
