"""Sentry (extra ``sentry``): security records stay out of Sentry's events and breadcrumbs.

They hold user names (often a password typed into the wrong field) and attacker-chosen headers,
and they already go to security.log. Call ``ignore_security_loggers()`` before ``sentry_sdk.init``.
Each request's Sentry events carry its ``request_id`` tag (request_context.py) with no call.
"""

from sentry_sdk.integrations import logging as sentry_logging

from .logging_settings import SECURITY_LOGGERS


def ignore_security_loggers() -> None:
    """Out of events and breadcrumbs, and out of Sentry Logs (``enable_logs``) in SDKs that have them.

    The loggers security.log takes (django.request's 403s aside, which Sentry's Django integration does
    not turn into events), and their children (sentry-sdk matches the names with fnmatch).
    """
    for name in (*SECURITY_LOGGERS, *(f"{logger}.*" for logger in SECURITY_LOGGERS)):
        sentry_logging.ignore_logger(name)
        if hasattr(sentry_logging, "ignore_logger_for_sentry_logs"):
            sentry_logging.ignore_logger_for_sentry_logs(name)
