"""Bring the indices a template already matches up to it, additively: its new fields' mappings and the
ingest pipelines its settings name.

An index takes its template only when it is created, so on the day of an upgrade Logstash's index of the
day (and any older one) keeps the old mapping: new fields would sit unsearchable in _source until the next
day's index. Setup adds what Elasticsearch lets a live index gain (mapping_additions.py) and leaves the rest:
a field whose type changed keeps its old type until the index ages out under its lifecycle policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provision.assets import NO_PIPELINE, PIPELINE_SETTINGS, Asset
from provision.comparison import flat_settings
from provision.elasticsearch_steps import ElasticsearchSteps
from provision.mapping_additions import mapping_additions
from provision.output import report, say


def _pipeline_settings(template: Asset) -> dict[str, str]:
    """The template's index.default_pipeline / index.final_pipeline, both dynamic index settings
    (server/.../index/IndexSettings.java DEFAULT_PIPELINE, FINAL_PIPELINE: Property.Dynamic), so a live
    index takes them through PUT <index>/_settings."""
    settings = flat_settings(template.body.get("template", {}).get("settings", {}))
    return {name: settings[name] for name in PIPELINE_SETTINGS if settings.get(name) not in (None, NO_PIPELINE)}


def _written(es: ElasticsearchSteps, what: str, hint: str, function: Callable[..., Any], **kwargs: Any) -> bool:
    """Whether the write was done: False when the index was deleted meanwhile (404 index_not_found_exception,
    e.g. ILM's delete phase between setup's GET and its PUT), which is no failure."""
    response = es.call(what, hint, function, **kwargs)
    return response.meta.status != 404


def upgrade_existing_indices(es: ElasticsearchSteps, template: Asset) -> None:
    """One line per open index the template's patterns match: what was added, or unchanged.

    GET <patterns>/_mapping and /_settings (rest-api-spec indices.get_mapping.json, indices.get_settings.json):
    expand_wildcards open leaves closed indices out (a closed index cannot be searched; reopened, it is
    updated by the next run). A data stream's template (django-alerts) is left to the stream's own daily
    rollover, which creates its next backing index from the template: updating backing indices is not
    modelled by the fake Elasticsearch the tests run against."""
    if "data_stream" in template.body:
        return
    patterns = template.body["index_patterns"]
    target = ",".join(patterns) if isinstance(patterns, list) else patterns
    indices = es.client.indices
    read = {"index": target, "expand_wildcards": "open", "ignore_unavailable": True}
    # GetMappingsResponse: {<index>: {"mappings": {...}}}; GetSettingsResponse: {<index>: {"settings": {...}}}.
    mappings = es.call(f"GET {target}/_mapping", "", indices.get_mapping, **read).body
    settings = es.call(f"GET {target}/_settings", "", indices.get_settings, flat_settings=True, **read).body
    wanted_mapping = template.body.get("template", {}).get("mappings", {})
    wanted_settings = _pipeline_settings(template)
    for index in sorted(mappings):
        current_settings = settings.get(index, {}).get("settings", {})
        missing = {name: value for name, value in wanted_settings.items() if name not in current_settings}
        _upgrade_index(es, template, index, mappings[index].get("mappings", {}), wanted_mapping, missing)


def _upgrade_index(
    es: ElasticsearchSteps, template: Asset, index: str, mapping: dict[str, Any], wanted: dict[str, Any],
    missing_settings: dict[str, str],
) -> None:
    step = f"existing index {index}"
    hint = f"{index} was created from an earlier {template.path}; the indices created from now on get it whole."
    additions = mapping_additions(mapping, wanted)
    added = []
    if additions.properties:
        writer = es.client.options(ignore_status=404).indices.put_mapping
        if not _written(es, f"PUT {index}/_mapping", hint, writer, index=index, properties=additions.properties):
            report(step, "skipped, deleted while setup ran")
            return
        added.append(f"the mappings of {', '.join(additions.added)}")
    if missing_settings:
        writer = es.client.options(ignore_status=404).indices.put_settings
        if not _written(es, f"PUT {index}/_settings", hint, writer, index=index, settings=missing_settings):
            report(step, "skipped, deleted while setup ran")
            return
        added.extend(f"{name} {value}" for name, value in missing_settings.items())
    report(step, f"added {'; '.join(added)}" if added else "unchanged")
    if additions.kept:
        kept = ", ".join(f"{path} kept as {kind}" for path, kind in additions.kept)
        say(f"{step}: {kept} until {index} ages out (its template maps them otherwise)")
