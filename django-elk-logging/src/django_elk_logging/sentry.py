"""Sentry (extra ``sentry``): security records stay out of Sentry's events and breadcrumbs.

They hold user names (often a password typed into the wrong field) and attacker-chosen headers,
and they already go to security.log. Call ``ignore_security_loggers()`` before ``sentry_sdk.init``.
Each request's Sentry events carry its ``request_id`` tag (request_context.py) with no call.
"""

from sentry_sdk.integrations import logging as sentry_logging

# The loggers log_filters.is_security_record routes to security.log (django.request's 403s aside,
# which Sentry's Django integration does not turn into events).
SECURITY_LOGGERS = ("security", "security.*", "django.security.*")


def ignore_security_loggers() -> None:
    """Out of events and breadcrumbs, and out of Sentry Logs (``enable_logs``) in SDKs that have them."""
    for name in SECURITY_LOGGERS:
        sentry_logging.ignore_logger(name)
        if hasattr(sentry_logging, "ignore_logger_for_sentry_logs"):
            sentry_logging.ignore_logger_for_sentry_logs(name)
