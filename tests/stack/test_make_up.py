"""What `make up` runs, from `make -n up`: the commands are run here with the real Compose binary for
everything that needs no engine (`config`), and a fake of the Docker engine (tests/support/fake_docker.py)
for what does (which containers exist, what they logged, when they started).

What these tests cannot see: the engine itself. That Docker frees a port when Compose removes the
container, that `up` then creates what the plan says, containers started by hand (`docker compose run`)
or by another project on the same ports.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.compose import (
    ALL_COMPOSE_FILES,
    COMBINATIONS,
    COMPOSE_TIMEOUT_SECONDS,
    DUMMY_SECRETS,
    combination_services,
    compose_binary,
    compose_file_value,
    dry_run_commands,
    env_with,
    make_dry_run,
    run_selecting,
)
from tests.support.fake_docker import write_fake_docker
from tests.support.paths import APP_DIR, MAKEFILE, SCRIPTS_DIR

ONE_SHOTS = {"setup", "certs"}
# When the containers of the run before started (any time before this run's).
EARLIER = "2026-12-01T08:00:00.5Z"


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The compose files, the Makefile and scripts/ (with app/config, which create_env reads), as in a checkout."""
    directory = tmp_path / "checkout"
    directory.mkdir()
    for path in (*ALL_COMPOSE_FILES, MAKEFILE):
        shutil.copy(path, directory / path.name)
    shutil.copytree(SCRIPTS_DIR, directory / "scripts")
    shutil.copytree(APP_DIR / "config", directory / "app" / "config")
    return directory


def select(checkout: Path, combination: str, log_folder: Path) -> None:
    """.env with dummy secrets, selecting the combination as its COMPOSE_FILE line does."""
    lines = f"COMPOSE_FILE={compose_file_value(COMBINATIONS[combination])}\nOWN_APP_LOG_DIR={log_folder}\n"
    (checkout / ".env").write_text(env_with(DUMMY_SECRETS) + lines, encoding="utf-8")


def up_commands(checkout: Path, *variables: str) -> list[str]:
    return dry_run_commands(make_dry_run(checkout, "up", "COMPOSE=docker compose", f"PYTHON={sys.executable}", *variables))


def the_command(commands: list[str], fragment: str) -> str:
    [command] = [command for command in commands if fragment in command]
    return command


class FakeEngine:
    """The fake engine's state and the calls that changed it (tests/support/fake_docker.py)."""

    def __init__(self, directory: Path, home: Path):
        directory.mkdir()
        self.state_file = directory / "state.json"
        self.environment = {
            "HOME": str(home),
            "PATH": f"{write_fake_docker(directory).parent}:{os.environ['PATH']}",
            "FAKE_ENGINE_STATE": str(self.state_file),
            "FAKE_ENGINE_COMPOSE": str(compose_binary()),
        }

    def holds(self, **state) -> None:
        self.state_file.write_text(json.dumps(state), encoding="utf-8")

    def run(self, command: str, checkout: Path) -> subprocess.CompletedProcess:
        """The command in bash; on a timeout its whole process group goes too (a fake `up` that hangs)."""
        with subprocess.Popen(["bash", "-c", command], cwd=checkout, env=self.environment, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True) as process:
            try:
                stdout, stderr = process.communicate(timeout=COMPOSE_TIMEOUT_SECONDS * 3)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def calls(self) -> list[list[str]]:
        calls = self.state_file.parent / "calls.jsonl"
        return [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()] if calls.exists() else []


@pytest.fixture
def engine(tmp_path, home) -> FakeEngine:
    return FakeEngine(tmp_path / "engine", home)


def container_id(name: str) -> str:
    """A container id as the engine makes them: 64 hex digits."""
    return hashlib.sha256(name.encode()).hexdigest()


def containers_of(combination: str) -> dict[str, dict]:
    """The containers `make up` left for a combination: one per service, the one-shots exited."""
    return {name: {"id": container_id(name), "started": EARLIER, "running": name not in ONE_SHOTS}
            for name in combination_services(combination)}


# --- item: switching profile or mode ----------------------------------------------------------------


def host_ports(config: dict) -> dict[str, str]:
    """Each published host port (address:port) and the service that publishes it."""
    return {f"{port['host_ip']}:{port['published']}": name
            for name, service in config["services"].items() for port in service.get("ports", [])}


@pytest.mark.parametrize("after", list(COMBINATIONS))
@pytest.mark.parametrize("before", list(COMBINATIONS))
def test_a_switch_removes_exactly_the_containers_the_new_combination_does_not_run(
    checkout, engine, log_folder, rendered, before, after
):
    # The engine holds what `make up` left under `before`; .env now selects `after`.
    engine.holds(containers=containers_of(before))
    select(checkout, after, log_folder)
    switch = the_command(up_commands(checkout), "rm --stop --force")
    result = engine.run(switch, checkout)
    assert result.returncode == 0, f"{switch}\n{result.stderr}"
    gone = combination_services(before) - combination_services(after)
    removals = [call for call in engine.calls() if call[0] == "rm"]
    # Stopped and removed, by name, never with their volumes (no -v).
    assert [(call[:3], set(call[3:])) for call in removals] == ([(["rm", "--stop", "--force"], gone)] if gone else [])
    # What is left is what `after` runs, so no container of `before` keeps a port another service of `after`
    # publishes (default -> cluster: the single node kept 127.0.0.1:9200, which es01 publishes).
    left = combination_services(before) - gone
    wanted = host_ports(rendered[after])
    held = {port: name for port, name in host_ports(rendered[before]).items() if name in left}
    assert {port: name for port, name in held.items() if wanted.get(port, name) != name} == {}


def test_the_switch_comes_after_the_checks_and_before_up(checkout, log_folder):
    select(checkout, "default", log_folder)
    commands = up_commands(checkout)
    position = {fragment: next(index for index, command in enumerate(commands) if fragment in command)
                for fragment in ("check_mount_permissions.py", "rm --stop --force", "up -d --build --wait")}
    assert list(position.values()) == sorted(position.values()), commands


# --- item: restarts after renewed certificates -----------------------------------------------------


def service_hashes(home: Path, env_file: Path, combination: str) -> dict[str, str]:
    """Compose's config hash of each service, the label by which `up` decides to recreate a container."""
    result = run_selecting(home, env_file, COMBINATIONS[combination], "config", "--hash", "*")
    assert result.returncode == 0, result.stderr
    return dict(line.split() for line in result.stdout.splitlines())


def docker_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(
    "before, after, renewed, restarted",
    [
        # The first tls run after a default one: certs writes the CA and certificates, and `up` recreates
        # Kibana and Logstash (their config changed), which start with them.
        ("default", "tls", True, set()),
        ("default+own-app", "cluster+own-app", True, set()),
        # A renewal under an unchanged profile: both were running with the old files.
        ("tls", "tls", True, {"kibana", "logstash"}),
        ("cluster", "cluster", True, {"kibana", "logstash"}),
        # Own-app mode changes Logstash's mounts only: `up` recreates it, Kibana keeps running.
        ("tls", "tls+own-app", True, {"kibana"}),
        ("tls", "tls", False, set()),
    ],
)
def test_only_containers_started_before_the_certificates_were_written_restart(
    checkout, engine, home, env_file, log_folder, before, after, renewed, restarted
):
    now = datetime.now(UTC)
    # The engine after `up`: Compose recreates a service whose config hash changed (or that is new), the
    # rest keep their container; the hashes are the real binary's.
    old, new = service_hashes(home, env_file, before), service_hashes(home, env_file, after)
    recreated = {name for name in new if old.get(name) != new[name]}
    after_up = {name: {**container, "started": docker_time(now + timedelta(minutes=2))}
                for name, container in containers_of(after).items() if name in recreated}
    written = f"{docker_time(now + timedelta(minutes=1))} elasticsearch, kibana: generated, because the CA was generated"
    engine.holds(containers=containers_of(before), after_up=after_up,
                 logs={"certs": [written] if renewed else []})
    select(checkout, after, log_folder)
    commands = up_commands(checkout)
    first = commands.index(the_command(commands, "> var/.up-started"))
    last = commands.index(the_command(commands, "Certificates renewed: restarting"))
    for command in commands[first:last + 1]:
        result = engine.run(command, checkout)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
    calls = engine.calls()
    assert [set(call[1:]) for call in calls if call[0] == "restart"] == ([restarted] if restarted else [])
    assert sum(call[0] == "up" for call in calls) == (2 if restarted else 1)


# --- item: a service that keeps restarting -------------------------------------------------------

ELASTICSEARCH_LOG = [
    "2026-12-07T21:00:01Z {\"message\":\"bootstrap checks failed\"}",
    "2026-12-07T21:00:02Z {\"message\":\"bootstrap check failure [1] of [1]: max virtual memory areas "
    "vm.max_map_count [65530] is too low, increase to at least [262144]\"}",
]
# The causes the message names, each in words a reader would search for.
TRIGGERS = ("heap (ES_HEAP) is not below its memory limit (ES_MEM_LIMIT)", "elasticsearch/config/elasticsearch.yml",
            "data volume was written by a newer Elasticsearch", "bootstrap check failed")


def waiting_stack(rendered: dict, **elasticsearch) -> dict[str, dict]:
    """The default profile while `up` waits: Elasticsearch as given, Kibana and the rest not started yet."""
    services = rendered["default"]["services"]
    containers = {name: {**container, "state": "created", "running": False, "image": services[name].get("image", "")}
                  for name, container in containers_of("default").items()}
    containers["elasticsearch"].update(running=True, **elasticsearch)
    return containers


def run_up(engine: FakeEngine, checkout: Path, log_folder: Path) -> subprocess.CompletedProcess:
    select(checkout, "default", log_folder)
    return engine.run(the_command(up_commands(checkout), "up -d --build --wait"), checkout)


LOOPING = {"state": "running", "health": "starting", "crash_looping": True}


def test_a_crash_looping_elasticsearch_stops_make_up_with_its_last_log_lines_and_the_likely_causes(
    checkout, engine, log_folder, rendered
):
    # Created by this `up` (an id that was not there before it), Docker restarts it at each exit and
    # resets its health to "starting": `up` alone would wait on. Its clock says nothing: the engine's.
    before = waiting_stack(rendered, state="exited", exit_code=1)
    recreated = {**before["elasticsearch"], **LOOPING, "id": container_id("elasticsearch, recreated"), "created": 0}
    engine.holds(containers=before, after_up={"elasticsearch": recreated}, up="hangs",
                 logs={"elasticsearch": ELASTICSEARCH_LOG})
    started = time.monotonic()
    result = run_up(engine, checkout, log_folder)
    assert result.returncode != 0
    assert time.monotonic() - started < COMPOSE_TIMEOUT_SECONDS
    # The SIGINT reached the compose plugin, which the docker CLI leaves it to (tests/support/fake_docker.py).
    assert ["plugin", "SIGINT"] in engine.calls()
    assert "error: elasticsearch keeps restarting: make up stopped waiting" in result.stderr, result.stderr
    assert "vm.max_map_count [65530] is too low" in result.stderr
    assert all(trigger in result.stderr for trigger in TRIGGERS), result.stderr
    # Only the failing service is shown: the others waited.
    assert "\nkibana (" not in result.stderr and "\nelasticsearch (running, health starting" in result.stderr


def test_a_container_from_before_that_loops_is_left_to_up_timeout_then_shown_with_the_causes(
    checkout, engine, log_folder, rendered
):
    # Created before this make up: `up` may yet replace it (a fix in .env changes its config). Here up
    # fails on its own, as at UP_TIMEOUT.
    # Created "now" by the engine's clock, which may be ahead of this machine's: only its id tells.
    engine.holds(containers=waiting_stack(rendered, **LOOPING, created=int(time.time()) + 60), up=1,
                 logs={"elasticsearch": ELASTICSEARCH_LOG})
    result = run_up(engine, checkout, log_folder)
    assert result.returncode != 0
    assert "make up stopped waiting" not in result.stderr
    assert "vm.max_map_count [65530] is too low" in result.stderr
    assert all(trigger in result.stderr for trigger in TRIGGERS), result.stderr


def test_a_failed_up_shows_the_unhealthy_services_logs_and_names_elasticsearchs_causes_only_for_it(
    checkout, engine, log_folder, rendered
):
    containers = waiting_stack(rendered, state="running", health="healthy")
    containers["kibana"].update(state="running", running=True, health="unhealthy")
    engine.holds(containers=containers, up=1, logs={"kibana": ["2026-12-07T21:00:01Z Kibana server is not ready yet"]})
    result = run_up(engine, checkout, log_folder)
    assert result.returncode != 0
    assert "kibana (running, health unhealthy, restarted 0 times); its last 20 log lines:\n" \
           "    Kibana server is not ready yet" in result.stderr, result.stderr
    assert "make up failed: see the error above" in result.stderr
    assert "make up stopped waiting" not in result.stderr and not any(trigger in result.stderr for trigger in TRIGGERS)


def test_ctrl_c_in_makes_terminal_reaches_the_compose_plugin_of_up_in_its_own_process_group(
    checkout, engine, log_folder, rendered
):
    engine.holds(containers=waiting_stack(rendered, state="running", health="starting"), up="hangs")
    select(checkout, "default", log_folder)
    command = the_command(up_commands(checkout), "up -d --build --wait")
    # make's shell and compose_up.py in a group of their own, as the terminal's foreground job.
    with subprocess.Popen(["bash", "-c", command], cwd=checkout, env=engine.environment, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as make:
        try:
            deadline = time.monotonic() + COMPOSE_TIMEOUT_SECONDS
            while not any(call[0] == "up" for call in engine.calls()) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1)  # the CLI has started the plugin
            # Ctrl-C: the terminal signals its foreground group, not up's.
            os.killpg(make.pid, signal.SIGINT)
            _, stderr = make.communicate(timeout=COMPOSE_TIMEOUT_SECONDS)
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGKILL)
    assert ["plugin", "SIGINT"] in engine.calls(), stderr
    assert make.returncode != 0
    # Stopped by hand: no report of the services.
    assert "its last 20 log lines" not in stderr, stderr


def test_the_fake_engines_ps_json_has_composes_keys_and_types_with_ids_cut_unless_no_trunc(engine, rendered):
    # cmd/formatter/container.go's ContainerContext methods at docker/compose v2.30.0 to v5.0.0 (and
    # v2.40.3, the tests' binary); no Created (pkg/api's ContainerSummary has one, ps does not print it).
    keys = {"ID": str, "Name": str, "Names": str, "Service": str, "Project": str, "Image": str, "Command": str,
            "CreatedAt": str, "RunningFor": str, "ExitCode": int, "State": str, "Status": str, "Health": str,
            "Publishers": type(None), "Ports": str, "Labels": str, "Mounts": str, "LocalVolumes": str,
            "Networks": str, "Size": str}
    engine.holds(containers=waiting_stack(rendered, state="running", health="healthy"))
    ids = {}
    for no_trunc in ([], ["--no-trunc"]):
        listed = subprocess.run(["docker", "compose", "ps", "--all", *no_trunc, "--format", "json"], env=engine.environment,
                                capture_output=True, text=True, check=True).stdout
        lines = [json.loads(line) for line in listed.splitlines()]
        assert [{key: type(value) for key, value in line.items()} for line in lines] == [keys] * len(lines)
        ids[bool(no_trunc)] = {line["Service"]: line["ID"] for line in lines}
    assert ids[True]["elasticsearch"] == container_id("elasticsearch")
    assert ids[False]["elasticsearch"] == container_id("elasticsearch")[:12]


def test_a_successful_up_prints_nothing_of_its_own(checkout, engine, log_folder, rendered):
    engine.holds(containers=waiting_stack(rendered, state="running", health="healthy"), up=0)
    result = run_up(engine, checkout, log_folder)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


# --- item: Compose's own message when it cannot read the files --------------------------------------


def test_make_up_shows_composes_message_not_a_traceback_when_compose_cannot_read_the_files(
    checkout, engine, log_folder
):
    # Own-app mode without OWN_APP_LOG_DIR: docker-compose.own-app.yml's ${OWN_APP_LOG_DIR:?...} stops Compose.
    (checkout / ".env").write_text(
        env_with(DUMMY_SECRETS) + f"COMPOSE_FILE={compose_file_value(COMBINATIONS['default+own-app'])}\n",
        encoding="utf-8",
    )
    commands = up_commands(checkout)
    last = commands.index(the_command(commands, "check_mount_permissions.py"))
    engine.holds(containers={})
    # The commands up to the permission check that read the files, as make runs them: it stops at the first failure.
    for command in [command for command in commands[:last + 1] if " config " in command]:
        result = engine.run(command, checkout)
        if result.returncode != 0:
            break
    assert result.returncode != 0
    assert "OWN_APP_LOG_DIR is not set - set it in .env to your project's log folder" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
