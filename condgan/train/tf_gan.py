"""The GAN as a `keras.Model` with a TensorFlow `train_step`, so `fit()` and callbacks work.

This is one of the few TensorFlow-only modules (the gradient tape and `tf.distribute` replica
context); the networks, losses and augmentation it calls are backend-neutral.

Design notes:
* **Fused step** (n_critic = 1): one forward pass of G and of D on real and fake, one
  persistent tape, both updates from it.  This saves a G forward and a D forward on the fakes
  per step compared with the alternating recipe, and is what the benchmark's "bare fused step"
  measures.  With n_critic > 1 the classic alternating schedule runs instead.
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

    def _d_losses(self, real, labels, counter, global_batch, local_batch):
        """(d_loss, g_loss, logs) of one forward pass of G and of D on real and fake."""
        noise = self._noise(_D_STREAM, counter, global_batch, local_batch)
        fake = self.generator(self._g_inputs(noise, labels), training=True)
        real_logits, real_classes = self._judge(
            self._augment(real, counter, global_batch, local_batch, 0), labels)
        fake_logits, fake_classes = self._judge(
            self._augment(fake, counter, global_batch, local_batch, 1), labels)
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
        if self.d_only or self.n_critic == 1:
            counter = self.d_optimizer.iterations
            with tf.GradientTape(persistent=not self.d_only) as tape:
                d_loss, g_loss, logs = self._d_losses(real, labels, counter, global_batch, local_batch)
            self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
            if not self.d_only:
                self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
            del tape
            return self._logs(logs)
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
        return self._logs(logs)

    def _logs(self, logs):
        # Each replica holds its share of the global mean; fit() averages replicas' logs.
        # d_loss and g_loss are the adversarial terms alone, comparable with and without the
        # auxiliary classifier, whose terms are logged beside them.
        strategy = tf.distribute.get_strategy()
        logs = {k: v * strategy.num_replicas_in_sync for k, v in logs.items()}
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            # Keras reduces multi-worker logs with MEAN over axis 0, which needs a vector.
            logs = {k: tf.reshape(v, (1,)) for k, v in logs.items()}
        return logs
