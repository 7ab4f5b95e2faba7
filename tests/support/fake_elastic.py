"""A fake Elasticsearch 9 and Kibana 9 on loopback, for the setup one-shot's offline tests.

Two real threaded HTTP servers (each optionally over real TLS) share one state (users, roles, ILM policies, index templates, indices,
saved objects, connectors, rules) and one log of every request. They answer the calls the setup
makes in the shapes Elastic documents, and refuse wrong shapes with the status and message the
real API gives. Sources the shapes were taken from (elastic/kibana, elastic/elasticsearch):
  - Kibana saved objects import/export: src/core/packages/saved-objects/server-internal/src/routes/
    import.ts (multipart field `file`, `.ndjson` extension, HTTP 200 with success/successCount/
    errors[]) and export.ts (400 "Error fetching objects to export" for missing objects); the
    import pipeline, migration and validation are cited where the fake follows them below.
  - Kibana status: src/core/packages/status/server-internal/src/routes/status.ts and
    status_preboot.ts, cited at _status.
  - Kibana connectors: x-pack/platform/plugins/shared/actions/common/routes/connector/apis/
    {create,update}/schemas/v1.ts (update takes only name, config, secrets; secrets never returned).
  - Kibana rules: x-pack/platform/plugins/shared/alerting/common/routes/rule/apis/{create,update}/
    schemas/v1.ts (update has no rule_type_id, consumer or enabled). A rule call is authorized by the
    caller's roles (tests/support/kibana_privileges.py), and the caller becomes the rule's API key owner.
  - The `.es-query` params defaults (aggType, groupBy, excludeHitsFromPreviousRun) and the `.index`
    connector config defaults (refresh, executionTimeField) that Kibana fills in on create.
  - Kibana advanced settings (GET/POST /api/kibana/settings): tests/support/fake_kibana_settings.py.
    Every non-GET Kibana call needs kbn-xsrf: src/core/packages/http/server-internal/src/
    lifecycle_handlers.ts createXsrfPostAuthHandler (400 "Request must contain a kbn-xsrf header.").
  - Elasticsearch ingest pipelines: PUT _ingest/pipeline/<id> answers {"acknowledged": true} and refuses
    what stack_models/es_ingest.py says Elasticsearch refuses (400 parse_exception); GET answers
    {<id>: <the body as put>} or 404 with {} (server/.../action/ingest/GetPipelineResponse.java: the
    configs as maps, NOT_FOUND when none is found).
  - Elasticsearch indices (created from the templates; GET/PUT <index>/_mapping and _settings):
    tests/support/fake_indices.py.
  - Elasticsearch: GET _cluster/health answers 408 when wait_for_status is not reached; every
    response carries `X-Elastic-Product: Elasticsearch`; index template settings come back nested
    with string values; ILM phases come back with `min_age` and the delete action with its default.
"""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import itertools
import json
import re
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from stack_models.es_ingest import NotModelled, pipeline_problem
from tests.support.elastic_api import (
    CONNECTOR_CREATE_KEYS,
    CONNECTOR_UPDATE_KEYS,
    INDEX_CONNECTOR_CONFIG_DEFAULTS,
    INDEX_CONNECTOR_CONFIG_REQUIRED,
    INDEX_TEMPLATE_KEYS,
    NOTIFY_WHEN,
    ROLE_KEYS,
    RULE_ACTION_KEYS,
    RULE_CREATE_KEYS,
    RULE_UPDATE_KEYS,
    flat_settings,
)
from tests.support.env_file import ELASTIC_VERSION
from tests.support.fake_indices import Indices, Refusal
from tests.support.fake_kibana_settings import UiSettings
from tests.support.kibana_privileges import held_privileges, rule_refusal

HANG_LIMIT_SECONDS = 60
SUPPORTED_COMPAT_VERSIONS = {"8", "9"}
USER_KEYS = {"email", "enabled", "full_name", "metadata", "password", "password_hash", "roles"}
ILM_PHASES = {"hot", "warm", "cold", "frozen", "delete"}
TIME_VALUE = re.compile(r"^\d+(?:nanos|micros|ms|s|m|h|d)$")
SAVED_OBJECT_TYPES = {"config", "dashboard", "index-pattern", "lens", "map", "search", "tag", "visualization"}
# The .index connector's schemas: stack_connectors/server/connector_types/es_index/index.ts (cited in
# tests/support/elastic_api.py); .server-log takes no config.
CONNECTOR_CONFIG_DEFAULTS = {".index": INDEX_CONNECTOR_CONFIG_DEFAULTS, ".server-log": {}}
CONNECTOR_CONFIG_REQUIRED = {".index": INDEX_CONNECTOR_CONFIG_REQUIRED, ".server-log": frozenset()}
RULE_PARAMS_DEFAULTS = {
    ".es-query": {"aggType": "count", "groupBy": "all", "excludeHitsFromPreviousRun": True},
    ".index-threshold": {},
}
# src/core/packages/status/server-internal/src/routes/status_response_schemas.ts: the levels, in
# order (ServiceStatusLevels compares them; the worst one is the summary).
STATUS_LEVELS = ("available", "degraded", "unavailable", "critical")
# The latest typeMigrationVersion each type has; an import stamped above it is refused. Only `search`
# is modelled (src/platform/plugins/shared/saved_search/server/saved_objects/schema.ts, model version
# 13 = "10.13.0"): the other types get no ceiling and no migration here.
LATEST_TYPE_VERSIONS = {"search": "10.13.0"}
# x-pack/platform/plugins/shared/alerting/server/authorization/alerting_authorization.ts: for a
# superuser, ensureAuthorized refuses only consumers no feature registers. These are the consumers
# stack_alerts feature registers for .es-query; other features' consumers are not modelled.
ES_QUERY_CONSUMERS = {"alerts", "stackAlerts"}
# .es-query's action groups (ActionGroupId "query matched") plus the registry's recovery group.
RULE_ACTION_GROUPS = {".es-query": {"query matched", "recovered"}, ".index-threshold": {"threshold met", "recovered"}}


@dataclass
class RecordedRequest:
    service: str  # "elasticsearch" or "kibana"
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int | None = None  # filled in once answered; None if it never was

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_write(self) -> bool:
        """Anything but a read: the export endpoint is a POST that only reads."""
        if self.method in ("GET", "HEAD"):
            return False
        return not (self.method == "POST" and self.path == "/api/saved_objects/_export")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as-is instead of JSON


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def es_error(status: int, error_type: str, reason: str) -> Reply:
    cause = {"type": error_type, "reason": reason}
    return Reply(status, {"error": {"root_cause": [cause], **cause}, "status": status})


def _stored_template(stored: dict[str, Any], kind: str, name: str) -> Reply:
    """GET _index_template/<name> or _component_template/<name>: the one template, or 404."""
    if name not in stored:
        return es_error(404, "resource_not_found_exception", f"{kind} template matching [{name}] not found")
    return Reply(200, {f"{kind}_templates": [{"name": name, f"{kind}_template": copy.deepcopy(stored[name])}]})


def kibana_error(status: int, message: str, **extra: Any) -> Reply:
    names = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
             415: "Unsupported Media Type"}
    return Reply(status, {"statusCode": status, "error": names.get(status, "Error"), "message": message, **extra})


def _setting_string(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_setting_string(item) for item in value]
    return value if value is None else str(value)


def es_stored_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """What Elasticsearch stores and returns: `index.`-prefixed, string values, nested."""
    nested: dict[str, Any] = {}
    for key, value in flat_settings(settings).items():
        if not key.startswith("index."):
            key = f"index.{key}"
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _setting_string(value)
    return nested


# -- Kibana saved-object migration and validation (the `search` type only) -------------------------

# src/platform/plugins/shared/saved_search/server/saved_objects/schema.ts, SCHEMA_TAB_ATTRIBUTES_V13.
SEARCH_TAB_ATTRIBUTES_V13 = {
    "hideChart", "hideTable", "columns", "sort", "grid", "headerRowHeight", "rowHeight", "rowsPerPage",
    "sampleSize", "density", "breakdownField", "visContext", "chartInterval", "kibanaSavedObjectMeta",
    "isTextBasedQuery", "usesAdHocDataView", "controlGroupJson", "timeRestore", "timeRange",
    "refreshInterval", "viewMode", "hideAggregatedPreview",
}


class NewerThanKibana(Exception):
    """migration-server-internal/src/document_migrator/pipelines/upgrade_pipeline.ts, assertCompatibility."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")) if text else ()


def migrate_saved_object(item: dict[str, Any]) -> dict[str, Any]:
    """The object as Kibana 9.5 stores an import of it.

    lib/collect_saved_objects.ts gives an object with no stamp typeMigrationVersion '' so that every
    migration runs on it. For `search`: search_migrations.ts 7.4.0 nests a flat sort; model version
    6 (schema_legacy.ts, common/service/extract_tabs.ts extractTabsBackfillFnV6) copies the
    attributes into one tab with a random uuid v4 and the label "Untitled"; model version 13
    (schema.ts, extractTabsTransformFnV13 plus its data_removal) drops hits and version from each
    tab and keeps only title, description and tabs at the top.
    """
    kind, object_id = item["type"], item["id"]
    stamp = item.get("typeMigrationVersion") or (item.get("migrationVersion") or {}).get(kind) or ""
    latest = LATEST_TYPE_VERSIONS.get(kind)
    if latest and stamp and _version(stamp) > _version(latest):
        raise NewerThanKibana(f'Document "{object_id}" belongs to a more recent version of Kibana [{stamp}] '
                              f"when the last known version is [{latest}].")
    attributes = copy.deepcopy(item.get("attributes", {}))
    if kind == "search":
        if _version(stamp) < (7, 4, 0) and attributes.get("sort") and not isinstance(attributes["sort"][0], list):
            attributes["sort"] = [attributes["sort"]]
        if _version(stamp) < (10, 6, 0):
            tab = {key: value for key, value in attributes.items() if key not in ("title", "description", "hits", "version", "tabs")}
            attributes["tabs"] = [{"id": str(uuid.uuid4()), "label": "Untitled", "attributes": tab}]
        if _version(stamp) < (10, 13, 0) and isinstance(attributes.get("tabs"), list):
            for tab in attributes["tabs"]:
                if isinstance(tab, dict) and isinstance(tab.get("attributes"), dict):
                    tab["attributes"] = {k: v for k, v in tab["attributes"].items() if k not in ("hits", "version")}
            attributes = {key: attributes[key] for key in ("title", "description", "tabs") if key in attributes}
    return {
        "type": kind, "id": object_id, "attributes": attributes,
        "references": copy.deepcopy(item.get("references", [])),
        "coreMigrationVersion": "8.8.0", "typeMigrationVersion": latest or stamp or "10.0.0",
    }


def validate_saved_object(document: dict[str, Any]) -> dict[str, Any] | None:
    """The import error for a migrated object its type's latest `create` schema refuses, else None.

    api-server-internal/src/lib/apis/helpers/validation.ts validateObjectForCreate raises
    createBadRequestError(<config-schema message>) ("<reason>: Bad Request"), which
    import/lib/extract_errors.ts reports as type "unknown". Only `search` is modelled: schema.ts
    SCHEMA_DISCOVER_SESSION_V13 (unknown keys are refused, as config-schema objects do by default).
    """
    if document["type"] != "search":
        return None
    problem = _search_problem(document["attributes"])
    if problem is None:
        return None
    return {"type": "unknown", "statusCode": 400, "error": "Bad Request", "message": f"{problem}: Bad Request"}


def _type_name(value: Any) -> str:
    if value is None:
        return "undefined"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "Array", dict: "Object"}[type(value)]


def _search_problem(attributes: dict[str, Any]) -> str | None:
    for key in sorted(set(attributes) - {"title", "description", "tabs"}):
        return f"[attributes.{key}]: definition for this key is missing"
    if not isinstance(attributes.get("title"), str):
        return f"[attributes.title]: expected value of type [string] but got [{_type_name(attributes.get('title'))}]"
    tabs = attributes.get("tabs")
    if not isinstance(tabs, list):
        return f"[attributes.tabs]: expected value of type [array] but got [{_type_name(tabs)}]"
    if not tabs:
        return "[attributes.tabs]: array size is [0], but cannot be smaller than [1]"
    for index, tab in enumerate(tabs):
        where = f"[attributes.tabs.{index}"
        tab_attributes = tab.get("attributes") if isinstance(tab, dict) else None
        if not isinstance(tab_attributes, dict):
            return f"{where}.attributes]: expected a plain object value, but found [{_type_name(tab_attributes)}] instead."
        for key in sorted(set(tab_attributes) - SEARCH_TAB_ATTRIBUTES_V13):
            return f"{where}.attributes.{key}]: definition for this key is missing"
        meta = tab_attributes.get("kibanaSavedObjectMeta")
        if not (isinstance(meta, dict) and isinstance(meta.get("searchSourceJSON"), str)):
            return f"{where}.attributes.kibanaSavedObjectMeta.searchSourceJSON]: expected value of type [string]"
    return None


# -- Kibana rule params -----------------------------------------------------------------------------

# The .es-query rule type (stack_alerts/server/rule_types/es_query/rule_type.ts: minimumLicenseRequired
# 'basic', params validated by EsQueryRuleParamsSchema from @kbn/response-ops-rule-params/es_query) follows
# src/platform/packages/shared/response-ops/rule_params/es_query/v1.ts and the validators it imports from
# rule_params/common/utils.ts (units; AggTypes count, avg, min, max, sum, so no cardinality; groupBy all,
# top or row) and common/constants.ts (ES_QUERY_MAX_HITS_PER_EXECUTION, MAX_GROUPS, comparators).
# That schema has no alertType: the older stack_alerts rule_type_params.ts had one, rule_type.ts no longer
# reads it; per-row ES|QL alerts are groupBy "row" (kibana#212135, released in 8.19 and 9.1).
ES_QUERY_PARAM_KEYS = {
    "size", "timeWindowSize", "excludeHitsFromPreviousRun", "timeWindowUnit", "threshold", "thresholdComparator",
    "aggType", "aggField", "groupBy", "termField", "termSize", "searchType", "timeField", "searchConfiguration",
    "esQuery", "index", "esqlQuery", "sourceFields",
}
ES_QUERY_MAX_HITS = 10000
MAX_GROUPS = 1000
MAX_SELECTABLE_GROUP_BY_TERMS = 4  # stack_alerts/common/constants.ts
COMPARATORS = {">", "<", ">=", "<=", "between", "notBetween"}
TIME_WINDOW_UNITS = {"s", "m", "h", "d"}
AGG_TYPES = {"count", "avg", "min", "max", "sum"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _js_truthy(value: Any) -> bool:
    """JavaScript's truthiness: {} and [] are true, 0, "", null and NaN false."""
    if isinstance(value, (dict, list)):
        return True
    return bool(value) and value == value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"JSON.parse refuses {name}")


def _optional_param_problem(p: dict[str, Any]) -> str | None:
    """The schema of the optional keys: aggField, termField, termSize, excludeHitsFromPreviousRun.

    Types from kbn-config-schema (string_type.ts, number_type.ts; internals/index.ts coerces the
    strings "true" and "false", any case, to booleans)."""
    flag = p["excludeHitsFromPreviousRun"]
    if isinstance(flag, str) and flag.lower() in ("true", "false"):
        p["excludeHitsFromPreviousRun"] = flag.lower() == "true"
    elif not isinstance(flag, bool):
        return f"[excludeHitsFromPreviousRun]: expected value of type [boolean] but got [{_type_name(flag)}]"
    if "aggField" in p:
        if not isinstance(p["aggField"], str):
            return f"[aggField]: expected value of type [string] but got [{_type_name(p['aggField'])}]"
        if not p["aggField"]:
            return "[aggField]: value has length [0] but it must have a minimum length of [1]."
    if "termSize" in p:
        if not _is_number(p["termSize"]):
            return f"[termSize]: expected value of type [number] but got [{_type_name(p['termSize'])}]"
        if p["termSize"] < 1:
            return "[termSize]: Value must be equal to or greater than [1]."
    if "termField" in p:
        term_field = p["termField"]
        one = isinstance(term_field, str) and len(term_field) >= 1
        several = (isinstance(term_field, list) and 2 <= len(term_field) <= MAX_SELECTABLE_GROUP_BY_TERMS
                   and all(isinstance(name, str) for name in term_field))
        if not (one or several):
            return (f"[termField]: types that failed validation: a string of length 1 or more, or an array of "
                    f"2 to {MAX_SELECTABLE_GROUP_BY_TERMS} strings, but got [{_type_name(term_field)}]")
    return None


def validate_rule_params(rule_type_id: str, params: Any) -> dict[str, Any] | str:
    """The params with their defaults, or the config-schema message Kibana puts after "params invalid: "
    (alerting/server/lib/validate_rule_type_params.ts). Only .es-query is modelled."""
    if not isinstance(params, dict):
        return f"expected a plain object value, but found [{_type_name(params)}] instead."
    if rule_type_id != ".es-query":
        return {**RULE_PARAMS_DEFAULTS[rule_type_id], **params}
    p = {"excludeHitsFromPreviousRun": True, "aggType": "count", "groupBy": "all", "searchType": "esQuery", **params}
    for key in sorted(set(p) - ES_QUERY_PARAM_KEYS):
        return f"[{key}]: definition for this key is missing"
    search_type = p["searchType"]
    if search_type not in ("searchSource", "esQuery", "esqlQuery"):
        return f"[searchType]: types that failed validation: {search_type!r} is not one of searchSource, esQuery, esqlQuery"
    for key, check, expected in (
        ("size", lambda v: _is_number(v) and 0 <= v <= ES_QUERY_MAX_HITS, f"a number from 0 to {ES_QUERY_MAX_HITS}"),
        ("timeWindowSize", lambda v: _is_number(v) and v >= 1, "a number of at least 1"),
        ("threshold", lambda v: isinstance(v, list) and 1 <= len(v) <= 2 and all(map(_is_number, v)), "1 or 2 numbers"),
    ):
        if key not in p or not check(p[key]):
            return f"[{key}]: expected {expected} but got [{_type_name(p.get(key))}]"
    if p.get("timeWindowUnit") not in TIME_WINDOW_UNITS:
        return f'[timeWindowUnit]: invalid timeWindowUnit: "{p.get("timeWindowUnit")}"'
    if p.get("thresholdComparator") not in COMPARATORS:
        return f"[thresholdComparator]: invalid thresholdComparator specified: {p.get('thresholdComparator')}"
    if p["aggType"] not in AGG_TYPES:
        return f'[aggType]: invalid aggType: "{p["aggType"]}"'
    if p["groupBy"] not in ("all", "top", "row"):
        return f'[groupBy]: invalid groupBy: "{p["groupBy"]}"'
    problem = _optional_param_problem(p)
    if problem:
        return problem
    if search_type == "esQuery":
        if not (isinstance(p.get("timeField"), str) and p["timeField"]):
            return f"[timeField]: expected value of type [string] but got [{_type_name(p.get('timeField'))}]"
        if not (isinstance(p.get("esQuery"), str) and p["esQuery"]):
            return f"[esQuery]: expected value of type [string] but got [{_type_name(p.get('esQuery'))}]"
        index = p.get("index")
        if not (isinstance(index, list) and index and all(isinstance(name, str) and name for name in index)):
            return f"[index]: expected a non-empty array of strings but got [{_type_name(index)}]"
    if search_type == "esqlQuery":  # a strict object: schema.object({ esql: schema.string({ minLength: 1 }) })
        if "timeField" in p and not (isinstance(p["timeField"], str) and p["timeField"]):
            return f"[timeField]: expected a string of length 1 or more but got [{_type_name(p['timeField'])}]"
        esql_query = p.get("esqlQuery")
        if not isinstance(esql_query, dict):
            return f"[esqlQuery]: expected a plain object value, but found [{_type_name(esql_query)}] instead."
        for key in sorted(set(esql_query) - {"esql"}):
            return f"[esqlQuery.{key}]: definition for this key is missing"
        if not isinstance(esql_query.get("esql"), str):
            return f"[esqlQuery.esql]: expected value of type [string] but got [{_type_name(esql_query.get('esql'))}]"
        if not esql_query["esql"]:
            return "[esqlQuery.esql]: value has length [0] but it must have a minimum length of [1]."
    for key, only in (("esQuery", "esQuery"), ("index", "esQuery"), ("esqlQuery", "esqlQuery"),
                      ("searchConfiguration", "searchSource")):
        if key in p and search_type != only:
            return f"[{key}]: a value wasn't expected to be present"
    # validateParams, in its order: an ES|QL rule is checked first and only for these three.
    if search_type == "esqlQuery":
        if not p.get("timeField"):
            return "[timeField]: is required"
        if p["thresholdComparator"] != ">":
            return "[thresholdComparator]: is required to be greater than"
        if p["threshold"][0] != 0:
            return "[threshold]: is required to be 0"
        return p
    if p["thresholdComparator"] in ("between", "notBetween") and len(p["threshold"]) == 1:
        return f'[threshold]: must have two elements for the "{p["thresholdComparator"]}" comparator'
    if p["aggType"] != "count" and not p.get("aggField"):
        return f'[aggField]: must have a value when [aggType] is "{p["aggType"]}"'
    if p["groupBy"] == "top":
        if p.get("termField") is None:
            return "[termField]: termField required when [groupBy] is top"
        if p.get("termSize") is None:
            return "[termSize]: termSize required when [groupBy] is top"
        if p["termSize"] > MAX_GROUPS:
            return f"[termSize]: must be less than or equal to {MAX_GROUPS}"
    if p["groupBy"] == "row":
        return "[groupBy]: groupBy should be all or top when [searchType] is not esqlQuery"
    if search_type == "esQuery":  # `parsedQuery && !parsedQuery.query`, with JavaScript's truthiness
        try:
            parsed = json.loads(p["esQuery"], parse_constant=_refuse_constant)
        except ValueError:
            return "[esQuery]: must be valid JSON"
        query = parsed.get("query") if isinstance(parsed, dict) else None
        if _js_truthy(parsed) and not _js_truthy(query):
            return '[esQuery]: must contain "query"'
    return p


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ssl.SSLError):  # a client that refused the certificate: what a test wants
            return
        super().handle_error(request, client_address)


class FakeElasticStack:
    """Fake Elasticsearch + Kibana. Use as a context manager; knobs may be set before or during a run."""

    def __init__(self, elastic_password: str, tls: Mapping[str, ssl.SSLContext] | None = None) -> None:
        """``tls``: service name -> the server context it answers https with; the others answer http."""
        self._tls = dict(tls or {})
        self._lock = threading.RLock()
        self._release_hangs = threading.Event()
        self.requests: list[RecordedRequest] = []
        # Knobs.
        self.health_not_ready_responses = 0  # first K health calls answer 408
        self.kibana_preboot_responses = 0  # first K status calls answer as Kibana's preboot phase
        self.kibana_unavailable_responses = 0  # next K status calls: core unavailable (503)
        self.kibana_core_levels: dict[str, str] = {}  # e.g. {"savedObjects": "degraded"}
        self.kibana_core_levels_calls = 10**9  # ... for the first K status calls
        self.kibana_plugin_levels: dict[str, str] = {}  # e.g. {"reporting": "degraded"}
        self.kibana_refuses_credentials = False  # Kibana refuses setup's user though Elasticsearch takes it
        self.import_failures: dict[tuple[str, str], dict[str, Any]] = {}  # (type, id) -> error object
        self.hang: set[tuple[str, str, str]] = set()  # (service, method, path) never answered
        self.failing_writes: dict[str, int] = {}  # Elasticsearch path -> how many next writes to it answer 500
        self._refused: set[str] = set()
        # Counters.
        self.health_calls = 0
        self.status_calls = 0
        # Elasticsearch state.
        self.users: dict[str, dict[str, Any]] = {
            "elastic": {"password": elastic_password, "roles": ["superuser"], "reserved": True},
            "kibana_system": {"password": None, "roles": ["kibana_system"], "reserved": True},
        }
        self.roles: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.component_templates: dict[str, dict[str, Any]] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.indices = Indices()  # tests/support/fake_indices.py
        # Kibana state.
        self.ui_settings = UiSettings()
        self.saved_objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.connectors: dict[str, dict[str, Any]] = {}
        self.connector_secrets: dict[str, dict[str, Any]] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        # Rule id -> the role bodies of its key's owner when the key was granted (see _grant_rule_key).
        self.rule_key_roles: dict[str, dict[str, dict[str, Any]]] = {}
        self._seq = itertools.count(1)
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._serving: dict[str, threading.Thread] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def refuse_connections(self, service: str) -> None:
        """Before start(): keep `service`'s port bound but not listening (connections are refused)
        until accept_connections(service)."""
        self._refused.add(service)

    def accept_connections(self, service: str) -> None:
        self._activate(service)

    def start(self) -> FakeElasticStack:
        for service in ("elasticsearch", "kibana"):
            server = _Server(("127.0.0.1", 0), self._handler_class(service), bind_and_activate=False)
            server.daemon_threads = True
            server.server_bind()
            if service in self._tls:
                # The handshake then happens on the handler's first read, in its own thread, so a client
                # that refuses the certificate holds up no one else.
                server.socket = self._tls[service].wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
            self._servers[service] = server
            if service not in self._refused:
                self._activate(service)
        return self

    def _activate(self, service: str) -> None:
        with self._lock:
            if self._release_hangs.is_set():  # stopped before the refusal ended
                return
            server = self._servers[service]
            server.server_activate()
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            self._serving[service] = thread

    def stop(self) -> None:
        with self._lock:
            self._release_hangs.set()  # also frees handlers stuck in a hang
        for service, server in self._servers.items():
            if service in self._serving:
                server.shutdown()
            server.server_close()
        for thread in self._serving.values():
            thread.join(timeout=5)

    def __enter__(self) -> FakeElasticStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, service: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if service in self._tls else "http"
        return f"{scheme}://{host}:{self._servers[service].server_address[1]}"

    @property
    def elasticsearch_url(self) -> str:
        return self.url("elasticsearch")

    @property
    def kibana_url(self) -> str:
        return self.url("kibana")

    # -- inspection ------------------------------------------------------------------------------

    def recorded(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self.requests)

    def create_index(self, name: str) -> None:
        """The index Elasticsearch would create for a first document written to `name`, from the templates."""
        with self._lock:
            self.indices.create(name, self.templates)

    def password_works(self, username: str, password: str) -> bool:
        with self._lock:
            user = self.users.get(username)
            return bool(user and user.get("enabled", True) and user["password"] == password)

    # -- HTTP plumbing ---------------------------------------------------------------------------

    def _handler_class(self, service: str) -> type[BaseHTTPRequestHandler]:
        stack = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
                return

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                record = RecordedRequest(
                    service=service,
                    method=self.command,
                    path=unquote(parts.path),
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
                with stack._lock:
                    stack.requests.append(record)
                if (service, record.method, record.path) in stack.hang:
                    stack._release_hangs.wait(HANG_LIMIT_SECONDS)
                    self.close_connection = True
                    return
                if service == "elasticsearch":
                    reply = stack._elasticsearch(record)
                    reply.headers.setdefault("X-Elastic-Product", "Elasticsearch")
                    compat = _compat_version(record.headers.get("accept", ""))
                    content_type = (
                        f"application/vnd.elasticsearch+json;compatible-with={compat}" if compat else "application/json"
                    )
                else:
                    reply = stack._kibana(record)
                    content_type = "application/json; charset=utf-8"
                record.status = reply.status
                payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler

    def _authenticated_user(self, record: RecordedRequest) -> str | None:
        header = record.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            username, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return username if self.password_works(username, password) else None

    # -- Elasticsearch ---------------------------------------------------------------------------

    def _elasticsearch(self, record: RecordedRequest) -> Reply:
        media_error = _check_media_types(record)
        if media_error:
            return media_error
        user = self._authenticated_user(record)
        if user is None:
            reply = es_error(401, "security_exception", f"unable to authenticate user for REST request [{record.path}]")
            reply.headers["WWW-Authenticate"] = 'Basic realm="security", charset="UTF-8"'
            return reply
        if record.is_write and self.failing_writes.get(record.path, 0) > 0:
            self.failing_writes[record.path] -= 1
            return es_error(500, "exception", f"simulated failure of {record.method} {record.path}")
        body: Any = None
        if record.body:
            try:
                body = json.loads(record.body)
            except ValueError as error:
                return es_error(400, "x_content_parse_exception", f"Failed to parse request body: {error}")
        routes = (
            (r"/_cluster/health", {"GET": self._health}),
            (r"/_security/_authenticate", {"GET": self._authenticate}),
            (r"/_security/user/([^/]+)/_password", {"PUT": self._change_password, "POST": self._change_password}),
            (r"/_security/user/([^/_][^/]*)", {"GET": self._get_user, "PUT": self._put_user, "POST": self._put_user}),
            (r"/_security/role/([^/]+)", {"GET": self._get_role, "PUT": self._put_role, "POST": self._put_role}),
            (r"/_ilm/policy/([^/]+)", {"GET": self._get_policy, "PUT": self._put_policy}),
            (r"/_ingest/pipeline/([^/]+)", {"GET": self._get_pipeline, "PUT": self._put_pipeline}),
            (r"/_index_template/([^/]+)", {"GET": self._get_template, "PUT": self._put_template, "POST": self._put_template}),
            (r"/_component_template/([^/]+)", {"GET": self._get_component_template, "PUT": self._put_component_template,
                                                "POST": self._put_component_template}),
            (r"/([^/_][^/]*)/_mapping", {"GET": self._get_mapping, "PUT": self._put_mapping, "POST": self._put_mapping}),
            (r"/([^/_][^/]*)/_settings", {"GET": self._get_settings, "PUT": self._put_settings}),
        )
        for pattern, methods in routes:
            match = re.fullmatch(pattern, record.path)
            if match:
                handler = methods.get(record.method)
                if handler is None:
                    return es_error(
                        405, "illegal_argument_exception",
                        f"Incorrect HTTP method for uri [{record.path}] and method [{record.method}], "
                        f"allowed: {sorted(methods)}",
                    )
                with self._lock:
                    return handler(record, body, user, *match.groups())
        return es_error(400, "illegal_argument_exception", f"no handler found for uri [{record.path}] and method [{record.method}]")

    def _health(self, record: RecordedRequest, body: Any, user: str) -> Reply:
        self.health_calls += 1
        not_ready = self.health_calls <= self.health_not_ready_responses
        return Reply(408 if not_ready else 200, {
            "cluster_name": "docker-cluster",
            "status": "red" if not_ready else "green",
            "timed_out": not_ready,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            "active_primary_shards": 0,
            "active_shards": 0,
        })

    def _authenticate(self, record: RecordedRequest, body: Any, user: str) -> Reply:
        stored = self.users[user]
        realm = {"name": "reserved", "type": "reserved"} if stored.get("reserved") else {"name": "default_native", "type": "native"}
        return Reply(200, {
            "username": user, "roles": stored["roles"], "full_name": stored.get("full_name"),
            "email": stored.get("email"), "metadata": stored.get("metadata", {}), "enabled": True,
            "authentication_realm": realm, "lookup_realm": realm, "authentication_type": "realm",
        })

    def _change_password(self, record: RecordedRequest, body: Any, user: str, username: str) -> Reply:
        if not isinstance(body, dict) or set(body) - {"password", "password_hash"} or not body:
            return es_error(400, "x_content_parse_exception", "request body must be {\"password\": ...}")
        password = body.get("password")
        if not isinstance(password, str) or len(password) < 6:
            return es_error(400, "action_request_validation_exception",
                            "Validation Failed: 1: passwords must be at least [6] characters long;")
        if username not in self.users:
            return es_error(404, "resource_not_found_exception", f"user [{username}] does not exist")
        self.users[username]["password"] = password
        return Reply(200, {})

    def _get_user(self, record: RecordedRequest, body: Any, user: str, username: str) -> Reply:
        stored = self.users.get(username)
        if stored is None:
            return Reply(404, {})
        return Reply(200, {username: {
            "username": username, "roles": stored["roles"], "full_name": stored.get("full_name"),
            "email": stored.get("email"), "metadata": stored.get("metadata", {}), "enabled": stored.get("enabled", True),
        }})

    def _put_user(self, record: RecordedRequest, body: Any, user: str, username: str) -> Reply:
        if not isinstance(body, dict):
            return es_error(400, "parse_exception", "request body is required")
        unknown = set(body) - USER_KEYS
        if unknown:
            return es_error(400, "x_content_parse_exception", f"[put_user_request] unknown field [{sorted(unknown)[0]}]")
        if self.users.get(username, {}).get("reserved"):
            return es_error(
                400, "illegal_argument_exception", f"user [{username}] is reserved and only the password can be changed"
            )
        if not isinstance(body.get("roles"), list):
            return es_error(400, "action_request_validation_exception", "Validation Failed: 1: roles are missing;")
        created = username not in self.users
        if created and not isinstance(body.get("password"), str):
            return es_error(400, "action_request_validation_exception",
                            "Validation Failed: 1: password must be specified unless you are updating an existing user;")
        password = body.get("password", self.users.get(username, {}).get("password"))
        if len(password) < 6:
            return es_error(400, "action_request_validation_exception",
                            "Validation Failed: 1: passwords must be at least [6] characters long;")
        self.users[username] = {
            "password": password, "roles": list(body["roles"]), "full_name": body.get("full_name"),
            "email": body.get("email"), "metadata": body.get("metadata", {}), "enabled": body.get("enabled", True),
        }
        return Reply(200, {"created": created})

    def _get_role(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        stored = self.roles.get(name)
        return Reply(200, {name: copy.deepcopy(stored)}) if stored is not None else Reply(404, {})

    def _put_role(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        if not isinstance(body, dict):
            return es_error(400, "parse_exception", "request body is required")
        unknown = set(body) - ROLE_KEYS
        if unknown:
            return es_error(400, "parse_exception", f"failed to parse role [{name}]. unexpected field [{sorted(unknown)[0]}]")
        if any(key.startswith("_") for key in body.get("metadata", {})):
            return es_error(400, "action_request_validation_exception",
                            "Validation Failed: 1: role metadata keys may not start with [_];")
        indices = []
        for entry in body.get("indices", []):
            if not entry.get("names") or not entry.get("privileges"):
                return es_error(400, "parse_exception", f"failed to parse indices privileges for role [{name}]. "
                                "missing required [names] or [privileges] field")
            indices.append({**entry, "allow_restricted_indices": entry.get("allow_restricted_indices", False)})
        created = name not in self.roles
        self.roles[name] = {
            "cluster": body.get("cluster", []), "indices": indices, "applications": body.get("applications", []),
            "run_as": body.get("run_as", []), "metadata": body.get("metadata", {}),
            "transient_metadata": {"enabled": True},
            **({"description": body["description"]} if "description" in body else {}),
        }
        return Reply(200, {"role": {"created": created}})

    def _get_policy(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        stored = self.policies.get(name)
        if stored is None:
            return es_error(404, "resource_not_found_exception", f"Lifecycle policy not found: {name}")
        in_use_by = {"indices": [], "data_streams": [], "composable_templates": []}
        return Reply(200, {name: {**copy.deepcopy(stored), "in_use_by": in_use_by}})

    def _put_policy(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        if not isinstance(body, dict) or set(body) != {"policy"} or not isinstance(body["policy"], dict):
            return es_error(400, "x_content_parse_exception", "request body must be {\"policy\": {...}}")
        policy = copy.deepcopy(body["policy"])
        unknown = set(policy) - {"phases", "_meta"}
        if unknown:
            return es_error(400, "x_content_parse_exception", f"[lifecycle_policy] unknown field [{sorted(unknown)[0]}]")
        for phase_name, phase in policy.get("phases", {}).items():
            if phase_name not in ILM_PHASES:
                return es_error(400, "illegal_argument_exception", f"Timeseries lifecycle does not support phase [{phase_name}]")
            min_age = phase.setdefault("min_age", "0ms")
            if not isinstance(min_age, str) or not TIME_VALUE.match(min_age):
                return es_error(400, "x_content_parse_exception", f"[phase] failed to parse field [min_age]: {min_age!r}")
            if "delete" in phase.get("actions", {}):
                phase["actions"]["delete"].setdefault("delete_searchable_snapshot", True)
        previous = self.policies.get(name)
        self.policies[name] = {"version": (previous["version"] + 1) if previous else 1, "modified_date": _now(), "policy": policy}
        return Reply(200, {"acknowledged": True})

    def _get_pipeline(self, record: RecordedRequest, body: Any, user: str, pipeline_id: str) -> Reply:
        stored = self.pipelines.get(pipeline_id)
        return Reply(200, {pipeline_id: copy.deepcopy(stored)}) if stored is not None else Reply(404, {})

    def _put_pipeline(self, record: RecordedRequest, body: Any, user: str, pipeline_id: str) -> Reply:
        try:
            problem = pipeline_problem(pipeline_id, body)
        except NotModelled as error:
            return es_error(400, "parse_exception", f"fake Elasticsearch: {error}")
        if problem:
            return es_error(400, "parse_exception", problem)
        self.pipelines[pipeline_id] = copy.deepcopy(body)
        return Reply(200, {"acknowledged": True})

    def _get_template(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        return _stored_template(self.templates, "index", name)

    def _put_template(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        if not isinstance(body, dict):
            return es_error(400, "parse_exception", "request body is required")
        unknown = set(body) - INDEX_TEMPLATE_KEYS
        if unknown:
            return es_error(400, "x_content_parse_exception", f"[index_template] unknown field [{sorted(unknown)[0]}]")
        if not body.get("index_patterns"):
            return es_error(400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
        stored = copy.deepcopy(body)
        stored.setdefault("composed_of", [])
        template = stored.get("template", {})
        if "settings" in template:
            template["settings"] = es_stored_settings(template["settings"])
        self.templates[name] = stored
        return Reply(200, {"acknowledged": True})

    def _get_component_template(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        return _stored_template(self.component_templates, "component", name)

    def _put_component_template(self, record: RecordedRequest, body: Any, user: str, name: str) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("template"), dict):
            return es_error(400, "x_content_parse_exception", "[component_template] required field [template] is missing")
        unknown = set(body) - {"template", "version", "_meta", "deprecated"}
        if unknown:
            return es_error(400, "x_content_parse_exception", f"[component_template] unknown field [{min(unknown)}]")
        self.component_templates[name] = copy.deepcopy(body)
        return Reply(200, {"acknowledged": True})

    def _on_indices(self, action: Any, *args: Any) -> Reply:
        try:
            return Reply(200, action(*args))
        except Refusal as refusal:
            return es_error(refusal.status, refusal.error_type, refusal.reason)

    def _get_mapping(self, record: RecordedRequest, body: Any, user: str, target: str) -> Reply:
        return self._on_indices(self.indices.get_mapping, target, record.query)

    def _put_mapping(self, record: RecordedRequest, body: Any, user: str, index: str) -> Reply:
        return self._on_indices(self.indices.put_mapping, index, body)

    def _get_settings(self, record: RecordedRequest, body: Any, user: str, target: str) -> Reply:
        return self._on_indices(self.indices.get_settings, target, record.query)

    def _put_settings(self, record: RecordedRequest, body: Any, user: str, index: str) -> Reply:
        return self._on_indices(self.indices.put_settings, index, body)

    # -- Kibana ----------------------------------------------------------------------------------

    def _kibana(self, record: RecordedRequest) -> Reply:
        if record.path == "/api/status" and record.method == "GET":
            return self._status(record)
        user = self._kibana_user(record)
        if user is None:
            return kibana_error(401, "Unauthorized")
        if record.method != "GET" and "kbn-xsrf" not in record.headers:
            return kibana_error(400, "Request must contain a kbn-xsrf header.")
        if record.path == "/api/saved_objects/_import" and record.method == "POST":
            return self._import(record)
        if record.path == "/api/saved_objects/_export" and record.method == "POST":
            return self._with_json(record, self._export)
        if record.path == "/api/kibana/settings" and record.method in ("GET", "POST"):
            return self._with_json(record, self._ui_settings)
        key_update = re.fullmatch(r"/api/alerting/rule/([^/]+)/_update_api_key", record.path)
        if key_update and record.method == "POST":  # no body: the route validates only the id param
            with self._lock:
                return self._update_rule_api_key(key_update.group(1), user)
        resources = (
            (r"/api/actions/connector/([^/]+)", {"GET": self._get_connector, "POST": self._create_connector,
                                                  "PUT": self._update_connector}),
            (r"/api/alerting/rule/([^/]+)", {"GET": self._get_rule, "POST": self._create_rule, "PUT": self._update_rule}),
        )
        for pattern, handlers in resources:
            match = re.fullmatch(pattern, record.path)
            if match and record.method in handlers:
                return self._with_json(record, handlers[record.method], match.group(1), user)
        return kibana_error(404, "Not Found")

    def _kibana_user(self, record: RecordedRequest) -> str | None:
        return None if self.kibana_refuses_credentials else self._authenticated_user(record)

    def _with_json(self, record: RecordedRequest, handler: Any, *args: str) -> Reply:
        """Call handler(body, *args) with the request's JSON body (None for a GET), under the lock."""
        body = None
        if record.method != "GET":
            if not record.headers.get("content-type", "").startswith("application/json"):
                return kibana_error(415, "Unsupported Media Type")
            try:
                body = json.loads(record.body or b"null")
            except ValueError as error:
                return kibana_error(400, f"Invalid request payload JSON format: {error}")
            if not isinstance(body, dict):
                return kibana_error(400, "[request body]: expected a plain object value, but found [null] instead.")
        with self._lock:
            return handler(body, *args)

    def _status(self, record: RecordedRequest) -> Reply:
        """GET /api/status, as src/core/packages/status/server-internal/src/routes/status.ts answers it.

        Preboot (status_preboot.ts): 503 and the redacted body, authentication not even checked.
        Then the HTTP code depends on core only: 503 when the worst of status.core (elasticsearch,
        savedObjects; status_service.ts) is unavailable or worse, else 200, even when
        status.overall (core plus every plugin) is degraded. authRequired is 'optional', which
        http_server.ts (getAuthOption) maps to hapi's 'try' mode: missing and wrong credentials
        alike get the redacted {"status":{"overall":{"level": <core level>}}}, never a 401.
        """
        with self._lock:
            self.status_calls += 1
            preboot = self.status_calls <= self.kibana_preboot_responses
            unavailable = self.status_calls <= self.kibana_preboot_responses + self.kibana_unavailable_responses
            core_levels = {"elasticsearch": "available", "savedObjects": "available"}
            if self.status_calls <= self.kibana_core_levels_calls:
                core_levels.update(self.kibana_core_levels)
            plugin_levels = dict(self.kibana_plugin_levels)
        if preboot:
            return Reply(503, {"status": {"overall": {"level": "unavailable"}}})
        if unavailable:
            core_levels = {"elasticsearch": "unavailable", "savedObjects": "unavailable"}
        core_overall = _worst(core_levels.values())
        code = 503 if STATUS_LEVELS.index(core_overall) >= STATUS_LEVELS.index("unavailable") else 200
        if self._kibana_user(record) is None:
            return Reply(code, {"status": {"overall": {"level": core_overall}}})
        summaries = {"available": "Available", "degraded": "Degraded", "unavailable": "Waiting for Elasticsearch",
                     "critical": "Critical"}

        def service(level: str) -> dict[str, Any]:
            return {"level": level, "summary": summaries[level], "meta": {}}

        overall = _worst([*core_levels.values(), *plugin_levels.values()])
        return Reply(code, {
            "name": "kibana", "uuid": "5b2de169-2785-441b-ae8c-186a1936b17d",
            "version": {"number": ELASTIC_VERSION, "build_snapshot": False, "build_flavor": "traditional"},
            "status": {
                "overall": service(overall),
                "core": {name: service(level) for name, level in core_levels.items()},
                "plugins": {name: service(level) for name, level in plugin_levels.items()},
            },
        })

    def _import(self, record: RecordedRequest) -> Reply:
        content_type = record.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return kibana_error(415, "Unsupported Media Type")
        overwrite = record.query.get("overwrite", ["false"])[-1] == "true"
        if overwrite and record.query.get("createNewCopies", ["false"])[-1] == "true":
            return kibana_error(400, "[request query]: cannot use [overwrite] with [createNewCopies]")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + record.body
        )
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        file_part = parts.get("file")
        if file_part is None or file_part.get_filename() is None:
            return kibana_error(400, "[request body.file]: expected value of type [Stream] but got [undefined]")
        extension = re.search(r"(\.[^.]*)?$", file_part.get_filename()).group(0).lower()
        if extension != ".ndjson":
            return kibana_error(400, f"Invalid file extension {extension}")
        objects = []
        for line in file_part.get_payload(decode=True).decode().splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as error:
                return kibana_error(400, f"Unexpected token in JSON: {error}")
            if not (isinstance(item, dict) and "exportedCount" in item):
                objects.append(item)
        with self._lock:
            return self._import_objects(objects, overwrite)

    def _import_objects(self, objects: list[dict[str, Any]], overwrite: bool) -> Reply:
        """src/core/packages/saved-objects/import-export-server-internal/src/import/import_saved_objects.ts.

        Unsupported types, missing references and conflicts are per-object errors (HTTP 200). If any
        of the resolvable ones (conflict, missing_references) occurs, lib/create_saved_objects.ts
        creates nothing at all, yet counts the other objects in successCount. Otherwise each object
        is migrated and validated (api-server-internal/src/lib/apis/bulk_create.ts): a validation
        failure is that object's error of type "unknown"; a stamp newer than Kibana makes the
        migrator throw Boom.badData, which fails the whole request with 422 and writes nothing.
        """
        in_file = {(item.get("type"), item.get("id")) for item in objects}
        errors: list[dict[str, Any]] = []
        failed: set[tuple[str, str]] = set()

        def fail(item: dict[str, Any], error: dict[str, Any]) -> None:
            key = (item.get("type"), item.get("id"))
            title = item.get("attributes", {}).get("title")
            errors.append({"id": key[1], "type": key[0], "title": title, "meta": {"title": title, "icon": "document"},
                           "error": error})
            failed.add(key)

        for item in objects:  # lib/collect_saved_objects.ts
            if item.get("type") not in SAVED_OBJECT_TYPES:
                fail(item, {"type": "unsupported_type"})
        for item in objects:  # lib/validate_references.ts
            key = (item.get("type"), item.get("id"))
            missing = [
                {"type": ref["type"], "id": ref["id"]}
                for ref in item.get("references", [])
                if (ref["type"], ref["id"]) not in in_file and (ref["type"], ref["id"]) not in self.saved_objects
            ]
            if key not in failed and missing:
                fail(item, {"type": "missing_references", "references": missing})
        for item in objects:  # lib/check_conflicts.ts
            key = (item.get("type"), item.get("id"))
            if key not in failed and key in self.saved_objects and not overwrite:
                fail(item, {"type": "conflict"})
        resolvable = any(error["error"]["type"] in ("conflict", "missing_references") for error in errors)
        to_create = [item for item in objects if (item.get("type"), item.get("id")) not in failed]
        migrated: dict[tuple[str, str], dict[str, Any]] = {}
        if not resolvable:
            for item in to_create:
                key = (item["type"], item["id"])
                try:
                    document = migrate_saved_object(item)
                except NewerThanKibana as error:
                    return Reply(422, {"statusCode": 422, "error": "Unprocessable Entity", "message": str(error)})
                failure = self.import_failures.get(key) or validate_saved_object(document)
                if failure is not None:
                    fail(item, failure)
                else:
                    migrated[key] = document
        results = []
        for item in to_create:
            key = (item["type"], item["id"])
            if key in failed:
                continue
            existed = key in self.saved_objects
            if key in migrated:
                self.saved_objects[key] = {
                    **migrated[key], "managed": False, "created_at": _now(), "updated_at": _now(),
                    "version": base64.b64encode(f"[{next(self._seq)},1]".encode()).decode(),
                }
            meta = {"title": item.get("attributes", {}).get("title", ""), "icon": "document"}
            results.append({"type": key[0], "id": key[1], "meta": meta, **({"overwrite": True} if existed else {})})
        body: dict[str, Any] = {"success": not errors, "successCount": len(results), "warnings": []}
        if results:
            body["successResults"] = results
        if errors:
            body["errors"] = errors
        return Reply(200, body)

    def _ui_settings(self, body: dict[str, Any] | None) -> Reply:
        if body is None:
            return Reply(200, self.ui_settings.user_provided())
        status, answer = self.ui_settings.set_many(body)
        return Reply(status, answer) if status == 200 else kibana_error(status, answer)

    def _export(self, body: dict[str, Any]) -> Reply:
        unknown = set(body) - {"type", "hasReference", "objects", "search", "includeReferencesDeep", "excludeExportDetails"}
        if unknown:
            return kibana_error(400, f"[request body.{sorted(unknown)[0]}]: definition for this key is missing")
        objects = body.get("objects") or []
        if not objects and not body.get("type"):
            return kibana_error(400, "Either `type` or `objects` are required.")
        missing = [
            {"id": ref["id"], "type": ref["type"], "error": {"statusCode": 404, "error": "Not Found",
                                                            "message": f"Saved object [{ref['type']}/{ref['id']}] not found"}}
            for ref in objects if (ref["type"], ref["id"]) not in self.saved_objects
        ]
        if missing:
            return kibana_error(400, "Error fetching objects to export", attributes={"objects": missing})
        lines = [json.dumps(self.saved_objects[(ref["type"], ref["id"])], sort_keys=True) for ref in objects]
        if not body.get("excludeExportDetails"):
            lines.append(json.dumps({"excludedObjects": [], "excludedObjectsCount": 0, "exportedCount": len(objects),
                                     "missingRefCount": 0, "missingReferences": []}))
        return Reply(200, raw="\n".join(lines).encode(), headers={"Content-Type": "application/ndjson"})

    def _connector_view(self, connector_id: str) -> dict[str, Any]:
        return {**copy.deepcopy(self.connectors[connector_id]), "id": connector_id, "is_preconfigured": False,
                "is_deprecated": False, "is_missing_secrets": False, "is_system_action": False}

    def _get_connector(self, body: None, connector_id: str, user: str) -> Reply:
        if connector_id not in self.connectors:
            return kibana_error(404, f"Saved object [action/{connector_id}] not found")
        return Reply(200, self._connector_view(connector_id))

    def _connector_config(self, type_id: str, config: Any) -> dict[str, Any] | str:
        if type_id not in CONNECTOR_CONFIG_DEFAULTS:
            return f"Connector type [{type_id}] is not registered."
        if not isinstance(config, dict):
            return "error validating connector type config: expected a plain object"
        allowed = set(CONNECTOR_CONFIG_DEFAULTS[type_id]) | CONNECTOR_CONFIG_REQUIRED[type_id]
        unknown = set(config) - allowed
        if unknown:
            return f"error validating connector type config: [{sorted(unknown)[0]}]: definition for this key is missing"
        missing = CONNECTOR_CONFIG_REQUIRED[type_id] - set(config)
        if missing:
            return (f"error validating connector type config: [{sorted(missing)[0]}]: "
                    "expected value of type [string] but got [undefined]")
        merged = {**copy.deepcopy(CONNECTOR_CONFIG_DEFAULTS[type_id]), **config}
        if type_id == ".index":  # es_index ConfigSchema: index string, refresh boolean, executionTimeField nullable string
            for key, valid, expected in (("index", isinstance(merged["index"], str), "string"),
                                         ("refresh", isinstance(merged["refresh"], bool), "boolean"),
                                         ("executionTimeField", merged["executionTimeField"] is None
                                          or isinstance(merged["executionTimeField"], str), "string")):
                if not valid:
                    return (f"error validating connector type config: [{key}]: expected value of type [{expected}] "
                            f"but got [{_type_name(merged[key])}]")
        return merged

    def _create_connector(self, body: dict[str, Any], connector_id: str, user: str) -> Reply:
        unknown = set(body) - CONNECTOR_CREATE_KEYS
        if unknown:
            return kibana_error(400, f"[request body.{sorted(unknown)[0]}]: definition for this key is missing")
        for required in ("name", "connector_type_id"):
            if not isinstance(body.get(required), str) or not body[required].strip():
                found = type(body.get(required)).__name__
                return kibana_error(400, f"[request body.{required}]: expected value of type [string] but got [{found}]")
        if connector_id in self.connectors:
            return kibana_error(409, f"Saved object [action/{connector_id}] conflict")
        config = self._connector_config(body["connector_type_id"], body.get("config", {}))
        if isinstance(config, str):
            return kibana_error(400, config)
        self.connectors[connector_id] = {"name": body["name"], "connector_type_id": body["connector_type_id"], "config": config}
        self.connector_secrets[connector_id] = copy.deepcopy(body.get("secrets", {}))
        return Reply(200, self._connector_view(connector_id))

    def _update_connector(self, body: dict[str, Any], connector_id: str, user: str) -> Reply:
        unknown = set(body) - CONNECTOR_UPDATE_KEYS
        if unknown:
            return kibana_error(400, f"[request body.{sorted(unknown)[0]}]: definition for this key is missing")
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            return kibana_error(400, "[request body.name]: expected value of type [string] but got [undefined]")
        if connector_id not in self.connectors:
            return kibana_error(404, f"Saved object [action/{connector_id}] not found")
        stored = self.connectors[connector_id]
        config = self._connector_config(stored["connector_type_id"], body.get("config", {}))
        if isinstance(config, str):
            return kibana_error(400, config)
        stored.update(name=body["name"], config=config)
        self.connector_secrets[connector_id] = copy.deepcopy(body.get("secrets", {}))
        return Reply(200, self._connector_view(connector_id))

    def _rule_refusal(self, user: str, rule_type_id: str, consumer: str, operation: str, actions: Any) -> Reply | None:
        """403 when the user's roles do not allow this rule call (tests/support/kibana_privileges.py)."""
        held = held_privileges(self.users[user]["roles"], self.roles)
        message = rule_refusal(held, rule_type_id, consumer, operation, actions if isinstance(actions, list) else [])
        return kibana_error(403, message) if message else None

    def _grant_rule_key(self, rule_id: str, user: str, enabled: bool) -> dict[str, Any]:
        """create_new_api_key_set.ts: a new key granted as the caller, only for an enabled rule
        (create_rule.ts; update_rule.ts passes shouldUpdateApiKey: the rule's enabled). Kibana grants
        it with empty role_descriptors (rules_client_factory.ts), so Elasticsearch limits it by a
        snapshot of the owner's roles as they are now (security/grant-api-key docs): kept here."""
        if enabled:
            self.rule_key_roles[rule_id] = {
                name: copy.deepcopy(self.roles.get(name, {})) for name in self.users[user]["roles"]
            }
        else:
            self.rule_key_roles.pop(rule_id, None)
        return {"api_key_owner": user if enabled else None, "api_key_created_by_user": False if enabled else None}

    def _get_rule(self, body: None, rule_id: str, user: str) -> Reply:
        if rule_id not in self.rules:
            return kibana_error(404, f"Saved object [alert/{rule_id}] not found")
        stored = self.rules[rule_id]
        refusal = self._rule_refusal(user, stored["rule_type_id"], stored["consumer"], "get", [])
        return refusal or Reply(200, copy.deepcopy(stored))

    def _rule_fields(self, body: dict[str, Any], rule_type_id: str, allowed: set[str]) -> dict[str, Any] | Reply:
        """Validate the fields create and update share; return them with Kibana's defaults filled in."""
        unknown = set(body) - allowed
        if unknown:
            return kibana_error(400, f"[request body.{sorted(unknown)[0]}]: definition for this key is missing")
        for required in ("name", "schedule", "params"):
            if required not in body:
                expected = "string" if required == "name" else "object"
                return kibana_error(400, f"[request body.{required}]: expected value of type [{expected}] but got [undefined]")
        schedule = body["schedule"]
        if not isinstance(schedule, dict) or set(schedule) != {"interval"} or not TIME_VALUE.match(str(schedule["interval"])):
            return kibana_error(400, "[request body.schedule.interval]: expected a duration like 1m")
        if body.get("notify_when") is not None and body["notify_when"] not in NOTIFY_WHEN:
            return kibana_error(400, f"[request body.notify_when]: types that failed validation: {body['notify_when']}")
        params = validate_rule_params(rule_type_id, body["params"])
        if isinstance(params, str):
            return kibana_error(400, f"params invalid: {params}")
        actions = []
        for index, action in enumerate(body.get("actions", [])):
            unknown = set(action) - RULE_ACTION_KEYS
            if unknown:
                return kibana_error(400, f"[request body.actions.{index}.{sorted(unknown)[0]}]: definition for this key is missing")
            if action.get("id") not in self.connectors:
                return kibana_error(400, "Failed to validate actions due to the following error: "
                                    f"Saved object [action/{action.get('id')}] not found")
            if action.get("group") not in RULE_ACTION_GROUPS[rule_type_id]:
                return kibana_error(400, f"Invalid action groups: {action.get('group')}")
            if "frequency" in action and (body.get("notify_when") is not None or body.get("throttle") is not None):
                return kibana_error(400, "Cannot specify per-action frequency params when notify_when or throttle "
                                    "are defined at the rule level")
            actions.append({
                "group": action.get("group", "default"), "id": action["id"], "params": action.get("params", {}),
                "connector_type_id": self.connectors[action["id"]]["connector_type_id"],
                "uuid": action.get("uuid", str(uuid.uuid4())),
                **{key: action[key] for key in ("frequency", "alerts_filter", "use_alert_data_for_template") if key in action},
            })
        fields = {
            "name": body["name"], "tags": body.get("tags", []), "schedule": body["schedule"], "params": params,
            "actions": actions, "throttle": body.get("throttle"), "notify_when": body.get("notify_when"),
        }
        fields.update({key: body[key] for key in ("alert_delay", "flapping", "artifacts") if key in body})
        return fields

    def _create_rule(self, body: dict[str, Any], rule_id: str, user: str) -> Reply:
        for required in ("rule_type_id", "consumer"):
            if not isinstance(body.get(required), str):
                return kibana_error(400, f"[request body.{required}]: expected value of type [string] but got [undefined]")
        if body["rule_type_id"] not in RULE_PARAMS_DEFAULTS:
            return kibana_error(400, f"Rule type \"{body['rule_type_id']}\" is not registered.")
        if rule_id in self.rules:
            return kibana_error(409, f"Saved object [alert/{rule_id}] conflict")
        # alerting_authorization.ts ensureAuthorized, before params and actions (create_rule.ts).
        if body["rule_type_id"] == ".es-query" and body["consumer"] not in ES_QUERY_CONSUMERS:
            return kibana_error(403, f'Unauthorized by "{body["consumer"]}" to create "{body["rule_type_id"]}" rule')
        refusal = self._rule_refusal(user, body["rule_type_id"], body["consumer"], "create", body.get("actions"))
        if refusal:
            return refusal
        fields = self._rule_fields(body, body["rule_type_id"], RULE_CREATE_KEYS)
        if isinstance(fields, Reply):
            return fields
        enabled = body.get("enabled", True)
        self.rules[rule_id] = {
            "id": rule_id, "rule_type_id": body["rule_type_id"], "consumer": body["consumer"],
            "enabled": enabled, **fields, "mute_all": False, "muted_alert_ids": [],
            "revision": 0, "created_by": user, "updated_by": user, "created_at": _now(),
            "updated_at": _now(), **self._grant_rule_key(rule_id, user, enabled), "scheduled_task_id": rule_id,
            "execution_status": {"status": "pending", "last_execution_date": _now()},
        }
        return Reply(200, copy.deepcopy(self.rules[rule_id]))

    def _update_rule(self, body: dict[str, Any], rule_id: str, user: str) -> Reply:
        if rule_id not in self.rules:
            return kibana_error(404, f"Saved object [alert/{rule_id}] not found")
        stored = self.rules[rule_id]
        # update_rule.ts: ensureAuthorized (update), then validateActions, then the new API key; the fake
        # checks both privileges before it validates the body.
        refusal = self._rule_refusal(user, stored["rule_type_id"], stored["consumer"], "update", body.get("actions"))
        if refusal:
            return refusal
        fields = self._rule_fields(body, stored["rule_type_id"], RULE_UPDATE_KEYS)
        if isinstance(fields, Reply):
            return fields
        for optional in ("alert_delay", "flapping", "artifacts"):
            stored.pop(optional, None)
        stored.update(fields, revision=stored["revision"] + 1, updated_at=_now(), updated_by=user,
                      **self._grant_rule_key(rule_id, user, stored["enabled"]))
        return Reply(200, copy.deepcopy(stored))

    def _update_rule_api_key(self, rule_id: str, user: str) -> Reply:
        """POST /api/alerting/rule/<id>/_update_api_key (routes/rule/apis/update_api_key/
        update_rule_api_key_route.ts: 204, no body). update_rule_api_key.ts: ensureAuthorized
        (updateApiKey), then a new key as the caller whether or not the rule is enabled
        (shouldUpdateApiKey: true), updatedBy the caller; the revision stays."""
        if rule_id not in self.rules:
            return kibana_error(404, f"Saved object [alert/{rule_id}] not found")
        stored = self.rules[rule_id]
        refusal = self._rule_refusal(user, stored["rule_type_id"], stored["consumer"], "updateApiKey", stored["actions"])
        if refusal:
            return refusal
        stored.update(updated_at=_now(), updated_by=user, **self._grant_rule_key(rule_id, user, True))
        return Reply(204, raw=b"")


def _worst(levels: Any) -> str:
    return max(levels, key=STATUS_LEVELS.index, default="available")


def _compat_version(header: str) -> str | None:
    match = re.search(r"application/vnd\.elasticsearch\+[a-z-]+\s*;\s*compatible-with\s*=\s*(\d+)", header)
    return match.group(1) if match else None


def _check_media_types(record: RecordedRequest) -> Reply | None:
    """Elasticsearch's REST compatibility rules for Accept and Content-Type."""
    accept = _compat_version(record.headers.get("accept", ""))
    content = _compat_version(record.headers.get("content-type", ""))
    for version in (accept, content):
        if version is not None and version not in SUPPORTED_COMPAT_VERSIONS:
            return es_error(400, "media_type_header_exception", "Invalid media-type value on headers [Accept, Content-Type]: "
                            f"compatible-with={version} is not supported")
    if accept and content and accept != content:
        return es_error(400, "media_type_header_exception",
                        "A compatible version is required on both Content-Type and Accept headers and they must match")
    if record.body:
        content_type = record.headers.get("content-type", "")
        if not re.match(r"application/(json|vnd\.elasticsearch\+json)", content_type):
            return Reply(406, {"error": f"Content-Type header [{content_type}] is not supported", "status": 406})
    return None
