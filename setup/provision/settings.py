"""Setup's settings, read from the environment and checked before any call.

Environment:
  ELASTICSEARCH_URL                 default http://elasticsearch:9200; several nodes comma-separated
                                    (https://es01:9200,https://es02:9200), all http or all https
  KIBANA_URL                        default http://kibana:5601
  TLS_CA_FILE                       optional: the PEM CA that signed Elasticsearch's and Kibana's
                                    certificates (ca/ca.crt in the certs volume); unset (or empty),
                                    https URLs are verified against certifi's public CAs. Only with an
                                    https URL: with none it would be ignored, so it is refused
  ELASTIC_PASSWORD                  superuser `elastic`; every call but the rules' authenticates as it
  KIBANA_SYSTEM_PASSWORD            set on the reserved user `kibana_system`
  LOGSTASH_WRITER_PASSWORD          set on the native user `logstash_writer`
  ALERTING_PASSWORD                 set on the native user `django_alerting`; the rules are created as it
  LOG_RETENTION_DAYS                1-3650 (default 14): the ILM delete phase's min_age
  INDEX_REPLICAS                    0-10 (default 0): index.number_of_replicas in every index template
                                    (0 on one node, 1 on three)
  ASSETS_DIR                        default /assets; reads ASSETS_DIR/elasticsearch and ASSETS_DIR/kibana
  SETUP_TIMEOUT_SECONDS             default 300: how long to wait for each of Elasticsearch and Kibana
  SETUP_REQUEST_TIMEOUT_SECONDS     default 30: the limit for any single HTTP call
  SETUP_RETRY_INTERVAL_SECONDS      default 2: the pause between readiness checks
  The detection thresholds and windows of DETECTION_VARIABLES below: whole numbers, each with its
  default and range; kibana/rules/*.json name them as "${NAME}" placeholders (provision/placeholders.py).
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provision.errors import ConfigError
from provision.tls import ca_file_problem

DEFAULT_ES_URL, DEFAULT_KIBANA_URL = "http://elasticsearch:9200", "http://kibana:5601"
PASSWORD_VARIABLES = ("ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "LOGSTASH_WRITER_PASSWORD", "ALERTING_PASSWORD")
DEFAULT_PASSWORDS = {"changeme", "password", "elastic"}
MIN_PASSWORD_LENGTH = 12
RETENTION_RANGE = (1, 3650)
REPLICAS_DEFAULT, REPLICAS_RANGE = 0, (0, 10)

# -- Detections: name -> (default, lowest, highest); .env.example documents the same defaults ----------
DAY_MINUTES = 1440
DETECTION_VARIABLES = {
    "BRUTE_FORCE_FAILURES": (10, 1, 100_000),  # failed logins from one source.ip
    "BRUTE_FORCE_WINDOW_MINUTES": (5, 1, DAY_MINUTES),
    "CREDENTIAL_STUFFING_USERS": (5, 1, 100_000),  # distinct user.name values failing from one source.ip
    "CREDENTIAL_STUFFING_WINDOW_MINUTES": (10, 1, DAY_MINUTES),
    "SUSPICIOUS_REQUESTS_THRESHOLD": (5, 0, 100_000),  # probe events from one source.ip
    "SUSPICIOUS_REQUESTS_WINDOW_MINUTES": (5, 1, DAY_MINUTES),
    "ERROR_BURST_THRESHOLD": (20, 0, 1_000_000),  # ERROR and CRITICAL records
    "ERROR_BURST_WINDOW_MINUTES": (5, 1, DAY_MINUTES),
    "PARSE_FAILURES_WINDOW_MINUTES": (15, 1, DAY_MINUTES),
}


@dataclass(frozen=True)
class Settings:
    elasticsearch_urls: tuple[str, ...]  # the nodes, in the order given
    kibana_url: str
    tls_ca_file: Path | None
    passwords: dict[str, str]
    retention_days: int
    index_replicas: int
    assets_dir: Path
    timeout_seconds: float
    request_timeout_seconds: float
    retry_interval_seconds: float
    detections: dict[str, int]

    @property
    def elastic_password(self) -> str:
        return self.passwords["ELASTIC_PASSWORD"]


def _url(name: str, raw: str, errors: list[str]) -> str:
    value = raw.strip().rstrip("/")
    parts = urllib.parse.urlsplit(value)
    if parts.username or parts.password:  # never echo such a URL: it holds a password
        errors.append(f"{name} must not contain credentials (user:password@): setup logs in as elastic with ELASTIC_PASSWORD.")
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(f"{name}={value!r} is not a valid URL: use http(s)://host:port.")
    return value


def _node_urls(environ: Mapping[str, str], errors: list[str]) -> tuple[str, ...]:
    """ELASTICSEARCH_URL: one node URL, or several separated by commas; one scheme for all."""
    entries = environ.get("ELASTICSEARCH_URL", DEFAULT_ES_URL).split(",")
    if len(entries) > 1 and not all(entry.strip() for entry in entries):
        errors.append("ELASTICSEARCH_URL has an empty entry: separate node URLs with single commas.")
        return ()
    found = len(errors)
    urls = tuple(_url("ELASTICSEARCH_URL", entry, errors) for entry in entries)
    if len(errors) > found:
        return urls
    if len(set(urls)) < len(urls):
        errors.append(f"ELASTICSEARCH_URL={','.join(urls)!r} names a node twice.")
    elif len({urllib.parse.urlsplit(url).scheme for url in urls}) > 1:
        errors.append(
            f"ELASTICSEARCH_URL={','.join(urls)!r} mixes http and https: the nodes of one cluster share one "
            "scheme (https on the tls and cluster profiles)."
        )
    return urls


def _ca_file(environ: Mapping[str, str], urls: tuple[str, ...], errors: list[str]) -> Path | None:
    raw = environ.get("TLS_CA_FILE", "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not any(urllib.parse.urlsplit(url).scheme == "https" for url in urls):
        errors.append(
            f"TLS_CA_FILE={path} is set but ELASTICSEARCH_URL and KIBANA_URL are all http, so it would be ignored: "
            "use the https URLs (tls and cluster profiles), or unset TLS_CA_FILE."
        )
        return path
    problem = ca_file_problem("TLS_CA_FILE", path)
    if problem:
        errors.append(problem)
    return path


def _number(environ: Mapping[str, str], name: str, default: float, low: float, high: float, errors: list[str]) -> float:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails this too
        errors.append(f"{name}={raw!r} must be a number of seconds from {low:g} to {high:g}.")
    return value


def _whole_number(environ: Mapping[str, str], name: str, default: int, low: int, high: int, errors: list[str]) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    value = int(raw) if raw.isascii() and raw.isdigit() else -1
    if not low <= value <= high:
        errors.append(f"{name}={raw!r} must be a whole number from {low} to {high} (default {default}).")
    return value


def _detections(environ: Mapping[str, str], errors: list[str]) -> dict[str, int]:
    return {
        name: _whole_number(environ, name, default, low, high, errors)
        for name, (default, low, high) in DETECTION_VARIABLES.items()
    }


def load_detections(environ: Mapping[str, str]) -> dict[str, int]:
    """The detection settings alone, as load_settings reads them (the drills size their traffic by them)."""
    errors: list[str] = []
    detections = _detections(environ, errors)
    if errors:
        raise ConfigError("\n".join(errors))
    return detections


def _password_problems(passwords: dict[str, str]) -> list[str]:
    problems = []
    hint = "Set a strong random value in .env (scripts/create_env.py generates one)."
    for name, value in passwords.items():
        if not value:
            problems.append(f"{name} is empty. {hint}")
        elif value.strip().lower() in DEFAULT_PASSWORDS:
            problems.append(f"{name} is a well-known default password. {hint}")
        elif len(value) < MIN_PASSWORD_LENGTH:
            problems.append(f"{name} is shorter than {MIN_PASSWORD_LENGTH} characters. {hint}")
    names = list(passwords)
    for index, name in enumerate(names):
        for other in names[index + 1:]:
            if passwords[name] and passwords[name] == passwords[other]:
                problems.append(f"{name} is the same as {other}: each account needs its own password. {hint}")
    return problems


def load_settings(environ: Mapping[str, str]) -> Settings:
    errors: list[str] = []
    passwords = {name: environ.get(name, "") for name in PASSWORD_VARIABLES}
    errors.extend(_password_problems(passwords))
    raw_days = environ.get("LOG_RETENTION_DAYS", "14")
    retention_days = int(raw_days) if raw_days.strip().isdigit() else 0
    if not RETENTION_RANGE[0] <= retention_days <= RETENTION_RANGE[1]:
        low, high = RETENTION_RANGE
        errors.append(f"LOG_RETENTION_DAYS={raw_days!r} must be a whole number of days from {low} to {high}.")
    elasticsearch_urls = _node_urls(environ, errors)
    kibana_url = _url("KIBANA_URL", environ.get("KIBANA_URL", DEFAULT_KIBANA_URL), errors)
    settings = Settings(
        elasticsearch_urls=elasticsearch_urls,
        kibana_url=kibana_url,
        tls_ca_file=_ca_file(environ, (*elasticsearch_urls, kibana_url), errors),
        passwords=passwords,
        retention_days=retention_days,
        index_replicas=_whole_number(environ, "INDEX_REPLICAS", REPLICAS_DEFAULT, *REPLICAS_RANGE, errors),
        assets_dir=Path(environ.get("ASSETS_DIR", "/assets")),
        timeout_seconds=_number(environ, "SETUP_TIMEOUT_SECONDS", 300, 0.1, 86400, errors),
        request_timeout_seconds=_number(environ, "SETUP_REQUEST_TIMEOUT_SECONDS", 30, 0.1, 3600, errors),
        retry_interval_seconds=_number(environ, "SETUP_RETRY_INTERVAL_SECONDS", 2, 0.01, 600, errors),
        detections=_detections(environ, errors),
    )
    if errors:
        raise ConfigError("\n".join(errors))
    return settings
