"""Cost of the safe log pipeline against the standard library, measured in one run.

Compares, per record written to a real file:
  baseline: logging.Formatter + logging.handlers.WatchedFileHandler
  safe:     django_elk_logging.log_lines.SafeFormatter + AppendOnlyFileHandler
for a plain message and for a hostile one (control characters to escape).
Prints the ratio safe/baseline; run with `make bench`.

Then, in fresh processes as a gunicorn worker starts, the cost of the first
record (and of importing the module, Django aside) against the median record.
"""

import logging
import logging.handlers
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# make bench runs it in the venv that installed the package (requirements-dev.txt).
from django_elk_logging.log_lines import AppendOnlyFileHandler, SafeFormatter

FRESH_PROCESSES = 5
# Run in a fresh interpreter: nothing imported or cached yet, as in a new worker.
FIRST_RECORD_PROGRAM = """
import logging, statistics, sys, time
import django.core.handlers.wsgi, sentry_sdk  # a worker has these loaded anyway: not counted
start = time.perf_counter()
from django_elk_logging.log_lines import AppendOnlyFileHandler, SafeFormatter
imported = time.perf_counter()
handler = AppendOnlyFileHandler(sys.argv[1])
handler.setFormatter(SafeFormatter("{levelname} {asctime} {module} {message}", style="{"))
logger = logging.getLogger("bench")
logger.propagate = False
logger.addHandler(handler)
timings = []
for _ in range(1001):
    before = time.perf_counter()
    logger.warning("User logged in: alice")
    timings.append(time.perf_counter() - before)
print(imported - start, timings[0], statistics.median(timings[1:]))
"""

RECORDS = 20_000
ROUNDS = 5
FORMAT = "{levelname} {asctime} {module} {message}"
MESSAGES = {
    "plain": "User logged in: alice",
    "hostile": "User logged in: " + "\x1b[31m\r\nINFO forged\u2028" * 8,
}


def seconds_per_record(handler: logging.Handler, message: str) -> float:
    logger = logging.getLogger(f"bench.{id(handler)}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(RECORDS):
            logger.info(message)
        best = min(best, (time.perf_counter() - start) / RECORDS)
    handler.close()
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        print(f"{RECORDS} records x best of {ROUNDS} rounds, written to {directory}")
        for name, message in MESSAGES.items():
            baseline = logging.handlers.WatchedFileHandler(Path(directory) / f"baseline-{name}.log")
            baseline.setFormatter(logging.Formatter(FORMAT, style="{"))
            safe = AppendOnlyFileHandler(Path(directory) / f"safe-{name}.log")
            safe.setFormatter(SafeFormatter(FORMAT, style="{"))
            baseline_seconds = seconds_per_record(baseline, message)
            safe_seconds = seconds_per_record(safe, message)
            print(
                f"{name:8s} baseline {baseline_seconds * 1e6:7.2f} us/record   "
                f"safe {safe_seconds * 1e6:7.2f} us/record   ratio safe/baseline {safe_seconds / baseline_seconds:5.2f}"
            )
        print(f"first record in {FRESH_PROCESSES} fresh processes (a worker's start):")
        for index in range(FRESH_PROCESSES):
            result = subprocess.run(
                [sys.executable, "-c", FIRST_RECORD_PROGRAM, str(Path(directory) / f"first-{index}.log")],
                capture_output=True, text=True, check=True,
            )
            imported, first, median = (float(value) for value in result.stdout.split())
            print(
                f"  import {imported * 1e3:6.1f} ms   first record {first * 1e6:8.1f} us   "
                f"median {median * 1e6:6.2f} us   ratio first/median {first / median:6.1f}"
            )


if __name__ == "__main__":
    main()
