"""The values Elasticsearch indexes for a document's fields, read from an index template's mappings.

The query DSL model (query_dsl.py), the ES|QL executor (esql_run.py) and the alert rules (alert_rules.py)
all read documents through this module, so a value the mapping would not index is missing for all of them:
- keyword: ignore_above counts Java string length, UTF-16 code units (elastic/elasticsearch
  server/src/main/java/org/elasticsearch/index/mapper/KeywordFieldMapper.java; PR #57307: "ignore_above is
  done in terms of java string length"); a longer value is not indexed and has no doc value.
- wildcard: indexed like keyword as far as a query sees it (x-pack/plugin/wildcard WildcardFieldMapper.java:
  parseCreateField takes parser.textOrNull(), skips a value over ignore_above, whose default is Integer.MAX_VALUE,
  i.e. none, in a standard index (Mapper.IgnoreAbove; 8191 only in a logsdb one); its doc values are the
  values sorted and deduplicated). null_value (of any type) is refused: JSON null would be indexed as it.
- ip: stored as 16 bytes, an IPv4 address as its IPv4-mapped IPv6 form, so "::ffff:10.0.0.1" and "10.0.0.1"
  are one address, shown as "10.0.0.1" (IpFieldMapper.java, Lucene InetAddressPoint.encode/decode).
- long: coerce (the default) takes numeric strings and truncates decimals (NumberFieldMapper.java).
- a malformed ip or long with ignore_malformed is not indexed; any other malformed value rejects the document.
- boolean: JSON true and false, and the strings "true" and "false", exactly; a string that is empty or only Java
  whitespace is false; anything else is malformed (BooleanFieldMapper.java, parseCreateField ->
  libs/x-content AbstractXContentParser.booleanValue -> libs/core Booleans.parseBoolean(char[], offset, length,
  false): hasText is Character.isWhitespace, the match Arrays.equals with "true" or "false").
- date: strict_date_optional_time||epoch_millis, the date type's default format, at millisecond resolution
  (DateFieldMapper.java: DEFAULT_DATE_TIME_FORMATTER, Resolution.MILLISECONDS).
- null and [] are not indexed (docs/reference/elasticsearch/mapping-reference/null-value.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The field types this model reads; any other type in a mapping is refused when a query reads it.
KNOWN_TYPES = frozenset({"keyword", "wildcard", "ip", "long", "date", "boolean", "match_only_text", "text"})
TEXT_TYPES = frozenset({"match_only_text", "text"})
KEYWORD_TYPES = frozenset({"keyword", "wildcard"})
# MappedFieldType.familyTypeName, the type _field_caps reports (server FieldCapabilitiesFetcher.java) and so the
# type ES|QL and Kibana see: WildcardFieldMapper's is keyword, MatchOnlyTextFieldMapper's text, the others their own.
_FAMILY_TYPES = {"wildcard": "keyword", "match_only_text": "text"}
# Kibana's field type of each family type (@kbn/field-types kbn_field_types_factory.ts).
_KIBANA_TYPES = {"keyword": "string", "text": "string", "ip": "ip", "long": "number", "date": "date", "boolean": "boolean"}
_IPV4_MAPPED = 0xFFFF << 32


class MappingError(ValueError):
    """A mapping, or a document value, that this model does not read."""


@dataclass(frozen=True)
class Field:
    name: str  # the queried name, e.g. url.original.text for a multi-field
    source_path: str  # where its value is in _source (a multi-field reads its parent's)
    type: str
    ignore_above: int | None = None
    ignore_malformed: bool = False


def mapped_fields(mappings: Mapping[str, Any]) -> dict[str, Field]:
    """Every leaf field of ``mappings`` (an index template's "mappings") by its dotted name."""
    fields: dict[str, Field] = {}

    def walk(properties: Mapping[str, Any], prefix: str) -> None:
        for key, spec in properties.items():
            name = f"{prefix}{key}"
            if "properties" in spec:
                walk(spec["properties"], f"{name}.")
                continue
            fields[name] = _field(name, name, spec)
            for sub, sub_spec in spec.get("fields", {}).items():
                fields[f"{name}.{sub}"] = _field(f"{name}.{sub}", name, sub_spec)

    walk(mappings.get("properties", {}), "")
    return fields


def _field(name: str, source_path: str, spec: Mapping[str, Any]) -> Field:
    kind = spec.get("type", "object")
    if kind not in KNOWN_TYPES:
        kind = f"unmodelled:{kind}"
    elif "null_value" in spec:
        kind = f"unmodelled:{kind} with null_value"
    return Field(name, source_path, kind, spec.get("ignore_above"), bool(spec.get("ignore_malformed", False)))


def source_values(source: Mapping[str, Any]) -> dict[str, list]:
    """The leaf values of a _source by dotted path: nested objects, dotted keys and arrays flattened."""
    values: dict[str, list] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                walk(item, path)
        elif value is not None:
            values.setdefault(path, []).append(value)

    walk(source, "")
    return values


def indexed_values(field: Field, flat_source: Mapping[str, list]) -> list:
    """The values Elasticsearch indexes for ``field``, in source order: str, ip key (int), int, bool or epoch ms."""
    out = []
    for raw in flat_source.get(field.source_path, []):
        value = _indexed(field, raw)
        if value is not None:
            out.append(value)
    return out


# java.lang.Character.isWhitespace: the Unicode space, line and paragraph separators but the no-break ones,
# and the ASCII controls TAB, LF, VT, FF, CR and FS, GS, RS, US.
_JAVA_WHITESPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
_NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")


def _is_java_whitespace(ch: str) -> bool:
    if ch in _JAVA_WHITESPACE_CONTROLS:
        return True
    return ch not in _NO_BREAK_SPACES and unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _indexed(field: Field, raw: Any) -> Any:
    if field.type in KEYWORD_TYPES or field.type in TEXT_TYPES:
        text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
        too_long = field.ignore_above is not None and len(text.encode("utf-16-le")) // 2 > field.ignore_above
        return None if field.type in KEYWORD_TYPES and too_long else text
    try:
        if field.type == "ip":
            return ip_key(str(raw))
        if field.type == "long":
            if isinstance(raw, bool):
                raise ValueError("a boolean is not a long")
            return int(float(raw)) if isinstance(raw, str) and not raw.lstrip("-").isdigit() else int(raw)
        if field.type == "date":
            return raw if isinstance(raw, int) and not isinstance(raw, bool) else parse_date(str(raw))
        if field.type == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and all(_is_java_whitespace(ch) for ch in raw):
                return False
            if raw in ("true", "false"):
                return raw == "true"
            raise ValueError(f"{raw!r} is not a boolean")
    except ValueError as error:
        if field.ignore_malformed:
            return None
        raise MappingError(f"{field.name}: {raw!r} would be rejected by Elasticsearch ({error})") from error
    raise MappingError(f"{field.name}: the field type {field.type} is not modelled")


def field_caps_type(field: Field) -> str:
    """The type _field_caps gives ``field``: its family type."""
    return _FAMILY_TYPES.get(field.type, field.type)


def data_view_conflicts(fields_by_index: Mapping[str, Mapping[str, Field]]) -> dict[str, dict[str, list[str]]]:
    """The fields a Kibana data view over these indices types "conflict", each with its conflictDescriptions (family
    type -> indices): those whose family types are more than one Kibana type (Kibana data_views server
    fetcher/lib/field_capabilities/field_caps_response.ts, "uniqueKibanaTypes"). A keyword and a wildcard field
    are one type; so are a text and a keyword field (both "string")."""
    by_name: dict[str, dict[str, list[str]]] = {}
    for index, fields in sorted(fields_by_index.items()):
        for name, field in fields.items():
            by_name.setdefault(name, {}).setdefault(field_caps_type(field), []).append(index)
    return {name: types for name, types in by_name.items()
            if len({_KIBANA_TYPES.get(kind, kind) for kind in types}) > 1}


def ip_key(text: str) -> int:
    """The address as Lucene orders it: 128 bits, an IPv4 address in its IPv4-mapped IPv6 form."""
    address = ipaddress.ip_address(text)
    return _IPV4_MAPPED | int(address) if address.version == 4 else int(address)


def format_ip(key: int) -> str:
    address = ipaddress.IPv6Address(key)
    return str(address.ipv4_mapped) if address.ipv4_mapped is not None else str(address)


def parse_date(text: str) -> int:
    """Epoch milliseconds of a strict_date_optional_time value with a time; a zone-less one is UTC."""
    if "T" not in text:
        raise ValueError(f"{text!r} has no time: partial dates (rounded by Elasticsearch) are not modelled")
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return epoch_millis(moment)


def epoch_millis(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_millis(millis: int) -> str:
    """A date as Elasticsearch returns it: strict_date_optional_time in UTC with milliseconds."""
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=millis)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rejection(mappings: Mapping[str, Any], source: Mapping[str, Any]) -> str | None:
    """Why Elasticsearch would refuse to index ``source`` under ``mappings`` (a 400), or None.

    elastic/elasticsearch server/src/main/java/org/elasticsearch/index/mapper/DocumentParser.java: a concrete
    value where the mapping has an object is refused ("tried to parse field [...] as object, but found a concrete
    value"), and an object where it has a leaf field fails that field's parser; with ``dynamic: false`` an
    unmapped field is kept in _source only. Stricter than Elasticsearch on one point: an object for a field
    with ignore_malformed counts as refused. A leaf's malformed value is judged by ``_indexed`` above.
    """
    if mappings.get("dynamic") not in (False, "false"):
        raise MappingError("only dynamic: false mappings are modelled")

    def walk(properties: Mapping[str, Any], value: Any, path: str) -> str | None:
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if not isinstance(item, Mapping):
                return f"object mapping for [{path}] tried to parse field [{path}] as object, but found a concrete value"
            for key, child in item.items():
                name = f"{path}.{key}" if path else key
                spec = properties.get(key)
                if spec is None:
                    continue
                problem = (walk(spec["properties"], child, name) if "properties" in spec
                           else _leaf_rejection(_field(name, name, spec), child))
                if problem:
                    return problem
        return None

    return walk(mappings.get("properties", {}), source, "")


def _leaf_rejection(field: Field, value: Any) -> str | None:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, (Mapping, list)):
            return f"failed to parse field [{field.name}] of type [{field.type}]: an object or a nested array"
        # Logstash writes a Timestamp as ISO 8601 (logstash-core Timestamp.java, toString).
        if item is not None and not (field.type == "date" and isinstance(item, dt.datetime)):
            try:
                _indexed(field, item)
            except MappingError as error:
                return str(error)
    return None
