"""Real gunicorn under concurrent load while logrotate renames its log files.

Every request must produce exactly one complete access line and exactly two
complete app lines, split across the renamed and the re-created files, with
nothing lost, doubled or interleaved.
"""

import http.client
import os
import re
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.app.test_log_records import ORIGIN
from tests.support.app_server import running_app

REQUEST_COUNT = 2000
CLIENT_THREADS = 16
WORKERS = 2
ROTATE_AFTER_RESPONSES = REQUEST_COUNT // 2
REQUEST_TIMEOUT_SECONDS = 10
LOAD_DEADLINE_SECONDS = 90
USER_AGENT = "rotation-load-test/1.0"
HELLO_BODY = b"Hello, World!"
APP_LOG = "django_debug.log"
ACCESS_LOG = "access.log"

# Written from the documented line contract, not from the app's code: the request id is the server's,
# the client's own X-Request-ID rides beside it.
REQUEST_ID = r"[0-9a-f]{32}"
CLIENT_REQUEST_ID = r"[A-Za-z0-9._-]{8,128}"
APP_LINE = re.compile(
    r"(?P<level>INFO|ERROR) \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} views "
    rf"\[request_id=(?P<request_id>{REQUEST_ID}) record_id=[0-9a-f]{{16}} "
    rf"client_request_id=(?P<client_request_id>{CLIENT_REQUEST_ID}){ORIGIN}\] "
    r"(?P<message>This is an info message|This is an error message)"
)
ACCESS_LINE = re.compile(
    r"127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
    r'"GET / HTTP/1\.1" (?P<status>\d{3}) (?P<bytes>\d+) "-" "' + re.escape(USER_AGENT) + r'" '
    rf"\d+ (?P<request_id>{REQUEST_ID}) [0-9a-f]{{16}} 127\.0\.0\.1"
    r" (?P<pid>[0-9]+) \S+ \S+ \S+ \S+"  # the worker's pid, the host, the service, its version and environment
)
# Per request, sorted: the two lines the view logs.
EXPECTED_APP_RECORDS = [("ERROR", "This is an error message"), ("INFO", "This is an info message")]


@dataclass(frozen=True)
class Outcome:
    request_id: str
    status: int
    echoed_request_id: str | None
    body: bytes
    sent_after_rotation: bool


def get_hello(host: str, port: int, request_id: str, rotated: threading.Event) -> Outcome:
    sent_after_rotation = rotated.is_set()
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/", headers={"X-Request-ID": request_id, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        body = response.read()
        return Outcome(request_id, response.status, response.getheader("X-Request-ID"), body, sent_after_rotation)
    except (OSError, http.client.HTTPException) as error:
        raise AssertionError(f"GET / with X-Request-ID {request_id} failed: {error!r}") from error
    finally:
        connection.close()


def rotate_like_logrotate(path: Path) -> int:
    """Rename ``path`` to ``path.1`` (no copytruncate, no signal); return the renamed file's inode."""
    inode = path.stat().st_ino
    path.rename(path.with_name(path.name + ".1"))
    return inode


def read_complete_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    assert data, f"{path} is empty"
    assert data.endswith(b"\n"), f"{path} ends with a partial line: {data[-200:]!r}"
    return data.decode("utf-8").split("\n")[:-1]


def parse_lines(path: Path, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    matches = []
    for number, line in enumerate(read_complete_lines(path), start=1):
        match = pattern.fullmatch(line)
        assert match, f"{path}:{number} is not a complete, well-formed line: {line!r}"
        matches.append(match)
    return matches


def run_load_with_mid_run_rotation(base_url: str, log_dir: Path) -> tuple[list[Outcome], dict[str, int]]:
    """Send the requests; after ROTATE_AFTER_RESPONSES responses, rotate both log files once."""
    address = urlsplit(base_url)
    request_ids = [f"load-{index:05d}-{uuid.uuid4().hex}" for index in range(REQUEST_COUNT)]
    rotated = threading.Event()
    original_inodes: dict[str, int] = {}
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        pending = {
            pool.submit(get_hello, address.hostname, address.port, request_id, rotated) for request_id in request_ids
        }
        try:
            while pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"load did not finish within {LOAD_DEADLINE_SECONDS}s: "
                        f"{len(outcomes)} of {REQUEST_COUNT} responses received"
                    )
                done, pending = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
                outcomes.extend(future.result() for future in done)
                if not rotated.is_set() and len(outcomes) >= ROTATE_AFTER_RESPONSES:
                    for name in (APP_LOG, ACCESS_LOG):
                        original_inodes[name] = rotate_like_logrotate(log_dir / name)
                    rotated.set()
        finally:
            for future in pending:
                future.cancel()
    return outcomes, original_inodes


@pytest.mark.timeout(240)
def test_concurrent_requests_survive_log_rotation_without_losing_or_splitting_lines(tmp_path):
    with running_app(tmp_path, workers=WORKERS) as app:
        outcomes, original_inodes = run_load_with_mid_run_rotation(app.base_url, app.log_dir)
    # gunicorn has stopped gracefully, so every access line has been written.

    assert len(outcomes) == REQUEST_COUNT
    failures = [o for o in outcomes if (o.status, o.body) != (200, HELLO_BODY)
                or not re.fullmatch(REQUEST_ID, o.echoed_request_id or "")]
    assert not failures, f"{len(failures)} bad responses, first: {failures[0]}"
    # Each request's id is the server's own, one per request; the client's ids map to them.
    server_id_of = {o.request_id: o.echoed_request_id for o in outcomes}
    request_ids = {o.request_id for o in outcomes}
    assert len(set(server_id_of.values())) == REQUEST_COUNT
    answered_before_rotation = {o.request_id for o in outcomes[:ROTATE_AFTER_RESPONSES]}
    sent_after_rotation = {o.request_id for o in outcomes if o.sent_after_rotation}
    # The rotation happened mid-run: half the responses came before it, and the
    # pool still had most of the other half to send (a busy machine may let
    # the client threads run a little ahead of the rotating thread).
    assert len(sent_after_rotation) >= REQUEST_COUNT // 4

    app_lines: dict[str, list[re.Match[str]]] = {}
    access_lines: dict[str, list[re.Match[str]]] = {}
    for name, pattern, parsed in ((APP_LOG, APP_LINE, app_lines), (ACCESS_LOG, ACCESS_LINE, access_lines)):
        renamed, recreated = app.log_dir / (name + ".1"), app.log_dir / name
        assert renamed.stat().st_ino == original_inodes[name], f"{renamed} is not the file that was renamed"
        assert recreated.exists(), f"the app did not re-create {recreated} after the rename"
        assert recreated.stat().st_ino != original_inodes[name], f"{recreated} is still the renamed file"
        parsed[".1"] = parse_lines(renamed, pattern)
        parsed[""] = parse_lines(recreated, pattern)

    # Access log: one line per request, status 200, all of "Hello, World!".
    all_access = access_lines[".1"] + access_lines[""]
    assert len(all_access) == REQUEST_COUNT
    assert Counter(m["request_id"] for m in all_access) == Counter(server_id_of.values())
    assert {(m["status"], m["bytes"]) for m in all_access} == {("200", str(len(HELLO_BODY)))}

    # App log: exactly one INFO and one ERROR line per request, nothing else.
    all_app = app_lines[".1"] + app_lines[""]
    assert len(all_app) == 2 * REQUEST_COUNT
    records_by_request: dict[str, list[tuple[str, str]]] = {}
    for match in all_app:
        assert match["request_id"] == server_id_of[match["client_request_id"]], match[0]
        records_by_request.setdefault(match["client_request_id"], []).append((match["level"], match["message"]))
    assert records_by_request.keys() == request_ids
    wrong = {rid: records for rid, records in records_by_request.items() if sorted(records) != EXPECTED_APP_RECORDS}
    assert not wrong, f"{len(wrong)} requests lack one INFO and one ERROR line, e.g. {next(iter(wrong.items()))}"

    # Both files of each pair received lines, on the side of the rename each request was on.
    app_ids_in_renamed = {m["client_request_id"] for m in app_lines[".1"]}
    app_ids_in_recreated = {m["client_request_id"] for m in app_lines[""]}
    assert answered_before_rotation <= app_ids_in_renamed
    assert sent_after_rotation <= app_ids_in_recreated
    assert {server_id_of[rid] for rid in sent_after_rotation} <= {m["request_id"] for m in access_lines[""]}
    assert access_lines[".1"], "no access line was written before the rename"


def test_only_workers_open_the_log_files_so_the_arbiter_holds_no_rotated_copy(tmp_path):
    # An arbiter that opened access.log would hand its open file to every worker (flock(2) does not
    # exclude one open file from itself) and keep each rotated copy open, deleted or not.
    with running_app(tmp_path, workers=2) as app:
        with urllib.request.urlopen(app.base_url + "/", timeout=10) as response:
            assert response.status == 200
        # gunicorn writes the access line after the response: wait for it.
        deadline = time.monotonic() + 10
        while not (app.log_dir / "access.log").is_file() or not (app.log_dir / "access.log").stat().st_size:
            assert time.monotonic() < deadline, "no access line within 10 s"
            time.sleep(0.05)
        workers = app.workers()

        def open_logs(pid: int) -> set[str]:
            links = (os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir() if fd.is_symlink())
            return {Path(link).name for link in links if link.startswith(str(app.log_dir))}

        assert open_logs(app.process.pid) == set()
        # The worker that served the request holds its own; the other has written nothing.
        assert {"access.log", "django_debug.log"} <= set().union(*(open_logs(pid) for pid in workers))
