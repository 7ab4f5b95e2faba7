#!/usr/bin/env python3
"""Which profile the compose files select: default, tls or cluster (docs/operations.md, "Profiles").

The profile is Compose's own COMPOSE_FILE, read as Compose reads it (the environment first, then
.env), so `docker compose` typed by hand sees the same stack as make. Profiles are overlays:
    default  docker-compose.yml
    tls      docker-compose.yml:docker-compose.tls.yml
    cluster  docker-compose.yml:docker-compose.tls.yml:docker-compose.cluster.yml
and any other files follow them: docker-compose.own-app.yml (own-app mode), an override of yours.

    python3 scripts/stack_profile.py shell            PROFILE=... TLS=... SCHEME=..., or a clear error
    python3 scripts/stack_profile.py max-map-count N  checks the Docker host's vm.max_map_count for the cluster

Standard library only: make runs it before the venv exists.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from create_env import EnvFileError, parse_env

BASE = "docker-compose.yml"
TLS_OVERLAY = "docker-compose.tls.yml"
CLUSTER_OVERLAY = "docker-compose.cluster.yml"
OWN_APP_OVERLAY = "docker-compose.own-app.yml"
PROFILE_FILES = {
    "default": (BASE,),
    "tls": (BASE, TLS_OVERLAY),
    "cluster": (BASE, TLS_OVERLAY, CLUSTER_OVERLAY),
}
# Elasticsearch's bootstrap check for a node that is not single-node (BootstrapChecks.java, MaxMapCountCheck).
MIN_MAX_MAP_COUNT = 262144


class ProfileError(Exception):
    """COMPOSE_FILE names no profile this stack has; the message says which lines work."""


@dataclass(frozen=True)
class Profile:
    name: str

    @property
    def tls(self) -> bool:
        return self.name != "default"

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"


def _choices() -> str:
    return "; ".join(f"{name}: COMPOSE_FILE={':'.join(files)}" for name, files in PROFILE_FILES.items())


def profile_of(compose_file: str, separator: str = ":") -> Profile:
    """The profile a COMPOSE_FILE value selects ("" means Compose's default, docker-compose.yml).

    The profile's files come first, in order; any others (own-app mode, an override of yours) follow."""
    pieces = (compose_file or BASE).split(separator)
    hint = f"Use one of: {_choices()}, then any other files (:{OWN_APP_OVERLAY} for your own app's logs)."
    if any(not name.strip() for name in pieces):
        # Compose would try to read the project folder itself as a file (or a blank name) and fail.
        raise ProfileError(
            f"COMPOSE_FILE={compose_file} has an empty entry (a doubled, leading or trailing {separator!r}): "
            f"Compose cannot read it. {hint}"
        )
    files = [Path(name).name for name in pieces]
    overlays = {TLS_OVERLAY, CLUSTER_OVERLAY}
    for name in ("cluster", "tls", "default"):
        profile_files = PROFILE_FILES[name]
        rest = files[len(profile_files):]
        if tuple(files[:len(profile_files)]) == profile_files and not overlays & set(rest):
            return Profile(name)
    if CLUSTER_OVERLAY in files and TLS_OVERLAY not in files:
        raise ProfileError(
            f"COMPOSE_FILE={compose_file}: {CLUSTER_OVERLAY} needs {TLS_OVERLAY} before it (a cluster with "
            f"security on needs transport TLS). {hint}"
        )
    raise ProfileError(f"COMPOSE_FILE={compose_file} does not start with a profile of this stack. {hint}")


def compose_values(environ: Mapping[str, str], env_file: Path) -> dict[str, str]:
    """The settings as Compose sees them: the environment's over .env's (EnvFileError names a bad line)."""
    values = parse_env(env_file.read_text(encoding="utf-8"), env_file) if env_file.is_file() else {}
    return {**values, **environ}


def selected_profile(values: Mapping[str, str]) -> Profile:
    """The profile those settings select: COMPOSE_FILE, split at COMPOSE_PATH_SEPARATOR as Compose splits it."""
    return profile_of(values.get("COMPOSE_FILE", ""), values.get("COMPOSE_PATH_SEPARATOR") or os.pathsep)


def max_map_count_problem(value: str) -> str | None:
    """Why the Docker host's vm.max_map_count stops a cluster node from starting, if it does."""
    raw = value.strip()
    if not raw.isdigit():
        return f"could not read the Docker host's vm.max_map_count (got {raw[:40]!r})."
    if int(raw) < MIN_MAX_MAP_COUNT:
        return (
            f"the Docker host's vm.max_map_count is {raw}; Elasticsearch nodes of a cluster need at least "
            f"{MIN_MAX_MAP_COUNT} and exit at start. On Linux: sudo sysctl -w vm.max_map_count={MIN_MAX_MAP_COUNT}, "
            "and keep it with a line in /etc/sysctl.d/99-elasticsearch.conf. Docker Desktop: set it in its VM "
            "(docs/troubleshooting.md, \"`make up` says `vm.max_map_count` is too low (cluster profile)\")."
        )
    return None


def main(argv: list[str]) -> int:
    if argv[:1] == ["shell"] and len(argv) == 1:
        env_file = Path(__file__).resolve().parent.parent / ".env"
        try:
            profile = selected_profile(compose_values(os.environ, env_file))
        except (ProfileError, EnvFileError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"PROFILE={profile.name} TLS={'yes' if profile.tls else ''} SCHEME={profile.scheme}")
        return 0
    if argv[:1] == ["max-map-count"] and len(argv) == 2:
        problem = max_map_count_problem(argv[1])
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
