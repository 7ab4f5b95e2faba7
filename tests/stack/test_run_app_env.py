"""scripts/run_app_env.py gives make run-app's app what the real Compose binary gives the app container from .env.

The compose file is read, never a copy of its list; Compose's own rendering (`config --format json`) is
the reference. Values are written out where a test states one.
"""

import json
from pathlib import Path

import pytest

import run_app_env
from tests.support.compose import DUMMY_SECRETS, env_with, run_compose
from tests.support.paths import COMPOSE_FILE

# Each survives .env, Compose and run-app as written: single quotes keep everything; unquoted, `$(` is no
# reference and ` #` starts a comment.
TRICKY = {
    "DEMO_PASSWORD": ("'pa ss $(touch pwned) \"q\" \\x\\\\ `id` end'", 'pa ss $(touch pwned) "q" \\x\\\\ `id` end'),
    "DJANGO_CSRF_TRUSTED_ORIGINS": ("https://a$(id)\"b\"'c'\\d", "https://a$(id)\"b\"'c'\\d"),
    "SENTRY_RELEASE": ("v1.2 # the release", "v1.2"),
}


def compose_app_environment(home: Path, env_file: Path, environ: dict[str, str]) -> dict[str, str]:
    """The app container's environment as Compose renders it; its JSON writes each $ as $$ (to be read again)."""
    result = run_compose(home, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "--format", "json",
                         environment=environ)
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)["services"]["app"]["environment"]
    return {name: value.replace("$$", "$") for name, value in rendered.items()}


def test_run_app_gets_the_app_containers_settings_as_compose_renders_them(home, tmp_path):
    env_file = tmp_path / ".env"
    values = {**DUMMY_SECRETS, **{name: raw for name, (raw, _) in TRICKY.items()}, "TIME_ZONE": "Europe/Paris",
              "DJANGO_DEBUG": "true"}
    env_file.write_text(env_with(values, without="GUNICORN_TIMEOUT"), encoding="utf-8")
    # Set in the environment, even empty, a variable wins over .env (an empty one then takes the default).
    environ = {"TIME_ZONE": "Asia/Kathmandu", "DJANGO_DEBUG": "", "APP_LOG_LEVEL": "DEBUG"}

    ours = run_app_env.container_settings(environ, env_file, COMPOSE_FILE)

    assert ours == compose_app_environment(home, env_file, environ)
    for name, (_, value) in TRICKY.items():
        assert ours[name] == value, name
    assert (ours["TIME_ZONE"], ours["DJANGO_DEBUG"], ours["APP_LOG_LEVEL"]) == ("Asia/Kathmandu", "false", "DEBUG")
    assert ours["GUNICORN_TIMEOUT"] == "30"  # left out of .env: the compose file's default
    assert ours["DJANGO_SECURE_COOKIES"] == "false"  # fixed in the compose file
    assert "ELASTIC_PASSWORD" not in ours


def test_the_list_is_the_compose_files_app_service_environment():
    names = set(run_app_env.service_environment(COMPOSE_FILE.read_text(encoding="utf-8"), COMPOSE_FILE))

    assert {"DJANGO_SECRET_KEY", "DEMO_USERNAME", "DEMO_PASSWORD", "TIME_ZONE", "GUNICORN_WORKERS", "SENTRY_DSN"} <= names
    assert not {"ELASTIC_PASSWORD", "LOGSTASH_WRITER_PASSWORD", "DJANGO_LOG_DIR", "GUNICORN_BIND"} & names


def test_a_required_setting_env_leaves_empty_may_come_from_the_environment(home, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(env_with({**DUMMY_SECRETS, "DEMO_PASSWORD": ""}), encoding="utf-8")

    with pytest.raises(run_app_env.RunAppError, match="DEMO_PASSWORD: DEMO_PASSWORD is empty - run make env$"):
        run_app_env.container_settings({}, env_file, COMPOSE_FILE)
    ours = run_app_env.container_settings({"DEMO_PASSWORD": "from-the-environment"}, env_file, COMPOSE_FILE)
    assert ours["DEMO_PASSWORD"] == "from-the-environment"
    assert compose_app_environment(home, env_file, {"DEMO_PASSWORD": "from-the-environment"}) == ours


def test_without_env_the_app_gets_run_apps_paths_and_its_own_private_key(tmp_path):
    environ = {"PATH": "/usr/bin", "DEMO_USERNAME": "demo", "GUNICORN_BIND": "127.0.0.1:8765", "DJANGO_LOG_DIR": "/elsewhere"}

    first = run_app_env.run_app_environment(environ, tmp_path / ".env", COMPOSE_FILE, tmp_path / "var")
    second = run_app_env.run_app_environment(environ, tmp_path / ".env", COMPOSE_FILE, tmp_path / "var")

    key_file = tmp_path / "var" / "secret_key"
    assert first == second == {
        "PATH": "/usr/bin",
        "DEMO_USERNAME": "demo",
        "DJANGO_SECRET_KEY": key_file.read_text(encoding="utf-8").rstrip("\n"),
        "DJANGO_LOG_DIR": f"{tmp_path}/var/log",
        "DJANGO_SQLITE_PATH": f"{tmp_path}/var/db.sqlite3",
        "DJANGO_STATIC_ROOT": f"{tmp_path}/var/static",
        "DJANGO_SECURE_COOKIES": "false",
        "GUNICORN_BIND": "127.0.0.1:8765",
    }
    assert len(first["DJANGO_SECRET_KEY"]) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("      - DJANGO_DEBUG=false", r"compose\.yml:6: run-app reads the app service's environment as `NAME: value` lines"),
        ("      DJANGO_DEBUG: [false]", r"compose\.yml:6: run-app reads only plain, \"quoted\" \(no escapes\) or 'quoted'"),
        ('      DJANGO_DEBUG: "a\\tb"', r"compose\.yml:6: run-app reads only plain"),
    ],
)
def test_a_compose_form_run_app_does_not_read_is_refused_naming_the_line(tmp_path, line, message):
    compose_file = tmp_path / "compose.yml"
    compose_file.write_text(f"services:\n  app:\n    image: x\n    environment:\n      TIME_ZONE: UTC\n{line}\n",
                            encoding="utf-8")

    with pytest.raises(run_app_env.RunAppError, match=message):
        run_app_env.service_environment(compose_file.read_text(encoding="utf-8"), compose_file)


@pytest.mark.parametrize(
    ("template", "expected"),
    [("${A}", "a"), ("$A-x", "a-x"), ("${B:-d}", "d"), ("${B-d}", ""), ("${C-d}", "d"), ("$$A", "$A"), ("x${A}y$$", "xay$")],
)
def test_references_resolve_as_compose_resolves_them(template, expected):
    assert run_app_env.interpolate(template, {"A": "a", "B": ""}, "here") == expected


@pytest.mark.parametrize("template", ["${A:+x}", "${A", "$", "a$-b", "${A:-${B}}"])
def test_a_reference_run_app_does_not_read_is_refused(template):
    with pytest.raises(run_app_env.RunAppError, match="here: a \\$ that is no reference Compose and run-app both read"):
        run_app_env.interpolate(template, {"A": "a"}, "here")

