#!/usr/bin/env python3
"""Run make up's `docker compose up --wait`, stop it early when a service keeps restarting, and say why it failed.

Compose 2.30+ (make up requires it) bounds each of its waits by --wait-timeout, UP_TIMEOUT. But a
service that exits at start is restarted by Docker (restart: unless-stopped), which resets its health
to "starting" each time, so the wait for it lasts the whole UP_TIMEOUT. While `up` waits, this reads
the restart counts of the containers it created every few seconds; once one has restarted
CRASH_LOOP_RESTARTS times, it stops `up` (the containers stay). Containers from before are left to
UP_TIMEOUT: one that loops now may be one `up` is about to replace (after a fix in .env, once the
build is done). When `up` fails or is stopped, it prints each service that is not running and
healthy, its last log lines, and for Elasticsearch what makes it exit at start.

    compose_up.py docker compose up -d --build --wait --wait-timeout 900

Exits with up's status, or 1 when it stopped up. Standard library only: make runs it with the system Python.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
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
    """One line of `docker compose ps --all --format json` (docker/compose pkg/api ContainerSummary)."""

    id: str
    service: str
    image: str
    created: int  # Unix time, the engine's clock
    state: str
    health: str
    exit_code: int

    @classmethod
    def from_json(cls, line: str) -> Container:
        fields = json.loads(line)
        return cls(fields["ID"], fields["Service"], fields["Image"], fields["Created"], fields["State"],
                   fields["Health"], fields["ExitCode"])

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
    listed = run([*compose, "ps", "--all", "--format", "json"]) or ""
    return [Container.from_json(line) for line in listed.splitlines() if line.strip()]


def restart_counts(found: list[Container]) -> dict[str, int]:
    """Each container's restart count (docker inspect's RestartCount), by id."""
    if not found:
        return {}
    listed = run(["docker", "inspect", "-f", "{{.Id}} {{.RestartCount}}", *(container.id for container in found)])
    return {fields[0]: int(fields[1]) for line in (listed or "").splitlines() if len(fields := line.split()) == 2}


def crash_looping(found: list[Container], counts: dict[str, int], since: float) -> list[Container]:
    """The containers created since `since` (Unix time) that restarted CRASH_LOOP_RESTARTS times."""
    return [container for container in found
            if container.created >= since and counts.get(container.id, 0) >= CRASH_LOOP_RESTARTS]


def wait_watching(up: subprocess.Popen, compose: list[str]) -> list[Container]:
    """Waits for `up`; returns the crash-looping containers if it stopped it for them, else []."""
    # A second's margin: Created has whole seconds.
    since = time.time() - 1
    while True:
        try:
            up.wait(timeout=POLL_SECONDS)
            return []
        except subprocess.TimeoutExpired:
            pass
        found = containers(compose)
        looping = crash_looping(found, restart_counts(found), since)
        if looping:
            up.send_signal(signal.SIGINT)
            try:
                up.wait(timeout=30)
            except subprocess.TimeoutExpired:
                up.kill()
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
    up = subprocess.Popen(argv)
    try:
        looping = wait_watching(up, compose)
    except KeyboardInterrupt:  # Ctrl-C reached `up` too: it stops by itself.
        return up.wait() or 130
    if looping or up.returncode != 0:
        report(compose, looping)
        return up.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
