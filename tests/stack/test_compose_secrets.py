"""No secret on any process's command line, which the host's `ps` shows to every user on Linux.

Every healthcheck of every combination is run here for real, under strace, with the environment
its container gets (the dummy secrets of tests/support/compose.py): no program it starts may hold a
secret in its arguments. The Elasticsearch healthcheck's credentials are then sent by the real curl
to a local server, with a password full of the characters curl's config syntax quotes. Kibana gets
its secrets through kibana.yml's ${name} references, under names the image's kibana-docker script
never turns into command-line options.
"""

import base64
import json
import os
import re
import subprocess
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.compose import COMBINATIONS, DUMMY_SECRETS, SECRETS
from tests.support.config_files import flat_yaml
from tests.support.paths import REPO_ROOT
from tests.support.tls_certs import require_commands
from tests.support.tls_server import serving

KIBANA_YML = REPO_ROOT / "kibana" / "config" / "kibana.yml"
HEALTHCHECK_TIMEOUT_SECONDS = 30
# Kibana settings that hold a secret, and the .env secret each must hold.
KIBANA_SECRET_SETTINGS = {
    "elasticsearch.password": "KIBANA_SYSTEM_PASSWORD",
    "xpack.security.encryptionKey": "KIBANA_ENCRYPTION_KEY",
    "xpack.encryptedSavedObjects.encryptionKey": "KIBANA_ENCRYPTION_KEY",
    "xpack.reporting.encryptionKey": "KIBANA_ENCRYPTION_KEY",
}
# Characters a curl config line quotes or ends at, and a shell would expand.
HOSTILE_PASSWORD = 'pa"ss\\wo rd#%s$HOME`x`:\'q'

each_combination = pytest.mark.parametrize("combination", list(COMBINATIONS))


def as_docker_runs_it(text: str) -> str:
    """Compose's `config` keeps $$ (its escape for a literal $); the container gets a single $."""
    return text.replace("$$", "$")


def healthcheck_argv(test: list[str]) -> list[str]:
    """What Docker executes for a healthcheck: CMD as given, CMD-SHELL through /bin/sh -c, which is bash in
    the Elastic images (UBI9) and the app's (Debian's sh runs no healthcheck of ours)."""
    kind, *rest = test
    if kind == "CMD-SHELL":
        return ["bash", "-c", as_docker_runs_it(rest[0])]
    assert kind == "CMD", test
    return [as_docker_runs_it(word) for word in rest]


def executed_argvs(argv: list[str], environment: dict[str, str], tmp_path) -> list[str]:
    """Every execve (its program and arguments, as strace prints them) of argv and what it starts."""
    strace, _ = require_commands("strace", "curl", purpose="the secrets tests run each healthcheck under strace")
    trace = tmp_path / "execve.trace"
    subprocess.run(
        [strace, "-f", "-qq", "-s", "65536", "-e", "trace=execve", "-o", str(trace), *argv],
        cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL, capture_output=True,
        timeout=HEALTHCHECK_TIMEOUT_SECONDS, check=False,
    )
    return [line for line in trace.read_text(encoding="utf-8", errors="replace").splitlines() if "execve(" in line]


@each_combination
def test_no_healthcheck_puts_a_secret_on_a_command_line(rendered, combination, tmp_path):
    searched = 0
    for name, service in rendered[combination]["services"].items():
        test = service.get("healthcheck", {}).get("test")
        if not test or test == ["NONE"]:
            continue
        environment = {**service.get("environment", {}), "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
        execs = executed_argvs(healthcheck_argv(test), environment, tmp_path)
        assert execs, f"{name}: strace saw nothing run"
        leaks = [(secret, line) for line in execs for secret, value in DUMMY_SECRETS.items() if value in line]
        assert leaks == [], f"{name}'s healthcheck puts a secret on a command line"
        searched += sum('"curl"' in line for line in execs)
    # The Elasticsearch nodes' and Kibana's healthchecks ran curl: the search was not empty.
    assert searched >= 2


@each_combination
def test_no_command_or_entrypoint_holds_or_expands_a_secret(rendered, combination):
    secret_reference = re.compile(r"\$\{?(" + "|".join(SECRETS) + r")\b")
    for name, service in rendered[combination]["services"].items():
        for key in ("command", "entrypoint"):
            text = json.dumps(service.get(key) or [])
            assert not any(value in text for value in DUMMY_SECRETS.values()), (name, key)
            assert not secret_reference.search(text), (name, key)


# --- the credentials still reach Elasticsearch ---------------------------------------------------------


class _BasicAuthHandler(BaseHTTPRequestHandler):
    """200 for the expected Basic credentials, 401 for any other (as Elasticsearch answers)."""

    expected = ""

    def do_GET(self):
        self.send_response(200 if self.headers.get("Authorization") == self.expected else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@contextmanager
def basic_auth_server(user: str, password: str):
    handler = type("Handler", (_BasicAuthHandler,), {
        "expected": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
    })
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield port


@pytest.mark.parametrize("server_password, passes", [(HOSTILE_PASSWORD, True), ("another-password", False)])
def test_the_elasticsearch_healthcheck_sends_the_password_through_real_curl(
    rendered, tmp_path, server_password, passes
):
    [_, real_curl] = require_commands("bash", "curl", purpose="the healthcheck runs under bash with curl")
    service = rendered["default"]["services"]["elasticsearch"]
    with basic_auth_server("elastic", server_password) as port:
        # Only the address changes: the same curl, told to reach localhost:9200 at this server.
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        wrapper = bin_dir / "curl"
        wrapper.write_text(f'#!/bin/sh\nexec {real_curl} --connect-to localhost:9200:127.0.0.1:{port} "$@"\n')
        wrapper.chmod(0o755)
        environment = {**service["environment"], "ELASTIC_PASSWORD": HOSTILE_PASSWORD,
                       "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        done = subprocess.run(healthcheck_argv(service["healthcheck"]["test"]), env=environment, cwd=tmp_path,
                              capture_output=True, text=True, timeout=HEALTHCHECK_TIMEOUT_SECONDS, check=False)
    assert (done.returncode == 0) == passes, done.stderr


# --- Kibana: secrets through kibana.yml, under names the image never passes as options ---------------


def kibana_docker_could_pass(variable: str) -> bool:
    """Whether the Kibana image's launcher could turn this variable into a command-line option.

    kibana-docker (elastic/kibana, src/dev/build/tasks/os_packages/docker_generator/resources/base/bin/
    kibana-docker; elastic/dockerfiles kibana/bin/kibana-docker) loops over a list of settings, names each
    one's variable `echo ${kibana_var^^} | tr . _`, and passes a non-empty one as --<setting>=<value>. The list
    grows with each version; every name it can make is in capitals, so this model takes any name without a
    lower-case letter for one it passes: never kinder than the script."""
    return not re.search(r"[a-z]", variable)


@pytest.mark.parametrize("variable, passed", [
    ("ELASTICSEARCH_PASSWORD", True), ("XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY", True),
    ("XPACK_TASK_MANAGER_MAX_WORKERS", True), ("KIBANA_SYSTEM_PASSWORD", True), ("kibana_system_password", False),
])
def test_the_kibana_docker_model_passes_every_capitalised_name(variable, passed):
    assert kibana_docker_could_pass(variable) is passed


@each_combination
def test_no_variable_kibana_docker_could_pass_as_an_option_holds_a_secret(rendered, combination):
    environment = rendered[combination]["services"]["kibana"]["environment"]
    passed = {name for name, value in environment.items()
              if kibana_docker_could_pass(name) and value in DUMMY_SECRETS.values()}
    assert passed == set()


def kibana_yml_as_kibana_reads_it(environment: dict[str, str]) -> dict[str, str]:
    """kibana.yml's settings with every ${name} (or ${name:default}) replaced as Kibana replaces it.

    Follows elastic/kibana src/platform/packages/shared/kbn-config/src/raw/utils.ts (replaceEnvVarRefs): the
    variable's value, else the default, else Kibana stops with "Unknown environment variable"."""
    def replace(match: re.Match) -> str:
        name, default = match.group(1), match.group(3)
        if name in environment:
            return environment[name]
        if default is not None:
            return default
        raise LookupError(f"Unknown environment variable referenced in config : {name}")

    return {key: re.sub(r"\$\{(\w+)(:(\w+))?\}", replace, value) for key, value in flat_yaml(KIBANA_YML).items()}


@each_combination
def test_kibana_reads_each_secret_setting_from_its_env_secret(rendered, combination):
    settings = kibana_yml_as_kibana_reads_it(rendered[combination]["services"]["kibana"]["environment"])
    assert {key: settings.get(key) for key in KIBANA_SECRET_SETTINGS} == {
        key: DUMMY_SECRETS[secret] for key, secret in KIBANA_SECRET_SETTINGS.items()
    }


def test_a_reference_kibana_cannot_resolve_stops_it():
    with pytest.raises(LookupError, match="Unknown environment variable referenced in config : kibana_system_password"):
        kibana_yml_as_kibana_reads_it({"kibana_encryption_key": "k" * 32})
