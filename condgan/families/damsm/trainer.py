"""DAMSM pretraining (AttnGAN `pretrain_DAMSM.py`) as a `keras.Model` whose losses are keras ops;
the backend's step takes the gradients (`condgan.train.trainer`).

The text and image encoders train jointly on w_loss0 + w_loss1 + s_loss0 + s_loss1 with one Adam
(AttnGAN's lr 0.002, beta1 0.5; the family's callback decays the rate by 0.98 per epoch down to
lr/10), the text encoder's gradient norm clipped to 0.25.  AttnGAN re-creates Adam each epoch;
keeping its moments is what lets a run resume exactly.
"""
from __future__ import annotations

import keras

from condgan.families.damsm import losses as L
from condgan.families.damsm.config import DamsmConfig
from condgan.train.trainer import Phase, Trainer, clip_by_global_norm


class DamsmTrainer(Trainer):
    def __init__(self, cfg: DamsmConfig, vocab_size: int, **kwargs):
        from condgan.models.damsm_image import build_image_encoder
        from condgan.models.damsm_text import build_text_encoder

        super().__init__(**kwargs)
        self.cfg = cfg
        self.text = build_text_encoder(vocab_size, cfg.dim, cfg.embed_dim, cfg.dropout, cfg.fc,
                                       cfg.max_len)
        self.image = build_image_encoder(cfg.image_encoder, cfg.dim, cfg.image_size, cfg.cnn_width)
        self.built = True

    def compile(self, optimizer, **kwargs):
        self.damsm_optimizer = optimizer
        self.text_vars = self.text.trainable_variables
        self.image_vars = self.image.trainable_variables
        self.compile_players({"encoders": (self.text_vars + self.image_vars, optimizer)}, **kwargs)

    def checkpoint_parts(self) -> dict:
        return self.restorable_parts()

    def restorable_parts(self) -> dict:
        return {"text": self.text.variables, "image": self.image.variables,
                "optimizer": self.damsm_optimizer.variables}

    def losses(self, images, tokens, lengths, class_ids, training, swapped=None, swap_mask=None):
        """(word loss, sentence loss) of a batch, both directions (AttnGAN eqs. 7-13)."""
        cfg = self.cfg
        regions, global_ = self.image(images, training=training)
        words, sentence = self.text(tokens, lengths, training=training)
        ids = class_ids if cfg.class_masking else None
        swap = None
        if swapped is not None:  # same lengths: one word swapped for one word
            swap = (*self.text(swapped, lengths, training=training), swap_mask)
        _, parts = L.damsm_loss(regions, global_, words, sentence, lengths, ids,
                                gamma1=cfg.gamma1, gamma2=cfg.gamma2, gamma3=cfg.gamma3, swap=swap)
        return parts["w_loss"], parts["s_loss"]

    def phases(self, data):
        images, tokens, lengths, class_ids, *swap = data   # swap: [swapped tokens, mask] or []

        def losses(counter):
            w, s = self.losses(images, tokens, lengths, class_ids, True, *swap)
            return {"encoders": w + s}, {"train_w_loss": w, "train_s_loss": s}

        return [Phase(("encoders",), "encoders", losses)]

    def transform_gradients(self, player, grads):
        text = len(self.text_vars)
        return clip_by_global_norm(grads[:text], self.cfg.rnn_grad_clip) + list(grads[text:])

    def eval_losses(self, images, tokens, lengths, class_ids):
        """(word loss, sentence loss) in inference mode, compiled once per input shape."""
        if getattr(self, "_eval_losses", None) is None:
            def run(*args):
                return self.losses(*args, False)
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                run = tf.function(run, reduce_retracing=True)
            self._eval_losses = run
        return self._eval_losses(images, tokens, lengths, class_ids)


class LearningRateDecay(keras.callbacks.Callback):
    """AttnGAN's schedule: lr * lr_decay**epoch from each epoch's start, never below lr / 10."""

    def __init__(self, optimizer, cfg: DamsmConfig):
        super().__init__()
        self.optimizer, self.cfg = optimizer, cfg

    def on_epoch_begin(self, epoch, logs=None):
        self.optimizer.learning_rate.assign(max(self.cfg.lr * self.cfg.lr_decay ** epoch,
                                                self.cfg.lr / 10))
