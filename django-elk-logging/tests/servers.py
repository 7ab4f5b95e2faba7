"""Real servers (gunicorn, uvicorn) on a loopback port, as subprocesses of the package's tests."""

import http.client
import os
import socket
import subprocess
import sys
import time
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


@contextmanager
def serving(command: list[str], port: int, env: dict[str, str], cwd: Path, umask: int = -1):
    """``command`` (a server listening on ``port``, started with ``umask`` unless -1) until the block ends;
    its output on failure."""
    output = cwd / f"server-{port}.out"
    with output.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", *command], cwd=cwd, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, umask=umask)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"{command[0]} exited:\n{output.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"{command[0]} did not listen within {START_TIMEOUT} s"
                time.sleep(0.1)
        yield output
    finally:
        process.terminate()
        process.wait(timeout=15)


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
