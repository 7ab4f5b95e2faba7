"""Names the request's user in its context, as the package's own middleware will (issue 19, another branch): the
actor of the account and privilege events a request causes. Remove it once that middleware is in the app's
MIDDLEWARE."""

import pytest
from django_elk_logging.request_context import current_request

AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


class KnownUserMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = current_request()
        if context is not None and request.user.is_authenticated:
            context.username = request.user.get_username()
        return self.get_response(request)


@pytest.fixture
def known_user(settings):
    """KnownUserMiddleware right after Django's AuthenticationMiddleware."""
    position = settings.MIDDLEWARE.index(AUTHENTICATION_MIDDLEWARE) + 1
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:position], f"{__name__}.KnownUserMiddleware",
                           *settings.MIDDLEWARE[position:]]
