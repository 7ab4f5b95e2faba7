"""The logging filters behind LOGGING: route security records, and stamp each record with its request.

They sit above the line format (log_lines.py), which renders what they add.
"""

import logging
import re

from .log_lines import NO_REQUEST_ID
from .logging_settings import in_security_loggers
from .request_context import current_request

_CAMEL_CASE_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_security_record(record: logging.LogRecord) -> bool:
    if in_security_loggers(record.name):
        return True
    return record.name == "django.request" and getattr(record, "status_code", None) == 403


def security_event_name(record: logging.LogRecord) -> str:
    """The event name of a security record Django logged itself."""
    if record.name == "django.request":
        return "permission_denied"
    if record.name == "django.security.csrf":
        return "csrf_failure"
    if record.name.startswith("django.security."):
        exception_name = record.name.removeprefix("django.security.")
        return _CAMEL_CASE_BOUNDARY.sub("_", exception_name).lower()
    return "security_event"


class SecurityRoute(logging.Filter):
    """Passes only security records (``security=True``) or only the others."""

    def __init__(self, security: bool):
        super().__init__()
        self.security = security

    def filter(self, record: logging.LogRecord) -> bool:
        return is_security_record(record) == self.security


class RequestContextFilter(logging.Filter):
    """Copies the current request's id (and, for security records, its client) onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request()
        if not hasattr(record, "request_id"):
            record.request_id = request.request_id if request else NO_REQUEST_ID
        if is_security_record(record):
            if not hasattr(record, "event"):
                record.event = security_event_name(record)
            if request is not None:
                for field in ("client_ip", "path", "user_agent"):
                    if not hasattr(record, field):
                        setattr(record, field, getattr(request, field))
        return True
