"""docker-compose.yml, as the real Compose v2 parser reads it, keeps the stack contract.

The parser and its helpers are in tests/support/compose.py. The overlays' profiles are checked in
tests/stack/test_compose_profiles.py; own-app mode and what every combination keeps in
tests/stack/test_compose_own_app.py.
"""

import json
import os
import platform
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from provision.settings import DETECTION_VARIABLES
from tests.support.compose import (
    ALL_COMPOSE_FILES,
    COMPOSE_TIMEOUT_SECONDS,
    DUMMY_SECRETS,
    GIB,
    MIB,
    REQUIRED,
    SECRETS,
    as_config_check,
    compose_binary,
    compose_command_line,
    env_with,
    make_dry_run,
    mounts,
    render,
    run_compose,
)
from tests.support.config_files import flat_yaml
from tests.support.env_file import ELASTIC_VERSION, example_markers, example_values
from tests.support.paths import COMPOSE_FILE, ENV_EXAMPLE, REPO_ROOT

MAKEFILE = REPO_ROOT / "Makefile"
DOCKERFILES = (REPO_ROOT / "app" / "Dockerfile", REPO_ROOT / "setup" / "Dockerfile")

LONG_RUNNING = ("elasticsearch", "kibana", "logstash", "app", "logrotate")
# The asset folders setup reads (setup/provision/assets.py), each mounted on its own.
SETUP_ASSET_FOLDERS = {
    "elasticsearch": ("roles", "ilm_policies", "ingest_pipelines", "index_templates"),
    "kibana": ("saved_objects", "advanced_settings", "connectors", "rules"),
}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; not $${...},
# which Compose leaves to the container's shell.
REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def dummy_env(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("env") / "dummy.env"
    path.write_text(env_with(DUMMY_SECRETS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def config(home, dummy_env) -> dict:
    result = render(home, dummy_env)
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services(config) -> dict:
    return config["services"]


# --- the parser itself ---------------------------------------------------------------


def test_the_parser_is_the_compose_v2_binary_not_the_python_launcher(home):
    binary = compose_binary()
    with binary.open("rb") as handle:
        assert handle.read(2) != b"#!", f"{binary} is a script, not the Compose binary"
    result = run_compose(home, "version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Docker Compose version v2."), result.stdout


@pytest.mark.parametrize("system, machine", [("darwin", "arm64"), ("darwin", "x86_64"), ("linux", "aarch64"), ("win32", "AMD64")])
def test_compose_tests_skip_with_a_reason_where_the_binary_cannot_run(monkeypatch, system, machine):
    monkeypatch.setattr(sys, "platform", system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    with pytest.raises(pytest.skip.Exception, match="x86-64 Linux binary only"):
        compose_binary()


def test_the_raw_env_example_is_refused_for_its_empty_secrets(home):
    result = render(home, ENV_EXAMPLE)
    assert result.returncode != 0
    assert "required variable" in result.stderr and "is empty - run make env" in result.stderr, result.stderr
    assert any(f"required variable {name} is missing a value" in result.stderr for name in SECRETS), result.stderr


@pytest.mark.parametrize("name", REQUIRED)
def test_each_required_variable_missing_from_env_stops_compose_with_its_name(home, tmp_path, name):
    env_file = tmp_path / "incomplete.env"
    env_file.write_text(env_with(DUMMY_SECRETS, without=name), encoding="utf-8")
    result = render(home, env_file)
    assert result.returncode != 0
    assert f"required variable {name} is missing a value" in result.stderr, result.stderr


def test_an_unknown_key_is_rejected(home, dummy_env, tmp_path):
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "\n  kibana:\n" in text
    broken.write_text(text.replace("\n  kibana:\n", "\n  kibana:\n    bogus_setting: true\n", 1), encoding="utf-8")
    result = render(home, dummy_env, broken)
    assert result.returncode != 0
    assert "services.kibana additional properties 'bogus_setting' not allowed" in result.stderr, result.stderr


def test_an_unknown_depends_on_condition_is_rejected(home, dummy_env, tmp_path):
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "condition: service_completed_successfully" in text
    broken.write_text(text.replace("service_completed_successfully", "service_finished"), encoding="utf-8")
    result = render(home, dummy_env, broken)
    assert result.returncode != 0
    assert "services.logstash.depends_on.setup.condition value must be one of" in result.stderr, result.stderr


# --- images ---------------------------------------------------------------------------


def test_elastic_images_are_official_and_pinned_to_one_version(services):
    assert services["elasticsearch"]["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{ELASTIC_VERSION}"
    assert services["logstash"]["image"] == f"docker.elastic.co/logstash/logstash:{ELASTIC_VERSION}"
    assert services["kibana"]["image"] == f"docker.elastic.co/kibana/kibana:{ELASTIC_VERSION}"
    # ELASTIC_VERSION comes from .env.example (tests/support/env_file.py): an exact pin, never a range or tag.
    assert re.fullmatch(r"\d+\.\d+\.\d+", ELASTIC_VERSION), ELASTIC_VERSION


def test_built_images_come_from_their_folders_with_an_explicit_local_tag(services):
    for name, folder in (("app", "app"), ("setup", "setup")):
        service = services[name]
        assert service["build"]["context"] == str(REPO_ROOT / folder)
        assert service["pull_policy"] == "build", f"{name} must never be pulled from a registry"
        repository, _, tag = service["image"].rpartition(":")
        assert repository and tag and tag != "latest", service["image"]


def test_the_app_image_installs_the_logging_package_from_its_named_build_context(services):
    # Compose 2.17+ renders a local named context as an absolute path (make up requires 2.17).
    assert services["app"]["build"]["additional_contexts"] == {"django-elk-logging": str(REPO_ROOT / "django-elk-logging")}
    copies = [arguments for name, arguments in dockerfile_instructions(REPO_ROOT / "app" / "Dockerfile") if name == "COPY"]
    assert "--from=django-elk-logging . /tmp/django-elk-logging" in copies
    # That its .dockerignore keeps the tests out: test_what_the_app_image_never_receives_is_not_checked.


def test_each_built_image_tag_is_built_by_exactly_one_service(services):
    # Since Compose 2.37 builds go through bake: two services building one tag are two targets
    # exporting it, and a first build can fail with "image ... already exists" (docker/buildx#3576).
    builders = defaultdict(list)
    for name, service in services.items():
        if "build" in service:
            builders[service["image"]].append(name)
    assert dict(builders) == {"django-elk/app:local": ["app"], "django-elk/setup:local": ["setup"]}


def test_logrotate_runs_the_app_image_and_never_pulls_it(services):
    logrotate = services["logrotate"]
    assert "build" not in logrotate
    assert logrotate["image"] == services["app"]["image"]
    assert logrotate["pull_policy"] == "never", "the image exists only locally, built by the app service"


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction; comments and blank lines skipped."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and not line[0].isspace():
            keyword, _, arguments = line.partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def test_both_dockerfiles_start_from_the_same_current_python_patch_image():
    bases = {
        path.relative_to(REPO_ROOT).as_posix(): {args.split()[0] for keyword, args in dockerfile_instructions(path) if keyword == "FROM"}
        for path in DOCKERFILES
    }
    # 3.12.12 images are no longer rebuilt with Debian's security updates.
    assert bases == {"app/Dockerfile": {"python:3.12.13-slim-bookworm"}, "setup/Dockerfile": {"python:3.12.13-slim-bookworm"}}


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.parent.name)
def test_no_dockerfile_declares_a_volume(path):
    # A VOLUME gives every container of the image an anonymous volume where compose mounts no
    # named one (logrotate mounts nothing at /var/lib/django), left behind on each recreate.
    assert [args for keyword, args in dockerfile_instructions(path) if keyword == "VOLUME"] == []


def test_latest_appears_nowhere():
    assert "latest" not in COMPOSE_FILE.read_text(encoding="utf-8").lower()


# --- health and ordering ------------------------------------------------------------


def dockerfile_healthcheck(path: Path) -> dict | None:
    """The HEALTHCHECK of a Dockerfile in the shape Compose renders a service's healthcheck."""
    joined = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    checks = [line for line in joined.splitlines() if line.startswith("HEALTHCHECK ")]
    if not checks:
        return None
    [check] = checks
    options, _, command = check.removeprefix("HEALTHCHECK ").partition(" CMD ")
    found = dict(option.removeprefix("--").split("=", 1) for option in options.split())
    return {
        "test": ["CMD", *json.loads(command)],
        "interval": found["interval"],
        "timeout": found["timeout"],
        "retries": int(found["retries"]),
        "start_period": found["start-period"],
    }


def healthcheck_of(services: dict, name: str) -> dict | None:
    """A service's healthcheck: compose's, or for the app the one its image declares."""
    if name == "app":
        return dockerfile_healthcheck(REPO_ROOT / "app" / "Dockerfile")
    return services[name].get("healthcheck")


def test_the_app_healthcheck_is_written_once_in_its_dockerfile(services):
    assert "healthcheck" not in services["app"], "the app image declares its healthcheck; compose must not repeat it"
    assert dockerfile_healthcheck(REPO_ROOT / "app" / "Dockerfile") == {
        "test": ["CMD", "python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"],
        "interval": "15s",
        "timeout": "5s",
        "retries": 5,
        "start_period": "30s",
    }
    # logrotate runs the same image: it must replace the app's probe with its own.
    assert services["logrotate"]["healthcheck"]["test"] != healthcheck_of(services, "app")["test"]


def test_every_long_running_service_has_a_meaningful_healthcheck(services):
    expected_fragments = {
        "elasticsearch": ["printf 'user = \"elastic:%s\"\\n' \"$$p\" | curl -fsS -o /dev/null -K - ",
                          "/_cluster/health?wait_for_status=yellow"],
        "kibana": ["http://localhost:5601/api/status", "grep -q '\"level\":\"available\"'"],
        "logstash": ["sh /usr/share/logstash/healthcheck.sh"],
        "app": ["http://127.0.0.1:8000/healthz"],
        "logrotate": ["os.path.getmtime('/tmp/rotate-heartbeat') < 180"],
    }
    assert set(expected_fragments) == set(LONG_RUNNING)
    for name, fragments in expected_fragments.items():
        healthcheck = healthcheck_of(services, name)
        assert healthcheck and not healthcheck.get("disable"), f"{name} has no healthcheck"
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), healthcheck
        command = " ".join(healthcheck["test"][1:])
        for fragment in fragments:
            assert fragment in command, f"{name} healthcheck lacks {fragment!r}: {command}"
        assert healthcheck["retries"] >= 3 and healthcheck["interval"] and healthcheck["timeout"], healthcheck


GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
GO_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}


def seconds(duration: str) -> float:
    """A duration as Compose renders it, in Go's format: "10s", "6m0s", "1m30s"."""
    parts = GO_DURATION_PART.findall(duration)
    assert parts and "".join(number + unit for number, unit in parts) == duration, duration
    return sum(float(number) * GO_DURATION_UNITS[unit] for number, unit in parts)


def healthcheck_budget(service: dict) -> float:
    """Seconds before Docker marks the service unhealthy: probe failures count only after start_period."""
    healthcheck = service["healthcheck"]
    return seconds(healthcheck["start_period"]) + healthcheck["retries"] * seconds(healthcheck["interval"])


# What setup does before it starts waiting for Kibana (Elasticsearch users, roles, template,
# policy): a bound, not a measurement; the Kibana container starts before setup does.
SETUP_STEPS_BEFORE_KIBANA_SECONDS = 60
# ... and after it (saved objects, connectors, rules), a bound likewise.
SETUP_STEPS_AFTER_KIBANA_SECONDS = 120


def test_go_durations_are_read_as_compose_renders_them():
    assert [seconds(value) for value in ("10s", "6m0s", "1m30s", "1h0m0s", "500ms")] == [10, 360, 90, 3600, 0.5]


def test_kibanas_healthcheck_lasts_as_long_as_setup_waits_for_kibana(services):
    # `up --wait` fails at the first unhealthy status, even if setup would still get Kibana in time.
    setup_wait = float(services["setup"]["environment"]["SETUP_TIMEOUT_SECONDS"])
    assert healthcheck_budget(services["kibana"]) >= setup_wait + SETUP_STEPS_BEFORE_KIBANA_SECONDS


def makefile_up_timeout() -> int:
    match = re.search(r"^UP_TIMEOUT \?= (\d+)$", MAKEFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "Makefile sets no UP_TIMEOUT"
    return int(match.group(1))


def test_make_up_outlasts_the_longest_single_wait(services):
    # docker/compose pkg/compose/start.go: --wait-timeout bounds each dependency wait (2.30+) and
    # the final --wait afresh, so it must cover the longest one wait, not the chain of them.
    setup_run = (float(services["setup"]["environment"]["SETUP_TIMEOUT_SECONDS"])
                 + SETUP_STEPS_BEFORE_KIBANA_SECONDS + SETUP_STEPS_AFTER_KIBANA_SECONDS)
    budgets = {name: healthcheck_budget(service) for name, service in services.items() if "healthcheck" in service}
    assert budgets["kibana"] == max(budgets.values()) == 660
    assert makefile_up_timeout() >= max(*budgets.values(), setup_run)


# Image pulls and builds, the live tests and `make clean` on a GitHub runner: a bound, not a measurement.
WORKFLOW_STEPS_BESIDES_WAITS_SECONDS = 15 * 60


def test_the_live_stack_workflow_allows_the_slowest_make_up(services):
    workflow = (REPO_ROOT / ".github" / "workflows" / "live-stack.yml").read_text(encoding="utf-8")
    assert f"UP_TIMEOUT {makefile_up_timeout()} s" in workflow
    minutes = int(re.search(r"^    timeout-minutes: (\d+)$", workflow, re.MULTILINE).group(1))
    # Worst case: Kibana and setup wait for Elasticsearch, Logstash for setup's run, then the final --wait.
    setup_run = (float(services["setup"]["environment"]["SETUP_TIMEOUT_SECONDS"])
                 + SETUP_STEPS_BEFORE_KIBANA_SECONDS + SETUP_STEPS_AFTER_KIBANA_SECONDS)
    up_timeout = makefile_up_timeout()
    waits = min(up_timeout, healthcheck_budget(services["elasticsearch"])) + min(up_timeout, setup_run) + up_timeout
    assert minutes * 60 >= waits + WORKFLOW_STEPS_BESIDES_WAITS_SECONDS


def test_make_up_blames_no_timeout_for_every_failure():
    recipe = next(line for line in make_dry_run(REPO_ROOT, "up", "COMPOSE=docker compose", "PYTHON=python3")
                  if "up -d --build --wait" in line)
    assert "did not become healthy" not in recipe
    assert "make up failed: see the error above" in recipe and "make logs SERVICE=" in recipe


def test_long_running_services_restart_and_setup_runs_once(services):
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
    assert services["setup"]["restart"] == "no"
    assert "healthcheck" not in services["setup"]


def test_dependencies_order_the_stack(services):
    def conditions(name):
        return {target: spec["condition"] for target, spec in services[name].get("depends_on", {}).items()}

    assert conditions("kibana") == {"elasticsearch": "service_healthy"}
    assert conditions("setup") == {"elasticsearch": "service_healthy", "kibana": "service_started"}
    assert conditions("logstash") == {"setup": "service_completed_successfully"}
    assert conditions("elasticsearch") == {}
    assert conditions("app") == {}, "the app only writes files; it must start without the stack"
    assert conditions("logrotate") == {}


def waits_on_missing_healthchecks(services: dict) -> list[tuple[str, str]]:
    """(service, dependency) pairs where service waits for the health of a dependency that has none."""
    problems = []
    for name, service in sorted(services.items()):
        for target, spec in sorted(service.get("depends_on", {}).items()):
            healthcheck = services[target].get("healthcheck")
            if spec["condition"] == "service_healthy" and (not healthcheck or healthcheck.get("disable")):
                problems.append((name, target))
    return problems


def test_every_service_healthy_dependency_has_a_healthcheck(services):
    assert waits_on_missing_healthchecks(services) == []


@pytest.mark.parametrize("override", ["healthcheck:\n      disable: true\n", "healthcheck: !reset null\n"])
def test_compose_accepts_a_service_healthy_wait_on_no_healthcheck_so_the_test_above_must(
    home, dummy_env, tmp_path, override
):
    override_file = tmp_path / "override.yml"
    override_file.write_text(f"services:\n  elasticsearch:\n    {override}", encoding="utf-8")
    result = render(home, dummy_env, COMPOSE_FILE, override_file)
    assert result.returncode == 0, result.stderr
    broken = json.loads(result.stdout)["services"]
    assert waits_on_missing_healthchecks(broken) == [("kibana", "elasticsearch"), ("setup", "elasticsearch")]


# --- network exposure ---------------------------------------------------------------


def test_published_ports_bind_to_loopback_only(services):
    published = {
        name: {(port["host_ip"], port["published"], port["target"]) for port in service.get("ports", [])}
        for name, service in services.items()
    }
    assert published == {
        "elasticsearch": {("127.0.0.1", "9200", 9200)},
        "kibana": {("127.0.0.1", "5601", 5601)},
        "app": {("127.0.0.1", "8000", 8000)},
        "logstash": set(),
        "setup": set(),
        "logrotate": set(),
    }


# --- volumes and mounts --------------------------------------------------------------


def test_named_volumes_are_the_five_of_the_contract(config):
    assert set(config["volumes"]) == {"elasticsearch-data", "kibana-data", "logstash-data", "app-logs", "app-data"}


def test_each_service_mounts_exactly_what_it_needs(services):
    assert mounts(services["elasticsearch"]) == {
        ("bind", "elasticsearch/config/elasticsearch.yml", "/usr/share/elasticsearch/config/elasticsearch.yml", True),
        ("volume", "elasticsearch-data", "/usr/share/elasticsearch/data", False),
    }
    assert mounts(services["kibana"]) == {
        ("bind", "kibana/config/kibana.yml", "/usr/share/kibana/config/kibana.yml", True),
        ("volume", "kibana-data", "/usr/share/kibana/data", False),
    }
    assert mounts(services["logstash"]) == {
        ("bind", "logstash/config/logstash.yml", "/usr/share/logstash/config/logstash.yml", True),
        ("bind", "logstash/config/pipelines.yml", "/usr/share/logstash/config/pipelines.yml", True),
        ("bind", "logstash/pipeline", "/usr/share/logstash/pipeline", True),
        ("bind", "logstash/healthcheck.sh", "/usr/share/logstash/healthcheck.sh", True),
        ("volume", "logstash-data", "/usr/share/logstash/data", False),
        ("volume", "app-logs", "/var/log/django", True),
    }
    # Only the asset folders: setup never sees the servers' config.
    assert mounts(services["setup"]) == {
        ("bind", f"{component}/{kind}", f"/assets/{component}/{kind}", True)
        for component, kinds in SETUP_ASSET_FOLDERS.items() for kind in kinds
    }
    assert mounts(services["app"]) == {
        ("volume", "app-logs", "/var/log/django", False),
        ("volume", "app-data", "/var/lib/django", False),
    }
    assert mounts(services["logrotate"]) == {("volume", "app-logs", "/var/log/django", False)}


def test_bind_mount_sources_exist_so_docker_does_not_create_empty_directories(services):
    for name, service in services.items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                source = Path(volume["source"])
                assert source.exists(), f"{name} mounts {source}, which does not exist"
                expect_directory = source.name == "pipeline" or source.name in SETUP_ASSET_FOLDERS.get(source.parent.name, ())
                assert source.is_dir() is expect_directory, f"{name} mounts {source}: wrong kind of file"


# --- environment and secrets ---------------------------------------------------------


def test_services_get_the_settings_they_read(services):
    environment = {name: service.get("environment", {}) for name, service in services.items()}
    assert environment["elasticsearch"]["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    assert environment["logstash"]["LS_JAVA_OPTS"] == "-Xms256m -Xmx256m"
    # The default profile: one plain-HTTP node; the pipeline's CA default is never used then.
    assert environment["logstash"]["ELASTICSEARCH_HOSTS"] == "http://elasticsearch:9200"
    assert "ELASTICSEARCH_CA_FILE" not in environment["logstash"]
    assert environment["logstash"]["TIME_ZONE"] == "UTC"
    assert environment["setup"]["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
    assert environment["setup"]["KIBANA_URL"] == "http://kibana:5601"
    assert environment["setup"]["INDEX_REPLICAS"] == "0"
    assert "TLS_CA_FILE" not in environment["setup"]
    assert json.loads(environment["kibana"]["ELASTICSEARCH_HOSTS"]) == ["http://elasticsearch:9200"]
    assert environment["setup"]["LOG_RETENTION_DAYS"] == "14"
    # Every detection setting setup reads reaches it, by default the documented value.
    documented = example_values()
    assert {name: environment["setup"].get(name) for name in DETECTION_VARIABLES} == {
        name: documented[name] for name in DETECTION_VARIABLES
    }
    # kibana.yml reads them (tests/stack/test_compose_secrets.py).
    kibana = environment["kibana"]
    assert kibana["kibana_system_password"] == DUMMY_SECRETS["KIBANA_SYSTEM_PASSWORD"]
    assert kibana["kibana_encryption_key"] == DUMMY_SECRETS["KIBANA_ENCRYPTION_KEY"]
    app = environment["app"]
    assert app["DJANGO_SECURE_COOKIES"] == "false"
    assert app["DJANGO_DEBUG"] == "false"
    assert {"localhost", "127.0.0.1", "app"} <= set(app["DJANGO_ALLOWED_HOSTS"].split(","))
    assert app["TIME_ZONE"] == "UTC"
    assert app["DEMO_USERNAME"] == "demo"
    assert app["SENTRY_DSN"] == ""
    assert app["SENTRY_TRACES_SAMPLE_RATE"] == "0.0"
    assert {"SENTRY_ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_SEND_DEFAULT_PII", "SENTRY_MAX_REQUEST_BODY_SIZE"} <= set(app)


# The settings the Logstash image's entrypoint (env2yaml) writes into logstash.yml when an
# environment variable names one: allowedConfigs in elastic/logstash (branch 9.5)
# docker/data/logstash/env2yaml/src/main/java/org/logstash/env2yaml/Env2Yaml.java.
ENV2YAML_SETTINGS = (
    "api.enabled", "api.http.host", "api.http.port", "api.environment", "node.name", "path.data", "pipeline.id",
    "pipeline.workers", "pipeline.output.workers", "pipeline.batch.size", "pipeline.batch.delay",
    "pipeline.batch.output_chunking.growth_threshold_factor", "pipeline.unsafe_shutdown",
    "pipeline.ecs_compatibility", "pipeline.ordered", "pipeline.recoverable", "pipeline.reloadable",
    "pipeline.plugin_classloaders", "pipeline.separate_logs", "path.config", "config.string",
    "config.test_and_exit", "config.reload.automatic", "config.reload.interval", "ssl.reload.automatic",
    "config.debug", "config.support_escapes", "config.field_reference.escape_style", "queue.type", "path.queue",
    "queue.page_capacity", "queue.max_events", "queue.max_bytes", "queue.checkpoint.acks",
    "queue.checkpoint.writes", "queue.checkpoint.interval", "queue.compression", "queue.drain",
    "dead_letter_queue.enable", "dead_letter_queue.max_bytes", "dead_letter_queue.flush_interval",
    "dead_letter_queue.storage_policy", "dead_letter_queue.retain.age", "path.dead_letter_queue", "log.level",
    "log.format", "log.format.json.fix_duplicate_message_fields", "metric.collect", "path.logs", "path.plugins",
    "api.auth.type", "api.auth.basic.username", "api.auth.basic.password",
    "api.auth.basic.password_policy.mode", "api.auth.basic.password_policy.length.minimum",
    "api.auth.basic.password_policy.include.upper", "api.auth.basic.password_policy.include.lower",
    "api.auth.basic.password_policy.include.digit", "api.auth.basic.password_policy.include.symbol",
    "allow_superuser", "monitoring.cluster_uuid", "xpack.monitoring.allow_legacy_collection",
    "xpack.monitoring.enabled", "xpack.monitoring.collection.interval", "xpack.monitoring.elasticsearch.hosts",
    "xpack.monitoring.elasticsearch.username", "xpack.monitoring.elasticsearch.password",
    "xpack.monitoring.elasticsearch.proxy", "xpack.monitoring.elasticsearch.api_key",
    "xpack.monitoring.elasticsearch.cloud_auth", "xpack.monitoring.elasticsearch.cloud_id",
    "xpack.monitoring.elasticsearch.sniffing", "xpack.monitoring.elasticsearch.ssl.certificate_authority",
    "xpack.monitoring.elasticsearch.ssl.ca_trusted_fingerprint",
    "xpack.monitoring.elasticsearch.ssl.verification_mode",
    "xpack.monitoring.elasticsearch.ssl.truststore.path",
    "xpack.monitoring.elasticsearch.ssl.truststore.password",
    "xpack.monitoring.elasticsearch.ssl.keystore.path", "xpack.monitoring.elasticsearch.ssl.keystore.password",
    "xpack.monitoring.elasticsearch.ssl.certificate", "xpack.monitoring.elasticsearch.ssl.key",
    "xpack.monitoring.elasticsearch.ssl.cipher_suites", "xpack.management.enabled",
    "xpack.management.logstash.poll_interval", "xpack.management.pipeline.id",
    "xpack.management.elasticsearch.hosts", "xpack.management.elasticsearch.username",
    "xpack.management.elasticsearch.password", "xpack.management.elasticsearch.proxy",
    "xpack.management.elasticsearch.api_key", "xpack.management.elasticsearch.cloud_auth",
    "xpack.management.elasticsearch.cloud_id", "xpack.management.elasticsearch.sniffing",
    "xpack.management.elasticsearch.ssl.certificate_authority",
    "xpack.management.elasticsearch.ssl.ca_trusted_fingerprint",
    "xpack.management.elasticsearch.ssl.verification_mode",
    "xpack.management.elasticsearch.ssl.truststore.path",
    "xpack.management.elasticsearch.ssl.truststore.password",
    "xpack.management.elasticsearch.ssl.keystore.path", "xpack.management.elasticsearch.ssl.keystore.password",
    "xpack.management.elasticsearch.ssl.certificate", "xpack.management.elasticsearch.ssl.key",
    "xpack.management.elasticsearch.ssl.cipher_suites", "xpack.geoip.download.endpoint",
    "xpack.geoip.downloader.enabled", "otel.metrics.enabled", "otel.exporter.otlp.endpoint",
    "otel.metric.export.interval", "otel.exporter.otlp.protocol", "otel.exporter.otlp.headers",
    "otel.resource.attributes", "otel.service.name", "otel.exporter.otlp.certificate",
    "otel.exporter.otlp.client.key", "otel.exporter.otlp.client.certificate",
)


def env2yaml_setting(variable: str) -> str | None:
    """The setting env2yaml maps a variable to: Env2Yaml.normalizeKey lower-cases a name and drops
    every "." and "_", then findCanonicalSetting compares it with the settings normalized alike."""

    def normalized(name: str) -> str:
        return name.lower().replace(".", "").replace("_", "")

    return {normalized(setting): setting for setting in ENV2YAML_SETTINGS}.get(normalized(variable))


def test_env2yaml_maps_variables_as_its_source_does():
    # The examples of Env2Yaml.java's own Javadoc, then names that are no setting.
    assert env2yaml_setting("PIPELINE_WORKERS") == "pipeline.workers"
    assert env2yaml_setting("pipeline.workers") == "pipeline.workers"
    assert env2yaml_setting("LOG_LEVEL") == "log.level"
    assert env2yaml_setting("XPACK_MONITORING_ENABLED") == "xpack.monitoring.enabled"
    assert env2yaml_setting("DEAD_LETTER_QUEUE_ENABLE") == "dead_letter_queue.enable"
    assert env2yaml_setting("QUEUEMAXBYTES") == "queue.max_bytes"
    for variable in ("LS_JAVA_OPTS", "LOGSTASH_WRITER_PASSWORD", "LOG_LEVELS", "PIPELINE", "TIME_ZONE"):
        assert env2yaml_setting(variable) is None, variable


def logstash_variables_env2yaml_would_write(services: dict) -> dict[str, str]:
    return {
        variable: setting
        for variable in services["logstash"].get("environment", {})
        if (setting := env2yaml_setting(variable))
    }


def test_no_logstash_variable_makes_the_entrypoint_rewrite_its_read_only_logstash_yml(services):
    assert ("bind", "logstash/config/logstash.yml", "/usr/share/logstash/config/logstash.yml", True) in mounts(
        services["logstash"]
    )
    assert logstash_variables_env2yaml_would_write(services) == {}


def test_a_setting_passed_as_a_logstash_variable_is_caught(home, dummy_env, tmp_path):
    override = tmp_path / "override.yml"
    override.write_text("services:\n  logstash:\n    environment:\n      PIPELINE_WORKERS: '2'\n", encoding="utf-8")
    result = render(home, dummy_env, COMPOSE_FILE, override)
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)["services"]
    assert logstash_variables_env2yaml_would_write(rendered) == {"PIPELINE_WORKERS": "pipeline.workers"}


def test_each_secret_reaches_only_the_services_that_use_it(services):
    holders = {
        name: {service for service, spec in services.items() if value in spec.get("environment", {}).values()}
        for name, value in DUMMY_SECRETS.items()
    }
    assert holders == {
        "ELASTIC_PASSWORD": {"elasticsearch", "setup"},
        "KIBANA_SYSTEM_PASSWORD": {"kibana", "setup"},
        "LOGSTASH_WRITER_PASSWORD": {"logstash", "setup"},
        "ALERTING_PASSWORD": {"setup"},
        "KIBANA_ENCRYPTION_KEY": {"kibana"},
        "DJANGO_SECRET_KEY": {"app"},
        "DEMO_PASSWORD": {"app"},
    }


SECRET_KEY_NAME = re.compile(r"password|secret|token|encryptionkey|_key$", re.IGNORECASE)
KEY_VALUE = re.compile(r"""^\s*-?\s*["']?([A-Za-z0-9_.]+)["']?\s*[:=]\s*(.+?)\s*$""")
WHOLE_REFERENCE = re.compile(r"""^(["']?)\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}\1$""")
# The path of a key or certificate file (SERVER_SSL_KEY: /usr/share/.../kibana.key) names where the
# secret is, mounted from the certs volume; it is not the secret.
KEY_FILE_PATH = re.compile(r"""^(["']?)(/[\w.-]+)+\.(key|crt|pem)\1$""")
INLINE_CREDENTIALS = (
    re.compile(r"""(?:-u|--user)\s+\\?["']?[^\s:"'\\]+:(?!\$)"""),  # curl -u user:password
    re.compile(r"://[^/\s:@]+:(?!\$)[^@\s/]+@"),  # scheme://user:password@host
    re.compile(r"""--password[\s=]+\\?["']?(?!\$)"""),
)


def secret_literals(text: str) -> list[str]:
    """Lines that hold a credential as a literal instead of a ${VAR} reference."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        match = KEY_VALUE.match(line)
        if (match and SECRET_KEY_NAME.search(match.group(1)) and not WHOLE_REFERENCE.match(match.group(2))
                and not KEY_FILE_PATH.match(match.group(2))):
            found.append(f"{number}: {line.strip()}")
        elif any(pattern.search(line) for pattern in INLINE_CREDENTIALS):
            found.append(f"{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("path", [
    "docker-compose.yml", "docker-compose.tls.yml", "docker-compose.cluster.yml", "docker-compose.own-app.yml",
    "kibana/config/kibana.yml", "elasticsearch/config/elasticsearch.yml",
])
def test_no_secret_is_written_into_the_stack_files(path):
    assert secret_literals((REPO_ROOT / path).read_text(encoding="utf-8")) == []


def test_the_secret_scan_finds_literal_credentials():
    sample = "\n".join(
        [
            "      ELASTIC_PASSWORD: hunter2hunter2",
            "      - DJANGO_SECRET_KEY=abc",
            "xpack.security.encryptionKey: 0123456789abcdef0123456789abcdef",
            '      test: ["CMD-SHELL", "curl -fsS -u \\"elastic:hunter2\\" http://localhost:9200"]',
            "      ELASTICSEARCH_URL: http://elastic:hunter2@elasticsearch:9200",
            "      command: generate_traffic --password hunter2",
            '      KIBANA_SYSTEM_PASSWORD: "${KIBANA_SYSTEM_PASSWORD:?set it}"',
            '      test: ["CMD-SHELL", "curl -u \\"elastic:$${ELASTIC_PASSWORD}\\" http://localhost:9200"]',
            "      SERVER_SSL_KEY: -----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            "      # ELASTIC_PASSWORD: a comment is not configuration",
            "      SERVER_SSL_KEY: /usr/share/kibana/config/certs/kibana/kibana.key",
        ]
    )
    assert [line.split(":")[0] for line in secret_literals(sample)] == ["1", "2", "3", "4", "5", "6", "9"]


# --- .env.example documents what the compose file reads ------------------------------------


def references() -> list[tuple[str, str, str]]:
    """(name, operator, default or message) of every ${...} outside comments, which Compose does not read."""
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return [match.groups("") for match in REFERENCE.finditer(text)]


def test_every_variable_compose_reads_is_documented_in_env_example():
    undocumented = {name for name, _, _ in references()} - set(example_values())
    assert undocumented == set()


def test_required_variables_match_env_example_markers():
    required = {name for name, operator, _ in references() if operator.endswith("?")}
    assert required == set(REQUIRED)
    assert set(example_markers()) == set(REQUIRED)
    assert {name for name, kind in example_markers().items() if kind == "secret"} == set(SECRETS)


def test_compose_defaults_equal_the_documented_values():
    documented = example_values()
    mismatched = {
        name: (default, documented[name])
        for name, operator, default in references()
        if operator == ":-" and default != documented[name]
    }
    assert mismatched == {}


def test_an_env_with_only_the_required_variables_renders_the_same_stack(home, tmp_path, config):
    minimal = tmp_path / "minimal.env"
    values = {**DUMMY_SECRETS, "ELASTIC_VERSION": ELASTIC_VERSION, "DEMO_USERNAME": "demo"}
    minimal.write_text("".join(f"{name}={value}\n" for name, value in values.items()), encoding="utf-8")
    result = render(home, minimal)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == config, "a default in docker-compose.yml differs from .env.example"


def test_env_example_leaves_every_secret_empty():
    values = example_values()
    assert {name: values[name] for name in SECRETS} == dict.fromkeys(SECRETS, "")


# --- memory ----------------------------------------------------------------------------


def heap_bytes(java_opts: str) -> int:
    match = re.search(r"-Xmx(\d+)([mg])", java_opts)
    assert match, java_opts
    return int(match.group(1)) * (GIB if match.group(2) == "g" else MIB)


def test_the_stack_fits_a_4_gb_laptop(services):
    limits = {name: int(service["mem_limit"]) for name, service in services.items()}
    assert set(limits) == set(services), "every service needs a memory limit"
    assert sum(limits[name] for name in LONG_RUNNING) <= 3 * GIB + 64 * MIB, limits
    assert limits["setup"] <= 256 * MIB
    assert heap_bytes(services["elasticsearch"]["environment"]["ES_JAVA_OPTS"]) * 2 <= limits["elasticsearch"]
    assert heap_bytes(services["logstash"]["environment"]["LS_JAVA_OPTS"]) < limits["logstash"]


# --- component configs -----------------------------------------------------------------


# What a profile changes is set in the compose files' environment, never in the mounted configs,
# which every node of every profile shares.
PROFILE_SETTINGS = re.compile(r"^(discovery\.|cluster\.initial_master_nodes|node\.name|xpack\.security\.(http|transport)\.ssl\.)")


def test_elasticsearch_runs_one_secured_node_on_the_basic_license(services):
    settings = flat_yaml(REPO_ROOT / "elasticsearch" / "config" / "elasticsearch.yml")
    assert settings["xpack.security.enabled"] == "true"
    assert settings["xpack.license.self_generated.type"] == "basic"
    assert settings["network.host"] == "0.0.0.0"
    assert [key for key in settings if PROFILE_SETTINGS.match(key)] == []
    # The image's entrypoint passes each dotted variable as -E (docker-entrypoint.sh).
    environment = services["elasticsearch"]["environment"]
    assert {key: value for key, value in environment.items() if PROFILE_SETTINGS.match(key)} == {
        "discovery.type": "single-node",
        "xpack.security.http.ssl.enabled": "false",
        "xpack.security.transport.ssl.enabled": "false",
    }


def test_kibana_connects_as_kibana_system_with_no_secret_written_in_its_file():
    settings = flat_yaml(REPO_ROOT / "kibana" / "config" / "kibana.yml")
    # Its hosts differ by profile: ELASTICSEARCH_HOSTS (test_services_get_the_settings_they_read).
    assert "elasticsearch.hosts" not in settings
    assert settings["elasticsearch.username"] == "kibana_system"
    assert settings["server.host"] == "0.0.0.0"
    # Each secret is a ${name} Kibana fills from its environment (tests/stack/test_compose_secrets.py).
    assert [key for key, value in settings.items() if SECRET_KEY_NAME.search(key) and not WHOLE_REFERENCE.match(value)] == []


def test_the_logrotate_command_is_one_the_rotation_module_accepts(services, tmp_path):
    service = services["logrotate"]
    assert service["entrypoint"] == ["python", "-m", "rotate_logs"]
    arguments = dict(argument.removeprefix("--").split("=", 1) for argument in service["command"])
    assert arguments == {
        "dir": "/var/log/django", "max-bytes": "50M", "keep": "5", "interval": "60", "heartbeat": "/tmp/rotate-heartbeat",
    }
    # Run it once, for real, on a scratch directory instead of the volume.
    arguments.update({"dir": str(tmp_path), "interval": "0", "heartbeat": str(tmp_path / "heartbeat")})
    result = subprocess.run(
        [sys.executable, "-m", "rotate_logs", *(f"--{key}={value}" for key, value in arguments.items())],
        cwd=REPO_ROOT / "app", capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "heartbeat").exists()


# --- make up's checks and the targets that run without .env ------------------------------

VERSION_CHECK = REPO_ROOT / "scripts" / "check_compose_version.sh"
PERMISSION_CHECK = REPO_ROOT / "scripts" / "check_mount_permissions.py"


def check_compose_version(version: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(VERSION_CHECK), version], capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=False
    )


# 2.9 and 2.100 catch a comparison of strings instead of numbers.
@pytest.mark.parametrize("version", ["2.30.0", "v2.30.0", "2.40.3", "2.31.0-desktop.1", "2.100.0", "3.0.0"])
def test_make_up_accepts_compose_2_30_and_newer(version):
    result = check_compose_version(version)
    assert (result.returncode, result.stderr) == (0, "")


# 2.24.6-desktop.1: a Docker Desktop build; 2.29.7: the last before dependency waits got a timeout.
@pytest.mark.parametrize("version", ["2.29.7", "2.24.6-desktop.1", "2.17.0", "2.9.0", "v2.6.1", "1.29.2"])
def test_make_up_refuses_compose_older_than_2_30_naming_the_minimum_and_why(version):
    result = check_compose_version(version)
    assert result.returncode == 1
    assert f"Docker Compose {version} is too old: make up needs Compose 2.30 or newer" in result.stderr, result.stderr
    assert "one that keeps restarting, such as Elasticsearch with a bad setting, hangs make up" in result.stderr


@pytest.mark.parametrize("version", ["", "garbage", "2"])
def test_make_up_refuses_a_version_it_cannot_read(version):
    result = check_compose_version(version)
    assert result.returncode == 1
    assert f"cannot read the Docker Compose version (docker compose version --short said: '{version}')" in result.stderr


def test_the_real_compose_binarys_short_version_passes_the_check(home):
    version = run_compose(home, "version", "--short")
    assert version.returncode == 0, version.stderr
    assert check_compose_version(version.stdout.strip()).returncode == 0, version.stdout


def test_make_up_checks_the_version_and_permissions_before_it_starts_anything():
    lines = make_dry_run(REPO_ROOT, "up", "COMPOSE=docker compose", "PYTHON=python3")
    position = {
        name: next(index for index, line in enumerate(lines) if fragment in line)
        for name, fragment in {
            "version": 'sh scripts/check_compose_version.sh "$(docker compose version --short 2>/dev/null)"',
            "permissions": "docker compose config --format json | python3 scripts/check_mount_permissions.py",
            "profile": "python3 scripts/stack_profile.py shell >/dev/null",
            "up": "docker compose up -d --build --wait --wait-timeout",
        }.items()
    }
    assert max(position["version"], position["permissions"], position["profile"]) < position["up"], lines


@pytest.fixture
def checkout_without_env(tmp_path) -> Path:
    for path in (*ALL_COMPOSE_FILES, MAKEFILE):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


@pytest.mark.parametrize(
    "target, subcommand",
    [("down", "down"), ("ps", "ps --all"), ("logs", "logs --follow"), ("clean", "down --volumes")],
)
@pytest.mark.parametrize("env_file", [None, "ELASTIC_PASSWORD=\nDEMO_USERNAME=demo\n"], ids=["no-env", "incomplete-env"])
def test_down_ps_logs_and_clean_pass_interpolation_without_a_complete_env(
    home, checkout_without_env, target, subcommand, env_file
):
    if env_file is not None:
        (checkout_without_env / ".env").write_text(env_file, encoding="utf-8")
    variables = [f"COMPOSE={shlex.quote(str(compose_binary()))}", "CONFIRM=yes"]
    command_line = compose_command_line(make_dry_run(checkout_without_env, target, *variables), subcommand)
    environment = {"HOME": str(home), "PATH": os.environ["PATH"]}
    run = {"cwd": checkout_without_env, "env": environment, "capture_output": True, "text": True, "timeout": COMPOSE_TIMEOUT_SECONDS}
    # What these targets ran before: Compose stops at the first ${VAR:?} left empty.
    plain = subprocess.run([str(compose_binary()), "config", "-q"], **run, check=False)
    assert plain.returncode != 0 and "required variable" in plain.stderr, plain.stderr
    result = subprocess.run(["bash", "-c", as_config_check(command_line, subcommand)], **run, check=False)
    assert result.returncode == 0, f"{command_line}\n{result.stderr}"


# What each target runs, after the placeholders: every compose file, every Compose profile.
EVERY_FILE = ["-f", "docker-compose.yml", "-f", "docker-compose.tls.yml", "-f", "docker-compose.cluster.yml",
              "-f", "docker-compose.own-app.yml", "--profile", "*"]


@pytest.mark.parametrize(
    "target, subcommand, arguments",
    [
        ("down", "down", ["down", "--remove-orphans"]),
        ("ps", "ps --all", ["ps", "--all"]),
        ("ps", "ps -q kibana", ["ps", "-q", "kibana"]),
        ("logs", "logs --follow", ["logs", "--follow", "--tail=200"]),
        ("clean", "down --volumes", ["down", "--volumes", "--remove-orphans"]),
    ],
)
def test_down_ps_logs_and_clean_pass_every_compose_file_whatever_compose_file_selects(target, subcommand, arguments):
    # A stack a previous `make up` started with another profile: the cluster's nodes, certs' volumes.
    lines = make_dry_run(REPO_ROOT, target, "COMPOSE=docker compose", "PYTHON=python3", "CONFIRM=yes")
    words = shlex.split(compose_command_line(lines, subcommand).removeprefix('kibana="$(').removesuffix(')"; \\'))
    command = words[next(index for index, word in enumerate(words) if word == "docker"):]
    assert command == ["docker", "compose", *EVERY_FILE, *arguments], command


def test_make_ps_names_the_running_profile_from_kibanas_label():
    lines = make_dry_run(REPO_ROOT, "ps", "COMPOSE=docker compose", "PYTHON=python3")
    recipe = "\n".join(lines)
    assert """docker inspect -f '{{index .Config.Labels "org.django-elk.profile"}}' $kibana""" in recipe
    assert "python3 scripts/stack_profile.py shell" in recipe


def copy_of_the_stack(destination: Path) -> Path:
    """The compose file and every folder it mounts or builds, with a normal checkout's modes."""
    shutil.copy(COMPOSE_FILE, destination / "docker-compose.yml")
    for folder in ("app", "django-elk-logging", "setup", "elasticsearch", "kibana", "logstash"):
        shutil.copytree(REPO_ROOT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__", "staticfiles"))
    for path in [destination, *destination.rglob("*")]:
        executable = path.is_dir() or os.access(path, os.X_OK)
        path.chmod(0o755 if executable else 0o644)
    return destination


def check_permissions(home: Path, stack: Path, dummy_env: Path) -> subprocess.CompletedProcess:
    config = render(home, dummy_env, stack / "docker-compose.yml")
    assert config.returncode == 0, config.stderr
    return subprocess.run(
        [sys.executable, str(PERMISSION_CHECK)], input=config.stdout, cwd=stack,
        capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=False,
    )


def test_a_normal_checkout_passes_the_permission_check(home, dummy_env, tmp_path):
    result = check_permissions(home, copy_of_the_stack(tmp_path), dummy_env)
    assert (result.returncode, result.stderr) == (0, "")


def test_files_a_umask_077_checkout_leaves_unreadable_are_listed_with_the_fix(home, dummy_env, tmp_path):
    stack = copy_of_the_stack(tmp_path)
    broken = {
        "elasticsearch/config/elasticsearch.yml": 0o600,  # bind-mounted file
        "logstash/pipeline": 0o700,  # bind-mounted directory
        "kibana/saved_objects/django-logs.ndjson": 0o600,  # inside setup's bind-mounted folder
        "app/docker-entrypoint.sh": 0o744,  # copied into the app image, run by uid 1000
        "django-elk-logging/src/django_elk_logging/log_lines.py": 0o600,  # the app image's named build context
        "setup/provision/__main__.py": 0o600,  # copied into the setup image, read by uid 10001
    }
    for name, mode in broken.items():
        (stack / name).chmod(mode)
    result = check_permissions(home, stack, dummy_env)
    assert result.returncode == 1
    listed = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ") and "chmod" not in line]
    assert sorted(listed) == sorted(broken), result.stderr
    fix = result.stderr.splitlines()[-1].strip()
    assert fix == (
        "chmod -R a+rX app django-elk-logging elasticsearch/config/elasticsearch.yml kibana/saved_objects logstash/pipeline setup"
    ), fix
    subprocess.run(shlex.split(fix), cwd=stack, check=True, timeout=COMPOSE_TIMEOUT_SECONDS)
    assert check_permissions(home, stack, dummy_env).returncode == 0
    assert stat.S_IMODE((stack / "app/docker-entrypoint.sh").stat().st_mode) == 0o755


def test_what_the_app_image_never_receives_is_not_checked(home, dummy_env, tmp_path):
    # Importing the app with umask 077 leaves __pycache__ 0700 and .pyc 0600 at every depth.
    stack = copy_of_the_stack(tmp_path)
    for folder in ("app/__pycache__", "app/config/__pycache__", "django-elk-logging/src/django_elk_logging/__pycache__"):
        (stack / folder).mkdir(mode=0o700)
        (stack / folder / "settings.cpython-312.pyc").write_bytes(b"")
        (stack / folder / "settings.cpython-312.pyc").chmod(0o600)
    (stack / "app/config/stray.pyc").write_bytes(b"")
    (stack / "app/config/stray.pyc").chmod(0o600)
    # The package's tests and pip's build leftovers stay out of its named context (its .dockerignore).
    (stack / "django-elk-logging/tests").chmod(0o700)
    (stack / "django-elk-logging/tests/test_layers.py").chmod(0o600)
    (stack / "django-elk-logging/src/django_elk_logging.egg-info").mkdir(exist_ok=True)
    (stack / "django-elk-logging/src/django_elk_logging.egg-info").chmod(0o700)
    result = check_permissions(home, stack, dummy_env)
    assert (result.returncode, result.stderr) == (0, "")


def test_dockerignore_patterns_match_from_the_context_root_as_docker_does(home, dummy_env, tmp_path):
    # docs.docker.com/build/concepts/context/#dockerignore-files and moby/patternmatcher: a name
    # without "**/" matches only at the root, so Docker sends app/config/__pycache__ with it.
    stack = copy_of_the_stack(tmp_path)
    (stack / "app/.dockerignore").write_text("# comment\n/__pycache__/\nconfig/*.pyc\n*.md\n!README.md\n")
    for name in ("__pycache__/a.pyc", "config/__pycache__/a.pyc", "config/b.pyc", "notes.md", "README.md"):
        path = stack / "app" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"")
        path.chmod(0o600)
    for folder in ("__pycache__", "config/__pycache__"):
        (stack / "app" / folder).chmod(0o700)
    result = check_permissions(home, stack, dummy_env)
    listed = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ") and "chmod" not in line]
    assert sorted(listed) == ["app/README.md", "app/config/__pycache__", "app/config/__pycache__/a.pyc"], result.stderr


# --- line endings -----------------------------------------------------------------------------


def git(*args: str, cwd: Path = REPO_ROOT, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=check)


def must_be_lf(paths: list[str]) -> list[str]:
    """Shell scripts, entrypoints (anything starting with #!), Dockerfiles and the Makefile."""
    return [
        path for path in paths
        if path.endswith(".sh") or Path(path).name in ("Dockerfile", "Makefile")
        or (REPO_ROOT / path).read_bytes()[:2] == b"#!"
    ]


def test_scripts_dockerfiles_and_entrypoints_are_checked_out_with_lf():
    if shutil.which("git") is None or git("rev-parse", "--is-inside-work-tree").returncode != 0:
        pytest.skip("not a git checkout: .gitattributes does not apply")
    tracked = [path for path in git("ls-files", "-z", check=True).stdout.split("\0") if path and (REPO_ROOT / path).is_file()]
    paths = must_be_lf(tracked)
    assert {"app/docker-entrypoint.sh", ".ci/run", "app/Dockerfile", "setup/Dockerfile", "Makefile"} <= set(paths)
    attributes = git("check-attr", "eol", "--", *paths, check=True).stdout.splitlines()
    assert attributes == [f"{path}: eol: lf" for path in paths]


def test_gitattributes_beats_core_autocrlf_in_a_real_checkout(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    entrypoint = "app/docker-entrypoint.sh"

    def checkout(with_attributes: bool) -> bytes:
        repository = tmp_path / ("with" if with_attributes else "without")
        (repository / "app").mkdir(parents=True)
        shutil.copy(REPO_ROOT / entrypoint, repository / entrypoint)
        if with_attributes:
            shutil.copy(REPO_ROOT / ".gitattributes", repository / ".gitattributes")
        identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "core.autocrlf=false"]
        git("init", "-q", cwd=repository, check=True)
        git("add", "-A", cwd=repository, check=True)
        git(*identity, "commit", "-q", "-m", "x", cwd=repository, check=True)
        (repository / entrypoint).unlink()
        git("-c", "core.autocrlf=true", "checkout", "--", entrypoint, cwd=repository, check=True)
        return (repository / entrypoint).read_bytes()

    assert b"\r\n" in checkout(with_attributes=False), "git did not apply core.autocrlf, so this test proves nothing"
    assert b"\r" not in checkout(with_attributes=True)
