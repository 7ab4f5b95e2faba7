"""Per-request context (request id, client address) that every log line can carry."""

import contextvars
import ipaddress
import logging
import re
import uuid
from dataclasses import dataclass

import sentry_sdk
from django.conf import settings

REQUEST_ID_HEADER = "X-Request-ID"
# Accepted incoming ids: long enough to be unique, and only characters that
# need no escaping in a log line or an HTTP header.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,128}")
NO_REQUEST_ID = "-"

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


def client_ip(meta: dict) -> str:
    """REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost trusted proxy.

    X-Forwarded-For is only believed when ``TRUSTED_PROXY_COUNT`` proxies are
    known to sit in front of the app; otherwise any client could choose its IP.
    """
    remote_addr = meta.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote_addr or "-"


class RequestContextMiddleware:
    """Assigns each request an id, exposes it to logs and Sentry, and returns it in a header.

    A well-formed incoming X-Request-ID is kept so ids can follow a request
    across services; a malformed one is replaced and reported as a security event.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        accepted = incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming)
        request_id = incoming if accepted else new_request_id()
        request.request_id = request_id
        context = RequestContext(
            request_id=request_id,
            client_ip=client_ip(request.META),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            path=request.path,
        )
        token = _current_request.set(context)
        try:
            sentry_sdk.set_tag("request_id", request_id)
            if incoming is not None and not accepted:
                security_logger.warning(
                    "Rejected malformed %s header: %s",
                    REQUEST_ID_HEADER,
                    incoming,
                    extra={"event": "malformed_request_id"},
                )
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
