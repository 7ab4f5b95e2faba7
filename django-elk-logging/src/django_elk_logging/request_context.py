"""Per-request context (request id, client address) that every log line can carry, under WSGI and ASGI.

The request id is always the server's own: a client-chosen one could join unrelated requests under one
id. A well-formed incoming X-Request-ID is kept beside it, as ``client_request_id``, so ids can still be
followed across services; a malformed one is reported as a security event.

The client address is resolved through the trusted proxies (proxies.py) and handed to the server's
access line under access_lines.CLIENT_ADDRESS_KEY: in the WSGI environ, which is the request's META
(django/core/handlers/wsgi.py, WSGIRequest.__init__) and the dict gunicorn's workers log
(gunicorn/workers/sync.py and gthread.py, handle_request: the same ``environ`` goes to the app and to
``log.access``); under ASGI in the scope, which Django's request keeps as it came
(django/core/handlers/asgi.py, ASGIRequest.__init__: ``self.scope = scope``).

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
import functools
import logging
import re
import uuid
from dataclasses import dataclass, field

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import get_path_info

from .access_lines import CLIENT_ADDRESS_KEY
from .denylist import Network, parse_networks
from .proxies import resolve_client
from .redaction import redact_url
from .security_events import log_security_event

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


@functools.lru_cache(maxsize=4)
def _parsed_networks(entries) -> tuple[Network, ...]:
    return parse_networks(entries)


def trusted_proxies() -> tuple[Network, ...]:
    """The ``TRUSTED_PROXIES`` setting's networks; ImproperlyConfigured names a bad entry."""
    entries = getattr(settings, "TRUSTED_PROXIES", ())
    try:
        return _parsed_networks(entries if isinstance(entries, str) else tuple(entries))
    except TypeError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES must be a list of addresses or networks; it is {entries!r}") from None
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES {error}") from None


def trusted_proxy_count() -> int:
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be a whole number of proxies, 0 or more; it is {count!r}.")
    return count


def check_proxy_settings() -> None:
    """ImproperlyConfigured for settings that would believe no X-Forwarded-For while saying they do."""
    networks, count = trusted_proxies(), trusted_proxy_count()
    if count and not networks:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXY_COUNT is {count} but TRUSTED_PROXIES is empty: X-Forwarded-For is believed only from a "
            "trusted proxy's address, so no client address would be resolved. List your proxies' addresses or "
            "networks in TRUSTED_PROXIES, or set TRUSTED_PROXY_COUNT to 0."
        )


def client_ip(meta: dict) -> str:
    """REMOTE_ADDR, or the client the trusted proxies reported in X-Forwarded-For; "" if unknown.

    X-Forwarded-For is believed only from a peer in the ``TRUSTED_PROXIES`` setting, and for at most
    ``TRUSTED_PROXY_COUNT`` hops (proxies.resolve_client); otherwise any client could choose its address.
    ``meta`` is a WSGI environ or an ASGI request's META (Django fills REMOTE_ADDR from the scope's
    client, and joins repeated headers with commas, as gunicorn does).
    """
    return resolve_client(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""),
                          trusted_proxies(), trusted_proxy_count())


def _begin(meta: dict, path: str) -> RequestContext:
    incoming = meta.get("HTTP_X_REQUEST_ID")
    accepted = incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming) is not None
    context = RequestContext(
        request_id=new_request_id(),
        client_ip=client_ip(meta),
        user_agent=meta.get("HTTP_USER_AGENT", ""),
        path=redact_url(path or "/"),  # a reset link's token, for one, never reaches a record
        meta=meta,
        peer_ip=meta.get("REMOTE_ADDR", ""),
        client_request_id=incoming if accepted else "",
    )
    meta[CLIENT_ADDRESS_KEY] = context.client_ip
    _current_request.set(context)
    if sentry_sdk is not None:
        sentry_sdk.set_tag("request_id", context.request_id)
    if incoming is not None and not accepted:
        log_security_event(security_logger, "malformed_request_id", "Rejected malformed %s header: %s",
                           REQUEST_ID_HEADER, incoming)
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
    context = _begin(request.META, request.path_info)
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        scope[CLIENT_ADDRESS_KEY] = context.client_ip
    return context


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
    """Exposes the request id as ``request.request_id`` and returns it in the X-Request-ID header.

    It refuses to start on proxy settings that cannot work: the WSGI handler builds the middleware
    when the server loads the app (django/core/handlers/wsgi.py, WSGIHandler.__init__), and gunicorn
    never runs the system checks.
    """

    def __init__(self, get_response):
        check_proxy_settings()
        super().__init__(get_response)

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
