"""Refuses requests from the client addresses in the ``BLOCKED_IPS`` setting with 403, each one a security event.

Every refusal is logged (event ``blocked_ip``): gunicorn's access log writes a line for every
request anyway, so this line does not let a flood cost more than it already does, and a
count of each source stays exact in Kibana. Put the middleware before the session and
authentication middleware, so a refused request reads no session and touches no database.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.http import HttpResponseForbidden

from .denylist import blocking_network, parse_networks
from .request_context import SyncAndAsyncMiddleware, request_context_for
from .security_events import log_security_event

security_logger = logging.getLogger("security")


class BlockedIPMiddleware(SyncAndAsyncMiddleware):
    """403 for a client address in ``BLOCKED_IPS`` (IPs and CIDR networks), resolved as the log lines resolve it.

    The address is request_context.client_ip's: X-Forwarded-For only from the TRUSTED_PROXIES.
    """

    def __init__(self, get_response):
        try:
            self.networks = parse_networks(getattr(settings, "BLOCKED_IPS", ()))
        except ValueError as error:
            raise ImproperlyConfigured(f"BLOCKED_IPS {error}") from None
        if not self.networks:
            raise MiddlewareNotUsed("BLOCKED_IPS is empty")
        super().__init__(get_response)

    def call(self, request):
        refusal = self._refusal(request)
        return self.get_response(request) if refusal is None else refusal

    async def acall(self, request):
        refusal = self._refusal(request)
        return await self.get_response(request) if refusal is None else refusal

    def _refusal(self, request) -> HttpResponseForbidden | None:
        """The 403 for a blocked client (logged), or None."""
        address = request_context_for(request).client_ip
        network = blocking_network(address, self.networks)
        if network is None:
            return None
        # The client, its path and user agent come from the request's context (log_filters.RequestContextFilter).
        log_security_event(security_logger, "blocked_ip", "Refused a request from blocked address %s (BLOCKED_IPS entry %s)",
                           address, network)
        response = HttpResponseForbidden("Forbidden\n", content_type="text/plain; charset=utf-8")
        # The refusal is logged above: without this django/core/handlers/base.py (get_response,
        # through django/utils/log.py log_response) would log it again as a "Forbidden" 403.
        response._has_been_logged = True
        return response
