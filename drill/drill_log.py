"""The drill log: one tab-separated line per drill, so a team can show it drills regularly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

HEADER = ("date", "scenario", "mode", "result", "latency_seconds", "detail")


@dataclass(frozen=True)
class DrillRecord:
    date: dt.datetime
    scenario: str
    mode: str  # live or offline
    passed: bool
    latency_seconds: float | None
    detail: str

    def line(self) -> str:
        latency = "" if self.latency_seconds is None else f"{self.latency_seconds:.1f}"
        # The detail is ours, but a tab or a line break in it would shift or split the record.
        detail = " ".join(self.detail.split())
        fields = (self.date.isoformat(timespec="seconds"), self.scenario, self.mode,
                  "PASS" if self.passed else "FAIL", latency, detail)
        return "\t".join(fields) + "\n"


def append(path: Path, record: DrillRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        if log.tell() == 0:
            log.write("\t".join(HEADER) + "\n")
        log.write(record.line())
