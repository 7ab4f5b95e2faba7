"""Plugin options as the plugins get them: ``${VAR}`` substituted, and only the modelled ones allowed."""

import re

from .logstash_config_tree import Plugin

_COMMON_OPTIONS = {"id", "add_field", "remove_field", "add_tag", "remove_tag"}
_ENV_REFERENCE = re.compile(r"\$\{(?P<name>\w+)(?::(?P<default>[^}]*))?\}")


def substitute_environment(value, environment: dict[str, str]):
    """Logstash's ``${VAR}`` / ``${VAR:default}`` substitution; an unset variable without default is an error."""
    if isinstance(value, str):

        def replace(match):
            if match["name"] in environment:
                return environment[match["name"]]
            if match["default"] is not None:
                return match["default"]
            raise KeyError(f"pipeline refers to ${{{match['name']}}}, which is not set and has no default")

        return _ENV_REFERENCE.sub(replace, value)
    if isinstance(value, list):
        return [substitute_environment(item, environment) for item in value]
    if isinstance(value, dict):
        return {key: substitute_environment(item, environment) for key, item in value.items()}
    if isinstance(value, Plugin):
        return Plugin(value.name, [(key, substitute_environment(item, environment)) for key, item in value.attributes])
    return value


def require_options(plugin: Plugin, known: set[str]) -> None:
    """Refuse any option of ``plugin`` outside ``known`` and the common ones: it is not modelled."""
    unknown = plugin.keys() - known - _COMMON_OPTIONS
    if unknown:
        raise NotImplementedError(f"{plugin.name} option(s) {sorted(unknown)} are not modelled by the test pipeline")
