#!/usr/bin/env python3
"""Run make up's `docker compose up --wait`, stop it early when a service keeps restarting, and say why it failed.

Compose 2.30+ (make up requires it) bounds each of its waits by --wait-timeout, UP_TIMEOUT. But a
service that exits at start is restarted by Docker (restart: unless-stopped), which resets its health
to "starting" each time, so the wait for it lasts the whole UP_TIMEOUT. While `up` waits, this reads
the restart counts of the containers it created (the ids that were not there before it started)
every few seconds; once one has restarted CRASH_LOOP_RESTARTS times, it stops `up` (the containers
stay). Containers from before are left to UP_TIMEOUT: one that loops now may be one `up` is about to replace (after a fix in .env, once the
build is done). When `up` fails or is stopped, it prints each service that is not running and
healthy, its last log lines, and for Elasticsearch what makes it exit at start.

    compose_up.py docker compose up -d --build --wait --wait-timeout 900

Exits with up's status, or 1 when it stopped up. Standard library only: make runs it with the system Python.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

POLL_SECONDS = 3
CRASH_LOOP_RESTARTS = 2
LOG_LINES = 20
ELASTICSEARCH_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:"
ELASTICSEARCH_TRIGGERS = (
    "Elasticsearch exits at start, and Docker starts it again, when: its heap (ES_HEAP) is not below its "
    "memory limit (ES_MEM_LIMIT); elasticsearch/config/elasticsearch.yml has an error; its data volume was "
    "written by a newer Elasticsearch than ELASTIC_VERSION; or a bootstrap check failed (the cluster "
    "profile: vm.max_map_count). Its log lines above say which; the fixes are in "
    'docs/troubleshooting.md, "`make up` says a service keeps restarting".'
)


@dataclass(frozen=True)
class Container:
    """One line of `docker compose ps --all --no-trunc --format json`.

    Its keys are the methods of docker/compose cmd/formatter/container.go's ContainerContext (docker/cli
    cli/command/formatter/reflect.go marshals each one), not pkg/api's ContainerSummary fields: there is
    no Created. ID is the full id only with --no-trunc (cmd/compose/ps.go), as docker inspect prints it.
    """

    id: str
    service: str
    image: str
    state: str
    health: str
    exit_code: int

    @classmethod
    def from_json(cls, line: str) -> Container:
        fields = json.loads(line)
        return cls(fields["ID"], fields["Service"], fields["Image"], fields["State"], fields["Health"],
                   fields["ExitCode"])

    @property
    def failing(self) -> bool:
        """Not up and healthy, nor a one-shot that succeeded, nor one that never started (it waited)."""
        if self.state == "running":
            return self.health not in ("", "healthy")
        return not (self.state == "created" or (self.state == "exited" and self.exit_code == 0))

    @property
    def elasticsearch_node(self) -> bool:
        """Runs Elasticsearch itself: its image, with a healthcheck (certs runs the same image, without)."""
        return self.image.startswith(ELASTICSEARCH_IMAGE) and self.health != ""


def run(command: list[str]) -> str | None:
    """The command's output, or None when it fails (the engine's answer is then left out)."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else None


def containers(compose: list[str]) -> list[Container]:
    listed = run([*compose, "ps", "--all", "--no-trunc", "--format", "json"]) or ""
    return [Container.from_json(line) for line in listed.splitlines() if line.strip()]


def restart_counts(found: list[Container]) -> dict[str, int]:
    """Each container's restart count (docker inspect's RestartCount), by id."""
    if not found:
        return {}
    # A container removed since ps fails inspect, which still prints the others (docker/cli
    # cli/command/inspect/inspector.go), so the output counts whatever the status.
    inspect = ["docker", "inspect", "-f", "{{.Id}} {{.RestartCount}}", *(container.id for container in found)]
    listed = subprocess.run(inspect, capture_output=True, text=True, check=False).stdout
    return {fields[0]: int(fields[1]) for line in listed.splitlines() if len(fields := line.split()) == 2}


def crash_looping(found: list[Container], counts: dict[str, int], before: set[str]) -> list[Container]:
    """The containers this `up` created (ids not in `before`) that restarted CRASH_LOOP_RESTARTS times."""
    return [container for container in found
            if container.id not in before and counts.get(container.id, 0) >= CRASH_LOOP_RESTARTS]


def signal_group(up: subprocess.Popen, signum: int) -> None:
    """Signals up's process group: the docker CLI and the compose plugin it runs. When its stdout is a
    terminal the CLI ignores SIGINT, leaving it to reach the plugin through the group (docker/cli
    cmd/docker/docker.go, tryPluginRun)."""
    try:
        os.killpg(up.pid, signum)
    except ProcessLookupError:  # the whole group has exited
        pass


class SignalForwarder:
    """In its own process group, `up` no longer gets the terminal's Ctrl-C or hangup: this forwards them
    (and kill's SIGTERM). Installed before `up` starts, so a signal in between is kept and sent as soon
    as it exists; ``received`` lists the signals, in order."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.up: subprocess.Popen | None = None
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._forward)

    def _forward(self, signum: int, _frame: object) -> None:
        self.received.append(signum)
        if self.up is not None:
            signal_group(self.up, signum)

    def attach(self, up: subprocess.Popen) -> None:
        self.up = up
        for signum in self.received:
            signal_group(up, signum)


def wait_watching(up: subprocess.Popen, compose: list[str], before: set[str]) -> list[Container]:
    """Waits for `up`; returns the crash-looping containers if it stopped it for them, else []."""
    while True:
        try:
            up.wait(timeout=POLL_SECONDS)
            return []
        except subprocess.TimeoutExpired:
            pass
        found = containers(compose)
        looping = crash_looping(found, restart_counts(found), before)
        if looping:
            signal_group(up, signal.SIGINT)
            try:
                up.wait(timeout=30)
            except subprocess.TimeoutExpired:
                signal_group(up, signal.SIGKILL)
                up.wait()
            return looping


def report(compose: list[str], looping: list[Container]) -> None:
    found = containers(compose)
    counts = restart_counts(found)
    if looping:
        names = ", ".join(sorted({container.service for container in looping}))
        print(f"error: {names} keeps restarting: make up stopped waiting (its containers stay; make down stops them).",
              file=sys.stderr)
    failing = [container for container in found if container.failing]
    for container in failing:
        state = container.state + (f", health {container.health}" if container.health else "")
        if container.state == "exited":
            state += f", exit code {container.exit_code}"
        state += f", restarted {counts.get(container.id, 0)} times"
        print(f"\n{container.service} ({state}); its last {LOG_LINES} log lines:", file=sys.stderr)
        log = run([*compose, "logs", "--no-log-prefix", "--tail", str(LOG_LINES), container.service]) or ""
        for line in log.splitlines():
            print(f"    {line}", file=sys.stderr)
    if any(container.elasticsearch_node for container in failing):
        print(f"\n{ELASTICSEARCH_TRIGGERS}", file=sys.stderr)


def main(argv: list[str]) -> int:
    if "up" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    compose = argv[:argv.index("up")]
    forwarder = SignalForwarder()
    # Compared by id, not by time: ps gives no creation time but a string of the engine's clock.
    before = {container.id for container in containers(compose)}
    if forwarder.received:  # stopped before anything started
        return 128 + forwarder.received[0]
    # Its own group, so that stopping it reaches the compose plugin too (signal_group).
    up = subprocess.Popen(argv, start_new_session=True)
    forwarder.attach(up)
    received = forwarder.received
    looping = wait_watching(up, compose, before)
    if received:  # stopped by Ctrl-C or kill: no report
        return up.returncode if up.returncode > 0 else 128 + received[0]
    if looping or up.returncode != 0:
        report(compose, looping)
        # A status of up's own, else 1: it was stopped, or killed (a negative returncode).
        return 1 if looping or up.returncode < 0 else up.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
