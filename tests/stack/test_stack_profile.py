"""scripts/stack_profile.py: which profile COMPOSE_FILE selects, the vm.max_map_count check, its CLI."""

import re
import subprocess
import sys

import pytest

import stack_profile
from tests.support.compose import COMBINATIONS, COMPOSE_TIMEOUT_SECONDS, compose_file_value, run_compose
from tests.support.paths import REPO_ROOT, SCRIPTS_DIR

SCRIPT = SCRIPTS_DIR / "stack_profile.py"


@pytest.mark.parametrize("value, name", [
    ("", "default"),
    ("docker-compose.yml", "default"),
    ("./docker-compose.yml", "default"),
    ("docker-compose.yml:docker-compose.own-app.yml", "default"),
    ("docker-compose.yml:docker-compose.tls.yml", "tls"),
    ("./docker-compose.yml:./docker-compose.tls.yml:docker-compose.own-app.yml", "tls"),
    ("docker-compose.yml:docker-compose.tls.yml:docker-compose.cluster.yml", "cluster"),
    (f"{REPO_ROOT}/docker-compose.yml:docker-compose.tls.yml:docker-compose.cluster.yml:docker-compose.own-app.yml",
     "cluster"),
])
def test_profile_of_every_valid_list(value, name):
    assert stack_profile.profile_of(value) == stack_profile.Profile(name)


def test_profile_of_follows_compose_path_separator():
    assert stack_profile.profile_of("docker-compose.yml;docker-compose.tls.yml", ";").name == "tls"


def test_the_profile_names_tls_and_the_scheme():
    assert [(p.tls, p.scheme) for p in map(stack_profile.Profile, ("default", "tls", "cluster"))] == [
        (False, "http"), (True, "https"), (True, "https"),
    ]


def test_a_cluster_without_tls_is_refused_saying_why():
    with pytest.raises(stack_profile.ProfileError, match=r"docker-compose.cluster.yml needs docker-compose.tls.yml before it"):
        stack_profile.profile_of("docker-compose.yml:docker-compose.cluster.yml")


@pytest.mark.parametrize("value", [
    "docker-compose.tls.yml:docker-compose.yml",
    "docker-compose.yml:docker-compose.cluster.yml:docker-compose.tls.yml",
    "docker-compose.yml:docker-compose.own-app.yml:docker-compose.tls.yml",
    "compose.yaml",
    "docker-compose.tls.yml",
])
def test_a_wrong_order_or_a_missing_base_is_refused_listing_the_profiles(value):
    with pytest.raises(stack_profile.ProfileError) as error:
        stack_profile.profile_of(value)
    message = str(error.value)
    assert message.startswith(f"COMPOSE_FILE={value}")
    assert "cluster: COMPOSE_FILE=docker-compose.yml:docker-compose.tls.yml:docker-compose.cluster.yml" in message


@pytest.mark.parametrize(("value", "name"), [
    ("docker-compose.yml:docker-compose.override.yml", "default"),
    ("docker-compose.yml:docker-compose.tls.yml:docker-compose.override.yml:docker-compose.own-app.yml", "tls"),
])
def test_other_files_may_follow_the_profiles_files(value, name):
    assert stack_profile.profile_of(value) == stack_profile.Profile(name)


@pytest.mark.parametrize("value", ["docker-compose.yml::docker-compose.tls.yml", ":docker-compose.yml", "docker-compose.yml: "])
def test_an_empty_piece_is_refused_as_the_real_compose_refuses_it(tmp_path, value):
    result = run_compose(tmp_path, "config", "-q", cwd=REPO_ROOT, environment={"COMPOSE_FILE": value})
    assert result.returncode != 0, "Compose accepted an empty COMPOSE_FILE entry: this check would be wrong"
    with pytest.raises(stack_profile.ProfileError, match=r"has an empty entry .* Compose cannot read it"):
        stack_profile.profile_of(value)


def test_profile_files_match_the_overlays_header_lines_and_the_tests_profiles():
    # One source: the line each overlay's header tells you to put in .env.
    for name in ("tls", "cluster"):
        text = (REPO_ROOT / f"docker-compose.{name}.yml").read_text(encoding="utf-8")
        [line] = re.findall(r"^#\s+COMPOSE_FILE=(\S+)$", text, re.MULTILINE)
        assert line == ":".join(stack_profile.PROFILE_FILES[name]), name
    assert {name: compose_file_value(COMBINATIONS[name]) for name in ("default", "tls", "cluster")} == {
        name: ":".join(files) for name, files in stack_profile.PROFILE_FILES.items()
    }


def test_the_environment_wins_over_env(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("COMPOSE_FILE=docker-compose.yml;docker-compose.tls.yml\nCOMPOSE_PATH_SEPARATOR=;\n",
                        encoding="utf-8")
    values = stack_profile.compose_values({"COMPOSE_FILE": "docker-compose.yml"}, env_file)
    assert values["COMPOSE_FILE"] == "docker-compose.yml"
    assert stack_profile.selected_profile(values).name == "default"
    # .env's separator splits .env's list, as Compose reads both from it.
    assert stack_profile.selected_profile(stack_profile.compose_values({}, env_file)).name == "tls"
    assert stack_profile.compose_values({}, tmp_path / "missing.env") == {}
    env_file.write_text("ES_HEAP=512m\n", encoding="utf-8")
    assert stack_profile.selected_profile(stack_profile.compose_values({}, env_file)).name == "default"


@pytest.mark.parametrize("value, problem", [
    ("262144", None),
    ("262144\n", None),
    ("1048576", None),
    ("262143", "the Docker host's vm.max_map_count is 262143; Elasticsearch nodes of a cluster need at least 262144"),
    ("65530", "the Docker host's vm.max_map_count is 65530;"),
    ("", "could not read the Docker host's vm.max_map_count (got '')."),
    ("-1", "could not read the Docker host's vm.max_map_count (got '-1')."),
    ("cat: /proc/sys/vm/max_map_count: No such file", "could not read the Docker host's vm.max_map_count"),
])
def test_max_map_count_boundaries(value, problem):
    found = stack_profile.max_map_count_problem(value)
    assert found is None if problem is None else found.startswith(problem), found


def run_script(*args: str, cwd=REPO_ROOT, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=cwd, env=environment or {}, capture_output=True, text=True,
        timeout=COMPOSE_TIMEOUT_SECONDS, check=False,
    )


@pytest.mark.parametrize("value, line, values", [
    ("docker-compose.yml", "PROFILE=default TLS= SCHEME=http",
     "default||http"),
    ("docker-compose.yml:docker-compose.tls.yml:docker-compose.own-app.yml",
     "PROFILE=tls TLS=yes SCHEME=https", "tls|yes|https"),
    ("docker-compose.yml:docker-compose.tls.yml:docker-compose.cluster.yml",
     "PROFILE=cluster TLS=yes SCHEME=https", "cluster|yes|https"),
])
def test_the_shell_command_prints_assignments_the_shell_can_eval(value, line, values):
    result = run_script("shell", environment={"COMPOSE_FILE": value})
    assert (result.returncode, result.stdout, result.stderr) == (0, line + "\n", "")
    # make evals the printed line (`eval "$$(...)"`): the variables must then hold exactly these values.
    evaluated = subprocess.run(
        ["sh", "-c", 'eval "$(cat)" && echo "$PROFILE|$TLS|$SCHEME"'],
        input=result.stdout, capture_output=True, text=True, timeout=COMPOSE_TIMEOUT_SECONDS, check=True,
    )
    assert evaluated.stdout == values + "\n"


def test_the_shell_command_refuses_a_bad_profile_with_exit_2():
    result = run_script("shell", environment={"COMPOSE_FILE": "docker-compose.yml:docker-compose.cluster.yml"})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: COMPOSE_FILE=docker-compose.yml:docker-compose.cluster.yml: ")


@pytest.mark.parametrize("value, code", [("262144", 0), ("262143", 1), ("garbage", 1)])
def test_the_max_map_count_command_exits_1_with_the_problem(value, code):
    result = run_script("max-map-count", value)
    assert result.returncode == code
    assert (result.stderr == "") is (code == 0)
    if code:
        assert result.stderr.startswith("error: ")


@pytest.mark.parametrize("args", [[], ["shell", "extra"], ["max-map-count"], ["unknown"]])
def test_a_wrong_command_line_prints_the_usage_with_exit_2(args):
    result = run_script(*args)
    assert result.returncode == 2 and "python3 scripts/stack_profile.py shell" in result.stderr


def test_env_examples_profile_lines_select_the_profile_they_name():
    text = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    lines = dict(re.findall(r"^#\s+(default|tls|cluster)\s+[^:]+:\s+COMPOSE_FILE=(\S+)$", text, re.MULTILINE))
    assert sorted(lines) == ["cluster", "default", "tls"]
    assert {name: stack_profile.profile_of(value).name for name, value in lines.items()} == {
        "default": "default", "tls": "tls", "cluster": "cluster"}
