"""The logging package installed by pip into a fresh venv outside the repository, in a new Django project.

Installed twice, as the README says: from its folder (a copy: pip builds in place, and the
checkout stays untouched), and from a git URL (a temporary clone of this checkout's committed
state, ``#subdirectory=django-elk-logging``), each time with Django at the sample app's pin and
none of the extras. ``django-admin startproject`` makes the project, the
package README's settings lines switch it on, and Django's test client drives requests (a 404, a view
that raises, a failed login, a login and a logout through the admin). The log files it writes
are then read by the pipeline's rules (stack_models/logstash_pipeline.py, on Joni when jruby is
here), which must give the same fields as for the sample service's lines.

pip needs PyPI (Django and setuptools, the package's build backend): its cache makes reruns fast.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_pipeline import Pipeline
from tests.support.engines import engine_for_tests
from tests.support.paths import APP_DIR, PACKAGE_DIR, REPO_ROOT

PIP_TIMEOUT = 600
RUN_TIMEOUT = 120
PASSWORD = "Tr0ub4dor-and-3-install"
# The package README's settings lines (django-elk-logging/README.md, "Switch it on").
README_SETTINGS = re.compile(r"^## Switch it on\n.*?^```python\n(.*?)^```", re.S | re.M)
# Requests and their answers, printed as JSON by a script the fresh venv's python runs.
DRIVER = f"""
import json, os
import django

os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings"
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
call_command("migrate", verbosity=0)
get_user_model().objects.create_superuser("alice", "alice@example.com", {PASSWORD!r})
client = Client(raise_request_exception=False, HTTP_USER_AGENT="install-test/1.0", REMOTE_ADDR="192.0.2.10")
responses = {{
    "not_found": client.get("/nope/"),
    "boom": client.get("/boom/"),
    "failed_login": client.post("/admin/login/", {{"username": "alice", "password": "wrong"}}),
    "login": client.post("/admin/login/", {{"username": "alice", "password": {PASSWORD!r}}}),
    "logout": client.post("/admin/logout/"),
}}
print(json.dumps({{name: [response.status_code, response["X-Request-ID"]] for name, response in responses.items()}}))
"""
BOOM_VIEW = '''

def boom(request):
    raise RuntimeError("this view fails on purpose")


urlpatterns.append(path("boom/", boom))
'''


def pinned_django() -> str:
    [pin] = [line for line in (APP_DIR / "requirements.txt").read_text().splitlines() if line.startswith("Django==")]
    return pin


def clean_environment() -> dict[str, str]:
    """No PYTHONPATH, no DJANGO_*: the fresh venv sees only what pip installed into it."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH" and not key.startswith("DJANGO_")}


def run(command: list, timeout: int = RUN_TIMEOUT, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=clean_environment(), **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def fresh_venv(directory: Path) -> Path:
    """A venv without pip; this session's pip installs into it (pip --python), with pip's cache."""
    venv.EnvBuilder(with_pip=False).create(directory)
    return directory / "bin" / "python"


def pip_install(python: Path, *requirements: str) -> None:
    run([sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "--quiet",
         "install", *requirements], timeout=PIP_TIMEOUT)


def committed_clone(destination: Path) -> str:
    """A repository holding this checkout's HEAD commit (detached or shallow too); its commit id."""
    commit = run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"]).stdout.strip()
    run(["git", "init", "--quiet", str(destination)])
    # HEAD, not the commit id: a repository always offers its HEAD, even a detached one; and a
    # shallow checkout (CI's) gives a shallow copy only with --update-shallow.
    run(["git", "-C", str(destination), "fetch", "--quiet", "--update-shallow", str(REPO_ROOT), "HEAD"])
    assert run(["git", "-C", str(destination), "rev-parse", "FETCH_HEAD"]).stdout.strip() == commit
    run(["git", "-C", str(destination), "update-ref", "refs/heads/snapshot", commit])
    run(["git", "-C", str(destination), "symbolic-ref", "HEAD", "refs/heads/snapshot"])
    return commit


@pytest.fixture(scope="module", params=["path", "git"])
def project(request, tmp_path_factory):
    """The throwaway project after its requests: its folder, the venv's python and each response."""
    workdir = tmp_path_factory.mktemp(f"install-from-{request.param}")
    python = fresh_venv(workdir / "venv")
    if request.param == "path":
        # A copy of the folder: pip builds in place, and the checkout stays as it is.
        source = str(workdir / "django-elk-logging")
        shutil.copytree(PACKAGE_DIR, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    else:
        commit = committed_clone(workdir / "repository")
        source = f"django-elk-logging @ git+file://{workdir / 'repository'}@{commit}#subdirectory=django-elk-logging"
    pip_install(python, pinned_django(), source)
    run([str(python.parent / "django-admin"), "startproject", "shop"], cwd=workdir)
    settings = workdir / "shop" / "shop" / "settings.py"
    readme_settings = README_SETTINGS.search((PACKAGE_DIR / "README.md").read_text())
    assert readme_settings, "django-elk-logging/README.md shows no settings under 'Switch it on'"
    settings.write_text(settings.read_text() + "\n\n" + readme_settings.group(1))
    urls = workdir / "shop" / "shop" / "urls.py"
    urls.write_text(urls.read_text() + BOOM_VIEW)
    answers = json.loads(run([str(python), "-c", DRIVER], cwd=workdir / "shop").stdout)
    return workdir / "shop", python, answers


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_patterns_dir(
        PYGROK_PATTERNS_DIR, {"LOGSTASH_WRITER_PASSWORD": "unused", "TIME_ZONE": "UTC"}, engine=engine_for_tests()
    )


@pytest.fixture(scope="module")
def events(project, pipeline) -> dict[str, list]:
    log_dir = project[0] / "logs"
    return {name: [event for event, _ in pipeline.process_file(log_dir / name)] for name in ("django_debug.log", "security.log")}


def request_id(project, name: str) -> str:
    return project[2][name][1]


def test_the_venv_runs_the_installed_package_without_the_optional_dependencies(project):
    _, python, _ = project
    result = run([str(python), "-c", (
        "import importlib.metadata, importlib.util, django_elk_logging\n"
        "print(django_elk_logging.__file__, importlib.metadata.version('django-elk-logging'))\n"
        "print(*(importlib.util.find_spec(name) is None for name in ('gunicorn', 'sentry_sdk')))"
    )], cwd=python.parents[1])
    location, version, no_gunicorn, no_sentry = result.stdout.split()
    assert Path(location).is_relative_to(python.parents[1]), location
    assert version == re.search(r'__version__ = "([^"]+)"', (PACKAGE_DIR / "src/django_elk_logging/__init__.py").read_text())[1]
    assert (no_gunicorn, no_sentry) == ("True", "True")


def test_the_requests_got_their_answers_and_ids(project):
    answers = project[2]
    assert {name: status for name, (status, _) in answers.items()} == {
        "not_found": 404, "boom": 500, "failed_login": 200, "login": 302, "logout": 200,
    }
    ids = [request_id for _, request_id in answers.values()]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)


def test_every_line_parses_into_one_event_without_a_failure_tag(events):
    for name, found in events.items():
        assert found, f"{name} is empty"
        for event in found:
            assert not [tag for tag in event.get("tags", []) if "failure" in tag], (name, event)


def test_each_record_keeps_its_own_record_id_and_the_request_id(project, events):
    for name in events:
        lines = [line for line in (project[0] / "logs" / name).read_text().splitlines() if not line.startswith("\t")]
        written = [re.search(r" record_id=([0-9a-f]{16})[ \]]", line)[1] for line in lines]
        assert [event["@metadata"]["record_id"] for event in events[name]] == written
    not_found = one(events["django_debug.log"], "Not Found: /nope/")
    assert not_found["log"]["level"] == "WARNING" and not_found["log"]["logger"] == "django.request"
    assert not_found["http"]["request"]["id"] == request_id(project, "not_found")


def test_a_traceback_is_one_event_with_its_request(project, events):
    boom = one(events["django_debug.log"], "Internal Server Error: /boom/")

    assert boom["log"]["level"] == "ERROR"
    assert boom["http"]["request"]["id"] == request_id(project, "boom")
    trace = boom["error"]["stack_trace"].split("\n")
    assert trace[0] == "\tTraceback (most recent call last):"
    assert trace[-1] == "\tRuntimeError: this view fails on purpose"
    assert (boom["error"]["type"], boom["error"]["message"]) == ("RuntimeError", "this view fails on purpose")


@pytest.mark.parametrize(
    ("answer", "action", "message"),
    [
        ("failed_login", "user_login_failed", "Login failed: alice"),
        ("login", "user_logged_in", "User logged in: alice"),
        ("logout", "user_logged_out", "User logged out: alice"),
    ],
)
def test_logins_logouts_and_failures_are_security_events_with_the_client(project, events, answer, action, message):
    event = one(events["security.log"], message)

    assert event["event"]["action"] == action
    assert event["event"]["dataset"] == "django.security"
    assert event["user"]["name"] == "alice"
    assert event["http"]["request"]["id"] == request_id(project, answer)
    assert event["source"]["ip"] == "192.0.2.10"
    assert event["url"]["path"] == ("/admin/logout/" if answer == "logout" else "/admin/login/")
    assert event["user_agent"]["original"] == "install-test/1.0"


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def one(found: list, message: str) -> dict:
    [event] = [event for event in found if event.get("message") == message]
    return event


def test_the_images_install_command_resolves_the_apps_exact_pins_within_the_packages_ranges(tmp_path):
    dockerfile = (APP_DIR / "Dockerfile").read_text()
    command = re.search(r'pip install --requirement /tmp/requirements\.txt "/tmp/django-elk-logging(\[[a-z,]+\])"', dockerfile)
    assert command, "app/Dockerfile no longer installs the package with the app's requirements"
    python = fresh_venv(tmp_path / "venv")
    report = tmp_path / "report.json"
    package = shutil.copytree(PACKAGE_DIR, tmp_path / "django-elk-logging", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    pip_install(python, "--dry-run", "--ignore-installed", "--report", str(report),
                "--requirement", str(APP_DIR / "requirements.txt"), f"{package}{command[1]}")
    resolved = {normalized(item["metadata"]["name"]): item["metadata"]["version"] for item in json.loads(report.read_text())["install"]}
    pins = dict(line.split("==") for line in (APP_DIR / "requirements.txt").read_text().splitlines() if "==" in line)
    pins = {normalized(name): version for name, version in pins.items()}
    assert {name: resolved[name] for name in pins} == pins
    assert set(resolved) == set(pins) | {"django-elk-logging"}
