"""The GAN as a `keras.Model` (`condgan.train.trainer.TwoPlayerModel`), so `fit()` and callbacks
work, on TensorFlow and on JAX: the losses are keras ops, and the backend's `train_step` takes
and applies the gradients (`condgan.train.tf_steps`, `condgan.train.jax_steps`).

Design notes:
* **Fused step** (n_critic = 1): one forward pass of G and of D on real and fake, both updates
  from it (a persistent tape; one `jax.vjp` with a pullback per player).  This saves a G forward
  and a D forward on the fakes per step compared with the alternating recipe, and is what the
  benchmark's "bare fused step" measures.  With n_critic > 1 the classic alternating schedule
  runs instead.
* **Shared backward pass through D on the fakes** (TensorFlow, BCE loss, per-example D, no
  auxiliary classifier): `condgan.families.gan.tf_shared_backward`.  Other cases, and JAX,
  take the two-pass gradients, equal up to float rounding.
* **Randomness** comes from counter-based generators keyed by (seed, optimizer iteration), so
  the random stream is a function of the step counter alone: a resumed run draws exactly the
  numbers the uninterrupted run would have drawn, with no RNG state to save.  TensorFlow and
  JAX draw different numbers from the same key, so a run resumed on the other backend continues
  the same algorithm on a different random stream.
* **Distribution**: noise and augmentation numbers are drawn for the *global* batch and losses
  are averaged over it, so N replicas (tf.distribute) or N devices (keras.distribution)
  compute the same update as one device fed the same global batch.
* **Auxiliary classifier** (AC-GAN, optional): D's second head learns the class of *real*
  images only, and G is asked to make fakes that head assigns to their label.  Training the
  head on fakes too (the original AC-GAN) rewards G for easily classified, less varied images.
* **Instance noise** (`d_input_noise`, Sønderby et al. 2017; Arjovsky & Bottou 2017): Gaussian
  noise added to every image D sees, real and fake, after DiffAugment.  On images of exact flat
  colours (Shapes) D otherwise separates real from generated within a hundred steps (its loss
  reaches 0) and G collapses to one image for every noise; the noise overlaps the two
  distributions, so D's gradient keeps telling G something.  `d_input_noise_steps` takes it
  down linearly to nothing over that many steps, so that G ends up drawing clean images.
* **EMA generator** (Karras et al. 2018; Yazici et al. 2019) is the G optimizer's built-in
  `use_ema` average, updated inside the optimizer's (stateless) apply on every backend.
"""
from __future__ import annotations

import keras
from keras import ops

from condgan.models.layers import MinibatchStdDev
from condgan.train.diffaugment import RANDOM_NUMBERS_PER_IMAGE, diff_augment, parse_policy
from condgan.train.losses import class_loss, get_losses
from condgan.train.trainer import Phase, TwoPlayerModel

# Random streams (seed * 16 + stream keys each): noise of the fused / D phases and of the
# alternating schedule's G phase; augmentation of real, fake and G-phase fake images.
_D_STREAM, _G_STREAM = 1, 2
_AUG_REAL, _AUG_FAKE, _AUG_G_PHASE = 6, 7, 8
_AUG_OFFSET_NOISE = 3   # instance noise's streams: the augmentation's own + 3 (9, 10, 11)
# Layers that mix the images of a batch, which would void the shared backward pass's
# per-image rescaling.
_BATCH_COUPLED_LAYERS = (keras.layers.BatchNormalization, MinibatchStdDev)


class GAN(TwoPlayerModel):
    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, latent_dim: int,
                 conditional: bool, seed: int = 0, n_critic: int = 1, diffaugment: str = "",
                 aux_classifier_weight: float = 0.0, d_input_noise: float = 0.0,
                 d_input_noise_steps: int = 0, **kwargs):
        super().__init__(generator, discriminator, seed, **kwargs)
        self.d_input_noise = float(d_input_noise)
        self.d_input_noise_steps = int(d_input_noise_steps)
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
                                     and self.n_critic == 1
                                     and keras.backend.backend() == "tensorflow")

    # --- randomness -------------------------------------------------------------------------
    def _noise(self, stream, counter, local_batch):
        return self.random_numbers("normal", stream, counter, local_batch, self.latent_dim)

    def _augment(self, images, counter, local_batch, stream):
        """DiffAugment, then instance noise: what D sees of `images`."""
        if self.policy:
            u = self.random_numbers("uniform", stream, counter, local_batch, RANDOM_NUMBERS_PER_IMAGE)
            images = diff_augment(images, u, self.policy)
        if self.d_input_noise:
            images = self.instance_noise(images, stream + _AUG_OFFSET_NOISE, counter,
                                         self.d_input_noise, self.d_input_noise_steps)
        return images

    # --- the step ---------------------------------------------------------------------------
    def _g_inputs(self, noise, labels):
        return [noise, labels] if self.conditional else noise

    def _d_inputs(self, images, labels):
        return [images, labels] if self.conditional else images

    def _judge(self, images, labels):
        """D's realness logits, and its class logits when it has the auxiliary classifier."""
        out = self.discriminator(self._d_inputs(images, labels), training=True)
        return (out[0], out[1]) if self.aux_classifier_weight else (out, None)

    def forward(self, real, labels, counter, watch=None):
        """One forward pass of G, and of D on augmented real and fake images:
        (D's outputs on real, D's input fakes, D's outputs on them).  `watch` is called on the
        fakes as D sees them (the shared backward pass's tape)."""
        local_batch = ops.shape(real)[0]
        noise = self._noise(_D_STREAM, counter, local_batch)
        fake = self.generator(self._g_inputs(noise, labels), training=True)
        fake_in = self._augment(fake, counter, local_batch, _AUG_FAKE)
        if watch is not None:
            watch(fake_in)
        real_out = self._judge(self._augment(real, counter, local_batch, _AUG_REAL), labels)
        return real_out, fake_in, self._judge(fake_in, labels)

    def fused_losses(self, real, labels, counter):
        """({"d": d_loss, "g": g_loss}, logs) of one forward pass of G and of D on real and fake."""
        global_batch = self.global_batch(ops.shape(real)[0])
        (real_logits, real_classes), _, (fake_logits, fake_classes) = self.forward(real, labels, counter)
        d_loss = self.mean_over_batch(self.d_loss_fn(real_logits, fake_logits), global_batch)
        g_loss = self.mean_over_batch(self.g_loss_fn(fake_logits), global_batch)
        logs = {"d_loss": d_loss, "g_loss": g_loss}
        if self.aux_classifier_weight:
            logs["d_class_loss"] = self.mean_over_batch(class_loss(labels, real_classes), global_batch)
            logs["g_class_loss"] = self.mean_over_batch(class_loss(labels, fake_classes), global_batch)
            d_loss = d_loss + self.aux_classifier_weight * logs["d_class_loss"]
            g_loss = g_loss + self.aux_classifier_weight * logs["g_class_loss"]
        return {"d": d_loss, "g": g_loss}, logs

    def generator_losses(self, labels, counter, local_batch):
        """({"g": g_loss}, logs) of the alternating schedule's G phase: fresh fakes through D."""
        global_batch = self.global_batch(local_batch)
        noise = self._noise(_G_STREAM, counter, local_batch)
        fake = self.generator(self._g_inputs(noise, labels), training=True)
        fake = self._augment(fake, counter, local_batch, _AUG_G_PHASE)
        fake_logits, fake_classes = self._judge(fake, labels)
        g_loss = self.mean_over_batch(self.g_loss_fn(fake_logits), global_batch)
        logs = {"g_loss": g_loss}
        if self.aux_classifier_weight:
            logs["g_class_loss"] = self.mean_over_batch(class_loss(labels, fake_classes), global_batch)
            g_loss = g_loss + self.aux_classifier_weight * logs["g_class_loss"]
        return {"g": g_loss}, logs

    def phases(self, data):
        real, labels = data

        def fused(counter):
            return self.fused_losses(real, labels, counter)

        if self.d_only:
            return [Phase(("d",), "d", fused)]
        if self.n_critic == 1:
            return [Phase(("d", "g"), "d", fused)]

        # Alternating schedule: n_critic D updates on this batch, then one G update.
        def generator_phase(counter):
            return self.generator_losses(labels, counter, ops.shape(real)[0])

        return [Phase(("d",), "d", fused)] * self.n_critic + [Phase(("g",), "g", generator_phase)]

    def train_step(self, *args):
        if self.shared_fake_backward and not self.d_only:
            from condgan.families.gan.tf_shared_backward import shared_backward_step

            return shared_backward_step(self, *args)
        return super().train_step(*args)
