"""GAN-INT-CLS training (Reed et al. 2016, algorithm 1) as a `TwoPlayerModel`: the losses are
keras ops (`losses.py`) and the backend's step takes the gradients (`condgan.train.trainer`), so
it trains on TensorFlow and on JAX with the same checkpoints.

* **Fused step**: one generator forward, D on (real, right text), (real, wrong text) and (fake,
  right text), both players updated from that one pass; Reed et al. update D then G on fresh
  scores, the fused step scores the fakes once with the pre-update D (as the GAN family does).
* **GAN-INT**: a second generator forward from the interpolation of the right and the
  mismatched caption's embeddings (two captions of different attribute sets), scored by D with
  that interpolation; it enters G's loss only.
* **Randomness**: both noise batches are stateless normals keyed by (seed, stream, D optimizer
  iteration), drawn for the global batch and sliced per replica, so a resumed run draws what the
  uninterrupted one would have.  Losses are per-example sums divided by the global batch.
* **Instance noise** (`d_input_noise`, as the GAN family has it): Gaussian noise on every image D
  sees, real and generated, annealed to nothing over `d_input_noise_steps`.  On Shapes' exact
  flat colours D otherwise tells real from generated at once and G draws one image whatever
  the noise and the caption.
* **Loss** (`loss`): the paper's sigmoid cross-entropy ("bce") or its hinge form ("hinge"),
  the same three D terms and two G terms either way (`losses.py`).
* **EMA generator** (`ema_decay` > 0): the G optimizer's built-in `use_ema` average
  (`WarmupEmaAdam`, as the GAN family has it), saved in every checkpoint as the "ema" arrays.
  Its batch-norm statistics are re-estimated before it draws (`data.standing_statistics`) on
  fixed training captions, whose embeddings the checkpoint keeps too ("standing_sentences"), so
  the export needs neither the data set nor a pass over it.
* The text encoder is frozen and outside the step: the stream hands over its embeddings.
"""
from __future__ import annotations

from keras import ops

from condgan.families.intcls import losses as L
from condgan.train.trainer import Phase, TwoPlayerModel

_Z_STREAM, _INTERPOLATION_STREAM = 1, 2
_NOISE_REAL, _NOISE_FAKE, _NOISE_MIXED = 3, 4, 5   # instance noise on D's three kinds of input
STANDING = "standing_sentences"   # the checkpoint prefix of an EMA run's standing captions


class IntClsTrainer(TwoPlayerModel):
    def __init__(self, generator, discriminator, *, latent_dim: int, matching_aware: bool = True,
                 interpolation: bool = True, interpolation_beta: float = 0.5,
                 interpolation_weight: float = 1.0, d_input_noise: float = 0.0,
                 d_input_noise_steps: int = 0, loss: str = "bce", seed: int = 0, **kwargs):
        super().__init__(generator, discriminator, seed, **kwargs)
        self.d_loss_fn, self.g_loss_fn = L.get_losses(loss)
        # An EMA run's (the family sets them): the grid's EMA generator, and the embeddings of
        # the training captions its batch-norm statistics are re-estimated on.
        self.ema_generator, self.standing_sentences = None, None
        self.latent_dim = int(latent_dim)
        self.matching_aware, self.interpolation = bool(matching_aware), bool(interpolation)
        self.interpolation_beta = float(interpolation_beta)
        self.interpolation_weight = float(interpolation_weight)
        self.d_input_noise, self.d_input_noise_steps = float(d_input_noise), int(d_input_noise_steps)

    def _seen_by_d(self, images, stream, counter):
        if not self.d_input_noise:
            return images
        return self.instance_noise(images, stream, counter, self.d_input_noise,
                                   self.d_input_noise_steps)

    def _logit(self, images, sentence, training):
        return ops.reshape(self.discriminator([images, sentence], training=training), (-1,))

    def losses(self, images, right, wrong, counter, training=True):
        """{d_loss, g_loss, ...} of one batch (per-example sums over the global batch)."""
        local = ops.shape(images)[0]
        scale = 1.0 / ops.cast(self.global_batch(local), "float32")
        z = self.random_numbers("normal", _Z_STREAM, counter, local, self.latent_dim)
        fakes = self.generator([z, right], training=training)
        real = self._seen_by_d(images, _NOISE_REAL, counter)
        real_right = self._logit(real, right, training)
        fake_right = self._logit(self._seen_by_d(fakes, _NOISE_FAKE, counter), right, training)
        real_wrong = self._logit(real, wrong, training) if self.matching_aware else None
        fake_mixed = None
        if self.interpolation:
            mixed = L.interpolate(right, wrong, self.interpolation_beta)
            z_mixed = self.random_numbers("normal", _INTERPOLATION_STREAM, counter, local,
                                          self.latent_dim)
            mixed_fakes = self.generator([z_mixed, mixed], training=training)
            fake_mixed = self._logit(self._seen_by_d(mixed_fakes, _NOISE_MIXED, counter), mixed,
                                     training)
        parts = {"d_loss": ops.sum(self.d_loss_fn(real_right, fake_right, real_wrong)) * scale,
                 "g_loss": ops.sum(self.g_loss_fn(fake_right, fake_mixed,
                                                  self.interpolation_weight)) * scale,
                 "d_real": ops.sum(ops.sigmoid(real_right)) * scale,
                 "d_fake": ops.sum(ops.sigmoid(fake_right)) * scale}
        if real_wrong is not None:
            parts["d_wrong"] = ops.sum(ops.sigmoid(real_wrong)) * scale
        return parts

    def checkpoint_parts(self) -> dict:
        parts = super().checkpoint_parts()
        if self.standing_sentences is not None:
            parts[STANDING] = [self.standing_sentences]
        return parts

    def phases(self, data):
        images, right, wrong = data

        def losses(counter):
            parts = self.losses(images, right, wrong, counter)
            return {"d": parts["d_loss"], "g": parts["g_loss"]}, parts

        return [Phase(("d", "g"), "d", losses)]
