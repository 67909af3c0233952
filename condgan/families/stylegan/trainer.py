"""StyleGAN2-lite's training step as a `TwoPlayerModel`, on TensorFlow and on JAX.

One fused phase per step: one forward pass of G (mapping and synthesis) and of D on real and
generated images, both updates from it (as the GAN family's fused step).

* **Loss**: the non-saturating logistic loss (softplus), StyleGAN2's.
* **Lazy R1** (Mescheder et al. 2018; StyleGAN2): gamma / 2 * |grad_x D(x)|^2 on the real
  images D saw, computed only on steps whose counter is a multiple of `r1_interval` and then
  scaled by the interval, so on average it weighs what an every-step penalty would.  It is
  added to D's loss of that step: StyleGAN2 instead takes a separate optimizer step for it
  (and adjusts Adam's betas for that); one step keeps the phase structure, and the checkpoint,
  that every other trainer has.  The gradient with respect to the input comes from the
  backend (`Trainer.input_gradient`); the step differentiates through it.
* **Style mixing**: each image is drawn from two w's with probability `style_mixing`, the
  second from a crossover layer (uniform over 1..num_ws-1) on, so that no layer can rely on
  its neighbours' styles being the same.
* **The average w** (`w_avg`, the truncation trick's centre) follows the batch mean of the
  first w (before mixing) with decay `w_avg_beta`; it is the trainer's variable, checkpointed
  (`w_avg/0000`) and baked into the exported model.
* **Randomness** (z, the mixing choice, per-pixel noise, augmentation, instance noise) is
  keyed by (seed, stream, D optimizer step), as in every trainer: a resumed run draws what the
  uninterrupted one would have.
* **EMA generator**: the G optimizer's `use_ema` average (`WarmupEmaAdam`), exported.
* Not here: path-length regularisation (StyleGAN2's G regulariser for smooth W -> image maps,
  a second G phase with its own lazy schedule): left out for CPU cost; mixed precision.
"""
from __future__ import annotations

from keras import ops

from condgan.train.diffaugment import RANDOM_NUMBERS_PER_IMAGE, diff_augment, parse_policy
from condgan.train.losses import d_loss_bce, g_loss_bce
from condgan.train.penalties import lazily, r1_penalty
from condgan.train.trainer import Phase, TwoPlayerModel

# Random streams (seed * 16 + stream): z, the mixing z, the mixing choice, per-pixel noise;
# DiffAugment of real and fake images; instance noise on real and fake images.
_Z, _MIX_Z, _MIX_CHOICE, _PIXEL_NOISE = 1, 2, 3, 4
_AUG_REAL, _AUG_FAKE, _NOISE_REAL, _NOISE_FAKE = 6, 7, 9, 10


class StyleGAN(TwoPlayerModel):
    def __init__(self, networks, discriminator, *, latent_dim: int, conditional: bool, seed: int = 0,
                 style_mixing: float = 0.9, w_avg_beta: float = 0.995, r1_gamma: float = 0.01,
                 r1_interval: int = 16, diffaugment: str = "", d_input_noise: float = 0.0,
                 d_input_noise_steps: int = 0, **kwargs):
        super().__init__(networks.generator, discriminator, seed, **kwargs)
        self.mapping, self.synthesis = networks.mapping, networks.synthesis
        self.num_ws, self.noise_size = networks.num_ws, networks.noise_size
        self.latent_dim = int(latent_dim)
        self.conditional = bool(conditional)
        self.style_mixing = float(style_mixing)
        self.w_avg_beta = float(w_avg_beta)
        self.r1_gamma, self.r1_interval = float(r1_gamma), int(r1_interval)
        self.policy = parse_policy(diffaugment)
        self.d_input_noise, self.d_input_noise_steps = float(d_input_noise), int(d_input_noise_steps)
        # Every replica computes the same update from the global batch's mean: keep the first's.
        self.w_avg = self.add_weight(shape=(networks.w_dim,), initializer="zeros", trainable=False,
                                     name="w_avg", aggregation="only_first_replica")

    def checkpoint_parts(self) -> dict:
        return {**super().checkpoint_parts(), "w_avg": [self.w_avg]}

    def restorable_parts(self) -> dict:
        return {**super().restorable_parts(), "w_avg": [self.w_avg]}

    # --- the generator's forward pass ---------------------------------------------------------
    def _w(self, z, labels):
        return self.mapping([z, labels] if self.conditional else z, training=True)

    def mixed_ws(self, w, w_mix, uniforms):
        """ws (B, num_ws, w_dim): w for the layers before each image's crossover, w_mix from it
        on; images whose first uniform is not below `style_mixing` keep w everywhere."""
        mixes = uniforms[:, 0] < self.style_mixing
        crossover = 1 + ops.floor(uniforms[:, 1] * (self.num_ws - 1))
        crossover = ops.where(mixes, crossover, float(self.num_ws))
        layer = ops.arange(self.num_ws, dtype=crossover.dtype)
        first = ops.cast(layer[None, :] < crossover[:, None], w.dtype)[:, :, None]
        return first * w[:, None, :] + (1.0 - first) * w_mix[:, None, :]

    def generate(self, labels, counter, local_batch):
        """Generated images for one step (style mixing, random per-pixel noise), and the batch's
        w before mixing (what the average w follows)."""
        z = self.random_numbers("normal", _Z, counter, local_batch, self.latent_dim)
        w = self._w(z, labels)
        if self.style_mixing > 0:
            w_mix = self._w(self.random_numbers("normal", _MIX_Z, counter, local_batch,
                                                self.latent_dim), labels)
            ws = self.mixed_ws(w, w_mix, self.random_numbers("uniform", _MIX_CHOICE, counter,
                                                             local_batch, 2))
        else:
            ws = ops.repeat(w[:, None, :], self.num_ws, axis=1)
        noise = self.random_numbers("normal", _PIXEL_NOISE, counter, local_batch, self.noise_size)
        return self.synthesis([ws, noise], training=True), w

    def track_w_average(self, w) -> None:
        """w_avg <- lerp towards the global batch's mean w (StyleGAN2's w_avg_beta rule)."""
        mean = ops.mean(ops.stop_gradient(self.all_gather(w)), axis=0)
        self.w_avg.assign(mean + self.w_avg_beta * (self.w_avg - mean))

    # --- what D sees and says -----------------------------------------------------------------
    def seen_by_d(self, images, counter, local_batch, augment_stream: int, noise_stream: int):
        """DiffAugment, then instance noise: what D sees of `images`."""
        if self.policy:
            u = self.random_numbers("uniform", augment_stream, counter, local_batch,
                                    RANDOM_NUMBERS_PER_IMAGE)
            images = diff_augment(images, u, self.policy)
        if self.d_input_noise:
            images = self.instance_noise(images, noise_stream, counter, self.d_input_noise,
                                         self.d_input_noise_steps)
        return images

    def judge(self, labels):
        """D's logits, (B,), on images of these labels."""
        def logits(images):
            out = self.discriminator([images, labels] if self.conditional else images, training=True)
            return ops.reshape(out, (-1,))
        return logits

    def r1_term(self, judge, real_in, counter, global_batch):
        """gamma / 2 * mean R1, times r1_interval on the steps it is computed, else 0."""
        def penalty():
            per_image = r1_penalty(self, judge, real_in)
            return self.mean_over_batch(per_image, global_batch) * (self.r1_gamma / 2 * self.r1_interval)
        return lazily(counter, self.r1_interval, penalty)

    # --- the step -----------------------------------------------------------------------------
    def fused_losses(self, real, labels, counter):
        local_batch = ops.shape(real)[0]
        global_batch = self.global_batch(local_batch)
        fake, w = self.generate(labels, counter, local_batch)
        self.track_w_average(w)
        judge = self.judge(labels)
        real_in = self.seen_by_d(real, counter, local_batch, _AUG_REAL, _NOISE_REAL)
        real_logits = judge(real_in)
        fake_logits = judge(self.seen_by_d(fake, counter, local_batch, _AUG_FAKE, _NOISE_FAKE))
        d_loss = self.mean_over_batch(d_loss_bce(real_logits, fake_logits), global_batch)
        g_loss = self.mean_over_batch(g_loss_bce(fake_logits), global_batch)
        logs = {"d_loss": d_loss, "g_loss": g_loss}
        if self.r1_gamma:
            # Logged as added to D's loss: 0 on most steps, so an epoch's mean is the
            # every-step penalty it stands for.
            logs["d_r1"] = self.r1_term(judge, real_in, counter, global_batch)
            d_loss = d_loss + logs["d_r1"]
        return {"d": d_loss, "g": g_loss}, logs

    def phases(self, data):
        real, labels = data
        return [Phase(("d", "g"), "d", lambda counter: self.fused_losses(real, labels, counter))]
