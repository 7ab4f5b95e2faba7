"""Every combination of compose files, as the real Compose v2 parser reads it; own-app mode.

A combination is a profile (docker-compose.yml, with docker-compose.tls.yml, with that and
docker-compose.cluster.yml), alone or with docker-compose.own-app.yml last (.env selects it with
COMPOSE_FILE). docker-compose.own-app.yml points Logstash at a host folder of your project's logs
and leaves the sample app out. tests/stack/test_compose.py holds the default stack's full
contract, tests/stack/test_compose_profiles.py each profile's; here are the rules every
combination keeps, own-app mode's own, and the check `make up` runs on the host folder, on real
folders with real modes and ACLs.
"""

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.stack.test_compose import (
    REFERENCE,
    copy_of_the_stack,
    healthcheck_of,
    heap_bytes,
    logstash_variables_env2yaml_would_write,
    secret_literals,
    waits_on_missing_healthchecks,
)
from tests.support.compose import (
    COMBINATIONS,
    COMPOSE_TIMEOUT_SECONDS,
    DUMMY_SECRETS,
    GIB,
    MIB,
    OWN_APP_FILE,
    SAMPLE_APP,
    as_config_check,
    compose_binary,
    compose_command_line,
    env_with,
    make_dry_run,
    render,
    run_compose,
)
from tests.support.env_file import ELASTIC_VERSION
from tests.support.paths import COMPOSE_FILE, ENV_EXAMPLE, REPO_ROOT, SCRIPTS_DIR

OVERRIDES = sorted(REPO_ROOT.glob("docker-compose.*.yml"))
# The services that run once and exit: every other one runs for good.
ONE_SHOTS = {"setup", "certs"}
# The ceiling of the long-running services' memory limits, by profile (the compose files' budget tables).
LONG_RUNNING_BUDGET = {"default": 3 * GIB + 64 * MIB, "tls": 3 * GIB + 64 * MIB, "cluster": 5 * GIB + 64 * MIB}
CLUSTER_NODES = ("es01", "es02", "es03")
LOG_TARGET = "/var/log/django"
# The tutorial's file handler writes django_debug.log; the pipeline also reads these two.
READ_NAMES = ("django_debug.log", "security.log", "access.log")
PERMISSION_CHECK = SCRIPTS_DIR / "check_mount_permissions.py"
# Logstash's container user (elastic/logstash docker/templates/Dockerfile.erb: uid and gid 1000).
LOGSTASH_ID = 1000


def test_own_app_mode_is_one_of_the_combinations():
    assert COMBINATIONS["default+own-app"] == (COMPOSE_FILE, OWN_APP_FILE)
    assert set(COMBINATIONS) == {"default", "tls", "cluster", "default+own-app", "tls+own-app", "cluster+own-app"}


# --- what every combination keeps ---------------------------------------------------------------

each = pytest.mark.parametrize("combination", list(COMBINATIONS))


@each
def test_published_ports_bind_to_loopback_only(rendered, combination):
    ports = [(name, port) for name, service in rendered[combination]["services"].items() for port in service.get("ports", [])]
    assert ports and {port["host_ip"] for _, port in ports} == {"127.0.0.1"}, ports


@each
def test_images_are_pinned_and_local_images_never_pulled(rendered, combination):
    for name, service in rendered[combination]["services"].items():
        image = service["image"]
        if image.startswith("docker.elastic.co/"):
            assert image.endswith(f":{ELASTIC_VERSION}"), (name, image)
        else:
            assert image.startswith("django-elk/") and image.endswith(":local"), (name, image)
            assert service["pull_policy"] in ("build", "never"), (name, service["pull_policy"])
    assert "latest" not in json.dumps(rendered[combination]).lower()


@each
def test_every_service_has_a_memory_limit_within_its_profiles_budget(rendered, combination):
    services = rendered[combination]["services"]
    limits = {name: int(service["mem_limit"]) for name, service in services.items()}
    profile = combination.removesuffix("+own-app")
    assert sum(limit for name, limit in limits.items() if name not in ONE_SHOTS) <= LONG_RUNNING_BUDGET[profile], limits
    assert heap_bytes(services["logstash"]["environment"]["LS_JAVA_OPTS"]) < limits["logstash"]


@each
def test_long_running_services_restart_and_report_their_health(rendered, combination):
    services = rendered[combination]["services"]
    for name in set(services) - ONE_SHOTS:
        assert services[name]["restart"] == "unless-stopped", name
        assert healthcheck_of(services, name), f"{name} has no healthcheck"
    for name in set(services) & ONE_SHOTS:
        assert services[name]["restart"] == "no", name
    assert waits_on_missing_healthchecks(services) == []


@each
def test_every_dependency_is_a_service_of_the_combination(rendered, combination):
    services = rendered[combination]["services"]
    missing = {(name, target) for name, service in services.items() for target in service.get("depends_on", {}) if target not in services}
    assert missing == set()


@each
def test_no_logstash_variable_makes_its_entrypoint_rewrite_logstash_yml(rendered, combination):
    assert logstash_variables_env2yaml_would_write(rendered[combination]["services"]) == {}


@each
def test_secrets_reach_no_other_services_than_in_the_default_stack(rendered, combination):
    def holders(config):
        # A cluster node holds what the single node holds.
        return {
            secret: {
                "elasticsearch" if name in CLUSTER_NODES else name
                for name, service in config["services"].items() if value in service.get("environment", {}).values()
            }
            for secret, value in DUMMY_SECRETS.items()
        }

    default = holders(rendered["default"])
    assert all(holders(rendered[combination])[secret] <= default[secret] for secret in DUMMY_SECRETS)


@pytest.mark.parametrize("path", OVERRIDES, ids=lambda path: path.name)
def test_each_override_holds_no_secret_no_latest_and_only_documented_variables(path):
    text = path.read_text(encoding="utf-8")
    assert secret_literals(text) == []
    assert "latest" not in text.lower()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    # Documented as an assignment or as a commented-out one ("# NAME=example") with its comment.
    documented = set(re.findall(r"^(?:# )?([A-Za-z_][A-Za-z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE))
    assert {match.group(1) for match in REFERENCE.finditer(code)} - documented == set()


# --- own-app mode ---------------------------------------------------------------------------------


def test_own_app_mode_has_no_sample_app_and_no_volume_of_its_own(rendered):
    own_app = rendered["default+own-app"]
    assert set(own_app["services"]) == set(rendered["default"]["services"]) - SAMPLE_APP
    assert set(own_app["volumes"]) == {"elasticsearch-data", "kibana-data", "logstash-data"}


def test_own_app_mode_mounts_the_host_folder_read_only_in_place_of_the_app_logs(rendered, log_folder):
    def by_target(config):
        return {volume["target"]: volume for volume in config["services"]["logstash"]["volumes"]}

    default, own_app = by_target(rendered["default"]), by_target(rendered["default+own-app"])
    assert default[LOG_TARGET] == {"type": "volume", "source": "app-logs", "target": LOG_TARGET, "read_only": True, "volume": {}}
    assert {target: volume for target, volume in own_app.items() if target != LOG_TARGET} == {
        target: volume for target, volume in default.items() if target != LOG_TARGET
    }
    # A bind block without create_host_path: Compose then uses the Mount API, which refuses a
    # missing source instead of creating it (docker/compose pkg/compose/create.go, bindRequiresMountAPI).
    assert own_app[LOG_TARGET] == {"type": "bind", "source": str(log_folder), "target": LOG_TARGET, "read_only": True, "bind": {}}


@pytest.mark.parametrize("profile", ["default", "tls", "cluster"])
def test_the_other_services_are_the_same_as_in_the_profile_alone(rendered, profile):
    own_app = rendered[f"{profile}+own-app"]["services"]
    assert set(own_app) == set(rendered[profile]["services"]) - SAMPLE_APP
    for name in set(own_app) - {"logstash"}:
        assert own_app[name] == rendered[profile]["services"][name], name


@pytest.mark.parametrize("line", ["", "OWN_APP_LOG_DIR=\n"], ids=["missing", "empty"])
def test_own_app_mode_without_the_folder_stops_compose_naming_the_variable(home, tmp_path, line):
    env_file = tmp_path / "no-folder.env"
    env_file.write_text(env_with(DUMMY_SECRETS) + line, encoding="utf-8")
    result = render(home, env_file, *COMBINATIONS["default+own-app"])
    assert result.returncode != 0
    assert (
        "required variable OWN_APP_LOG_DIR is missing a value: "
        "OWN_APP_LOG_DIR is not set - set it in .env to your project's log folder"
    ) in result.stderr, result.stderr


def uncommented_example_lines() -> str:
    """The commented-out lines .env.example tells you to uncomment for own-app mode, in its own section."""
    section = ENV_EXAMPLE.read_text(encoding="utf-8").split("# Your own Django project instead of the sample app")[1]
    section = section.split("\n# ----", 2)[1]  # the banner's closing rule, then the section up to the next banner
    lines = re.findall(r"^# ((?:COMPOSE_FILE|OWN_APP_LOG_DIR)=.*)$", section, re.MULTILINE)
    assert [line.partition("=")[0] for line in lines] == ["COMPOSE_FILE", "OWN_APP_LOG_DIR"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The compose files and the Makefile, as in a checkout without .env."""
    for path in (COMPOSE_FILE, *OVERRIDES, REPO_ROOT / "Makefile"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def compose_in(directory: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return run_compose(home, *args, cwd=directory)


def test_the_env_example_lines_select_own_app_mode_from_the_projects_env(home, checkout, log_folder):
    example = uncommented_example_lines().replace("/srv/myproject/logs", str(log_folder))
    (checkout / ".env").write_text(env_with(DUMMY_SECRETS) + example, encoding="utf-8")
    result = compose_in(checkout, home, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert not SAMPLE_APP & set(config["services"])
    assert {volume["source"] for volume in config["services"]["logstash"]["volumes"] if volume["target"] == LOG_TARGET} == {
        str(log_folder)
    }


def test_a_relative_folder_is_relative_to_the_project(home, checkout):
    (checkout / "logs").mkdir()
    (checkout / ".env").write_text(env_with(DUMMY_SECRETS) + uncommented_example_lines().replace("/srv/myproject/logs", "./logs"))
    result = compose_in(checkout, home, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    volumes = json.loads(result.stdout)["services"]["logstash"]["volumes"]
    assert [volume["source"] for volume in volumes if volume["target"] == LOG_TARGET] == [str(checkout / "logs")]


# --- the Makefile in own-app mode ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, subcommand",
    [("down", "down"), ("ps", "ps --all"), ("logs", "logs --follow"), ("clean", "down --volumes")],
)
@pytest.mark.parametrize("secrets", [True, False], ids=["no-folder", "only-the-mode"])
def test_down_ps_logs_and_clean_work_in_own_app_mode_without_a_complete_env_and_reach_the_sample_app(
    home, checkout, target, subcommand, secrets
):
    mode = uncommented_example_lines().splitlines()[0] + "\n"
    (checkout / ".env").write_text((env_with(DUMMY_SECRETS) if secrets else "") + mode, encoding="utf-8")
    lines = make_dry_run(checkout, target, f"COMPOSE={shlex.quote(str(compose_binary()))}", "CONFIRM=yes")
    command_line = compose_command_line(lines, subcommand)
    environment = {"HOME": str(home), "PATH": os.environ["PATH"]}
    run = {"cwd": checkout, "env": environment, "capture_output": True, "text": True, "timeout": COMPOSE_TIMEOUT_SECONDS}
    plain = compose_in(checkout, home, "config", "-q")
    missing = "required variable OWN_APP_LOG_DIR is missing" if secrets else "is missing a value"
    assert plain.returncode != 0 and missing in plain.stderr, plain.stderr
    result = subprocess.run(["bash", "-c", as_config_check(command_line, subcommand)], **run, check=False)
    assert result.returncode == 0, f"{command_line}\n{result.stderr}"
    # The same command line lists every service, so `make down` stops a sample app started before.
    listed = subprocess.run(["bash", "-c", as_config_check(command_line, subcommand).replace("config -q", "config --services")], **run, check=False)
    assert SAMPLE_APP <= set(listed.stdout.split()), listed.stderr


def sample_app_enabled(directory: Path, home: Path) -> subprocess.CompletedProcess:
    """The Makefile's SAMPLE_APP_ENABLED test, which make up and make demo run, run in directory."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(directory), f"COMPOSE={shlex.quote(str(compose_binary()))}",
         "--eval", "print-test: ; @echo '$(SAMPLE_APP_ENABLED)'", "print-test"],
        capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=True,
    )
    return subprocess.run(
        ["bash", "-c", result.stdout.strip()], cwd=directory, env={"HOME": str(home), "PATH": os.environ["PATH"]},
        capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=False,
    )


def test_make_up_and_demo_know_whether_the_sample_app_runs(home, checkout, log_folder):
    (checkout / ".env").write_text(env_with(DUMMY_SECRETS) + f"OWN_APP_LOG_DIR={log_folder}\n", encoding="utf-8")
    assert sample_app_enabled(checkout, home).returncode == 0
    with (checkout / ".env").open("a", encoding="utf-8") as env:
        env.write(uncommented_example_lines().splitlines()[0] + "\n")
    assert sample_app_enabled(checkout, home).returncode == 1


def test_make_demo_refuses_own_app_mode_with_a_clear_error(home, checkout, log_folder):
    (checkout / ".env").write_text(
        env_with(DUMMY_SECRETS) + uncommented_example_lines().replace("/srv/myproject/logs", str(log_folder)), encoding="utf-8"
    )
    lines = make_dry_run(checkout, "demo", f"COMPOSE={shlex.quote(str(compose_binary()))}")
    [check] = [line for line in lines if "config -q" in line]
    result = subprocess.run(
        ["bash", "-c", check], cwd=checkout, env={"HOME": str(home), "PATH": os.environ["PATH"]},
        capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=False,
    )
    assert result.returncode == 1
    assert "error: make demo sends traffic to the sample app, which .env leaves out" in result.stderr, result.stderr


def test_make_up_prints_no_app_url_or_demo_hint_without_the_sample_app():
    recipe = "\n".join(make_dry_run(REPO_ROOT, "up", "COMPOSE=docker compose"))
    printing = recipe[recipe.index("port kibana 5601"):]
    with_app, _, without_app = printing.partition("else")
    assert "port app 8000" in with_app and "make demo" in with_app
    assert "port app" not in without_app and "make demo" not in without_app and "OWN_APP_LOG_DIR" in without_app


# --- make up's check of the host folder -------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Path:
    destination = copy_of_the_stack(tmp_path_factory.mktemp("stack"))
    shutil.copy(OWN_APP_FILE, destination / OWN_APP_FILE.name)
    return destination


def check_folder(home: Path, stack: Path, tmp_path: Path, folder: Path) -> subprocess.CompletedProcess:
    env_file = tmp_path / "check.env"
    env_file.write_text(env_with(DUMMY_SECRETS) + f"OWN_APP_LOG_DIR={folder}\n", encoding="utf-8")
    config = render(home, env_file, stack / "docker-compose.yml", stack / OWN_APP_FILE.name)
    assert config.returncode == 0, config.stderr
    return subprocess.run(
        [sys.executable, str(PERMISSION_CHECK)], input=config.stdout, cwd=stack,
        capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=False,
    )


def project_logs(tmp_path: Path, *names: str, mode: int = 0o644) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    for name in names:
        (folder / name).write_text("INFO 2026-11-26 13:02:38,102 views hello\n", encoding="utf-8")
        (folder / name).chmod(mode)
    return folder


def not_logstash_or_skip() -> None:
    """Modes judged for uid 1000 mean what the tests expect only when the files are not its own."""
    if os.getuid() == LOGSTASH_ID or os.getgid() == LOGSTASH_ID:
        pytest.skip("the tests run as uid or gid 1000, Logstash's own: every file they create is Logstash's")


def fix_lines(stderr: str) -> list[str]:
    """The commands the error proposes, without their explanation in parentheses."""
    index = stderr.splitlines().index("Fix it with one of these, then make up again:")
    return [line.strip().split("   (")[0] for line in stderr.splitlines()[index + 1:]]


def test_a_readable_folder_with_the_pipelines_file_names_passes(home, stack, tmp_path):
    folder = project_logs(tmp_path, *READ_NAMES, "django_debug.log.1", "security.log.3")
    result = check_folder(home, stack, tmp_path, folder)
    assert (result.returncode, result.stderr) == (0, "")


def test_an_empty_folder_passes_since_logstash_waits_for_the_files(home, stack, tmp_path):
    result = check_folder(home, stack, tmp_path, project_logs(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")


def test_a_missing_folder_is_an_error_naming_the_variable(home, stack, tmp_path):
    result = check_folder(home, stack, tmp_path, tmp_path / "typo")
    assert result.returncode == 1
    assert f"error: OWN_APP_LOG_DIR in .env is {tmp_path / 'typo'}, which does not exist" in result.stderr, result.stderr
    assert not (tmp_path / "typo").exists()


def test_a_file_instead_of_a_folder_is_an_error(home, stack, tmp_path):
    (tmp_path / "django_debug.log").write_text("", encoding="utf-8")
    result = check_folder(home, stack, tmp_path, tmp_path / "django_debug.log")
    assert result.returncode == 1
    assert "which is not a folder: set it to the folder that holds the log files" in result.stderr, result.stderr


def test_a_private_folder_and_log_file_are_listed_and_the_chmod_fix_works(home, stack, tmp_path):
    not_logstash_or_skip()
    folder = project_logs(tmp_path, "django_debug.log", "access.log", "notes.txt")
    folder.chmod(0o700)
    (folder / "security.log").write_text("", encoding="utf-8")
    for name in ("security.log", "notes.txt"):  # Logstash never reads notes.txt: not listed
        (folder / name).chmod(0o600)
    result = check_folder(home, stack, tmp_path, folder)
    assert result.returncode == 1
    assert "error: Logstash cannot read your project's logs in" in result.stderr and "uid 1000, gid 1000" in result.stderr
    listed = [line.split(" (mode")[0].strip() for line in result.stderr.splitlines() if " (mode " in line]
    assert listed == [str(folder), str(folder / "security.log")], result.stderr
    by_mode, _ = fix_lines(result.stderr)
    assert by_mode == f"chmod o+rx {folder} && chmod o+r {folder / 'security.log'}"
    subprocess.run(["bash", "-c", by_mode], check=True, timeout=COMPOSE_TIMEOUT_SECONDS)
    result = check_folder(home, stack, tmp_path, folder)
    assert (result.returncode, result.stderr) == (0, "")


def setfacl_or_skip() -> None:
    if shutil.which("setfacl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check the ACL fix with the real setfacl (Debian package acl)")
        pytest.skip("setfacl is not installed (Debian package acl)")


def test_the_setfacl_fix_lets_logstash_in_and_keeps_others_out(home, stack, tmp_path):
    not_logstash_or_skip()
    setfacl_or_skip()
    folder = project_logs(tmp_path, "security.log", mode=0o600)
    folder.chmod(0o700)
    result = check_folder(home, stack, tmp_path, folder)
    assert result.returncode == 1
    _, by_acl = fix_lines(result.stderr)
    assert by_acl == f"setfacl -m u:1000:rx {folder} && setfacl -m u:1000:r {folder / 'security.log'} && setfacl -d -m u:1000:r {folder}"
    subprocess.run(["bash", "-c", by_acl], check=True, timeout=COMPOSE_TIMEOUT_SECONDS)
    # Others still may not read: only the ACL lets Logstash in, and the check reads it.
    assert folder.stat().st_mode & 0o007 == 0 and (folder / "security.log").stat().st_mode & 0o007 == 0
    result = check_folder(home, stack, tmp_path, folder)
    assert (result.returncode, result.stderr) == (0, "")


def test_files_named_differently_get_a_warning_naming_what_logstash_reads(home, stack, tmp_path):
    result = check_folder(home, stack, tmp_path, project_logs(tmp_path, "myapp.log", "debug.log"))
    assert result.returncode == 0
    assert "warning: Logstash reads only django_debug.log, django_debug.log.*, django_debug.log-[0-9]*, security.log" in result.stderr, result.stderr
    assert "it holds debug.log, myapp.log" in result.stderr


# --- the permission model against the kernel ---------------------------------------------------------


def log_folder_access():
    spec = importlib.util.spec_from_file_location("log_folder_access", SCRIPTS_DIR / "log_folder_access.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODES = (0o600, 0o640, 0o604, 0o400, 0o060, 0o006, 0o044, 0o000)
OWNERS = ((0, 0), (LOGSTASH_ID, 0), (0, LOGSTASH_ID), (LOGSTASH_ID, LOGSTASH_ID), (2000, 2000))
ACLS = (None, "u:1000:r", "u:1000:-", "g:1000:r", "u:1000:r,m::-", "g::r", "u:2000:r", "g:1000:-,o::r")
# The kernel's answer for each path, by doing what Logstash does: open a file for reading, enter
# and list a folder. (dash's test -r judges the mode bits alone and ignores ACLs.)
KERNEL_VERDICTS = (
    'for p; do if [ -d "$p" ]; then (cd "$p" && ls . >/dev/null) 2>/dev/null && echo 1 || echo 0; '
    'else (: < "$p") 2>/dev/null && echo 1 || echo 0; fi; done'
)


def test_the_access_model_agrees_with_the_kernel_for_uid_1000():
    if os.geteuid() != 0:
        pytest.skip("only root can ask the kernel as uid 1000 (setuid), the Logstash container's user")
    setfacl_or_skip()
    model = log_folder_access()
    base = Path(tempfile.mkdtemp())  # not under pytest's 0700 tmp root: uid 1000 must reach it
    try:
        base.chmod(0o711)
        paths = []
        for index, (mode, (uid, gid), acl) in enumerate((m, o, a) for m in MODES for o in OWNERS for a in ACLS):
            for kind in ("file", "dir"):
                path = base / f"{kind}-{index}"
                path.mkdir() if kind == "dir" else path.write_text("x")
                os.chown(path, uid, gid)
                path.chmod(mode | (mode & 0o444) >> 2 if kind == "dir" else mode)  # r gives x to folders
                if acl:
                    subprocess.run(["setfacl", "-m", acl, str(path)], check=True, timeout=COMPOSE_TIMEOUT_SECONDS)
                paths.append(path)
        answers = subprocess.run(
            ["/bin/sh", "-c", KERNEL_VERDICTS, "sh", *map(str, paths)], user=LOGSTASH_ID, group=LOGSTASH_ID,
            extra_groups=[LOGSTASH_ID], capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=True,
        ).stdout.split()
        kernel = {str(path): answer == "1" for path, answer in zip(paths, answers, strict=True)}
        wanted = {"file": model.READ, "dir": model.READ | model.SEARCH}
        disagreements = {
            path.name: (kernel[str(path)], oct(path.stat().st_mode), subprocess.run(["getfacl", "-c", "-p", str(path)], capture_output=True, text=True).stdout)
            for path in paths if model.allowed(path, wanted[path.name.split("-")[0]]) != kernel[str(path)]
        }
        assert disagreements == {}
        assert set(kernel.values()) == {True, False}
    finally:
        shutil.rmtree(base)


def test_on_macos_the_check_asks_whether_you_may_read_the_files(monkeypatch, tmp_path):
    # Docker Desktop's file sharing opens them as the user running it, not as uid 1000.
    not_logstash_or_skip()
    model = log_folder_access()
    private = tmp_path / "security.log"
    private.write_text("", encoding="utf-8")
    private.chmod(0o600)
    assert not model.readable_by_logstash(private, model.READ)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert model.readable_by_logstash(private, model.READ)
