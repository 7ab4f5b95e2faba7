"""Which alerts an Elasticsearch query rule (.es-query) would report in one run, on given documents.

One run with no state from a previous one, so excludeHitsFromPreviousRun has no effect (fetch_es_query.ts
filters on the previous run's latestTimestamp only when there is one). Sources, elastic/kibana:
- x-pack/platform/plugins/shared/alerting/server/lib/get_time_range.ts: dateStart = now - window - query
  delay, dateEnd = now - query delay, as ISO strings (milliseconds); the delay defaults to 0
  (x-pack/platform/plugins/shared/alerting/common/rules_settings.ts DEFAULT_QUERY_DELAY; 15 s serverless).
- x-pack/platform/plugins/shared/stack_alerts/common/build_sorted_events_query.ts: esQuery rules search
  timeField gte dateStart and lte dateEnd; .../server/rule_types/es_query/lib/fetch_esql_query.ts: ES|QL rules
  get the filter timeField gt dateStart and lte dateEnd, and "| limit <alert limit>" appended.
- x-pack/platform/plugins/shared/triggers_actions_ui/common/data/lib/build_agg.ts: groupBy top is a terms
  aggregation of termSize (default 100; alert limit + 1 when larger) with a bucket_selector on _count;
  parse_aggregation_results.ts: an ungrouped result is the group "all documents" with the hit count; at
  most the alert limit of groups are kept.
- .../stack_alerts/server/rule_types/es_query/executor.ts: grouped results are all met (the selector compared
  them); an ungrouped one is compared with ComparatorFns and reported as "query matched"
  (common/es_query/constants.ts ConditionMetAlertInstanceId); value = result.value ?? result.count.
- src/platform/packages/shared/response-ops/rule_params/common/utils.ts ComparatorFns: >, >=, <, <=,
  between (inclusive), notBetween; stack_alerts/common/comparator.ts getComparatorScript builds the same test.
- .../stack_alerts/common/es_query/esql_query_utils.ts: per-row ES|QL alerts are named by the last STATS'
  BY columns present in the result (else all columns), each value as JavaScript's toString ("" is null),
  non-null ones joined with ","; rows without one are dropped; the value is the number of rows per id.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stack_models.es_fields import (
    Field,
    epoch_millis,
    format_ip,
    format_millis,
    indexed_values,
    mapped_fields,
    source_values,
)
from stack_models.esql import read_esql
from stack_models.esql_run import run_esql
from stack_models.query_dsl import compile_query

ALERT_LIMIT = 1000  # xpack.alerting.rules.run.alerts.max default (alerting/server/config.ts)
QUERY_MATCHED = "query matched"
DEFAULT_TERM_SIZE = 100
WINDOW_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}  # alerting/common/parse_duration.ts
COMPARATORS = {
    ">": lambda value, t: value > t[0],
    ">=": lambda value, t: value >= t[0],
    "<": lambda value, t: value < t[0],
    "<=": lambda value, t: value <= t[0],
    "between": lambda value, t: t[0] <= value <= t[1],
    "notBetween": lambda value, t: value < t[0] or value > t[1],
}


class RuleUnsupported(ValueError):
    """Rule params outside what this model evaluates, or that Kibana would refuse."""


@dataclass(frozen=True)
class RuleAlert:
    id: str  # the alert id Kibana gives: the group, or "query matched" for an ungrouped rule
    value: int  # context.value: the count compared with the threshold (rows per id for ES|QL per-row)


def firing_alerts(params: Mapping[str, Any], documents: Iterable[Mapping[str, Any]], mappings: Mapping[str, Any],
                  now: dt.datetime) -> list[RuleAlert]:
    """The alerts a rule with ``params`` reports at ``now`` over ``documents``, hits as {"_index", "_source"}.

    ``mappings`` is the index template's "mappings" for the indices the documents are in.
    """
    comparator = params.get("thresholdComparator")
    if comparator not in COMPARATORS:
        raise RuleUnsupported(f"invalid thresholdComparator specified: {comparator}")
    threshold = params.get("threshold")
    wanted = 2 if comparator in ("between", "notBetween") else 1
    if not isinstance(threshold, list) or len(threshold) < wanted or not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) for t in threshold):
        raise RuleUnsupported(f"threshold {threshold!r}: {comparator} needs {wanted} number(s)")
    fields = mapped_fields(mappings)
    start, end = _time_range(params, now)
    time_field = fields.get(params.get("timeField"))
    if time_field is None or time_field.type != "date":
        raise RuleUnsupported(f"timeField {params.get('timeField')!r} is not a date field of the mapping")
    search_type = params.get("searchType")
    if search_type == "esQuery":
        in_window = {"range": {time_field.name: {"gte": start, "lte": end}}}
        return _es_query_alerts(params, documents, fields, in_window, comparator, threshold)
    if search_type == "esqlQuery":
        in_window = {"range": {time_field.name: {"gt": start, "lte": end}}}
        return _esql_alerts(params, documents, fields, in_window, comparator, threshold)
    raise RuleUnsupported(f"searchType {search_type!r} is not modelled (esQuery, esqlQuery)")


def _time_range(params: Mapping[str, Any], now: dt.datetime) -> tuple[int, int]:
    size, unit = params.get("timeWindowSize"), params.get("timeWindowUnit")
    if unit not in WINDOW_UNIT_MS or not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise RuleUnsupported(f'Invalid format for windowSize: "{size}{unit}"')
    end = epoch_millis(now)
    return end - size * WINDOW_UNIT_MS[unit], end


def _searched(documents: Iterable[Mapping[str, Any]], patterns: list[str]) -> Iterable[dict[str, list]]:
    """The flattened sources of the hits in indices the patterns name (wildcard * only, as index names)."""
    for pattern in patterns:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.*-]*", pattern):
            raise RuleUnsupported(f"the index pattern {pattern!r} is not modelled (no commas, exclusions, remotes)")
    names = [re.compile(".*".join(map(re.escape, pattern.split("*")))) for pattern in patterns]
    for hit in documents:
        if any(name.fullmatch(hit["_index"]) for name in names):
            yield source_values(hit["_source"])


def _es_query_alerts(params, documents, fields: dict[str, Field], in_window, comparator, threshold):
    if params.get("aggType", "count") != "count":
        raise RuleUnsupported(f"aggType {params['aggType']!r} is not modelled: only count")
    try:
        body = json.loads(params["esQuery"])
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise RuleUnsupported(f"esQuery is not a JSON string of a search body: {error}") from error
    if not isinstance(body, dict) or set(body) != {"query"}:
        raise RuleUnsupported(f"esQuery holds {sorted(body) if isinstance(body, dict) else body!r}: only query")
    matches = compile_query({"bool": {"filter": [body["query"], in_window]}}, fields)
    hits = [doc for doc in _searched(documents, params.get("index", [])) if matches(doc)]
    group_by = params.get("groupBy", "all")
    if group_by == "all":
        met = COMPARATORS[comparator](len(hits), threshold)
        return [RuleAlert(QUERY_MATCHED, len(hits))] if met else []
    if group_by != "top" or not isinstance(params.get("termField"), str):
        raise RuleUnsupported(f"groupBy {group_by!r} with termField {params.get('termField')!r}: only all, or top "
                              "with one field")
    return _top_groups(params, hits, fields, comparator, threshold)


def _top_groups(params, hits, fields: dict[str, Field], comparator, threshold) -> list[RuleAlert]:
    field = fields.get(params["termField"])
    if field is None:
        return []  # a terms aggregation on an unmapped field has no buckets
    if field.type not in ("keyword", "ip", "long"):
        raise RuleUnsupported(f"termField {field.name} ({field.type}): a terms aggregation is modelled on keyword, "
                              "ip and long")
    counts: Counter = Counter()
    for doc in hits:
        counts.update(set(indexed_values(field, doc)))  # a document counts once in each of its values
    size = params.get("termSize") or DEFAULT_TERM_SIZE
    size = ALERT_LIMIT + 1 if size > ALERT_LIMIT else size
    buckets = sorted(counts.items(), key=lambda bucket: (-bucket[1], bucket[0]))[:size]  # _count desc, _key asc
    met = [(key, count) for key, count in buckets if COMPARATORS[comparator](count, threshold)]
    return [RuleAlert(format_ip(key) if field.type == "ip" else str(key), count) for key, count in met][:ALERT_LIMIT]


def _esql_alerts(params, documents, fields: dict[str, Field], in_window, comparator, threshold):
    query = read_esql(params.get("esqlQuery", {}).get("esql", ""))
    matches = compile_query(in_window, fields)
    result = run_esql(query, (doc for doc in _searched(documents, [query.index]) if matches(doc)), fields)
    rows = result.rows[:ALERT_LIMIT]
    group_by = params.get("groupBy")
    if group_by == "all":
        met = COMPARATORS[comparator](len(rows), threshold)
        return [RuleAlert(QUERY_MATCHED, len(rows))] if met else []
    if group_by != "row":
        raise RuleUnsupported(f"groupBy {group_by!r} is not modelled for ES|QL: all or row")
    id_columns = [name for name in query.group_by if name in result.columns] or list(result.columns)
    ids: Counter = Counter()
    for row in rows:
        parts = [_to_string(row[name], result.columns[name]) for name in id_columns]
        parts = [part for part in parts if part is not None]
        if parts:
            ids[",".join(parts)] += 1
    return [RuleAlert(alert_id, count) for alert_id, count in sorted(ids.items())]


def _to_string(value: Any, kind: str) -> str | None:
    """A cell as rowToDocument makes it: JavaScript's toString of the JSON value, "" as null."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return ",".join(_to_string(item, kind) or "" for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    text = format_ip(value) if kind == "ip" else format_millis(value) if kind == "datetime" else str(value)
    return text or None
