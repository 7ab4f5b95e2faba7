"""stack_models/kql.py, the project's one KQL reader, against Kibana's own grammar tests.

Trees and query DSL are the literal expectations of elastic/kibana src/platform/packages/shared/kbn-es-query/
src/kuery/ast/ast.test.ts (fromKueryExpression) and kuery/functions/range.test.ts (toElasticsearchQuery),
on field:value forms where Kibana's tests use free text (free text is outside the subset).
"""

import pytest

from stack_models.es_fields import mapped_fields, source_values
from stack_models.kql import KqlUnsupported, kql_fields, read_kql, to_query_dsl
from stack_models.query_dsl import QueryUnsupported, compile_query

FIELDS = mapped_fields({"properties": {
    "bytes": {"type": "long"},
    "@timestamp": {"type": "date"},
    "event": {"properties": {"outcome": {"type": "keyword"}}},
    "source": {"properties": {"ip": {"type": "ip"}}},
}})


def term(field, value):
    return ("term", field, value)


@pytest.mark.parametrize(("query", "tree"), [
    ("  ", ("match_all",)),  # "should return a match all "is" function for whitespace"
    ("a:foo and a:bar and a:baz", ("and", [term("a", "foo"), term("a", "bar"), term("a", "baz")])),
    ("a:foo and\u00a0a:bar", ("and", [term("a", "foo"), term("a", "bar")])),  # "nbsp should be recognised"
    ("a:foo or a:bar and a:baz or a:qux",  # '"and" should have a higher precedence than "or"'
     ("or", [term("a", "foo"), ("and", [term("a", "bar"), term("a", "baz")]), term("a", "qux")])),
    ("(a:foo or a:bar) and a:baz", ("and", [("or", [term("a", "foo"), term("a", "bar")]), term("a", "baz")])),
    ("not (a:foo or a:bar)", ("not", ("or", [term("a", "foo"), term("a", "bar")]))),
    ("foo:bar", term("foo", "bar")),
    ('foo:"bar baz"', term("foo", "bar baz")),
    ("foo:(bar or baz)", ("or", [term("foo", "bar"), term("foo", "baz")])),
    ("bytes > 1000 and bytes < 8000", ("and", [("range", "bytes", "gt", "1000"), ("range", "bytes", "lt", "8000")])),
    ("bytes >= 1000 and bytes <= 8000",
     ("and", [("range", "bytes", "gte", "1000"), ("range", "bytes", "lte", "8000")])),
    # 'or'i, 'and'i, 'not'i (grammar.peggy Or, And, Not).
    ("a:x OR b:y AND NOT c:z", ("or", [term("a", "x"), ("and", [term("b", "y"), ("not", term("c", "z"))])])),
    ("a:x Or b:y", ("or", [term("a", "x"), term("b", "y")])),
    # Not = 'not'i Space+: without the space it is a literal, here a field name.
    ("not:x", term("not", "x")),
    ("NOT:x and nothing:y", ("and", [term("NOT", "x"), term("nothing", "y")])),
])
def test_kql_reads_as_kibanas_grammar_does(query, tree):
    assert read_kql(query) == tree


@pytest.mark.parametrize("query", [
    # Valid KQL, outside the subset (ast.test.ts cases).
    "foo", "foo bar", "foo:bar baz", "machine*:osx", "foo:ba*", "foo:*", "nestedField:{ childOfNested: foo }",
    "foo:((bar or baz) and not qux)", '"quoted.field":x', 'message:"tab\\there"',
    # Not KQL: Or needs Space+ on both sides, NotQuery = Not SubQuery.
    "a:x or(b:y)", "(a:x)or b:y", "not not a:x", "a:x or", "bytes >", "a:(x or )",
])
def test_kql_outside_the_subset_is_refused(query):
    with pytest.raises(KqlUnsupported, match="outside the"):
        read_kql(query)


def test_the_fields_of_a_query_with_ranges_and_upper_case_keywords():
    assert kql_fields(read_kql("a:x OR (bytes >= 400 AND @timestamp < 1776338120239)")) == {"a", "bytes", "@timestamp"}


@pytest.mark.parametrize(("query", "dsl"), [
    # range.test.ts "should return an ES range query for the node's field and params"; the parsed literal is
    # the string '1000' (ast.test.ts "should support exclusive range operators").
    ("bytes > 1000", {"bool": {"should": [{"range": {"bytes": {"gt": "1000"}}}], "minimum_should_match": 1}}),
    # range.test.ts "should support date fields without a dateFormat provided".
    ('@timestamp > "2018-01-03T19:04:17"',
     {"bool": {"should": [{"range": {"@timestamp": {"gt": "2018-01-03T19:04:17"}}}], "minimum_should_match": 1}}),
    ("missing <= 3", {"bool": {"should": [{"range": {"missing": {"lte": "3"}}}], "minimum_should_match": 1}}),
    ("event.outcome:failure", {"term": {"event.outcome": "failure"}}),
    ("", {"match_all": {}}),
])
def test_kql_runs_as_the_query_dsl_kibana_builds(query, dsl):
    assert to_query_dsl(read_kql(query), FIELDS) == dsl


@pytest.mark.parametrize(("query", "message"), [
    ("event.outcome > failure", r"event.outcome \(keyword\): a KQL range is read here on long and date fields only"),
    ("source.ip >= 10.0.0.1", r"source.ip \(ip\): a KQL range"),
    ("bytes:404", r"bytes \(long\): KQL is read here on keyword fields only"),
])
def test_kql_on_a_field_type_not_modelled_is_refused(query, message):
    with pytest.raises(KqlUnsupported, match=message):
        to_query_dsl(read_kql(query), FIELDS)


def selected(query, documents):
    matches = compile_query(to_query_dsl(read_kql(query), FIELDS), FIELDS)
    return [name for name, source in documents.items() if matches(source_values(source))]


def test_a_long_range_matches_any_value_and_each_range_separately():
    documents = {"999": {"bytes": 999}, "1000": {"bytes": 1000}, "5000": {"bytes": 5000}, "8000": {"bytes": 8000},
                 "500 and 9000": {"bytes": [500, 9000]}, "none": {}}
    assert selected("bytes > 1000 and bytes < 8000", documents) == ["5000", "500 and 9000"]
    assert selected("bytes >= 1000 AND bytes <= 8000", documents) == ["1000", "5000", "8000", "500 and 9000"]
    assert selected("NOT bytes < 1000", documents) == ["1000", "5000", "8000", "none"]
    assert selected("missing > 1", documents) == []


def test_a_date_range_reads_iso_dates_and_epoch_millis():
    documents = {"16": {"@timestamp": "2018-01-03T19:04:16Z"}, "17": {"@timestamp": "2018-01-03T19:04:17Z"},
                 "18": {"@timestamp": "2018-01-03T19:04:18.000+00:00"}}
    assert selected('@timestamp > "2018-01-03T19:04:17"', documents) == ["18"]
    assert selected('@timestamp >= "2018-01-03T20:04:17+01:00"', documents) == ["17", "18"]
    assert selected("@timestamp < 1515006257000", documents) == ["16"]  # 2018-01-03T19:04:17Z


@pytest.mark.parametrize(("query", "message"), [
    ("bytes > 1.5", r"range on bytes \(long\): the bound '1.5' is not a whole number"),
    ("@timestamp > now-1h", r"date math 'now-1h' is not modelled"),
    ("@timestamp >= 2018", "'2018' is a year, a partial date"),
    ("@timestamp >= 2018-01-03", "partial dates"),
])
def test_range_bounds_not_modelled_are_refused(query, message):
    with pytest.raises(QueryUnsupported, match=message):
        compile_query(to_query_dsl(read_kql(query), FIELDS), FIELDS)
