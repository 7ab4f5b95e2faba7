"""The access line under ASGI servers (uvicorn, daphne, hypercorn, gunicorn's uvicorn worker), as gunicorn writes it.

In the project's asgi.py:

    from django.core.asgi import get_asgi_application
    from django_elk_logging.asgi import AccessLogMiddleware

    application = AccessLogMiddleware(get_asgi_application())

One line per HTTP request, in access_lines.ACCESS_LOG_FORMAT, to the ``django_elk_logging.access``
logger (logging_settings.elk_logging and gunicorn.log_config_dict route it to access.log). Standard
library only: it wraps any ASGI application.
"""

import logging
import sys
import time
import urllib.parse

from .access_lines import (
    ACCESS_LOG_FORMAT,
    CLIENT_ADDRESS_KEY,
    DEFAULT_PROBE_NETWORKS,
    PEER_ATOM,
    REQUEST_ID_ATOM,
    escaped_atoms,
    identity_atoms,
    is_quiet_probe,
    parse_probe_networks,
    rendered_atoms,
)
from .log_lines import new_record_id
from .logging_settings import ACCESS_LOGGER

# ASGI servers bound the request line themselves (uvicorn's h11 at 16 KiB of head, for one). The line is
# Latin-1 text (raw_path and query_string are decoded so), and escaping makes such a character at most
# four (\xNN); redaction less (the shortest secret parameter, "sig=x&", grows 2.5 times).
MAX_REQUEST_LINE_CHARS = 4 * 64 * 1024
# No answer was begun: the app failed or returned without one (the server answers 500 itself), or the
# client went away first (nginx's 499, "client closed request"): Django's handler then returns quietly
# (django/core/handlers/asgi.py, listen_for_disconnect), and servers send nothing.
APP_FAILED_STATUS = 500
CLIENT_CLOSED_STATUS = 499
# Apache's %t in English whatever the locale (the pipeline's date filter reads English months).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RENDERED = rendered_atoms(ACCESS_LOG_FORMAT)
# gunicorn 27's own ASGI worker (-k asgi) logs each request through its logger class (gunicorn/asgi/protocol.py).
_GUNICORN_ASGI_WORKER = "gunicorn.workers.gasgi"


def apache_time(seconds: float) -> str:
    """``[07/Dec/2026:18:57:53 +0000]`` in local time, as gunicorn's Logger.now() writes it."""
    local = time.localtime(seconds)
    return (f"[{local.tm_mday:02d}/{_MONTHS[local.tm_mon - 1]}/{local.tm_year}:"
            f"{local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d} {time.strftime('%z', local)}]")


def request_target(scope: dict) -> str:
    """The request target as the client sent it: the raw path (percent-encoded) and the query."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else urllib.parse.quote(scope.get("path", ""), safe="/;%:@&=+$,!~*'()")
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def _header(headers, name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return "-"


def _peer(scope: dict) -> str:
    """The scope's client address: a (host, port) pair, or None when unknown (a Unix socket)."""
    client = scope.get("client")
    return client[0] if client else "-"


class AccessLogMiddleware:
    """Writes gunicorn's access line for each HTTP request the wrapped ASGI app answers.

    ``skipped_paths``: paths whose successful (200) answers to an address of ``probe_networks`` (addresses and
    CIDR networks; the loopback ones by default) are not logged, such as health probes. The line's client
    is the one the app resolved through the trusted proxies and left in the scope (access_lines.CLIENT_ADDRESS_KEY;
    Django's request keeps the scope it was given, django/core/handlers/asgi.py), else the peer.
    """

    def __init__(self, app, *, skipped_paths=frozenset(), probe_networks=DEFAULT_PROBE_NETWORKS):
        self.app = app
        self.skipped_paths = frozenset(skipped_paths)
        self.probe_from = parse_probe_networks(probe_networks)
        self.logger = logging.getLogger(ACCESS_LOGGER)
        if _GUNICORN_ASGI_WORKER in sys.modules:
            raise RuntimeError(
                "AccessLogMiddleware: gunicorn's own ASGI worker writes the access line itself, through "
                "django_elk_logging.gunicorn.AccessLogger; with this middleware every request would be logged "
                "twice: serve the application unwrapped"
            )
        if not self.logger.handlers or self.logger.disabled or not self.logger.isEnabledFor(logging.INFO):
            raise RuntimeError(
                f"AccessLogMiddleware: the logger {ACCESS_LOGGER!r} has no handler, or is disabled, so every access "
                "line would be lost: build LOGGING with django_elk_logging.logging_settings.elk_logging() (and no "
                "disable_existing_loggers: True), or under gunicorn set logconfig_dict = "
                "django_elk_logging.gunicorn.log_config_dict(...), before this middleware is created"
            )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter_ns()
        response = {"status": None, "sent": 0, "request_id": "-", "disconnected": False}

        async def receive_and_watch():
            message = await receive()
            if message["type"] == "http.disconnect":
                response["disconnected"] = True
            return message

        async def send_and_count(message):
            # Once the client is gone a server drops what the app sends (uvicorn's h11_impl.py, send):
            # an answer begun after that never reached it.
            if message["type"] == "http.response.start":
                response["status"] = CLIENT_CLOSED_STATUS if response["disconnected"] else message["status"]
                response["request_id"] = _header(message.get("headers", ()), b"x-request-id")
            elif message["type"] == "http.response.body" and not response["disconnected"]:
                response["sent"] += len(message.get("body", b""))
            await send(message)

        cancelled = False
        try:
            await self.app(scope, receive_and_watch, send_and_count)
        except BaseException as error:
            cancelled = not isinstance(error, Exception)  # the server cancelled the request: its client left
            raise
        finally:
            status = response["status"] or (
                CLIENT_CLOSED_STATUS if response["disconnected"] or cancelled else APP_FAILED_STATUS)
            peer = _peer(scope)
            if not is_quiet_probe(scope.get("path"), status == 200, peer, self.skipped_paths, self.probe_from):
                self._log(scope, peer, status, response, time.perf_counter_ns() - started)

    def _log(self, scope: dict, peer: str, status: int, response: dict, duration_ns: int) -> None:
        headers = scope.get("headers", ())
        atoms = {
            "h": scope.get(CLIENT_ADDRESS_KEY) or peer,
            "t": apache_time(time.time()),
            "r": f"{scope.get('method', '-')} {request_target(scope)} HTTP/{scope.get('http_version', '1.1')}",
            "s": str(status),
            "b": str(response["sent"]),
            "f": _header(headers, b"referer"),
            "a": _header(headers, b"user-agent"),
            "duration_ns": str(duration_ns),
            REQUEST_ID_ATOM: response["request_id"],
            "record_id": new_record_id(),
            PEER_ATOM: peer,
        }
        self.logger.info(ACCESS_LOG_FORMAT % {**escaped_atoms(atoms, _RENDERED, MAX_REQUEST_LINE_CHARS),
                                              **identity_atoms()})
