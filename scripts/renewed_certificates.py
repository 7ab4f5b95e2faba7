#!/usr/bin/env python3
"""Which of Kibana and Logstash still run with the certificates this `make up` replaced (tls, cluster).

Both read their certificate and CA at start; Elasticsearch reloads its own (SSLConfigurationReloader
watches the PEM files). When the certs service writes new ones, it logs "<names>: generated, because
..." (setup/certs/create_certs.sh), after writing them. A container `up` created or started after that
line has the new files already (a switch from the default profile recreates both); only one started
before it needs a restart.

    renewed_certificates.py --compose 'docker compose' --since 2026-12-07T21:34:08Z

prints those services, space-separated (nothing when none), or exits 1 with the engine's error.
Standard library only: make runs it with the system Python.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime

READERS = ("kibana", "logstash")
GENERATED = ": generated, because"


def docker_time(text: str) -> datetime:
    """A time as Docker writes it, to the microsecond: RFC 3339 with "Z" and nine fraction digits in
    `logs --timestamps` (jsonmessage.RFC3339NanoFixed), trailing zeros trimmed in State.StartedAt."""
    seconds, _, fraction = text.strip().removesuffix("Z").partition(".")
    return datetime.fromisoformat(f"{seconds}.{fraction[:6].ljust(6, '0')}+00:00")


def written_at(timestamped_lines: Iterable[str]) -> datetime | None:
    """When certs last wrote certificates, from its log with Docker's timestamps; None when it did not."""
    times = [docker_time(line.split(" ", 1)[0]) for line in timestamped_lines if GENERATED in line]
    return max(times, default=None)


def started_before(started: Mapping[str, datetime], written: datetime | None) -> list[str]:
    """The services whose container started before the certificates were written."""
    return [] if written is None else [name for name, time in started.items() if time < written]


def engine(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"error: {shlex.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--compose", required=True, help="the Compose command, as make's COMPOSE")
    parser.add_argument("--since", required=True, help="when this make up started (UTC, RFC 3339)")
    arguments = parser.parse_args(argv)
    compose = shlex.split(arguments.compose)
    log = engine([*compose, "logs", "--no-log-prefix", "--timestamps", "--since", arguments.since, "certs"])
    written = written_at(log.splitlines())
    if written is None:
        return 0
    started = {}
    for name in READERS:
        # Running containers only: one that is not running reads the new files when it starts.
        times = [docker_time(engine(["docker", "inspect", "-f", "{{.State.StartedAt}}", container]))
                 for container in engine([*compose, "ps", "-q", name]).split()]
        if times:
            started[name] = min(times)
    print(" ".join(started_before(started, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
