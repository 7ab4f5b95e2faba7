"""The sample views: health, admin, and the staff-only page."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_endpoint_answers_ok_without_logging(app_logs):
    response = Client().get("/healthz")

    assert (response.status_code, response.content) == (200, b"ok")
    assert response["Cache-Control"].startswith("max-age=0")
    assert app_logs.text("django_debug.log") == app_logs.text("security.log") == ""


def test_health_endpoint_only_answers_get():
    assert Client().post("/healthz").status_code == 405


def test_admin_asks_anonymous_visitors_to_sign_in():
    client = Client()

    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/").status_code == 200


def test_restricted_page_is_for_staff_only():
    client = Client()
    assert client.get("/restricted/")["Location"].startswith("/accounts/login/")
    client.force_login(User.objects.create_user("plain"))
    assert client.get("/restricted/").status_code == 403
    client.force_login(User.objects.create_user("staff", is_staff=True))
    assert client.get("/restricted/").content == b"Staff area"
