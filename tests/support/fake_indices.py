"""Indices in the fake Elasticsearch (tests/support/fake_elastic.py): created from the stored index templates
as Elasticsearch creates them, and the mapping and settings calls setup makes on existing ones.

Sources (elastic/elasticsearch):
- Index creation: cluster/metadata/MetadataIndexTemplateService.java findV2Template, the matching
  composable template with the highest priority; its settings and mappings become the index's.
- GET <target>/_mapping and GET <target>/_settings: rest-api-spec/.../api/indices.get_mapping.json and
  indices.get_settings.json: a comma-separated target, `*` wildcards (common/regex/Regex.java simpleMatch),
  expand_wildcards default open (a wildcard skips closed indices), allow_no_indices default true (a
  wildcard that matches nothing answers {}), ignore_unavailable default false (a missing concrete name is
  404 index_not_found_exception "no such index [<name>]", IndexNotFoundException.java).
- Answers: action/admin/indices/mapping/get/GetMappingsResponse.java {<index>: {"mappings": ...}};
  action/admin/indices/settings/get/GetSettingsResponse.java {<index>: {"settings": ...}}, flat with
  flat_settings=true, else nested (common/settings/Settings.java toXContent); values are strings.
- A mapping as Elasticsearch returns it: index/mapper/ObjectMapper.java toXContent, an object with
  properties states no type and `dynamic` comes back as a lower-case string.
- PUT <index>/_mapping (indices.put_mapping.json, body {"properties": ...}) merged as
  index/mapper/ObjectMapper.java merge and FieldMapper.java merge do, all or nothing: a new field or
  multi-field is added (FieldMapper.MultiFields.Builder.update); a type change is refused, 400
  illegal_argument_exception "mapper [<path>] cannot be changed from type [<old>] to [<new>]"
  (FieldMapper.checkIncomingMergeType), a field sent where an object is "can't merge a non object mapping
  [<path>] with an object mapping" (MapperErrors.throwObjectMappingConflictError), an object sent where a
  field is "mapper [<path>] cannot be changed from type [<old>] to [ObjectMapper]" (FieldMapper.merge); a
  parameter takes the incoming value (its default when omitted) if updateable (FieldMapper.Parameter.merge),
  else must be equal ("Mapper for [<path>] conflicts with existing mapper:\\n\\tCannot update parameter [<p>]
  from [<old>] to [<new>]", FieldMapper.Conflicts); an object's dynamic changes only when sent
  (ObjectMapper.doMerge).
- PUT <index>/_settings (indices.put_settings.json): cluster/metadata/MetadataUpdateSettingsService.java
  refuses a non-dynamic setting on an open index, 400 illegal_argument_exception "Can't update non dynamic
  settings [[<keys>]] for open indices [[<index>/<uuid>]]"; index/IndexSettings.java declares
  index.default_pipeline and index.final_pipeline Property.Dynamic.
"""

from __future__ import annotations

import copy
import fnmatch
import time
import uuid
from typing import Any

from tests.support.elastic_api import flat_index_settings

# The parameters each mapper declares updateable (Parameter's `updateable` true): keyword's and wildcard's
# ignore_above (KeywordFieldMapper.java, WildcardFieldMapper.java), ignore_malformed and coerce
# (FieldMapper.ignoreMalformedParam, NumberFieldMapper.java), meta (FieldMapper.Parameter.metaParam). The
# fake treats every other parameter as not updateable.
UPDATEABLE_PARAMETERS = {"ignore_above", "ignore_malformed", "coerce", "meta"}
# Of the settings the fake's indices carry, the dynamic ones (IndexSettings.java, IndexMetadata.java,
# LifecycleSettings.java: Property.Dynamic); any other sent to an open index is refused.
DYNAMIC_SETTINGS = {
    "index.default_pipeline", "index.final_pipeline", "index.number_of_replicas", "index.refresh_interval",
    "index.lifecycle.name", "index.lifecycle.parse_origination_date",
}


class Refusal(Exception):
    """What Elasticsearch answers instead: fake_elastic.py turns it into its error body."""

    def __init__(self, status: int, error_type: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.error_type, self.reason = status, error_type, reason


def _not_modelled(what: str) -> Refusal:
    return Refusal(400, "illegal_argument_exception", f"fake Elasticsearch: {what} is not modelled")


def _kind(definition: dict[str, Any]) -> str:
    return definition.get("type", "object")


def _as_returned(definition: dict[str, Any]) -> dict[str, Any]:
    """A mapping entry as GET _mapping gives it back (ObjectMapper.toXContent)."""
    stored = copy.deepcopy(definition)
    if _kind(stored) == "nested":
        raise _not_modelled("a nested mapping")
    if any("." in name for name in stored.get("properties", {})):
        raise _not_modelled("a dotted field name")
    if "properties" in stored:
        stored["properties"] = {name: _as_returned(child) for name, child in stored["properties"].items()}
        if stored["properties"] and stored.get("type") == "object":
            del stored["type"]
    if "dynamic" in stored:
        stored["dynamic"] = str(stored["dynamic"]).lower()
    if "fields" in stored:
        stored["fields"] = {name: _as_returned(child) for name, child in stored["fields"].items()}
    return stored


def _merged_properties(current: dict[str, Any], incoming: dict[str, Any], prefix: str) -> dict[str, Any]:
    merged = copy.deepcopy(current)
    for name, definition in incoming.items():
        path = f"{prefix}{name}"
        merged[name] = _as_returned(definition) if name not in merged else _merged(path, merged[name], definition)
    return merged


def _merged(path: str, existing: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    old, new = _kind(existing), _kind(incoming)
    if "nested" in (old, new):
        raise _not_modelled("a nested mapping")
    if old == "object":
        if new != "object":
            raise Refusal(400, "illegal_argument_exception", f"can't merge a non object mapping [{path}] with an object mapping")
        result = copy.deepcopy(existing)
        if "dynamic" in incoming:
            result["dynamic"] = str(incoming["dynamic"]).lower()
        properties = _merged_properties(existing.get("properties", {}), incoming.get("properties", {}), f"{path}.")
        if properties:
            result["properties"] = properties
            result.pop("type", None)
        return result
    if new != old:
        shown = "ObjectMapper" if new == "object" else new
        raise Refusal(400, "illegal_argument_exception", f"mapper [{path}] cannot be changed from type [{old}] to [{shown}]")
    result: dict[str, Any] = {"type": old}
    conflicts = []
    for parameter in sorted((set(existing) | set(incoming)) - {"type", "fields"}):
        before, after = existing.get(parameter), incoming.get(parameter)
        if parameter in UPDATEABLE_PARAMETERS:
            value = after  # omitted: the default, which GET does not show
        elif before != after:
            # The fake knows no defaults: an omitted parameter is shown as "default".
            shown = ["default" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
                     for value in (before, after)]
            conflicts.append(f"Cannot update parameter [{parameter}] from [{shown[0]}] to [{shown[1]}]")
            continue
        else:
            value = before
        if value is not None:
            result[parameter] = value
    if conflicts:
        raise Refusal(400, "illegal_argument_exception",
                      f"Mapper for [{path}] conflicts with existing mapper:\n\t" + "\n\t".join(conflicts))
    fields = _merged_properties(existing.get("fields", {}), incoming.get("fields", {}), f"{path}.")
    if fields:
        result["fields"] = fields
    return result


def _nested(flat: dict[str, str]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _flag(query: dict[str, list[str]], name: str, default: bool) -> bool:
    values = query.get(name)
    return default if not values else values[-1] != "false"


class Indices:
    """The fake cluster's indices: name -> {"mappings", "settings" (flat, strings), "open"}."""

    def __init__(self) -> None:
        self.indices: dict[str, dict[str, Any]] = {}
        # Knob: indices deleted as soon as a GET _mapping has listed them (as ILM's delete phase may do
        # between setup's GET and its PUT).
        self.vanish_after_listing: set[str] = set()

    def create(self, name: str, templates: dict[str, dict[str, Any]]) -> None:
        """The index Elasticsearch creates for a first document (auto_configure), from the matching
        template with the highest priority (templates as fake_elastic.py stores them)."""
        matching = [body for body in templates.values()
                    if any(fnmatch.fnmatchcase(name, pattern) for pattern in body["index_patterns"])]
        template = max(matching, key=lambda body: body.get("priority", 0), default={})
        if "data_stream" in template:
            raise _not_modelled("a data stream")
        inner = template.get("template", {})
        settings = {"index.number_of_shards": "1", "index.number_of_replicas": "1",
                    **{key: str(value) for key, value in flat_index_settings(inner.get("settings", {})).items()},
                    "index.uuid": uuid.uuid4().hex[:22], "index.provided_name": name,
                    "index.creation_date": str(int(time.time() * 1000))}
        self.indices[name] = {"mappings": _as_returned(inner.get("mappings", {})), "settings": settings, "open": True}

    def close(self, name: str) -> None:
        self.indices[name]["open"] = False

    def _resolve(self, target: str, query: dict[str, list[str]]) -> list[str]:
        expand = set(",".join(query.get("expand_wildcards", ["open"])).split(","))
        states = {state for state, word in ((True, "open"), (False, "closed")) if word in expand or "all" in expand}
        ignore_unavailable = _flag(query, "ignore_unavailable", False)
        names: list[str] = []
        for expression in target.split(","):
            if "*" in expression:
                names += [name for name, index in self.indices.items()
                          if fnmatch.fnmatchcase(name, expression) and index["open"] in states]
            elif expression in self.indices:
                names.append(expression)
            elif not ignore_unavailable:
                raise Refusal(404, "index_not_found_exception", f"no such index [{expression}]")
        return sorted(set(names))

    def get_mapping(self, target: str, query: dict[str, list[str]]) -> dict[str, Any]:
        names = self._resolve(target, query)
        answer = {name: {"mappings": copy.deepcopy(self.indices[name]["mappings"])} for name in names}
        for name in names:
            if name in self.vanish_after_listing:
                del self.indices[name]
        return answer

    def get_settings(self, target: str, query: dict[str, list[str]]) -> dict[str, Any]:
        flat = _flag(query, "flat_settings", False)
        return {name: {"settings": dict(self.indices[name]["settings"]) if flat else _nested(self.indices[name]["settings"])}
                for name in self._resolve(target, query)}

    def _existing(self, name: str) -> dict[str, Any]:
        if "*" in name or "," in name:
            raise _not_modelled("a write to several indices")
        if name not in self.indices:
            raise Refusal(404, "index_not_found_exception", f"no such index [{name}]")
        return self.indices[name]

    def put_mapping(self, name: str, body: Any) -> dict[str, Any]:
        index = self._existing(name)
        if not isinstance(body, dict) or set(body) - {"properties", "dynamic"}:
            raise _not_modelled("a mapping update other than properties and dynamic")
        mappings = copy.deepcopy(index["mappings"])
        mappings["properties"] = _merged_properties(mappings.get("properties", {}), body.get("properties", {}), "")
        if "dynamic" in body:
            mappings["dynamic"] = str(body["dynamic"]).lower()
        index["mappings"] = mappings  # only once every field merged: a refusal changes nothing
        return {"acknowledged": True}

    def put_settings(self, name: str, body: Any) -> dict[str, Any]:
        index = self._existing(name)
        if not isinstance(body, dict) or not body:
            raise Refusal(400, "action_request_validation_exception", "Validation Failed: 1: no settings to update;")
        settings = {key: None if value is None else str(value) for key, value in flat_index_settings(body).items()}
        static = sorted(set(settings) - DYNAMIC_SETTINGS)
        if static and index["open"]:
            raise Refusal(400, "illegal_argument_exception", f"Can't update non dynamic settings [[{', '.join(static)}]] "
                          f"for open indices [[{name}/{index['settings']['index.uuid']}]]")
        for key, value in settings.items():
            if value is None:
                index["settings"].pop(key, None)
            else:
                index["settings"][key] = value
        return {"acknowledged": True}
