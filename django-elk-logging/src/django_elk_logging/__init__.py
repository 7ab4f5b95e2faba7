"""Django, gunicorn and ASGI log lines for the Elastic Stack: escaped, never glued, with request and record ids.

Layers, each importing only those below it: escaping, security_events (the events and their OWASP
codes) and redaction (secrets out of URLs), then log_files (the file handler), log_lines (the
formatter), denylist (networks), proxies (the client behind trusted proxies), logging_settings
(LOGGING), access_lines and asgi (the access line), all standard library only; then gunicorn_events
(gunicorn's refusals and worker timeouts as security events) and gunicorn (gunicorn's logger and log
config), request_context and log_filters (Django); then ip_blocking (the denylist middleware), signals
(the security-event receivers), committed (their records written on commit), account_changes,
membership_changes and admin_actions (account, privilege and admin events, from model signals), password_events (password changes, from post_save),
auth_events (the session, login and password-form middleware), checks and apps; management/commands
holds changepassword. Apart: sentry (the sentry extra) and pytest_plugin.
"""

# The one source of the version: pyproject.toml reads it (setuptools dynamic version).
__version__ = "0.4.0"
