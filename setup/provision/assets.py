"""The assets setup creates, declared by files and checked before any call.

Each kind has its folder under ASSETS_DIR, and a file is named after what it creates:
  elasticsearch/roles/<role>.json                  the body of PUT _security/role/<role>
  elasticsearch/ilm_policies/<policy>.json         the body of PUT _ilm/policy/<policy>
  elasticsearch/ingest_pipelines/<id>.json         the body of PUT _ingest/pipeline/<id>
  elasticsearch/index_templates/<template>.json    the body of PUT _index_template/<template>
  kibana/saved_objects/*.ndjson                    imported by POST /api/saved_objects/_import
  kibana/advanced_settings/*.json                  values setup adds to a list advanced setting (advanced_settings.py)
  kibana/connectors/*.json, kibana/rules/*.json    {"id": ..., "body": ...}: Kibana takes the id in the URL
Adding one means adding a file. LOG_RETENTION_DAYS sets every policy's delete phase and INDEX_REPLICAS
every template's index.number_of_replicas, so the files hold neither's final value. A rule's "${NAME}"
placeholders take the detection settings' values (provision/placeholders.py), so what setup compares
and sends is always the substituted body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provision.advanced_settings import AdvancedSetting, load_advanced_settings
from provision.comparison import flat_settings
from provision.errors import ConfigError
from provision.placeholders import substitute

# The roles setup's native users get (elasticsearch_steps.py); any other role file is created as it is.
REQUIRED_ROLES = ("logstash_writer", "django_alerting")
ROLE_KEYS = {
    "applications", "cluster", "description", "global", "indices", "metadata", "remote_cluster",
    "remote_indices", "run_as", "transient_metadata",
}
CONNECTOR_KEYS = {"name", "connector_type_id", "config", "secrets"}
RULE_CREATE_KEYS = {
    "name", "rule_type_id", "enabled", "consumer", "tags", "throttle", "params", "schedule", "actions",
    "notify_when", "alert_delay", "flapping", "dashboards", "artifacts",
}
RULE_REQUIRED_KEYS = ("name", "rule_type_id", "consumer", "schedule", "params")
# PUT _ingest/pipeline/<id> (the pinned client's ingest.put_pipeline, generated from the REST specification).
PIPELINE_KEYS = {"_meta", "deprecated", "description", "field_access_pattern", "on_failure", "processors", "version"}
# The index settings that name an ingest pipeline, and the value that names none (IngestService.NOOP_PIPELINE_NAME).
PIPELINE_SETTINGS = ("index.default_pipeline", "index.final_pipeline")
NO_PIPELINE = "_none"


@dataclass(frozen=True)
class Asset:
    name: str  # role, policy or template name (the file's), connector id or rule id
    path: Path
    body: dict[str, Any]


@dataclass(frozen=True)
class SavedObjects:
    paths: list[Path]
    objects: list[dict[str, Any]]


@dataclass(frozen=True)
class Assets:
    roles: list[Asset]
    ilm_policies: list[Asset]
    ingest_pipelines: list[Asset]
    index_templates: list[Asset]
    saved_objects: SavedObjects
    advanced_settings: list[AdvancedSetting]
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


def _files(folder: Path, suffix: str = ".json") -> list[Path]:
    return sorted(path for path in folder.glob(f"*{suffix}") if path.is_file())


def _named_bodies(folder: Path, required: tuple[str, ...] = ()) -> list[Asset]:
    """One asset per <name>.json, named after its file."""
    return [Asset(path.stem, path, _read_object(path, required)) for path in _files(folder)]


def _id_and_body(path: Path) -> Asset:
    wrapper = _read_object(path, ("id", "body"))
    if not isinstance(wrapper["id"], str) or not wrapper["id"] or not isinstance(wrapper["body"], dict):
        raise ConfigError(f'{path} must be {{"id": "<non-empty string>", "body": {{...}}}}.')
    return Asset(wrapper["id"], path, wrapper["body"])


def _load_roles(folder: Path) -> list[Asset]:
    roles = _named_bodies(folder)
    for role in roles:
        _check_keys(role.path, role.body, ROLE_KEYS, "a role")
    missing = [name for name in REQUIRED_ROLES if name not in {role.name for role in roles}]
    if missing:
        raise ConfigError(f"{folder} lacks {', '.join(name + '.json' for name in missing)}.")
    return roles


def _set_replicas(settings: dict[str, Any], replicas: int) -> None:
    """index.number_of_replicas, in whichever of Elasticsearch's spellings the file gave it."""
    settings.pop("number_of_replicas", None)
    if isinstance(settings.get("index"), dict):
        settings["index"].pop("number_of_replicas", None)
    settings["index.number_of_replicas"] = replicas


def _load_lifecycle(es_dir: Path, retention_days: int, replicas: int) -> tuple[list[Asset], list[Asset]]:
    """The ILM policies and the index templates; each template names one of the policies, whose
    delete phase LOG_RETENTION_DAYS sets (as it sets every policy's delete phase). INDEX_REPLICAS sets
    every template's replicas: setup creates no index itself (django-alerts is a data stream, whose
    backing indices the template makes), so the templates decide every index's replicas."""
    policies_dir, templates_dir = es_dir / "ilm_policies", es_dir / "index_templates"
    policies = {policy.name: policy for policy in _named_bodies(policies_dir, ("policy",))}
    for policy in policies.values():
        _check_keys(policy.path, policy.body, {"policy"}, "a lifecycle policy body")
    templates = _named_bodies(templates_dir, ("index_patterns",))
    if not templates:
        raise ConfigError(f"{templates_dir} holds no index template (<name>.json).")
    named = set()
    for template in templates:
        settings = template.body.get("template", {}).get("settings", {})
        name = flat_settings(settings).get("index.lifecycle.name")
        if name is None or not isinstance(name, str):
            wanted = " or ".join(repr(known) for known in policies) or f"a policy in {policies_dir}"
            raise ConfigError(f"{template.path} must set index.lifecycle.name to {wanted}, or LOG_RETENTION_DAYS never applies.")
        if name not in policies:
            raise ConfigError(f"{template.path} sets index.lifecycle.name to {name!r}, but {policies_dir / (name + '.json')} is missing.")
        named.add(name)
        _set_replicas(settings, replicas)
    for policy in policies.values():
        phases = policy.body["policy"].get("phases", {}) if isinstance(policy.body["policy"], dict) else {}
        delete_phase = phases.get("delete") if isinstance(phases, dict) else None
        if isinstance(delete_phase, dict):
            delete_phase["min_age"] = f"{retention_days}d"
        elif policy.name in named:
            raise ConfigError(f"{policy.path} has no policy.phases.delete phase for LOG_RETENTION_DAYS to set.")
    return list(policies.values()), templates


def _load_pipelines(es_dir: Path, templates: list[Asset]) -> list[Asset]:
    """The ingest pipelines; every pipeline a template names must have its file, or indexing would fail."""
    folder = es_dir / "ingest_pipelines"
    pipelines = _named_bodies(folder, ("processors",))
    for pipeline in pipelines:
        _check_keys(pipeline.path, pipeline.body, PIPELINE_KEYS, "an ingest pipeline")
        if not isinstance(pipeline.body["processors"], list) or not pipeline.body["processors"]:
            raise ConfigError(f"{pipeline.path}: processors must be a non-empty list.")
    names = {pipeline.name for pipeline in pipelines}
    for template in templates:
        settings = flat_settings(template.body.get("template", {}).get("settings", {}))
        for setting in PIPELINE_SETTINGS:
            name = settings.get(setting)
            if name is not None and name != NO_PIPELINE and (not isinstance(name, str) or name not in names):
                raise ConfigError(f"{template.path} sets {setting} to {name!r}, but {folder / f'{name}.json'} is missing.")
    return pipelines


def _load_saved_objects(folder: Path) -> SavedObjects:
    paths = sorted(path for path in folder.glob("*") if path.is_file() and not path.name.startswith("."))
    if not paths:
        raise ConfigError(f"{folder} holds no .ndjson file: check that the asset folders are mounted.")
    objects, seen = [], set()
    for path in paths:
        if path.suffix != ".ndjson":
            raise ConfigError(f"{path}: Kibana imports only files whose name ends in .ndjson.")
        count = len(objects)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
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
        if len(objects) == count:
            raise ConfigError(f"{path} holds no saved objects.")
    return SavedObjects(paths, objects)


def _load_connectors(folder: Path) -> list[Asset]:
    connectors = [_id_and_body(path) for path in _files(folder)]
    for connector in connectors:
        _check_keys(connector.path, connector.body, CONNECTOR_KEYS, "a connector body")
        if not isinstance(connector.body.get("name"), str) or not isinstance(connector.body.get("connector_type_id"), str):
            raise ConfigError(f"{connector.path}: body needs string name and connector_type_id.")
    return connectors


def _load_rules(folder: Path, detections: Mapping[str, int]) -> list[Asset]:
    written = [_id_and_body(path) for path in _files(folder)]
    rules = [Asset(rule.name, rule.path, substitute(rule.body, detections, rule.path)) for rule in written]
    for rule in rules:
        _check_keys(rule.path, rule.body, RULE_CREATE_KEYS, "a rule body")
        missing = [key for key in RULE_REQUIRED_KEYS if key not in rule.body]
        if missing:
            raise ConfigError(f"{rule.path}: body lacks {', '.join(missing)}.")
    return rules


def load_assets(assets_dir: Path, retention_days: int, detections: Mapping[str, int], *, index_replicas: int) -> Assets:
    es_dir, kibana_dir = assets_dir / "elasticsearch", assets_dir / "kibana"
    for folder in (es_dir, kibana_dir):
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a folder: mount the assets there or set ASSETS_DIR.")
    roles = _load_roles(es_dir / "roles")
    policies, templates = _load_lifecycle(es_dir, retention_days, index_replicas)
    return Assets(
        roles=roles,
        ilm_policies=policies,
        ingest_pipelines=_load_pipelines(es_dir, templates),
        index_templates=templates,
        saved_objects=_load_saved_objects(kibana_dir / "saved_objects"),
        advanced_settings=load_advanced_settings(kibana_dir / "advanced_settings"),
        connectors=_load_connectors(kibana_dir / "connectors"),
        rules=_load_rules(kibana_dir / "rules", detections),
    )
