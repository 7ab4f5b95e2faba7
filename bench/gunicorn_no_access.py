"""gunicorn config: app/gunicorn.conf.py's server settings with gunicorn's default logger, so no access line.

gunicorn writes access lines only when accesslog or a logging config is set (gunicorn/glogging.py,
Logger._compute_access_log_enabled); this sets neither. Used as ``--config python:bench.gunicorn_no_access``.
"""

import runpy

from bench.gunicorn_runner import APP_DIR

_SERVER_SETTINGS = ("bind", "workers", "timeout", "control_socket_disable", "preload_app")
_production = runpy.run_path(str(APP_DIR / "gunicorn.conf.py"))
globals().update({name: _production[name] for name in _SERVER_SETTINGS})
