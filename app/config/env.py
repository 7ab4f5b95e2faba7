"""Typed, validated reads of environment variables, for settings and gunicorn's config.

Every failure names the variable, the value and what was expected, so a
misconfigured container fails at start with a message an operator can act on.
Stdlib only: each caller names the exception a bad value raises (settings:
Django's ImproperlyConfigured; gunicorn's config: SystemExit, a message and
exit status 1).
"""

# Annotations stay unevaluated strings: in the class body, a later ``str`` or ``int``
# would otherwise name the method of that name, not the builtin.
from __future__ import annotations

import os

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class EnvReader:
    """Reads variables as the named type; a bad value raises ``error`` with the message."""

    def __init__(self, error: type[BaseException]):
        self.error = error

    @staticmethod
    def str(name: str, default: str = "") -> str:
        return os.environ.get(name, default).strip()

    def bool(self, name: str, default: bool) -> bool:
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise self.error(f"{name}={raw!r} is not a boolean: use one of {sorted(_TRUE | _FALSE)}.")

    def _number(self, name, default, *, parse, kind, minimum, maximum):
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = parse(raw.strip())
        except ValueError:
            raise self.error(f"{name}={raw!r} is not {kind}.") from None
        if not minimum <= value <= maximum:
            raise self.error(f"{name}={value} is out of range: expected {minimum} to {maximum}.")
        return value

    def int(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        return self._number(name, default, parse=int, kind="a whole number", minimum=minimum, maximum=maximum)

    def float(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        return self._number(name, default, parse=float, kind="a number", minimum=minimum, maximum=maximum)

    @staticmethod
    def list(name: str, default: list[str]) -> list[str]:
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            return list(default)
        return [item.strip() for item in raw.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default)
        if value not in choices:
            raise self.error(f"{name}={value!r} is not one of {list(choices)}.")
        return value

    def log_level(self, name: str, default: str) -> str:
        value = self.str(name, default).upper()
        if value not in LOG_LEVELS:
            raise self.error(f"{name}={value!r} is not a log level: use one of {list(LOG_LEVELS)}.")
        return value


# Who the lines say wrote them: django-elk-logging's identity setting, the variable it is read from, its default.
# The package's default name would be "config", this settings package's. Empty: no version, no environment.
SERVICE_IDENTITY = (
    ("LOG_SERVICE_NAME", "DJANGO_SERVICE_NAME", "django-app"),
    ("LOG_SERVICE_VERSION", "DJANGO_SERVICE_VERSION", ""),
    ("LOG_SERVICE_ENVIRONMENT", "DJANGO_SERVICE_ENVIRONMENT", ""),
)


def service_identity(env: EnvReader) -> dict[str, str | None]:
    """The identity settings, each None when empty: Django's settings take them, and gunicorn.conf.py puts them in
    the environment for gunicorn's arbiter, which loads no Django (its worker_timeout records)."""
    return {setting: env.str(variable, default) or None for setting, variable, default in SERVICE_IDENTITY}
