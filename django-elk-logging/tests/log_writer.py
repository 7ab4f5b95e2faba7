"""A process that logs through the package's real handler and formatter, one command at a time.

Run as ``python log_writer.py LOG_PATH``, or through ``Writer`` below. Each stdin line is a JSON command; the writer
answers ``done`` on stdout when it has run it, so the test can change the file system
between two records. Two handlers ("a" and "b") on the same path stand for two gunicorn
workers: separate open files and separate state, as in two processes.

    ["log", "a", 7, 1000]   handler a logs "record 007 " + 1000 "x"
    ["limit", 3000]         RLIMIT_FSIZE soft limit in bytes (null: back to the hard limit)
    ["setuid", 65534]       drop root for that user (and its group)
"""

import json
import logging
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

# The package from this folder, whether or not the venv installed it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from django_elk_logging.log_files import AppendOnlyFileHandler  # noqa: E402
from django_elk_logging.log_lines import SafeFormatter  # noqa: E402

FORMAT = "{levelname} {asctime} {module} {message}"


class Writer:
    """This script in a subprocess, driven one command at a time."""

    def __init__(self, log_path: Path):
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(log_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def do(self, *command) -> None:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        if self.process.stdout.readline() != "done\n":
            raise AssertionError(f"the writer failed on {command}: {self.finish()}")

    def finish(self) -> list[str]:
        """Stop the writer; its stderr lines."""
        _, stderr = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, stderr
        return stderr.splitlines()


def message(sequence: int, size: int) -> str:
    return f"record {sequence:03d} " + "x" * size


def main(log_path: str) -> None:
    # Past RLIMIT_FSIZE the kernel sends SIGXFSZ, whose default action kills the process;
    # ignored, write(2) is cut short or fails with EFBIG instead, like a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    loggers: dict[str, logging.Logger] = {}
    for line in sys.stdin:
        command, *args = json.loads(line)
        if command == "setuid":
            os.setgid(args[0])
            os.setuid(args[0])
        elif command == "limit":
            hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard if args[0] is None else args[0], hard))
        elif command == "log":
            name, sequence, size = args
            if name not in loggers:
                handler = AppendOnlyFileHandler(log_path, encoding="utf-8")
                handler.setFormatter(SafeFormatter(FORMAT, style="{"))
                loggers[name] = logging.getLogger(f"writer.{name}")
                loggers[name].propagate = False
                loggers[name].addHandler(handler)
            loggers[name].warning(message(sequence, size))
        else:
            raise SystemExit(f"unknown command {command!r}")
        print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
