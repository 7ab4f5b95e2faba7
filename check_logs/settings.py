"""The time zone the check reads timestamps in: --time-zone, else TIME_ZONE from the environment, else from
.env (read as Compose and the drills read it: drill/settings.py), else UTC, the stack's default."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from check_logs.errors import CannotRun
from config.time_zones import time_zone_problem
from drill.settings import DrillError, stack_values

DEFAULT_TIME_ZONE = "UTC"


def time_zone(option: str | None, environ: Mapping[str, str], env_file: Path) -> tuple[str, str]:
    """The zone and where it came from; CannotRun when Logstash's date filter could not load with it."""
    if option:
        zone, source = option.strip(), "--time-zone"
    else:
        try:
            values = stack_values(environ, env_file)
        except DrillError as error:
            raise CannotRun(str(error)) from None
        zone = values.get("TIME_ZONE", "").strip()
        if zone:
            source = "the environment" if environ.get("TIME_ZONE", "").strip() else str(env_file)
        else:
            zone, source = DEFAULT_TIME_ZONE, f"the default: TIME_ZONE is set neither in the environment nor in {env_file}"
    problem = time_zone_problem(zone)
    if problem:
        raise CannotRun(problem)
    return zone, source
