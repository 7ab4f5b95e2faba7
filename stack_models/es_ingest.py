"""An Elasticsearch ingest pipeline applied to a document, for the pipelines elasticsearch/ingest_pipelines/ holds.

Modelled (elastic/elasticsearch, as cited): a pipeline's top-level keys, the `set` processor with a literal
value or the template {{{_ingest.timestamp}}} / {{_ingest.timestamp}}, and what that template renders.
Anything else (another processor, another template, `if`, `copy_from`, `on_failure`) raises NotModelled:
the model refuses rather than guesses.
- Keys of a pipeline: what PUT _ingest/pipeline/<id> takes (the REST specification, as the pinned Python
  client generates it: elasticsearch/_sync/client/ingest.py put_pipeline); Pipeline.java's factory refuses
  any other ("pipeline [<id>] doesn't support one or more provided configuration parameters [...]").
- `set`: modules/ingest-common/.../SetProcessor.java (field, value, copy_from, override default true,
  ignore_empty_value, media_type) plus the options every processor takes (ConfigurationUtils.readProcessor:
  tag, description, if, ignore_failure, on_failure); an unknown option is refused ("processor [set]
  doesn't support one or more provided configuration parameters [...]").
- `_ingest.timestamp`: IngestDocument.java puts ZonedDateTime.now(ZoneOffset.UTC) in the ingest metadata
  when the document enters its pipelines; a template renders it with Java's toString (elasticsearch#23174:
  "ZonedDateTime ... happens to format itself in the same way ES is expecting"): ISO-8601 with a Z, the
  seconds left out when they and the fraction are zero, the fraction in groups of 3 digits
  (java.time.LocalTime.toString). A `date` field parses each form (strict_date_optional_time: seconds and
  fraction are optional) and keeps milliseconds (stack_models/es_fields.py).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

PIPELINE_KEYS = frozenset({
    "_meta", "deprecated", "description", "field_access_pattern", "on_failure", "processors", "version",
})
COMMON_PROCESSOR_OPTIONS = frozenset({"tag", "description", "if", "ignore_failure", "on_failure"})
SET_OPTIONS = frozenset({"field", "value", "copy_from", "override", "ignore_empty_value", "media_type"})
# Triple braces render unescaped; double braces escape for media_type (default application/json), which
# changes nothing in a timestamp. Either form is the same value here.
TIMESTAMP_TEMPLATES = frozenset({"{{{_ingest.timestamp}}}", "{{_ingest.timestamp}}"})


class NotModelled(Exception):
    """The pipeline uses something this model does not follow."""


def pipeline_problem(pipeline_id: str, body: Any) -> str | None:
    """Why Elasticsearch refuses this body for PUT _ingest/pipeline/<id> (its reason text), or None."""
    if not isinstance(body, dict):
        return "request body is required"
    unknown = sorted(set(body) - PIPELINE_KEYS)
    if unknown:
        return f"pipeline [{pipeline_id}] doesn't support one or more provided configuration parameters {unknown}"
    processors = body.get("processors")
    if not isinstance(processors, list):
        return "[processors] required property is missing"
    for processor in processors:
        if not (isinstance(processor, dict) and len(processor) == 1):
            return "[processors] each processor must be an object with one key, its type"
        [(kind, options)] = processor.items()
        if kind != "set":
            raise NotModelled(f"processor [{kind}] is not modelled (only set is)")
        if not isinstance(options, dict):
            return f"[{kind}] property isn't a map, but of type [{type(options).__name__}]"
        unknown = sorted(set(options) - SET_OPTIONS - COMMON_PROCESSOR_OPTIONS)
        if unknown:
            return f"processor [set] doesn't support one or more provided configuration parameters {unknown}"
        if not isinstance(options.get("field"), str):
            return "[field] required property is missing"
        if ("value" in options) == ("copy_from" in options):
            return "[value] required property is missing" if "value" not in options else (
                "[copy_from] cannot set `copy_from` while also setting `value`")
    return None


def java_utc_string(moment: dt.datetime) -> str:
    """ZonedDateTime.toString of a UTC moment: 2026-12-08T02:48:06.123Z, ...T02:48Z at a whole minute."""
    utc = moment.astimezone(dt.timezone.utc)
    text = f"{utc:%Y-%m-%dT%H:%M}"
    if utc.second or utc.microsecond:
        text += f":{utc.second:02d}"
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}" if utc.microsecond % 1000 == 0 else f".{utc.microsecond:06d}"
    return text + "Z"


def _set_field(document: dict[str, Any], path: str, value: Any, override: bool) -> None:
    """IngestDocument.setFieldValue on a dotted path, making the objects on the way."""
    *parents, leaf = path.split(".")
    node = document
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise NotModelled(f"{path}: {part} holds a {type(child).__name__}, not an object")
        node = child
    if override or node.get(leaf) is None:
        node[leaf] = value


def apply_pipeline(pipeline: Mapping[str, Any], source: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The document as the pipeline leaves it, ingested at ``now``."""
    problem = pipeline_problem("model", dict(pipeline))
    if problem:
        raise ValueError(problem)
    if pipeline.get("on_failure"):
        raise NotModelled("on_failure is not modelled")
    document = copy.deepcopy(dict(source))
    for processor in pipeline["processors"]:
        options = processor["set"]
        for option in ("if", "on_failure", "copy_from", "ignore_empty_value", "ignore_failure"):
            if option in options:
                raise NotModelled(f"set option {option} is not modelled")
        value = options["value"]
        if isinstance(value, str) and "{{" in value:
            if value not in TIMESTAMP_TEMPLATES:
                raise NotModelled(f"template {value!r} is not modelled (only {{{{{{_ingest.timestamp}}}}}} is)")
            value = java_utc_string(now)
        if "{{" in options["field"]:
            raise NotModelled("a templated field name is not modelled")
        _set_field(document, options["field"], value, options.get("override", True))
    return document
