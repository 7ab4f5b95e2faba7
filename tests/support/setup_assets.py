"""The sample asset tree the setup tests provision: ASSETS_DIR/elasticsearch and ASSETS_DIR/kibana,
in the layout setup/provision/assets.py documents (a file per asset, named after what it creates)."""

from __future__ import annotations

import json
from pathlib import Path

RULE_ID = "django-logs-error-burst"
LOG_CONNECTOR_ID = "django-logs-server-log"
INDEX_CONNECTOR_ID = "django-logs-alert-history"

ROLES = {
    "logstash_writer": {
        "cluster": ["monitor"],
        "indices": [{"names": ["django-logs-*"], "privileges": ["create_doc", "auto_configure"]}],
    },
    "django_responder": {
        "indices": [{"names": ["django-logs-*"], "privileges": ["read", "view_index_metadata"]}],
    },
    # The rules' owner (setup/provision/kibana_steps.py): what the fake Kibana checks before a rule call.
    "django_alerting": {
        "indices": [{"names": ["django-logs-*"], "privileges": ["read"]}],
        "applications": [{"application": "kibana-.kibana", "privileges": ["feature_stackAlerts.all", "feature_actions.read"],
                          "resources": ["space:default"]}],
    },
}
ILM_POLICY = {
    "policy": {
        "_meta": {"description": "Deletes django-logs-* indices after LOG_RETENTION_DAYS."},
        "phases": {
            "hot": {"min_age": "0ms", "actions": {"set_priority": {"priority": 100}}},
            "delete": {"min_age": "30d", "actions": {"delete": {}}},
        },
    }
}
INDEX_TEMPLATE = {
    "index_patterns": ["django-logs-*"],
    "priority": 200,
    "template": {
        "settings": {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "index.lifecycle.name": "django-logs",
            "index": {"lifecycle": {"parse_origination_date": True}},
        },
        "mappings": {
            "properties": {
                "@timestamp": {"type": "date"},
                "message": {"type": "text"},
                "event": {"properties": {"dataset": {"type": "keyword"}}},
            }
        },
    },
    "_meta": {"description": "Django log lines shipped by Logstash."},
}
SAVED_OBJECTS = [
    {
        "type": "index-pattern", "id": "django-logs", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.0.0",
        "attributes": {"title": "django-logs-*", "name": "Django logs", "timeFieldName": "@timestamp"},
        "references": [],
    },
    {
        "type": "search", "id": "django-logs-errors", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.0.0",
        "attributes": {
            "title": "Django errors", "columns": ["log.level", "message"], "sort": [["@timestamp", "desc"]],
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({
                "query": {"query": "log.level:ERROR", "language": "kuery"},
                "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
            })},
        },
        "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "django-logs"}],
    },
    {
        "type": "dashboard", "id": "django-logs-overview", "coreMigrationVersion": "8.8.0", "typeMigrationVersion": "8.9.0",
        "attributes": {
            "title": "Django logs overview",
            "panelsJSON": json.dumps([{"panelIndex": "1", "gridData": {"x": 0, "y": 0, "w": 48, "h": 15, "i": "1"},
                                       "type": "search", "panelRefName": "panel_1", "embeddableConfig": {}}]),
            "optionsJSON": json.dumps({"useMargins": True}),
            "timeRestore": False,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}})},
        },
        "references": [{"name": "1:panel_1", "type": "search", "id": "django-logs-errors"}],
    },
]
CONNECTORS = {
    "server-log": {"id": LOG_CONNECTOR_ID, "body": {
        "name": "Django logs: server log", "connector_type_id": ".server-log", "config": {}, "secrets": {},
    }},
    "alert-history": {"id": INDEX_CONNECTOR_ID, "body": {
        "name": "Django logs: alert history", "connector_type_id": ".index", "config": {"index": "django-logs-alerts"},
    }},
}
RULE = {"id": RULE_ID, "body": {
    "name": "Django error burst",
    "rule_type_id": ".es-query",
    "consumer": "alerts",
    "tags": ["django"],
    "schedule": {"interval": "1m"},
    "params": {
        "searchType": "esQuery", "esQuery": json.dumps({"query": {"match": {"log.level": "ERROR"}}}),
        "index": ["django-logs-*"], "timeField": "@timestamp", "threshold": [5], "thresholdComparator": ">",
        "timeWindowSize": 5, "timeWindowUnit": "m", "size": 10,
    },
    "actions": [{
        "group": "query matched", "id": LOG_CONNECTOR_ID,
        "params": {"level": "warn", "message": "{{context.hits.length}} Django errors in 5 minutes"},
        "frequency": {"summary": False, "notify_when": "onActiveAlert", "throttle": None},
    }],
}}


# The saved-objects file of the assets tests build, relative to their ASSETS_DIR.
SAVED_OBJECTS_FILE = Path("kibana", "saved_objects", "saved_objects.ndjson")


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2))


def build_assets(root: Path) -> Path:
    """An asset tree in the documented layout: ASSETS_DIR/elasticsearch and ASSETS_DIR/kibana."""
    for name, body in ROLES.items():
        write_json(root / "elasticsearch" / "roles" / f"{name}.json", body)
    write_json(root / "elasticsearch" / "ilm_policies" / "django-logs.json", ILM_POLICY)
    write_json(root / "elasticsearch" / "index_templates" / "django-logs.json", INDEX_TEMPLATE)
    (root / "kibana" / "saved_objects").mkdir(parents=True)
    (root / SAVED_OBJECTS_FILE).write_text("".join(json.dumps(item) + "\n" for item in SAVED_OBJECTS))
    for name, connector in CONNECTORS.items():
        write_json(root / "kibana" / "connectors" / f"{name}.json", connector)
    write_json(root / "kibana" / "rules" / "error-burst.json", RULE)
    return root


def edit_json(path: Path, change) -> None:
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))

