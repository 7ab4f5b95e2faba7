"""The alert rules evaluated on hand-written documents (stack_models/alert_rules.py), rendered with the defaults.

A security event carries the categorization the pipeline gives its action (logstash/pipeline/event_categories.json),
so the rules are tested on event.category, event.type and event.outcome as they are indexed."""

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from provision.placeholders import substitute
from provision.settings import DETECTION_VARIABLES
from stack_models.alert_rules import RuleAlert, RuleUnsupported, firing_alerts
from stack_models.es_fields import mapped_fields, source_values
from stack_models.esql import EsqlUnsupported, read_esql
from stack_models.esql_run import MULTI_VALUE_WARNING, EsqlError, run_esql
from stack_models.kql import KqlUnsupported
from stack_models.query_dsl import QueryUnsupported, compile_query
from tests.support.paths import EVENT_CATEGORIES_PATH, REPO_ROOT

NOW = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
MAPPINGS = json.loads((REPO_ROOT / "elasticsearch/index_templates/django-logs.json").read_text())["template"]["mappings"]
DEFAULTS = {name: default for name, (default, _low, _high) in DETECTION_VARIABLES.items()}
CATEGORIES = json.loads(EVENT_CATEGORIES_PATH.read_text(encoding="utf-8"))


def rule(stem: str) -> dict:
    path = REPO_ROOT / "kibana/rules" / f"{stem}.json"
    return substitute(json.loads(path.read_text()), DEFAULTS, Path(path))["body"]["params"]


def at(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hit(seconds_ago=10, index="django-logs-2025.03.01", **source) -> dict:
    return {"_index": index, "_source": {"@timestamp": at(seconds_ago), **source}}


def categorized(action: str, **event) -> dict:
    """The event fields of an action as the pipeline writes them: its row of the categorization table."""
    return {"action": action, **CATEGORIES[action], **event}


def security(action, ip, seconds_ago=10, user="alice", dataset="django.security", index="django-logs-2025.03.01"):
    return hit(seconds_ago, index, event=categorized(action, dataset=dataset), source={"ip": ip}, user={"name": user})


def alerts(stem, documents, **changes):
    return firing_alerts({**rule(stem), **changes}, documents, MAPPINGS, NOW)


# -- brute-force-logins: top source.ip, > 10 failures in 5 minutes -----------------------------------------

def test_brute_force_logins_fires_per_ip_above_the_threshold():
    docs = [security("user_login_failed", "10.0.0.1") for _ in range(11)]
    docs += [security("user_login_failed", "::ffff:10.0.0.2") for _ in range(11)]  # v4-mapped is v4
    docs += [security("user_login_failed", "10.0.0.3") for _ in range(10)]  # at the threshold
    assert alerts("brute-force-logins", docs) == [RuleAlert("10.0.0.1", 11), RuleAlert("10.0.0.2", 11)]


def test_brute_force_logins_counts_only_the_window_the_dataset_and_the_action():
    docs = [security("user_login_failed", "10.0.0.1") for _ in range(10)]
    docs.append(security("user_login_failed", "10.0.0.1", seconds_ago=300.001))  # before gte now-5m
    docs.append(security("user_login_failed", "10.0.0.1", seconds_ago=-1))  # after lte now
    docs.append(security("user_login_failed", "10.0.0.1", dataset="django.request"))
    docs.append(security("user_logged_in", "10.0.0.1"))
    docs.append(security("user_login_failed", "not-an-ip"))  # ignore_malformed: in no group
    docs.append(security("user_login_failed", "10.0.0.1", index="other-2025.03.01"))
    assert alerts("brute-force-logins", docs) == []
    docs.append(security("user_login_failed", "10.0.0.1", seconds_ago=300))  # gte: the window's start counts
    assert alerts("brute-force-logins", docs) == [RuleAlert("10.0.0.1", 11)]


def test_top_groups_keep_term_size_ordered_by_count_then_key():
    docs = [security("user_login_failed", ip) for ip, n in (("10.0.0.9", 3), ("10.0.0.1", 2), ("10.0.0.5", 2))
            for _ in range(n)]
    got = alerts("brute-force-logins", docs, termSize=2, threshold=[0], thresholdComparator=">")
    assert got == [RuleAlert("10.0.0.9", 3), RuleAlert("10.0.0.1", 2)]


@pytest.mark.parametrize(("comparator", "threshold", "fires"), [
    (">=", [2], ["10.0.0.2", "10.0.0.3"]), ("<", [2], ["10.0.0.1"]), ("<=", [2], ["10.0.0.1", "10.0.0.2"]),
    ("between", [2, 3], ["10.0.0.2", "10.0.0.3"]), ("notBetween", [2, 2], ["10.0.0.1", "10.0.0.3"]),
])
def test_comparators_as_kibana_defines_them(comparator, threshold, fires):
    docs = [security("user_login_failed", f"10.0.0.{n}") for n in (1, 2, 2, 3, 3, 3)]
    got = alerts("brute-force-logins", docs, thresholdComparator=comparator, threshold=threshold)
    assert sorted(alert.id for alert in got) == fires


# -- suspicious-requests: top source.ip, > 5 probe events -----------------------------------------------------

def test_suspicious_requests_fires_above_five_events_of_the_listed_actions():
    docs = [security(action, "192.0.2.7") for action in ("csrf_failure", "disallowed_host") * 3]
    docs += [security("csrf_failure", "192.0.2.8") for _ in range(5)]
    docs += [security("user_login_failed", "192.0.2.8")]
    assert alerts("suspicious-requests", docs) == [RuleAlert("192.0.2.7", 6)]


# -- error-burst and parse-failures: groupBy all ---------------------------------------------------------------

def test_error_burst_counts_error_and_critical_records():
    docs = [hit(log={"level": "ERROR"}) for _ in range(15)] + [hit(log={"level": "CRITICAL"}) for _ in range(6)]
    assert alerts("error-burst", docs) == [RuleAlert("query matched", 21)]
    assert alerts("error-burst", docs[1:] + [hit(log={"level": "WARNING"}), hit(log={"level": "error"})]) == []


def test_parse_failures_match_any_tag_of_an_array_and_ignore_above():
    assert alerts("parse-failures", [hit(tags=["beats", "_grokparsefailure"])]) == [RuleAlert("query matched", 1)]
    assert alerts("parse-failures", [hit(tags="_record_cut"), hit(seconds_ago=901, tags="_record_cut")]) == [
        RuleAlert("query matched", 1)]
    assert alerts("parse-failures", [hit(tags=["_grokparsefailure_x"]), hit(tags=[])]) == []


def test_keyword_ignore_above_values_are_not_indexed():
    docs = [hit(log={"level": "ERROR" + " " * 60}), hit(log={"level": "ERROR"})]  # 65 chars > ignore_above 64
    query = json.dumps({"query": {"bool": {"should": [{"term": {"log.level": "ERROR" + " " * 60}},
                                                     {"term": {"log.level": "ERROR"}}]}}})
    assert alerts("error-burst", docs, esQuery=query, threshold=[0]) == [RuleAlert("query matched", 1)]


def test_bool_must_not_exists_range_and_cidr_terms():
    docs = [hit(http={"response": {"status_code": code}}, source={"ip": ip})
            for code, ip in ((500, "10.1.2.3"), ("503", "10.9.9.9"), (404, "10.1.0.1"), ("oops", "192.0.2.1"))]
    query = {"query": {"bool": {"filter": [{"range": {"http.response.status_code": {"gte": 500}}}],
                                "must_not": [{"term": {"source.ip": "10.1.0.0/16"}}]}}}
    assert alerts("error-burst", docs, esQuery=json.dumps(query), threshold=[0]) == [RuleAlert("query matched", 1)]
    exists = {"query": {"bool": {"must_not": {"exists": {"field": "http.response.status_code"}}}}}
    assert alerts("error-burst", docs, esQuery=json.dumps(exists), threshold=[0]) == [RuleAlert("query matched", 1)]


@pytest.mark.parametrize(("query", "message"), [
    ({"query": {"match": {"message": "boom"}}}, "the query 'match' is outside the modelled subset"),
    ({"query": {"term": {"message": "boom"}}}, r"term on the text field message \(match_only_text\) is not modelled"),
    ({"query": {"range": {"@timestamp": {"gte": "now-5m"}}}}, "date math 'now-5m' is not modelled"),
    ({"query": {"term": {"source.ip": "nope"}}}, "'nope' is not an IP string literal"),
    ({"query": {"match_all": {}}, "runtime_mappings": {}}, "only query"),
])
def test_unsupported_query_dsl_is_refused_by_name(query, message):
    with pytest.raises((QueryUnsupported, RuleUnsupported), match=message):
        alerts("error-burst", [hit()], esQuery=json.dumps(query))


def test_unsupported_rule_params_are_refused():
    with pytest.raises(RuleUnsupported, match="invalid thresholdComparator specified: =="):
        alerts("error-burst", [], thresholdComparator="==")
    with pytest.raises(RuleUnsupported, match="between needs 2 number"):
        alerts("error-burst", [], thresholdComparator="between", threshold=[1])
    with pytest.raises(RuleUnsupported, match="aggType 'avg' is not modelled"):
        alerts("error-burst", [], aggType="avg")


# -- brute-force-success (ES|QL per row): > 10 failures then a login from one IP ---------------------------

def test_brute_force_success_fires_for_eleven_failures_then_a_login():
    docs = [security("user_login_failed", "10.0.0.1", seconds_ago=200 - n) for n in range(11)]
    docs.append(security("user_logged_in", "10.0.0.1", seconds_ago=60))
    docs += [security("user_login_failed", "10.0.0.2", seconds_ago=200 - n) for n in range(10)]
    docs.append(security("user_logged_in", "10.0.0.2", seconds_ago=60))  # only 10 failures: no alert
    assert alerts("brute-force-success", docs) == [RuleAlert("10.0.0.1", 1)]


def test_brute_force_success_needs_the_login_after_the_first_failure_and_in_the_window():
    failures = [security("user_login_failed", "10.0.0.1", seconds_ago=100) for _ in range(11)]
    assert alerts("brute-force-success", failures + [security("user_logged_in", "10.0.0.1", seconds_ago=150)]) == []
    assert alerts("brute-force-success", failures + [security("user_logged_in", "10.0.0.1", seconds_ago=-5)]) == []
    # ES|QL's window is gt dateStart: a failure exactly at now-5m is not counted
    edge = [security("user_login_failed", "10.0.0.1", seconds_ago=300)] + failures[:10]
    assert alerts("brute-force-success", edge + [security("user_logged_in", "10.0.0.1", seconds_ago=10)]) == []


def test_esql_null_and_multivalue_semantics():
    failures = [security("user_login_failed", "10.0.0.1") for _ in range(11)]
    failures.append(hit(event=categorized("user_login_failed", dataset="django.security")))  # no source.ip
    # a multi-valued event.outcome makes CASE's comparison null (with a warning): no login time
    failures.append(hit(event=categorized("user_logged_in", dataset="django.security", outcome=["success", "x"]),
                        source={"ip": "10.0.0.1"}))
    assert alerts("brute-force-success", failures) == []  # CASE gave null logged_in_at: MAX is null
    assert alerts("brute-force-success", failures + [security("user_logged_in", "10.0.0.1", seconds_ago=1)]) == [
        RuleAlert("10.0.0.1", 1)]


# -- brute-force-account(-success) (ES|QL per row): per account, user names compared without case ----------

def test_failed_logins_spread_over_case_variants_of_one_name_are_one_account():
    variants = ("alice", "Alice", "ALICE")
    docs = [security("user_login_failed", f"10.0.0.{n}", user=name) for name in variants for n in range(4)]
    assert alerts("brute-force-account", docs) == [RuleAlert("alice", 1)]
    assert alerts("brute-force-account", docs[:10]) == []  # 10 failures in all: not above the threshold
    login = security("user_logged_in", "10.0.0.9", seconds_ago=1, user="aLiCe")
    assert alerts("brute-force-account-success", docs + [login]) == [RuleAlert("alice", 1)]


def lowered(esql: str, *sources: dict):
    return run_esql(read_esql(esql), [source_values(source) for source in sources], mapped_fields(MAPPINGS))


def test_esql_to_lower_keeps_null_and_lowers_each_value_of_a_multi_value():
    # Keyword doc values come sorted and deduplicated; TO_LOWER keeps their order and the duplicates it makes.
    sources = [{"user": {"name": "ALICE"}}, {"user": {"name": ["bob", "Alice"]}}, {"user": {"name": ["alice", "Alice"]}}, {}]
    result = lowered("FROM django-logs-* | EVAL account = TO_LOWER(user.name)", *sources)
    assert result.columns["account"] == "keyword"
    assert [row["account"] for row in result.rows] == ["alice", ("alice", "bob"), ("alice", "alice"), None]
    # STATS BY puts a row once in each distinct value's group; null is a group of its own.
    grouped = lowered("FROM django-logs-* | EVAL account = TO_LOWER(user.name) | STATS n = COUNT(*) BY account", *sources)
    assert {row["account"]: row["n"] for row in grouped.rows} == {"alice": 3, "bob": 1, None: 1}


@pytest.mark.parametrize(("operand", "message"), [
    ("source.ip", r"argument of \[TO_LOWER\(source.ip\)\] must be \[string\], found value \[source.ip\] type \[ip\]"),
    ("1", r"argument of \[TO_LOWER\(1\)\] must be \[string\], found value \[1\] type \[integer\]"),
])
def test_esql_to_lower_of_a_non_string_is_a_verification_error(operand, message):
    with pytest.raises(EsqlError, match=message):
        lowered(f"FROM django-logs-* | EVAL account = TO_LOWER({operand})", {"source": {"ip": "10.0.0.1"}})


def test_esql_booleans_are_read_in_lower_case_only():
    # ES|QL matches TRUE as true; the model refuses it rather than read a column named TRUE.
    with pytest.raises(EsqlUnsupported, match="'TRUE': booleans are read in lower case only"):
        read_esql("FROM django-logs-* | WHERE django.privilege.new == TRUE")


def test_esql_to_lower_is_read_in_capitals_only():
    with pytest.raises(EsqlUnsupported, match="'to_lower': keywords and functions are read in capitals only"):
        read_esql("FROM django-logs-* | EVAL account = to_lower(user.name)")


# -- credential-stuffing (ES|QL per row): > 5 distinct user names ------------------------------------------

def test_an_esql_where_on_a_multi_valued_field_drops_the_row():
    docs = [security("user_login_failed", "10.0.0.1", user=f"user{n}") for n in range(5)]
    # Kept, this sixth user name would make 6 distinct names (> 5) and fire the rule.
    docs.append(hit(event=categorized("user_login_failed", dataset="django.security", outcome=["failure", "x"]),
                    source={"ip": "10.0.0.1"}, user={"name": "user5"}))
    assert alerts("credential-stuffing", docs) == []
    assert alerts("credential-stuffing", docs + [security("user_login_failed", "10.0.0.1", user="user5")]) == [
        RuleAlert("10.0.0.1", 1)]


def test_credential_stuffing_counts_distinct_user_names_per_ip():
    docs = [security("user_login_failed", "10.0.0.1", user=f"user{n}") for n in range(6)]
    docs += [security("user_login_failed", "10.0.0.2", user=f"user{n}") for n in range(5)]
    docs += [security("user_login_failed", "10.0.0.2", user="user0") for _ in range(20)]
    docs.append(hit(event=categorized("user_login_failed", dataset="django.security"), source={"ip": "10.0.0.2"}))
    docs.append(security("user_login_failed", "10.0.0.2", user="late", seconds_ago=601))
    assert alerts("credential-stuffing", docs) == [RuleAlert("10.0.0.1", 1)]


def test_esql_groupby_all_counts_rows():
    docs = [security("user_login_failed", f"10.0.0.{n}", user=f"u{m}") for n in (1, 2) for m in range(6)]
    assert alerts("credential-stuffing", docs, groupBy="all") == [RuleAlert("query matched", 2)]


@pytest.mark.parametrize(("esql", "error", "message"), [
    ("FROM django-logs-* | WHERE nope == \"x\" | STATS c = COUNT(*) BY source.ip", EsqlError, r"Unknown column \[nope\]"),
    ("FROM django-logs-* | WHERE event == \"x\" | STATS c = COUNT(*) BY source.ip", EsqlError, r"Unknown column \[event\]"),
    ("FROM django-logs-* | WHERE source.ip == \"10.0.0.1\" | STATS c = COUNT(*) BY source.ip", EsqlError,
     r"compares \[ip\] with \[keyword\]"),
    ("FROM django-logs-* | SORT source.ip", EsqlUnsupported, "expected keyword, found .SORT."),
])
def test_unsupported_or_invalid_esql_is_refused(esql, error, message):
    with pytest.raises(error, match=message):
        alerts("credential-stuffing", [security("user_login_failed", "10.0.0.1")], esqlQuery={"esql": esql})


# -- ECS conditions: the same events as the event.action lists they replaced ---------------------------------

# Before ECS the login rules named event.action; their ECS condition must select exactly those events.
LOGIN_ATTEMPT_RULES = {
    "brute-force-logins": {"user_login_failed"},
    "brute-force-account": {"user_login_failed"},
    "credential-stuffing": {"user_login_failed"},
    "brute-force-success": {"user_login_failed", "user_logged_in"},
    "brute-force-account-success": {"user_login_failed", "user_logged_in"},
}
ACTIONS = sorted(key for key in CATEGORIES if not key.startswith("django."))  # the other keys are datasets


def every_security_event() -> list[dict]:
    return [security(action, "10.0.0.1") for action in ACTIONS]


def selected_actions(stem: str, documents: list[dict]) -> dict[str, dict[str, int]]:
    """Per action, what the rule's WHERE (and EVAL) keep of the documents: for an ES|QL rule the count of rows
    and of its failed_at and logged_in_at times, for a query-DSL rule the count of hits."""
    params = rule(stem)
    fields = mapped_fields(MAPPINGS)
    if params["searchType"] == "esQuery":
        matches = compile_query(json.loads(params["esQuery"])["query"], fields)
        return dict(Counter(hit["_source"]["event"]["action"] for hit in documents
                            if matches(source_values(hit["_source"]))))
    before_stats = params["esqlQuery"]["esql"].split(" | STATS ")[0]
    times = ", failed = COUNT(failed_at), logged_in = COUNT(logged_in_at)" if "failed_at" in before_stats else ""
    query = read_esql(f"{before_stats} | STATS rows = COUNT(*){times} BY event.action")
    result = run_esql(query, [source_values(hit["_source"]) for hit in documents], fields)
    return {row["event.action"]: {name: row[name] for name in result.columns if name != "event.action"}
            for row in result.rows}


@pytest.mark.parametrize("stem", sorted(LOGIN_ATTEMPT_RULES))
def test_login_rules_select_by_ecs_categorization_exactly_the_actions_they_named(stem):
    selected = selected_actions(stem, every_security_event())
    assert set(selected) == LOGIN_ATTEMPT_RULES[stem]
    if stem.endswith("-success"):
        # event.outcome tells a failure from a login, as event.action did
        assert selected == {"user_login_failed": {"rows": 1, "failed": 1, "logged_in": 0},
                            "user_logged_in": {"rows": 1, "failed": 0, "logged_in": 1}}
    # Only the security log's events: the same actions in another dataset are not counted.
    other = [security(action, "10.0.0.1", dataset="django.app") for action in ACTIONS]
    assert selected_actions(stem, other) == {}


def test_an_esql_comparison_misses_a_multi_valued_category_where_kql_matches_it():
    # A login is [authentication, session]: == on it is null, with a warning (SingleValueQuery), so the row
    # is dropped; KQL's term query matches any value of the array.
    login, failure = (source_values(security(action, "10.0.0.1")["_source"])
                      for action in ("user_logged_in", "user_login_failed"))
    fields = mapped_fields(MAPPINGS)
    compared = run_esql(read_esql('FROM django-logs-* | WHERE event.category == "authentication" | STATS n = COUNT(*)'),
                        [login, failure], fields)
    assert compared.rows == [{"n": 1}] and MULTI_VALUE_WARNING in compared.warnings
    kql = run_esql(read_esql('FROM django-logs-* | WHERE KQL("event.category: authentication") | STATS n = COUNT(*)'),
                   [login, failure], fields)
    assert kql.rows == [{"n": 2}] and kql.warnings == []
    negated = run_esql(read_esql('FROM django-logs-* | WHERE NOT KQL("event.category: session") | STATS n = COUNT(*)'),
                       [login, failure], fields)
    assert negated.rows == [{"n": 1}]


@pytest.mark.parametrize(("esql", "error", "message"), [
    ('FROM django-logs-* | EVAL account = TO_LOWER(user.name) | WHERE KQL("event.outcome: failure")', EsqlUnsupported,
     r"\[KQL\] function cannot be used after EVAL or STATS"),
    ('FROM django-logs-* | EVAL t = CASE(KQL("event.outcome: failure"), @timestamp)', EsqlUnsupported,
     r"\[KQL\] function is only supported in WHERE"),
    ('FROM django-logs-* | WHERE KQL("event.category: auth*")', EsqlUnsupported, "outside the KQL subset"),
    ('FROM django-logs-* | WHERE KQL("event.category: (authentication and session)")', EsqlUnsupported,
     "expected \\) at token 4"),
    ('FROM django-logs-* | WHERE KQL("event.outcome > failure")', KqlUnsupported,
     r"event.outcome \(keyword\): a KQL range is read here on long and date fields only"),
    ('FROM django-logs-* | WHERE KQL("nope: x")', EsqlError, r"KQL\(\) names \['nope'\], which no index maps"),
    ('FROM django-logs-* | WHERE KQL("source.ip: 10.0.0.1")', KqlUnsupported, r"source.ip \(ip\): KQL is read here on keyword"),
])
def test_esql_kql_outside_the_modelled_use_is_refused(esql, error, message):
    with pytest.raises(error, match=message):
        run_esql(read_esql(esql), [], mapped_fields(MAPPINGS))
