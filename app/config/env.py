"""Typed, validated reads of environment variables for settings.

Every failure names the variable, the value and what was expected, so a
misconfigured container fails at start with a message an operator can act on.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of {sorted(_TRUE | _FALSE)}.")


def _env_number(name, default, *, parse, kind, minimum, maximum):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = parse(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not {kind}.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} is out of range: expected {minimum} to {maximum}.")
    return value


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    return _env_number(name, default, parse=int, kind="a whole number", minimum=minimum, maximum=maximum)


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    return _env_number(name, default, parse=float, kind="a number", minimum=minimum, maximum=maximum)


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {list(choices)}.")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_level(name: str, default: str) -> str:
    value = env_str(name, default).upper()
    if value not in LOG_LEVELS:
        raise ImproperlyConfigured(f"{name}={value!r} is not a log level: use one of {list(LOG_LEVELS)}.")
    return value
