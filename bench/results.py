"""bench/RESULTS.md: every benchmark appends one section, headed with the date, the machine and the versions.

Figures are ratios and rates measured in one run; they are only comparable within a section.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path

RESULTS_PATH = Path(__file__).with_name("RESULTS.md")
LIVE_RESULTS_PATH = Path(__file__).with_name("RESULTS-live.md")  # make bench-live's, on the running stack
PACKAGES = ("Django", "gunicorn", "django-elk-logging")


def _tool_version(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = (done.stdout or done.stderr).strip().splitlines()
    return output[0] if output else None


def environment(tools: tuple[tuple[str, ...], ...] = ()) -> str:
    """The date, core count, OS, Python and package versions, and those of ``tools`` (commands printing one)."""
    parts = [
        dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        f"{os.cpu_count()} cores",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
    ]
    for package in PACKAGES:
        try:
            parts.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    for command in tools:
        version = _tool_version(list(command))
        if version:
            parts.append(version)
    return ", ".join(parts)


def append_section(title: str, lines: list[str], tools: tuple[tuple[str, ...], ...] = (),
                   path: Path = RESULTS_PATH) -> Path:
    """Append ``## title`` with the environment line and ``lines`` (Markdown) to ``path`` (RESULTS.md)."""
    text = f"\n## {title}\n\n{environment(tools)}\n\n" + "\n".join(lines).rstrip() + "\n"
    with path.open("a", encoding="utf-8") as results:
        if results.tell() == 0:
            target = "bench-live" if path == LIVE_RESULTS_PATH else "bench"
            results.write(f"# Benchmark results\n\nAppended by `make {target}`; newest last. Each section's figures come from one run.\n")
        results.write(text)
    return path
