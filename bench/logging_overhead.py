"""Cost of the safe log pipeline against the standard library, measured in one run.

Compares, per record written to a real file:
  baseline: logging.Formatter + logging.handlers.WatchedFileHandler
  safe:     django_elk_logging.log_lines.SafeFormatter + AppendOnlyFileHandler
for a plain message and for a hostile one (control characters to escape).
and gunicorn's access line (gunicorn's Logger against AccessLogger, each on its file handler).
Rounds of the two alternate and CPU time (time.process_time: the write(2)s included, other
processes' load not) is measured, so the ratio holds on a busy machine. Prints the ratio
safe/baseline; run with `make bench`.

Then, in fresh processes as a gunicorn worker starts, the cost of the first
record (and of importing the module, Django aside) against the median record.
"""

import datetime
import logging
import logging.handlers
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# make bench runs it in the venv that installed the package (requirements-dev.txt).
from django_elk_logging.access_lines import ACCESS_LOG_FORMAT
from django_elk_logging.gunicorn import AccessLogger
from django_elk_logging.log_files import AppendOnlyFileHandler
from django_elk_logging.log_lines import SafeFormatter
from gunicorn.config import Config
from gunicorn.glogging import Logger

from bench.results import append_section

FRESH_PROCESSES = 5
# Run in a fresh interpreter: nothing imported or cached yet, as in a new worker.
FIRST_RECORD_PROGRAM = """
import logging, statistics, sys, time
import django.core.handlers.wsgi, sentry_sdk  # a worker has these loaded anyway: not counted
start = time.perf_counter()
from django_elk_logging.log_files import AppendOnlyFileHandler
from django_elk_logging.log_lines import SafeFormatter
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


def logger_for(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"bench.{id(handler)}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    return logger


def best_of_alternating_rounds(runs: dict[str, callable]) -> dict[str, float]:
    """CPU seconds per call of each run, the best of ROUNDS rounds, the runs taking turns."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(ROUNDS):
        for name, run in runs.items():
            start = time.process_time()
            for _ in range(RECORDS):
                run()
            best[name] = min(best[name], (time.process_time() - start) / RECORDS)
    return best


class _Response:
    status = "200 OK"
    sent = 13
    headers = [("Content-Type", "text/html; charset=utf-8"), ("X-Request-ID", "786775e7c738447f916f88e3877a09f9")]


class _Request:
    headers = [("HOST", "127.0.0.1:8000"), ("USER-AGENT", "wrk/4.2"), ("ACCEPT", "*/*")]


# What gunicorn's sync worker puts in a request's environ (gunicorn/http/wsgi.py), abridged values.
_ENVIRON = {
    "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "51234", "REQUEST_METHOD": "GET", "RAW_URI": "/", "PATH_INFO": "/",
    "QUERY_STRING": "", "SCRIPT_NAME": "", "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000", "SERVER_SOFTWARE": "gunicorn", "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk/4.2",
    "HTTP_ACCEPT": "*/*", "wsgi.url_scheme": "http", "wsgi.multithread": False, "wsgi.multiprocess": True,
    "wsgi.run_once": False, "wsgi.version": (1, 0), "gunicorn.socket": None, "wsgi.input": None,
    "wsgi.errors": None, "wsgi.file_wrapper": None, "wsgi.input_terminated": True,
}


def access_logger(logger_class: type[Logger], handler_class: str, path: Path) -> Logger:
    config = Config()
    config.set("access_log_format", ACCESS_LOG_FORMAT)
    # gunicorn merges this shallowly over its defaults, so each section is complete.
    config.set("logconfig_dict", {
        "version": 1,
        "root": {"level": "WARNING", "handlers": []},
        "disable_existing_loggers": False,
        "formatters": {"access": {"format": "%(message)s"}},
        "handlers": {"access_file": {"class": handler_class, "filename": str(path), "formatter": "access"}},
        "loggers": {"gunicorn.access": {"level": "INFO", "handlers": ["access_file"], "propagate": False}},
    })
    return logger_class(config)


def access_line_ratio(directory: str) -> str:
    request_time = datetime.timedelta(microseconds=2314)
    runs = {}
    for name, logger_class, handler_class in (
        ("baseline", Logger, "logging.handlers.WatchedFileHandler"),
        ("safe", AccessLogger, "django_elk_logging.log_files.AppendOnlyFileHandler"),
    ):
        # gunicorn configures the one gunicorn.access logger: each run takes its turn with its own.
        logger = access_logger(logger_class, handler_class, Path(directory) / f"access-{name}.log")
        handler = logging.getLogger("gunicorn.access").handlers[0]

        def run(logger=logger, handler=handler):
            logging.getLogger("gunicorn.access").handlers = [handler]
            logger.access(_Response(), _Request(), _ENVIRON, request_time)

        runs[name] = run
    best = best_of_alternating_rounds(runs)
    return (
        f"access   baseline {best['baseline'] * 1e6:7.2f} us/line     safe {best['safe'] * 1e6:7.2f} us/line     "
        f"ratio safe/baseline {best['safe'] / best['baseline']:5.2f}"
    )


def main() -> None:
    lines: list[str] = []

    def say(line: str) -> None:
        print(line)
        lines.append(line)

    with tempfile.TemporaryDirectory() as directory:
        say(f"{RECORDS} records x best of {ROUNDS} alternating rounds (CPU time), written to {directory}")
        for name, message in MESSAGES.items():
            baseline = logging.handlers.WatchedFileHandler(Path(directory) / f"baseline-{name}.log")
            baseline.setFormatter(logging.Formatter(FORMAT, style="{"))
            safe = AppendOnlyFileHandler(Path(directory) / f"safe-{name}.log")
            safe.setFormatter(SafeFormatter(FORMAT, style="{"))
            loggers = {"baseline": logger_for(baseline), "safe": logger_for(safe)}
            best = best_of_alternating_rounds(
                {key: lambda logger=logger, message=message: logger.info(message) for key, logger in loggers.items()}
            )
            baseline_seconds, safe_seconds = best["baseline"], best["safe"]
            baseline.close()
            safe.close()
            say(
                f"{name:8s} baseline {baseline_seconds * 1e6:7.2f} us/record   "
                f"safe {safe_seconds * 1e6:7.2f} us/record   ratio safe/baseline {safe_seconds / baseline_seconds:5.2f}"
            )
        say(access_line_ratio(directory))
        say(f"first record in {FRESH_PROCESSES} fresh processes (a worker's start):")
        for index in range(FRESH_PROCESSES):
            result = subprocess.run(
                [sys.executable, "-c", FIRST_RECORD_PROGRAM, str(Path(directory) / f"first-{index}.log")],
                capture_output=True, text=True, check=True,
            )
            imported, first, median = (float(value) for value in result.stdout.split())
            say(
                f"  import {imported * 1e3:6.1f} ms   first record {first * 1e6:8.1f} us   "
                f"median {median * 1e6:6.2f} us   ratio first/median {first / median:6.1f}"
            )
    append_section("Logging overhead per record (bench.logging_overhead)", ["```", *lines, "```"])


if __name__ == "__main__":
    main()
