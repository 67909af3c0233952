"""The StackGAN baseline as options of the AttnGAN family (`word_attention=False`,
`damsm_lambda=0`): its generator has no attention, its trainer no DAMSM loss, a tiny run
trains, exports and loads as a caption model; and the default AttnGAN networks are the ones
they were before the options existed."""
import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from attngan_fixtures import TINY, encoded_splits, fixed_batch, shapes_and_damsm, train_attngan
from condgan.config import load_config
from condgan.families.attngan import AttnGANConfig
from condgan.families.attngan.family import build_models
from condgan.families.damsm.family import load_damsm
from condgan.models.attngan_discriminator import build_attngan_discriminators
from condgan.models.attngan_generator import WordAttention, build_attngan_generator, split_outputs

ROOT = Path(__file__).resolve().parents[1]
STACKGAN_TINY = dataclasses.replace(TINY, name="tiny_stackgan", word_attention=False,
                                    damsm_lambda=0.0)
CAPTION = "a small red circle at the top on a black background"
D, T, Z, C = 16, 18, 8, 4   # the tiny DAMSM's dim and max_len, TINY's z_dim and condition_dim

# The default generator of this tiny setting (32 px, 2 stages, gf 8, one residual block),
# recorded before the StackGAN options were added: a default build must stay exactly this.
DEFAULT_G_PARAMS = 38400
DEFAULT_G_LAYERS = [
    ("sentence", "InputLayer"), ("ca_noise", "InputLayer"), ("ca", "ConditioningAugmentation"),
    ("noise", "InputLayer"), ("c_z", "Concatenate"), ("init_fc", "Dense"),
    ("init_bn", "BatchNormalization"), ("init_glu", "GLU"), ("init_reshape", "Reshape"),
    ("init_up1_up", "UpSampling2D"), ("init_up1_conv", "Conv2D"),
    ("init_up1_bn", "BatchNormalization"), ("init_up1_glu", "GLU"),
    ("init_up2_up", "UpSampling2D"), ("init_up2_conv", "Conv2D"),
    ("init_up2_bn", "BatchNormalization"), ("init_up2_glu", "GLU"), ("words", "InputLayer"),
    ("lengths", "InputLayer"), ("attn_2", "WordAttention"), ("stage2_concat", "Concatenate"),
    ("stage2_res1_conv1", "Conv2D"), ("stage2_res1_bn1", "BatchNormalization"),
    ("stage2_res1_glu", "GLU"), ("stage2_res1_conv2", "Conv2D"),
    ("stage2_res1_bn2", "BatchNormalization"), ("stage2_res1_add", "Add"),
    ("stage2_up_up", "UpSampling2D"), ("stage2_up_conv", "Conv2D"),
    ("stage2_up_bn", "BatchNormalization"), ("stage2_up_glu", "GLU"), ("image_1_conv", "Conv2D"),
    ("image_2_conv", "Conv2D"), ("image_1", "Activation"), ("image_2", "Activation")]
DEFAULT_D_PARAMS = {"concat": 173444, "projection": 212100}   # stages at 16 and 32 px, df 8


def _generator(**options):
    return build_attngan_generator(32, 2, text_dim=D, max_len=T, z_dim=Z, condition_dim=C, gf=8,
                                   residual_blocks=1, **options)


def _inputs(seed=0, batch=3):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch, Z)).astype("float32"),
            rng.standard_normal((batch, C)).astype("float32"),
            rng.standard_normal((batch, D)).astype("float32"),
            rng.standard_normal((batch, D, T)).astype("float32"),
            np.array([2, 6, 1][:batch], dtype="int32")]


def test_default_attngan_networks_are_unchanged():
    g = _generator()
    assert g.count_params() == DEFAULT_G_PARAMS
    assert [(layer.name, type(layer).__name__) for layer in g.layers] == DEFAULT_G_LAYERS
    assert _generator(word_attention=True).get_config() == g.get_config()
    for condition, params in DEFAULT_D_PARAMS.items():
        assert build_attngan_discriminators([16, 32], df=8, text_dim=D,
                                            condition=condition).count_params() == params


def test_generator_without_word_attention_has_no_attention_and_ignores_the_words():
    g = _generator(word_attention=False)
    assert not any(isinstance(layer, WordAttention) for layer in g.layers)
    assert not any("attn" in layer.name for layer in g.layers)
    names = {layer.name for layer in g.layers}
    assert {"stage2_joint_tile", "stage2_joint_concat", "stage2_joint_conv"} <= names
    images, mu, logvar, attns = split_outputs(g(_inputs()), 2)
    assert [tuple(x.shape) for x in images] == [(3, 16, 16, 3), (3, 32, 32, 3)]
    assert tuple(mu.shape) == tuple(logvar.shape) == (3, C) and attns == []
    # the caption reaches it only through the sentence vector: other words, same images
    other = _inputs()
    other[3], other[4] = _inputs(seed=1)[3], np.array([6, 1, 3], dtype="int32")
    for a, b in zip(g(_inputs())[:2], g(other)[:2]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_the_config_is_attngan_shapes_with_attention_and_the_damsm_loss_off():
    attngan = load_config(str(ROOT / "configs" / "attngan_shapes.py"))
    stackgan = load_config(str(ROOT / "configs" / "stackgan_shapes.py"))
    assert (stackgan.word_attention, stackgan.damsm_lambda) == (False, 0.0)
    assert stackgan.image_size == 64 and stackgan.data == "data/shapes"
    assert stackgan.damsm == attngan.damsm == "runs/damsm_shapes"
    assert dataclasses.replace(stackgan, name=attngan.name, word_attention=True,
                               damsm_lambda=attngan.damsm_lambda) == attngan
    defaults = AttnGANConfig()
    assert (defaults.word_attention, defaults.damsm_lambda) == (True, 5.0)   # AttnGAN's


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return shapes_and_damsm(tmp_path_factory.mktemp("stackgan"))


def test_trainer_without_damsm_weight_has_no_damsm_terms(setup):
    data, damsm = setup
    text, image, vocab, damsm_cfg = load_damsm(damsm)
    batch = [tf.constant(x) for x in fixed_batch(encoded_splits(data, vocab)[0])]
    counter = tf.constant(0, tf.int64)
    keras.utils.set_random_seed(0)
    stackgan = build_models(STACKGAN_TINY, damsm_cfg, text, image)
    parts = {k: float(v) for k, v in stackgan.losses(*batch, counter=counter).items()}
    assert set(parts) == {"d_loss", "g_adv", "kl", "g_loss"}
    assert parts["g_loss"] == pytest.approx(parts["g_adv"] + STACKGAN_TINY.kl_weight * parts["kl"])
    # the default still trains against the DAMSM
    keras.utils.set_random_seed(0)
    attngan = build_models(TINY, damsm_cfg, text, image)
    assert {"w_loss", "s_loss"} <= set(attngan.losses(*batch, counter=counter))


def test_tiny_run_trains_exports_and_draws_the_same_pixels_for_the_same_seed(setup, tmp_path):
    import condgan
    from condgan.api import export_model

    data, damsm = setup
    run = tmp_path / "run"
    summary = train_attngan(STACKGAN_TINY, data, damsm, run)
    assert summary["step"] == 4
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert {"d_loss", "g_loss", "kl"} <= set(history[-1])
    assert not {"w_loss", "s_loss"} & set(history[-1])
    assert all(np.isfinite(history[-1][k]) for k in ("d_loss", "g_loss", "kl"))

    folder = export_model(run, "tiny_stackgan", tmp_path / "models")
    card = json.loads((folder / "card.json").read_text())
    assert card["kind"] == "attngan" and card["training"]["word_attention"] is False
    model = condgan.load_generator(folder)
    assert model.conditioning == "caption" and model.image_size == TINY.image_size
    assert not any(isinstance(layer, WordAttention) for layer in model.model.layers)
    images = model.generate(captions=[CAPTION, "a big blue square"], seed=7)
    assert images.dtype == np.uint8 and images.shape == (2, 32, 32, 3)
    again = model.generate(captions=[CAPTION, "a big blue square"], seed=7)
    np.testing.assert_array_equal(images, again)
    reloaded = condgan.load_generator(folder)   # a fresh load draws the same pixels
    np.testing.assert_array_equal(reloaded.generate(captions=[CAPTION], seed=7), images[:1])
    assert model.attention(CAPTION, seed=7)["maps"] == []
