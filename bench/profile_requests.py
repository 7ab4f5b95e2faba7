"""py-spy on two gunicorn workers under wrk load: a breakdown of one's samples, a flame graph of the other's.

Written under bench/profiles/ (git ignores it): <stamp>-worker.txt (py-spy raw, collapsed stacks) and
<stamp>-flamegraph.svg. py-spy attaches to another process: run as root, or allow ptrace.
"""

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

from bench.gunicorn_runner import RunningApp
from bench.load import LoadError, run_load
from bench.profile_stacks import breakdown, parse_collapsed, report

PROFILE_SECONDS = 10
RATE_HZ = 200
CONNECTIONS = 4


def _py_spy() -> str:
    beside_python = Path(sys.executable).with_name("py-spy")
    found = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if found is None:
        raise LoadError("py-spy is not installed: pip install -r requirements-dev.txt")
    return found


def _record(py_spy: str, pid: int, output: Path, output_format: str) -> subprocess.Popen:
    # --idle: a worker blocked in flock(2) on the other's append is still serving its request.
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(PROFILE_SECONDS), "--rate", str(RATE_HZ),
               "--idle", "--format", output_format, "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def profile(app: RunningApp, url: str, directory: Path) -> str:
    """Profile ``app``'s workers while ``url`` is under load; the breakdown as Markdown lines."""
    py_spy = _py_spy()
    pids = app.workers()
    if len(pids) < 2:
        raise LoadError(f"expected 2 workers, gunicorn {app.process.pid} has {pids}")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw_path, svg_path = directory / f"{stamp}-worker.txt", directory / f"{stamp}-flamegraph.svg"
    recorders = [_record(py_spy, pids[0], raw_path, "raw"), _record(py_spy, pids[1], svg_path, "flamegraph")]
    run_load(url, PROFILE_SECONDS + 1, CONNECTIONS)
    for recorder in recorders:
        output, _ = recorder.communicate(timeout=60)
        if recorder.returncode != 0:
            raise LoadError(f"py-spy exited with {recorder.returncode}:\n{output}")
    lines = report(breakdown(parse_collapsed(raw_path.read_text())))
    return "\n".join([f"Profile of 'ours', worker {pids[0]} ({raw_path}); flame graph of worker {pids[1]}: {svg_path}",
                      *lines])
