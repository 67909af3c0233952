"""Configs: the one loader of config files and typed `key=value` overrides, for every family.

A config file (`configs/*.py`) defines `get_config()` returning the config dataclass of its
model family (`GanConfig`, `AttnGANConfig`, `DamsmConfig`, ...) and carries, in its docstring, the exact
command, the expected result and the expected runtime (big_vision style).  Command-line
`--set key=value` overrides are type-checked against the dataclass, and an unknown key is an
error that lists the valid ones: a typo never trains the wrong model silently.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import importlib.util
import json
import math
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, Sequence, TypeVar

from condgan.errors import UserError


def load_config(path: str | os.PathLike, overrides: Sequence[str] = (), *,
                expect: type | None = None):
    """Run a config file (`configs/*.py`, defining `get_config()`) and apply typed `key=value`
    overrides.  Returns the config dataclass of the file's model family; `expect` demands one
    class."""
    config = _load_config_file(Path(path))
    if expect is not None and not isinstance(config, expect):
        raise UserError(f"config file {str(path)!r} is a {type(config).__name__}, not a "
                        f"{expect.__name__}: pass a config of this command's kind of model")
    return apply_overrides(config, overrides)


def dataclass_from_json(cls, obj: dict[str, Any], what: str = "config"):
    """`cls(**obj)`, but an unknown key is a UserError listing the valid ones."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(obj) - names)
    if unknown:
        raise UserError(f"{what} keys {unknown} do not exist: valid keys are {sorted(names)}")
    return cls(**obj)


_Config = TypeVar("_Config")


def apply_overrides(config: _Config, overrides: Sequence[str]) -> _Config:
    """A copy of the dataclass `config` with `key=value` overrides applied, each value parsed by
    the field's declared type (not by the type of the value it replaces: a config file may write
    `max_minutes=115` for a float field).  Works for any config dataclass (GanConfig,
    AttnGANConfig, DamsmConfig).  An unknown key is a UserError listing the valid ones; a value
    of the wrong type is a UserError naming the key, the expected type and an example."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"apply_overrides needs a dataclass instance, got {config!r}")
    if isinstance(overrides, str):  # one "key=value", not its characters
        overrides = [overrides]
    fields = {f.name: f for f in dataclasses.fields(config) if f.init}
    hints = typing.get_type_hints(type(config))
    changes: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = str(item).partition("=")
        key = key.strip()
        if not sep:
            raise UserError(f"override {item!r} must look like key=value, e.g. epochs=5")
        if key not in fields:
            raise UserError(f"config key {key!r} does not exist: valid keys are {sorted(fields)}")
        kind = hints.get(key, Any)
        try:
            changes[key] = _parse_typed(raw, kind)
        except ValueError:
            raise UserError(f"config key {key!r} needs {_type_text(kind)}, got {raw!r}: e.g. "
                            f"{key}={_example(kind, getattr(config, key))}") from None
    return dataclasses.replace(config, **changes)


_NONE_WORDS = ("none", "null")


def _optional_inner(kind) -> tuple[Any, bool]:
    """(X, True) for `X | None` / Optional[X]; (kind, False) otherwise."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = typing.get_args(kind)
        if type(None) in args:
            rest = tuple(a for a in args if a is not type(None))
            return (rest[0] if len(rest) == 1 else typing.Union[rest]), True
    return kind, False


def _parse_typed(raw: str, kind) -> Any:
    """`raw` as a value of type `kind`; ValueError when it is not one."""
    inner, optional = _optional_inner(kind)
    text = raw.strip()
    if optional:
        if text.lower() in _NONE_WORDS:
            return None
        return _parse_typed(raw, inner)
    if kind is Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    if kind is bool:
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ValueError(raw)
    if kind is int:
        return int(text)  # "5", "-3"; not "5.5", not "true"
    if kind is float:
        value = float(text)  # "0.25", "115", "2e-4"
        if not math.isfinite(value):
            raise ValueError(raw)
        return value
    if kind is str:
        if len(text) >= 2 and text[0] == text[-1] == '"':  # a JSON string: '"none"' -> none
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return raw
            return value if isinstance(value, str) else raw
        return raw
    origin = typing.get_origin(kind)
    if origin in (list, tuple, Sequence, collections.abc.Sequence):
        args = typing.get_args(kind)
        item = args[0] if args else Any
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(raw) from None
            items = [json.dumps(v) if not isinstance(v, str) else v for v in items]
        else:
            items = [part.strip() for part in text.split(",") if part.strip()]
        values = [_parse_typed(part, item) for part in items]
        return tuple(values) if origin is tuple else values
    if isinstance(kind, type):  # another type: its JSON form, if it is one
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(raw) from None
        if isinstance(value, kind):
            return value
    raise ValueError(raw)


def _type_text(kind) -> str:
    inner, optional = _optional_inner(kind)
    if optional:
        return f"{_type_text(inner)} or none"
    if kind is bool:
        return "true or false (bool)"
    if kind is int:
        return "a whole number (int)"
    if kind is float:
        return "a number (float)"
    if kind is str:
        return "a text (str)"
    if typing.get_origin(kind) in (list, tuple):
        args = typing.get_args(kind)
        return (f"a list of {args[0].__name__ if args and isinstance(args[0], type) else 'values'}"
                " (comma-separated or a JSON list)")
    return getattr(kind, "__name__", str(kind))


def _example(kind, current: Any) -> str:
    """A value that parses as `kind`: the field's current value when it does, else a typical one."""
    inner, optional = _optional_inner(kind)
    if current is not None:
        if isinstance(current, (list, tuple)):
            text = ",".join(str(v) for v in current)
        elif isinstance(current, bool):
            text = "true" if current else "false"
        else:
            text = str(current)
        try:
            if text and _parse_typed(text, kind) is not None:
                return text
        except ValueError:
            pass
    if optional:
        return _example(inner, None)
    typical = {bool: "true", int: "5", float: "0.25", str: "my_run"}
    if kind in typical:
        return typical[kind]
    if typing.get_origin(kind) in (list, tuple):
        args = typing.get_args(kind)
        return {int: "1,2", float: "0.5,1.0"}.get(args[0] if args else None, "horse,deer")
    return '"..."'


def _load_config_file(path: Path):
    if path.suffix != ".py" or not path.is_file():
        raise UserError(f"config file {str(path)!r} does not exist or is not a .py file: see "
                        "configs/ for examples, e.g. configs/cgan_cifar10.py")
    spec = importlib.util.spec_from_file_location(f"condgan_config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        if not hasattr(module, "get_config"):
            raise UserError(f"config file {path} must define get_config() returning a config, "
                            "e.g. configs/cgan_cifar10.py")
        config = module.get_config()
    except TypeError as error:  # an unknown keyword of the config dataclass: name the valid ones
        named = re.match(r"(\w+)\.__init__\(\)", str(error))
        cls = getattr(module, named.group(1), None) if named else None
        valid = f"; valid keys are {sorted(f.name for f in dataclasses.fields(cls))}" \
            if dataclasses.is_dataclass(cls) else ""
        raise UserError(f"config file {path}: {error}{valid}") from None
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise UserError(f"get_config() in {path} must return a config dataclass, got "
                        f"{type(config).__name__}")
    return config


def config_fields(config) -> list[dict[str, Any]]:
    """The fields of a config dataclass instance as a form describes them: name, type (as
    `--set` parses it), the instance's value, and help (the comment beside the field in the
    dataclass's source, its one description)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config_fields needs a dataclass instance, got {config!r}")
    hints = typing.get_type_hints(type(config))
    comments = _field_comments(type(config))
    out = []
    for field in dataclasses.fields(config):
        if not field.init:
            continue
        kind = hints.get(field.name, Any)
        value = getattr(config, field.name)
        out.append({"name": field.name, "type": _form_type(kind), "type_text": _type_text(kind),
                    "value": list(value) if isinstance(value, tuple) else value,
                    "help": comments.get(field.name, "")})
    return out


def _form_type(kind) -> str:
    inner, _ = _optional_inner(kind)
    if inner in (bool, int, float, str):
        return inner.__name__
    if typing.get_origin(inner) in (list, tuple):
        return "list"
    return "json"


def _field_comments(cls) -> dict[str, str]:
    """`name: type = default  # comment` lines of a dataclass's source -> {name: comment}."""
    import inspect

    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    found = {}
    for line in source.splitlines():
        match = re.match(r"\s+([A-Za-z_]\w*)\s*:[^#]*#\s*(.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found
