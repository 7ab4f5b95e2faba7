"""Readers for the components' own config files, shared by the tests."""

from pathlib import Path


def flat_yaml(path: Path) -> dict[str, str]:
    """A flat `key: value` YAML file (all these configs are), values as written, quotes removed."""
    settings = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, separator, value = line.partition(": ")
        assert separator and not line[0].isspace(), f"{path}:{number} is not a flat `key: value` line"
        assert key not in settings, f"{path}:{number} repeats {key}"
        settings[key] = value.strip().strip('"')
    return settings
