"""Whether what a server holds already matches an asset, and the fingerprints that tell setup's writes apart."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Stored in each role's metadata and each policy's/template's _meta: a hash of the asset as setup
# last wrote it, so a key removed from the file is noticed even though GET returns server defaults.
FINGERPRINT_KEY = "setup_fingerprint"


def covers(current: Any, desired: Any) -> bool:
    """True when `current` (what the server returns) already holds everything in `desired`.

    Servers add defaults, so extra keys in `current` are fine; lists must match item by item.
    A desired null is also met by an absent key.
    """
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(
            covers(current[key], value) if key in current else value is None for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(current, list)
            and len(current) == len(desired)
            and all(covers(have, want) for have, want in zip(current, desired, strict=True))
        )
    if isinstance(desired, bool) or isinstance(current, bool):
        return type(current) is type(desired) and current == desired
    return current == desired


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def with_fingerprint(body: dict[str, Any], meta_key: str) -> dict[str, Any]:
    marked = json.loads(json.dumps(body))
    marked[meta_key] = {**marked.get(meta_key, {}), FINGERPRINT_KEY: fingerprint(body)}
    return marked


def flat_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Elasticsearch's view of index settings: dotted keys under `index.`, scalar values as strings."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{name}."))
            continue
        if not name.startswith("index."):
            name = f"index.{name}"
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = [str(item) for item in value]
        elif value is not None:
            value = str(value)
        flat[name] = value
    return flat


def comparable_template(template: dict[str, Any]) -> dict[str, Any]:
    """Settings in the one form Elasticsearch returns them (dotted, strings), so both sides compare."""
    comparable = json.loads(json.dumps(template))
    inner = comparable.get("template")
    if isinstance(inner, dict) and "settings" in inner:
        inner["settings"] = flat_settings(inner["settings"])
    return comparable
