"""Per-request context (request id, client address) that every log line can carry.

A well-formed incoming X-Request-ID is kept so ids can follow a request
across services; a malformed one is replaced and reported as a security event.
"""

import contextvars
import ipaddress
import logging
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.handlers.wsgi import get_path_info

from .log_lines import NO_REQUEST_ID

try:
    import sentry_sdk
except ModuleNotFoundError:  # without the [sentry] extra there are no Sentry events to tag
    sentry_sdk = None

REQUEST_ID_HEADER = "X-Request-ID"
# Accepted incoming ids: long enough to be unique, and only characters that
# need no escaping in a log line or an HTTP header.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,128}")

security_logger = logging.getLogger("security")


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str
    user_agent: str
    path: str


_current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "current_request", default=None
)


def current_request() -> RequestContext | None:
    return _current_request.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def client_ip(environ: dict) -> str:
    """REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost trusted proxy; "" if unknown.

    X-Forwarded-For is only believed when the ``TRUSTED_PROXY_COUNT`` setting (default 0)
    says that many proxies sit in front of the app; otherwise any client could choose its IP.
    """
    remote_addr = environ.get("REMOTE_ADDR", "")
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops:
        forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote_addr


def begin_request(sender, environ, **kwargs):
    """request_started receiver: the context lives until request_finished.

    Django logs 4xx responses after the middleware chain has returned, so the
    context must outlive any middleware.
    """
    incoming = environ.get("HTTP_X_REQUEST_ID")
    accepted = incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming) is not None
    request_id = incoming if accepted else new_request_id()
    _current_request.set(
        RequestContext(
            request_id=request_id,
            client_ip=client_ip(environ),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
            path=get_path_info(environ) or "/",
        )
    )
    if sentry_sdk is not None:
        sentry_sdk.set_tag("request_id", request_id)
    if incoming is not None and not accepted:
        security_logger.warning(
            "Rejected malformed %s header: %s", REQUEST_ID_HEADER, incoming, extra={"event": "malformed_request_id"}
        )


def end_request(sender, **kwargs):
    _current_request.set(None)


class RequestIdMiddleware:
    """Exposes the request id as ``request.request_id`` and returns it in the X-Request-ID header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = current_request()
        request.request_id = context.request_id if context else NO_REQUEST_ID
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response
