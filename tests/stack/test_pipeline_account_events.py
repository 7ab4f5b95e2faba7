"""Issue 19's lines through the pipeline's model to their documents: the account, privilege and admin events, the
refused requests and worker timeouts, hostile values in every new field, and the access line's peer field.

The lines are tests/support/contract_lines.py's, written out as the package writes them (checked here against
its formatter); grok runs on Joni and dates on Joda too when jruby is here (tests/support/engines.py).
"""

import codecs
import json
import logging
import re

import pytest
from django_elk_logging.log_lines import SafeFormatter

from stack_models.es_fields import indexed_values, mapped_fields, rejection, source_values
from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_pipeline import Pipeline
from tests.support import contract_lines as lines
from tests.support.engines import engine_for_tests
from tests.support.paths import EVENT_CATEGORIES_PATH, INDEX_TEMPLATE_PATH

ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": "UTC"}
MAPPINGS = json.loads(INDEX_TEMPLATE_PATH.read_text())["template"]["mappings"]
CATEGORIES = json.loads(EVENT_CATEGORIES_PATH.read_text(encoding="utf-8"))
# Fields every parsed security record of ours has, whatever its event (the file input's, then grok's and kv's).
# Issue 20's ECS fields: the identity and origin every sample is written with (contract_lines.ORIGIN), and what the
# pipeline adds to every record; their values are checked in tests/stack/test_pipeline_ecs.py.
RECORD_FIELDS = {"@timestamp", "log.file.path", "message", "log.level", "event.dataset", "event.action",
                 "ecs.version", "event.module", "event.kind", "event.created", "agent.name", "agent.type",
                 "log.logger", "log.origin.file.name", "log.origin.file.line", "log.origin.function", "process.pid",
                 "host.name", "service.name", "service.version", "service.environment"}
# Derived from the fields above per event (categorization, related.*, the parsed user agent): test_pipeline_ecs.py.
DERIVED_FIELDS = ("event.category", "event.type", "event.outcome", "related.", "user_agent.name", "user_agent.version",
                  "user_agent.os.", "user_agent.device.")
# What each sample's document holds beyond RECORD_FIELDS, written out.
REQUEST = {"http.request.id": lines.REQUEST_ID, "source.ip": lines.CLIENT_IP, "client.ip": lines.PEER_IP}
EXPECTED = {
    "password_changed": {**REQUEST, "event.code": "authn_password_change", "user.name": "alice",
                         "user.target.name": "bob\\u202e", "django.client_request_id": "client-req-0001",
                         "url.path": "/accounts/password_change/", "user_agent.original": "Mozilla/5.0 (X11)"},
    "password_change_failed": {**REQUEST, "event.code": "authn_password_change_fail", "user.name": "alice",
                               "user.target.name": "alice", "url.path": "/accounts/password_change/"},
    "password_reset_requested": {**REQUEST, "event.code": "authn_password_change",
                                 "user.target.name": "mallory\\x22 new=true", "url.path": "/accounts/password_reset/"},
    "password_reset_completed": {**REQUEST, "event.code": "authn_password_change", "user.target.name": "bob",
                                 "url.path": "/accounts/reset/MQ/set-password/"},
    "session_rejected": {**REQUEST, "event.code": "session_use_after_expire", "user.name": "alice",
                         "url.path": "/accounts/profile/"},
    "privilege_changed": {**REQUEST, "event.code": "authz_change", "user.name": "admin", "user.target.name": "bob",
                          "django.privilege.name": "is_superuser", "django.privilege.old": False,
                          "django.privilege.new": True, "url.path": "/admin/auth/user/42/change/"},
    "user_created": {**REQUEST, "event.code": "user_created", "user.name": "admin", "user.target.name": "carol",
                     "url.path": "/admin/auth/user/add/"},
    "user_deleted": {**REQUEST, "event.code": "user_deleted", "user.name": "admin", "user.target.name": "carol",
                     "url.path": "/admin/auth/user/43/delete/"},
    "admin_action": {**REQUEST, "event.code": "authz_admin", "user.name": "admin", "user.target.name": "bob",
                     "django.object.type": "auth.user", "django.object.id": "42", "django.object.operation": "change",
                     "url.path": "/admin/auth/user/42/change/"},
    "request_refused": {"http.request.id": lines.REQUEST_ID, "event.code": "input_validation_fail",
                        "source.ip": lines.CLIENT_IP},
    "worker_timeout": {"http.request.id": lines.REQUEST_ID, "event.code": "sys_crash"},
}
# Each new context key, and the document field it lands in.
NEW_FIELDS = {
    "event_code": "event.code", "target_group": "user.target.group.name", "privilege": "django.privilege.name",
    "old": "django.privilege.old", "new": "django.privilege.new", "object_type": "django.object.type",
    "object_id": "django.object.id", "operation": "django.object.operation", "peer_ip": "client.ip",
    "client_request_id": "django.client_request_id",
}


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())


def documents(pipeline: Pipeline, tmp_path, name: str, text: str) -> list[dict]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [document.source for _, document in pipeline.process_file(path)]


def only_document(pipeline, tmp_path, text: str, name: str = "security.log") -> dict:
    [source] = documents(pipeline, tmp_path, name, text)
    return source


def flat(source: dict) -> dict:
    """The document's fields by dotted name, each with its one value."""
    values = {name: found for name, found in source_values(source).items() if not name.startswith(DERIVED_FIELDS)}
    assert all(len(found) == 1 for found in values.values()), values
    return {name: found[0] for name, found in values.items()}


def decoded(rendered: str) -> str:
    """A context value as the package rendered it, back to the text it was given (escaping.py's inverse)."""
    text = rendered[1:-1] if rendered.startswith('"') else rendered
    return codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")


@pytest.mark.parametrize("sample", [*lines.SECURITY_SAMPLES.values(), lines.GROUP_MEMBERSHIP, lines.GROUP_PERMISSION],
                         ids=[*lines.SECURITY_SAMPLES, "group membership", "group permission"])
def test_the_package_writes_the_sample_contexts_exactly(sample, settings):
    """Each sample's context is what django_elk_logging's formatter writes for its values, in its key order, and
    its origin and identity (lines.ORIGIN) what it writes for a record logged there with those settings."""
    level, context, _ = sample
    settings.LOG_HOST_NAME, settings.LOG_SERVICE_NAME = lines.HOST_NAME, lines.SERVICE_NAME
    settings.LOG_SERVICE_VERSION, settings.LOG_SERVICE_ENVIRONMENT = lines.SERVICE_VERSION, lines.SERVICE_ENVIRONMENT
    origin = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', lines.ORIGIN))
    record = logging.LogRecord(origin["logger"], getattr(logging, level), f"/app/{origin['file']}", int(origin["line"]),
                               "m", None, None, func=origin["function"])
    record.process = int(origin["pid"])
    record.request_id, record.record_id = lines.REQUEST_ID, f"{1:016x}"
    for key, rendered in re.findall(r'(\w+)=("[^"]*"|\S+)', context):
        setattr(record, key, decoded(rendered))
    formatted = SafeFormatter("{message}").format(record)

    assert formatted == f"[request_id={lines.REQUEST_ID} record_id={1:016x} {context} {lines.ORIGIN}] m"


def test_the_hostile_value_is_rendered_as_the_samples_write_it():
    record = logging.LogRecord("security", logging.WARNING, __file__, 1, "m", None, None)
    record.request_id, record.record_id, record.privilege = "-", f"{1:016x}", lines.HOSTILE_VALUE
    assert SafeFormatter("{message}").format(record).startswith(
        f"[request_id=- record_id={1:016x} privilege={lines.HOSTILE_WRITTEN} logger=security ")


@pytest.mark.parametrize("action", sorted(lines.SECURITY_SAMPLES))
def test_each_new_event_becomes_a_document_with_its_ecs_fields(pipeline, tmp_path, action):
    level, context, message = lines.SECURITY_SAMPLES[action]
    source = only_document(pipeline, tmp_path, lines.security_line(level, context, message))
    fields = flat(source)

    assert "tags" not in source, source
    assert fields["event.action"] == action and fields["log.level"] == level
    assert fields["event.dataset"] == "django.security" and fields["message"] == message
    assert {name: value for name, value in fields.items() if name not in RECORD_FIELDS} == EXPECTED[action]
    assert rejection(MAPPINGS, source) is None
    # Its row of the categorization table (docs/ecs.md), as the pipeline's translate filters give it.
    row = CATEGORIES[action]
    assert {key: source["event"].get(key) for key in ("kind", "category", "type", "outcome")} == {
        key: row.get(key) for key in ("kind", "category", "type", "outcome")}


def test_a_group_membership_and_a_groups_permission_land_in_the_privilege_and_group_fields(pipeline, tmp_path):
    membership = flat(only_document(pipeline, tmp_path, lines.security_line(*lines.GROUP_MEMBERSHIP)))
    permission = flat(only_document(pipeline, tmp_path, lines.security_line(*lines.GROUP_PERMISSION)))

    assert (membership["user.target.name"], membership["django.privilege.name"]) == ("bob", "group:ops team")
    assert "user.target.group.name" not in membership
    assert permission["user.target.group.name"] == "ops team" and "user.target.name" not in permission
    assert permission["django.privilege.name"] == "permission:auth.delete_user"
    assert permission["django.privilege.old"] is False and permission["django.privilege.new"] is True


@pytest.mark.parametrize("key", sorted(NEW_FIELDS))
def test_a_hostile_value_in_each_new_field_stays_in_that_field(pipeline, tmp_path, key):
    """Quotes, a forged "]" and " user=root new=true" inside the quoted value, a backslash, a bidi override and a
    forged line: the value stays in its one field, escaped; nothing else is set and the message is whole."""
    line = lines.security_line("WARNING", f"event=admin_action {key}={lines.HOSTILE_WRITTEN}", "the message")
    source = only_document(pipeline, tmp_path, line)
    fields = flat(source)
    field = NEW_FIELDS[key]

    assert "tags" not in source, source
    assert fields.pop(field) == lines.HOSTILE_WRITTEN[1:-1]
    assert fields.pop("http.request.id") == lines.REQUEST_ID
    assert set(fields) == RECORD_FIELDS and fields["message"] == "the message"
    found = rejection(MAPPINGS, source)
    if field in ("django.privilege.old", "django.privilege.new"):
        # convert_boolean leaves the text as it was; the boolean mapping refuses the document (a dead letter).
        assert found is not None and field in found
    else:
        assert found is None
        if field == "client.ip":  # ignore_malformed: kept in _source, not indexed
            assert indexed_values(mapped_fields(MAPPINGS)[field], source_values(source)) == []


@pytest.mark.parametrize(("written", "converted"), [
    ("true", True), ("false", False), ("TRUE", True), ("t", True), ("1", True), ("No", False), ("0.0", False),
    ("maybe", "maybe"), ("truex", "truex"),
])
def test_old_and_new_are_converted_as_mutates_convert_boolean_converts(pipeline, tmp_path, written, converted):
    context = f"event=privilege_changed event_code=authz_change privilege=is_staff old={written} new={written}"
    source = only_document(pipeline, tmp_path, lines.security_line("WARNING", context, "m"))

    assert source["django"]["privilege"] == {"name": "is_staff", "old": converted, "new": converted}
    assert (rejection(MAPPINGS, source) is None) == isinstance(converted, bool)


@pytest.mark.parametrize(("peer", "identity", "client_ip"), [
    (None, None, None), ("10.0.0.2", None, "10.0.0.2"), ("-", lines.ACCESS_IDENTITY, None),
    ("10.0.0.2", lines.ACCESS_IDENTITY, "10.0.0.2"), ("::1", lines.ACCESS_IDENTITY_UNKNOWN, "::1"),
    ("2001:db8::7", lines.ACCESS_IDENTITY, "2001:db8::7"),
], ids=["line before issue 19", "line before issue 20", "unknown peer", "IPv4 peer", "IPv6 loopback, no identity",
        "IPv6 peer"])
def test_the_access_lines_peer_is_client_ip_and_older_lines_still_parse(pipeline, tmp_path, peer, identity, client_ip):
    source = only_document(pipeline, tmp_path, lines.access_line(peer, identity), name="access.log")

    assert "tags" not in source, source
    assert source["source"]["ip"] == lines.CLIENT_IP
    assert source.get("client", {}).get("ip") == client_ip
    assert source["http"]["request"]["id"] == lines.REQUEST_ID
    assert source["url"] == {"original": "/x?a=1", "path": "/x", "query": "a=1"}
    assert rejection(MAPPINGS, source) is None


@pytest.mark.parametrize("tail", [" junk", " 10.0.0.2 extra", "  10.0.0.2"])
def test_an_access_line_with_anything_else_after_the_record_id_is_a_parse_failure(pipeline, tmp_path, tail):
    text = lines.ACCESS_BEFORE + tail + "\n"
    source = only_document(pipeline, tmp_path, text, name="access.log")

    assert {"_grokparsefailure", "_access_parsefailure"} <= set(source["tags"])
    assert source["message"] == text[:-1] and "client" not in source


@pytest.mark.parametrize(("value", "indexed"), [
    (True, [True]), ("true", [True]), ("false", [False]), ("", [False]), (" \t\u2003", [False]),
    (" true", None), ("True", None), ("1", None), ("\u00a0", None), (1, None),
])
def test_a_boolean_field_indexes_what_elasticsearch_parses(value, indexed):
    # BooleanFieldMapper -> Booleans.parseBoolean(char[], ..., false): "true" and "false" exactly; empty or Java
    # whitespace only (not a no-break space) is false; the rest rejects the document (no ignore_malformed here).
    field = mapped_fields(MAPPINGS)["django.privilege.new"]
    source = {"django": {"privilege": {"new": value}}}

    if indexed is None:
        assert "django.privilege.new" in rejection(MAPPINGS, source)
    else:
        assert rejection(MAPPINGS, source) is None
        assert indexed_values(field, source_values(source)) == indexed
