"""The logging filters behind LOGGING: route security records, and stamp each record with its request.

They sit above the line format (log_lines.py), which renders what they add.
"""

import logging
import re

from .log_lines import NO_REQUEST_ID
from .logging_settings import in_security_loggers
from .request_context import current_request
from .security_events import DJANGO_SECURITY_CODE, event_code

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


def security_event_code(record: logging.LogRecord) -> str | None:
    """The OWASP identifier of a security record's event (security_events.py)."""
    code = event_code(record.event)
    if code is None and record.name.startswith("django.security.") and record.name != "django.security.csrf":
        return DJANGO_SECURITY_CODE
    return code


# What a security record takes from its request, under the record's own names.
_REQUEST_FIELDS = (("client_ip", "client_ip"), ("peer_ip", "peer_ip"), ("path", "path"),
                   ("user_agent", "user_agent"), ("user", "username"))


class RequestContextFilter(logging.Filter):
    """Copies the current request's ids (and, for security records, its client and user) onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request()
        if not hasattr(record, "request_id"):
            record.request_id = request.request_id if request else NO_REQUEST_ID
        if request is not None and request.client_request_id and not hasattr(record, "client_request_id"):
            record.client_request_id = request.client_request_id
        if is_security_record(record):
            if not hasattr(record, "event"):
                record.event = security_event_name(record)
            if not hasattr(record, "event_code"):
                record.event_code = security_event_code(record)
            if request is not None:
                for field, source in _REQUEST_FIELDS:
                    if not hasattr(record, field):
                        setattr(record, field, getattr(request, source))
        return True
