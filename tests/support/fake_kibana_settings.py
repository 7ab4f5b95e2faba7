"""Kibana's advanced settings API as the fake Kibana (tests/support/fake_elastic.py) answers it.

Sources (elastic/kibana):
- src/core/packages/ui-settings/server-internal/src/routes/get.ts and set_many.ts: GET and POST
  /api/kibana/settings, the POST body {changes: schema.object({}, {unknowns: 'allow'})}, both answering
  {settings: uiSettingsClient.getUserProvided()}; a ValidationError or CannotOverrideError is a 400.
- clients/ui_settings_client_common.ts: getUserProvided gives {<key>: {userValue}} for each stored value and
  {isOverridden: true, userValue} for each key of kibana.yml's uiSettings.overrides; setMany refuses an
  overridden key ('Unable to update "<key>" because it is overridden') and a null value removes a key.
- clients/base_ui_settings_client.ts validateKey: schema.validate(value, {}, `validation [<key>]`) for a
  registered key, so the message reads "[validation [<key>]]: ..." (kbn-config-schema puts the namespace and
  the path in brackets); an unregistered key is stored unchecked. Defaults are never in these answers.
- The registered list settings: securitySolution:defaultIndex (x-pack/solutions/security/plugins/
  security_solution/server/ui_settings.ts: schema.arrayOf(schema.string(), {maxSize: 50})) and
  observability:logSources (x-pack/platform/plugins/shared/logs_data_access/common/ui_settings.ts:
  schema.arrayOf(schema.string())).
"""

from __future__ import annotations

import copy
from typing import Any

# Registered list settings: key -> maxSize of the array (None: unbounded).
LIST_SETTINGS: dict[str, int | None] = {"securitySolution:defaultIndex": 50, "observability:logSources": None}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "Array", dict: "Object"}[type(value)]


def schema_problem(key: str, value: Any) -> str | None:
    """The ValidationError message of a registered list setting's schema, or None when the value passes."""
    if key not in LIST_SETTINGS:
        return None
    where = f"validation [{key}]"
    if not isinstance(value, list):
        return f"[{where}]: expected value of type [array] but got [{_type_name(value)}]"
    limit = LIST_SETTINGS[key]
    if limit is not None and len(value) > limit:
        return f"[{where}]: array size is [{len(value)}], but cannot be greater than [{limit}]"
    for index, item in enumerate(value):
        if not isinstance(item, str):
            return f"[{where}.{index}]: expected value of type [string] but got [{_type_name(item)}]"
    return None


class UiSettings:
    """The default space's advanced settings: what users stored, and kibana.yml's overrides."""

    def __init__(self) -> None:
        self.stored: dict[str, Any] = {}
        self.overrides: dict[str, Any] = {}  # a knob: uiSettings.overrides in kibana.yml

    def user_provided(self) -> dict[str, Any]:
        answer = {key: {"userValue": copy.deepcopy(value)} for key, value in self.stored.items()}
        for key, value in self.overrides.items():
            answer[key] = {"isOverridden": True} if value is None else {"isOverridden": True, "userValue": value}
        return {"settings": answer}

    def set_many(self, body: dict[str, Any]) -> tuple[int, Any]:
        """POST /api/kibana/settings: (status, answer body or error message)."""
        for key in sorted(set(body) - {"changes"}):
            return 400, f"[request body.{key}]: definition for this key is missing"
        changes = body.get("changes")
        if not isinstance(changes, dict):
            return 400, f"[request body.changes]: expected a plain object value, but found [{_type_name(changes)}] instead."
        for key in changes:
            if key in self.overrides:
                return 400, f'Unable to update "{key}" because it is overridden'
        for key, value in changes.items():
            problem = None if value is None else schema_problem(key, value)
            if problem:
                return 400, problem
        for key, value in changes.items():
            if value is None:
                self.stored.pop(key, None)
            else:
                self.stored[key] = copy.deepcopy(value)
        return 200, self.user_provided()
