"""The alert rules and the logs' field mapping, read from the repository as setup provisions them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drill.settings import REPO_ROOT, DrillError
from provision.assets import load_assets
from provision.errors import ConfigError
from provision.settings import REPLICAS_DEFAULT, RETENTION_RANGE

LOGS_TEMPLATE = "django-logs"


@dataclass(frozen=True)
class Rule:
    stem: str  # kibana/rules/<stem>.json, also the runbook's section
    rule_id: str
    body: dict[str, Any]  # with the detection settings filled in, as setup sends it


@dataclass(frozen=True)
class ProvisionedAssets:
    rules: dict[str, Rule]
    logs_mappings: dict[str, Any]  # the django-logs template's mappings


def load_rules(detections: Mapping[str, int]) -> ProvisionedAssets:
    try:
        # Retention and replicas only set the policies' delete phase and the templates' replicas, which a
        # drill never reads.
        assets = load_assets(REPO_ROOT, RETENTION_RANGE[1], detections, index_replicas=REPLICAS_DEFAULT)
    except ConfigError as error:
        raise DrillError(f"the stack's assets do not load: {error}") from None
    templates = {template.name: template.body for template in assets.index_templates}
    return ProvisionedAssets(
        rules={rule.path.stem: Rule(rule.path.stem, rule.name, rule.body) for rule in assets.rules},
        logs_mappings=templates[LOGS_TEMPLATE]["template"]["mappings"],
    )
