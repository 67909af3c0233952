"""DAMSM pretraining (AttnGAN `pretrain_DAMSM.py`, Xu et al. 2018) as one keyword function.

`pretrain_damsm(config, data_path, run_dir)`:
* loads the train and test splits (generic captioned folder or AttnGAN's CUB layout), builds the
  vocabulary from the training captions and saves it as `vocabulary.json`;
* trains the text and image encoders jointly on w_loss0 + w_loss1 + s_loss0 + s_loss1 with
  Adam(lr 0.002, beta1 0.5), the learning rate decayed by 0.98 per epoch down to lr/10 and the
  text encoder's gradient norm clipped to 0.25 (AttnGAN's settings; AttnGAN re-creates Adam each
  epoch, we keep its moments, which resumes exactly);
* each epoch draws one random caption per image and, for longer captions, AttnGAN's random word
  selection; all randomness is a function of (seed, epoch, batch), so a resumed run replays the
  same batches: checkpoints (condgan.train.checkpoint) hold every variable and the step;
* logs train and validation word/sentence losses and validation R-precision to `history.jsonl`
  and TensorBoard, writes the resolved config to `config.json` and the result to `summary.json`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from condgan.data.caption_sets import load_caption_split
from condgan.errors import UserError


@dataclasses.dataclass
class DamsmConfig:
    name: str = "damsm"
    image_size: int = 64
    image_encoder: str = "cnn"        # "cnn" (from scratch) | "inception" (frozen ImageNet)
    cnn_width: int = 32
    dim: int = 256                    # D: shared word/region feature size (AttnGAN 256)
    embed_dim: int = 300              # word embedding size (AttnGAN 300)
    dropout: float = 0.5
    fc: bool = True                   # the seed project's extra Dense on the text features
    max_len: int = 18                 # AttnGAN TEXT.WORDS_NUM
    min_count: int = 1                # vocabulary frequency cut
    captions_per_image: int = 10
    batch_size: int = 48              # AttnGAN 48
    epochs: int = 600                 # AttnGAN 600 for birds
    lr: float = 0.002
    lr_decay: float = 0.98
    beta1: float = 0.5
    rnn_grad_clip: float = 0.25
    gamma1: float = 4.0
    gamma2: float = 5.0
    gamma3: float = 10.0
    flip: bool = False                # random horizontal flips (never for Shapes: left/right words)
    class_masking: bool = True        # same-class pairs are not negatives
    # Hard negatives: each image also against its caption with one attribute word swapped
    # ("shapes" or a word-group JSON, condgan/text/word_swap.py), so the encoders must separate
    # every attribute, not just the one that retrieves among random captions.  None = AttnGAN.
    swap_negatives: str | None = None
    seed: int = 0
    checkpoint_every: int = 200       # steps; also at every epoch end
    val_batches: int = 20             # validation loss batches per epoch
    rp_images: int = 2000             # held-out images used for R-precision
    max_train_images: int | None = None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "DamsmConfig":
        from condgan.config import dataclass_from_json
        return dataclass_from_json(cls, data, "DAMSM config")


@dataclasses.dataclass
class EncodedSplit:
    images: np.ndarray            # uint8 (N, H, W, 3)
    captions: list[list[list[int]]]  # per image, per caption: word indices
    class_ids: np.ndarray
    keys: list[str]


def encode_split(data, vocabulary) -> EncodedSplit:
    from condgan.text import tokenize
    caps = [[vocabulary.encode(tokenize(c)) for c in per_image] for per_image in data.captions]
    return EncodedSplit(data.images, caps, np.asarray(data.class_ids), list(data.keys))


def caption_batch(split: EncodedSplit, index: np.ndarray, max_len: int,
                  rng: np.random.Generator | None):
    """Tokens (B, T) and lengths (B,): a random caption per image with random word selection
    (training, `rng` given) or caption `i % n` with truncation (evaluation)."""
    from condgan.text import pad_captions
    chosen = []
    for i in index:
        options = split.captions[int(i)]
        k = int(rng.integers(len(options))) if rng is not None else int(i) % len(options)
        chosen.append(options[k])
    return pad_captions(chosen, max_len, rng)


def to_float(images: np.ndarray, rng: np.random.Generator | None = None, flip: bool = False):
    x = images.astype(np.float32) / 127.5 - 1.0
    if flip and rng is not None:
        mirrored = rng.random(len(x)) < 0.5
        x[mirrored] = x[mirrored, :, ::-1]
    return x


class DamsmModels:
    """The two encoders, the optimizer and a compiled train/eval step."""

    def __init__(self, cfg: DamsmConfig, vocab_size: int):
        import keras
        import tensorflow as tf
        from condgan.models.damsm_image import build_image_encoder
        from condgan.models.damsm_text import build_text_encoder
        from condgan.train import damsm_losses as L

        keras.utils.set_random_seed(cfg.seed)
        self.cfg = cfg
        self.text = build_text_encoder(vocab_size, cfg.dim, cfg.embed_dim, cfg.dropout, cfg.fc,
                                       cfg.max_len)
        self.image = build_image_encoder(cfg.image_encoder, cfg.dim, cfg.image_size,
                                         cfg.cnn_width)
        self.optimizer = keras.optimizers.Adam(learning_rate=cfg.lr, beta_1=cfg.beta1,
                                               beta_2=0.999)
        self.text_vars = self.text.trainable_variables
        self.image_vars = self.image.trainable_variables
        self.optimizer.build(self.text_vars + self.image_vars)
        gammas = dict(gamma1=cfg.gamma1, gamma2=cfg.gamma2, gamma3=cfg.gamma3)

        def losses(images, tokens, lengths, class_ids, training, swapped=None, swap_mask=None):
            regions, global_ = self.image(images, training=training)
            words, sentence = self.text(tokens, lengths, training=training)
            ids = class_ids if cfg.class_masking else None
            swap = None
            if swapped is not None:  # same lengths: one word swapped for one word
                swap = (*self.text(swapped, lengths, training=training), swap_mask)
            _, parts = L.damsm_loss(regions, global_, words, sentence, lengths, ids, **gammas,
                                    swap=swap)
            return parts["w_loss"], parts["s_loss"]

        @tf.function(reduce_retracing=True)
        def train_step(images, tokens, lengths, class_ids, swapped=None, swap_mask=None):
            with tf.GradientTape() as tape:
                w, s = losses(images, tokens, lengths, class_ids, True, swapped, swap_mask)
                total = w + s
            grads = tape.gradient(total, self.text_vars + self.image_vars)
            text_grads, _ = tf.clip_by_global_norm(grads[:len(self.text_vars)], cfg.rnn_grad_clip)
            self.optimizer.apply(list(text_grads) + grads[len(self.text_vars):],
                                 self.text_vars + self.image_vars)
            return w, s

        @tf.function(reduce_retracing=True)
        def eval_step(images, tokens, lengths, class_ids):
            return losses(images, tokens, lengths, class_ids, False)

        self.train_step, self.eval_step = train_step, eval_step

    def state(self, step: int) -> dict[str, np.ndarray]:
        from condgan.train.checkpoint import variables_state
        state = {"step": np.array(step, dtype=np.int64)}
        state.update(variables_state("text", self.text.variables))
        state.update(variables_state("image", self.image.variables))
        state.update(variables_state("optimizer", self.optimizer.variables))
        return state

    def restore(self, state: dict[str, np.ndarray]) -> None:
        from condgan.train.checkpoint import assign_state
        assign_state("text", self.text.variables, state)
        assign_state("image", self.image.variables, state)
        assign_state("optimizer", self.optimizer.variables, state)


def validate(models: DamsmModels, split: EncodedSplit, cfg: DamsmConfig) -> dict[str, float]:
    """Mean word/sentence losses over the first `val_batches` test batches (deterministic
    captions) and R-precision of the first `rp_images` test images."""
    from condgan.metrics.r_precision import encode_pairs, r_precision
    b = cfg.batch_size
    n_batches = min(cfg.val_batches, len(split.images) // b)
    w_sum = s_sum = 0.0
    for k in range(n_batches):
        index = np.arange(k * b, (k + 1) * b)
        tokens, lengths = caption_batch(split, index, cfg.max_len, None)
        w, s = models.eval_step(to_float(split.images[index]), tokens, lengths,
                                split.class_ids[index])
        w_sum, s_sum = w_sum + float(w), s_sum + float(s)
    out = {"val_w_loss": w_sum / max(n_batches, 1), "val_s_loss": s_sum / max(n_batches, 1)}
    n = min(cfg.rp_images, len(split.images))
    if n >= 100:
        index = np.arange(n)
        tokens, lengths = caption_batch(split, index, cfg.max_len, None)
        img, txt = encode_pairs(models.image, models.text, split.images[index], tokens, lengths)
        out["val_r_precision"] = r_precision(img, txt, seed=cfg.seed,
                                             class_ids=_class_filter(split.class_ids[index])
                                             )["r_precision"]
    return out


def _class_filter(class_ids: np.ndarray, candidates: int = 100):
    """Class ids for R-precision's mismatch filter, or None when a class is so large that
    fewer than 99 images of other classes remain (tiny or single-class sets)."""
    counts = np.unique(class_ids, return_counts=True)[1]
    return class_ids if len(class_ids) - counts.max() >= candidates - 1 else None


def pretrain_damsm(cfg: DamsmConfig, data_path: str | os.PathLike, run_dir: str | os.PathLike,
                   log=print) -> dict[str, Any]:
    import tensorflow as tf
    from condgan.data.arrays import write_json_atomic
    from condgan.text import Vocabulary, build_vocabulary, tokenize
    from condgan.train.checkpoint import load_latest_checkpoint, save_checkpoint
    from condgan.train.history import trim_history

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = run_dir / "config.json"
    resolved = {"config": cfg.to_json(), "data": str(Path(data_path).resolve())}
    # Resuming may extend `epochs` (train longer) but nothing that changes what is trained.
    free = {"epochs", "checkpoint_every", "val_batches", "rp_images"}
    if saved.is_file():
        before = json.loads(saved.read_text())["config"]
        changed = sorted(k for k in before if k not in free and before[k] != cfg.to_json().get(k))
        if changed:
            raise UserError(f"{run_dir} was started with different {changed} ({saved}): resume "
                            "with that config or choose another --run-dir")
    write_json_atomic(saved, resolved)

    train_set = load_caption_split(data_path, "train", cfg.image_size)
    if cfg.max_train_images:
        train_set = train_set.subset(np.arange(min(cfg.max_train_images, len(train_set))))
    test_set = load_caption_split(data_path, "test", cfg.image_size)
    vocab_path = run_dir / "vocabulary.json"
    if vocab_path.is_file():
        vocabulary = Vocabulary.load(vocab_path)
    else:
        vocabulary = build_vocabulary((tokenize(c) for caps in train_set.captions for c in caps),
                                      cfg.min_count)
        vocabulary.save(vocab_path)
    train, test = encode_split(train_set, vocabulary), encode_split(test_set, vocabulary)
    b = cfg.batch_size
    steps_per_epoch = len(train.images) // b  # drop_last, as AttnGAN
    if steps_per_epoch == 0:
        raise UserError(f"{data_path}: {len(train.images)} training images are fewer than one "
                        f"batch ({b}); lower batch_size in the config")
    log(f"DAMSM: {len(train.images)} train / {len(test.images)} test images, "
        f"vocabulary {len(vocabulary)} words, {steps_per_epoch} steps/epoch")

    swap = None
    if cfg.swap_negatives:
        from condgan.text.word_swap import WordSwap, load_word_groups
        swap = WordSwap(load_word_groups(cfg.swap_negatives), vocabulary)
    models = DamsmModels(cfg, len(vocabulary))
    step, elapsed = 0, 0.0
    restored = load_latest_checkpoint(run_dir)
    if restored is not None:
        step, state = restored
        models.restore(state)
        elapsed = float(state.get("elapsed", np.array(0.0)))
        log(f"resumed from step {step}")
    trim_history(run_dir, step)
    writer = tf.summary.create_file_writer(str(run_dir / "tensorboard"))
    total_steps = cfg.epochs * steps_per_epoch

    def checkpoint(at: int) -> None:
        state = models.state(at)
        state["elapsed"] = np.array(elapsed, dtype=np.float64)
        save_checkpoint(run_dir, at, state)

    while step < total_steps:
        epoch, k0 = divmod(step, steps_per_epoch)
        lr = max(cfg.lr * cfg.lr_decay ** epoch, cfg.lr / 10)
        models.optimizer.learning_rate.assign(lr)
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(train.images))
        sums, count, t0 = np.zeros(2), 0, time.time()
        epoch_start = t0
        for k in range(k0, steps_per_epoch):
            rng = np.random.default_rng([cfg.seed, epoch, k])
            index = np.sort(order[k * b:(k + 1) * b])
            tokens, lengths = caption_batch(train, index, cfg.max_len, rng)
            # the swaps draw from their own stream: the other draws match a run without them
            extra = () if swap is None else swap.negatives(
                tokens, lengths, np.random.default_rng([cfg.seed, epoch, k, 2]))
            w, s = models.train_step(to_float(train.images[index], rng, cfg.flip), tokens,
                                     lengths, train.class_ids[index], *extra)
            sums += (float(w), float(s))
            count += 1
            step += 1
            if step % cfg.checkpoint_every == 0 and k + 1 < steps_per_epoch:
                elapsed += time.time() - t0
                t0 = time.time()
                checkpoint(step)
        elapsed += time.time() - t0
        speed = count * b / max(time.time() - epoch_start, 1e-9)
        row = {"epoch": epoch + 1, "step": step, "images_seen": step * b, "lr": lr,
               "train_w_loss": sums[0] / count, "train_s_loss": sums[1] / count,
               "train_seconds": round(elapsed, 1),
               "images_per_second": round(speed, 1)}
        row.update(validate(models, test, cfg))
        with open(run_dir / "history.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        with writer.as_default():
            for key, value in row.items():
                if key not in ("epoch", "step"):
                    tf.summary.scalar(key, value, step=step)
        writer.flush()
        log(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in row.items()))
        checkpoint(step)

    summary = summarize(run_dir, models, test, cfg, vocabulary, elapsed)
    write_json_atomic(run_dir / "summary.json", summary)
    return summary


def summarize(run_dir: Path, models: DamsmModels, test: EncodedSplit, cfg: DamsmConfig,
              vocabulary, elapsed: float) -> dict[str, Any]:
    import keras
    import tensorflow as tf
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    last = history[-1] if history else {}
    return {"kind": "damsm", "name": cfg.name, "vocabulary_size": len(vocabulary),
            "train_seconds": round(elapsed, 1), "epochs": last.get("epoch"),
            "steps": last.get("step"), "images_seen": last.get("images_seen"),
            "metrics": {k: last.get(k) for k in ("val_w_loss", "val_s_loss", "val_r_precision")},
            "r_precision_protocol": "AttnGAN: 1 true + 99 mismatched captions (other classes), "
                                    "top-1 by cosine of global image / sentence features, first "
                                    f"{min(cfg.rp_images, len(test.images))} held-out images",
            "machine": f"{platform.machine()} {os.cpu_count()} CPU cores",
            "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                         "python": platform.python_version()},
            "config": cfg.to_json()}


def load_damsm(run_dir: str | os.PathLike):
    """(text_encoder, image_encoder, vocabulary, config) of a run, from its newest checkpoint."""
    from condgan.text import Vocabulary
    from condgan.train.checkpoint import load_latest_checkpoint

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise UserError(f"{str(run_dir)!r} is not a DAMSM run folder (no config.json): pass the "
                        "folder `python -m condgan pretrain-damsm` wrote, e.g. runs/damsm_shapes")
    resolved = json.loads((run_dir / "config.json").read_text())
    cfg = DamsmConfig.from_json(resolved["config"])
    vocabulary = Vocabulary.load(run_dir / "vocabulary.json")
    restored = load_latest_checkpoint(run_dir)
    if restored is None:
        raise UserError(f"{run_dir} has no checkpoint yet: train it with `python -m condgan "
                        "pretrain-damsm`")
    models = DamsmModels(cfg, len(vocabulary))
    models.restore(restored[1])
    return models.text, models.image, vocabulary, cfg


def evaluate_damsm(run_dir: str | os.PathLike, data_path: str | None = None, repeats: int = 10,
                   examples: int = 5) -> dict[str, Any]:
    """R-precision (mean and std over `repeats`) on the test split and top-5 retrieval examples;
    written to `run_dir/evaluation.json` and merged into `summary.json`."""
    from condgan.data.arrays import write_json_atomic
    from condgan.metrics.r_precision import encode_pairs, r_precision

    text, image, vocabulary, cfg = load_damsm(run_dir)
    run_dir = Path(run_dir)
    data_path = data_path or json.loads((run_dir / "config.json").read_text())["data"]
    test = encode_split(load_caption_split(data_path, "test", cfg.image_size), vocabulary)
    n = min(cfg.rp_images, len(test.images))
    index = np.arange(n)
    tokens, lengths = caption_batch(test, index, cfg.max_len, None)
    img, txt = encode_pairs(image, text, test.images[index], tokens, lengths)
    rp = r_precision(img, txt, seed=cfg.seed, class_ids=_class_filter(test.class_ids[index]),
                     repeats=repeats)
    rp_plain = r_precision(img, txt, seed=cfg.seed, repeats=repeats)
    sims = (img / np.linalg.norm(img, axis=1, keepdims=True)) @ \
        (txt / np.linalg.norm(txt, axis=1, keepdims=True)).T
    shown = []
    for i in range(min(examples, n)):
        top = np.argsort(-sims[i])[:5]
        shown.append({"image": test.keys[i], "true": " ".join(vocabulary.decode(tokens[i])),
                      "retrieved": [" ".join(vocabulary.decode(tokens[j])) for j in top]})
    result = {"r_precision": rp["r_precision"], "r_precision_std": rp["std"],
              "r_precision_no_class_filter": rp_plain["r_precision"], "queries": n,
              "repeats": repeats, "examples": shown, "data": str(data_path)}
    write_json_atomic(run_dir / "evaluation.json", result)
    summary_path = run_dir / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        summary["evaluation"] = {k: v for k, v in result.items() if k != "examples"}
        write_json_atomic(summary_path, summary)
    return result


def word_attention_maps(run_dir: str | os.PathLike, image: np.ndarray, caption: str):
    """(words, maps): for each known word of `caption`, the DAMSM's attention over the regions of
    `image` (uint8 (H, W, 3)), maps (T, h, w) summing to 1 over the regions (eqs. 7-8, gamma1)."""
    from condgan.text import encode_texts
    from condgan.train.damsm_losses import attention

    text, image_encoder, vocabulary, cfg = load_damsm(run_dir)
    tokens, lengths = encode_texts([caption], vocabulary, cfg.max_len)
    regions, _ = image_encoder(to_float(np.asarray(image)[None]), training=False)
    words, _ = text(tokens, lengths, training=False)
    _, attn = attention(words, regions, lengths, cfg.gamma1)
    h, w = int(regions.shape[2]), int(regions.shape[3])
    maps = np.asarray(attn)[0, 0, :int(lengths[0])].reshape(-1, h, w)
    return vocabulary.decode(tokens[0])[:len(maps)], maps
