"""What the Elasticsearch and Kibana APIs accept, as the tests know it: one home for each shape.

The fakes, the asset tests and the setup tests read these; product code keeps its own
minimal knowledge, so a fake built from here stays an independent judge of it. Each set
names the upstream file (elastic/elasticsearch, elastic/kibana) it was taken from.
"""

from typing import Any

# --- Elasticsearch ---------------------------------------------------------------------------

# PUT _index_template/<name>: server/src/main/java/org/elasticsearch/cluster/metadata/
# ComposableIndexTemplate.java (PARSER, unknown fields refused).
INDEX_TEMPLATE_KEYS = frozenset({
    "_meta", "allow_auto_create", "composed_of", "data_stream", "deprecated",
    "ignore_missing_component_templates", "index_patterns", "priority", "template", "version",
})
# Its "template" object: server/src/main/java/org/elasticsearch/cluster/metadata/Template.java.
INDEX_TEMPLATE_TEMPLATE_KEYS = frozenset({"settings", "mappings", "aliases", "lifecycle", "data_stream_options"})
# PUT _security/role/<name>: x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/security/
# authz/RoleDescriptor.java (Fields).
ROLE_KEYS = frozenset({
    "applications", "cluster", "description", "global", "indices", "metadata", "remote_cluster",
    "remote_indices", "run_as", "transient_metadata",
})


def flat_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Settings with nested objects joined into dotted keys: Elasticsearch reads both as one setting
    (server/src/main/java/org/elasticsearch/common/settings/Settings.java, fromXContent)."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def flat_index_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Index settings as Elasticsearch stores them: flat, every key under `index.`
    (IndexMetadata's settings: `number_of_shards` and `index.number_of_shards` are the same)."""
    return {key if key.startswith("index.") else f"index.{key}": value for key, value in flat_settings(settings).items()}


# --- Kibana alerting ---------------------------------------------------------------------------

# POST /api/alerting/rule/<id>: x-pack/platform/plugins/shared/alerting/common/routes/rule/apis/
# create/schemas/v1.ts (createBodySchema; the keys without maybe() or a default are required).
RULE_CREATE_KEYS = frozenset({
    "name", "rule_type_id", "enabled", "consumer", "tags", "throttle", "params", "schedule", "actions",
    "notify_when", "alert_delay", "flapping", "dashboards", "artifacts",
})
RULE_REQUIRED_KEYS = frozenset({"name", "rule_type_id", "consumer", "schedule", "params"})
# PUT /api/alerting/rule/<id>: .../rule/apis/update/schemas/v1.ts (no rule_type_id, consumer or enabled).
RULE_UPDATE_KEYS = frozenset({
    "name", "tags", "schedule", "throttle", "params", "actions", "notify_when", "alert_delay", "flapping",
    "artifacts",
})
# An item of "actions": create/schemas/v1.ts, actionSchema.
RULE_ACTION_KEYS = frozenset({"group", "id", "params", "frequency", "uuid", "alerts_filter", "use_alert_data_for_template"})
# alerting/common/routes/rule/response/schemas/v1.ts, notifyWhenSchema.
NOTIFY_WHEN = frozenset({"onActionGroupChange", "onActiveAlert", "onThrottleInterval"})
# .es-query params with searchType esQuery: @kbn/response-ops-rule-params es_query/v1.ts
# (src/platform/packages/shared/response-ops/rule_params/es_query/v1.ts)
# (EsQueryRuleParamsSchema; searchConfiguration and esqlQuery are never() for esQuery).
ES_QUERY_PARAM_KEYS = frozenset({
    "size", "timeWindowSize", "excludeHitsFromPreviousRun", "timeWindowUnit", "threshold",
    "thresholdComparator", "aggType", "aggField", "groupBy", "termField", "termSize", "searchType",
    "timeField", "esQuery", "index", "sourceFields",
})
# .es-query params with searchType esqlQuery: the same schema (esQuery, index and searchConfiguration
# are never() there; esqlQuery is {esql}); v1.ts checks only timeField, ">" and threshold [0] for it.
ESQL_QUERY_PARAM_KEYS = frozenset({
    "size", "timeWindowSize", "excludeHitsFromPreviousRun", "timeWindowUnit", "threshold",
    "thresholdComparator", "aggType", "aggField", "groupBy", "termField", "termSize", "searchType",
    "timeField", "esqlQuery", "sourceFields",
})

# --- Kibana actions ----------------------------------------------------------------------------

# POST /api/actions/connector/<id>: x-pack/platform/plugins/shared/actions/common/routes/connector/
# apis/create/schemas/v1.ts (createConnectorRequestBodySchema).
CONNECTOR_CREATE_KEYS = frozenset({"name", "connector_type_id", "config", "secrets", "inbound_events_enabled"})
# PUT /api/actions/connector/<id>: .../connector/apis/update/schemas/v1.ts.
CONNECTOR_UPDATE_KEYS = frozenset({"name", "config", "secrets"})
# The .index connector: x-pack/platform/plugins/shared/stack_connectors/server/connector_types/es_index/
# index.ts validates with @kbn/connector-schemas/es_index: config {index: string (required),
# refresh: boolean (default false), executionTimeField: nullable string}; params {documents: an array
# of objects, indexOverride (only for the preconfigured alert-history connector)}. Its executor
# bulk-writes each document with op_type create through the rule's scoped cluster client.
INDEX_CONNECTOR_CONFIG_DEFAULTS = {"refresh": False, "executionTimeField": None}
INDEX_CONNECTOR_CONFIG_REQUIRED = frozenset({"index"})
INDEX_CONNECTOR_PARAM_KEYS = frozenset({"documents", "indexOverride"})
