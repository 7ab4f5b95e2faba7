"""A corpus of real log lines for bench/parse_cost.py, written by the app's own logging.

The app's settings (app/config/settings.py, LOGGING) route records through the package's filters,
SafeFormatter and AppendOnlyFileHandler into django_debug.log and security.log in a temporary
DJANGO_LOG_DIR; gunicorn's access lines come from the package's AccessLogger with the handler
app/gunicorn.conf.py configures. Requests are begun with the package's own request_started
receiver (request ids, client addresses); security events come from its auth signal receivers.
Malformed records are what a full disk leaves: a record cut short at a random point, which the
handler closes with CUT_MARKER before the next record (django_elk_logging/log_lines.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import runpy
import secrets
from pathlib import Path
from types import SimpleNamespace

APP_DIR = Path(__file__).resolve().parents[1] / "app"
FILES = ("django_debug.log", "security.log", "access.log")
MALFORMED_SHARE = 0.01
PATHS = ("/", "/account/", "/login/", "/logout/", "/boom/", "/api/items/42", "/static/app.css", "/admin/login/")
AGENTS = ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/8.5.0",
          'python-requests/2.32.3', 'sqlmap/1.8 "injected" \x1b[31m')
# A share of the requests goes through the app's real views (app/myapp/views.py): hello logs an INFO and
# an ERROR, boom a 500 with Django's traceback, an unknown path a 404, a foreign Host header
# django.security.DisallowedHost, /account/ a redirect to the login page.
DJANGO_SHARE = 0.3
DJANGO_REQUESTS = (("/", "testserver"), ("/boom/", "testserver"), ("/missing/page", "testserver"),
                   ("/", "evil.example"), ("/account/", "testserver"))
USERS = ("demo", "alice", "bob", "admin", "root", "o'brien", "user\nINFO forged")


def _setup_django(log_dir: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_LOG_DIR": str(log_dir),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_SQLITE_PATH": str(log_dir / "unused.sqlite3"),
        "DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "testserver", "CONSOLE_LOG_LEVEL": "CRITICAL",
        "DJANGO_STATIC_ROOT": str(log_dir),
    })
    os.environ.pop("SENTRY_DSN", None)
    import django

    django.setup()


def _access_logger(log_dir: Path):
    from gunicorn.config import Config

    # The real gunicorn config file: its logger class, format and logconfig_dict (access.log in log_dir).
    settings = runpy.run_path(str(APP_DIR / "gunicorn.conf.py"))
    config = Config()
    for name in ("logger_class", "access_log_format", "logconfig_dict"):
        config.set(name, settings[name])
    return config.logger_class(config)


class CorpusWriter:
    """Writes records of every kind the app logs, in a seeded random mix, until ``lines`` lines exist."""

    def __init__(self, log_dir: Path, seed: int):
        _setup_django(log_dir)
        from django.contrib.auth.models import User
        from django.test import Client
        from django_elk_logging import request_context, signals

        self.log_dir = log_dir
        self.random = random.Random(seed)
        self.request_context, self.signals, self.user_class = request_context, signals, User
        self.access = _access_logger(log_dir)
        self.client = Client(raise_request_exception=False)
        self.app, self.request_log = logging.getLogger("myapp.views"), logging.getLogger("django.request")
        self.security = logging.getLogger("security")
        self.handlers = {handler.baseFilename: handler for name in ("myapp", "security", "gunicorn.access")
                         for handler in logging.getLogger(name).handlers if hasattr(handler, "baseFilename")}

    def lines(self) -> int:
        total = 0
        for name in FILES:
            path = self.log_dir / name
            if path.exists():
                with path.open("rb") as file:
                    total += sum(1 for _ in file)
        return total

    def write(self, lines: int) -> dict[str, Path]:
        while self.lines() < lines:
            for _ in range(500):
                self._request()
        for handler in self.handlers.values():
            handler.flush()
        return {name: self.log_dir / name for name in FILES}

    def _request(self) -> None:
        if self.random.random() < DJANGO_SHARE:
            self._django_request()
        else:
            self._logged_request()

    def _django_request(self) -> None:
        """A request through the app's own views and Django's handler: its records, then its access line."""
        path, host = self.random.choice(DJANGO_REQUESTS)
        address, agent = f"10.1.0.{self.random.randint(1, 254)}", self.random.choice(AGENTS)
        self._maybe_cut("django_debug.log")
        response = self.client.get(path, HTTP_HOST=host, REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
        environ = {"REMOTE_ADDR": address, "REQUEST_METHOD": "GET", "RAW_URI": path, "SERVER_PROTOCOL": "HTTP/1.1",
                   "PATH_INFO": path, "HTTP_USER_AGENT": agent}
        self._maybe_cut("access.log")
        sent = SimpleNamespace(status=f"{response.status_code} X", sent=len(response.content),
                               headers=[("X-Request-ID", response.get("X-Request-ID", "-"))])
        self.access.access(sent, SimpleNamespace(headers=[]), environ, dt.timedelta(microseconds=self.random.randint(300, 90_000)))

    def _logged_request(self) -> None:
        pick = self.random.random
        path = self.random.choice(PATHS) + (f"?page={self.random.randint(1, 9)}" if pick() < 0.2 else "")
        environ = {"REMOTE_ADDR": f"10.0.{self.random.randint(0, 255)}.{self.random.randint(1, 254)}", "PATH_INFO": path.split("?")[0],
                   "HTTP_USER_AGENT": self.random.choice(AGENTS), "REQUEST_METHOD": self.random.choice(("GET", "GET", "POST")),
                   "RAW_URI": path, "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": path.partition("?")[2]}
        if pick() < 0.02:
            environ["HTTP_X_REQUEST_ID"] = "not valid!" if pick() < 0.5 else secrets.token_hex(12)
        self.request_context.begin_request(None, environ)
        status = self._records(path, pick)
        request_id = self.request_context.current_request().request_id
        self.request_context.end_request(None)
        self._maybe_cut("access.log")
        response = SimpleNamespace(status=f"{status} X", sent=self.random.randint(0, 40_000) if pick() < 0.9 else None,
                                   headers=[("X-Request-ID", request_id)])
        self.access.access(response, SimpleNamespace(headers=[]), environ, dt.timedelta(microseconds=self.random.randint(300, 900_000)))

    def _records(self, path: str, pick) -> int:
        user = self.random.choice(USERS)
        kind = pick()
        self._maybe_cut("django_debug.log" if kind < 0.75 else "security.log")
        if kind < 0.45:
            self.app.log(self.random.choice((logging.INFO, logging.INFO, logging.WARNING)),
                         "Served %s for %s in %d ms", path, user, self.random.randint(1, 900))
            return 200
        if kind < 0.60:
            self.request_log.warning("Not Found: %s", path)
            return 404
        if kind < 0.75:
            try:
                _failing_view(self.random.randint(1, 6))
            except RuntimeError:
                self.request_log.error("Internal Server Error: %s", path, exc_info=True)
            return 500
        if kind < 0.85:
            self.signals.log_user_login_failed(None, {"username": user})
            return 200
        if kind < 0.95:
            self.signals.log_user_logged_in(None, None, self.user_class(username=user))
            return 302
        self.signals.log_user_logged_out(None, None, self.user_class(username=user))
        return 302

    def _maybe_cut(self, name: str) -> None:
        """Leave a cut-short record (a prefix, no newline), as a write(2) stopped by a full disk does."""
        if self.random.random() >= MALFORMED_SHARE:
            return
        record = logging.LogRecord("myapp.views", logging.ERROR, __file__, 1, "Served %s", ("/cut",), None)
        handler = self.handlers[str(self.log_dir / name)]
        line = handler.format(record) if name != "access.log" else '10.0.0.1 - - [01/Dec/2026:12:00:00 +0000] "GET /cut HTTP/1.1" 200 1'
        with open(self.log_dir / name, "a", encoding="utf-8") as file:
            file.write(line[: self.random.randint(1, len(line) - 1)])


def _failing_view(depth: int) -> None:
    if depth:
        _failing_view(depth - 1)
    raise RuntimeError("Boom: this view fails on purpose")
