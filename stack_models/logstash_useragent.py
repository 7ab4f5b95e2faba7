"""The useragent filter (logstash-plugins/logstash-filter-useragent 3.3.5 lib/logstash/filters/useragent.rb) in
ECS mode (v8, which Logstash 9 and logstash/config/logstash.yml select; the plugin maps it to v1).

Under the target it writes name, version, device.name, os.name, os.version and os.full; the version parts go
to [@metadata][filter][user_agent] whatever the target. Nothing is skipped for "Other": an unknown browser
is name "Other", and device.name, os.name and os.full are "Other" when nothing matched.
Refused: regexes (only the bundled rules are modelled), prefix, ecs_compatibility, a missing target.
"""

import re
from collections.abc import Callable

from .logstash_config_tree import Plugin, field_path
from .logstash_events import Event
from .logstash_options import require_options
from .uap_parser import ParserError, Version, parse

_METADATA = ("@metadata", "filter", "user_agent")
_PARTS = ("major", "minor", "patch")


def register_useragent(plugin: Plugin) -> Callable[[Event], bool]:
    # lru_cache_size only sizes CachingParser's cache, which changes no result.
    require_options(plugin, {"source", "target", "lru_cache_size"})
    source, target = plugin.get("source"), plugin.get("target")
    if source is None:
        raise ValueError("useragent: source is required")  # config :source, :required => true
    if target is None:
        raise NotImplementedError("useragent without target ([user_agent] in ECS mode) is not modelled")
    # initialize: a target that is not one "[name]" is wrapped in brackets; "[foo][bar]" so becomes
    # "[[foo][bar]]", which spec/filters/useragent_spec.rb ("nested target field") finds at [foo][bar].
    source_path, target_path = field_path(source), field_path(target)

    def useragent(event: Event) -> bool:
        agent = event.get_field(source_path)
        if isinstance(agent, list):
            agent = agent[0] if agent else None  # useragent.first
        if agent is None or agent == "":
            return False
        if not isinstance(agent, str):
            raise NotImplementedError(f"useragent on a {type(agent).__name__} is not modelled")
        try:
            client = parse(agent)
        except ParserError:
            return False  # filter rescues it: logged, nothing set, no filter_matched
        if target == source:  # the options as written
            event.remove_field(source_path)
        _set_fields(event, target_path, agent, client)
        return True

    return useragent


def _set_fields(event: Event, target: tuple[str, ...], agent: str, client) -> None:
    """useragent.rb set_fields."""
    user_agent, os = client.user_agent, client.os
    event.set_field(target + ("name",), user_agent.family)
    event.set_field(target + ("device", "name"), client.device)
    _set_parts(event, _METADATA + ("version",), user_agent)
    if user_agent.major is not None:
        event.set_field(target + ("version",), _version(agent, user_agent))
    _set_parts(event, _METADATA + ("os", "version"), os)
    os_version = _os_version(os)
    if os_version is not None:
        event.set_field(target + ("os", "version"), os_version)
    event.set_field(target + ("os", "name"), os.family)
    event.set_field(target + ("os", "full"), os.family if os_version is None else f"{os.family} {os_version}")


def _set_parts(event: Event, path: tuple[str, ...], version: Version) -> None:
    for part in _PARTS:
        if getattr(version, part) is not None:
            event.set_field(path + (part,), getattr(version, part))


def _version(agent: str, user_agent: Version) -> str:
    """set_version: major[.minor[.patch[.patch_minor]]]; without patch_minor, check_and_adjust_version takes
    one more ".<integer>" from the string when it follows the version there and a space ends it."""
    version = user_agent.major
    if user_agent.minor is None:
        return version
    version += "." + user_agent.minor
    if user_agent.patch is None:
        return version
    version += "." + user_agent.patch
    if user_agent.patch_minor is not None:
        return version + "." + user_agent.patch_minor
    start = agent.find(version)
    if start < 0:
        return version
    end = start + len(version)
    if agent[end : end + 1] == ".":
        space = agent.find(" ", end + 1)
        if space >= 0 and _is_ruby_integer_text(agent[end + 1 : space]):
            version += "." + agent[end + 1 : space]
    return version


def _os_version(os: Version) -> str | None:
    """build_os_version: major, then minor after "." for a numeric major ("10.14") or " " for a named one,
    then ".patch" and ".patch_minor"."""
    if os.major is None:
        return None
    version = os.major
    if os.minor is not None:
        version += ("." if _is_ruby_integer_text(os.major) else " ") + os.minor
        if os.patch is not None:
            version += "." + os.patch
            if os.patch_minor is not None:
                version += "." + os.patch_minor
    return version


def _is_ruby_integer_text(text: str) -> bool:
    """`text.to_i.to_s == text`: String#to_i reads an optional sign and ASCII digits (and skips leading
    space and underscores), so only "0" and unpadded, unsigned-plus integers come back unchanged."""
    return re.fullmatch(r"0|-?[1-9][0-9]*", text, re.ASCII) is not None
