"""A bounded load generator: N threads, each sending GET / with a unique X-Request-ID until a deadline.

Every request's marker and outcome are recorded (wrk could only count them). Each thread keeps one
http.client connection: reused where the server keeps it alive, reopened where it closes it (gunicorn's
sync worker closes after every response, gunicorn/workers/sync.py SyncWorker.handle_request).
"""

import http.client
import re
import threading
import time
import uuid
from dataclasses import dataclass

from bench.log_integrity import HELLO_BODY, USER_AGENT

REQUEST_TIMEOUT_SECONDS = 10
# request_context.new_request_id: the server answers with its own id, never the client's.
SERVER_REQUEST_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Outcome:
    marker: str
    # The answer was a 200 with the view's body and a request id of the server's own; None: no answer at all.
    answered: bool | None
    done_at: float  # time.monotonic() when the answer was read or the request failed
    request_id: str = ""  # the X-Request-ID answered: the server's id (the marker is the client's)


def _send(connection: http.client.HTTPConnection, marker: str) -> Outcome:
    try:
        connection.request("GET", "/", headers={"X-Request-ID": marker, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        connection.close()
        return Outcome(marker, None, time.monotonic())
    request_id = response.getheader("X-Request-ID") or ""
    good = (response.status, body) == (200, HELLO_BODY) and SERVER_REQUEST_ID.fullmatch(request_id) is not None
    return Outcome(marker, good, time.monotonic(), request_id)


def run_load(host: str, port: int, threads: int, seconds: float, label: str) -> list[Outcome]:
    """Send requests from ``threads`` threads for ``seconds``; each marker is ``label``, the thread, a count."""
    deadline = time.monotonic() + seconds
    run_id = uuid.uuid4().hex[:8]
    results: list[list[Outcome]] = [[] for _ in range(threads)]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            while time.monotonic() < deadline:
                marker = f"{label}-{run_id}-{index:03d}-{len(results[index]):07d}"
                results[index].append(_send(connection, marker))
        finally:
            connection.close()

    workers = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        # Bounded: a thread ends at the deadline plus at most one request's timeout.
        worker.join(seconds + 2 * REQUEST_TIMEOUT_SECONDS)
    if any(worker.is_alive() for worker in workers):
        raise RuntimeError(f"a client thread was still sending {2 * REQUEST_TIMEOUT_SECONDS} s after the deadline")
    return [outcome for outcomes in results for outcome in outcomes]
