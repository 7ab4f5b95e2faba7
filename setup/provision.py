"""One-shot provisioning of Elasticsearch and Kibana for the django-logs stack.

Run by the `setup` service once Elasticsearch is up. Every step is idempotent: it reads the current
state first and writes only what differs, printing one line per step (created / updated / unchanged).

Environment:
  ELASTICSEARCH_URL                 default http://elasticsearch:9200
  KIBANA_URL                        default http://kibana:5601
  ELASTIC_PASSWORD                  superuser `elastic`; every call authenticates as it
  KIBANA_SYSTEM_PASSWORD            set on the reserved user `kibana_system`
  LOGSTASH_WRITER_PASSWORD          set on the native user `logstash_writer`
  LOG_RETENTION_DAYS                1-3650 (default 14): the ILM delete phase's min_age
  ASSETS_DIR                        default /assets; reads ASSETS_DIR/elasticsearch and ASSETS_DIR/kibana
  SETUP_TIMEOUT_SECONDS             default 300: how long to wait for each of Elasticsearch and Kibana
  SETUP_REQUEST_TIMEOUT_SECONDS     default 30: the limit for any single HTTP call
  SETUP_RETRY_INTERVAL_SECONDS      default 2: the pause between readiness checks

Exit codes: 0 done, 1 a provisioning step failed, 2 the configuration is wrong (bad variable, bad or
missing asset file, or a password Elasticsearch/Kibana refuses). No password is ever printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import elasticsearch
from elasticsearch import Elasticsearch

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
PASSWORD_VARIABLES = ("ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "LOGSTASH_WRITER_PASSWORD")
DEFAULT_PASSWORDS = {"changeme", "password", "elastic"}
MIN_PASSWORD_LENGTH = 12
RETENTION_RANGE = (1, 3650)
POLICY_NAME = TEMPLATE_NAME = "django-logs"
WRITER_USER = WRITER_ROLE = "logstash_writer"
REQUIRED_ROLES = ("logstash_writer", "django_logs_reader")
WRITER_FULL_NAME = "Logstash writer for django-logs-*"
# Stored in each role's metadata and each policy's/template's _meta: a hash of the asset as setup
# last wrote it, so a key removed from the file is noticed even though GET returns server defaults.
FINGERPRINT_KEY = "setup_fingerprint"
# An empty component template whose _meta records setup's last saved-objects import (see
# KibanaSteps.sync_saved_objects); nothing composes it.
IMPORT_RECORD = "django-logs-setup-kibana-import"
ROLE_KEYS = {
    "applications", "cluster", "description", "global", "indices", "metadata", "remote_cluster",
    "remote_indices", "run_as", "transient_metadata",
}
CONNECTOR_KEYS = {"name", "connector_type_id", "config", "secrets"}
RULE_CREATE_KEYS = {
    "name", "rule_type_id", "enabled", "consumer", "tags", "throttle", "params", "schedule", "actions",
    "notify_when", "alert_delay", "flapping", "dashboards", "artifacts",
}
# PUT /api/alerting/rule/<id> accepts only these (rule_type_id, consumer and enabled are refused).
RULE_UPDATE_KEYS = (
    "name", "tags", "schedule", "throttle", "params", "actions", "notify_when", "alert_delay", "flapping", "artifacts",
)


class ConfigError(Exception):
    """The operator must fix the configuration; retrying will not help."""


class ProvisionError(Exception):
    """A provisioning step failed."""


# -- output -------------------------------------------------------------------------------------

_secrets: list[str] = []


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "********")
    return text


def say(line: str) -> None:
    print(redact(line), flush=True)


def complain(text: str) -> None:
    print(redact(text), file=sys.stderr, flush=True)


def report(step: str, outcome: str) -> None:
    say(f"{step}: {outcome}")


# -- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    elasticsearch_url: str
    kibana_url: str
    passwords: dict[str, str]
    retention_days: int
    assets_dir: Path
    timeout_seconds: float
    request_timeout_seconds: float
    retry_interval_seconds: float

    @property
    def elastic_password(self) -> str:
        return self.passwords["ELASTIC_PASSWORD"]


def _url(environ: Mapping[str, str], name: str, default: str, errors: list[str]) -> str:
    value = environ.get(name, default).strip().rstrip("/")
    parts = urllib.parse.urlsplit(value)
    if parts.username or parts.password:  # never echo such a URL: it holds a password
        errors.append(f"{name} must not contain credentials (user:password@): setup logs in as elastic with ELASTIC_PASSWORD.")
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(f"{name}={value!r} is not a valid URL: use http(s)://host:port.")
    return value


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
    settings = Settings(
        elasticsearch_url=_url(environ, "ELASTICSEARCH_URL", "http://elasticsearch:9200", errors),
        kibana_url=_url(environ, "KIBANA_URL", "http://kibana:5601", errors),
        passwords=passwords,
        retention_days=retention_days,
        assets_dir=Path(environ.get("ASSETS_DIR", "/assets")),
        timeout_seconds=_number(environ, "SETUP_TIMEOUT_SECONDS", 300, 0.1, 86400, errors),
        request_timeout_seconds=_number(environ, "SETUP_REQUEST_TIMEOUT_SECONDS", 30, 0.1, 3600, errors),
        retry_interval_seconds=_number(environ, "SETUP_RETRY_INTERVAL_SECONDS", 2, 0.01, 600, errors),
    )
    if errors:
        raise ConfigError("\n".join(errors))
    return settings


# -- assets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    name: str  # role name, connector id or rule id
    path: Path
    body: dict[str, Any]


@dataclass(frozen=True)
class Assets:
    roles: list[Asset]
    ilm_policy: dict[str, Any]
    index_template: dict[str, Any]
    saved_objects_path: Path
    saved_objects: list[dict[str, Any]]
    connectors: list[Asset]
    rules: list[Asset]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing: check that the asset folders are mounted (ASSETS_DIR={path.parents[1]}).") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.") from None


def _read_object(path: Path, required: tuple[str, ...] = ()) -> dict[str, Any]:
    value = _read_json(path)
    if not isinstance(value, dict):
        raise ConfigError(f"{path} must hold a JSON object.")
    missing = [key for key in required if key not in value]
    if missing:
        raise ConfigError(f"{path} lacks {', '.join(missing)}.")
    return value


def _check_keys(path: Path, body: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ConfigError(f"{path}: {', '.join(unknown)} not allowed in {what} (allowed: {', '.join(sorted(allowed))}).")


def _id_and_body(path: Path) -> tuple[str, dict[str, Any]]:
    wrapper = _read_object(path, ("id", "body"))
    if not isinstance(wrapper["id"], str) or not wrapper["id"] or not isinstance(wrapper["body"], dict):
        raise ConfigError(f'{path} must be {{"id": "<non-empty string>", "body": {{...}}}}.')
    return wrapper["id"], wrapper["body"]


def flat_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Elasticsearch's view of index settings: dotted keys under `index.`, scalar values as strings."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{name}."))
            continue
        if not name.startswith("index."):
            name = f"index.{name}"
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = [str(item) for item in value]
        elif value is not None:
            value = str(value)
        flat[name] = value
    return flat


def _load_saved_objects(path: Path) -> list[dict[str, Any]]:
    if path.suffix != ".ndjson":
        raise ConfigError(f"{path}: Kibana imports only files whose name ends in .ndjson.")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing: check that the asset folders are mounted.") from None
    objects, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path} line {number} is not valid JSON: {error.msg}.") from None
        if isinstance(item, dict) and "exportedCount" in item:  # an export's summary line, not an object
            continue
        if not (isinstance(item, dict) and isinstance(item.get("type"), str) and isinstance(item.get("id"), str)):
            raise ConfigError(f"{path} line {number} is not a saved object with a string type and id.")
        key = (item["type"], item["id"])
        if key in seen:
            raise ConfigError(f"{path} line {number} repeats {key[0]}/{key[1]}.")
        seen.add(key)
        objects.append(item)
    if not objects:
        raise ConfigError(f"{path} holds no saved objects.")
    return objects


def load_assets(assets_dir: Path, retention_days: int) -> Assets:
    es_dir, kibana_dir = assets_dir / "elasticsearch", assets_dir / "kibana"
    for folder in (es_dir, kibana_dir):
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a folder: mount the assets there or set ASSETS_DIR.")

    roles = []
    for path in sorted((es_dir / "roles").glob("*.json")):
        body = _read_object(path)
        _check_keys(path, body, ROLE_KEYS, "a role")
        roles.append(Asset(path.stem, path, body))
    missing_roles = [name for name in REQUIRED_ROLES if name not in {role.name for role in roles}]
    if missing_roles:
        raise ConfigError(f"{es_dir / 'roles'} lacks {', '.join(name + '.json' for name in missing_roles)}.")

    policy_path = es_dir / "ilm-policy.json"
    policy = _read_object(policy_path, ("policy",))
    _check_keys(policy_path, policy, {"policy"}, "a lifecycle policy body")
    delete_phase = policy["policy"].get("phases", {}).get("delete") if isinstance(policy["policy"], dict) else None
    if not isinstance(delete_phase, dict):
        raise ConfigError(f"{policy_path} has no policy.phases.delete phase for LOG_RETENTION_DAYS to set.")
    delete_phase["min_age"] = f"{retention_days}d"

    template_path = es_dir / "index-template.json"
    template = _read_object(template_path, ("index_patterns",))
    settings = template.get("template", {}).get("settings", {})
    if flat_settings(settings).get("index.lifecycle.name") != POLICY_NAME:
        raise ConfigError(
            f"{template_path} must set index.lifecycle.name to {POLICY_NAME!r}, or LOG_RETENTION_DAYS never applies."
        )

    connectors = []
    for path in sorted((kibana_dir / "connectors").glob("*.json")):
        connector_id, body = _id_and_body(path)
        _check_keys(path, body, CONNECTOR_KEYS, "a connector body")
        if not isinstance(body.get("name"), str) or not isinstance(body.get("connector_type_id"), str):
            raise ConfigError(f"{path}: body needs string name and connector_type_id.")
        connectors.append(Asset(connector_id, path, body))

    rules = []
    for path in sorted((kibana_dir / "rules").glob("*.json")):
        rule_id, body = _id_and_body(path)
        _check_keys(path, body, RULE_CREATE_KEYS, "a rule body")
        missing = [key for key in ("name", "rule_type_id", "consumer", "schedule", "params") if key not in body]
        if missing:
            raise ConfigError(f"{path}: body lacks {', '.join(missing)}.")
        rules.append(Asset(rule_id, path, body))

    saved_objects_path = kibana_dir / "saved_objects.ndjson"
    return Assets(
        roles=roles,
        ilm_policy=policy,
        index_template=template,
        saved_objects_path=saved_objects_path,
        saved_objects=_load_saved_objects(saved_objects_path),
        connectors=connectors,
        rules=rules,
    )


# -- comparison ---------------------------------------------------------------------------------


def covers(current: Any, desired: Any) -> bool:
    """True when `current` (what the server returns) already holds everything in `desired`.

    Servers add defaults, so extra keys in `current` are fine; lists must match item by item.
    A desired null is also met by an absent key.
    """
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(
            covers(current[key], value) if key in current else value is None for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(current) == len(desired)
            and all(covers(have, want) for have, want in zip(current, desired, strict=True))
        )
    if isinstance(desired, bool) or isinstance(current, bool):
        return type(current) is type(desired) and current == desired
    return current == desired


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def with_fingerprint(body: dict[str, Any], meta_key: str) -> dict[str, Any]:
    marked = json.loads(json.dumps(body))
    marked[meta_key] = {**marked.get(meta_key, {}), FINGERPRINT_KEY: fingerprint(body)}
    return marked


# -- Elasticsearch ------------------------------------------------------------------------------


def _es_error_text(error: elasticsearch.ApiError) -> str:
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = body["error"]
        return f"HTTP {error.meta.status} {detail.get('type', 'error')}: {detail.get('reason', '')}".rstrip(": ")
    return f"HTTP {error.meta.status}: {str(body)[:500]}"


def poll_until_ready(
    name: str, settings: Settings, attempt: Callable[[float], str | None], give_up: Callable[[str], str]
) -> None:
    """Call ``attempt(request_timeout)`` until it returns None or SETUP_TIMEOUT_SECONDS pass.

    ``attempt`` returns why the service is not ready yet; each new reason is said once.
    """
    deadline = time.monotonic() + settings.timeout_seconds
    last = "no answer yet"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProvisionError(give_up(last))
        reason = attempt(min(settings.request_timeout_seconds, remaining))
        if reason is None:
            return
        if reason != last:
            say(f"waiting for {name}: {reason}")
            last = reason
        time.sleep(max(0.0, min(settings.retry_interval_seconds, deadline - time.monotonic())))


class ElasticsearchSteps:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.elasticsearch_url
        self.client = self._client("elastic", settings.elastic_password)

    def _client(self, username: str, password: str) -> Elasticsearch:
        return Elasticsearch(
            self.url,
            basic_auth=(username, password),
            request_timeout=self.settings.request_timeout_seconds,
            max_retries=0,
            retry_on_timeout=False,
        )

    def call(self, what: str, hint: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        """Run one API call; turn every failure into a message naming the call and the fix."""
        try:
            return function(**kwargs)
        except elasticsearch.UnsupportedProductError:
            raise ConfigError(not_elasticsearch(self.url)) from None
        except elasticsearch.AuthenticationException:
            raise ConfigError(wrong_elastic_password(self.url)) from None
        except elasticsearch.ApiError as error:
            raise ProvisionError(f"{what} failed: {_es_error_text(error)}. {hint}".rstrip()) from None
        except elasticsearch.ConnectionTimeout:
            raise ProvisionError(
                f"{what} got no answer within {self.settings.request_timeout_seconds:g} s from {self.url}. "
                "Check `docker compose logs elasticsearch`; raise SETUP_REQUEST_TIMEOUT_SECONDS if it is only slow."
            ) from None
        except elasticsearch.TransportError as error:
            raise ProvisionError(
                f"{what} could not reach {self.url}: {error.message}. Check that Elasticsearch is running."
            ) from None

    def wait_until_ready(self) -> None:
        """GET _cluster/health?wait_for_status=yellow until it answers 200 or the time is up."""
        poll_until_ready(
            "elasticsearch",
            self.settings,
            self._health_attempt,
            lambda last: (
                f"Elasticsearch at {self.url} was not ready (cluster status yellow or green) within "
                f"{self.settings.timeout_seconds:g} s (SETUP_TIMEOUT_SECONDS); last answer: {last}. "
                "Check `docker compose logs elasticsearch`."
            ),
        )

    def _health_attempt(self, request_timeout: float) -> str | None:
        """None once the cluster is yellow or green, else why not."""
        # The server waits a little less than we do, so it answers 408 before our timeout fires.
        server_wait_ms = max(100, int(min(request_timeout - 0.5, 10) * 1000))
        try:
            response = self.client.options(request_timeout=request_timeout, ignore_status=408).cluster.health(
                wait_for_status="yellow", timeout=f"{server_wait_ms}ms"
            )
        except elasticsearch.UnsupportedProductError:
            raise ConfigError(not_elasticsearch(self.url)) from None
        except elasticsearch.AuthenticationException:
            raise ConfigError(wrong_elastic_password(self.url)) from None
        except elasticsearch.ApiError as error:
            # The client checks the product header on 2xx answers only.
            if error.meta.headers.get("x-elastic-product") != "Elasticsearch":
                raise ConfigError(not_elasticsearch(self.url)) from None
            if error.meta.status < 500:
                raise ProvisionError(f"GET _cluster/health failed: {_es_error_text(error)}.") from None
            return _es_error_text(error)
        except elasticsearch.ConnectionTimeout:
            return f"no response within {request_timeout:.3g} s"
        except elasticsearch.TransportError as error:
            return f"cannot connect ({error.message})"
        status = response.body.get("status") if isinstance(response.body, dict) else None
        if response.meta.status == 200:
            report("elasticsearch", f"ready (cluster status {status})")
            return None
        return f"HTTP {response.meta.status}, cluster status {status}"

    def authenticates(self, username: str, password: str) -> bool:
        """Whether `username` can log in with `password` (a read-only check: _authenticate)."""
        client = self._client(username, password)
        try:
            response = self.call(
                f"GET _security/_authenticate as {username}", "", client.options(ignore_status=401).security.authenticate
            )
        finally:
            client.close()
        return response.meta.status == 200 and response.body.get("username") == username

    def sync_kibana_system_password(self) -> None:
        password = self.settings.passwords["KIBANA_SYSTEM_PASSWORD"]
        if self.authenticates("kibana_system", password):
            report("kibana_system password", "unchanged")
            return
        self.call(
            "PUT _security/user/kibana_system/_password", "Check that the user kibana_system exists.",
            self.client.security.change_password, username="kibana_system", password=password,
        )
        report("kibana_system password", "updated")

    def sync_role(self, role: Asset) -> None:
        desired = with_fingerprint(role.body, "metadata")
        response = self.call(
            f"GET _security/role/{role.name}", "", self.client.options(ignore_status=404).security.get_role, name=role.name
        )
        current = response.body.get(role.name) if response.meta.status == 200 else None
        if current is not None and covers(current, desired):
            report(f"role {role.name}", "unchanged")
            return
        self.call(
            f"PUT _security/role/{role.name}", f"Fix {role.path}.", self.client.security.put_role, name=role.name, body=desired
        )
        report(f"role {role.name}", "created" if current is None else "updated")

    def sync_writer_user(self) -> None:
        password = self.settings.passwords["LOGSTASH_WRITER_PASSWORD"]
        response = self.call(
            f"GET _security/user/{WRITER_USER}", "", self.client.options(ignore_status=404).security.get_user, username=WRITER_USER
        )
        current = response.body.get(WRITER_USER) if response.meta.status == 200 else None
        wanted = {"roles": [WRITER_ROLE], "full_name": WRITER_FULL_NAME, "enabled": True}
        if current is not None and covers(current, wanted) and self.authenticates(WRITER_USER, password):
            report(f"user {WRITER_USER}", "unchanged")
            return
        self.call(
            f"PUT _security/user/{WRITER_USER}", "", self.client.security.put_user,
            username=WRITER_USER, password=password, **wanted,
        )
        report(f"user {WRITER_USER}", "created" if current is None else "updated")

    def sync_ilm_policy(self, body: dict[str, Any], source: Path) -> None:
        desired = {"policy": with_fingerprint(body["policy"], "_meta")}
        response = self.call(
            f"GET _ilm/policy/{POLICY_NAME}", "", self.client.options(ignore_status=404).ilm.get_lifecycle, name=POLICY_NAME
        )
        current = response.body.get(POLICY_NAME, {}).get("policy") if response.meta.status == 200 else None
        if current is not None and covers(current, desired["policy"]):
            report(f"ilm policy {POLICY_NAME}", "unchanged")
            return
        self.call(
            f"PUT _ilm/policy/{POLICY_NAME}", f"Fix {source}.", self.client.ilm.put_lifecycle, name=POLICY_NAME, body=desired
        )
        report(f"ilm policy {POLICY_NAME}", "created" if current is None else "updated")

    def sync_index_template(self, body: dict[str, Any], source: Path) -> None:
        desired = with_fingerprint(body, "_meta")
        response = self.call(
            f"GET _index_template/{TEMPLATE_NAME}", "",
            self.client.options(ignore_status=404).indices.get_index_template, name=TEMPLATE_NAME,
        )
        templates = response.body.get("index_templates", []) if response.meta.status == 200 else []
        current = templates[0]["index_template"] if templates else None
        if current is not None and covers(_comparable_template(current), _comparable_template(desired)):
            report(f"index template {TEMPLATE_NAME}", "unchanged")
            return
        self.call(
            f"PUT _index_template/{TEMPLATE_NAME}", f"Fix {source}.",
            self.client.indices.put_index_template, name=TEMPLATE_NAME, body=desired,
        )
        report(f"index template {TEMPLATE_NAME}", "created" if current is None else "updated")

    def import_record(self) -> dict[str, Any]:
        """What put_import_record last stored, or {} when nothing was."""
        response = self.call(
            f"GET _component_template/{IMPORT_RECORD}", "",
            self.client.options(ignore_status=404).cluster.get_component_template, name=IMPORT_RECORD,
        )
        templates = response.body.get("component_templates", []) if response.meta.status == 200 else []
        return templates[0]["component_template"].get("_meta", {}) if templates else {}

    def put_import_record(self, record: dict[str, str]) -> None:
        meta = {"description": "Written by the setup service: what it last imported into Kibana.", **record}
        self.call(
            f"PUT _component_template/{IMPORT_RECORD}", "",
            self.client.cluster.put_component_template, name=IMPORT_RECORD, template={}, meta=meta,
        )

    def close(self) -> None:
        self.client.close()


def _comparable_template(template: dict[str, Any]) -> dict[str, Any]:
    """Settings in the one form Elasticsearch returns them (dotted, strings), so both sides compare."""
    comparable = json.loads(json.dumps(template))
    inner = comparable.get("template")
    if isinstance(inner, dict) and "settings" in inner:
        inner["settings"] = flat_settings(inner["settings"])
    return comparable


def not_elasticsearch(url: str) -> str:
    return (
        f"ELASTICSEARCH_URL={url} answered without the X-Elastic-Product: Elasticsearch header, so it is not "
        "Elasticsearch: point ELASTICSEARCH_URL at the elasticsearch service (http://elasticsearch:9200)."
    )


def wrong_elastic_password(url: str) -> str:
    return (
        f"ELASTIC_PASSWORD is wrong: {url} answered 401 for user elastic. Elasticsearch keeps the password it "
        "was first started with (in the elasticsearch-data volume): put that one in .env, or reset it with "
        "bin/elasticsearch-reset-password inside the elasticsearch container."
    )


# -- Kibana -------------------------------------------------------------------------------------


# The core services whose status decides readiness (status.core in GET /api/status).
CORE_SERVICES = ("elasticsearch", "savedObjects")


class KibanaUnreachable(Exception):
    pass


class Kibana:
    """A small JSON client for Kibana's HTTP API (basic auth as elastic, kbn-xsrf on every call)."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.kibana_url
        self.request_timeout = settings.request_timeout_seconds
        token = base64.b64encode(f"elastic:{settings.elastic_password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "kbn-xsrf": "setup", "Accept": "application/json"}
        # Talk to Kibana directly even if the environment names an HTTP proxy.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        headers = dict(self.headers)
        if json_body is not None:
            data, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=timeout or self.request_timeout) as response:
                status, raw, ctype = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, raw, ctype = error.code, error.read(), error.headers.get("Content-Type", "")
        except TimeoutError:
            raise KibanaUnreachable(f"no response within {timeout or self.request_timeout:.3g} s") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise KibanaUnreachable(f"no response within {timeout or self.request_timeout:.3g} s") from None
            raise KibanaUnreachable(f"cannot connect ({reason})") from None
        if status == 401:
            raise ConfigError(
                f"ELASTIC_PASSWORD was refused by Kibana at {self.url} ({method} {path} answered 401). "
                "Kibana checks it against Elasticsearch: fix ELASTIC_PASSWORD in .env."
            )
        text = raw.decode("utf-8", errors="replace")
        if ctype.split(";")[0].strip().lower() == "application/json":
            try:
                return status, json.loads(text)
            except json.JSONDecodeError:
                pass
        return status, text

    def call(self, method: str, path: str, hint: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> tuple[int, Any]:
        """One call whose failure stops the setup with a message naming it and the fix."""
        try:
            status, body = self.request(method, path, **kwargs)
        except KibanaUnreachable as error:
            raise ProvisionError(f"{method} {path} on {self.url} failed: {error}. Check `docker compose logs kibana`.") from None
        if status not in ok:
            detail = body.get("message", body) if isinstance(body, dict) else body
            raise ProvisionError(f"{method} {path} failed: HTTP {status}: {str(detail)[:1000]}. {hint}".rstrip())
        return status, body


class KibanaSteps:
    def __init__(self, settings: Settings, es: ElasticsearchSteps) -> None:
        self.settings = settings
        self.kibana = Kibana(settings)
        self.es = es  # keeps the record of the last saved-objects import

    def wait_until_available(self) -> None:
        """GET /api/status until Kibana's core services (Elasticsearch, saved objects) are available.

        Like the compose healthcheck, this ignores plugins: Kibana answers 200 with overall level
        "degraded" when only a plugin is degraded, and still serves every API setup calls
        (src/core/packages/status/server-internal/src/routes/status.ts: 503 only when core is
        unavailable; status.overall also sums up every plugin).
        """
        poll_until_ready(
            "kibana",
            self.settings,
            self._status_attempt,
            lambda last: (
                f"Kibana at {self.kibana.url} was not available within {self.settings.timeout_seconds:g} s "
                f"(SETUP_TIMEOUT_SECONDS); last answer: {last}. Check `docker compose logs kibana` "
                "(a wrong KIBANA_SYSTEM_PASSWORD or a missing encryption key keep it from starting)."
            ),
        )

    def _status_attempt(self, request_timeout: float) -> str | None:
        """None once Kibana's core services are available, else why not."""
        try:
            status, body = self.kibana.request("GET", "/api/status", timeout=request_timeout)
        except KibanaUnreachable as error:
            return str(error)
        info = body.get("status", {}) if isinstance(body, dict) else {}
        overall = info.get("overall", {}) if isinstance(info, dict) else {}
        core = info.get("core") if isinstance(info, dict) else None
        if isinstance(core, dict):
            levels = {name: (core.get(name) or {}).get("level") for name in CORE_SERVICES}
            if status == 200 and all(level == "available" for level in levels.values()):
                detail = "" if overall.get("level") == "available" else f" (overall level {overall.get('level')}: {overall.get('summary')})"
                report("kibana", f"available{detail}")
                return None
            reason = f"HTTP {status}, core " + ", ".join(f"{name} {level or 'unknown'}" for name, level in levels.items())
        else:
            # The redacted answer has only the core level. Preboot gives it with 503 whatever the
            # credentials; past preboot /api/status (authRequired 'optional', hapi mode 'try' in
            # http_server.ts) gives it to every unauthenticated request, wrong credentials included.
            # So a redacted 200 means Kibana refused ours: an API that requires authentication (the
            # features plugin's GET /api/features) then answers 401, and request() raises ConfigError.
            reason = f"HTTP {status}, overall level {overall.get('level') or 'unknown'}"
            if status == 200:
                try:
                    check, _ = self.kibana.request("GET", "/api/features", timeout=request_timeout)
                except KibanaUnreachable as error:
                    check = str(error)
                reason += f", redacted though authenticated (GET /api/features: {check})"
        # Before its status service is up Kibana answers {"message": "Kibana server is not ready yet"}.
        detail = overall.get("summary") or (body.get("message") if isinstance(body, dict) else str(body).strip())
        if detail:
            reason += f" ({str(detail)[:200]})"
        return reason

    def _stored_objects(self, objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]] | None:
        """The listed objects as Kibana holds them, or None when at least one does not exist yet."""
        wanted = [{"type": item["type"], "id": item["id"]} for item in objects]
        status, body = self.kibana.call(
            "POST", "/api/saved_objects/_export", "", ok=(200, 400),
            json_body={"objects": wanted, "includeReferencesDeep": False, "excludeExportDetails": True},
        )
        if status == 400:  # "Error fetching objects to export": some are missing (or of a type the import will name)
            return None
        stored = {}
        for line in str(body).splitlines():
            if line.strip():
                item = json.loads(line)
                stored[(item["type"], item["id"])] = item
        return stored

    def sync_saved_objects(self, path: Path, objects: list[dict[str, Any]]) -> None:
        """Import the file unless Kibana still holds exactly what the last import of it left.

        Kibana migrates objects on import (a saved search is rewritten into `tabs`, with a random tab
        id), so what it stores never equals the file and cannot be predicted from it. After an import
        setup therefore records two fingerprints: the file's and the export of what Kibana stored.
        A rerun is "unchanged" when both still match: neither the file nor the objects in Kibana
        changed since. An edit in Kibana, a changed file or a Kibana upgrade that migrates the stored
        objects each cause one new import, after which the record matches again.
        """
        step = f"saved objects ({len(objects)} from {path.name})"
        stored = self._stored_objects(objects)
        wanted = {"file_fingerprint": fingerprint(objects)}
        record = self.es.import_record()
        if stored is not None and all(
            record.get(key) == value for key, value in {**wanted, "kibana_fingerprint": _stored_fingerprint(stored)}.items()
        ):
            report(step, "unchanged")
            return
        boundary = f"setup-{uuid.uuid4().hex}"
        payload = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: application/ndjson\r\n\r\n"
        ).encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        _, result = self.kibana.call(
            "POST", "/api/saved_objects/_import?overwrite=true", f"Check {path}.",
            data=payload, content_type=f"multipart/form-data; boundary={boundary}",
        )
        if not isinstance(result, dict):
            raise ProvisionError(f"POST /api/saved_objects/_import answered something that is not JSON: {str(result)[:500]}")
        errors = result.get("errors") or []
        success_count = result.get("successCount")
        if result.get("success") is not True or errors or success_count != len(objects):
            lines = [
                f"Kibana did not import all saved objects from {path}: success={result.get('success')}, "
                f"successCount={success_count} of {len(objects)}. Failed objects:"
            ]
            lines += [f"  - {_describe_import_error(error)}" for error in errors] or ["  (none listed)"]
            lines.append("Fix these objects in the file (for missing_references, add the referenced objects) and run setup again.")
            raise ProvisionError("\n".join(lines))
        imported = self._stored_objects(objects)
        if imported is None:
            raise ProvisionError(f"Kibana reported importing {path} but cannot export all of its objects.")
        self.es.put_import_record({**wanted, "kibana_fingerprint": _stored_fingerprint(imported)})
        report(step, "created" if stored is None and not _any_existed(result) else "updated")

    def _create_if_missing(self, step: str, path: str, asset: Asset) -> Any:
        """The object Kibana holds at ``path``; when there is none, POST the asset's body and return None."""
        status, current = self.kibana.call("GET", path, "", ok=(200, 404))
        if status != 404:
            return current
        self.kibana.call("POST", path, f"Fix {asset.path}.", json_body=asset.body)
        report(step, "created")
        return None

    def sync_connector(self, connector: Asset) -> None:
        step = f"connector {connector.name} ({connector.body['name']})"
        path = f"/api/actions/connector/{urllib.parse.quote(connector.name, safe='')}"
        current = self._create_if_missing(step, path, connector)
        if current is None:
            return
        body = connector.body
        if current.get("connector_type_id") != body["connector_type_id"]:
            raise ProvisionError(
                f"{step} exists with type {current.get('connector_type_id')} but {connector.path} asks for "
                f"{body['connector_type_id']}; the type cannot be changed: delete the connector in Kibana and run setup again."
            )
        secrets = body.get("secrets") or {}
        if current.get("name") == body["name"] and covers(current.get("config", {}), body.get("config", {})) and not secrets:
            report(step, "unchanged")
            return
        update = {"name": body["name"], "config": body.get("config", {}), **({"secrets": secrets} if secrets else {})}
        self.kibana.call("PUT", path, f"Fix {connector.path}.", json_body=update)
        # Kibana never returns secrets, so a connector that has them is re-sent on every run.
        report(step, "updated")

    def sync_rule(self, rule: Asset) -> None:
        step = f"rule {rule.name} ({rule.body['name']})"
        path = f"/api/alerting/rule/{urllib.parse.quote(rule.name, safe='')}"
        current = self._create_if_missing(step, path, rule)
        if current is None:
            return
        body = rule.body
        for fixed in ("rule_type_id", "consumer"):
            if current.get(fixed) != body[fixed]:
                raise ProvisionError(
                    f"{step} exists with {fixed} {current.get(fixed)!r} but {rule.path} asks for {body[fixed]!r}; "
                    f"{fixed} cannot be changed by an update: delete the rule in Kibana and run setup again."
                )
        update = {key: body[key] for key in RULE_UPDATE_KEYS if key in body}
        if covers(current, update):
            report(step, "unchanged")
            return
        self.kibana.call("PUT", path, f"Fix {rule.path}.", json_body=update)
        report(step, "updated")


def _stored_fingerprint(stored: dict[tuple[str, str], dict[str, Any]]) -> str:
    """The content of the exported objects: not updated_at or version, which change on every write."""
    return fingerprint(sorted(
        [item["type"], item["id"], item.get("attributes"), item.get("references"), item.get("typeMigrationVersion")]
        for item in stored.values()
    ))


def _any_existed(result: dict[str, Any]) -> bool:
    return any(entry.get("overwrite") for entry in result.get("successResults", []))


def _describe_import_error(error: dict[str, Any]) -> str:
    detail = error.get("error", {})
    text = f"{error.get('type')}/{error.get('id')}"
    title = error.get("title") or error.get("meta", {}).get("title")
    if title:
        text += f" ({title!r})"
    text += f": {detail.get('type', 'unknown')}"
    if detail.get("references"):
        text += " to " + ", ".join(f"{ref.get('type')}/{ref.get('id')}" for ref in detail["references"])
    if detail.get("message"):
        text += f" ({detail['message']})"
    return text


# -- main ---------------------------------------------------------------------------------------


def provision(settings: Settings, assets: Assets) -> None:
    es = ElasticsearchSteps(settings)
    try:
        es.wait_until_ready()
        es.sync_kibana_system_password()
        for role in assets.roles:
            es.sync_role(role)
        es.sync_writer_user()
        es.sync_ilm_policy(assets.ilm_policy, settings.assets_dir / "elasticsearch" / "ilm-policy.json")
        es.sync_index_template(assets.index_template, settings.assets_dir / "elasticsearch" / "index-template.json")
        kibana = KibanaSteps(settings, es)
        kibana.wait_until_available()
        kibana.sync_saved_objects(assets.saved_objects_path, assets.saved_objects)
        for connector in assets.connectors:
            kibana.sync_connector(connector)
        for rule in assets.rules:
            kibana.sync_rule(rule)
    finally:
        es.close()


def main(environ: Mapping[str, str]) -> int:
    # The transport logs each failed attempt; the wait loops already say what is going on.
    logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)
    try:
        settings = load_settings(environ)
        # Only validated passwords are redacted: a refused one like "password" must not mangle the error text.
        _secrets[:] = sorted(set(settings.passwords.values()), key=len, reverse=True)
        assets = load_assets(settings.assets_dir, settings.retention_days)
        provision(settings, assets)
    except ConfigError as error:
        complain(f"setup: configuration error:\n{error}")
        return EXIT_CONFIG
    except ProvisionError as error:
        complain(f"setup: failed:\n{error}")
        return EXIT_FAILED
    say("setup: done")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(os.environ))
