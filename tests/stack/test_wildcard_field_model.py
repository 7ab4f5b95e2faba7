"""The wildcard field type in the Elasticsearch models (stack_models/es_fields.py, query_dsl.py, esql_run.py).

Expected values from elastic/elasticsearch x-pack/plugin/wildcard WildcardFieldMapper.java (ignore_above,
termQuery, doc values, familyTypeName), x-pack/plugin/esql IndexResolver.java and InvalidMappedField.java
(whose message its own AnalyzerTests check: "Cannot use field [multi_typed] due to ambiguities being mapped as
[2] incompatible types: [ip] in [test1, test2, test3] and [2] other indices, [keyword] in [test6]"), and Kibana's
field_caps_response.ts.
"""

import pytest

from stack_models.es_fields import data_view_conflicts, field_caps_type, indexed_values, mapped_fields, source_values
from stack_models.esql import read_esql
from stack_models.esql_run import ambiguities, run_esql
from stack_models.query_dsl import compile_query

URL_MAPPING = {"dynamic": False, "properties": {"url": {"properties": {
    "original": {"type": "wildcard", "fields": {"text": {"type": "match_only_text"}}},
    "path": {"type": "wildcard", "ignore_above": 10},
}}}}
LONG_URL = "/search?q=" + "%27%20OR%201%3D1" * 400  # 6010 characters: over a keyword's ignore_above 4096


def fields_of(properties: dict) -> dict:
    return mapped_fields({"properties": properties})


def test_a_long_value_is_indexed_without_ignore_above_and_skipped_over_it():
    fields = mapped_fields(URL_MAPPING)
    doc = source_values({"url": {"original": LONG_URL, "path": "/a/very/long/path"}})
    assert indexed_values(fields["url.original"], doc) == [LONG_URL]
    assert indexed_values(fields["url.path"], doc) == []  # 17 characters > ignore_above 10


def test_term_and_terms_match_the_exact_value():
    fields = mapped_fields(URL_MAPPING)
    doc = source_values({"url": {"original": LONG_URL}})
    assert compile_query({"term": {"url.original": LONG_URL}}, fields)(doc) is True
    assert compile_query({"term": {"url.original": LONG_URL.upper()}}, fields)(doc) is False
    assert compile_query({"terms": {"url.original": ["/x", LONG_URL]}}, fields)(doc) is True
    assert compile_query({"exists": {"field": "url.path"}}, fields)(doc) is False


def test_prefix_and_wildcard_queries_are_refused():
    fields = mapped_fields(URL_MAPPING)
    for query in ({"wildcard": {"url.original": "*OR*"}}, {"prefix": {"url.original": "/search"}}):
        with pytest.raises(ValueError, match="outside the modelled subset"):
            compile_query(query, fields)


def test_null_value_is_refused_when_read():
    fields = fields_of({"url": {"properties": {"original": {"type": "wildcard", "null_value": "-"}}}})
    with pytest.raises(ValueError, match="wildcard with null_value is not modelled"):
        indexed_values(fields["url.original"], source_values({"url": {"original": "/"}}))


def test_esql_reads_a_wildcard_field_as_keyword_sorted_and_deduplicated():
    fields = mapped_fields(URL_MAPPING)
    docs = [source_values({"url": {"original": ["/b", "/a", "/b"]}}), source_values({"url": {"original": "/b"}})]
    result = run_esql(read_esql("FROM django-logs-* | EVAL u = url.original"), docs, fields)
    assert result.columns == {"url.original": "keyword", "u": "keyword"}
    assert [row["u"] for row in result.rows] == [("/a", "/b"), "/b"]
    grouped = run_esql(read_esql("FROM django-logs-* | STATS n = COUNT(*) BY url.original"), docs, fields)
    assert {row["url.original"]: row["n"] for row in grouped.rows} == {"/a": 1, "/b": 2}


def test_field_caps_and_kibana_see_keyword():
    fields = mapped_fields(URL_MAPPING)
    assert (field_caps_type(fields["url.original"]), field_caps_type(fields["url.original.text"])) == ("keyword", "text")


def test_keyword_in_old_indices_and_wildcard_in_new_ones_is_one_type():
    old = fields_of({"url": {"properties": {"original": {"type": "keyword", "ignore_above": 4096}}}})
    new = mapped_fields(URL_MAPPING)
    indices = {"django-logs-2026.12.07": old, "django-logs-2026.12.08": new}
    assert "url.original" not in ambiguities(indices)
    assert "url.original" not in data_view_conflicts(indices)


def test_text_in_old_indices_and_wildcard_in_new_ones_splits_esql_but_not_the_data_view():
    old = fields_of({"error": {"properties": {"stack_trace": {"type": "match_only_text"}}}})
    new = fields_of({"error": {"properties": {"stack_trace": {"type": "wildcard"}}}})
    indices = {"django-logs-2026.12.07": old, "django-logs-2026.12.08": new}
    assert ambiguities(indices) == {"error.stack_trace": (
        "Cannot use field [error.stack_trace] due to ambiguities being mapped as [2] incompatible types: "
        "[keyword] in [django-logs-2026.12.08], [text] in [django-logs-2026.12.07]")}
    assert data_view_conflicts(indices) == {}  # text and keyword are both Kibana "string"


def test_more_than_three_indices_are_counted_and_kibana_conflicts_on_two_kibana_types():
    keyword = fields_of({"source": {"properties": {"ip": {"type": "keyword"}}}})
    ip = fields_of({"source": {"properties": {"ip": {"type": "ip"}}}})
    indices = {f"test{n}": ip for n in range(1, 6)} | {"test6": keyword}
    assert ambiguities(indices)["source.ip"] == (
        "Cannot use field [source.ip] due to ambiguities being mapped as [2] incompatible types: "
        "[ip] in [test1, test2, test3] and [2] other indices, [keyword] in [test6]")
    assert data_view_conflicts(indices) == {"source.ip": {"ip": ["test1", "test2", "test3", "test4", "test5"],
                                                          "keyword": ["test6"]}}
