"""gunicorn's side: the access logger (escaped fields, no credentials, quiet health probes; gunicorn's refusals
and worker timeouts as security events, gunicorn_events.py) and its log config.

In a gunicorn config file:

    from django_elk_logging.gunicorn import AccessLogger, log_config_dict

    logger_class = AccessLogger
    logconfig_dict = log_config_dict("/var/log/myproject")
"""

import logging
import os

from gunicorn.config import AccessLogFormat

from .access_lines import (
    ACCESS_LOG_FORMAT,
    CLIENT_ADDRESS_KEY,
    DEFAULT_PROBE_NETWORKS,
    PEER_ATOM,
    escaped_atoms,
    identity_atoms,
    is_quiet_probe,
    parse_probe_networks,
    rendered_atoms,
)
from .gunicorn_events import SECURITY_LOGGER, SecurityEventsLogger
from .log_lines import new_record_id
from .logging_settings import (
    ACCESS_LOG,
    ACCESS_LOGGER,
    SECURITY_LOG,
    access_file_handler,
    line_formatter,
    security_file_handler,
)

# gunicorn/http/message.py (Request.__init__): limit_request_line from 8190 means 8190, and it answers 414
# to anything longer; 0 means no limit with gunicorn's Python parser (1 MiB with its C parser), so past
# 1 MiB the line is cut and no longer parses. The line is Latin-1 (gunicorn decodes RAW_URI so), and
# escaping makes such a character at most four (\xNN); redaction less ("sig=x&" grows 2.5 times).
_LINE_LIMIT_CAP, _UNLIMITED_LINE = 8190, 1024 * 1024


def max_request_line_chars(limit_request_line: int) -> int:
    """The longest escaped request line the access line holds with this ``limit_request_line``."""
    if limit_request_line == 0:
        return 4 * _UNLIMITED_LINE
    # gunicorn's validate_pos_int refuses a negative one.
    return 4 * min(limit_request_line, _LINE_LIMIT_CAP)


class AccessLogger(SecurityEventsLogger):
    """Escapes every request-controlled atom and never logs credentials.

    Its format is ACCESS_LOG_FORMAT unless the config file chose another ``access_log_format``. The
    client (``h``) is the one the app resolved through the trusted proxies, which it leaves in the environ
    (access_lines.CLIENT_ADDRESS_KEY); the peer when the app did not run (a request gunicorn refused), and
    under gunicorn's own ASGI worker, which logs a new dict rather than the scope the app saw
    (gunicorn/asgi/protocol.py, _build_environ).
    """

    # Health probes run every few seconds: a successful one on these paths from probe_networks (addresses
    # and CIDR networks) is not logged.
    skipped_paths: frozenset[str] = frozenset()
    probe_networks = DEFAULT_PROBE_NETWORKS

    def setup(self, cfg):
        if cfg.access_log_format == AccessLogFormat.default:
            cfg.set("access_log_format", ACCESS_LOG_FORMAT)
        self.max_request_line_chars = max_request_line_chars(cfg.limit_request_line)
        self.probe_from = parse_probe_networks(self.probe_networks)
        super().setup(cfg)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms[PEER_ATOM] = atoms["h"]
        atoms["h"] = environ.get(CLIENT_ADDRESS_KEY) or atoms["h"]
        # %(u)s would decode the user name out of an Authorization header.
        atoms["u"] = "-"
        atoms["duration_ns"] = str(atoms["D"] * 1000)  # D is in microseconds
        atoms["record_id"] = new_record_id()
        # Only the atoms the format renders are kept (and escaped): gunicorn adds one per
        # header and environ variable, about 50, and escaping them all cost more than the line.
        # The identity's are escaped already (access() runs in the worker: its pid).
        return {**escaped_atoms(atoms, rendered_atoms(self.cfg.access_log_format), self.max_request_line_chars),
                **identity_atoms()}

    def access(self, resp, req, environ, request_time):
        # resp.status is "200 OK" under WSGI workers (None before the app answered), an int under the
        # ASGI worker (gunicorn/asgi/protocol.py, ASGIResponseInfo).
        answered_200 = str(resp.status).split(None, 1)[:1] == ["200"]
        if is_quiet_probe(environ.get("PATH_INFO"), answered_200, environ.get("REMOTE_ADDR", ""), self.skipped_paths,
                          self.probe_from):
            return
        super().access(resp, req, environ, request_time)


class AccessLinesOnly(logging.Filter):
    """Lets through gunicorn's access lines and the ASGI middleware's, nothing else.

    uvicorn's gunicorn worker (uvicorn_worker.UvicornWorker.__init__) gives the ``uvicorn.access``
    logger gunicorn's access handlers: its lines, in another format, must not reach access.log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name in ("gunicorn.access", ACCESS_LOGGER)


def log_config_dict(log_dir) -> dict:
    """gunicorn's ``logconfig_dict``: access lines to ``log_dir``/access.log, gunicorn's security events
    (gunicorn_events.py) to ``log_dir``/security.log in the package's line, errors to stderr.

    Complete, since gunicorn merges it shallowly over its defaults. Each file is opened by a process
    at its first line: the arbiter, which writes no access line, would otherwise hold every rotated
    copy open, and the disk space of deleted copies with it. After a worker timeout it holds the
    security.log it wrote, until its next record, after a rotation, opens the new one.

    SECURITY_LOGGER does not propagate: where Django's LOGGING, applied later in each worker, does not
    name "security", its records reach security.log through this handler only. Where it does (the
    sample app, elk_logging()), dictConfig empties that child of "security" and makes it propagate
    (logging/config.py, _handle_existing_loggers), so a worker writes each record through Django's
    handler only, and the arbiter, which loads no Django, through this one.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "access": {"format": "%(message)s"},
            "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"},
            "line": line_formatter(),
        },
        "filters": {"access_lines_only": {"()": f"{__name__}.AccessLinesOnly"}},
        "handlers": {
            "access_file": {**access_file_handler(os.path.join(log_dir, ACCESS_LOG), "access"), "filters": ["access_lines_only"]},
            "error_console": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr"},
            "security_file": security_file_handler(os.path.join(log_dir, SECURITY_LOG), "line"),
        },
        "root": {"level": "WARNING", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access_file"], "propagate": False},
            ACCESS_LOGGER: {"level": "INFO", "handlers": ["access_file"], "propagate": False},
            SECURITY_LOGGER: {"level": "INFO", "handlers": ["security_file"], "propagate": False},
        },
    }
