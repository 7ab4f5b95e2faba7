"""The tree a Logstash pipeline file parses into (stack_models/logstash_config.py): plugins, conditionals,
field references and regex literals, and the field-reference syntax every model reads paths with.

What each node stands for is defined by elastic/logstash logstash-core/lib/logstash/config/grammar.treetop.
"""

import functools
import re
from dataclasses import dataclass, field


class ConfigSyntaxError(ValueError):
    pass


@dataclass
class Plugin:
    name: str
    attributes: list[tuple[str, object]]

    def get(self, key: str, default=None):
        values = [value for name, value in self.attributes if name == key]
        if len(values) > 1:
            raise ConfigSyntaxError(f"plugin {self.name} sets {key} twice")
        return values[0] if values else default

    def keys(self) -> set[str]:
        return {name for name, _ in self.attributes}


@dataclass
class Conditional:
    # (condition or None for else, body)
    branches: list[tuple[object, list]] = field(default_factory=list)


def plugins(items: list) -> list["Plugin"]:
    """Every plugin of a section, in order, including those inside each branch of a conditional."""
    found = []
    for item in items:
        if isinstance(item, Conditional):
            for _, body in item.branches:
                found.extend(plugins(body))
        else:
            found.append(item)
    return found


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]


@dataclass(frozen=True)
class RegexLiteral:
    pattern: str


@functools.lru_cache(maxsize=4096)  # the pipeline's references are few; each is read on every event
def field_path(reference: str) -> tuple[str, ...]:
    """``"[a][b]"`` or ``"a"`` as a path tuple."""
    if reference.startswith("["):
        parts = re.findall(r"\[([^\[\]]+)\]", reference)
        if "".join(f"[{part}]" for part in parts) != reference:
            raise ConfigSyntaxError(f"malformed field reference {reference!r}")
        return tuple(parts)
    return (reference,)
