"""check-logs' rate and memory on a log folder of real lines, on the model and on Joni.

The lines are written by the app's own logging (bench/parse_corpus.py, as bench/parse_cost.py writes
them: the app's LOGGING with the package's formatter and handler, gunicorn's access logger, 1% of the
records cut short as a full disk leaves them). BASE_LINES lines are written once; a folder of a given
size holds them as the live files plus rotated copies (name.log.1, name.log.2, ..., hard links to the
same lines), as a folder with rotation holds them. Each check is `python -m check_logs DIR --json` in a
fresh process, on a folder in the page cache: its wall time gives MB/s and lines/s, and the time a
1 GB folder would take; its peak RSS (the check alone, and with jruby, from wait4) at two folder
sizes shows whether memory grows with the folder (a ratio near 1: bounded).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.parse_corpus import FILES, CorpusWriter
from bench.results import append_section
from stack_models.joni import missing_reason
from stack_models.paths import REPO_ROOT

BASE_LINES = 300_000
COPIES = (1, 6)  # the folder sizes, in copies of the base lines (about 35 and 210 MB)
GIB = 1e9


@dataclass(frozen=True)
class Run:
    engine: str
    size: int  # bytes read
    lines: int
    events: int
    failures: int
    seconds: float  # wall time of the whole command
    check_rss: int  # peak RSS of the check's own process, bytes
    tree_rss: int  # peak RSS of the check or of the jruby it started, whichever is larger

    @property
    def mb_per_second(self) -> float:
        return self.size / 1e6 / self.seconds


def build_folder(base: dict[str, Path], folder: Path, copies: int) -> None:
    """The base files as the live names, and ``copies - 1`` rotated copies of each."""
    folder.mkdir()
    for name, path in base.items():
        for index in range(copies):
            os.link(path, folder / (name if index == 0 else f"{name}.{index}"))


def check(folder: Path, engine: str) -> Run:
    command = [sys.executable, "-m", "check_logs", str(folder), "--engine", engine, "--time-zone", "UTC", "--json"]
    started = time.monotonic()
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)  # usage of the check and of its reaped children (jruby)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1):  # 1: the corpus's cut records fail to parse, as they should
            errors.seek(0)
            raise RuntimeError(f"check-logs --engine {engine} exited {process.returncode}: {errors.read().decode()}")
        output.seek(0)
        report = json.loads(output.read())
    if report["engine"]["name"] != engine:
        raise RuntimeError(f"asked for {engine}, ran on {report['engine']['name']}")
    run = report["run"]
    return Run(engine, run["bytes"], run["lines"], run["events"], report["failures"]["total"], seconds,
               run["peak_rss_bytes"], usage.ru_maxrss * 1024)


def report_lines(runs: list[Run], base_lines: int, load: tuple[float, float] | None = None) -> list[str]:
    """``load``: the 1-minute load average before and after the checks (other work on the machine slows them)."""
    lines = [
        f"{base_lines:,} lines written by the app's logging, as folders of {' and '.join(str(c) for c in COPIES)} "
        "copies (live files and rotated copies); each check a fresh `python -m check_logs --json` process, wall time",
        *([f"load average (1 min) {load[0]:.2f} before the checks, {load[1]:.2f} after"] if load else []),
        "",
        "| engine | folder | lines | events | seconds | MB/s | lines/s | 1 GB in | peak RSS, check | peak RSS, with jruby |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.engine} | {run.size / 1e6:,.0f} MB | {run.lines:,} | {run.events:,} | {run.seconds:,.1f} | "
            f"{run.mb_per_second:.2f} | {run.lines / run.seconds:,.0f} | {GIB / 1e6 / run.mb_per_second / 60:.1f} min | "
            f"{run.check_rss / 2**20:,.0f} MiB | {run.tree_rss / 2**20:,.0f} MiB |"
        )
    lines.append("")
    if len({(run.size, run.events, run.failures) for run in runs}) != len(COPIES):
        lines.append("- WARNING: the engines did not find the same events and failures in the same folder")
    for engine in sorted({run.engine for run in runs}):
        small, large = [run for run in runs if run.engine == engine]
        lines.append(
            f"- {engine}: {large.size / small.size:.1f}x the folder, peak RSS x{large.check_rss / small.check_rss:.2f} "
            f"(check), x{large.tree_rss / small.tree_rss:.2f} (with jruby); the larger folder's rate "
            f"{large.mb_per_second:.2f} MB/s (the smaller's {small.mb_per_second:.2f}, startup included)"
        )
        if small.events * COPIES[1] != large.events * COPIES[0]:
            lines.append(f"- {engine}: WARNING: events do not scale with the copies ({small.events} and {large.events})")
    return lines


def main() -> None:
    engines = ["model"] + (["joni"] if missing_reason() is None else [])
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "base").mkdir()
        base = CorpusWriter(root / "base", seed=11).write(BASE_LINES)
        base = {name: base[name] for name in FILES}
        for copies in COPIES:
            build_folder(base, root / f"x{copies}", copies)
        before = os.getloadavg()[0]
        runs = [check(root / f"x{copies}", engine) for engine in engines for copies in COPIES]
        after = os.getloadavg()[0]
    lines = report_lines(runs, BASE_LINES, (before, after))
    if len(engines) == 1:
        lines.append(f"- Joni not measured: {missing_reason()}")
    print("\n".join(lines))
    append_section("check-logs rate and memory (bench/check_logs_rate.py)", lines, tools=(("jruby", "--version"),))


if __name__ == "__main__":
    main()
