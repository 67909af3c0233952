"""`--set key=value` overrides: parsed by each field's declared type, for every config dataclass
(GanConfig, AttnGANConfig, DamsmConfig), whatever type of value a config file happened to write."""
import dataclasses

import pytest

from condgan.config import apply_overrides, load_config
from condgan.families.gan import GanConfig
from condgan.errors import UserError
from condgan.families.attngan import AttnGANConfig
from condgan.families.damsm import DamsmConfig

CONFIG_FILE = '''"""A config that writes a whole number for a float field."""
from condgan.families.gan import GanConfig


def get_config():
    return GanConfig(name="budget", max_minutes=115)
'''


def test_a_float_field_takes_a_fraction_after_a_config_file_wrote_an_int(tmp_path):
    path = tmp_path / "budget.py"
    path.write_text(CONFIG_FILE)
    assert load_config(path).max_minutes == 115
    config = load_config(path, ["max_minutes=0.25"])
    assert config.max_minutes == 0.25 and isinstance(config.max_minutes, float)
    assert load_config(path, ["max_minutes=90"]).max_minutes == 90.0


def test_train_config_field_types():
    config = apply_overrides(GanConfig(), [
        "conditional=FALSE", "tensorboard=True", "epochs=3", "g_lr=2e-4", "beta1=0",
        "name=my_run", "diffaugment=color,translation", "classes=horse, deer"])
    assert config.conditional is False and config.tensorboard is True
    assert config.epochs == 3 and isinstance(config.epochs, int)
    assert config.g_lr == 2e-4 and config.beta1 == 0.0 and isinstance(config.beta1, float)
    assert config.name == "my_run" and config.diffaugment == "color,translation"
    assert config.classes == ["horse", "deer"]
    assert apply_overrides(config, ['classes=["horse", "ship"]']).classes == ["horse", "ship"]
    assert apply_overrides(config, ["classes=none"]).classes is None
    assert apply_overrides(config, ["classes=null"]).classes is None
    assert apply_overrides(config, ["conditional=true"]).conditional is True
    # a str field keeps "none" as text; a JSON-quoted string is unquoted
    assert apply_overrides(config, ["name=none"]).name == "none"
    assert apply_overrides(config, ['name="none"']).name == "none"
    assert apply_overrides(config, "epochs=7").epochs == 7  # one override given as a string
    assert config is not GanConfig() and GanConfig().epochs == 10  # the input is not changed


def test_attngan_config_field_types():
    config = apply_overrides(AttnGANConfig(), [
        "swap_negatives=shapes", "max_train_images=500", "max_minutes=0.5", "stages=1",
        "tensorboard=false", "d_condition=projection"])
    assert config.swap_negatives == "shapes" and config.max_train_images == 500
    assert config.max_minutes == 0.5 and config.stages == 1 and config.tensorboard is False
    assert config.d_condition == "projection"
    config = apply_overrides(config, ["swap_negatives=None", "max_train_images=null"])
    assert config.swap_negatives is None and config.max_train_images is None
    assert isinstance(config, AttnGANConfig)


def test_damsm_config_field_types():
    config = apply_overrides(DamsmConfig(), ["fc=false", "flip=TRUE", "lr=1e-3", "epochs=2",
                                             "max_train_images=64", "swap_negatives=shapes",
                                             "rnn_grad_clip=1"])
    assert config.fc is False and config.flip is True and config.lr == 1e-3 and config.epochs == 2
    assert config.max_train_images == 64 and config.swap_negatives == "shapes"
    assert config.rnn_grad_clip == 1.0 and isinstance(config.rnn_grad_clip, float)
    assert isinstance(config, DamsmConfig)


@pytest.mark.parametrize("config, override, words", [
    (dataclasses.replace(GanConfig(), max_minutes=115), "max_minutes=soon",
     ["'max_minutes'", "float", "max_minutes=115"]),
    (GanConfig(), "epochs=2.5", ["'epochs'", "int", "epochs=10"]),
    (GanConfig(), "conditional=yes", ["'conditional'", "true or false", "conditional=true"]),
    (GanConfig(), "classes=[1", ["'classes'", "list of str", "classes=horse,deer"]),
    (AttnGANConfig(), "max_train_images=many", ["'max_train_images'", "int", "or none",
                                                "max_train_images=5"]),
    (DamsmConfig(), "fc=1", ["'fc'", "bool", "fc=true"]),
    (DamsmConfig(), "lr=fast", ["'lr'", "float", "lr=0.002"]),
])
def test_a_wrong_value_names_the_key_the_type_and_an_example(config, override, words):
    with pytest.raises(UserError) as error:
        apply_overrides(config, [override])
    for word in words:
        assert word in str(error.value), (word, str(error.value))


@pytest.mark.parametrize("config", [GanConfig(), AttnGANConfig(), DamsmConfig()])
def test_unknown_keys_list_the_valid_ones(config):
    with pytest.raises(UserError, match="'epochz' does not exist.*'epochs'"):
        apply_overrides(config, ["epochz=3"])
    with pytest.raises(UserError, match="key=value"):
        apply_overrides(config, ["epochs"])
