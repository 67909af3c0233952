"""AttnGAN's discriminators (Xu et al. 2018; reference `model.py` D_NET64/128/256), one per stage.

Each stage's discriminator has an image encoder down to a 4x4 map of 8*df channels and two
heads on it (StackGAN++'s joint conditional-unconditional D):
* unconditional: conv 4x4 (valid) -> one logit "is this image real";
* sentence-conditional: the sentence feature tiled over the 4x4 map and concatenated, conv3x3
  + BN + LeakyReLU to 8*df, conv 4x4 (valid) -> one logit "is this a real image matching this
  caption".
* or, with `condition="projection"`, a projection head (Miyato & Koyama 2018, the sentence
  vector in place of a class embedding): h = LeakyReLU(Dense(flattened 4x4 map)), logit =
  w.h + <h, V s>.  The bilinear term must be large exactly when image and caption agree, which
  the concatenating head has to discover; on Shapes it made D read shape and colour words far
  better (docs/attngan_part2.md, "Projection discriminator").
* or, with `condition="words"`, the projection head plus a word-region term (in the spirit of
  ControlGAN's word-level discriminator, Li et al. 2019): each word of the caption attends over
  the 16 regions of the 4x4 map and is scored against what it found there, and the caption's
  score is the mean over its words.  A sentence vector is nearly the same for "a red circle and
  a blue square" and "a blue circle and a red square"; the DAMSM's word features are contextual
  (a BiLSTM's), so the word "circle" carries its own colour, and its region must show that
  colour for the term to be high: D can check which object each attribute belongs to.
* or, with `condition="phrases"`, the same term over the caption's object phrases instead of
  its words: the words between separator words ("a large red circle at the top" | "and" | "a
  small blue square ... on a white background"), each phrase the mean of its words' features
  (`pool_phrases`).  A phrase holds one object's colour, shape, size and position together, so
  its query finds that object's region and its score asks whether everything it names is there,
  where a single word can be satisfied by any region of its colour.
With `object_classes` each stage also has an object-wise head (in the spirit of Obj-GAN's
object-wise discriminator, Li et al. 2019, on a fixed grid of cells instead of boxes): the 4x4
map averaged over 2x2 windows to a 3x3 grid of cells (for Shapes' nine positions), and per
cell one logit "an object is here" and one block of class logits per attribute
(`build_object_head`; its loss in condgan/families/attngan/losses.py).  A caption-conditional
logit must learn from real/fake and matched/mismatched pairs what a shape word looks like; this
head learns it from labelled real cells directly.
The encoder is split from the heads so the trainer can score the same real features against
matching and mismatched sentences (AttnGAN's "wrong" pairs) without encoding the images twice.

Encoder: a first stride-2 conv (no norm), then stride-2 conv + BN + LeakyReLU(0.2) blocks.  The
channel schedule follows AttnGAN's `encode_image_by_16times` (df, 2df, 4df, 8df) for 64 px; for
32 px the first block starts at 2df, and beyond 64 px extra blocks stay at 8df (AttnGAN's
128/256 px nets go up to 16df/32df and back with 3x3 blocks; ours is lighter, same output).
Logits are raw (the losses use sigmoid cross-entropy on logits, numerically safer than AttnGAN's
Sigmoid + BCELoss with the same value).
"""
from __future__ import annotations

import math

import keras
from keras import layers, ops

from condgan.errors import UserError
from condgan.models.damsm_text import word_mask


def _down_channels(image_size: int, df: int) -> list[int]:
    blocks = math.log2(image_size / 4)
    if blocks != int(blocks) or blocks < 2:
        raise UserError(f"discriminator image size {image_size} must be a power of two >= 16")
    blocks = int(blocks)
    offset = max(0, 4 - blocks)
    return [df * 2 ** min(i + offset, 3) for i in range(blocks)]


def _bn(name, synchronized):
    kwargs = {"synchronized": True} if synchronized else {}  # global-batch statistics (TF)
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name, **kwargs)


def build_stage_encoder(image_size: int, df: int = 64, name: str = "d_encoder",
                        synchronized_bn: bool = False) -> keras.Model:
    """(B, S, S, 3) image -> (B, 4, 4, 8*df) features."""
    image = keras.Input((image_size, image_size, 3), name="image")
    h = image
    for i, channels in enumerate(_down_channels(image_size, df)):
        h = layers.Conv2D(channels, 4, strides=2, padding="same", use_bias=False,
                          name=f"down{i + 1}")(h)
        if i:
            h = _bn(f"down{i + 1}_bn", synchronized_bn)(h)
        h = layers.LeakyReLU(0.2, name=f"down{i + 1}_act")(h)
    return keras.Model(image, h, name=name)


CONDITIONS = ("concat", "projection", "words", "phrases")
# The heads that read more of a caption than its sentence vector (a word-region term).
REGION_CONDITIONS = ("words", "phrases")


def pool_phrases(words, tokens, lengths, separator_ids, max_phrases: int):
    """[words (B, D, T), tokens (B, T), lengths (B,)] -> (phrases (B, D, K), counts (B,)): the
    mean word feature of each phrase, the phrases being the runs of real words between separator
    words (which belong to no phrase), in order; a caption with more than K phrases has its
    tail pooled into the K-th.  `counts`: how many phrases each caption has (at most K), so
    `word_mask(counts, K)` marks the real ones, as `word_mask(lengths, T)` marks real words."""
    tokens = ops.cast(tokens, "int32")
    separator = ops.zeros_like(tokens, dtype="bool")
    for token_id in separator_ids:
        separator = ops.logical_or(separator, ops.equal(tokens, int(token_id)))
    member = ops.logical_and(word_mask(lengths, ops.shape(tokens)[1]), ops.logical_not(separator))
    # a phrase starts at a member word whose predecessor is not one, so a leading or doubled
    # separator makes no empty phrase and the real phrases are the first `counts`
    before = ops.concatenate([ops.zeros_like(member[:, :1]), member[:, :-1]], axis=1)
    starts = ops.cast(ops.logical_and(member, ops.logical_not(before)), "int32")
    index = ops.clip(ops.cumsum(starts, axis=1) - 1, 0, max_phrases - 1)                # (B, T)
    assign = ops.one_hot(index, max_phrases) * ops.cast(member, words.dtype)[:, :, None]  # (B, T, K)
    sizes = ops.sum(assign, axis=1)                                              # (B, K)
    phrases = ops.einsum("bdt,btk->bdk", words, assign) / ops.maximum(sizes, 1.0)[:, None, :]
    return phrases, ops.minimum(ops.sum(starts, axis=1), max_phrases)


def _concat_condition(features, sentence, df, text_dim, synchronized_bn):
    """AttnGAN's head: the sentence tiled over the map, concatenated, conv, logit."""
    tiled = layers.UpSampling2D(4, name="tile_sentence")(layers.Reshape((1, 1, text_dim))(sentence))
    joint = layers.Concatenate(name="joint")([features, tiled])
    joint = layers.Conv2D(df * 8, 3, padding="same", use_bias=False, name="joint_conv")(joint)
    joint = _bn("joint_bn", synchronized_bn)(joint)
    joint = layers.LeakyReLU(0.2, name="joint_act")(joint)
    return layers.Conv2D(1, 4, padding="valid", name="cond_logit")(joint)


def _projection_condition(features, sentence, df):
    """w.h + <h, V s> on h = LeakyReLU(Dense(flattened map)): the flattening keeps where things
    are (captions name positions), the inner product scores agreement with the caption."""
    h = layers.Dense(df * 8, name="proj_hidden")(layers.Flatten(name="proj_flat")(features))
    h = layers.LeakyReLU(0.2, name="proj_act")(h)
    agreement = layers.Dot(axes=1, name="proj_agreement")(
        [h, layers.Dense(df * 8, use_bias=False, name="proj_sentence")(sentence)])
    return layers.Add(name="proj_logit")([layers.Dense(1, name="proj_w")(h), agreement])


@keras.saving.register_keras_serializable(package="condgan")
class WordRegionAgreement(layers.Layer):
    """[features (B, h, w, C), words (B, D, T), lengths (B,)] -> (B, 1): the mean over a
    caption's words of how well each word agrees with the region context it attends to.

    Words and regions are projected into one space of `width` (q = P w, r = R f); word t
    attends over the regions with softmax(q_t . r / sqrt(width)), takes the context c_t, and
    scores <q_t, c_t> / sqrt(width); padding words take no part."""

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.width = int(width)
        self.word_projection = layers.Dense(self.width, use_bias=False, name="word_projection")
        self.region_projection = layers.Dense(self.width, name="region_projection")

    def build(self, input_shape):
        features_shape, words_shape, _ = input_shape
        self.region_projection.build((None, features_shape[-1]))
        self.word_projection.build((None, words_shape[1]))

    def call(self, inputs):
        features, words, lengths = inputs
        shape = ops.shape(features)
        regions = self.region_projection(ops.reshape(features, (shape[0], -1, shape[-1])))  # (B, N, E)
        queries = self.word_projection(ops.transpose(words, (0, 2, 1)))                   # (B, T, E)
        scale = 1.0 / float(self.width) ** 0.5
        attention = ops.softmax(ops.einsum("bte,bne->btn", queries, regions) * scale, axis=-1)
        context = ops.einsum("btn,bne->bte", attention, regions)
        agreement = ops.sum(queries * context, axis=-1) * scale                            # (B, T)
        real = ops.cast(word_mask(lengths, ops.shape(words)[2]), agreement.dtype)
        mean = ops.sum(agreement * real, axis=-1) / ops.maximum(ops.sum(real, axis=-1), 1.0)
        return ops.reshape(mean, (-1, 1))

    def get_config(self):
        return {**super().get_config(), "width": self.width}


def build_stage_heads(df: int = 64, text_dim: int = 256, name: str = "d_heads",
                      synchronized_bn: bool = False, condition: str = "concat",
                      max_len: int | None = None) -> keras.Model:
    """[features (B, 4, 4, 8df), sentence (B, D)] -> [unconditional (B,), conditional (B,)] logits;
    with `condition="words"` the inputs also take the words (B, D, max_len) and lengths (B,),
    with "phrases" the phrases (B, D, max_len) and their counts (B,) (`pool_phrases`)."""
    if condition not in CONDITIONS:
        raise UserError(f"discriminator condition {condition!r} is not one of {CONDITIONS}")
    features = keras.Input((4, 4, df * 8), name="features")
    sentence = keras.Input((text_dim,), name="sentence")
    inputs = [features, sentence]
    uncond = layers.Conv2D(1, 4, padding="valid", name="uncond_logit")(features)
    if condition == "concat":
        cond = _concat_condition(features, sentence, df, text_dim, synchronized_bn)
    else:
        cond = _projection_condition(features, sentence, df)
    if condition in REGION_CONDITIONS:
        if not max_len:
            raise UserError(f"a {condition}-level discriminator head needs the captions' "
                            f"{'max_len' if condition == 'words' else 'max_phrases'}")
        words = keras.Input((text_dim, max_len), name=condition)
        lengths = keras.Input((), dtype="int32", name="lengths" if condition == "words" else "counts")
        inputs += [words, lengths]
        cond = layers.Add(name="words_logit")(
            [cond, WordRegionAgreement(text_dim, name="word_regions")([features, words, lengths])])
    flat = layers.Flatten(name="uncond")
    return keras.Model(inputs,
                       [layers.Activation("linear", dtype="float32", name="uncond_score")(flat(uncond)),
                        layers.Activation("linear", dtype="float32", name="cond_score")(
                            layers.Flatten(name="cond")(cond))], name=name)


def build_object_head(df: int, grid: int, classes, name: str = "d_objects") -> keras.Model:
    """(B, 4, 4, 8df) features -> (B, grid*grid, 1 + sum(classes)) per-cell logits."""
    if not 1 <= grid <= 4:
        raise UserError(f"an object-wise head reads a grid of 1 to 4 cells a side, not {grid}")
    features = keras.Input((4, 4, df * 8), name="features")
    h = layers.AveragePooling2D(5 - grid, strides=1, name="cells")(features)
    h = layers.Conv2D(df * 4, 1, name="cell_hidden")(h)
    h = layers.LeakyReLU(0.2, name="cell_act")(h)
    h = layers.Conv2D(1 + sum(int(c) for c in classes), 1, name="cell_logits")(h)
    h = layers.Reshape((grid * grid, -1), name="per_cell")(h)
    return keras.Model(features, layers.Activation("linear", dtype="float32", name="cell_scores")(h),
                       name=name)


@keras.saving.register_keras_serializable(package="condgan")
class AttnDiscriminators(keras.Model):
    """The per-stage discriminators as one model, so their variables checkpoint as one set.

    `features(stage, images)` and `logits(stage, features, caption)` (each logit (B,)) are what
    the trainer uses, `caption(sentence, words, lengths, tokens)` being what the heads read of a
    caption: (sentence,), for the word-level head (sentence, words, lengths), for the phrase-level
    head (sentence, phrases, counts), the phrases split at `separator_ids` (at most
    `max_phrases`); `call([images_per_stage, *caption])` returns [(uncond, cond) per stage].
    With `object_classes` (values per attribute) each stage has an object-wise head too,
    `object_logits(stage, features)` over a `grid` x `grid` layout of cells.
    """

    def __init__(self, sizes: list[int], df: int = 64, text_dim: int = 256,
                 synchronized_bn: bool = False, condition: str = "concat",
                 max_len: int | None = None, separator_ids=(), max_phrases: int = 3,
                 object_classes=(), grid: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.sizes, self.df, self.text_dim = list(sizes), df, text_dim
        self.synchronized_bn, self.condition, self.max_len = synchronized_bn, condition, max_len
        self.separator_ids, self.max_phrases = [int(i) for i in separator_ids], int(max_phrases)
        if condition == "phrases" and not self.separator_ids:
            raise UserError("a phrase-level discriminator head needs the separator words' ids")
        units = self.max_phrases if condition == "phrases" else max_len
        self.encoders = [build_stage_encoder(s, df, f"d{i + 1}_encoder", synchronized_bn)
                         for i, s in enumerate(self.sizes)]
        self.heads = [build_stage_heads(df, text_dim, f"d{i + 1}_heads", synchronized_bn, condition,
                                        units) for i in range(len(self.sizes))]
        # built only when asked, so runs without them keep their checkpoints' variable list
        self.object_classes, self.grid = [int(c) for c in object_classes], int(grid)
        self.object_heads = [build_object_head(df, self.grid, self.object_classes, f"d{i + 1}_objects")
                             for i in range(len(self.sizes))] if self.object_classes else []

    def caption(self, sentence, words, lengths, tokens) -> tuple:
        """What the heads read of a caption: the word-level head its words too, the phrase-level
        head its phrases, the others the sentence alone (so the trainer gathers and scores
        nothing they do not read)."""
        if self.condition == "words":
            return sentence, words, lengths
        if self.condition == "phrases":
            return (sentence, *pool_phrases(words, tokens, lengths, self.separator_ids,
                                            self.max_phrases))
        return (sentence,)

    def features(self, stage: int, images, training=False):
        return self.encoders[stage](images, training=training)

    def logits(self, stage: int, features, caption, training=False):
        # one kind of input (Keras refuses arrays beside tensors; pooled phrases are tensors)
        inputs = [ops.convert_to_tensor(x) for x in (features, *caption)]
        uncond, cond = self.heads[stage](inputs, training=training)
        return ops.reshape(uncond, (-1,)), ops.reshape(cond, (-1,))

    def object_logits(self, stage: int, features, training=False):
        return self.object_heads[stage](features, training=training)

    def call(self, inputs, training=False):
        images, *caption = inputs
        return [self.logits(i, self.features(i, x, training), caption, training)
                for i, x in enumerate(images)]

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes, "df": self.df,
                "text_dim": self.text_dim, "synchronized_bn": self.synchronized_bn,
                "condition": self.condition, "max_len": self.max_len,
                "separator_ids": self.separator_ids, "max_phrases": self.max_phrases,
                "object_classes": self.object_classes, "grid": self.grid}


def build_attngan_discriminators(sizes: list[int], df: int = 64, text_dim: int = 256,
                                 synchronized_bn: bool = False, condition: str = "concat",
                                 max_len: int | None = None, separator_ids=(),
                                 max_phrases: int = 3, object_classes=(),
                                 grid: int = 3) -> AttnDiscriminators:
    """Built discriminators for stage resolutions `sizes` (e.g. [32, 64]); `condition` picks the
    sentence-conditional head ("concat" = AttnGAN, "projection", "words": projection plus the
    word-region term, which needs the captions' `max_len`; "phrases": the same term over the
    object phrases, split at the `separator_ids` words); `object_classes`: an object-wise head
    per stage reading that many values of each attribute in each of `grid` x `grid` cells."""
    d = AttnDiscriminators(sizes, df, text_dim, synchronized_bn, condition, max_len, separator_ids,
                           max_phrases, object_classes, grid)
    # The sub-models are functional, hence built; mark the container built too.
    d.built = True
    return d
