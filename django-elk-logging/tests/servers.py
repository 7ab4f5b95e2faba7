"""Real servers (gunicorn, uvicorn) on a loopback port or a Unix socket, as subprocesses of the package's tests."""

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django_elk_logging.logging_settings import TEST_DIR_VARIABLE

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(*paths: Path, log_dir: Path | None = None, **variables: str) -> dict[str, str]:
    """This environment, with the package's source, the tests' folder and ``paths`` importable; the package's
    files in ``log_dir`` (the test-run folder), or where the server's settings say when it is None. No
    DJANGO_SETTINGS_MODULE unless ``variables`` name one: pytest-django's would win over a project's."""
    env = {key: value for key, value in os.environ.items() if key not in (TEST_DIR_VARIABLE, "DJANGO_SETTINGS_MODULE")}
    env.update(variables, PYTHONPATH=os.pathsep.join(map(str, [HERE.parent / "src", HERE, *paths])))
    if log_dir is not None:
        env[TEST_DIR_VARIABLE] = str(log_dir)
    return env


# The README's two lines for gunicorn, with its health probes quiet from the loopback network.
PROBED_GUNICORN_CONFIG = """
from django_elk_logging.gunicorn import AccessLogger, log_config_dict

bind = "127.0.0.1:{port}"
workers = 1
control_socket_disable = True
AccessLogger.skipped_paths = frozenset({{"/healthz"}})
AccessLogger.probe_networks = ["127.0.0.1/32"]
logger_class = AccessLogger
logconfig_dict = log_config_dict({log_dir!r})
"""


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@contextmanager
def _running(command: list[str], ready: Callable[[], bool], output: Path, env: dict[str, str], cwd: Path,
             umask: int = -1):
    """``command`` (started with ``umask`` unless -1, its output in ``output``) until the block ends, once
    ``ready()``; its output on failure."""
    with output.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", *command], cwd=cwd, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, umask=umask)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"{command[0]} exited:\n{output.read_text()}"
            if ready():
                break
            assert time.monotonic() < deadline, f"{command[0]} did not listen within {START_TIMEOUT} s"
            time.sleep(0.1)
        yield output
    finally:
        process.terminate()
        process.wait(timeout=15)


def serving(command: list[str], port: int, env: dict[str, str], cwd: Path, umask: int = -1):
    """``command`` (a server listening on ``port``) until the block ends; see _running."""
    return _running(command, lambda: _accepts(port), cwd / f"server-{port}.out", env, cwd, umask)


def serving_on_socket(command: list[str], path: Path, env: dict[str, str], cwd: Path):
    """``command`` (a server binding the Unix socket ``path``) until the block ends; see _running."""
    return _running(command, path.exists, cwd / "server-socket.out", env, cwd)


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes | None = None, source: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on its own connection, from the loopback address ``source`` if given; header
    values are sent as UTF-8 bytes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20,
                                            source_address=(source, 0) if source else None)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value.encode("utf-8"))
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()
