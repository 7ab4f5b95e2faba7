#!/usr/bin/env python3
"""Run a command with the environment `make run-app` gives the sample app: the app container's settings from .env.

    python scripts/run_app_env.py [--quiet] COMMAND [ARGUMENT...]

- .env present: every variable docker-compose.yml's `app` service sets under `environment:`, with the
  value Compose gives the container: its `${NAME:-default}` and `${NAME:?message}` references resolved
  from the process environment first, then .env (read by create_env.parse_env, as make env, make up
  and the drill read it). A required one that is missing stops here with the compose file's message,
  as `docker compose up` would; so does a .env line that is not VARIABLE=value, named by its number.
  The list is the compose file's, read here, never a copy.
- No .env: none of them, as before .env was read (DEMO_USERNAME and DEMO_PASSWORD from the
  environment create the demo user); the secret key is var/secret_key, created 0600 on first use.
- Then run-app's own settings replace the container's paths: logs in var/log, SQLite in
  var/db.sqlite3, static files in var/static, cookies without Secure (plain HTTP), and gunicorn on
  GUNICORN_BIND from the environment or 127.0.0.1:8000.

The command runs with that environment through execvpe: no shell ever sees a value, so a password
holding `$(...)`, quotes, spaces or backslashes reaches the app as .env's reader read it.
Standard library only.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from create_env import EnvFileError, write_private
from stack_profile import compose_values

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = REPO_ROOT / ".env"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
VAR_DIR = REPO_ROOT / "var"
SERVICE = "app"
DEFAULT_BIND = "127.0.0.1:8000"

# The compose file as it is written: two-space indents, `services:` at the top level, each service's
# `environment:` a mapping of NAME: value lines.
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ENTRY = re.compile(rf"^      ({_NAME}):(?:[ \t]+(.*?))?[ \t]*$")
# Compose's interpolation (compose-spec/compose-go template/template.go: patternString, softDefault,
# hardDefault, requiredNonEmpty, required), the forms a compose file may use: $$, $NAME, ${NAME},
# ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}. Anything else after a $ (a nested
# reference in a default, say) is refused here, not guessed; tests/stack/test_run_app_env.py compares the
# results with the real Compose binary's.
_REFERENCE = re.compile(rf"\$(?:(\$)|\{{({_NAME})(?:(:?[-?])([^}}$]*))?\}}|({_NAME}))")


class RunAppError(Exception):
    """What stops make run-app before the app starts; the message says where and why."""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _scalar(raw: str, where: str) -> str:
    """A YAML scalar as the compose file writes them: plain, "double-quoted" without escapes, or 'single-quoted'."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"' and "\\" not in raw and '"' not in raw[1:-1]:
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    plain = re.split(r"[ \t]+#", raw, maxsplit=1)[0].strip()
    if not plain or plain[0] in "\"'[]{}&*!|>%@`#":
        raise RunAppError(f"{where}: run-app reads only plain, \"quoted\" (no escapes) or 'quoted' values; "
                          f"this one is not: {raw[:60]!r}")
    return plain


def service_environment(text: str, source: Path, service: str = SERVICE) -> dict[str, str]:
    """The `environment:` mapping of a service, values as written (their ${...} references unresolved)."""
    lines = text.splitlines()
    position = {"services": None, "service": None, "environment": None}
    for number, line in enumerate(lines):
        if position["services"] is None:
            if line.rstrip() == "services:":
                position["services"] = number
        elif line.strip() and not line.lstrip().startswith("#") and _indent(line) == 0:
            break
        elif position["service"] is None:
            if line.rstrip() == f"  {service}:":
                position["service"] = number
        elif line.strip() and not line.lstrip().startswith("#") and _indent(line) <= 2:
            break
        elif line.rstrip() == "    environment:":
            position["environment"] = number
            break
    if position["environment"] is None:
        raise RunAppError(f"{source}: no `environment:` mapping under services: {service}:, which run-app reads")
    values: dict[str, str] = {}
    for number in range(position["environment"] + 1, len(lines)):
        line = lines[number]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _indent(line) <= 4:
            break
        where = f"{source}:{number + 1}"
        match = _ENTRY.match(line)
        if match is None or match.group(2) is None:
            raise RunAppError(f"{where}: run-app reads the {service} service's environment as `NAME: value` lines; "
                              "this line is not one")
        values[match.group(1)] = _scalar(match.group(2), where)
    return values


def interpolate(template: str, values: Mapping[str, str], where: str) -> str:
    """``template`` with its references resolved from ``values``, as Compose resolves them."""

    def resolve(match: re.Match) -> str:
        escaped, braced, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = braced or bare
        value = values.get(name)
        missing = value is None or (operator is not None and operator.startswith(":") and value == "")
        if operator in ("-", ":-"):
            return argument if missing else value
        if operator in ("?", ":?"):
            if missing:
                raise RunAppError(f"{name}: {argument or f'required variable {name} is missing a value'}")
            return value
        return value or ""

    resolved, end = [], 0
    for match in _REFERENCE.finditer(template):
        resolved.append(template[end:match.start()])
        resolved.append(resolve(match))
        end = match.end()
    rest = template[end:]
    if "$" in rest or any("$" in piece for piece in resolved[::2]):
        raise RunAppError(f"{where}: a $ that is no reference Compose and run-app both read: {template!r}")
    return "".join(resolved) + rest


def container_settings(environ: Mapping[str, str], env_file: Path = ENV_FILE,
                       compose_file: Path = COMPOSE_FILE) -> dict[str, str]:
    """What the app container gets from .env through the compose file, the environment first."""
    try:
        values = compose_values(environ, env_file)
    except EnvFileError as error:  # names the line, never its value
        raise RunAppError(str(error)) from None
    templates = service_environment(compose_file.read_text(encoding="utf-8"), compose_file)
    settings = {}
    for name, template in templates.items():
        try:
            settings[name] = interpolate(template, values, f"{compose_file}, {SERVICE} service, {name}")
        except RunAppError as error:
            raise RunAppError(f"{env_file} (or the environment) does not give the {SERVICE} container what "
                              f"{compose_file.name} requires: {error}") from None
    return settings


def secret_key(var_dir: Path = VAR_DIR) -> str:
    """run-app's own key without .env: var/secret_key, made 0600 if missing or empty (and made 0600 if it was not)."""
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.read_text(encoding="utf-8").strip():
        path.unlink()
    write_private(path, secrets.token_urlsafe(50) + "\n")
    path.chmod(0o600)
    return path.read_text(encoding="utf-8").rstrip("\n")


def run_app_environment(environ: Mapping[str, str], env_file: Path = ENV_FILE, compose_file: Path = COMPOSE_FILE,
                        var_dir: Path = VAR_DIR) -> dict[str, str]:
    """The app's environment under make run-app: the process's, the container's settings, run-app's paths."""
    if env_file.is_file():
        settings = container_settings(environ, env_file, compose_file)
    else:
        settings = {"DJANGO_SECRET_KEY": secret_key(var_dir)}
    local = {
        "DJANGO_LOG_DIR": str(var_dir / "log"),
        "DJANGO_SQLITE_PATH": str(var_dir / "db.sqlite3"),
        "DJANGO_STATIC_ROOT": str(var_dir / "static"),
        "DJANGO_SECURE_COOKIES": "false",
        "GUNICORN_BIND": environ.get("GUNICORN_BIND") or DEFAULT_BIND,
    }
    return {**environ, **settings, **local}


def main(argv: list[str]) -> int:
    quiet = argv[:1] == ["--quiet"]
    command = argv[1:] if quiet else argv
    if not command or command[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        environment = run_app_environment(os.environ)
    except RunAppError as error:
        print(f"error: make run-app: {error}", file=sys.stderr)
        return 2
    if not quiet and ENV_FILE.is_file():
        print(f"make run-app: the app container's settings from {ENV_FILE.name} ({COMPOSE_FILE.name}, service "
              f"{SERVICE}; the environment first): TIME_ZONE={environment.get('TIME_ZONE', '')}, "
              f"DEMO_USERNAME={environment.get('DEMO_USERNAME', '')}", file=sys.stderr)
    os.execvpe(command[0], command, environment)
    return 127  # not reached: execvpe replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
