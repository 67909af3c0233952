"""DAMSM encoders: shapes, masking like packed sequences, the FC switch, frozen InceptionV3."""
import numpy as np

from condgan.models.damsm_image import build_image_encoder
from condgan.models.damsm_text import build_text_encoder


def test_text_encoder_shapes_and_padding_invariance():
    encoder = build_text_encoder(vocab_size=20, dim=8, embed_dim=6, max_len=5)
    tokens = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 2]], np.int32)
    lengths = np.array([3, 5], np.int32)
    words, sentence = encoder(tokens, lengths)
    assert words.shape == (2, 8, 5) and sentence.shape == (2, 8)
    assert not np.asarray(words)[0, :, 3:].any()  # zero at padding, like pad_packed_sequence
    other = tokens.copy()
    other[0, 3:] = [11, 12]  # whatever sits in the padding does not matter
    np.testing.assert_allclose(encoder(other, lengths)[1], sentence, atol=1e-6)
    # a padded caption encodes exactly like the same caption unpadded (backward LSTM too)
    np.testing.assert_allclose(encoder(tokens[:1, :3], lengths[:1])[1], sentence[:1], atol=1e-6)


def test_fc_switch_adds_exactly_two_dense_layers():
    with_fc = build_text_encoder(20, dim=8, embed_dim=6, fc=True)
    without = build_text_encoder(20, dim=8, embed_dim=6, fc=False)
    assert len(with_fc.trainable_variables) - len(without.trainable_variables) == 4
    assert with_fc.get_config()["fc"] is True and without.get_config()["fc"] is False


def test_cnn_image_encoder():
    encoder = build_image_encoder("cnn", dim=16, image_size=32, width=8)
    regions, global_ = encoder(np.zeros((2, 32, 32, 3), np.float32))
    assert regions.shape == (2, 16, 4, 4) and global_.shape == (2, 16)


def test_inception_encoder_is_frozen_with_trainable_projections():
    encoder = build_image_encoder("inception", dim=16, image_size=64, weights=None)
    regions, global_ = encoder(np.zeros((1, 64, 64, 3), np.float32))
    assert regions.shape == (1, 16, 17, 17) and global_.shape == (1, 16)  # mixed_6e: 17x17
    names = sorted(v.path.split("/")[-2] for v in encoder.trainable_variables)
    assert names == ["global_proj", "global_proj", "region_proj"]
