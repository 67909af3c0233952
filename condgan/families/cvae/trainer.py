"""The conditional VAE as a condgan `Trainer`: one player ("vae": encoder, decoder and the
decoder's log sigma) updated from the negative ELBO, with the KL term's weight ramped up over
the first steps (Bowman et al. 2016: without it the decoder may learn to ignore the latent
before the encoder has anything to say).  The reparameterisation's normals come from the
trainer's counter-based stream, so a resumed run draws what the uninterrupted one would have.
"""
from __future__ import annotations

import keras
from keras import ops

from condgan.families.cvae.objective import kl_to_prior, reconstruction_nll
from condgan.models.cvae_encoder import safe_log_variance
from condgan.train.trainer import Phase, Trainer

_POSTERIOR_STREAM = 3


class ConditionalVAE(Trainer):
    def __init__(self, encoder: keras.Model, decoder: keras.Model, *, latent_dim: int,
                 conditional: bool, seed: int = 0, kl_weight: float = 1.0,
                 kl_warmup_steps: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = int(latent_dim)
        self.conditional = conditional
        self.seed = int(seed)
        self.kl_weight = float(kl_weight)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.log_sigma = self.add_weight(shape=(), initializer="zeros", name="log_sigma")
        self.built = True

    def compile(self, optimizer, **kwargs):
        self.vae_optimizer = optimizer
        variables = [*self.encoder.trainable_variables, *self.decoder.trainable_variables,
                     self.log_sigma]
        self.compile_players({"vae": (variables, optimizer)}, **kwargs)

    def _inputs(self, x, labels):
        return [x, labels] if self.conditional else x

    def losses(self, images, labels, counter, training: bool = True):
        """Per-image reconstruction NLL and KL, and the posterior sample's decoding."""
        mean, log_variance = self.encoder(self._inputs(images, labels), training=training)
        log_variance = safe_log_variance(log_variance)
        local_batch = ops.shape(images)[0]
        eps = self.random_numbers("normal", _POSTERIOR_STREAM, counter, local_batch, self.latent_dim)
        z = mean + ops.exp(0.5 * log_variance) * eps
        decoded = self.decoder(self._inputs(z, labels), training=training)
        return (reconstruction_nll(images, decoded, self.log_sigma),
                kl_to_prior(mean, log_variance))

    def phases(self, data):
        images, labels = data

        def step(counter):
            reconstruction, kl = self.losses(images, labels, counter)
            global_batch = self.global_batch(ops.shape(images)[0])
            dims = ops.cast(ops.prod(ops.shape(images)[1:]), "float32")
            warmup = (ops.minimum(1.0, (ops.cast(counter, "float32") + 1.0) / self.kl_warmup_steps)
                      if self.kl_warmup_steps else 1.0)
            per_image = reconstruction + self.kl_weight * warmup * kl
            # Mean per pixel: the learning rate means the same at every image size.
            loss = self.mean_over_batch(per_image, global_batch) / dims
            logs = {"loss": loss,
                    "neg_elbo": self.mean_over_batch(reconstruction + kl, global_batch),
                    "reconstruction": self.mean_over_batch(reconstruction, global_batch),
                    "kl": self.mean_over_batch(kl, global_batch),
                    # (a mean over the batch like the others, so replicas' logs add up alike)
                    "sigma": self.mean_over_batch(ops.ones_like(kl) * ops.exp(self.log_sigma),
                                                  global_batch)}
            return {"vae": loss}, logs

        return [Phase(("vae",), "vae", step)]

    def checkpoint_parts(self) -> dict:
        return self.restorable_parts()

    def restorable_parts(self) -> dict:
        return {"encoder": self.encoder.variables, "decoder": self.decoder.variables,
                "log_sigma": [self.log_sigma], "opt": self.vae_optimizer.variables}

    def call(self, inputs, training=False):
        return self.decoder(inputs, training=training)
