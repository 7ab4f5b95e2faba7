"""Where a gunicorn worker's samples go in the logging path, from py-spy's raw (collapsed stack) output.

py-spy `record --format raw` writes one line per distinct stack: frames from the outermost, separated by
';', each `name (file:line)`, then a space and the sample count (benfred/py-spy
src/flamegraph.rs, Flamegraph::increment; idle stacks only with --idle, which bench/profile_requests.py
passes so that a wait for another worker's flock counts). Frame names are the code objects' names,
qualified (``Class.method``) on this Python. Each stack in the logging path gets one path (which logger or
handler) and one step (the innermost frame a step names), so the shares of each add up.
"""

import re
from collections import Counter
from dataclasses import dataclass

_LINE = re.compile(r"^(?P<stack>.+) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<name>.+?) \((?P<file>[^()]*?)(?::\d+)?\)$")

# gunicorn's sync worker waiting for a connection (gunicorn/workers/sync.py, SyncWorker.run_for_one): no request.
WAITING_FRAME = "SyncWorker.wait"
# A stack is in the logging path when one of these frames is on it.
LOGGING_ENTRIES = frozenset({"Logger._log", "Logger.access"})
# The first path whose frame is on the stack, in this order.
PATHS = (
    ("access line (gunicorn access logger)", frozenset({"Logger.access"})),
    ("console (StreamHandler)", frozenset({"StreamHandler.emit", "StreamHandler.flush"})),
    ("log files (AppendOnlyFileHandler)", frozenset({"AppendOnlyFileHandler.emit", "FileHandler.emit"})),
    ("record creation and dispatch", frozenset({"Logger._log"})),
)
# The step of the innermost frame named here; stacks naming none count as "dispatch, handler locks, other".
STEPS = {
    "new_record_id": "record id",
    "Formatter.formatTime": "time formatting",
    "neutralise": "escaping",
    "AppendOnlyFileHandler._append": "file append (flock, fstat, pread, write)",
    "WatchedFileHandler.reopenIfNeeded": "reopen check (stat of the path)",
    "AppendOnlyFileHandler._descriptor": "reopen check (stat of the path)",
    "StreamHandler.emit": "console write",
    "StreamHandler.flush": "console write",
    "Filterer.filter": "filters",
    "Handler.filter": "filters",
    "Logger.makeRecord": "record creation",
    "LogRecord.__init__": "record creation",
    "Logger.findCaller": "record creation",
    "Logger.atoms": "access atoms",
    "AccessLogger.atoms": "access atoms",
    "Handler.format": "formatting",
    "Formatter.format": "formatting",
    "SafeFormatter.format": "formatting",
}
OTHER_STEP = "dispatch, handler locks, other"


class ProfileError(ValueError):
    """A line of py-spy output that is not a collapsed stack."""


@dataclass(frozen=True)
class Breakdown:
    total_samples: int
    waiting_samples: int
    logging_samples: int
    by_path: dict[str, int]
    by_step: dict[str, int]


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """(frame names from the outermost, sample count) for each line; blank lines are skipped."""
    stacks = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ProfileError(f"line {number} is not 'frame;frame;... count': {line[:200]!r}")
        names = []
        for frame in match["stack"].split(";"):
            frame_match = _FRAME.match(frame)
            names.append(frame_match["name"] if frame_match else frame)
        stacks.append((names, int(match["count"])))
    return stacks


def _path(on_stack: set[str]) -> str:
    for label, frames in PATHS:
        if not on_stack.isdisjoint(frames):
            return label
    return PATHS[-1][0]


def _step(names: list[str]) -> str:
    for name in reversed(names):
        if name in STEPS:
            return STEPS[name]
    return OTHER_STEP


def breakdown(stacks: list[tuple[list[str], int]]) -> Breakdown:
    total = waiting = 0
    by_path: Counter[str] = Counter()
    by_step: Counter[str] = Counter()
    for names, count in stacks:
        total += count
        on_stack = set(names)
        if WAITING_FRAME in on_stack:
            waiting += count
            continue
        if on_stack.isdisjoint(LOGGING_ENTRIES):
            continue
        by_path[_path(on_stack)] += count
        by_step[_step(names)] += count
    return Breakdown(total, waiting, sum(by_path.values()), dict(by_path.most_common()), dict(by_step.most_common()))


def report(result: Breakdown) -> list[str]:
    """Markdown lines: each path's and each step's share of the samples in which the worker served a request."""
    busy = result.total_samples - result.waiting_samples

    def share(count: int) -> str:
        return f"{100 * count / busy:5.1f} %" if busy else "  n/a"

    lines = [
        f"Logging path: {share(result.logging_samples)} of the {busy} samples serving a request "
        f"({result.waiting_samples} more waiting for one)",
        "",
        "By path:",
    ]
    lines += [f"- {share(count)} {label}" for label, count in result.by_path.items()]
    lines += ["", "By step:"]
    lines += [f"- {share(count)} {label}" for label, count in result.by_step.items()]
    return lines
