"""Counts lost, split and doubled log lines, matching every line to the one request that caused it.

Each request carries a unique marker as its X-Request-ID; the app keeps a well-formed one as the
client_request_id of both of the view's app lines. The access line carries the server's own request id
(the response header), which the load client maps back to the marker (Requests.server_ids). Lines of the
older contract, whose request id was the marker itself, still match. The patterns are written from the
line contract (django_elk_logging/log_lines.py, access_lines.py), not from their code.
"""

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

# request_context.REQUEST_ID_PATTERN: the ids the app keeps.
MARKER = r"[A-Za-z0-9._-]{8,128}"
RECORD_ID = r"[0-9a-f]{16}"
USER_AGENT = "sustained-integrity/1.0"
HELLO_BODY = b"Hello, World!"
# app/myapp/views.py hello: one INFO and one ERROR per request, then the access line.
EXPECTED_KINDS = ("INFO", "ERROR", "access")
_APP_MESSAGES = {"INFO": "This is an info message", "ERROR": "This is an error message"}

# The access line's fields after the peer (django-elk-logging 0.4): pid, host, service, version, environment.
_ACCESS_IDENTITY = r"(?: [0-9]+ \S+ \S+ \S+ \S+)?"
APP_LINE = re.compile(
    r"(?P<kind>INFO|ERROR) \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} views "
    rf"\[request_id=(?P<request_id>{MARKER}) record_id=(?P<record_id>{RECORD_ID})"
    rf"(?: client_request_id=(?P<marker>{MARKER}))?(?: logger=[^\]]*)?\] (?P<message>.*)"
)
ACCESS_LINE = re.compile(
    r"127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
    rf'"GET / HTTP/1\.1" 200 {len(HELLO_BODY)} "-" "{re.escape(USER_AGENT)}" '
    rf"\d+ (?P<request_id>{MARKER}) (?P<record_id>{RECORD_ID})(?: 127\.0\.0\.1{_ACCESS_IDENTITY})?"
)
# Any other whole record: the app's line contract, or an access line of another request, or a
# traceback's TAB-indented continuation line. Counted as "other", never as split.
OTHER_RECORD = re.compile(
    rf"(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \d{{4}}-\d{{2}}-\d{{2}} \d{{2}}:\d{{2}}:\d{{2}},\d{{3}} \S+ "
    rf"\[request_id=\S+ record_id={RECORD_ID}[^\]]*\] .*"
    rf'|\S+ - - \[[^\]]+\] ".*" \d{{3}} (?:\d+|-) ".*" ".*" \d+ \S+ {RECORD_ID}(?: \S+{_ACCESS_IDENTITY})?'
    r"|\t.*"
)


@dataclass(frozen=True)
class Requests:
    """The markers sent, split by outcome, and those answered around the moment a worker was killed."""

    answered: frozenset[str]
    unanswered: frozenset[str]
    answered_near_kill: frozenset[str] = frozenset()
    workers_killed: int = 0
    # The server's request id (the X-Request-ID answered) of each answered marker's request.
    server_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tally:
    sent: int
    answered: int
    unanswered: int
    access_lines: int
    app_lines: int
    other_lines: int
    unknown_marker_lines: int
    split_lines: int
    doubled_lines: int
    lost_access_lines: int
    lost_app_lines: int
    # At most one per kill: the access line a worker killed right after it answered did not write.
    killed_worker_lost_access_lines: int
    # Lines of requests that got no answer (the killed worker was serving them): reported, not judged.
    unanswered_request_lines: int
    workers_killed: int

    @property
    def goal_met(self) -> bool:
        """No line lost, split, doubled or unaccounted for; at most one unanswered request per kill."""
        return (
            self.lost_access_lines == self.lost_app_lines == self.split_lines == self.doubled_lines == 0
            and self.unknown_marker_lines == 0
            and self.unanswered <= self.workers_killed
        )


def file_lines(data: bytes) -> tuple[list[str], int]:
    """The complete lines of a log file, and 1 if it ends with a partial line (a split record), else 0."""
    if not data:
        return [], 0
    lines = data.decode("utf-8", "backslashreplace").split("\n")
    return lines[:-1], 1 if lines[-1] else 0


def _classify(line: str, pattern: re.Pattern[str], markers: Mapping[str, str]) -> tuple[str, str, str] | str:
    """(marker, kind, record_id) for a line of ours, its marker found through ``markers`` (server id -> marker)
    when the line has only the server's id; "other" or "split" for the rest."""
    match = pattern.fullmatch(line)
    if match is not None:
        kind = match.groupdict().get("kind", "access")
        if kind == "access" or match["message"] == _APP_MESSAGES[kind]:
            marker = match.groupdict().get("marker") or markers.get(match["request_id"], match["request_id"])
            return marker, kind, match["record_id"]
    return "other" if OTHER_RECORD.fullmatch(line) else "split"


def tally(requests: Requests, access_files: list[bytes], app_files: list[bytes]) -> Tally:
    """Match every line of every (rotated) file to its request and count what is missing, extra or broken."""
    sent = requests.answered | requests.unanswered
    markers = {server_id: marker for marker, server_id in requests.server_ids.items()}
    seen: Counter[tuple[str, str]] = Counter()
    counts = Counter()
    for files, pattern, name in ((access_files, ACCESS_LINE, "access"), (app_files, APP_LINE, "app")):
        for data in files:
            lines, partial = file_lines(data)
            counts["split"] += partial
            for line in lines:
                result = _classify(line, pattern, markers)
                if isinstance(result, str):
                    counts[result] += 1
                    continue
                marker, kind, _record_id = result
                counts[name] += 1
                if marker not in sent:
                    counts["unknown"] += 1
                elif marker in requests.unanswered:
                    counts["unanswered_lines"] += 1
                else:
                    seen[marker, kind] += 1
    doubled = sum(count - 1 for count in seen.values() if count > 1)
    missing = Counter(kind for marker in requests.answered for kind in EXPECTED_KINDS if not seen[marker, kind])
    missing_near_kill = sum(1 for marker in requests.answered_near_kill if not seen[marker, "access"])
    # A sync worker answers one request at a time, so a kill can cost at most one access line.
    excused = min(missing_near_kill, requests.workers_killed)
    return Tally(
        sent=len(sent),
        answered=len(requests.answered),
        unanswered=len(requests.unanswered),
        access_lines=counts["access"],
        app_lines=counts["app"],
        other_lines=counts["other"],
        unknown_marker_lines=counts["unknown"],
        split_lines=counts["split"],
        doubled_lines=doubled,
        lost_access_lines=missing["access"] - excused,
        lost_app_lines=missing["INFO"] + missing["ERROR"],
        killed_worker_lost_access_lines=excused,
        unanswered_request_lines=counts["unanswered_lines"],
        workers_killed=requests.workers_killed,
    )
