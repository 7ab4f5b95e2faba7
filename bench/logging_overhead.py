"""Cost of the safe log pipeline against the standard library, measured in one run.

Compares, per record written to a real file:
  baseline: logging.Formatter + logging.handlers.WatchedFileHandler
  safe:     observability.records.SafeFormatter + AppendOnlyFileHandler
for a plain message and for a hostile one (control characters to escape).
Prints the ratio safe/baseline; run with `make bench`.
"""

import logging
import logging.handlers
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from observability.records import AppendOnlyFileHandler, SafeFormatter  # noqa: E402

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


if __name__ == "__main__":
    main()
