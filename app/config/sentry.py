"""Sentry initialisation: errors, logged errors as events, INFO lines as breadcrumbs."""

import logging

import sentry_sdk
from django_elk_logging.sentry import ignore_security_loggers, scrub_event
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration


def init_sentry(
    *,
    dsn: str,
    environment: str,
    release: str | None,
    traces_sample_rate: float,
    send_default_pii: bool,
    max_request_body_size: str,
) -> None:
    # Security events carry usernames (often a mistyped password) and attacker-chosen
    # headers; they belong in Elasticsearch, not in Sentry events or breadcrumbs.
    ignore_security_loggers()
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        # Off by default: with it on, the SDK sends user IPs, cookies and
        # session data, which are personal data under the GDPR.
        send_default_pii=send_default_pii,
        max_request_body_size=max_request_body_size,
        # The SDK leaves X-CSRFToken, token headers, the query string, the Referer and reset links' tokens
        # in events and transactions, even without PII; the package's scrubber takes them out.
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        integrations=[
            DjangoIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
    )
