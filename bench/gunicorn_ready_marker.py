"""gunicorn config: another one's settings, plus a file per worker once it has loaded the app.

gunicorn calls post_worker_init after the worker's load_wsgi, just before its request loop
(gunicorn/workers/base.py, Worker.init_process), so bench/first_request.py can send a worker its first request
without a readiness probe reaching it first. ``BENCH_BASE_GUNICORN_CONFIG`` names the file whose settings are
taken (a path; the app's gunicorn.conf.py by default) and ``BENCH_READY_DIR`` where the <pid> files go.
Used as ``--config python:bench.gunicorn_ready_marker``.
"""

import os
import runpy
from pathlib import Path

from bench.gunicorn_runner import APP_DIR

_base = runpy.run_path(os.environ.get("BENCH_BASE_GUNICORN_CONFIG", str(APP_DIR / "gunicorn.conf.py")))
# gunicorn takes the names that are settings and ignores the rest (gunicorn/app/base.py).
globals().update({name: value for name, value in _base.items() if not name.startswith("_")})


def post_worker_init(worker) -> None:
    (Path(os.environ["BENCH_READY_DIR"]) / str(worker.pid)).touch()
