"""AttnGAN training (Xu et al. 2018; reference `trainer.py`) as a `keras.Model` whose losses are
keras ops; the backend's step takes the gradients (`condgan.train.trainer`).

Same machinery as the GAN family's trainer (`condgan.families.gan.trainer.GAN`), so `fit()`, the
callbacks (history.jsonl, checkpoints with exact resume, sample grids, loss plot) and the
exporter's EMA weights all work unchanged:
* **Randomness**: z and the conditioning-augmentation eps come from stateless normals keyed by
  (seed, stream, D optimizer iteration), drawn for the *global* batch and sliced per replica,
  so a resumed run draws what the uninterrupted one would have.
* **Fused step**: one generator forward, each stage's discriminator on real, fake and
  mismatched (real image, other caption) pairs, both updates from that one pass.
  AttnGAN updates the discriminators first and runs them again for the generator loss; the
  fused step scores the fakes once with the pre-update discriminators (as the GAN family does).
* **Losses** (`condgan.families.attngan.losses`): per-stage conditional + unconditional terms, the
  DAMSM word and sentence losses of the last stage's images through the *frozen* pretrained
  encoders (part 1, `load_damsm`) weighted by lambda (lambda 0, StackGAN: not computed, and
  not in the history), and the KL term.  Per-example losses are
  summed and divided by the global batch; the in-batch DAMSM loss is a local batch mean scaled
  by the replica's share; it is computed on the all-gathered global batch, and batch norms are
  synchronized, so N tf.distribute replicas compute the single-device update (tested on 2
  logical CPUs).  Under JAX the step sees the global batch itself.
* **Object-wise term** (`object_weight` > 0): each stage's D also classifies every grid cell
  of the real images against their per-cell labels (the batch's last array), and the
  generator's images are scored by the same heads against their captions' labels.
* **EMA generator**: the G optimizer's `use_ema` average (AttnGAN keeps avg_param_G with 0.999).
The family's hooks are in `family.py`, the caption stream and sampler in `data.py`.
"""
from __future__ import annotations

from keras import ops

from condgan.models.attngan_generator import split_outputs
from condgan.families.attngan import losses as L
from condgan.families.damsm.losses import sent_loss, words_loss
from condgan.train.trainer import Phase, TwoPlayerModel

_Z_STREAM, _CA_STREAM = 1, 2


def downsample(images, size: int):
    """Box-filter a (B, S, S, 3) batch to (B, size, size, 3): the real image of a lower stage."""
    factor = int(images.shape[1]) // size
    if factor == 1:
        return images
    return ops.average_pool(images, pool_size=factor, strides=factor, padding="valid")


class AttnGANTrainer(TwoPlayerModel):
    def __init__(self, generator, discriminator, text_encoder, image_encoder, *, stages: int,
                 sizes: list[int], z_dim: int, condition_dim: int, damsm_lambda: float = 5.0,
                 kl_weight: float = 1.0, class_masking: bool = True, gammas=(4.0, 5.0, 10.0),
                 damsm_image_size: int | None = None, object_weight: float = 0.0,
                 seed: int = 0, **kwargs):
        super().__init__(generator, discriminator, seed, **kwargs)
        self.text_encoder = text_encoder
        self.image_encoder = image_encoder
        text_encoder.trainable = False   # frozen, as AttnGAN (`requires_grad = False`)
        image_encoder.trainable = False
        self.stages, self.sizes = int(stages), list(sizes)
        self.z_dim, self.condition_dim = int(z_dim), int(condition_dim)
        self.damsm_lambda, self.kl_weight = float(damsm_lambda), float(kl_weight)
        self.class_masking = bool(class_masking)
        self.gammas = tuple(float(g) for g in gammas)
        self.damsm_image_size = damsm_image_size
        self.object_weight = float(object_weight)

    def _normal(self, stream, counter, local_batch, width):
        return self.random_numbers("normal", stream, counter, local_batch, width)

    # --- the step ---------------------------------------------------------------------------
    def losses(self, images, tokens, lengths, class_ids, counter, training=True, swapped=None,
               swap_mask=None, cells=None):
        """All loss terms of one batch (global-batch scaled).  `swapped`/`swap_mask`: the swap
        negatives' tokens (same lengths) and where they exist (`condgan.text.word_swap`);
        `cells`: the images' per-cell object labels (the object-wise term)."""
        local = ops.shape(images)[0]
        global_batch = self.global_batch(local)
        share = ops.cast(local, "float32") / ops.cast(global_batch, "float32")
        words, sentence = self.text_encoder(tokens, lengths, training=False)
        words, sentence = ops.stop_gradient(words), ops.stop_gradient(sentence)
        z = self._normal(_Z_STREAM, counter, local, self.z_dim)
        eps = self._normal(_CA_STREAM, counter, local, self.condition_dim)
        fakes, mu, logvar, _ = split_outputs(
            self.generator([z, eps, sentence, words, lengths], training=training), self.stages)
        # "wrong" pairs: the next row's caption in the *global* batch, as on one device
        caption = self.discriminator.caption(sentence, words, lengths, tokens)
        wrong = tuple(self.local_rows(L.mismatched(self.all_gather(part)), local) for part in caption)
        swap_caption = None
        if swapped is not None:
            swap_words, swap_sentence = self.text_encoder(swapped, lengths, training=False)
            swap_caption = self.discriminator.caption(ops.stop_gradient(swap_sentence),
                                                      ops.stop_gradient(swap_words), lengths, swapped)
        d_sum, g_sum, d_objects, g_objects = 0.0, 0.0, 0.0, 0.0
        score_objects = cells is not None and self.object_weight > 0
        for i, size in enumerate(self.sizes):
            f_real = self.discriminator.features(i, downsample(images, size), training)
            f_fake = self.discriminator.features(i, fakes[i], training)
            u_real, c_real = self.discriminator.logits(i, f_real, caption, training)
            _, c_wrong = self.discriminator.logits(i, f_real, wrong, training)
            c_swap = (None if swap_caption is None else
                      self.discriminator.logits(i, f_real, swap_caption, training)[1])
            u_fake, c_fake = self.discriminator.logits(i, f_fake, caption, training)
            d_sum += L.d_stage_loss(u_real, c_real, u_fake, c_fake, c_wrong, c_swap, swap_mask)
            g_sum += L.g_stage_loss(u_fake, c_fake)
            if score_objects:
                classes = self.discriminator.object_classes
                d_objects += L.object_loss(self.discriminator.object_logits(i, f_real, training),
                                           cells, classes)
                g_objects += L.object_loss(self.discriminator.object_logits(i, f_fake, training),
                                           cells, classes)
        scale = 1.0 / ops.cast(global_batch, "float32")
        parts = {"d_loss": ops.sum(d_sum) * scale, "g_adv": ops.sum(g_sum) * scale}
        if score_objects:
            parts.update(d_objects=ops.sum(d_objects) * scale, g_objects=ops.sum(g_objects) * scale)
            parts["d_loss"] = parts["d_loss"] + self.object_weight * parts["d_objects"]
        if self.damsm_lambda:
            w_loss, s_loss = self._damsm_loss(fakes[-1], words, sentence, lengths, class_ids)
            parts.update(w_loss=w_loss * share, s_loss=s_loss * share)
        parts["kl"] = ops.sum(L.kl_per_example(mu, logvar)) * scale
        g_loss = parts["g_adv"]
        if score_objects:
            g_loss = g_loss + self.object_weight * parts["g_objects"]
        if self.damsm_lambda:
            g_loss = g_loss + self.damsm_lambda * (parts["w_loss"] + parts["s_loss"])
        parts["g_loss"] = g_loss + self.kl_weight * parts["kl"]
        return parts

    def _damsm_loss(self, last, words, sentence, lengths, class_ids):
        """(word loss, sentence loss) of the last stage's images through the frozen DAMSM.
        Skipped when its weight is 0 (StackGAN): a forward and backward pass through the image
        encoder that would add nothing to the step."""
        if self.damsm_image_size and self.damsm_image_size != self.sizes[-1]:
            last = ops.image.resize(last, (self.damsm_image_size, self.damsm_image_size))
        # The DAMSM loss is an in-batch contrastive loss: score the global batch, as one device
        # would (each replica computes it whole; the share in `losses` makes the gradients add up).
        g1, g2, g3 = self.gammas
        regions, global_ = self.image_encoder(last, training=False)
        ids = self.all_gather(class_ids) if self.class_masking else None
        w0, w1, _ = words_loss(self.all_gather(regions), self.all_gather(words),
                               self.all_gather(lengths), ids, g1, g2, g3)
        s0, s1 = sent_loss(self.all_gather(global_), self.all_gather(sentence), ids, g3)
        return w0 + w1, s0 + s1

    def phases(self, data):
        images, tokens, lengths, class_ids, *rest = data
        cells = rest.pop() if self.object_weight > 0 else None   # the stream puts them last
        swap = rest                                               # [swapped tokens, mask] or []

        def losses(counter):
            parts = self.losses(images, tokens, lengths, class_ids, counter,
                                swapped=swap[0] if swap else None, swap_mask=swap[1] if swap else None,
                                cells=cells)
            return {"d": parts["d_loss"], "g": parts["g_loss"]}, parts

        return [Phase(("d", "g"), "d", losses)]
