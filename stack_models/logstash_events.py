"""The events a Logstash pipeline carries and the documents its elasticsearch output indexes."""

import json
import re
from dataclasses import dataclass

from .logstash_config_tree import field_path
from .logstash_dates import joda_format

_SPRINTF = re.compile(r"%\{(?P<ref>[^}]+)\}")


def field_value(source: dict, path: tuple[str, ...]):
    """The value at ``path`` of nested dicts (an event, a document's source), None where it stops."""
    node = source
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class Event(dict):
    """A Logstash event: nested fields, with ``@metadata`` kept out of the output."""

    def get_field(self, path: tuple[str, ...]):
        return field_value(self, path)

    def set_field(self, path: tuple[str, ...], value) -> None:
        node = self
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    def includes(self, path: tuple[str, ...]) -> bool:
        """Event#include?: the field is there, even holding null (logstash-core Accessors.java, includes:
        containsKey)."""
        parent = self.get_field(path[:-1]) if len(path) > 1 else self
        return isinstance(parent, dict) and path[-1] in parent

    def remove_field(self, path: tuple[str, ...]):
        parent = self.get_field(path[:-1]) if len(path) > 1 else self
        if isinstance(parent, dict):
            return parent.pop(path[-1], None)
        return None

    def tags(self) -> list[str]:
        return self.setdefault("tags", [])

    def add_tag(self, tag: str) -> None:
        if tag not in self.tags():
            self.tags().append(tag)

    def sprintf(self, template: str) -> str:
        def substitute(match):
            reference = match["ref"]
            if reference.startswith("+"):
                return joda_format(self["@timestamp"], reference[1:])
            value = self.get_field(field_path(reference))
            return match.group() if value is None else _interpolated(value)

        return _SPRINTF.sub(substitute, template)


def _interpolated(value) -> str:
    """A field's value in a ``%{...}`` reference (logstash-core StringInterpolation.java): an array joined with
    "," (KeyNode.join), an object as compact JSON (ObjectMappers.JSON_MAPPER), anything else its toString."""
    if isinstance(value, list):
        if any(isinstance(item, (dict, list)) for item in value):
            raise NotImplementedError("%{...} of an array holding arrays or objects is not modelled")
        return ",".join(_interpolated(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Document:
    index: str
    document_id: str
    source: dict
    action: str
