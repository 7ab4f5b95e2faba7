"""Offline consistency checks of the Kibana assets the setup service imports and creates.

kibana/saved_objects/django-logs.ndjson goes to POST /api/saved_objects/_import, which answers 200
even when objects fail, and creates no object whose references do not resolve; the
connector and rules go to POST /api/actions/connector/<id> and /api/alerting/rule/<id>.
These tests catch, without a Kibana, what those calls would reject or silently drop.
"""

import importlib
import json
import logging
import re
import uuid

import pytest

from stack_models.es_fields import indexed_values, ip_key, mapped_fields, rejection, source_values
from stack_models.esql import EsqlUnsupported, read_esql
from stack_models.kql import read_kql, to_query_dsl
from stack_models.query_dsl import compile_query
from tests.support.ecs_fields import ECS_VERSION
from tests.support.elastic_api import (
    CONNECTOR_CREATE_KEYS,
    ES_QUERY_PARAM_KEYS,
    ESQL_QUERY_PARAM_KEYS,
    INDEX_CONNECTOR_CONFIG_DEFAULTS,
    INDEX_CONNECTOR_CONFIG_REQUIRED,
    INDEX_CONNECTOR_PARAM_KEYS,
    NOTIFY_WHEN,
    RULE_ACTION_KEYS,
    RULE_CREATE_KEYS,
    RULE_REQUIRED_KEYS,
)
from tests.support.env_file import ELASTIC_VERSION
from tests.support.fake_elastic import MAX_GROUPS
from tests.support.kibana_objects import (
    ALERT_DOCUMENT_VARIABLES,
    ALERTS_DATA_VIEW_ID,
    LENS_RECORDS_FIELD,
    LOGS_DATA_VIEW_ID,
    MUSTACHE,
    UnsupportedQuery,
    document_fields,
    documented_numbers,
    es_search_body_fields,
    field_usages,
    json_attribute,
    kql_fields,
    lens_fields,
    load_connectors,
    load_rules,
    load_saved_objects,
    mapped_field_types,
    on_data_view,
    query_fields,
    rule_esql,
    rule_fields,
)
from tests.support.paths import ALERTS_INDEX_TEMPLATE_PATH, EVENT_CATEGORIES_PATH, INDEX_TEMPLATE_PATH, REPO_ROOT

DATA_VIEW_ID = LOGS_DATA_VIEW_ID

FAILED_LOGINS = "event.category:authentication and event.type:start and event.outcome:failure"
ACCOUNT_CHANGES = "event.category:iam or event.action:(admin_action or session_rejected)"
# docs/incident-response.md has one section per rule, its heading the rule file's stem, so GitHub's
# anchor for it is that stem: lower-case words joined by hyphens.
RUNBOOK = "docs/incident-response.md"
RUNBOOK_ANCHOR = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Documented rule keys these rules do not use: one that starts to is reviewed here first.
UNUSED_RULE_KEYS = {"flapping", "dashboards", "artifacts"}
# Documented connector keys a .server-log connector cannot use: it only sends.
UNUSED_CONNECTOR_KEYS = {"inbound_events_enabled"}
COMPARATORS = {">", ">=", "<", "<=", "between", "notBetween"}
ES_QUERY_MAX_HITS_PER_EXECUTION = 10000
ES_QUERY_ACTION_GROUP = "query matched"
DURATION = re.compile(r"^[1-9][0-9]*[smhd]$")
SERVER_LOG_LEVELS = {"trace", "debug", "info", "warn", "error", "fatal"}

# Lens column dataType for each mapping type; text types cannot be aggregated.
LENS_DATA_TYPES = {"keyword": "string", "long": "number", "ip": "ip", "date": "date"}
NOT_AGGREGATABLE = {"text", "match_only_text"}
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def version_tuple(version: str) -> tuple[int, int, int]:
    match = SEMVER.fullmatch(version)
    assert match, f"not a x.y.z version: {version!r}"
    return tuple(int(part) for part in match.groups())


OBJECTS = load_saved_objects()
RULES = load_rules()
CONNECTORS = load_connectors()
BY_KEY = {(obj["type"], obj["id"]): obj for obj in OBJECTS}
MAPPED = mapped_field_types(json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8")))
ALERTS_TEMPLATE = json.loads(ALERTS_INDEX_TEMPLATE_PATH.read_text(encoding="utf-8"))
ALERTS_MAPPED = mapped_field_types(ALERTS_TEMPLATE)
MAPPED_BY_VIEW = {LOGS_DATA_VIEW_ID: MAPPED, ALERTS_DATA_VIEW_ID: ALERTS_MAPPED}
CONNECTOR_BY_TYPE = {connector.body["connector_type_id"]: connector for connector in CONNECTORS}


def objects_of(kind: str) -> list[dict]:
    return [obj for obj in OBJECTS if obj["type"] == kind]


def by_title(kind: str, title: str) -> dict:
    matches = [obj for obj in objects_of(kind) if obj["attributes"]["title"] == title]
    assert len(matches) == 1, f"expected one {kind} titled {title!r}, found {len(matches)}"
    return matches[0]


def ids(objects) -> list[str]:
    return [obj["id"] for obj in objects]


def lens_layers(obj: dict) -> dict:
    return obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]


def lens_columns(obj: dict) -> list[dict]:
    return [column for layer in lens_layers(obj).values() for column in layer["columns"].values()]


def dashboard_panels(obj: dict) -> list[dict]:
    return json_attribute(obj["attributes"], "panelsJSON")


def panel_targets(dashboard: dict) -> list[dict]:
    """The saved objects a dashboard's panels show, in panel order."""
    references = {ref["name"]: ref for ref in dashboard["references"]}
    return [
        BY_KEY[(panel["type"], references[f"{panel['panelIndex']}:{panel['panelRefName']}"]["id"])]
        for panel in dashboard_panels(dashboard)
    ]


def es_query(rule) -> dict:
    return json.loads(rule.body["params"]["esQuery"])


def rule_named(file_stem: str):
    matches = [rule for rule in RULES if rule.path.stem == file_stem]
    assert len(matches) == 1, f"no kibana/rules/{file_stem}.json"
    return matches[0]


# --- the parsers the field checks rely on ----------------------------------------------


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("", set()),
        ("   ", set()),
        ("log.level:ERROR", {"log.level"}),
        ("log.level:(ERROR or CRITICAL)", {"log.level"}),
        ('tags:("_grokparsefailure" or "_record_cut")', {"tags"}),
        ('event.dataset:"django.access" and not tags:_grokparsefailure', {"event.dataset", "tags"}),
        ("a:x OR b:y AND NOT c:z", {"a", "b", "c"}),
        ("http.response.status_code >= 400 and http.response.status_code<500", {"http.response.status_code"}),
        ("(a:x or (b:y and c < 3))", {"a", "b", "c"}),
        ('message:"a \\"quoted\\" (word)"', {"message"}),
        ("not:x", {"not"}),
        ("nothing:x", {"nothing"}),
    ],
)
def test_kql_reader_finds_every_field(query, fields):
    assert kql_fields(query) == fields


@pytest.mark.parametrize(
    "query",
    [
        # Valid KQL outside the subset the assets use.
        '"quoted.field":value',
        "field : spaced value",
        "user.name:(alice and not bob)",
        "url.path:\\(admin\\)\\:x*",
        "a:x*",
        "items:{ name:banana and stock > 2 }",
        "free text searched everywhere",
        'message:"tab\\there"',
        # Malformed: Kibana rejects these too.
        "a:x b:y",
        "(a:x",
        "a:x)",
        'a:"unterminated',
        "a:",
        ":x",
        "a:(x or )",
        "a >= ",
        "a:{ b:x",
    ],
)
def test_kql_reader_refuses_what_is_outside_its_subset(query):
    with pytest.raises(UnsupportedQuery):
        kql_fields(query)


def test_es_query_parser_walks_bool_clauses():
    body = {
        "query": {
            "bool": {
                "filter": [{"term": {"a": "x"}}, {"range": {"b": {"gte": 1}}}],
                "should": {"exists": {"field": "c"}},
                "must_not": [{"terms": {"d": ["x"], "boost": 2}}],
                "minimum_should_match": 1,
            }
        }
    }
    assert es_search_body_fields(body) == {"a", "b", "c", "d"}


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"query_string": {"query": "a:x"}}},
        {"query": {"match_all": {}}, "aggs": {"x": {"terms": {"field": "y"}}}},
        {"query": {"bool": {"filter": [{"script": {"script": "doc['a']"}}]}}},
    ],
)
def test_es_query_parser_refuses_what_it_cannot_read(body):
    with pytest.raises(UnsupportedQuery):
        es_search_body_fields(body)


def test_query_parser_refuses_lucene_and_esql():
    with pytest.raises(UnsupportedQuery):
        query_fields({"query": "a:x", "language": "lucene"})
    with pytest.raises(UnsupportedQuery):
        query_fields({"esql": "FROM django-logs-*"})


@pytest.mark.parametrize(
    ("esql", "fields", "columns"),
    [
        ("FROM django-logs-*", set(), []),
        ('FROM logs | WHERE a == "x" AND (b > 3 OR NOT c IS NOT NULL)', {"a", "b", "c"}, []),
        ('FROM logs | WHERE a IN ("x", "y") | STATS n = COUNT(*) BY ip', {"a", "ip"}, ["n", "ip"]),
        ("FROM logs | EVAL t = CASE(a == 1, @timestamp) | STATS first = MIN(t), k = COUNT_DISTINCT(u.name) BY ip"
         " | WHERE first > k", {"a", "@timestamp", "u.name", "ip"}, ["first", "k", "ip"]),
    ],
)
def test_esql_reader_finds_fields_and_columns(esql, fields, columns):
    query = read_esql(esql)
    assert (query.fields, query.columns) == (fields, columns)


@pytest.mark.parametrize(
    "esql",
    [
        # Valid ES|QL outside the subset read here.
        "from logs",
        "FROM logs | where a == 1",
        "FROM logs, other",
        "FROM logs METADATA _id",
        'FROM "logs"',
        "FROM logs | KEEP a",
        "FROM logs | STATS n = AVG(a)",
        "FROM logs | STATS n = COUNT(*) WHERE a == 1",
        "FROM logs | WHERE a LIKE \"x*\"",
        "FROM logs | WHERE a == 1.5",
        'FROM logs | WHERE a == "tab\\t"',
        "FROM logs | WHERE `a b` == 1",
        "FROM logs | EVAL a.b = 1",
        "FROM logs | EVAL x = a + 1",
        "FROM logs | WHERE a == 1 // comment",
        # Columns that do not exist after STATS, as ES|QL's verifier would say.
        "FROM logs | STATS n = COUNT(*) BY ip | WHERE user.name == \"x\"",
        "FROM logs | STATS n = COUNT(*), n = MAX(a)",
        # Malformed: Elasticsearch refuses these too.
        "WHERE a == 1",
        "FROM logs |",
        "FROM logs | WHERE",
        "FROM logs | WHERE a ==",
        "FROM logs | WHERE a IN ()",
        "FROM logs | WHERE (a == 1",
        "FROM logs | STATS COUNT(*)",
        "FROM logs | FROM other",
    ],
)
def test_esql_reader_refuses_what_is_outside_its_subset(esql):
    with pytest.raises(EsqlUnsupported):
        read_esql(esql)


def test_lens_parser_refuses_formulas():
    formula = {"operationType": "formula", "label": "f", "params": {"formula": "count(kql='a:x')"}}
    attributes = {"state": {"datasourceStates": {"formBased": {"layers": {"l": {"columns": {"c": formula}}}}}}}
    with pytest.raises(UnsupportedQuery):
        lens_fields(attributes)


# --- saved objects: identity, references, stamps ------------------------------------------


def test_saved_object_ids_are_unique():
    assert len(ids(OBJECTS)) == len(set(ids(OBJECTS)))


def test_data_view_is_the_one_the_stack_contract_names():
    view = BY_KEY[("index-pattern", DATA_VIEW_ID)]["attributes"]
    assert view["title"] == "django-logs-*"
    assert view["timeFieldName"] == "@timestamp"
    assert view["name"] == "Django logs"


@pytest.mark.parametrize("obj", OBJECTS, ids=ids(OBJECTS))
def test_every_reference_resolves_to_an_object_in_the_file(obj):
    names = [ref["name"] for ref in obj["references"]]
    assert len(names) == len(set(names)), "reference names must be unique within an object"
    for ref in obj["references"]:
        assert set(ref) == {"id", "name", "type"}
        assert (ref["type"], ref["id"]) in BY_KEY, f"{ref} does not resolve"


@pytest.mark.parametrize("obj", OBJECTS, ids=ids(OBJECTS))
def test_every_object_carries_version_stamps_no_newer_than_the_stack(obj):
    # With no stamp, import runs every migration from the first one (Kibana's
    # import/lib/collect_saved_objects.ts sets typeMigrationVersion ''), which old
    # migrations can break on a modern object; a newer stamp is refused.
    limit = version_tuple(ELASTIC_VERSION)
    core = obj.get("coreMigrationVersion")
    type_version = obj.get("typeMigrationVersion") or obj.get("migrationVersion", {}).get(obj["type"])
    assert core and type_version, "coreMigrationVersion and typeMigrationVersion are both needed"
    assert version_tuple(core) <= limit
    assert version_tuple(type_version) <= limit


@pytest.mark.parametrize("dashboard", objects_of("dashboard"), ids=ids(objects_of("dashboard")))
def test_dashboard_panels_name_their_references_as_kibana_exports_do(dashboard):
    panels = dashboard_panels(dashboard)
    references = {ref["name"]: ref for ref in dashboard["references"]}
    panel_indexes = [panel["panelIndex"] for panel in panels]
    assert len(panel_indexes) == len(set(panel_indexes))
    expected_names = set()
    for panel in panels:
        index = panel["panelIndex"]
        assert panel["gridData"]["i"] == index
        assert panel["panelRefName"] == f"panel_{index}"
        name = f"{index}:panel_{index}"
        assert name in references, f"panel {index} has no reference {name!r}"
        assert references[name]["type"] == panel["type"]
        expected_names.add(name)
    assert set(references) == expected_names, "every dashboard reference belongs to one panel"


@pytest.mark.parametrize("dashboard", objects_of("dashboard"), ids=ids(objects_of("dashboard")))
def test_dashboard_panels_fit_the_48_column_grid_without_overlapping(dashboard):
    cells = set()
    for panel in dashboard_panels(dashboard):
        grid = panel["gridData"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 48
        columns = range(grid["x"], grid["x"] + grid["w"])
        rows = range(grid["y"], grid["y"] + grid["h"])
        area = {(x, y) for x in columns for y in rows}
        assert not cells & area, f"panel {panel['panelIndex']} overlaps another"
        cells |= area


@pytest.mark.parametrize("lens", objects_of("lens"), ids=ids(objects_of("lens")))
def test_lens_layers_reference_the_data_view_by_layer_id(lens):
    layer_references = {
        ref["name"].removeprefix("indexpattern-datasource-layer-"): ref
        for ref in lens["references"]
        if ref["name"].startswith("indexpattern-datasource-layer-")
    }
    assert set(layer_references) == set(lens_layers(lens))
    for ref in layer_references.values():
        assert ref["type"] == "index-pattern" and ref["id"] in MAPPED_BY_VIEW


@pytest.mark.parametrize("lens", objects_of("lens"), ids=ids(objects_of("lens")))
def test_lens_visualization_uses_only_columns_of_its_layers(lens):
    layers = lens_layers(lens)
    for layer in layers.values():
        assert set(layer["columnOrder"]) == set(layer["columns"])
        for column in layer["columns"].values():
            order_by = column.get("params", {}).get("orderBy", {})
            if order_by.get("type") == "column":
                assert order_by["columnId"] in layer["columns"]
    for vis_layer in lens["attributes"]["state"]["visualization"]["layers"]:
        columns = layers[vis_layer["layerId"]]["columns"]
        accessors = [vis_layer["xAccessor"], *vis_layer["accessors"], vis_layer.get("splitAccessor")]
        assert all(accessor in columns for accessor in accessors if accessor is not None)


@pytest.mark.parametrize("search", objects_of("search"), ids=ids(objects_of("search")))
def test_saved_searches_reach_the_data_view_through_their_index_ref_name(search):
    source = json_attribute(search["attributes"], "kibanaSavedObjectMeta", "searchSourceJSON")
    references = {ref["name"]: ref for ref in search["references"]}
    ref = references[source["indexRefName"]]
    assert ref["type"] == "index-pattern" and ref["id"] in MAPPED_BY_VIEW


# --- fields against the index template ---------------------------------------------------


def test_every_field_any_object_or_rule_uses_is_mapped():
    unmapped = {
        field: sorted(users) for field, users in field_usages(on_data_view(OBJECTS, LOGS_DATA_VIEW_ID), RULES).items()
        if field not in MAPPED
    }
    assert not unmapped, f"fields not in {INDEX_TEMPLATE_PATH.relative_to(REPO_ROOT)}: {unmapped}"


def test_every_field_the_alerts_objects_and_documents_use_is_mapped_in_the_alerts_template():
    used = field_usages(on_data_view(OBJECTS, ALERTS_DATA_VIEW_ID), [])
    for rule in RULES:
        for field in document_fields(index_action(rule)["params"]["documents"][0]):
            used.setdefault(field, set()).add(f"rule {rule.path.name}")
    used.setdefault(CONNECTOR_BY_TYPE[".index"].body["config"]["executionTimeField"], set()).add("the index connector")
    assert on_data_view(OBJECTS, ALERTS_DATA_VIEW_ID), "no saved object reads the alerts"
    unmapped = {field: sorted(users) for field, users in used.items() if field not in ALERTS_MAPPED}
    assert not unmapped, f"fields not in {ALERTS_INDEX_TEMPLATE_PATH.relative_to(REPO_ROOT)}: {unmapped}"


@pytest.mark.parametrize("lens", objects_of("lens"), ids=ids(objects_of("lens")))
def test_lens_columns_agree_with_the_mapped_field_types(lens):
    for column in lens_columns(lens):
        field = column.get("sourceField")
        if field is None or field == LENS_RECORDS_FIELD:
            continue
        mapped = MAPPED[field]
        assert mapped not in NOT_AGGREGATABLE, f"{field} ({mapped}) cannot be aggregated"
        assert column["dataType"] == LENS_DATA_TYPES[mapped], field


@pytest.mark.parametrize("search", objects_of("search"), ids=ids(objects_of("search")))
def test_saved_searches_sort_on_sortable_fields(search):
    mapped = MAPPED_BY_VIEW[search["references"][0]["id"]]
    for field, direction in search["attributes"]["sort"]:
        assert mapped[field] not in NOT_AGGREGATABLE
        assert direction in ("asc", "desc")


# --- what the dashboards and searches show (the brief) ------------------------------------


def test_django_overview_dashboard_shows_volume_loggers_status_latency_and_errors():
    panels = panel_targets(by_title("dashboard", "Django overview"))
    assert [panel["type"] for panel in panels] == ["lens", "lens", "lens", "lens", "search"]
    level, loggers, status, latency, errors = panels
    assert {column.get("sourceField") for column in lens_columns(level)} >= {"@timestamp", "log.level"}
    assert "log.logger" in {column.get("sourceField") for column in lens_columns(loggers)}
    assert {column.get("sourceField") for column in lens_columns(status)} >= {"@timestamp", "http.response.status_code"}
    latency_metrics = {
        (column["operationType"], column.get("params", {}).get("percentile"))
        for column in lens_columns(latency)
        if column.get("sourceField") == "event.duration"
    }
    assert latency_metrics == {("median", None), ("percentile", 95)}
    for access_only in (status, latency):
        query = access_only["attributes"]["state"]["query"]
        assert query == {"query": 'event.dataset:"django.access"', "language": "kuery"}
    assert errors["attributes"]["title"] == "Latest errors"


def test_security_dashboard_shows_auth_events_failing_users_and_ips_and_latest_events():
    panels = panel_targets(by_title("dashboard", "Security events"))
    assert [panel["type"] for panel in panels] == ["lens", "lens", "lens", "search", "search", "search", "search"]
    auth, usernames, addresses, latest, alerts, accounts, refused = panels
    buckets = [column for column in lens_columns(auth) if column["operationType"] == "filters"]
    assert [bucket["input"]["query"] for bucket in buckets[0]["params"]["filters"]] == [
        "event.category:authentication and event.type:start and event.outcome:success",
        "event.category:authentication and event.type:end",
        FAILED_LOGINS,
    ]
    for lens, field in ((usernames, "user.name"), (addresses, "source.ip")):
        assert lens["attributes"]["state"]["query"]["query"] == FAILED_LOGINS
        terms = [column for column in lens_columns(lens) if column["operationType"] == "terms"]
        assert [column["sourceField"] for column in terms] == [field]
    assert latest["attributes"]["title"] == "Latest security events"
    assert alerts["attributes"]["title"] == "Security alerts"
    assert alerts["references"][0]["id"] == ALERTS_DATA_VIEW_ID
    assert accounts["attributes"]["title"] == "Account and privilege changes"
    assert refused["attributes"]["title"] == "Refused requests and worker timeouts"


def test_alerts_data_view_reads_the_alerts_data_stream_by_the_time_the_connector_sets():
    view = BY_KEY[("index-pattern", ALERTS_DATA_VIEW_ID)]["attributes"]
    assert view["title"] == CONNECTOR_BY_TYPE[".index"].body["config"]["index"] == "django-alerts"
    assert view["timeFieldName"] == CONNECTOR_BY_TYPE[".index"].body["config"]["executionTimeField"] == "@timestamp"
    assert view["allowNoIndex"] is True  # the view exists before the first alert fires


@pytest.mark.parametrize(
    ("title", "query", "columns"),
    [
        (
            "Latest errors",
            "log.level:(ERROR or CRITICAL)",
            ["message", "error.type", "log.logger", "service.name", "host.name", "http.request.id", "error.stack_trace"],
        ),
        (
            "Latest security events",
            'event.dataset:"django.security"',
            ["event.action", "event.outcome", "user.name", "source.ip", "url.path", "user_agent.original", "message"],
        ),
        ("Security alerts", "", ["rule.name", "alert.id", "source.ip", "alert.conditions", "rule.reference"]),
        (
            "Account and privilege changes",
            ACCOUNT_CHANGES,
            ["event.action", "event.outcome", "user.name", "user.target.name", "user.target.group.name", "django.privilege.name",
             "django.privilege.old", "django.privilege.new", "django.object.type", "django.object.id",
             "django.object.operation", "source.ip", "client.ip", "message"],
        ),
        (
            "Refused requests and worker timeouts",
            "event.action:(request_refused or worker_timeout)",
            ["event.action", "event.code", "source.ip", "message"],
        ),
        (
            "Parse failures",
            'tags:("_grokparsefailure" or "_groktimeout" or "_dateparsefailure" or "multiline_codec_max_lines_reached"'
            ' or "multiline_codec_max_bytes_reached" or "_record_cut" or "_dead_letter")',
            ["event.dataset", "log.file.path", "tags", "message"],
        ),
    ],
)
def test_saved_searches_query_and_columns(title, query, columns):
    search = by_title("search", title)
    source = json_attribute(search["attributes"], "kibanaSavedObjectMeta", "searchSourceJSON")
    assert source["query"] == {"query": query, "language": "kuery"}
    assert search["attributes"]["columns"] == columns
    assert search["attributes"]["sort"] == [["@timestamp", "desc"]]


# --- connectors and alert rules -----------------------------------------------------------


def test_connectors_are_one_server_log_and_one_index_connector_with_documented_create_bodies():
    assert sorted(CONNECTOR_BY_TYPE) == [".index", ".server-log"] and len(CONNECTORS) == 2
    for connector in CONNECTORS:
        assert uuid.UUID(connector.id).version == 4
        assert set(connector.body) == CONNECTOR_CREATE_KEYS - UNUSED_CONNECTOR_KEYS
        assert connector.body["secrets"] == {}
    assert CONNECTOR_BY_TYPE[".server-log"].body["config"] == {}


def test_index_connector_writes_the_alerts_data_stream_the_alerts_template_creates():
    config = CONNECTOR_BY_TYPE[".index"].body["config"]
    assert INDEX_CONNECTOR_CONFIG_REQUIRED <= set(config) <= INDEX_CONNECTOR_CONFIG_REQUIRED | set(INDEX_CONNECTOR_CONFIG_DEFAULTS)
    assert ALERTS_TEMPLATE["index_patterns"] == [config["index"]]
    # The connector bulk-writes with op_type create, which a data stream requires, and each
    # document needs the data stream's @timestamp: the connector sets it (executionTimeField).
    assert ALERTS_TEMPLATE["data_stream"] == {}
    assert config["executionTimeField"] == "@timestamp" and ALERTS_MAPPED["@timestamp"] == "date"
    assert config["refresh"] is True  # an alert is searchable as soon as it is written


def test_rule_ids_are_unique_uuids():
    rule_ids = [rule.id for rule in RULES]
    assert len(rule_ids) == len(set(rule_ids))
    # The create-rule API documents a custom id as a UUID v1 or v4.
    assert all(uuid.UUID(rule_id).version == 4 for rule_id in rule_ids)


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_rule_body_has_the_documented_create_shape(rule):
    body = rule.body
    assert RULE_REQUIRED_KEYS <= set(body) <= RULE_CREATE_KEYS - UNUSED_RULE_KEYS
    assert body["rule_type_id"] == ".es-query"
    assert body["consumer"] == "alerts"
    assert body["name"].strip()
    assert set(body["schedule"]) == {"interval"} and DURATION.fullmatch(body["schedule"]["interval"])


def is_esql(rule) -> bool:
    return rule.body["params"]["searchType"] == "esqlQuery"


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_rule_params_are_valid_es_query_params(rule):
    params = rule.body["params"]
    assert params["timeField"] == "@timestamp"
    assert params["thresholdComparator"] in COMPARATORS
    expected_thresholds = 2 if params["thresholdComparator"] in ("between", "notBetween") else 1
    assert len(params["threshold"]) == expected_thresholds
    assert all(isinstance(value, int | float) for value in params["threshold"])
    assert isinstance(params["timeWindowSize"], int) and params["timeWindowSize"] >= 1
    assert params["timeWindowUnit"] in ("s", "m", "h", "d")
    assert 0 <= params["size"] <= ES_QUERY_MAX_HITS_PER_EXECUTION
    # Kibana's AggTypes are count, avg, min, max and sum: a distinct count needs ES|QL.
    assert params.get("aggType", "count") == "count"
    if is_esql(rule):
        # v1.ts validateParams: an ES|QL rule fires when its query returns rows, so only "> 0" is accepted.
        assert set(params) <= ESQL_QUERY_PARAM_KEYS
        assert (params["thresholdComparator"], params["threshold"]) == (">", [0])
        assert set(params["esqlQuery"]) == {"esql"}
        # One alert per row; the alert id comes from the STATS ... BY columns (kibana#212135).
        assert params["groupBy"] == "row"
        query = rule_esql(rule)
        assert query.index == "django-logs-*"
        # One alert per source IP, per account, or per event (SECURITY_RULE_GROUPS).
        assert len(query.group_by) == len(SECURITY_RULE_GROUPS[rule.path.stem])
    else:
        assert set(params) <= ES_QUERY_PARAM_KEYS
        assert params["searchType"] == "esQuery"
        assert params["index"] == ["django-logs-*"]
        assert params.get("groupBy", "all") in ("all", "top")
        if params.get("groupBy") == "top":
            assert 1 <= params["termSize"] <= MAX_GROUPS
        # Kibana rejects an esQuery that is not JSON or has no "query".
        assert "query" in es_query(rule)


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_rule_fields_are_mapped_and_the_time_field_is_a_date(rule):
    fields = rule_fields(rule)
    assert fields <= set(MAPPED), sorted(fields - set(MAPPED))
    assert MAPPED[rule.body["params"]["timeField"]] == "date"
    # Terms, distinct counts, == and IN compare whole values: never analysed text.
    assert not {field for field in fields if MAPPED[field] in NOT_AGGREGATABLE}


# Every security detection alerts per source IP, or per account where the events have no address (the
# tutorial format's "Login failed: <name>", "User logged in: <name>": docs/log-lines.md). An account is its
# user name lowercased: ModelBackend's exact lookup is case-insensitive on a case-insensitive collation
# (MySQL's default), so "alice", "Alice" and "ALICE" are one account an attacker could spread guesses over.
# A rule that fires at once on each event (no threshold) alerts per event: its time, action, target and
# privilege, so a second event while the first's alert is active is a new alert, not hidden in the first.
PER_IP = [("column", "source.ip")]
PER_ACCOUNT = [("to_lower", ("column", "user.name"))]
PER_EVENT = [("column", "@timestamp"), ("column", "event.action"), ("column", "user.target.name"),
             ("column", "django.privilege.name")]
SECURITY_RULE_GROUPS = {
    "brute-force-account": PER_ACCOUNT,
    "brute-force-account-success": PER_ACCOUNT,
    "brute-force-logins": PER_IP,
    "brute-force-success": PER_IP,
    "credential-stuffing": PER_IP,
    "suspicious-requests": PER_IP,
    "privilege-gain": PER_EVENT,
}


def grouping_expressions(rule) -> list[tuple]:
    """What each alert is grouped on: a term field, or each BY column as the EVAL before it computed it."""
    if not is_esql(rule):
        return [("column", rule.body["params"]["termField"])]
    query = rule_esql(rule)
    computed = {name: operand for command in query.commands if command[0] == "eval" for name, operand in command[1]}
    return [computed.get(name, ("column", name)) for name in query.group_by]


def test_every_security_detection_alerts_per_source_ip_or_per_account():
    security = {rule.path.stem: rule for rule in RULES if "security" in rule.body["tags"]}
    assert sorted(security) == sorted(SECURITY_RULE_GROUPS)
    for stem, rule in security.items():
        assert grouping_expressions(rule) == SECURITY_RULE_GROUPS[stem], rule.path.name


def actions_by_type(rule) -> dict[str, dict]:
    connectors = {connector.id: connector for connector in CONNECTORS}
    by_type = {connectors[action["id"]].body["connector_type_id"]: action for action in rule.body["actions"]}
    assert len(by_type) == len(rule.body["actions"]), f"{rule.path.name}: two actions through one connector type"
    return by_type


def index_action(rule) -> dict:
    return actions_by_type(rule)[".index"]


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_every_rule_acts_through_the_server_log_and_the_alerts_index(rule):
    by_type = actions_by_type(rule)
    assert sorted(by_type) == [".index", ".server-log"]
    for action in rule.body["actions"]:
        assert set(action) <= RULE_ACTION_KEYS
        assert action["group"] == ES_QUERY_ACTION_GROUP
        frequency = action["frequency"]
        assert set(frequency) == {"summary", "notify_when", "throttle"}
        assert isinstance(frequency["summary"], bool)
        assert frequency["notify_when"] in NOTIFY_WHEN
        assert frequency["throttle"] is None or DURATION.fullmatch(frequency["throttle"])
    log = by_type[".server-log"]
    assert set(log["params"]) == {"level", "message"}
    assert log["params"]["level"] in SERVER_LOG_LEVELS
    assert log["params"]["message"].strip()
    # Both actions fire together: an alert in the server log is an alert in the index.
    assert by_type[".index"]["frequency"] == log["frequency"]


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_every_rule_writes_one_alert_document_naming_rule_group_time_condition_and_runbook(rule):
    params = index_action(rule)["params"]
    assert set(params) <= INDEX_CONNECTOR_PARAM_KEYS and "indexOverride" not in params
    (document,) = params["documents"]
    fields = document_fields(document)
    # ECS: ecs.version in every event, the runbook link as rule.reference, and the alert's group as
    # source.ip where the group is one client address (an alert then joins its events on source.ip).
    per_ip = {"source.ip": "{{alert.id}}"} if SECURITY_RULE_GROUPS.get(rule.path.stem) == PER_IP else {}
    assert fields == {
        "ecs.version": ECS_VERSION,
        "rule.id": "{{rule.id}}",
        "rule.name": "{{rule.name}}",
        "rule.reference": f"{RUNBOOK}#{rule.path.stem}",
        "alert.id": "{{alert.id}}",
        "alert.detected_at": "{{context.date}}",
        "alert.value": "{{context.value}}",
        "alert.conditions": "{{context.conditions}}",
        "alert.reason": "{{context.message}}",
        **per_ip,
    }
    for field, value in fields.items():
        assert set(MUSTACHE.findall(value)) <= ALERT_DOCUMENT_VARIABLES, field
    # A date field gets the ISO date context.date is; a long gets context.value, a number.
    assert ALERTS_MAPPED["alert.detected_at"] == "date" and ALERTS_MAPPED["alert.value"] == "long"


def test_runbook_anchors_are_well_formed_and_one_per_rule():
    anchors = [index_action(rule)["params"]["documents"][0]["rule"]["reference"].partition("#") for rule in RULES]
    assert all(path == RUNBOOK and sep == "#" and RUNBOOK_ANCHOR.fullmatch(anchor) for path, sep, anchor in anchors)
    assert len({anchor for _, _, anchor in anchors}) == len(RULES)


def rendered(template, variables: dict[str, str]):
    """An Index action's document with its mustache variables replaced, as Kibana renders it."""
    if isinstance(template, dict):
        return {key: rendered(value, variables) for key, value in template.items()}
    return MUSTACHE.sub(lambda match: variables[match.group(1)], template)


# An alert id of each kind of group, as Kibana names the alert (alert_rules.py: an ip bucket key is the
# address, an ES|QL row's id its BY values joined with ","; an ungrouped rule's alert is "query matched").
GROUP_IDS = {"per-ip": "203.0.113.7", "per-account": "alice", "per-event": "2025-03-01T11:59:50.000Z,user_deleted,bob,",
             "all": "query matched"}


def group_kind(rule) -> str:
    groups = SECURITY_RULE_GROUPS.get(rule.path.stem)
    kinds = (("per-ip", PER_IP), ("per-account", PER_ACCOUNT), ("per-event", PER_EVENT))
    return next((kind for kind, expected in kinds if groups == expected), "all")


@pytest.mark.parametrize("rule", RULES, ids=[rule.path.stem for rule in RULES])
def test_every_alert_document_is_indexed_whole_and_a_per_ip_alert_joins_its_events_on_source_ip(rule):
    mappings = ALERTS_TEMPLATE["template"]["mappings"]
    source_ip = mapped_fields(mappings)["source.ip"]
    variables = {"rule.id": rule.id, "rule.name": rule.body["name"], "alert.id": GROUP_IDS[group_kind(rule)],
                 "context.date": "2025-03-01T12:00:00.000Z", "context.value": "11",
                 "context.conditions": "Query matched documents", "context.message": "Document count is 11"}
    document = rendered(index_action(rule)["params"]["documents"][0], variables)
    assert rejection(mappings, document) is None
    indexed = indexed_values(source_ip, source_values(document))
    # The same field and type as the logs' source.ip, so a query on the address finds both.
    assert (source_ip.type, MAPPED["source.ip"]) == ("ip", "ip")
    assert indexed == ([ip_key("203.0.113.7")] if group_kind(rule) == "per-ip" else [])
    # A group that is not an address (were the rule regrouped) loses source.ip, never the alert: an ip
    # field rejects the document for "" or any other malformed value unless ignore_malformed (IpFieldMapper).
    if group_kind(rule) == "per-ip":
        odd = rendered(index_action(rule)["params"]["documents"][0], {**variables, "alert.id": ""})
        assert rejection(mappings, odd) is None and indexed_values(source_ip, source_values(odd)) == []
        strict = {**mappings, "properties": {**mappings["properties"], "source": {"properties": {"ip": {"type": "ip"}}}}}
        assert "source.ip" in (rejection(strict, odd) or "")


CATEGORIES = json.loads(EVENT_CATEGORIES_PATH.read_text(encoding="utf-8"))
LOGS_FIELDS = mapped_fields(json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8"))["template"]["mappings"])


def kql_selects(query: str) -> set[str]:
    """The actions whose security events, categorized as the pipeline does, the KQL query matches."""
    matches = compile_query(to_query_dsl(read_kql(query), LOGS_FIELDS), LOGS_FIELDS)
    return {action for action, row in CATEGORIES.items() if not action.startswith("django.")  # the rest: datasets
            and matches(source_values({"event": {"dataset": "django.security", "action": action, **row}}))}


@pytest.mark.parametrize(("query", "actions"), [
    # Each ECS query and the event.action list it replaced on the Security events dashboard.
    ("event.category:authentication and event.type:start and event.outcome:success", {"user_logged_in"}),
    ("event.category:authentication and event.type:end", {"user_logged_out"}),
    (FAILED_LOGINS, {"user_login_failed"}),
    (ACCOUNT_CHANGES, {"password_changed", "password_change_failed", "password_reset_requested",
                       "password_reset_completed", "privilege_changed", "user_created", "user_deleted",
                       "user_deactivated", "admin_action", "session_rejected"}),
])
def test_the_dashboards_ecs_queries_select_the_events_their_action_lists_did(query, actions):
    assert kql_selects(query) == actions


SECURITY_DATASET = {"term": {"event.dataset": "django.security"}}
# A login attempt in ECS terms: the categories are arrays ([authentication, session] for a login), which an
# ES|QL comparison drops (null on a multi-value), so the ES|QL rules test them with KQL's term queries.
LOGIN_ATTEMPTS = 'KQL("event.category: authentication and event.type: start") AND event.dataset == "django.security"'


@pytest.mark.parametrize(
    ("file_stem", "threshold", "window", "filters", "grouping"),
    [
        (
            "brute-force-logins",
            10,
            (5, "m"),
            [SECURITY_DATASET, {"term": {"event.category": "authentication"}}, {"term": {"event.type": "start"}},
             {"term": {"event.outcome": "failure"}}],
            {"groupBy": "top", "termField": "source.ip", "termSize": 100},
        ),
        ("error-burst", 20, (5, "m"), [{"terms": {"log.level": ["ERROR", "CRITICAL"]}}], {"groupBy": "all"}),
        (
            "parse-failures",
            0,
            (15, "m"),
            [{"terms": {"tags": ["_grokparsefailure", "_groktimeout", "_dateparsefailure", "multiline_codec_max_lines_reached",
                                 "multiline_codec_max_bytes_reached", "_record_cut", "_dead_letter"]}}],
            {"groupBy": "all"},
        ),
    ],
)
def test_rules_alert_on_the_specified_conditions(file_stem, threshold, window, filters, grouping):
    rule = rule_named(file_stem)
    params = rule.body["params"]
    assert (params["thresholdComparator"], params["threshold"]) == (">", [threshold])
    assert (params["timeWindowSize"], params["timeWindowUnit"]) == window
    assert es_query(rule) == {"query": {"bool": {"filter": filters}}}
    assert {key: params[key] for key in grouping} == grouping
    # A sliding-window count: hits seen by the previous run still count.
    assert params["excludeHitsFromPreviousRun"] is False


@pytest.mark.parametrize(
    ("file_stem", "window", "esql"),
    [
        (
            "credential-stuffing",
            (10, "m"),
            'FROM django-logs-*'
            f' | WHERE {LOGIN_ATTEMPTS} AND event.outcome == "failure" AND source.ip IS NOT NULL'
            " | STATS distinct_users = COUNT_DISTINCT(user.name), failures = COUNT(*) BY source.ip"
            " | WHERE distinct_users > 5",
        ),
        (
            "brute-force-success",
            (5, "m"),
            'FROM django-logs-*'
            f" | WHERE {LOGIN_ATTEMPTS} AND source.ip IS NOT NULL"
            ' | EVAL failed_at = CASE(event.outcome == "failure", @timestamp),'
            ' logged_in_at = CASE(event.outcome == "success", @timestamp)'
            " | STATS failures = COUNT(failed_at), first_failure = MIN(failed_at), last_login = MAX(logged_in_at)"
            " BY source.ip"
            " | WHERE failures > 10 AND last_login > first_failure",
        ),
        (
            "brute-force-account",
            (5, "m"),
            'FROM django-logs-*'
            f' | WHERE {LOGIN_ATTEMPTS} AND event.outcome == "failure" AND user.name IS NOT NULL'
            " | EVAL account = TO_LOWER(user.name)"
            " | STATS failures = COUNT(*) BY account"
            " | WHERE failures > 10",
        ),
        (
            "brute-force-account-success",
            (5, "m"),
            'FROM django-logs-*'
            f" | WHERE {LOGIN_ATTEMPTS} AND user.name IS NOT NULL"
            ' | EVAL account = TO_LOWER(user.name), failed_at = CASE(event.outcome == "failure", @timestamp),'
            ' logged_in_at = CASE(event.outcome == "success", @timestamp)'
            " | STATS failures = COUNT(failed_at), first_failure = MIN(failed_at), last_login = MAX(logged_in_at)"
            " BY account"
            " | WHERE failures > 10 AND last_login > first_failure",
        ),
    ],
)
def test_esql_rules_query_the_specified_conditions(file_stem, window, esql):
    # The window is the rule's: Kibana adds a range filter on timeField (fetch_esql_query.ts getEsqlQuery).
    params = rule_named(file_stem).body["params"]
    assert params["esqlQuery"]["esql"] == esql
    assert (params["timeWindowSize"], params["timeWindowUnit"]) == window


def test_rule_placeholders_are_filled_from_the_environment_values():
    numbers = {**documented_numbers(), "BRUTE_FORCE_FAILURES": 3, "CREDENTIAL_STUFFING_WINDOW_MINUTES": 7}
    rules = {rule.path.stem: rule for rule in load_rules(numbers=numbers)}
    assert rules["brute-force-logins"].body["params"]["threshold"] == [3]
    assert rules["brute-force-success"].body["params"]["esqlQuery"]["esql"].endswith("WHERE failures > 3 AND last_login > first_failure")
    assert rules["brute-force-account"].body["params"]["esqlQuery"]["esql"].endswith("WHERE failures > 3")
    assert rules["credential-stuffing"].body["params"]["timeWindowSize"] == 7
    assert "more than 3 failed logins" in rules["brute-force-logins"].body["actions"][0]["params"]["message"]


def test_suspicious_requests_rule_counts_every_probe_event_the_app_can_log():
    from django.conf import settings
    from django.core.exceptions import SuspiciousOperation
    from django_elk_logging.log_filters import security_event_name

    # Django logs each SuspiciousOperation to django.security.<class name> and CSRF failures to
    # django.security.csrf. The subclasses come from Django's core and the installed contrib apps.
    contrib_with_probes = ("django.contrib.admin", "django.contrib.sessions")
    exception_modules = ["django.core.exceptions"]
    exception_modules += [f"{app}.exceptions" for app in settings.INSTALLED_APPS if app in contrib_with_probes]
    for module in exception_modules:
        importlib.import_module(module)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    probe_classes = {
        cls for cls in (SuspiciousOperation, *subclasses(SuspiciousOperation)) if cls.__module__ in exception_modules
    }
    logger_names = {f"django.security.{cls.__name__}" for cls in probe_classes} | {"django.security.csrf"}
    emitted = {
        security_event_name(logging.LogRecord(name, logging.ERROR, __file__, 0, "probe", None, None))
        for name in logger_names
    }
    # The app's own probe event (django_elk_logging/request_context.py).
    emitted.add("malformed_request_id")

    rule = rule_named("suspicious-requests")
    params = rule.body["params"]
    assert (params["thresholdComparator"], params["threshold"]) == (">", [5])
    assert (params["timeWindowSize"], params["timeWindowUnit"]) == (5, "m")
    assert (params["groupBy"], params["termField"]) == ("top", "source.ip")
    dataset, actions = es_query(rule)["query"]["bool"]["filter"]
    assert dataset == SECURITY_DATASET
    assert set(actions["terms"]["event.action"]) == emitted
    assert {"disallowed_host", "csrf_failure", "suspicious_operation", "invalid_session_key"} <= emitted


def test_kql_not_and_or_select_over_arrays_as_term_queries_do():
    # A login and a logout are [authentication, session]: not excludes an event when any value matches.
    assert kql_selects("event.category:authentication and not event.outcome:failure") == {"user_logged_in",
                                                                                        "user_logged_out"}
    assert kql_selects("event.category:session and not event.category:authentication") == {"suspicious_session"}
    assert kql_selects("event.category:(network or process)") == {"blocked_ip", "worker_timeout"}
