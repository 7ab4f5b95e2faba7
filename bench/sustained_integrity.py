"""Sustained integrity: the real app under load for 60 s, its logs renamed every 10 s and a worker killed once.

gunicorn (app/gunicorn.conf.py, 2 sync workers, the production LOGGING) serves GET /, which logs one INFO
and one ERROR line to django_debug.log; gunicorn's access logger writes access.log, both through
AppendOnlyFileHandler. Every 10 s app/rotate_logs.py's rotate() renames name.log -> name.log.1 (older copies
shift up), as logrotate does; mid-run one worker gets SIGKILL and the arbiter starts another. Then every line
of every rotated file is matched to the request that caused it (bench/log_integrity.py).

Load: a short calibration runs 2 s at 2, 4, 8 and 16 client threads and keeps the count after which
throughput stopped rising by 5 %; the run uses it. Run with `make bench`, or
`PYTHONPATH=app .venv/bin/python -m bench.sustained_integrity --seconds 20` for a shorter run (or DURATION=20).
"""

import argparse
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

from bench.app_process import gunicorn_app
from bench.gunicorn_runner import RunningApp
from bench.load_client import Outcome, run_load
from bench.log_integrity import Requests, Tally, tally
from bench.results import append_section
from rotate_logs import rotate

WORKERS = 2
ROTATE_EVERY_SECONDS = 10
# rotate_logs's largest --keep: no rotated copy is deleted during the run.
KEEP = 100
KILL_AT_FRACTION = 0.55
CALIBRATION_THREADS = (2, 4, 8, 16)
CALIBRATION_SECONDS = 2
RISE = 1.05
# An answer read this close to the kill may be the one the killed worker gave without logging it.
KILL_WINDOW_SECONDS = 1.0
REPLACEMENT_TIMEOUT_SECONDS = 30
LOG_NAMES = ("access.log", "django_debug.log", "security.log")


def calibrate(app: RunningApp) -> tuple[int, list[str], list[Outcome]]:
    """The client thread count after which throughput stopped rising, the figures, and every outcome."""
    best_threads, best_rate, lines, outcomes = CALIBRATION_THREADS[0], 0.0, [], []
    for threads in CALIBRATION_THREADS:
        done = run_load(app.host, app.port, threads, CALIBRATION_SECONDS, f"cal{threads}")
        outcomes += done
        rate = sum(1 for outcome in done if outcome.answered) / CALIBRATION_SECONDS
        lines.append(f"{threads} threads: {rate:.0f} req/s")
        if rate < best_rate * RISE:
            break
        best_threads, best_rate = threads, rate
    return best_threads, lines, outcomes


def _disturb(app: RunningApp, seconds: float, started: float, events: dict) -> None:
    """Rotate every ROTATE_EVERY_SECONDS and SIGKILL one worker once, on the run's clock."""
    rotations = [(at, "rotate") for at in range(ROTATE_EVERY_SECONDS, int(seconds), ROTATE_EVERY_SECONDS)]
    schedule = sorted(rotations + [(seconds * KILL_AT_FRACTION, "kill")])
    events.update(rotations=0, killed_pid=None, kill_at=None, replacement=None)
    for at, action in schedule:
        time.sleep(max(0.0, started + at - time.monotonic()))
        if action == "rotate":
            rotated = rotate(app.log_dir, max_bytes=1, keep=KEEP)
            events["rotations"] += 1 if rotated else 0
            continue
        before = app.workers()
        victim = before[0]
        os.kill(victim, signal.SIGKILL)
        events.update(killed_pid=victim, kill_at=time.monotonic())
        after = app.wait_for_workers(WORKERS, REPLACEMENT_TIMEOUT_SECONDS, excluding=frozenset({victim}))
        events["replacement"] = sorted(set(after) - set(before))


def sustained_run(app: RunningApp, threads: int, seconds: float) -> tuple[list[Outcome], dict]:
    events: dict = {}
    started = time.monotonic()
    disturber = threading.Thread(target=_disturb, args=(app, seconds, started, events), daemon=True)
    disturber.start()
    outcomes = run_load(app.host, app.port, threads, seconds, "run")
    disturber.join(REPLACEMENT_TIMEOUT_SECONDS)
    if disturber.is_alive() or events.get("kill_at") is None:
        raise RuntimeError(f"the rotations and the kill did not finish: {events}")
    return outcomes, events


def read_logs(log_dir: Path) -> dict[str, list[bytes]]:
    """Every file of each log, the live one and its rotated copies name.log.1 ... ."""
    return {name: [path.read_bytes() for path in sorted(log_dir.glob(f"{name}*"))] for name in LOG_NAMES}


def judge(outcomes: list[Outcome], logs: dict[str, list[bytes]], kill_at: float) -> tuple[Tally, int]:
    answered = {outcome.marker for outcome in outcomes if outcome.answered is not None}
    near_kill = {
        outcome.marker
        for outcome in outcomes
        if outcome.answered is not None and abs(outcome.done_at - kill_at) <= KILL_WINDOW_SECONDS
    }
    requests = Requests(
        answered=frozenset(answered),
        unanswered=frozenset(outcome.marker for outcome in outcomes if outcome.answered is None),
        answered_near_kill=frozenset(near_kill),
        workers_killed=1,
        server_ids={outcome.marker: outcome.request_id for outcome in outcomes if outcome.request_id},
    )
    bad_answers = sum(1 for outcome in outcomes if outcome.answered is False)
    return tally(requests, logs["access.log"], logs["django_debug.log"]), bad_answers


def report(seconds, threads, calibration, run_outcomes, events, result: Tally, bad_answers, logs) -> list[str]:
    security_lines = sum(data.count(b"\n") for data in logs["security.log"])
    goal = result.goal_met and bad_answers == 0 and events["replacement"]
    return [
        f"- calibration ({CALIBRATION_SECONDS} s each): {'; '.join(calibration)}; run with {threads} client threads",
        f"- run: {seconds:g} s against gunicorn with {WORKERS} sync workers; "
        f"{len(run_outcomes)} requests sent in the run, {len(run_outcomes) / seconds:.0f} req/s",
        f"- all requests (calibration and run): sent {result.sent}, answered {result.answered}, "
        f"bad answers {bad_answers}, unanswered {result.unanswered} "
        f"(their lines found: {result.unanswered_request_lines})",
        f"- lines: access {result.access_lines} (expected {result.answered}), "
        f"app {result.app_lines} (expected {2 * result.answered}), other records {result.other_lines}, "
        f"security.log {security_lines}, of unknown requests {result.unknown_marker_lines}",
        f"- files read: {', '.join(f'{name} x{len(files)}' for name, files in logs.items())}",
        f"- rotations done: {events['rotations']} (every {ROTATE_EVERY_SECONDS} s, rotate_logs.rotate)",
        f"- worker killed: pid {events['killed_pid']} at {seconds * KILL_AT_FRACTION:.0f} s, "
        f"replaced by {events['replacement']}",
        f"- lost access lines {result.lost_access_lines}, lost app lines {result.lost_app_lines}, "
        f"split lines {result.split_lines}, doubled lines {result.doubled_lines}",
        f"- killed worker's possibly lost access line: {result.killed_worker_lost_access_lines}",
        f"- goal (zero lost, split or doubled lines): {'met' if goal else 'NOT met'}",
    ]


def _seconds(argv: list[str] | None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=os.environ.get("DURATION", "60"),
                        help="length of the run (DURATION, else 60)")
    seconds = parser.parse_args(argv).seconds
    if not 5 <= seconds <= 600:
        parser.error(f"--seconds={seconds:g} is out of range: expected 5 to 600")
    return seconds


def main(argv: list[str] | None = None) -> None:
    seconds = _seconds(argv)
    with tempfile.TemporaryDirectory(prefix="sustained-integrity-") as directory:
        with gunicorn_app(Path(directory), workers=WORKERS) as app:
            threads, calibration, calibration_outcomes = calibrate(app)
            print(f"calibration: {'; '.join(calibration)} -> {threads} threads", flush=True)
            run_outcomes, events = sustained_run(app, threads, seconds)
        # gunicorn stopped gracefully: every answered request's access line is written.
        logs = read_logs(app.log_dir)
        result, bad_answers = judge(calibration_outcomes + run_outcomes, logs, events["kill_at"])
    lines = report(seconds, threads, calibration, run_outcomes, events, result, bad_answers, logs)
    print("\n".join(lines))
    print(f"appended to {append_section('Sustained integrity: load, log rotation and a killed worker', lines)}")


if __name__ == "__main__":
    main()
