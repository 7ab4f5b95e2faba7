"""Sentry (extra ``sentry``): security records stay out of Sentry's events and breadcrumbs, and no secret reaches it.

Security records hold user names (often a password typed into the wrong field) and attacker-chosen headers,
and they already go to security.log. Call ``ignore_security_loggers()`` before ``sentry_sdk.init``, and give
``init`` ``before_send=scrub_event, before_send_transaction=scrub_event`` (and ``before_send_log=scrub_event``
with Sentry Logs; ``scrubbing(yours)`` runs a before_send of the project's first). Each request's Sentry
events carry its ``request_id`` tag (request_context.py) with no call.

What sentry-sdk 2 leaves in an event with ``send_default_pii`` off, and scrub_event takes out:

- headers: integrations/_wsgi_common.py (_filter_headers) drops only those in SENSITIVE_HEADERS (Cookie,
  Authorization, X-Api-Key...), not X-CSRFToken nor a custom token header; scrubber.py (EventScrubber)
  compares ``key.lower()`` ("x-csrftoken") with its denylist's WSGI-style names ("x_csrftoken"), never equal;
- the query string and the URL (integrations/wsgi.py, _make_wsgi_event_processor), and the Referer;
- the reprs the serializer made of objects in frame variables, ``extra`` and breadcrumbs' data (a
  WSGIRequest's repr holds its path and query), Django's "Not Found: <path>" in messages and breadcrumbs,
  and dictionaries below the first level (EventScrubber is not recursive by default): the URL's
  ``callback_kwargs``, the ``credentials`` of a failed login;
- request data under an account key (signals.account_keys()): a failed login's account name is often a
  password typed into the wrong field.
"""

from sentry_sdk.integrations import logging as sentry_logging

from .logging_settings import SECURITY_LOGGERS
from .redaction import REDACTED, is_secret_header, redactor

# Left as the SDK made them: its own bookkeeping, and the user it sets only with send_default_pii on...
_KEPT_EVENT_KEYS = frozenset({"_meta", "sdk", "modules", "debug_meta", "contexts", "user"})
# ...and, at any depth, source code and where it is (a line of code is no secret; redacted, it would be garbled).
_SOURCE_KEYS = frozenset({"pre_context", "context_line", "post_context", "abs_path", "filename", "module", "function",
                          "package", "instruction_addr"})
# Keys whose text is a query string as sent (an outgoing HTTP breadcrumb's); the request's is query_string.
_QUERY_KEYS = frozenset({"http.query", "http.fragment"})


def ignore_security_loggers() -> None:
    """Out of events and breadcrumbs, and out of Sentry Logs (``enable_logs``) in SDKs that have them.

    The loggers security.log takes (django.request's 403s aside, which Sentry's Django integration does
    not turn into events), and their children (sentry-sdk matches the names with fnmatch).
    """
    for name in (*SECURITY_LOGGERS, *(f"{logger}.*" for logger in SECURITY_LOGGERS)):
        sentry_logging.ignore_logger(name)
        if hasattr(sentry_logging, "ignore_logger_for_sentry_logs"):
            sentry_logging.ignore_logger_for_sentry_logs(name)


def _account_keys() -> frozenset:
    from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured

    from .signals import ACCOUNT_KEYS, account_keys

    try:
        keys = account_keys()
    except (AppRegistryNotReady, ImproperlyConfigured):  # an event before Django is set up
        keys = ACCOUNT_KEYS
    return frozenset(key.casefold() for key in keys)


def _is_secret_key(key: str, account_keys: frozenset) -> bool:
    """A credential's name anywhere in it, or exactly a secret parameter's (not its last word: status_code is no
    secret), or an account key."""
    folded = key.casefold()
    return (is_secret_header(key) or "credential" in folded or folded in redactor().parameters
            or folded in account_keys)


def _request_query(query: str) -> str:
    """The request's query string, cut after its first secret value. Under ASGI sentry-sdk sends it percent-decoded
    (integrations/_asgi_common.py, _get_query): a secret's own "&" or ";" would split it, and its end would pass for
    parameters of their own (password=a%26b becomes password=a&b)."""
    redacted = redactor().query(query)
    return redacted if redacted == query else redacted[: redacted.index(REDACTED) + len(REDACTED)]


def _scrubbed(value, account_keys: frozenset, key: str = "", kept=_SOURCE_KEYS):
    if isinstance(value, str):
        if key == "query_string":
            return _request_query(value)
        return redactor().query(value) if key in _QUERY_KEYS else redactor().text(value)
    if isinstance(value, dict):
        return {name: item if name in kept else
                REDACTED if isinstance(name, str) and _is_secret_key(name, account_keys) else
                _scrubbed(item, account_keys, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, account_keys, key) for item in value]
    return value


def scrub_event(event: dict, hint: dict) -> dict:
    """A ``before_send`` (and ``before_send_transaction``, ``before_send_log``): the event with every value under
    a secret-looking key (a credential header, a secret query parameter's name, an account key) REDACTED and
    every URL, path and query in its text redacted as in the log files (redaction.py)."""
    return _scrubbed(event, _account_keys(), kept=_SOURCE_KEYS | _KEPT_EVENT_KEYS)


def scrubbing(before_send=None):
    """A before_send that runs the project's ``before_send`` first, then scrub_event on the event it returns, so
    nothing it adds gets past."""

    def project_then_scrub(event: dict, hint: dict) -> dict | None:
        if before_send is not None:
            event = before_send(event, hint)
        return None if event is None else scrub_event(event, hint)

    return project_then_scrub
