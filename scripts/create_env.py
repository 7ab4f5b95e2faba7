#!/usr/bin/env python3
"""Create .env from .env.example with fresh random secrets, or check an existing .env.

- .env missing: copy .env.example, give every [secret] variable a new random value, write
  the file with mode 0600.
- .env present: never change it; fail with a clear message when a variable that
  .env.example marks [required] or [secret] is missing or empty, or a secret is a
  placeholder such as "changeme" or too short.

The secrets are never printed, only where they are. Standard library only, so it runs with
the system's Python (`make env` checks it is the version pyproject.toml requires) before the
project's venv exists.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import string
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "app"))
from config.time_zones import time_zone_problem  # noqa: E402  (standard library only, shared with the app)

ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
MARKER = re.compile(r"\[(secret|required)(?: (\d+)\+)?\]\s*$")
# Letters and digits only: a value starting with "-" would be read as an option by
# argparse (`generate_traffic --password ...`) and curl, and nothing here needs quoting.
SECRET_ALPHABET = string.ascii_letters + string.digits
GENERATED_LENGTH = 32
MIN_SECRET_LENGTH = 16
# Compared after lower-casing and dropping "-", "_" and spaces.
PLACEHOLDERS = frozenset({"changeme", "password", "secret", "xxx", "todo"})
RESTART_HINT = (
    "If the stack has already run with the old value, `make clean` is needed too: "
    "Elasticsearch keeps the first `elastic` password in its data volume."
)


class EnvFileError(Exception):
    """A problem the user must fix in .env or .env.example; the message says how."""


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str | None  # "secret", "required" or None (optional)
    min_length: int


def parse_example(text: str, source: Path) -> list[Variable]:
    """The variables of .env.example with the marker found in the comment block above each."""
    variables: list[Variable] = []
    seen: set[str] = set()
    comments: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            comments = []
            continue
        if stripped.startswith("#"):
            comments.append(stripped)
            continue
        match = ASSIGNMENT.match(stripped)
        if match is None:
            raise EnvFileError(f"{source}:{number}: expected VARIABLE=value, found {stripped[:40]!r}")
        name = match.group(1)
        if name in seen:
            raise EnvFileError(f"{source}:{number}: {name} is defined twice")
        seen.add(name)
        markers = [found for found in (MARKER.search(comment) for comment in comments) if found]
        if len(markers) > 1:
            raise EnvFileError(f"{source}:{number}: {name} has more than one [secret]/[required] marker")
        if markers:
            kind, minimum = markers[0].group(1), markers[0].group(2)
            if kind == "required" and minimum:
                raise EnvFileError(f"{source}:{number}: a length applies to [secret N+] only, not to {name}")
            min_length = int(minimum) if minimum else (MIN_SECRET_LENGTH if kind == "secret" else 1)
            variables.append(Variable(name, kind, min_length))
        else:
            variables.append(Variable(name, None, 0))
        comments = []
    return variables


def parse_env(text: str, source: Path) -> dict[str, str]:
    """Values of a .env file, read the way Compose reads the simple cases (quotes, inline comments)."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = ASSIGNMENT.match(stripped)
        if match is None:
            raise EnvFileError(f"{source}:{number}: expected VARIABLE=value (the value is not shown)")
        name, raw = match.group(1), match.group(2).strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            value = raw[1:-1]
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        values[name] = value
    return values


def new_secret(min_length: int) -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(max(GENERATED_LENGTH, min_length)))


def render_env(example_text: str, variables: list[Variable]) -> str:
    """.env.example with each secret's empty value replaced by a fresh random one."""
    secret_lengths = {variable.name: variable.min_length for variable in variables if variable.kind == "secret"}
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Created by scripts/create_env.py from .env.example on {created}.\n",
        "# It holds this stack's passwords and keys: keep it private (mode 0600), never commit it.\n",
        "# .env.example explains the [secret] and [required] markers.\n",
    ]
    body = example_text.splitlines(keepends=True)
    # The example's opening comment block tells readers not to use it as it is; drop it here.
    while body and body[0].startswith("#"):
        body.pop(0)
    for line in body:
        match = ASSIGNMENT.match(line.strip())
        if match and match.group(1) in secret_lengths:
            name = match.group(1)
            line = f"{name}={new_secret(secret_lengths[name])}\n"
        lines.append(line)
    return "".join(lines)


def problems_in(values: dict[str, str], variables: list[Variable]) -> list[str]:
    """What is wrong with an existing .env, one sentence per variable; never the values."""
    problems = []
    if values.get("TIME_ZONE") and (zone_problem := time_zone_problem(values["TIME_ZONE"])):
        problems.append(zone_problem)
    for variable in variables:
        if variable.kind is None:
            continue
        name = variable.name
        if name not in values:
            what = "a random value" if variable.kind == "secret" else "the value from .env.example"
            problems.append(f"{name} is missing: add it with {what}.")
            continue
        value = values[name]
        if not value:
            problems.append(f"{name} is empty: set it.")
        elif variable.kind == "secret" and re.sub(r"[-_\s]", "", value.lower()) in PLACEHOLDERS:
            problems.append(f'{name} is a placeholder such as "changeme": set a random value.')
        elif len(value) < variable.min_length:
            problems.append(f"{name} is shorter than {variable.min_length} characters: set a longer random value.")
    return problems


def write_private(path: Path, content: str) -> bool:
    """Create path with mode 0600 and content; False if it already exists (never overwritten)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(descriptor, 0o600)  # os.open's mode is reduced by the umask, never widened
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink()  # no half-written .env that a later run would take as complete
        raise
    return True


def check_existing(env_path: Path, variables: list[Variable]) -> None:
    problems = problems_in(parse_env(env_path.read_text(encoding="utf-8"), env_path), variables)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        hint = 'python3 -c "import secrets; print(secrets.token_hex(32))"'
        raise EnvFileError(
            f"{env_path} needs fixing; it was left unchanged:\n{listing}\n"
            f"Fix it by hand (a random value: {hint}), or move it away and run `make env` "
            f"for a new one. {RESTART_HINT}"
        )
    if env_path.stat().st_mode & 0o077:
        print(f"warning: {env_path} is readable by other users; run: chmod 600 {env_path}", file=sys.stderr)
    print(f"{env_path} has every required setting; left unchanged.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, default=REPO_ROOT / ".env", help="the .env to create or check")
    parser.add_argument("--example", type=Path, default=REPO_ROOT / ".env.example", help="the documented template")
    args = parser.parse_args(argv)
    env_path, example_path = args.env_file.resolve(), args.example.resolve()
    try:
        try:
            example_text = example_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise EnvFileError(f"{example_path} does not exist: it documents every variable .env needs.") from None
        variables = parse_example(example_text, example_path)
        if not any(variable.kind == "secret" for variable in variables):
            raise EnvFileError(f"{example_path} marks no variable [secret]: is it the right file?")
        if env_path.exists() or not write_private(env_path, render_env(example_text, variables)):
            check_existing(env_path, variables)
        else:
            print(f"Created {env_path} (mode 0600) with new random passwords and keys.")
        print(f"Credentials are in {env_path}: Kibana user `elastic` with ELASTIC_PASSWORD; "
              f"app demo user DEMO_USERNAME with DEMO_PASSWORD.")
    except EnvFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
