"""Offline checks of the Elasticsearch assets the setup service PUTs.

Shapes follow the documented request bodies: PUT _index_template/<name>,
PUT _ilm/policy/<name> and PUT _security/role/<name>.
"""

import json
import re
from datetime import date
from fnmatch import fnmatchcase

import pytest

from tests.support.ecs_fields import ECS_FIELDS
from tests.support.elastic_api import INDEX_TEMPLATE_KEYS, INDEX_TEMPLATE_TEMPLATE_KEYS, ROLE_KEYS, flat_index_settings
from tests.support.es_privileges import (
    AUTO_CREATE_THROUGH_TEMPLATE,
    CREATE_INDEX_WITH_OWN_SETTINGS,
    REFRESH,
    action_patterns,
    granting_privileges,
    role_grants,
)
from tests.support.kibana_objects import mapped_field_types
from tests.support.paths import ELASTICSEARCH_DIR, ILM_POLICY_PATH, INDEX_TEMPLATE_PATH, PIPELINE_PATH

# Actions ILM allows in each phase.
ILM_PHASE_ACTIONS = {
    "hot": {
        "set_priority",
        "unfollow",
        "rollover",
        "read_only",
        "shrink",
        "forcemerge",
        "searchable_snapshot",
        "downsample",
    },
    "delete": {"wait_for_snapshot", "delete"},
}
# Built-in index templates' priority (logs-*-*, metrics-*-*, ...); ours must win over them.
BUILTIN_TEMPLATE_PRIORITY = 100
# ILM's documented format for index.lifecycle.parse_origination_date: `^.*-{yyyy.MM.dd}(-digits)?`.
ORIGINATION_DATE_INDEX_NAME = re.compile(r"^.*-(\d{4})\.(\d{2})\.(\d{2})(-\d+)?$")

# Our own fields, under django.* as ECS asks of custom fields; every other mapped field is ECS's
# (tests/support/ecs_fields.py).
DJANGO_FIELD_TYPES = {
    "django.module": "keyword",
    "django.privilege.name": "keyword",
    "django.privilege.old": "boolean",
    "django.privilege.new": "boolean",
    "django.object.type": "keyword",
    "django.object.id": "keyword",
    "django.object.operation": "keyword",
    "django.client_request_id": "keyword",
}
# Fields whose values come from the request (or whose parse could go wrong): a bad value must be
# dropped from the index, not reject the whole document.
MALFORMED_TOLERANT_FIELDS = ("source.ip", "client.ip", "related.ip", "event.duration", "http.response.status_code",
                             "http.response.body.bytes", "process.pid", "log.origin.file.line")
# Lucene refuses keyword terms over 32766 bytes; a UTF-8 character is at most 4 bytes.
MAX_SAFE_IGNORE_ABOVE = 32766 // 4


def load(relative: str) -> dict:
    return json.loads((ELASTICSEARCH_DIR / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def template() -> dict:
    return json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def policy() -> dict:
    return json.loads(ILM_POLICY_PATH.read_text(encoding="utf-8"))


def leaf_mappings(properties: dict, prefix: str = ""):
    for name, mapping in properties.items():
        if "properties" in mapping:
            yield from leaf_mappings(mapping["properties"], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", mapping


def logstash_index_for(day: date) -> str:
    """The pipeline's Elasticsearch output index, rendered for one day.

    Only the Joda tokens the project uses are rendered; anything else fails loudly.
    """
    match = re.search(r'^\s*index\s*=>\s*"([^"]+)"', PIPELINE_PATH.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"no index => setting in {PIPELINE_PATH}"

    def render(sprintf: re.Match) -> str:
        pattern = sprintf.group(1)
        year, month, day_of_month = f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"
        tokens = {"YYYY": year, "yyyy": year, "MM": month, "dd": day_of_month}
        rendered = re.sub(r"YYYY|yyyy|MM|dd", lambda token: tokens[token.group(0)], pattern)
        assert not re.search(r"[A-Za-z]", rendered), f"unsupported date pattern {pattern!r} in the index name"
        return rendered

    return re.sub(r"%\{\+([^}]+)\}", render, match.group(1))


def test_index_template_has_the_documented_body_shape(template):
    assert set(template) <= INDEX_TEMPLATE_KEYS
    assert set(template["template"]) <= INDEX_TEMPLATE_TEMPLATE_KEYS
    assert isinstance(template["_meta"]["description"], str) and template["_meta"]["description"]


def test_index_template_matches_only_the_django_daily_indices_and_outranks_builtins(template):
    assert template["index_patterns"] == ["django-logs-*"]
    assert template["priority"] > BUILTIN_TEMPLATE_PRIORITY
    assert "data_stream" not in template, "Logstash writes plain daily indices (data_stream => false)"


def test_the_index_logstash_writes_matches_the_template_and_ilm_date_parsing(template):
    index = logstash_index_for(date(2026, 11, 26))
    assert index == "django-logs-2026.11.26"
    assert any(fnmatchcase(index, pattern) for pattern in template["index_patterns"])
    # parse_origination_date makes index creation fail for a name outside this format.
    parsed = ORIGINATION_DATE_INDEX_NAME.fullmatch(index)
    assert parsed and tuple(map(int, parsed.groups()[:3])) == (2026, 11, 26)


def test_index_settings_suit_a_single_node_and_name_the_ilm_policy(template):
    settings = flat_index_settings(template["template"]["settings"])
    assert settings["index.number_of_shards"] == 1
    assert settings["index.number_of_replicas"] == 0
    # The stack contract: the setup service PUTs ilm_policies/django-logs.json as _ilm/policy/django-logs.
    assert settings["index.lifecycle.name"] == "django-logs"
    assert settings["index.lifecycle.parse_origination_date"] is True


def test_mapping_is_not_dynamic(template):
    assert template["template"]["mappings"]["dynamic"] is False


def test_every_mapped_field_is_an_ecs_field_with_its_ecs_type_or_ours_under_django(template):
    mapped = mapped_field_types(template)
    ecs = {name: field.type for name, field in ECS_FIELDS.items() if name in mapped}
    ecs_text = {f"{name}.text": field.text for name, field in ECS_FIELDS.items() if name in mapped and field.text}
    assert mapped == ecs | ecs_text | DJANGO_FIELD_TYPES


def test_the_template_maps_the_fields_every_ecs_event_needs(template):
    """ECS: ecs.version in every event; the categorization fields and the identity the issue names."""
    mapped = mapped_field_types(template)
    for field in ("ecs.version", "event.kind", "event.category", "event.type", "event.outcome", "event.module",
                  "event.created", "event.ingested", "service.name", "host.name", "log.logger", "related.user",
                  "related.ip", "error.type", "error.message"):
        assert mapped.get(field) == ECS_FIELDS[field].type, field


@pytest.mark.parametrize("field", MALFORMED_TOLERANT_FIELDS)
def test_values_from_the_request_cannot_reject_a_document(template, field):
    mapping = dict(leaf_mappings(template["template"]["mappings"]["properties"]))[field]
    assert mapping.get("ignore_malformed") is True


def test_keyword_fields_skip_values_too_long_for_a_lucene_term(template):
    for field, mapping in leaf_mappings(template["template"]["mappings"]["properties"]):
        if mapping["type"] == "keyword":
            assert 0 < mapping.get("ignore_above", 0) <= MAX_SAFE_IGNORE_ABOVE, field


def test_ilm_policy_has_the_documented_shape_and_only_allowed_actions(policy):
    assert set(policy) == {"policy"}
    phases = policy["policy"]["phases"]
    assert set(phases) == {"hot", "delete"}
    for phase, body in phases.items():
        assert set(body) <= {"min_age", "actions"}
        assert set(body["actions"]) <= ILM_PHASE_ACTIONS[phase], phase


def test_ilm_policy_deletes_after_the_retention_placeholder_without_rollover(policy):
    phases = policy["policy"]["phases"]
    # The setup service replaces this min_age with "<LOG_RETENTION_DAYS>d".
    assert phases["delete"]["min_age"] == "14d"
    assert phases["delete"]["actions"] == {"delete": {}}
    assert "rollover" not in phases["hot"]["actions"], "daily indices have no write alias to roll over"


ROLE_FILES = {"logstash_writer", "django_alerting", "django_responder"}


def test_the_roles_are_the_writer_the_rules_owner_and_the_responders():
    assert {path.stem for path in (ELASTICSEARCH_DIR / "roles").glob("*.json")} == ROLE_FILES


@pytest.mark.parametrize("name", sorted(ROLE_FILES))
def test_roles_have_the_documented_body_shape(name):
    role = load(f"roles/{name}.json")
    assert set(role) <= ROLE_KEYS
    for entry in role.get("indices", []):
        assert set(entry) <= {"names", "privileges", "field_security", "query", "allow_restricted_indices"}
        assert entry["names"] and entry["privileges"]
        for privilege in entry["privileges"]:
            action_patterns(privilege)  # Elasticsearch refuses a role with an unknown privilege
    for entry in role.get("applications", []):
        assert set(entry) == {"application", "privileges", "resources"}


def test_writer_role_may_only_create_documents_and_auto_create_the_day_index_through_the_template():
    role = load("roles/logstash_writer.json")
    assert role["cluster"] == ["monitor"]
    assert role["indices"] == [{"names": ["django-logs-*"], "privileges": ["create_doc", "auto_configure"]}]
    assert not {"applications", "run_as", "remote_indices", "global"} & set(role)
    # create_index (or manage, all...) would let the writer create a day's index with its own settings and
    # no ILM policy; auto_configure auto-creates it from the template alone.
    privileges = role["indices"][0]["privileges"]
    assert granting_privileges(privileges, CREATE_INDEX_WITH_OWN_SETTINGS) == []
    assert role_grants([role], "django-logs-2026.11.26", AUTO_CREATE_THROUGH_TEMPLATE)
    assert role_grants([role], "django-logs-2026.11.26", "indices:data/write/bulk[s]")


# --- the alerts data stream (written by the rules' Index connector) -------------------------


def test_alerts_template_creates_a_single_node_data_stream_under_its_own_policy():
    template = load("index_templates/django-alerts.json")
    assert set(template) <= INDEX_TEMPLATE_KEYS and set(template["template"]) <= INDEX_TEMPLATE_TEMPLATE_KEYS
    assert template["index_patterns"] == ["django-alerts"] and template["data_stream"] == {}
    assert template["priority"] > BUILTIN_TEMPLATE_PRIORITY
    settings = flat_index_settings(template["template"]["settings"])
    assert settings["index.number_of_replicas"] == 0
    assert settings["index.lifecycle.name"] == "django-alerts"
    # Backing indices are .ds-django-alerts-<date>-<generation>: no origination date to parse.
    assert "index.lifecycle.parse_origination_date" not in settings
    assert template["template"]["mappings"]["dynamic"] is False
    assert not fnmatchcase("django-alerts", "django-logs-*")


def test_alerts_keyword_fields_skip_values_too_long_for_a_lucene_term():
    template = load("index_templates/django-alerts.json")
    for field, mapping in leaf_mappings(template["template"]["mappings"]["properties"]):
        assert mapping["type"] in {"date", "ip", "keyword", "long"}, field
        if mapping["type"] == "keyword":
            assert 0 < mapping.get("ignore_above", 0) <= MAX_SAFE_IGNORE_ABOVE, field


def test_alerts_policy_rolls_the_data_stream_over_and_deletes_after_the_retention_placeholder():
    phases = load("ilm_policies/django-alerts.json")["policy"]["phases"]
    assert set(phases) == {"hot", "delete"}
    for phase, body in phases.items():
        assert set(body["actions"]) <= ILM_PHASE_ACTIONS[phase], phase
    assert phases["hot"]["actions"]["rollover"]["max_age"] == "1d"
    assert phases["delete"] == {"min_age": "14d", "actions": {"delete": {}}}  # setup sets LOG_RETENTION_DAYS


def test_rules_owner_role_has_exactly_what_the_rules_and_their_index_connector_need():
    role = load("roles/django_alerting.json")
    assert set(role) <= ROLE_KEYS and role["cluster"] == []
    # The rules' DSL and ES|QL searches read the logs. The Index connector bulk-creates into the data
    # stream (create_doc) and may create it (auto_configure). Its refresh: true is done by the shard
    # inside the bulk write (elastic/elasticsearch PostWriteRefresh.java, IndexShard.externalRefresh),
    # with no refresh action to authorize, so no maintenance privilege.
    assert role["indices"] == [
        {"names": ["django-logs-*"], "privileges": ["read"]},
        {"names": ["django-alerts"], "privileges": ["create_doc", "auto_configure"]},
    ]
    assert granting_privileges(role["indices"][1]["privileges"], REFRESH) == []
    # Creating and updating .es-query rules (consumer alerts) and attaching connectors to them.
    assert role["applications"] == [
        {
            "application": "kibana-.kibana",
            "privileges": ["feature_stackAlerts.all", "feature_actions.read"],
            "resources": ["space:default"],
        }
    ]
    assert not {"run_as", "remote_indices", "global"} & set(role)
