import asyncio
import logging
import time

from django.contrib.auth import authenticate, login
from django.http import HttpResponse
from django.urls import path

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


def reset_link(request, uidb64, token):
    """Where Django's password reset puts its links' tokens (django/contrib/auth/urls.py)."""
    return HttpResponse("reset")


def healthz(request):
    return HttpResponse("ok")


urlpatterns = [
    path("", hello), path("boom", boom), path("login", sign_in),
    path("async", async_token), path("sync", sync_token), path("probe", probe),
    path("healthz", healthz), path("accounts/reset/<uidb64>/<token>/", reset_link),
]
