"""The "${NAME}" placeholders of the rule files, replaced by the detection settings' whole numbers.

Only JSON string values hold placeholders:
  "${NAME}"                 the whole string: becomes the number, e.g. "threshold": ["${BRUTE_FORCE_FAILURES}"]
  "... ${NAME} ..."         inside a longer string (an ES|QL query, a message): the number's digits
Any other "${" (an unknown name, a malformed placeholder, one in a key) is a ConfigError, so a typo
never reaches Kibana as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provision.errors import ConfigError

PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
OPENING = "${"


def substitute(value: Any, numbers: Mapping[str, int], path: Path) -> Any:
    """A copy of the JSON ``value`` with every placeholder replaced from ``numbers``."""
    if isinstance(value, dict):
        for key in value:
            if OPENING in key:
                raise ConfigError(f"{path}: the key {key!r} holds a placeholder; only values may.")
        return {key: substitute(item, numbers, path) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, numbers, path) for item in value]
    if isinstance(value, str) and OPENING in value:
        return _substitute_text(value, numbers, path)
    return value


def _substitute_text(text: str, numbers: Mapping[str, int], path: Path) -> int | str:
    whole = PLACEHOLDER.fullmatch(text)
    if whole:
        return _number(whole.group(1), numbers, path)
    replaced = PLACEHOLDER.sub(lambda match: str(_number(match.group(1), numbers, path)), text)
    if OPENING in replaced:
        start = replaced.index(OPENING)
        raise ConfigError(
            f"{path}: {replaced[start:start + 40]!r} is not a placeholder: write ${{NAME}} with NAME in capitals, "
            f"one of {', '.join(numbers)}."
        )
    return replaced


def _number(name: str, numbers: Mapping[str, int], path: Path) -> int:
    if name not in numbers:
        raise ConfigError(f"{path}: ${{{name}}} names no detection setting (known: {', '.join(numbers)}).")
    return numbers[name]
