"""A live drill's proof: the alert document Kibana's Index connector writes to django-alerts.

Each rule's second action (kibana/rules/*.json) writes one document per new alert, with rule.id, the
alert's id (for a rule grouped by source IP or user name, that value: executor.ts, esql_query_utils.ts in
elastic/kibana's stack_alerts), alert.detected_at (context.date, the rule run's time) and @timestamp, when the action ran
(the Index connector sets executionTimeField to new Date(): stack_connectors es_index/index.ts). Kibana
acts only when an alert starts
(notify_when onActionGroupChange): an alert still active from earlier traffic writes nothing new,
which is why every live drill comes from its own loopback address (and a per-account drill guesses at
that address's own user name).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

from elasticsearch import ApiError, Elasticsearch, TransportError

from drill.settings import DrillError, DrillSettings

ALERTS_INDEX = "django-alerts"
LOGS_INDEX = "django-logs-*"
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class AlertDocument:
    alert_id: str
    detected_at: dt.datetime  # the rule run that found it
    reason: str


def connect(settings: DrillSettings) -> Elasticsearch:
    if not settings.elastic_password:
        raise DrillError("ELASTIC_PASSWORD is set neither in the environment nor in .env: a live drill reads the alerts as elastic.")
    access = settings.access
    return Elasticsearch(access.url(settings.elasticsearch_port), basic_auth=("elastic", settings.elastic_password),
                         request_timeout=10, **access.elasticsearch_options())


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def find_alert(es: Elasticsearch, rule_id: str, since: dt.datetime, alert_id: str | None,
               column: str | None = None) -> AlertDocument | None:
    """The first alert document of the rule written at or after ``since`` (for ``alert_id`` when given; for an
    alert id holding ``column`` among its comma-separated columns, when that is given: a per-event rule's)."""
    filters = [{"term": {"rule.id": rule_id}},
               {"range": {"@timestamp": {"gte": since.isoformat(timespec="milliseconds")}}}]
    if alert_id is not None:
        filters.append({"term": {"alert.id": alert_id}})
    if column is not None:
        filters.append({"wildcard": {"alert.id": {"value": f"*,{_wildcard_escaped(column)},*"}}})
    try:
        found = es.search(index=ALERTS_INDEX, query={"bool": {"filter": filters}}, sort=[{"@timestamp": "asc"}],
                          size=1, ignore_unavailable=True)
    except (ApiError, TransportError) as error:
        raise DrillError(f"Elasticsearch refused the alert search: {error}") from None
    hits = found["hits"]["hits"]
    if not hits:
        return None
    source = hits[0]["_source"]
    alert = source.get("alert", {})
    try:
        detected_at = _parse_time(alert["detected_at"])
    except (KeyError, TypeError, ValueError):
        raise DrillError(f"the alert document {hits[0]['_id']} has no alert.detected_at a date parses: check the "
                         "index action's document in kibana/rules/ ({{context.date}})") from None
    return AlertDocument(alert.get("id", ""), detected_at, alert.get("reason", ""))


def _wildcard_escaped(text: str) -> str:
    """``text`` matched literally in a wildcard query: its * ? and \\ escaped with a backslash."""
    return "".join("\\" + ch if ch in "*?\\" else ch for ch in text)


def count_matching(es: Elasticsearch, es_query: str, since: dt.datetime) -> int:
    """How many documents of django-logs-* a query-DSL rule's query matches since ``since``."""
    query = {"bool": {"filter": [json.loads(es_query)["query"],
                                 {"range": {"@timestamp": {"gte": since.isoformat(timespec="milliseconds")}}}]}}
    try:
        return es.count(index=LOGS_INDEX, query=query, ignore_unavailable=True)["count"]
    except (ApiError, TransportError) as error:
        raise DrillError(f"Elasticsearch refused the log count: {error}") from None


def wait_for_alert(es: Elasticsearch, rule_id: str, since: dt.datetime, alert_id: str | None,
                   timeout_seconds: float, column: str | None = None) -> AlertDocument | None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        found = find_alert(es, rule_id, since, alert_id, column)
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def indexed_events(es: Elasticsearch, field: str, value: str, since: dt.datetime) -> dict[str, int]:
    """How many security events with ``field`` ``value`` (the drill's address or account) reached the logs
    since ``since``, per action: what a failed drill reports, so it says whether the events or the alert
    were missing."""
    query = {"bool": {"filter": [
        {"term": {"event.dataset": "django.security"}},
        {"term": {field: value}},
        {"range": {"@timestamp": {"gte": since.isoformat(timespec="milliseconds")}}},
    ]}}
    try:
        found = es.search(index=LOGS_INDEX, query=query, size=0, ignore_unavailable=True,
                          aggs={"actions": {"terms": {"field": "event.action", "size": 50}}})
    except (ApiError, TransportError) as error:
        raise DrillError(f"Elasticsearch refused the log search: {error}") from None
    return {bucket["key"]: bucket["doc_count"] for bucket in found["aggregations"]["actions"]["buckets"]}
