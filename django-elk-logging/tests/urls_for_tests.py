import logging

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


urlpatterns = [path("", hello), path("boom", boom), path("login", sign_in)]
