"""Kibana advanced settings that hold a list, to which setup adds values: kibana/advanced_settings/*.json.

A file: {"setting": "<key>", "add": [values], "default": [Kibana's default], "description": "why"}.
Kibana's routes (src/core/packages/ui-settings/server-internal/src/routes/get.ts, set_many.ts):
GET /api/kibana/settings answers {"settings": {<key>: {"userValue": ..., "isOverridden": true?}}} with only
the values a user set (UiSettingsClientCommon.getUserProvided), never the defaults; POST /api/kibana/settings
{"changes": {<key>: value}} stores a value after validating it against the setting's schema (400 otherwise).
So the file pins the default that applies while nobody has set the setting: setup adds its values to
what a user set, else to that default, and writes only when a value is missing. A value a user later
removes comes back on the next run; delete the file to stop that. Only the default space is changed
(advanced settings are per space). A key Kibana does not register is stored without a word
(BaseUiSettingsClient.validateKey skips it), so the key must be spelled exactly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provision.errors import ConfigError, ProvisionError
from provision.kibana_client import Kibana
from provision.output import report

SETTINGS_PATH = "/api/kibana/settings"
FILE_KEYS = {"setting", "add", "default", "description"}
SETTING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*(?::[A-Za-z0-9_.-]+)*")
# Elasticsearch's limit on an index name, which bounds any pattern that matches one.
MAX_VALUE_LENGTH = 255


@dataclass(frozen=True)
class AdvancedSetting:
    name: str  # the setting's key, e.g. securitySolution:defaultIndex
    path: Path
    add: list[str]
    default: list[str]


def _values(path: Path, body: dict[str, Any], key: str, allow_empty: bool) -> list[str]:
    """A list of index-pattern-like strings: no comma (Kibana joins them with commas), space or control character."""
    values = body.get(key)
    if not isinstance(values, list) or not (values or allow_empty):
        raise ConfigError(f"{path}: {key} must be a {'' if allow_empty else 'non-empty '}list of strings.")
    for value in values:
        if not (isinstance(value, str) and value and value.isprintable() and len(value) <= MAX_VALUE_LENGTH
                and "," not in value and not any(character.isspace() for character in value)):
            raise ConfigError(
                f"{path}: {key} holds {json.dumps(value)[:80]}; each value must be a string of 1 to {MAX_VALUE_LENGTH} "
                "printable characters without commas or spaces."
            )
    if len(set(values)) != len(values):
        raise ConfigError(f"{path}: {key} lists a value twice.")
    return values


def load_advanced_settings(folder: Path) -> list[AdvancedSetting]:
    settings: dict[str, AdvancedSetting] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.") from None
        if not isinstance(body, dict):
            raise ConfigError(f"{path} must hold a JSON object.")
        unknown = sorted(set(body) - FILE_KEYS)
        missing = sorted({"setting", "add", "default"} - set(body))
        if unknown or missing:
            raise ConfigError(f"{path}: " + "; ".join(
                [f"{', '.join(unknown)} not allowed"] * bool(unknown) + [f"lacks {', '.join(missing)}"] * bool(missing)
            ) + f" (keys: {', '.join(sorted(FILE_KEYS))}).")
        name = body["setting"]
        if not (isinstance(name, str) and SETTING_NAME.fullmatch(name)):
            raise ConfigError(f"{path}: setting must be a Kibana advanced setting key like securitySolution:defaultIndex.")
        if name in settings:
            raise ConfigError(f"{path} and {settings[name].path} both extend {name}: keep one file per setting.")
        settings[name] = AdvancedSetting(name, path, _values(path, body, "add", False), _values(path, body, "default", True))
    return list(settings.values())


def sync_advanced_setting(kibana: Kibana, setting: AdvancedSetting) -> None:
    """Add the file's values to the setting, keeping what is there; write nothing when all are present."""
    step = f"advanced setting {setting.name}"
    _, answer = kibana.call("GET", SETTINGS_PATH, "")
    stored = answer.get("settings", {}).get(setting.name) if isinstance(answer, dict) else None
    stored = stored if isinstance(stored, dict) else {}
    user_value = stored.get("userValue")
    current = setting.default if user_value is None else user_value
    if not (isinstance(current, list) and all(isinstance(value, str) for value in current)):
        raise ProvisionError(f"{step} holds {json.dumps(current)[:200]} in Kibana, not a list of strings: fix it in "
                             "Stack Management > Advanced Settings.")
    missing = [value for value in setting.add if value not in current]
    if not missing:
        report(step, "unchanged")
        return
    if stored.get("isOverridden"):
        # ui_settings_client_common.ts assertUpdateAllowed: an overridden key cannot be written (400).
        raise ProvisionError(f"{step} is set in kibana.yml (uiSettings.overrides), which the API cannot change: "
                             f"add {', '.join(missing)} to it there, or remove the override.")
    kibana.call("POST", SETTINGS_PATH, f"Fix {setting.path}.", json_body={"changes": {setting.name: [*current, *missing]}})
    report(step, "created" if user_value is None else "updated")
