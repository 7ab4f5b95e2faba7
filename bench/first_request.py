"""First request after a gunicorn worker starts, against the median of the requests that follow it.

Each fresh start runs gunicorn with one worker and the production configuration (app/gunicorn.conf.py and
config.settings); the first request is sent as soon as the worker has loaded the app (before it, nothing
reaches the worker), then FOLLOWING more, one at a time. Another fresh start sends its first request as soon
as the port accepts it: that one also waits for the worker to boot (import and set up Django). Logging off is
measured the same way, interleaved, to show how much of each cost is not the logging's.
Goal: the first request after the worker loaded the app takes at most 2x the median of the following.
"""

import http.client
import statistics
import tempfile
import time
from pathlib import Path

from bench.gunicorn_runner import APP_DIR, GunicornError
from bench.results import append_section
from bench.serve_configs import CONFIGURATIONS, PRODUCTION, Configuration, prepare_database, serve

GOAL = 2.0
FRESH_STARTS = 5
FOLLOWING = 50
READY_TIMEOUT_SECONDS = 30
READY_MARKER_CONFIG = "python:bench.gunicorn_ready_marker"
NO_ACCESS_CONFIG = Path(__file__).with_name("gunicorn_no_access.py")


def _seconds_for_get(port: int, path: str = "/") -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        start = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
    finally:
        connection.close()
    if response.status != 200:
        raise GunicornError(f"GET {path} answered {response.status}")
    return elapsed


def _seconds_for_get_at_start(port: int) -> float:
    """GET / sent as soon as gunicorn's socket accepts connections, before any worker serves."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        try:
            return _seconds_for_get(port)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise GunicornError(f"port {port} refused connections for {READY_TIMEOUT_SECONDS} s") from None
            time.sleep(0.005)


def _wait_for_worker(ready_dir: Path, app) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not any(ready_dir.iterdir()):
        if app.process.poll() is not None or time.monotonic() > deadline:
            raise GunicornError(f"the worker did not load the app within {READY_TIMEOUT_SECONDS} s:\n{app.output()}")
        time.sleep(0.01)


def _marked(configuration: Configuration) -> tuple[Configuration, Path]:
    """``configuration`` under the ready-marker config, and the gunicorn config file that one wraps."""
    base = NO_ACCESS_CONFIG if configuration.gunicorn_config.startswith("python:") else APP_DIR / "gunicorn.conf.py"
    return Configuration(configuration.name, configuration.settings_module, READY_MARKER_CONFIG), base


def cold_start(configuration: Configuration, workdir: Path, database: Path) -> float:
    """Seconds for a first request sent while the only worker still boots."""
    marked, base = _marked(configuration)
    (workdir / "ready").mkdir(parents=True)
    with serve(marked, workdir, database, workers=1, ready_path=None,
               BENCH_READY_DIR=str(workdir / "ready"), BENCH_BASE_GUNICORN_CONFIG=str(base)) as app:
        return _seconds_for_get_at_start(app.port)


def fresh_start(configuration: Configuration, workdir: Path, database: Path) -> tuple[float, float]:
    """(first request's seconds, median of the following) for one fresh one-worker gunicorn."""
    ready_dir = workdir / "ready"
    ready_dir.mkdir(parents=True)
    marked, base = _marked(configuration)
    with serve(marked, workdir, database, workers=1, ready_path=None,
               BENCH_READY_DIR=str(ready_dir), BENCH_BASE_GUNICORN_CONFIG=str(base)) as app:
        _wait_for_worker(ready_dir, app)
        first = _seconds_for_get(app.port)
        following = [_seconds_for_get(app.port) for _ in range(FOLLOWING)]
    return first, statistics.median(following)


def main() -> None:
    off = CONFIGURATIONS[0]
    measured: dict[str, list[tuple[float, float]]] = {PRODUCTION.name: [], off.name: []}
    cold: dict[str, list[float]] = {PRODUCTION.name: [], off.name: []}
    print(f"{FRESH_STARTS} fresh starts per configuration, 1 sync worker, first request vs median of {FOLLOWING}")
    with tempfile.TemporaryDirectory(prefix="bench-first-request-") as directory:
        workdir = Path(directory)
        database = prepare_database(workdir / "shared")
        for start in range(FRESH_STARTS):
            for configuration in (PRODUCTION, off):
                first, median = fresh_start(configuration, workdir / f"{start}-{configuration.name}", database)
                measured[configuration.name].append((first, median))
                cold[configuration.name].append(cold_start(configuration, workdir / f"{start}-{configuration.name}-cold",
                                                           database))
                print(f"  start {start + 1}: {configuration.name:4s} first {first * 1000:7.1f} ms, "
                      f"median {median * 1000:5.2f} ms, ratio {first / median:6.1f}; "
                      f"sent at start {cold[configuration.name][-1] * 1000:6.0f} ms", flush=True)
    lines = ["| configuration | first ms | following ms | ratio | ratio range | sent at start ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, pairs in measured.items():
        ratios = [first / median for first, median in pairs]
        lines.append(
            f"| {name} | {statistics.median(first for first, _ in pairs) * 1000:.1f} "
            f"| {statistics.median(median for _, median in pairs) * 1000:.2f} "
            f"| {statistics.median(ratios):.1f} | {min(ratios):.1f}-{max(ratios):.1f} "
            f"| {statistics.median(cold[name]) * 1000:.0f} |"
        )
    production_ratio = statistics.median(first / median for first, median in measured[PRODUCTION.name])
    verdict = "met" if production_ratio <= GOAL else "NOT met"
    lines += ["", f"Goal: a worker's first request takes at most {GOAL:g}x the median of the following: "
              f"{production_ratio:.1f}x with our production logging, {verdict}.",
              f"{FRESH_STARTS} fresh one-worker starts per configuration, interleaved; the first request is sent "
              "once the worker has loaded the app (post_worker_init); medians over the starts. "
              "'sent at start': a first request sent as soon as the port accepts, so it waits for the worker's boot."]
    print("\n".join(lines))
    print(f"appended to {append_section('First request after a worker starts (bench/first_request.py)', lines)}")


if __name__ == "__main__":
    main()
