"""Kibana's Security Explore pages and Discover's logs profile find our events: the documents real app traffic
becomes (through the pipeline model) carry every field each page reads (tests/support/security_app_fields.py,
read in Kibana's source), except the ones named here with the reason our logs cannot have them.

The traffic is test_pipeline_contract.py's (a login, a 403, a logout, a failed login, the app's records and
access lines) and test_containment_lines.py's (a session ended by a deactivation, a blocked address): their
fixtures, not a copy of them.
"""

import fnmatch
import re
import socket

import pytest

from tests.stack import test_containment_lines as containment
from tests.stack import test_pipeline_contract as contract
from tests.support import security_app_fields as kibana
from tests.support.paths import DOCS_DIR

log_dir = contract.log_dir
pipeline = contract.pipeline
documents = contract.documents
security_documents = containment.security_documents

# docs/elastic-apps.md, where the pages and what they show of ours are written down.
APPS_PAGE = DOCS_DIR / "elastic-apps.md"
# logstash/pipeline/event_categories.json (docs/ecs.md): the actions categorized [authentication, ...], and their outcome.
AUTHENTICATION_OUTCOMES = {"user_logged_in": "success", "user_login_failed": "failure",
                           "user_logged_out": "success", "session_rejected": "failure"}
# Fields pages read that no line of ours can fill, and why (docs/elastic-apps.md says the same).
NOT_CARRIED = {
    "host.id": "the lines name the host, not a host id",
    "host.os.name": "the lines carry no operating system",
    "host.os.version": "the lines carry no operating system",
    "host.risk.calculated_level": "Entity Analytics' risk engine writes it, not logs",
    "asset.criticality": "Entity Analytics' asset criticality writes it, not logs",
    "user.domain": "Django users have no domain",
    "destination.ip": "the app sees the client, not a connection's two ends",
    "destination.bytes": "no network flow: the app counts no bytes per direction",
    "source.bytes": "no network flow: the app counts no bytes per direction",
    "source.domain": "the client is an address, never resolved",
    "source.geo": "no GeoIP enrichment in the pipeline",
    "source.as": "no GeoIP enrichment in the pipeline",
    "network.community_id": "no network flow to hash",
    "url.domain": "the access line has no Host header",
}


def _value(source: dict, field: str):
    return contract._get(source, field.replace(".", "__"))


def _real_events(documents, security_documents) -> list[dict]:
    return [d.source for name in contract.LOG_FILES for d in contract.parsed(documents[name])] + security_documents


def _names_a_user(event: dict) -> bool:
    """A session rejected for a cookie that names no session, or a user that no longer exists, names no user
    (django_elk_logging/auth_events.py: _log_unknown_session, _log_refused_user)."""
    anonymous = ("Session rejected: the session cookie names no session", "Session rejected: its user (id")
    return not (_value(event, "event.action") == "session_rejected" and event["message"].startswith(anonymous))


def _page_events(page: str, events: list[dict]) -> list[dict]:
    """The events of ours each page shows, by their categories (logstash/pipeline/event_categories.json; a row needs
    the page's key: a user for the Users pages)."""
    def action(event):
        return _value(event, "event.action")

    def dataset(event):
        return _value(event, "event.dataset")

    selectors = {
        "users_authentications": lambda e: action(e) in AUTHENTICATION_OUTCOMES and _names_a_user(e),
        "users_all": lambda e: action(e) in {*AUTHENTICATION_OUTCOMES, "permission_denied"} and _names_a_user(e),
        "users_events": lambda e: action(e) in {*AUTHENTICATION_OUTCOMES, "permission_denied"} and _names_a_user(e),
        "hosts_all": lambda e: True,
        "hosts_events": lambda e: True,
        "network_source_ips": lambda e: dataset(e) == "django.access" or action(e) in {"user_logged_in", "blocked_ip"},
        "network_events": lambda e: dataset(e) == "django.access" or action(e) in {"user_logged_in", "blocked_ip"},
        "network_destination_ips": lambda e: False,
        "network_http": lambda e: dataset(e) == "django.access",
    }
    return [event for event in events if selectors[page](event)]


@pytest.mark.parametrize("page", sorted(kibana.PAGES))
def test_each_pages_events_carry_every_field_it_reads_but_the_ones_no_log_line_has(page, documents,
                                                                                  security_documents):
    fact = kibana.PAGES[page]
    events = _page_events(page, _real_events(documents, security_documents))
    read = {*fact.requires, *fact.keyed_by, *fact.displays}
    missing = {}
    for event in events:
        for field in sorted(read - NOT_CARRIED.keys()):
            if _value(event, field) is None:
                missing.setdefault(field, set()).add(_value(event, "event.action") or _value(event, "event.dataset"))
    assert not missing, f"{fact.title}: fields missing, by field -> the events lacking it: {missing}"
    for event in events:
        for field, expected in fact.filter_terms:
            assert expected in _value(event, field), (page, field, event)
    if page == "network_destination_ips":  # the page shows none of ours: nothing has a destination
        assert not any(_value(event, "destination.ip") for event in _real_events(documents, security_documents))
    else:
        assert events, f"{fact.title} shows none of our real events"


def test_fields_no_line_of_ours_has_are_absent_so_the_docs_stay_true(documents, security_documents):
    for event in _real_events(documents, security_documents):
        assert [field for field in NOT_CARRIED if _value(event, field) is not None] == [], event


def test_the_authentications_tab_counts_exactly_the_login_logout_and_session_events(documents, security_documents):
    events = _real_events(documents, security_documents)
    counted = {_value(e, "event.action") for e in events if "authentication" in (_value(e, "event.category") or [])}
    assert counted == set(AUTHENTICATION_OUTCOMES)
    for event in (e for e in events if _value(e, "event.action") in AUTHENTICATION_OUTCOMES):
        assert _value(event, "event.outcome") == AUTHENTICATION_OUTCOMES[_value(event, "event.action")], event


def test_a_session_rejected_without_a_user_is_counted_by_the_histogram_but_has_no_row(security_documents):
    # The deactivation ended the session, so the visitor's cookie names none: the tab's filter takes the event,
    # its terms aggregation on user.name has no bucket for it.
    [rejected] = [e for e in security_documents if _value(e, "event.action") == "session_rejected"]
    assert not _names_a_user(rejected) and _value(rejected, "user.name") is None
    assert "authentication" in (_value(rejected, "event.category") or []), rejected


def test_hosts_group_by_the_apps_host_and_the_shipper_is_the_agent(documents):
    # running_app serves the app on this machine; the package's default host is socket.gethostname().
    for event in _real_events(documents, []):
        assert _value(event, "host.name") == socket.gethostname(), event
        assert _value(event, "agent.name") == "logstash" and _value(event, "agent.type") == "logstash", event


def test_discover_treats_every_document_as_a_log_with_its_recommended_fields(documents):
    for name in contract.LOG_FILES:
        for document in contract.parsed(documents[name]):
            assert re.match(kibana.LOGS_INDEX_PATTERN_REGEXP, document.index), document.index
            # An access line has no level: its row gets no colour.
            recommended = [f for f in kibana.LOGS_RECOMMENDED_FIELDS
                           if name != "access.log" or f != kibana.LOGS_BREAKDOWN_FIELD]
            fields = [field for field in recommended if _value(document.source, field) is None]
            assert fields == [], (name, document.source)
            assert document.source.get(kibana.LOG_DOCUMENT_FIELD_PREFIX.rstrip(".")), document.source  # log.*


# --- the facts themselves ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern, matches", [
    # create_regexp_pattern_from.test.ts @ 81ccf22a2cf62847fca2bc93a2c7fc4cd6ad45e6, for base pattern "logs"
    ("logs-*", True), ("logs-system.syslog-*", True), ("foo-logs-*", True), ("cluster1:logs-*", True),
    (".ds-kibana_sample_data_logs-2024.06.13-000001", True), ("logs-*,cluster1:logs-*", True), ("logs-*,", True),
    ("logs-*::data", True), ("logss-*", False), ("foo-metrics-*", False), ("logs-*::failures", False),
    ("*:metrics-system.syslog-*,logs-system.errors-*", False), ("cluster1:logs-*,    cluster2:logs-*", False),
])
def test_the_logs_pattern_regexp_gives_what_kibanas_own_tests_expect(pattern, matches):
    assert bool(re.match(kibana.LOGS_INDEX_PATTERN_REGEXP, pattern)) is matches


def test_our_index_is_a_logs_pattern_for_discover_but_in_none_of_securitys_defaults():
    assert re.match(kibana.LOGS_INDEX_PATTERN_REGEXP, "django-logs-*")
    assert not re.match(kibana.LOGS_INDEX_PATTERN_REGEXP, "django-alerts")
    included = [p for p in kibana.SECURITY_DEFAULT_INDEX_PATTERNS if not p.startswith("-")]
    assert included and not [p for p in included if fnmatch.fnmatchcase("django-logs-2026.12.08", p)]
    assert not [p for p in kibana.OBSERVABILITY_LOG_SOURCES_DEFAULT if fnmatch.fnmatchcase("django-logs-2026.12.08", p)]


def test_every_page_fact_names_its_kibana_files_at_a_commit_and_requires_the_time_field():
    for page in kibana.PAGES.values():
        assert "@timestamp" in page.requires and set(page.keyed_by) - {"event.outcome"} <= set(page.requires), page
        assert {field for field, _ in page.filter_terms} <= set(page.requires), page
        assert page.sources, page
        for source in page.sources:
            assert re.fullmatch(r"(x-pack|src)/[\w./-]+\.tsx? @ [0-9a-f]{40}", source), source


def test_the_docs_name_every_page_and_every_field_no_line_has():
    text = APPS_PAGE.read_text(encoding="utf-8")
    assert [page.title for page in kibana.PAGES.values() if page.title not in text] == []
    assert [field for field in NOT_CARRIED if f"`{field}`" not in text] == []
    settings = [kibana.SECURITY_DEFAULT_INDEX_SETTING, kibana.OBSERVABILITY_LOG_SOURCES_SETTING,
                *kibana.SECURITY_DEFAULT_INDEX_PATTERNS, *kibana.OBSERVABILITY_LOG_SOURCES_DEFAULT]
    assert [name for name in settings if f"`{name.lstrip('-')}`" not in text] == []
