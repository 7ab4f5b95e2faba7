"""The check's counts, bounded: totals per file and kind, at most N examples of each kind, field coverage.

Values from the logs are kept cut to VALUE_CHARS characters; the reports escape them when they print.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from check_logs.findings import Facts, field_paths

VALUE_CHARS = 200
NOT_UTF8 = "not UTF-8"


def cut(text: str, limit: int = VALUE_CHARS) -> tuple[str, int]:
    """``text`` cut to ``limit`` characters, and how many were left out."""
    return (text, 0) if len(text) <= limit else (text[:limit], len(text) - limit)


def first_line(message) -> str:
    return str(message).split("\n", 1)[0]


@dataclass
class FileTally:
    name: str
    input_id: str
    bytes: int = 0
    lines: int = 0
    events: int = 0
    failed: int = 0
    not_utf8_lines: int = 0
    pending_bytes: int = 0  # a last line without its newline: Logstash waits for the rest
    too_long_line: int | None = None  # the line where reading stopped
    error: str | None = None  # why the file could not be read
    diagnosed: int = 0
    forms: Counter = field(default_factory=Counter)  # ours, tutorial, access, failed
    ids: Counter = field(default_factory=Counter)  # record_id_lost, request_id_lost, request_id_outside
    security: Counter = field(default_factory=Counter)  # missing_user, missing_address, tutorial_no_address

    @property
    def broken(self) -> bool:
        return bool(self.failed or self.not_utf8_lines or self.too_long_line or self.error)


class Examples:
    """Counts by kind, and the first ``limit`` examples of each."""

    def __init__(self, limit: int):
        self.limit = limit
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[dict]] = {}

    def add(self, kind: str, example) -> None:
        """``example``: a dict, or a function making it (called only while examples are kept)."""
        self.counts[kind] += 1
        kept = self.examples.setdefault(kind, [])
        if len(kept) < self.limit:
            kept.append(example() if callable(example) else example)

    def as_list(self) -> list[dict]:
        return [{"kind": kind, "count": count, "examples": self.examples.get(kind, [])}
                for kind, count in sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))]


class Tally:
    def __init__(self, max_examples: int):
        self.files: list[FileTally] = []
        self.failures = Examples(max_examples)
        self.ids = Examples(max_examples)
        self.security = Examples(max_examples)
        self.closest: Counter[tuple[str, int, str]] = Counter()  # (plugin, expression, failed part) of diagnosed failures
        # dataset -> the field paths of a document -> documents with exactly those (few shapes, counted cheaply)
        self._shapes: dict[str, Counter[tuple[str, ...]]] = {}

    def add_file(self, name: str, input_id: str) -> FileTally:
        self.files.append(FileTally(name, input_id))
        return self.files[-1]

    def add_event(self, file: FileTally, line: int, message, facts: Facts, source: dict,
                  reason: Callable[[], dict | None] | None = None) -> None:
        """``reason``, for a failed event: makes why it failed (``reason`` in diagnosis.py), once per example."""
        file.events += 1
        file.forms[facts.form] += 1
        shapes = self._shapes.get(facts.dataset)
        if shapes is None:
            shapes = self._shapes[facts.dataset] = Counter()
        shapes[tuple(field_paths(source))] += 1

        def example(reason: dict | None = None) -> dict:
            text, omitted = cut(first_line(message))
            found = {"file": file.name, "line": line, "first_line": text, "first_line_omitted_chars": omitted}
            return {**found, "reason": reason} if reason is not None else found

        if facts.failure_tags:
            file.failed += 1
            self.failures.add(" + ".join(sorted(facts.failure_tags)), lambda: example(reason() if reason else None))
            return
        if facts.record_id_lost:
            file.ids["record_id_lost"] += 1
            self.ids.add("record_id_lost", example)
        if facts.request_id in ("lost", "outside"):
            file.ids[f"request_id_{facts.request_id}"] += 1
            if facts.request_id == "lost":
                self.ids.add("request_id_lost", example)
        for problem in ("missing_user", "missing_address"):
            if getattr(facts, problem):
                file.security[problem] += 1
                self.security.add(problem, example)
        if facts.form == "tutorial" and facts.dataset == "django.security":
            file.security["tutorial_no_address"] += 1

    def coverage(self) -> dict[str, tuple[int, Counter[str]]]:
        """Per dataset: its documents, and how many of them have each field path."""
        found = {}
        for dataset, shapes in self._shapes.items():
            paths: Counter[str] = Counter()
            for shape, count in shapes.items():
                for path in shape:
                    paths[path] += count
            found[dataset] = (sum(shapes.values()), paths)
        return found

    def add_not_utf8(self, file: FileTally, line: int, offset: int, converted: str) -> None:
        file.not_utf8_lines += 1
        text, omitted = cut(converted)
        self.failures.add(NOT_UTF8, {"file": file.name, "line": line, "byte_offset": offset,
                                     "first_line": text, "first_line_omitted_chars": omitted,
                                     "reason": {"kind": "charset"}})

