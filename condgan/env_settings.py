"""Settings read from environment variables, each a clear error when it does not parse."""
from __future__ import annotations

import os

from condgan.errors import UserError


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise UserError(f"environment variable {name}={value!r} is not an integer") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise UserError(f"environment variable {name}={value!r} is not a number") from None


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise UserError(f"environment variable {name}={value!r}: use 1 or 0")
    return value.lower() in ("1", "true", "yes", "on")
