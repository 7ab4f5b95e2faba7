import asyncio
import logging
import os
import time

from django.contrib import admin
from django.contrib.auth import authenticate, login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import include, path

logger = logging.getLogger("views_for_tests")


def hello(request):
    logger.info("hello from a view")
    return HttpResponse(request.request_id)


def boom(request):
    raise RuntimeError("this view fails on purpose")


def sign_in(request):
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return HttpResponse("refused", status=403)
    login(request, user)
    return HttpResponse("signed in")


async def async_token(request):
    """Two records around a pause, so concurrent requests interleave (the client chooses the tag and the pause)."""
    token = request.GET["tag"]
    logger.info("async start %s", token)
    await asyncio.sleep(float(request.GET.get("pause", "0")))
    logger.info("async end %s", token)
    return HttpResponse(token)


def sync_token(request):
    token = request.GET["tag"]
    logger.info("sync start %s", token)
    time.sleep(float(request.GET.get("pause", "0")))
    logger.info("sync end %s", token)
    return HttpResponse(token)


async def probe(request):
    """A security record after a pause: its context (client, path, user agent) must be its own request's."""
    await asyncio.sleep(float(request.GET.get("pause", "0")))
    logging.getLogger("security").warning("probe %s", request.GET["tag"])
    return HttpResponse("probed")


def healthz(request):
    return HttpResponse("ok")


def forbidden(request):
    raise PermissionDenied


def pid(request):
    """The serving process's pid, and a record it logs."""
    logger.info("pid asked")
    return HttpResponse(str(os.getpid()))


def whoami(request):
    """A POST, so CSRF applies; answers who Django took the requester for."""
    return HttpResponse(request.user.get_username())


urlpatterns = [
    path("", hello), path("boom", boom), path("login", sign_in),
    path("async", async_token), path("sync", sync_token), path("probe", probe),
    path("healthz", healthz),
    path("forbidden", forbidden), path("whoami", whoami), path("pid", pid),
    # Django's own: password_change/, password_reset/, reset/<uidb64>/<token>/ (django/contrib/auth/urls.py)
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
