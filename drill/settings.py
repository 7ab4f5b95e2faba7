"""What a drill reads: the process environment first, then the repository's .env, as Compose does.

Environment and .env:
  ELASTIC_PASSWORD        the live drill reads the alerts as `elastic`
  BIND_ADDRESS, ELASTICSEARCH_PORT, KIBANA_PORT
                          where the live stack's ports are published (default 127.0.0.1, 9200, 5601)
  DEMO_USERNAME, DEMO_PASSWORD
                          the user brute-force-success logs in as
  TIME_ZONE               the zone the app writes its timestamps in; the pipeline reads them in it
  The detection settings of setup/provision/settings.py (DETECTION_VARIABLES): the drills size their
  traffic by the same thresholds setup gave the rules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from create_env import EnvFileError, parse_env
from provision.errors import ConfigError
from provision.settings import load_detections

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = REPO_ROOT / ".env"
# A wildcard bind address is reached through loopback from this machine.
WILDCARD_HOSTS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


class DrillError(Exception):
    """A drill cannot run: the message says why and what to do."""


@dataclass(frozen=True)
class DrillSettings:
    detections: dict[str, int]
    time_zone: str
    host: str
    elasticsearch_port: int
    kibana_port: int
    demo_username: str
    # Kept out of repr: a traceback never shows them.
    elastic_password: str = field(repr=False)
    demo_password: str = field(repr=False)


def stack_values(environ: Mapping[str, str], env_file: Path) -> dict[str, str]:
    """The stack's settings as Compose would see them: the environment's, else .env's."""
    if not env_file.is_file():
        return dict(environ)
    try:
        return {**parse_env(env_file.read_text(encoding="utf-8"), env_file), **environ}
    except EnvFileError as error:  # names the line, never its value
        raise DrillError(str(error)) from None


def port(values: Mapping[str, str], name: str, default: int) -> int:
    raw = values.get(name, "").strip() or str(default)
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 65535):
        raise DrillError(f"{name}={raw!r} is not a TCP port: expected a whole number from 1 to 65535.")
    return int(raw)


def published_host(values: Mapping[str, str]) -> str:
    """Where this machine reaches the ports Compose publishes on BIND_ADDRESS."""
    bind_address = values.get("BIND_ADDRESS", "127.0.0.1").strip().strip("[]")
    return WILDCARD_HOSTS.get(bind_address, bind_address)


def http_url(host: str, port_number: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port_number}"


def load_drill_settings(environ: Mapping[str, str] = os.environ, env_file: Path = ENV_FILE) -> DrillSettings:
    values = stack_values(environ, env_file)
    try:
        detections = load_detections(values)
    except ConfigError as error:
        raise DrillError(f"the detection settings are invalid:\n{error}") from None
    return DrillSettings(
        detections=detections,
        time_zone=values.get("TIME_ZONE", "").strip() or "UTC",
        host=published_host(values),
        elasticsearch_port=port(values, "ELASTICSEARCH_PORT", 9200),
        kibana_port=port(values, "KIBANA_PORT", 5601),
        demo_username=values.get("DEMO_USERNAME", ""),
        elastic_password=values.get("ELASTIC_PASSWORD", ""),
        demo_password=values.get("DEMO_PASSWORD", ""),
    )
