"""Which Kibana feature privileges a user's Elasticsearch roles grant, and the fake Kibana's refusal of a
rule call its user may not make, in the words Kibana uses.

Kibana keeps feature privileges in Elasticsearch roles as application privileges: application
"kibana-<kibana index>", privilege "feature_<feature id>.<privilege>" or a base privilege ("all" and
"read" on resource "*", "space_all" and "space_read" on "space:<space id>";
x-pack/platform/plugins/shared/security/server/authorization/privilege_serializer.ts). The fake takes
a feature's `all` and the base privileges as granting what they name and everything a `read` does;
the reserved role superuser holds every privilege.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

KIBANA_APPLICATION = "kibana-.kibana"
DEFAULT_SPACE = "space:default"
SUPERUSER_ROLE = "superuser"
# x-pack/platform/plugins/shared/stack_alerts/server/feature.ts: the stackAlerts feature's `all` lets a
# user create and update (`read` only get) .es-query rules with consumer alerts or stackAlerts.
RULES_FEATURE = "stackAlerts"
# x-pack/platform/plugins/shared/actions/server/feature.ts: the actions feature's `read` lets a user
# get connectors, which validate_actions.ts does (actionsClient.getBulk) for every attached action.
CONNECTORS_FEATURE = "actions"


def held_privileges(roles: Iterable[str], role_bodies: Mapping[str, dict[str, Any]]) -> set[str] | None:
    """The Kibana application privileges the roles grant in the default space; None: every privilege."""
    held: set[str] = set()
    for name in roles:
        if name == SUPERUSER_ROLE:
            return None
        for entry in role_bodies.get(name, {}).get("applications", []):
            if entry.get("application") == KIBANA_APPLICATION and set(entry.get("resources", [])) & {DEFAULT_SPACE, "*"}:
                held.update(entry.get("privileges", []))
    return held


def grants(held: set[str] | None, feature: str, privilege: str) -> bool:
    """Whether `held` includes feature_<feature>.<privilege>, directly or through a broader privilege."""
    if held is None:
        return True
    enough = {f"feature_{feature}.{privilege}", f"feature_{feature}.all", "all", "space_all"}
    if privilege == "read":
        enough |= {"read", "space_read"}
    return bool(held & enough)


def rule_refusal(held: set[str] | None, rule_type_id: str, consumer: str, operation: str, actions: list[Any]) -> str | None:
    """Kibana's 403 message for a rule `operation` (create, update, updateApiKey, get) the user may not
    make, else None.

    alerting/server/authorization/alerting_authorization.ts ensureAuthorized refuses with
    getUnauthorizedMessage: 'Unauthorized by "<consumer>" to <operation> "<rule type>" rule'. After it,
    create_rule.ts and update_rule.ts call validate_actions.ts when actions are attached, whose
    actionsClient.getBulk runs actions/server/authorization/actions_authorization.ts ensureAuthorized
    with operation get: 'Unauthorized to get actions'. update_rule_api_key.ts (application/rule/methods/
    update_api_key/) calls it with operation execute instead, which the actions feature's `read` also
    grants (actions/server/feature.ts: read over action, all over action_task_params).
    """
    needed = "read" if operation == "get" else "all"
    if not grants(held, RULES_FEATURE, needed):
        return f'Unauthorized by "{consumer}" to {operation} "{rule_type_id}" rule'
    if operation != "get" and actions and not grants(held, CONNECTORS_FEATURE, "read"):
        return f"Unauthorized to {'execute' if operation == 'updateApiKey' else 'get'} actions"
    return None
