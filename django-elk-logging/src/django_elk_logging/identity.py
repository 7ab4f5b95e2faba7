"""Who writes the log lines: the host, the service (the project), its version and its environment (ECS host.name,
service.name, service.version, service.environment).

Read from the settings LOG_HOST_NAME (default: socket.gethostname()), LOG_SERVICE_NAME (default: the first
component of the settings module, ``mysite`` for ``mysite.settings``), LOG_SERVICE_VERSION and
LOG_SERVICE_ENVIRONMENT (default: none). Standard library only: the settings are read only once the process
has loaded and configured Django itself, never imported from here; before that (a record logged while the
settings load, gunicorn's arbiter, which loads no Django) each is read from the environment variable of the
same name, the service defaulting to the first component of DJANGO_SETTINGS_MODULE. A bad value (checks.py
reports a setting's) is left out, as if unset: logging never fails on it.
"""

import os
import socket
import sys
from collections.abc import Callable
from typing import NamedTuple

HOST_NAME = "LOG_HOST_NAME"
SERVICE_NAME = "LOG_SERVICE_NAME"
SERVICE_VERSION = "LOG_SERVICE_VERSION"
SERVICE_ENVIRONMENT = "LOG_SERVICE_ENVIRONMENT"
SETTINGS = (HOST_NAME, SERVICE_NAME, SERVICE_VERSION, SERVICE_ENVIRONMENT)
MAX_CHARS = 128
SETTINGS_MODULE_VARIABLE = "DJANGO_SETTINGS_MODULE"


class Identity(NamedTuple):
    """Each value None when unknown; the field names are the line's keys (log_lines.py)."""

    host: str | None
    service: str | None
    service_version: str | None
    environment: str | None


def setting_error(value: object) -> str | None:
    """Why ``value`` cannot name a host, service, version or environment; None when it can (None: unset)."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value.strip():
        return "is blank"
    if len(value) > MAX_CHARS:
        return f"is {len(value)} characters long, more than {MAX_CHARS}"
    # Controls, bidi and other format characters, line and paragraph separators, no-break spaces.
    if not value.isprintable():
        return "holds a character that is not printable (a control, format or separator character)"
    # One word: the access line writes each as a field of its own, where a space would be escaped, while the
    # app lines quote it, and one service would then have two names.
    if " " in value:
        return "holds a space"
    return None


def _usable(value: object) -> str | None:
    return value if isinstance(value, str) and setting_error(value) is None else None


def _service_from(settings_module: object) -> str | None:
    """``mysite`` for ``mysite.settings``: the project's name, as ``django-admin startproject mysite`` made it."""
    return _usable(settings_module.split(".", 1)[0]) if isinstance(settings_module, str) else None


def _configured_settings():
    """Django's settings when this process has loaded and configured them, else None (never imports Django)."""
    conf = sys.modules.get("django.conf")
    settings = getattr(conf, "settings", None)
    try:
        return settings if settings is not None and settings.configured else None
    except Exception:  # a settings object half set up; the records still format
        return None


_host_name: list[str | None] = []


def _default_host() -> str | None:
    """socket.gethostname(), asked once per process (a fork keeps the host)."""
    if not _host_name:
        try:
            _host_name.append(_usable(socket.gethostname()))
        except OSError:
            _host_name.append(None)
    return _host_name[0]


def _identity(setting: Callable[[str], object], settings_module: object) -> Identity:
    """The identity ``setting`` (a setting's or an environment variable's value by its name) gives, the service
    defaulting to the project named by ``settings_module``."""
    return Identity(
        host=_usable(setting(HOST_NAME)) or _default_host(),
        service=_usable(setting(SERVICE_NAME)) or _service_from(settings_module),
        service_version=_usable(setting(SERVICE_VERSION)),
        environment=_usable(setting(SERVICE_ENVIRONMENT)),
    )


def _read(settings) -> Identity:
    def setting(name: str) -> object:
        try:
            return getattr(settings, name, None)
        except Exception:  # a settings object that raises on a read; the records still format
            return None

    # settings.configure() and override_settings (django/conf/__init__.py, UserSettingsHolder) have no
    # SETTINGS_MODULE: the environment's names the project then.
    return _identity(setting, setting("SETTINGS_MODULE") or os.environ.get(SETTINGS_MODULE_VARIABLE))


# Read once the settings are configured, then kept: the same object until forget(), so a caller can keep its
# rendering of it (log_lines.py, access_lines.py). A forked child shares its parent's settings, hence its identity.
_kept: list[Identity] = []
# Before that, the identity from the environment, kept while its variables hold the same values.
_from_environment: list[tuple[tuple[str | None, ...], Identity]] = []


def identity() -> Identity:
    """This process's identity: from the settings once they are configured (kept), else from the environment."""
    if _kept:
        return _kept[0]
    settings = _configured_settings()
    if settings is None:
        values = tuple(os.environ.get(name) for name in (*SETTINGS, SETTINGS_MODULE_VARIABLE))
        if not _from_environment or _from_environment[0][0] != values:
            _from_environment[:] = [(values, _identity(dict(zip(SETTINGS, values[:-1], strict=True)).get, values[-1]))]
        return _from_environment[0][1]
    read = _read(settings)
    _kept[:] = [read]
    return read


# A rendering function -> (the identity it rendered, its rendering): one tuple each, so threads read it whole.
_renderings: dict[Callable[[Identity], object], tuple[Identity, object]] = {}


def rendered(render: Callable[[Identity], object]) -> object:
    """``render(identity())``, computed again only when the identity changes (identity() returns the same object
    until then), so a line format escapes the identity once per process, not once per record."""
    current = identity()
    kept = _renderings.get(render)
    if kept is None or kept[0] is not current:
        kept = _renderings[render] = (current, render(current))
    return kept[1]


def forget() -> None:
    """Reads the settings again at the next record (Django's setting_changed signal, apps.py)."""
    _kept.clear()
