"""What setup prints: one line per step, passwords masked."""

from __future__ import annotations

import sys
from collections.abc import Iterable

_secrets: list[str] = []


def redact_secrets(secrets: Iterable[str]) -> None:
    """Mask these values in everything printed from now on (longest first, so none is half-masked)."""
    _secrets[:] = sorted(set(secrets), key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "********")
    return text


def say(line: str) -> None:
    print(redact(line), flush=True)


def complain(text: str) -> None:
    print(redact(text), file=sys.stderr, flush=True)


def report(step: str, outcome: str) -> None:
    say(f"{step}: {outcome}")
