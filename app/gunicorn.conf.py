"""gunicorn settings, read from the environment."""

import os

from django_elk_logging.access_lines import DEFAULT_PROBE_NETWORKS
from django_elk_logging.denylist import parse_networks
from django_elk_logging.gunicorn import AccessLogger, log_config_dict

from config.env import EnvReader, service_identity

# A bad value stops gunicorn before it starts: the message, exit status 1.
env = EnvReader(error=SystemExit)

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").split(",")
workers = env.int("GUNICORN_WORKERS", 2, minimum=1, maximum=64)
timeout = env.int("GUNICORN_TIMEOUT", 30, minimum=1, maximum=600)
# gunicorn 27 opens a control socket under ~/.gunicorn by default; nothing here uses it.
control_socket_disable = True
# Workers import Django themselves, so each one initialises Sentry after the fork.
preload_app = False

AccessLogger.skipped_paths = frozenset(
    path.strip() for path in os.environ.get("GUNICORN_ACCESS_LOG_SKIP_PATHS", "/healthz").split(",") if path.strip()
)
# A successful probe of those paths is left out only when it comes from these addresses (the container's
# own HEALTHCHECK: loopback); from anywhere else it is logged.
try:
    AccessLogger.probe_networks = parse_networks(
        env.list("GUNICORN_HEALTH_PROBE_NETWORKS", list(DEFAULT_PROBE_NETWORKS)))
except ValueError as error:
    raise SystemExit(f"GUNICORN_HEALTH_PROBE_NETWORKS {error}") from None
# Its access format is the package's (access_lines.ACCESS_LOG_FORMAT), which the pipeline parses; the requests
# gunicorn refuses itself and the workers it kills are security events (request_refused, worker_timeout).
logger_class = AccessLogger
# The arbiter loads no Django: the package reads its records' identity from these variables (identity.py).
os.environ.update({setting: value for setting, value in service_identity(env).items() if value})
# Errors to stderr (docker logs); access lines, and the arbiter's worker timeouts, to the shared log directory.
logconfig_dict = log_config_dict(os.environ.get("DJANGO_LOG_DIR", "/var/log/django"))
