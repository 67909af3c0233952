"""Settings read from environment variables, each a clear error when it does not parse."""
from __future__ import annotations

import os

from condgan.errors import UserError


def env_int(name: str, default: int) -> int:
    return _parsed(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _parsed(name, default, float, "a number")


def _parsed(name: str, default, parse, what: str):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return parse(value)
    except ValueError:
        raise UserError(f"environment variable {name}={value!r} is not {what}") from None


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise UserError(f"environment variable {name}={value!r}: use 1 or 0")
    return value.lower() in ("1", "true", "yes", "on")
