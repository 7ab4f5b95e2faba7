"""A fake of the Docker ENGINE's answers, as a `docker` command on PATH: this machine has no engine.

Only what needs an engine is faked; `docker compose ... config ...` runs the real Compose binary
(FAKE_ENGINE_COMPOSE), so the plan is Compose's own. The engine's state is a JSON file
(FAKE_ENGINE_STATE): {"containers": {service: {"id", "started", "running", and for ps --format json
"image", "created" (Unix time), "state", "health", "exit_code", "restarts", "crash_looping"}}, "after_up": {...},
"up": "hangs" | exit status, "logs": {service: ["<RFC 3339 time> <line>", ...]}}, and every call
that changes it is appended to calls.jsonl beside it. Answers follow docker/compose cmd/compose/ps.go
(--services, -q, --status, --format json: one object a line from 2.21), remove.go (rm of named services),
logs (--since, --tail); docker/cli's inspect (an unknown id fails). A crash-looping container has
restarted once more at each inspect: faster than Elasticsearch's real loop (a JVM start each time), the
same answer. Any other command fails with exit 97, so a recipe cannot rely on what this fake does not know.
"""

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

# Compose's global options that take a value (docker/compose cmd/compose/compose.go).
VALUED_GLOBALS = {"-f", "--file", "--profile", "--env-file", "-p", "--project-name", "--project-directory",
                  "--ansi", "--progress", "--parallel"}
UNHANDLED = 97
# Longer than any test waits: a hang is a hang.
HANG_SECONDS = 600


def write_fake_docker(directory: Path) -> Path:
    """A `docker` command in directory that runs this module; put directory first on PATH."""
    command = directory / "docker"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n', encoding="utf-8")
    command.chmod(0o755)
    return command


def split_globals(args: list[str]) -> tuple[list[str], str, list[str]]:
    """Compose's arguments as (global options, subcommand, the subcommand's arguments)."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in VALUED_GLOBALS else 1
    return args[:index], args[index], args[index + 1:]


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as Docker writes it (nanoseconds, Z), to the microsecond."""
    main, _, fraction = text.removesuffix("Z").partition(".")
    return datetime.fromisoformat(f"{main}.{(fraction or '0')[:6]:0<6}+00:00")


class Engine:
    def __init__(self, state_file: Path):
        self.state_file = state_file
        self.state = json.loads(state_file.read_text(encoding="utf-8"))

    def record(self, *call: str) -> None:
        with (self.state_file.parent / "calls.jsonl").open("a", encoding="utf-8") as calls:
            calls.write(json.dumps(list(call)) + "\n")

    def save(self) -> None:
        self.state_file.write_text(json.dumps(self.state), encoding="utf-8")

    def compose(self, args: list[str]) -> int:
        options, subcommand, rest = split_globals(args)
        if subcommand == "config":
            return subprocess.run([os.environ["FAKE_ENGINE_COMPOSE"], *args], check=False).returncode
        containers = self.state["containers"]
        if subcommand == "ps" and rest[:2] == ["--all", "--services"]:
            named = rest[2:]
            known = subprocess.run([os.environ["FAKE_ENGINE_COMPOSE"], *options, "config", "--services"],
                                   capture_output=True, text=True, check=True).stdout.split()
            if unknown := [name for name in named if name not in known]:
                print(f"no such service: {unknown[0]}", file=sys.stderr)
                return 1
            print("\n".join(name for name in named if name in containers))
            return 0
        if subcommand == "ps" and rest == ["--all", "--format", "json"]:
            for name, container in containers.items():
                print(json.dumps({"ID": container["id"], "Service": name, "Image": container.get("image", ""),
                                  "Created": container.get("created", 0),
                                  "State": container.get("state", "running" if container["running"] else "exited"),
                                  "Health": container.get("health", ""), "ExitCode": container.get("exit_code", 0)}))
            return 0
        if subcommand == "ps" and rest[0] == "-q":
            [service] = [word for word in rest[1:] if not word.startswith("-") and word != "running"]
            container = containers.get(service)
            if container and container["running"]:
                print(container["id"])
            return 0
        if subcommand == "logs":
            lines = self.state.get("logs", {}).get(rest[-1], [])
            if "--since" in rest:
                since = parse_time(rest[rest.index("--since") + 1])
                lines = [line for line in lines if parse_time(line.split(" ", 1)[0]) >= since]
            if "--tail" in rest:
                lines = lines[len(lines) - int(rest[rest.index("--tail") + 1]):]
            for line in lines:
                print(line if "--timestamps" in rest else line.split(" ", 1)[1])
            return 0
        if subcommand in ("rm", "up", "restart", "cp"):
            self.record(subcommand, *rest)
            if subcommand == "rm":
                for name in rest:
                    containers.pop(name, None)
            elif subcommand == "up":
                containers.update(self.state.get("after_up", {}))
                self.save()
                # A wait for a crash loop: for good before Compose 2.30, for all of UP_TIMEOUT after.
                if self.state.get("up") == "hangs":
                    try:
                        time.sleep(HANG_SECONDS)
                    except KeyboardInterrupt:  # Compose stops waiting on SIGINT, as on Ctrl-C
                        return 130
                return int(self.state.get("up", 0))
            elif subcommand == "restart":
                for name in rest:
                    containers[name]["started"] = "9999-12-31T00:00:00Z"
            self.save()
            return 0
        print(f"fake engine: unhandled: docker compose {' '.join(args)}", file=sys.stderr)
        return UNHANDLED

    def inspect(self, args: list[str]) -> int:
        by_id = {container["id"]: container for container in self.state["containers"].values()}
        if unknown := [container_id for container_id in args[2:] if container_id not in by_id]:
            print(f"Error: No such object: {unknown[0]}", file=sys.stderr)
            return 1
        for container_id in args[2:]:
            container = by_id[container_id]
            if args[:2] == ["-f", "{{.State.StartedAt}}"]:
                print(container["started"])
            elif args[:2] == ["-f", "{{.Id}} {{.RestartCount}}"]:
                container["restarts"] = container.get("restarts", 0) + bool(container.get("crash_looping"))
                print(container_id, container["restarts"])
            else:
                print(f"fake engine: unhandled: docker inspect {' '.join(args)}", file=sys.stderr)
                return UNHANDLED
        self.save()
        return 0


def main(args: list[str]) -> int:
    engine = Engine(Path(os.environ["FAKE_ENGINE_STATE"]))
    if args[:1] == ["compose"]:
        return engine.compose(args[1:])
    if args[:1] == ["inspect"]:
        return engine.inspect(args[1:])
    print(f"fake engine: unhandled: docker {' '.join(args)}", file=sys.stderr)
    return UNHANDLED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
