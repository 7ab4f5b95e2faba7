"""Inside the running containers (`docker compose`, as make runs it): what no API of the stack shows.

No secret of .env on any process's command line, which the host's `ps` shows to every user; Logstash
runs both pipelines of pipelines.yml with their pinned workers, and its healthcheck passes; every
Elasticsearch node may open the 65535 files its bootstrap check asks for.
"""

import json
import os

import pytest

from drill.settings import stack_values
from stack_models.logstash_settings import read_pipelines
from tests.integration.compose_cli import compose_output, compose_result
from tests.integration.conftest import ENV_FILE
from tests.support.config_files import flat_yaml
from tests.support.env_file import example_markers
from tests.support.paths import LOGSTASH_DIR

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LOGSTASH_SERVICE = "logstash"
LOGSTASH_YML = LOGSTASH_DIR / "config" / "logstash.yml"
# Logstash's API inside its container (api.http.port's first port; the port is not published to the host).
LOGSTASH_API = "http://localhost:9600"
# Elasticsearch's FileDescriptorCheck (server/.../bootstrap/BootstrapChecks.java): this(65535).
NOFILE_LIMIT = 65535


def secrets_of_env() -> dict[str, str]:
    """Each variable .env.example marks [secret], with the value the stack got (environment, else .env)."""
    values = stack_values(os.environ, ENV_FILE)
    names = sorted(name for name, kind in example_markers().items() if kind == "secret")
    missing = [name for name in names if not values.get(name)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set in the environment or .env: the stack cannot have started with them")
    return {name: values[name] for name in names}


def running_services() -> list[str]:
    return compose_output("ps", "--services", "--status", "running").split()


def test_no_secret_is_on_any_process_command_line(live_stack):
    secrets = secrets_of_env()
    services = running_services()
    assert LOGSTASH_SERVICE in services, f"Compose lists no running {LOGSTASH_SERVICE}: {services}"
    found = []
    for service in services:
        # One service at a time: its CMD column is each process's whole command line, as the daemon's
        # `ps -ef` prints it (docker/compose cmd/compose/top.go; moby daemon/top_unix.go).
        table = compose_output("top", service)
        lines = [line for line in table.splitlines() if line.strip()]
        assert len(lines) >= 2 and "CMD" in lines[0], f"`docker compose top {service}` lists no process:\n{table}"
        for line in lines[1:]:
            named = [name for name, value in secrets.items() if value in line]
            if named:
                shown = line
                for name in named:
                    shown = shown.replace(secrets[name], f"<{name}>")
                found.append(f"{service}: {shown}")
    assert found == [], "secrets of .env on a command line (values replaced by their names):\n" + "\n".join(found)


def logstash_service_config() -> dict:
    """The running profile's logstash service, as Compose merged it."""
    return json.loads(compose_output("config", "--format", "json"))["services"][LOGSTASH_SERVICE]


def test_logstash_runs_each_pipeline_of_pipelines_yml_with_its_workers(live_stack):
    pipelines = read_pipelines()
    node_default = flat_yaml(LOGSTASH_YML)["dead_letter_queue.enable"] == "true"
    # GET /_node/pipelines: {"pipelines": {id: {"workers", "dead_letter_queue_enabled", ...}}}
    # (logstash-core lib/logstash/api/commands/node.rb, Node#pipeline; docs/static/spec/openapi/logstash-api.yaml).
    answer = compose_output("exec", "-T", LOGSTASH_SERVICE, "curl", "-fsS", "--max-time", "8",
                            f"{LOGSTASH_API}/_node/pipelines")
    running = json.loads(answer)["pipelines"]
    assert sorted(running) == sorted(pipelines), f"pipelines running: {sorted(running)}"
    for pipeline_id, settings in pipelines.items():
        expected = {
            "workers": settings["pipeline.workers"],
            "dead_letter_queue_enabled": settings.get("dead_letter_queue.enable", node_default),
        }
        assert {key: running[pipeline_id].get(key) for key in expected} == expected, pipeline_id


def test_the_logstash_healthcheck_passes_in_its_container(live_stack):
    kind, *command = logstash_service_config()["healthcheck"]["test"]
    assert kind == "CMD", f"the logstash healthcheck is {kind}, this test runs a CMD as it is: {command}"
    result = compose_result("exec", "-T", LOGSTASH_SERVICE, *command)
    assert result.returncode == 0, (
        f"{' '.join(command)} exited with {result.returncode}: {result.stdout.strip()} {result.stderr.strip()}"
    )
    live_stack.note(f"logstash healthcheck: {result.stdout.strip()}")


def test_every_elasticsearch_node_may_open_65535_files(live_stack):
    # process.max_file_descriptors is the limit the node runs with, the figure the bootstrap check reads
    # (ProcessProbe.getMaxFileDescriptorCount; nodes stats, rest-api-spec nodes.stats.json, metric "process").
    nodes = live_stack.es.nodes.stats(metric="process")["nodes"].values()
    limits = {node["name"]: node["process"]["max_file_descriptors"] for node in nodes}
    expected_nodes = 3 if live_stack.settings.access.profile.name == "cluster" else 1
    assert len(limits) == expected_nodes, limits
    assert set(limits.values()) == {NOFILE_LIMIT}, limits
