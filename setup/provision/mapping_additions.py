"""What an existing index lacks of its template's mappings, in the only form Elasticsearch takes on a live index.

Elasticsearch merges PUT <index>/_mapping into the index's mapping (server/.../index/mapper/FieldMapper.java
merge, ObjectMapper.merge): a new field or a new object is added; a new multi-field of an existing field is
added too (FieldMapper.MultiFields.Builder.update adds a sub-field the field lacks); a field's type never
changes (FieldMapper.checkIncomingMergeType: "mapper [x] cannot be changed from type [a] to [b]"), nor an object
into a field or back. The incoming definition of an existing field replaces its updateable parameters (an
omitted ignore_above reverts to the default: FieldMapper.Parameter.merge takes the incoming value), so a field
that gains a multi-field is sent exactly as the index holds it, plus the new sub-field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Additions:
    properties: dict[str, Any] = field(default_factory=dict)  # the body's "properties" for PUT <index>/_mapping
    added: list[str] = field(default_factory=list)  # dotted paths of every field the body adds
    kept: list[tuple[str, str]] = field(default_factory=list)  # (path, the index's type) where the template's differs


def field_type(definition: dict[str, Any]) -> str:
    """A mapping entry's type; an object states none when it has properties (ObjectMapper.toXContent)."""
    return definition.get("type", "object")


def _merged_objects(one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any]:
    merged = {**one, **{key: value for key, value in two.items() if key != "properties"}}
    properties = dict(one.get("properties", {}))
    for name, definition in two.get("properties", {}).items():
        both_objects = "properties" in definition and "properties" in properties.get(name, {})
        properties[name] = _merged_objects(properties[name], definition) if both_objects else definition
    merged["properties"] = properties
    return merged


def expanded(properties: dict[str, Any]) -> dict[str, Any]:
    """Dotted names as Elasticsearch reads them, "a.b" being b inside the object a (ObjectMapper.TypeParser
    parseProperties, with subobjects enabled), so they compare with the mapping GET answers."""
    result: dict[str, Any] = {}
    for name, definition in properties.items():
        if "properties" in definition:
            definition = {**definition, "properties": expanded(definition["properties"])}
        head, _, rest = name.partition(".")
        if rest:
            definition = {"properties": expanded({rest: definition})}
        both_objects = "properties" in definition and "properties" in result.get(head, {})
        result[head] = _merged_objects(result[head], definition) if both_objects else definition
    return result


def _leaves(path: str, definition: dict[str, Any]) -> list[str]:
    """The dotted paths a new definition adds: its fields, sub-objects' fields and multi-fields."""
    if "properties" in definition:
        return [leaf for name, child in definition["properties"].items() for leaf in _leaves(f"{path}.{name}", child)]
    return [path, *(f"{path}.{name}" for name in definition.get("fields", {}))]


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _add_multi_fields(path: str, have: dict[str, Any], want: dict[str, Any], additions: Additions) -> dict[str, Any] | None:
    """The index's definition of an existing field plus the template's multi-fields it lacks, or None."""
    have_fields, new_fields = have.get("fields", {}), {}
    for name, sub in want.get("fields", {}).items():
        if name not in have_fields:
            new_fields[name] = _copy(sub)
            additions.added.append(f"{path}.{name}")
        elif field_type(have_fields[name]) != field_type(sub):
            additions.kept.append((f"{path}.{name}", field_type(have_fields[name])))
    if not new_fields:
        return None
    return {**_copy(have), "fields": {**_copy(have_fields), **new_fields}}


def _missing(prefix: str, have: dict[str, Any], want: dict[str, Any], additions: Additions) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, wanted in want.items():
        path = f"{prefix}{name}"
        current = have.get(name)
        if current is None:
            properties[name] = _copy(wanted)
            additions.added.extend(_leaves(path, wanted))
        elif field_type(current) != field_type(wanted):
            additions.kept.append((path, field_type(current)))
        elif "properties" in wanted or field_type(wanted) in ("object", "nested"):
            inner = _missing(f"{path}.", current.get("properties", {}), wanted.get("properties", {}), additions)
            if inner:
                # A nested object must say so in the update, or it would be merged as a plain object.
                properties[name] = {"properties": inner, **({"type": "nested"} if field_type(wanted) == "nested" else {})}
        else:
            grown = _add_multi_fields(path, current, wanted, additions)
            if grown is not None:
                properties[name] = grown
    return properties


def mapping_additions(index_mapping: dict[str, Any], template_mapping: dict[str, Any]) -> Additions:
    """The template's fields (and multi-fields) `index_mapping` lacks, and the fields whose types differ."""
    additions = Additions()
    wanted = expanded(template_mapping.get("properties", {}))
    additions.properties = _missing("", index_mapping.get("properties", {}), wanted, additions)
    return additions
