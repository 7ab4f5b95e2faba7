"""Per-request context (request id, client address) that every log line can carry, under WSGI and ASGI.

A well-formed incoming X-Request-ID is kept so ids can follow a request
across services; a malformed one is replaced and reported as a security event.

Where the context is set:

- WSGI: the ``request_started`` receiver, from the environ. Django logs 4xx responses
  after the middleware chain has returned, so the context outlives any middleware
  and ends with ``request_finished``.
- ASGI: Django sends ``request_started`` with ``scope=`` through ``Signal.asend``. Django 5.2
  runs the receivers in a task of their own (``asyncio.gather``, django/dispatch/dispatcher.py),
  so a context variable set there never reaches the request (6.1 awaits them in the caller's
  context). So under ASGI the receiver does nothing, and the first of the package's middlewares
  sets the context, in the context the request runs in (5.2: a task per request; 6.1: the
  server's task for that request, django/core/handlers/asgi.py), where Django's 4xx logging,
  after the middleware chain, still sees it; ``request_finished`` ends it (6.1), or the task does.
"""

import contextvars
import ipaddress
import logging
import re
import uuid
from dataclasses import dataclass, field

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.handlers.wsgi import get_path_info

from .redaction import redact_url

try:
    import sentry_sdk
except ModuleNotFoundError:  # without the [sentry] extra there are no Sentry events to tag
    sentry_sdk = None

REQUEST_ID_HEADER = "X-Request-ID"
# Accepted incoming ids: long enough to be unique, and only characters that
# need no escaping in a log line or an HTTP header.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,128}")

security_logger = logging.getLogger("security")


@dataclass
class RequestContext:
    request_id: str
    client_ip: str
    user_agent: str
    path: str
    # The request's META (WSGI: its environ): tells this request's context from an earlier one's.
    meta: dict = field(compare=False, repr=False)
    # The address that connected: a proxy, or the client itself (client_ip is resolved through the proxies).
    peer_ip: str = ""
    # The X-Request-ID the client sent, when well formed; request_id is always the server's own.
    client_request_id: str = ""
    # Who is logged in, once known: set when the request's user is resolved, or logs in or out during it.
    username: str = ""


_current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "current_request", default=None
)


def current_request() -> RequestContext | None:
    return _current_request.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def client_ip(meta: dict) -> str:
    """REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost trusted proxy; "" if unknown.

    X-Forwarded-For is only believed when the ``TRUSTED_PROXY_COUNT`` setting (default 0)
    says that many proxies sit in front of the app; otherwise any client could choose its IP.
    ``meta`` is a WSGI environ or an ASGI request's META (Django fills REMOTE_ADDR from the
    scope's client, and the headers alike).
    """
    remote_addr = meta.get("REMOTE_ADDR", "")
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote_addr


def _begin(meta: dict, path: str) -> RequestContext:
    incoming = meta.get("HTTP_X_REQUEST_ID")
    accepted = incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming) is not None
    context = RequestContext(
        request_id=incoming if accepted else new_request_id(),
        client_ip=client_ip(meta),
        user_agent=meta.get("HTTP_USER_AGENT", ""),
        path=redact_url(path or "/"),  # a reset link's token, for one, never reaches a record
        meta=meta,
    )
    _current_request.set(context)
    if sentry_sdk is not None:
        sentry_sdk.set_tag("request_id", context.request_id)
    if incoming is not None and not accepted:
        security_logger.warning(
            "Rejected malformed %s header: %s", REQUEST_ID_HEADER, incoming, extra={"event": "malformed_request_id"}
        )
    return context


def begin_request(sender, environ=None, **kwargs):
    """request_started receiver: under WSGI the context starts here and lives until request_finished.

    Under ASGI (``scope=``, no environ) it does nothing: see the module's docstring.
    """
    if environ is not None:
        _begin(environ, get_path_info(environ))


def end_request(sender, **kwargs):
    _current_request.set(None)


def request_context_for(request) -> RequestContext:
    """The context of ``request``: the one request_started set (WSGI), else a new one (ASGI)."""
    context = current_request()
    if context is not None and context.meta is request.META:
        return context
    return _begin(request.META, request.path_info)


class SyncAndAsyncMiddleware:
    """A middleware Django runs in either mode without adapting it (django/core/handlers/base.py,
    load_middleware): ``__call__`` is ``call``, or returns ``acall``'s coroutine when the handler below is
    async, as Django's own MiddlewareMixin does. Under ASGI with async middleware and views, no request
    pays a thread switch for it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        return self.acall(request) if self.is_async else self.call(request)


class RequestIdMiddleware(SyncAndAsyncMiddleware):
    """Exposes the request id as ``request.request_id`` and returns it in the X-Request-ID header."""

    def call(self, request):
        request.request_id = request_context_for(request).request_id
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response

    async def acall(self, request):
        request.request_id = request_context_for(request).request_id
        response = await self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response
