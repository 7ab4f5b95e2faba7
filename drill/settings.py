"""What a drill reads: the process environment first, then the repository's .env, as Compose does.

Environment and .env:
  ELASTIC_PASSWORD        the live drill reads the alerts as `elastic`
  BIND_ADDRESS, ELASTICSEARCH_PORT, KIBANA_PORT
                          where the live stack's ports are published (default 127.0.0.1, 9200, 5601)
  COMPOSE_FILE, COMPOSE_PATH_SEPARATOR
                          the profile (scripts/stack_profile.py): under tls and cluster, Elasticsearch and
                          Kibana serve HTTPS, verified against the CA `make up` copies to var/tls/ca.crt
  DEMO_USERNAME, DEMO_PASSWORD
                          the user brute-force-success logs in as
  TIME_ZONE               the zone the app writes its timestamps in; the pipeline reads them in it
  The detection settings of setup/provision/settings.py (DETECTION_VARIABLES): the drills size their
  traffic by the same thresholds setup gave the rules.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from create_env import EnvFileError
from provision.errors import ConfigError
from provision.settings import load_detections
from stack_profile import Profile, ProfileError, compose_values, selected_profile

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = REPO_ROOT / ".env"
# Where `make up` copies the CA that signed Elasticsearch's and Kibana's certificates (tls, cluster).
CA_FILE = REPO_ROOT / "var" / "tls" / "ca.crt"
# A wildcard bind address is reached through loopback from this machine.
WILDCARD_HOSTS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


class DrillError(Exception):
    """A drill cannot run: the message says why and what to do."""


@dataclass(frozen=True)
class StackAccess:
    """How this machine reaches the published Elasticsearch and Kibana: the profile's scheme, and under TLS
    the stack's own CA, the only one trusted (the certificates name localhost and 127.0.0.1)."""

    host: str
    profile: Profile
    ca_file: Path

    @property
    def scheme(self) -> str:
        return self.profile.scheme

    def url(self, port_number: int) -> str:
        return base_url(self.scheme, self.host, port_number)

    def trusted_ca(self) -> Path | None:
        """The CA file to verify with under TLS (None for plain HTTP), checked to hold a certificate."""
        if not self.profile.tls:
            return None
        if not self.ca_file.is_file():
            raise DrillError(f"the {self.profile.name} profile serves Elasticsearch and Kibana over HTTPS, and the CA "
                             f"that signed their certificates is missing at {self.ca_file}: run make up: it copies "
                             "the CA to var/tls/ca.crt")
        try:
            ssl.create_default_context(cafile=self.ca_file)
        except (ssl.SSLError, ValueError) as error:
            raise DrillError(f"{self.ca_file} holds no CA certificate OpenSSL can read ({error}): run make up: it "
                             "copies the CA to var/tls/ca.crt") from None
        return self.ca_file

    def ssl_context(self) -> ssl.SSLContext:
        """For httpx (verify=...): verifies the chain and the hostname against the stack's CA alone under TLS."""
        ca = self.trusted_ca()
        return ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()

    def elasticsearch_options(self) -> dict[str, str]:
        """For the Elasticsearch client: ca_certs under TLS (it then verifies certificate and hostname)."""
        ca = self.trusted_ca()
        return {"ca_certs": str(ca)} if ca else {}


@dataclass(frozen=True)
class DrillSettings:
    detections: dict[str, int]
    time_zone: str
    access: StackAccess
    elasticsearch_port: int
    kibana_port: int
    demo_username: str
    # Kept out of repr: a traceback never shows them.
    elastic_password: str = field(repr=False)
    demo_password: str = field(repr=False)

    @property
    def host(self) -> str:
        return self.access.host


def stack_values(environ: Mapping[str, str], env_file: Path) -> dict[str, str]:
    """The stack's settings as Compose would see them: the environment's, else .env's."""
    try:
        return compose_values(environ, env_file)
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


def base_url(scheme: str, host: str, port_number: int) -> str:
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port_number}"


def http_url(host: str, port_number: int) -> str:
    """The app's URL: it serves plain HTTP under every profile."""
    return base_url("http", host, port_number)


def stack_access(values: Mapping[str, str], ca_file: Path = CA_FILE) -> StackAccess:
    """The profile COMPOSE_FILE selects, read as Compose and make read it (scripts/stack_profile.py)."""
    try:
        profile = selected_profile(values)
    except (ProfileError, EnvFileError) as error:
        raise DrillError(str(error)) from None
    return StackAccess(published_host(values), profile, ca_file)


def load_drill_settings(environ: Mapping[str, str] = os.environ, env_file: Path = ENV_FILE,
                        ca_file: Path = CA_FILE) -> DrillSettings:
    values = stack_values(environ, env_file)
    try:
        detections = load_detections(values)
    except ConfigError as error:
        raise DrillError(f"the detection settings are invalid:\n{error}") from None
    return DrillSettings(
        detections=detections,
        time_zone=values.get("TIME_ZONE", "").strip() or "UTC",
        access=stack_access(values, ca_file),
        elasticsearch_port=port(values, "ELASTICSEARCH_PORT", 9200),
        kibana_port=port(values, "KIBANA_PORT", 5601),
        demo_username=values.get("DEMO_USERNAME", ""),
        elastic_password=values.get("ELASTIC_PASSWORD", ""),
        demo_password=values.get("DEMO_PASSWORD", ""),
    )
