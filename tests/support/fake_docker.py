"""A fake of the Docker ENGINE's answers, as a `docker` command on PATH: this machine has no engine.

Only what needs an engine is faked; `docker compose ... config ...` runs the real Compose binary
(FAKE_ENGINE_COMPOSE), so the plan is Compose's own. The engine's state is a JSON file
(FAKE_ENGINE_STATE): {"containers": {service: {"id" (64 hex digits), "started", "running", and for ps
--format json "image", "created" (Unix time), "state", "health", "exit_code", "restarts", "crash_looping"}},
"after_up": {...}, "up": "hangs" | exit status, "logs": {service: ["<RFC 3339 time> <line>", ...]}}, and
every call that changes it is appended to calls.jsonl beside it. Answers follow docker/compose
cmd/compose/ps.go (--services, -q, --status, --format json: one object a line from 2.21, ids cut to 12
characters unless --no-trunc), cmd/formatter/container.go (that object), remove.go (rm of named
services), logs (--since, --tail); docker/cli's cli/command/inspect/inspector.go (an id or a unique
prefix of one; an unknown one fails the command after the others' lines). A crash-looping container has
restarted once more at each inspect: faster than Elasticsearch's real loop (a JVM start each time), the
same answer. Any other command fails with exit 97, so a recipe cannot rely on what this fake does not know.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# Compose's global options that take a value (docker/compose cmd/compose/compose.go).
VALUED_GLOBALS = {"-f", "--file", "--profile", "--env-file", "-p", "--project-name", "--project-directory",
                  "--ansi", "--progress", "--parallel"}
UNHANDLED = 97
# Longer than any test waits: a hang is a hang.
HANG_SECONDS = 600
# The argument by which the fake runs itself as the compose plugin of a hanging `up`.
PLUGIN_WAITS = "--fake-compose-plugin-waits"


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


def go_time(unix: int) -> str:
    """time.Unix(unix, 0).String() in UTC, as Go prints it."""
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def ps_json(project: str, service: str, container: dict, no_trunc: bool) -> dict:
    """One container as `ps --format json` writes it, with Compose 2.30 to 5.0's keys and types: each
    method of cmd/formatter/container.go's ContainerContext that takes nothing and returns one value
    (docker/cli cli/command/formatter/reflect.go, marshalMap). Compose 5.5 adds Engine."""
    name = f"{project}-{service}-1"
    state = container.get("state", "running" if container["running"] else "exited")
    health = container.get("health", "")
    return {
        # stringid.TruncateID unless --no-trunc
        "ID": container["id"] if no_trunc else container["id"][:12],
        "Name": name, "Names": name, "Service": service, "Project": project,
        "Image": container.get("image", ""), "Command": json.dumps("/entrypoint.sh"),  # strconv.Quote
        "CreatedAt": go_time(container.get("created", 0)), "RunningFor": "2 minutes ago",
        "ExitCode": container.get("exit_code", 0), "State": state,
        "Status": f"Up 2 minutes ({health})" if state == "running" and health else state,
        "Health": health, "Publishers": None, "Ports": "",
        "Labels": f"com.docker.compose.project={project},com.docker.compose.service={service}",
        "Mounts": "", "LocalVolumes": "0", "Networks": f"{project}_default", "Size": "0B",
    }


def plugin_waits() -> int:
    """The compose plugin's `up` waiting on a crash loop: it stops on SIGINT, as on Ctrl-C."""
    try:
        time.sleep(HANG_SECONDS)
    except KeyboardInterrupt:
        Engine(Path(os.environ["FAKE_ENGINE_STATE"])).record("plugin", "SIGINT")
        return 130
    return 0


def cli_runs_waiting_plugin() -> int:
    """The docker CLI running that plugin as its child, in its process group. With its stdout a terminal
    (make up in a shell) the CLI ignores SIGINT, leaving the group to deliver it (docker/cli
    cmd/docker/docker.go, tryPluginRun); with a pipe it would forward it: this fake is the harsher one."""
    plugin = subprocess.Popen([sys.executable, __file__, PLUGIN_WAITS])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # after the start: the plugin must not inherit it
    return plugin.wait()


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
        if subcommand == "ps" and rest in (["--all", "--format", "json"], ["--all", "--no-trunc", "--format", "json"]):
            for name, container in containers.items():
                print(json.dumps(ps_json("project", name, container, "--no-trunc" in rest)))
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
                    return cli_runs_waiting_plugin()
                return int(self.state.get("up", 0))
            elif subcommand == "restart":
                for name in rest:
                    containers[name]["started"] = "9999-12-31T00:00:00Z"
            self.save()
            return 0
        print(f"fake engine: unhandled: docker compose {' '.join(args)}", file=sys.stderr)
        return UNHANDLED

    def inspect(self, args: list[str]) -> int:
        if args[:2] not in (["-f", "{{.State.StartedAt}}"], ["-f", "{{.Id}} {{.RestartCount}}"]):
            print(f"fake engine: unhandled: docker inspect {' '.join(args)}", file=sys.stderr)
            return UNHANDLED
        unknown = []
        for reference in args[2:]:
            # The engine takes an id or a prefix of exactly one.
            found = [container for container in self.state["containers"].values() if container["id"].startswith(reference)]
            if len(found) != 1:
                unknown.append(reference)
                continue
            [container] = found
            if args[1] == "{{.State.StartedAt}}":
                print(container["started"])
            else:
                container["restarts"] = container.get("restarts", 0) + bool(container.get("crash_looping"))
                print(container["id"], container["restarts"])
        self.save()
        if unknown:
            print("\n".join(f"Error: No such object: {reference}" for reference in unknown), file=sys.stderr)
            return 1
        return 0


def main(args: list[str]) -> int:
    if args == [PLUGIN_WAITS]:
        return plugin_waits()
    engine = Engine(Path(os.environ["FAKE_ENGINE_STATE"]))
    if args[:1] == ["compose"]:
        return engine.compose(args[1:])
    if args[:1] == ["inspect"]:
        return engine.inspect(args[1:])
    print(f"fake engine: unhandled: docker {' '.join(args)}", file=sys.stderr)
    return UNHANDLED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
