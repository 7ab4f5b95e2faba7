"""The security events the package logs, all of them: each ``event`` (ECS event.action), its OWASP identifier and
its level.

One table for every layer that logs them (signals, middleware, gunicorn) and for the request-context filter
(log_filters.py), which adds the identifier, as ``event_code`` (ECS event.code), to the records Django logs
itself. The identifiers and levels are those of the OWASP Application Logging Vocabulary
(OWASP/CheatSheetSeries, cheatsheets/Logging_Vocabulary_Cheat_Sheet.md), except that a failure is WARNING,
never CRITICAL: a mistyped old password is routine, and CRITICAL is kept for what needs a person now.
Events OWASP has no word for (a blocked address, a CSRF failure) carry no code. Standard library only.
"""

import contextvars
import logging
import os
import re
import sys
from contextlib import contextmanager
from typing import NamedTuple


class SecurityEvent(NamedTuple):
    code: str | None  # None: OWASP has no word for it
    level: int


EVENTS: dict[str, SecurityEvent] = {
    # Authentication
    "user_logged_in": SecurityEvent("authn_login_success", logging.INFO),
    "user_login_failed": SecurityEvent("authn_login_fail", logging.WARNING),
    # OWASP's session_expired, with the reason "logout".
    "user_logged_out": SecurityEvent("session_expired", logging.INFO),
    "password_changed": SecurityEvent("authn_password_change", logging.INFO),
    "password_change_failed": SecurityEvent("authn_password_change_fail", logging.WARNING),
    # A reset is a password change (OWASP has no word of its own); the action tells them apart.
    "password_reset_requested": SecurityEvent("authn_password_change", logging.INFO),
    "password_reset_completed": SecurityEvent("authn_password_change", logging.INFO),
    # A session cookie Django cannot use: unknown, expired, forged, or its user's password changed since.
    "session_rejected": SecurityEvent("session_use_after_expire", logging.WARNING),
    # Authorization
    "permission_denied": SecurityEvent("authz_fail", logging.WARNING),
    "privilege_changed": SecurityEvent("authz_change", logging.WARNING),
    "admin_action": SecurityEvent("authz_admin", logging.WARNING),
    # User management
    "user_created": SecurityEvent("user_created", logging.WARNING),
    "user_deleted": SecurityEvent("user_deleted", logging.WARNING),
    "user_deactivated": SecurityEvent("user_archived", logging.WARNING),
    # A request from an address of BLOCKED_IPS, refused (ip_blocking.py)
    "blocked_ip": SecurityEvent(None, logging.WARNING),
    # Input the server refused
    "request_refused": SecurityEvent("input_validation_fail", logging.WARNING),
    "malformed_request_id": SecurityEvent("input_validation_fail", logging.WARNING),
    # A worker the server killed (a stuck request, or a client sending its headers slowly)
    "worker_timeout": SecurityEvent("sys_crash", logging.WARNING),
}

# The events of Django's django.security.<ExceptionName> loggers (log_filters.security_event_name) are
# input it refused: OWASP's input_validation_fail. Django logs them at its own levels.
DJANGO_SECURITY_CODE = "input_validation_fail"


def event_code(action: str) -> str | None:
    """The OWASP identifier of ``action``, or None when OWASP has none."""
    event = EVENTS.get(action)
    return event.code if event is not None else None


def log_security_event(logger: logging.Logger, action: str, message: str, *args, **fields) -> None:
    """Logs ``message % args`` as the event ``action`` at its level, with its code and the context ``fields``
    (log_lines.CONTEXT_FIELDS: user, target_user, ...). KeyError for an action not in EVENTS."""
    event = EVENTS[action]
    logger.log(event.level, message, *args, extra={"event": action, "event_code": event.code, **fields},
               stacklevel=2)


# The process a management command names itself, e.g. "manage.py changepassword".
_acting_process: contextvars.ContextVar[str | None] = contextvars.ContextVar("django_elk_logging_acting_process",
                                                                             default=None)
_COMMAND_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@contextmanager
def acting_process(name: str):
    """Names the process (process_name) in the events logged inside the ``with``."""
    token = _acting_process.set(name)
    try:
        yield
    finally:
        _acting_process.reset(token)


def process_name() -> str:
    """Who acts outside any request: the command that named itself, else the program, with its pid.

    Only the program's name and a management command's name are taken from argv: further arguments
    may hold anything, a password included.
    """
    name = _acting_process.get()
    if name is None:
        argv = sys.argv or [""]
        name = os.path.basename(argv[0]) or "python"
        if name == "__main__.py":  # python -m <package>
            name = os.path.basename(os.path.dirname(argv[0]))
        if name in ("manage.py", "django-admin", "django") and len(argv) > 1 and _COMMAND_NAME.fullmatch(argv[1]):
            name = f"{name} {argv[1]}"
    return f"{name} (pid {os.getpid()})"
