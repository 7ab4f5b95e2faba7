"""The rules' API keys: what a rule step is called, and granting the keys again after an edit of the role
of their owner, django_alerting.

Kibana grants a rule's key with empty role descriptors (alerting/server/rules_client_factory.ts:
grantAsInternalUser(request, {role_descriptors: {}})), and then Elasticsearch gives the key a
point-in-time snapshot of the owner's privileges (the grant API key docs). So an edit of the role reaches a
rule only when its key is granted again. Setup records the fingerprint of the role the keys were granted
with, and when the role file's differs it renews the key of every rule it did not just create or update.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from provision.assets import Asset
from provision.comparison import fingerprint
from provision.elasticsearch_steps import ALERTING, RULE_KEYS_RECORD, ElasticsearchSteps
from provision.kibana_client import Kibana
from provision.output import report


def rule_step(rule: Asset) -> str:
    return f"rule {rule.name} ({rule.body['name']})"


def rule_path(rule: Asset) -> str:
    return f"/api/alerting/rule/{urllib.parse.quote(rule.name, safe='')}"


def refused_rule_hint(rule: Asset, role: Asset) -> str:
    """The fix when Kibana refuses django_alerting a call on the rule. An unregistered consumer gets the
    same refusal (alerting_authorization.ts checks it with the privileges), hence the second fix."""
    return (
        f"Kibana refused this to {ALERTING.name}: grant the privileges it lacks in {role.path} (or, if the consumer "
        f"in {rule.path} is one no Kibana feature registers for its rule type, fix the consumer there)."
    )


def renew_rule_keys(
    es: ElasticsearchSteps, kibana: Kibana, role: Asset, unchanged: list[tuple[Asset, dict[str, Any]]]
) -> None:
    """Grant again, as django_alerting through ``kibana``, the key of each rule in ``unchanged`` (with the
    rule as Kibana held it) when the keys were last granted with another version of ``role``.

    The record is written last: a run that stops before it renews every key again the next time.
    """
    wanted = {"role": role.name, "role_fingerprint": fingerprint(role.body)}
    recorded = es.record(RULE_KEYS_RECORD)
    if all(recorded.get(key) == value for key, value in wanted.items()):
        return
    for rule, current in unchanged:
        if current.get("api_key_owner") is None:
            continue  # a disabled rule: it has no key (update_rule.ts grants one only to an enabled rule)
        # routes/rule/apis/update_api_key/update_rule_api_key_route.ts: POST, no body, 204.
        kibana.call(
            "POST", f"{rule_path(rule)}/_update_api_key", "", ok=(204,), refused_hint=refused_rule_hint(rule, role),
        )
        report(rule_step(rule), f"API key updated (role {role.name} changed)")
    es.put_record(RULE_KEYS_RECORD, f"the version of role {role.name} the rules' API keys were granted with", wanted)
