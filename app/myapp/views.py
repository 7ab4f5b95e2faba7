import logging

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("myapp")


def hello(request):
    logger.info("This is an info message")
    logger.error("This is an error message")
    return HttpResponse("Hello, World!")


def boom(request):
    """Fails on purpose, so tracebacks and Sentry have something to show."""
    raise RuntimeError("Boom: this view fails on purpose")


@never_cache
@require_GET
def healthz(request):
    """Liveness and database check. Logs nothing: probes run every few seconds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def account(request):
    return render(request, "myapp/account.html")


@login_required
def restricted(request):
    if not request.user.is_staff:
        raise PermissionDenied("Staff only")
    return HttpResponse("Staff area")
