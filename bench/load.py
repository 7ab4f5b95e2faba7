"""HTTP load for a fixed duration: wrk when it is installed, else a small threaded http.client generator.

Both give the same LoadResult: requests per second and the 50th and 99th percentile latency.
"""

import http.client
import re
import shutil
import statistics
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass

# wrk prints times in us, ms, s, then s, m, h from one second (wg/wrk src/units.c, format_time_us).
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# The summary lines wrk prints (wg/wrk src/wrk.c, main); the error lines only when there are errors.
_REQUESTS_PER_SECOND = re.compile(r"^Requests/sec:\s+([0-9.]+)\s*$", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([0-9.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s+(\d+) requests in ([0-9.]+)(us|ms|s|m|h),", re.MULTILINE)
_NON_2XX = re.compile(r"^\s+Non-2xx or 3xx responses:\s+(\d+)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$", re.MULTILINE)


class LoadError(RuntimeError):
    """The load generator failed or printed something this does not understand."""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_seconds: float
    p99_seconds: float
    # Failed connections and responses that were neither 2xx nor 3xx.
    errors: int


def parse_wrk(output: str) -> LoadResult:
    """The figures of ``wrk --latency`` output; a LoadError names the first one missing."""
    rate = _REQUESTS_PER_SECOND.search(output)
    total = _TOTAL.search(output)
    percentiles = {match[1]: float(match[2]) * _TIME_UNITS[match[3]] for match in _PERCENTILE.finditer(output)}
    for name, found in (("Requests/sec", rate), ("'N requests in T'", total), ("50%", "50" in percentiles),
                        ("99%", "99" in percentiles)):
        if not found:
            raise LoadError(f"wrk output has no {name} line (was it run with --latency?):\n{output}")
    errors = sum(int(count) for match in _SOCKET_ERRORS.finditer(output) for count in match.groups())
    errors += sum(int(match[1]) for match in _NON_2XX.finditer(output))
    return LoadResult(
        requests=int(total[1]),
        seconds=float(total[2]) * _TIME_UNITS[total[3]],
        requests_per_second=float(rate[1]),
        p50_seconds=percentiles["50"],
        p99_seconds=percentiles["99"],
        errors=errors,
    )


def wrk_installed() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, seconds: float, connections: int, threads: int = 2) -> LoadResult:
    command = ["wrk", "--latency", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise LoadError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}")
    return parse_wrk(done.stdout)


def run_python(url: str, seconds: float, connections: int) -> LoadResult:
    """``connections`` threads sending GETs back to back (keep-alive when the server allows) for ``seconds``."""
    parts = urllib.parse.urlsplit(url)
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                connection.request("GET", parts.path or "/")
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                continue
            latencies[index].append(time.perf_counter() - start)
            if response.status >= 400:
                errors[index] += 1
            if response.will_close:
                connection.close()
        connection.close()

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(index,)) for index in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    samples = sorted(latency for thread in latencies for latency in thread)
    if len(samples) < 2:
        raise LoadError(f"{url} answered {len(samples)} request(s) in {elapsed:.1f} s ({sum(errors)} errors)")
    centiles = statistics.quantiles(samples, n=100)
    return LoadResult(len(samples), elapsed, len(samples) / elapsed, centiles[49], centiles[98], sum(errors))


def run_load(url: str, seconds: float, connections: int) -> LoadResult:
    """wrk if installed, else the Python generator."""
    if wrk_installed():
        return run_wrk(url, seconds, connections)
    return run_python(url, seconds, connections)
