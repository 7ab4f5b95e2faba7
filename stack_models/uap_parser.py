"""The useragent filter's own parser (logstash-filter-useragent 3.3.5, Java, package org.logstash.uaparser),
run on the rules it bundles (stack_models/uap_rules.py).

Its matching differs from the ua-parser package's in places (replacements taken literally, "$1" handled
per parser), so the package gives the rules only and this module follows the Java files named below.
CachingParser.java's LRU cache returns what the parser returned for the same string: nothing to model.
"""

import re
from dataclasses import dataclass

from .uap_rules import DEVICE_RULES, OS_RULES, USER_AGENT_RULES, Rule

# Java's "." stops at these and its "$" matches before them too; Python's only at "\n".
_JAVA_LINE_TERMINATORS = re.compile("[\r\u0085\u2028\u2029]")


class ParserError(Exception):
    """An exception of the Java parser, which useragent.rb's filter rescues (logged; the event is left as it was)."""


@dataclass(frozen=True)
class Version:
    """UserAgent.java and OS.java: a family and up to four version parts, each a string or None."""

    family: str
    major: str | None = None
    minor: str | None = None
    patch: str | None = None
    patch_minor: str | None = None


@dataclass(frozen=True)
class Client:
    """Client.java."""

    user_agent: Version
    os: Version
    device: str


_COMPILED = {id(rule): rule.compiled() for rule in USER_AGENT_RULES + OS_RULES + DEVICE_RULES}


def parse(agent: str) -> Client:
    """Parser.java parse: the first matching rule of each list, else "Other"."""
    if _JAVA_LINE_TERMINATORS.search(agent):
        raise NotImplementedError("a user agent holding \\r, U+0085, U+2028 or U+2029 is not modelled (Java regex line terminators)")
    user_agent = _first(USER_AGENT_RULES, agent, _user_agent) or Version("Other")
    os = _first(OS_RULES, agent, _os) or Version("Other")
    return Client(user_agent, os, _first(DEVICE_RULES, agent, _device) or "Other")


def _first(rules: list[Rule], agent: str, build):
    for rule in rules:
        match = _COMPILED[id(rule)].search(agent)  # Matcher.find
        if match is not None and (found := build(rule, match)) is not None:
            return found
    return None


def _group(match: re.Match, index: int) -> str | None:
    return match.group(index) if match.re.groups >= index else None


def _non_blank(value: str | None) -> str | None:
    return value or None


def _user_agent(rule: Rule, match: re.Match) -> Version | None:
    """UserAgentParser.java UAPattern.match: "$1" in the family is replaced once, literally; the version
    replacements are literal; a blank group is None; v2_replacement leaves patch and patch_minor None."""
    family_replacement, v1_replacement, v2_replacement = rule.replacements
    if family_replacement is not None:
        first = _group(match, 1)
        family = family_replacement.replace("$1", first, 1) if "$1" in family_replacement and first is not None else family_replacement
    else:
        family = _group(match, 1)
    major = v1_replacement if v1_replacement is not None else _non_blank(_group(match, 2))
    minor = patch = patch_minor = None
    if v2_replacement is not None:
        minor = v2_replacement
    else:
        minor, patch, patch_minor = (_non_blank(_group(match, index)) for index in (3, 4, 5))
    return None if family is None else Version(family, major, minor, patch, patch_minor)


def _os(rule: Rule, match: re.Match) -> Version | None:
    """OSParser.java OSPattern.match: the family's "$1" replaced (replaceAll) by group 1; a version replacement
    starting with "$" is that group; groups are taken as they are (an empty one stays "")."""
    os_replacement, *version_replacements = rule.replacements
    if os_replacement is not None and match.re.groups >= 1:
        family = os_replacement
        if "$1" in os_replacement:
            first = match.group(1)
            if first is None:
                raise ParserError("replaceAll(null): NullPointerException")
            if "$" in first or "\\" in first:
                raise NotImplementedError("a Java replacement string holding $ or \\ is not modelled")
            family = os_replacement.replace("$1", first)
    elif os_replacement is not None:
        family = os_replacement
    else:
        family = _group(match, 1)
    parts = []
    for index, replacement in enumerate(version_replacements, start=2):
        if replacement is None:
            parts.append(_group(match, index))
        elif replacement.startswith("$"):
            group = int(replacement[1:])  # getGroup: Integer.valueOf
            if group > match.re.groups:
                raise ParserError(f"No group {group}: IndexOutOfBoundsException")
            parts.append(match.group(group))
        else:
            parts.append(replacement)
    return None if family is None else Version(family, *parts, _group(match, 5))


def _device(rule: Rule, match: re.Match) -> str | None:
    """DeviceParser.java DevicePattern.match: each "$<digit>" of the replacement, in turn, replaced once by
    its group (or ""), then trimmed (String.trim: every char up to U+0020)."""
    (replacement,) = rule.replacements
    if replacement is None:
        return _group(match, 1)
    if "$" not in replacement:
        return replacement
    device = replacement
    for reference in re.findall(r"\$\d", replacement):
        value = _group(match, int(reference[1:]))
        device = device.replace(reference, value or "", 1)
    return device.strip("".join(map(chr, range(0x21))))
