"""gunicorn settings, read from the environment."""

import os

from django_elk_logging.access_log import ACCESS_LOG_FORMAT, LIMIT_REQUEST_LINE, AccessLogger

from config.env import EnvReader

# A bad value stops gunicorn before it starts: the message, exit status 1.
env = EnvReader(error=SystemExit)

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").split(",")
workers = env.int("GUNICORN_WORKERS", 2, minimum=1, maximum=64)
timeout = env.int("GUNICORN_TIMEOUT", 30, minimum=1, maximum=600)
# Longer request lines get a 414; the access log relies on this bound.
limit_request_line = LIMIT_REQUEST_LINE
# gunicorn 27 opens a control socket under ~/.gunicorn by default; nothing here uses it.
control_socket_disable = True
# Workers import Django themselves, so each one initialises Sentry after the fork.
preload_app = False

AccessLogger.skipped_paths = frozenset(
    path.strip() for path in os.environ.get("GUNICORN_ACCESS_LOG_SKIP_PATHS", "/healthz").split(",") if path.strip()
)
logger_class = AccessLogger
access_log_format = ACCESS_LOG_FORMAT
_log_dir = os.environ.get("DJANGO_LOG_DIR", "/var/log/django")
# gunicorn merges this shallowly over its defaults, so it is complete: errors
# to stderr (docker logs), access lines to the shared log directory.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "access": {"format": "%(message)s"},
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"},
    },
    "handlers": {
        "access_file": {
            "class": "django_elk_logging.log_lines.AppendOnlyFileHandler",
            "filename": os.path.join(_log_dir, "access.log"),
            "encoding": "utf-8",
            # Opened by each worker at its first line: the arbiter, which writes none, would otherwise
            # hold every rotated access.log open, and the disk space of deleted copies with it.
            "delay": True,
            "formatter": "access",
        },
        "error_console": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr"},
    },
    "root": {"level": "WARNING", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access_file"], "propagate": False},
    },
}
