"""Django and gunicorn log lines for the Elastic Stack: escaped, never glued, with request and record ids.

Layers, each importing only those below it: escaping, then log_lines (formatter and file
handler) and denylist (blocked networks), both standard library only, then access_log
(gunicorn), request_context and log_filters (Django), then ip_blocking (the denylist
middleware), signals (the security-event receivers) and apps.
"""

# The one source of the version: pyproject.toml reads it (setuptools dynamic version).
__version__ = "0.1.0"
