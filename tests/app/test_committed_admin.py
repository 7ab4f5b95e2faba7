"""The admin's changes are logged once its transaction commits (django_elk_logging/committed.py): a change or a
deletion that a later step of the same view rolls back leaves no record, and a committed one is logged inside its
request, with its request id and client address. The admins that fail are the app's own user admin with one step
made to fail after the change reached the database, on admin sites of this module's URLconf."""

import re

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.urls import path

from myapp.admin import ContainmentUserAdmin
from tests.app.test_account_events import PASSWORD, admin_action, check, logged_in_root, privilege, submit
from tests.support.html_forms import form_fields

pytestmark = pytest.mark.django_db(transaction=True)


class LaterStepFailed(Exception):
    """A step after the change fails: the view's atomic block rolls the change back."""


# What the database held when the failing step ran: the change had been made.
seen_in_database: list[bool] = []


class SaveRelatedFails(ContainmentUserAdmin):
    def save_related(self, request, form, formsets, change):
        seen_in_database.append(User.objects.get(pk=form.instance.pk).is_superuser)
        raise LaterStepFailed


class DeletionFails(ContainmentUserAdmin):
    def delete_model(self, request, obj):
        pk = obj.pk
        super().delete_model(request, obj)
        seen_in_database.append(User.objects.filter(pk=pk).exists())
        raise LaterStepFailed


save_fails_site = django_admin.AdminSite(name="save_fails")
save_fails_site.register(User, SaveRelatedFails)
deletion_fails_site = django_admin.AdminSite(name="deletion_fails")
deletion_fails_site.register(User, DeletionFails)


def grant_superuser_then_fail(request):
    """Under ATOMIC_REQUESTS: a view that makes bob superuser, then fails."""
    bob = User.objects.get(username="bob")
    bob.is_superuser = True
    bob.save()
    raise LaterStepFailed


urlpatterns = [
    path("admin/", django_admin.site.urls),
    path("save-fails/", save_fails_site.urls),
    path("deletion-fails/", deletion_fails_site.urls),
    path("grant-then-fail/", grant_superuser_then_fail),
]


@pytest.fixture
def failing_admins(settings):
    settings.ROOT_URLCONF = __name__
    seen_in_database.clear()


@pytest.fixture
def admin(failing_admins) -> Client:
    return logged_in_root()


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password=PASSWORD)


def post_form(browser, path: str, form_id: str, **changes):
    fields = form_fields(browser.get(path).content.decode(), form_id)
    fields.update(changes)
    return browser.post(path, fields)


def test_a_superuser_grant_rolled_back_by_a_later_step_of_the_admin_leaves_no_record(admin, bob, app_logs):
    app_logs.mark()

    with pytest.raises(LaterStepFailed):
        post_form(admin, f"/save-fails/auth/user/{bob.pk}/change/", "user_form", is_superuser="on")

    assert seen_in_database == [True]
    assert not User.objects.get(pk=bob.pk).is_superuser
    assert app_logs.lines("security.log") == []


def test_the_same_grant_committed_is_logged_inside_its_request(admin, bob, app_logs):
    app_logs.mark()
    path = f"/admin/auth/user/{bob.pk}/change/"

    request_id, status = submit(admin, path, "user_form", is_superuser="on")

    assert status == 302 and User.objects.get(pk=bob.pk).is_superuser
    # request_id, client_ip, path and user_agent: the callbacks ran inside the request's context.
    check(app_logs.lines("security.log"), [
        privilege("bob", "is_superuser", "false", "true", request_id, path),
        admin_action("change", "auth.user", bob.pk, "bob", "Changed Superuser status.", request_id, path),
    ])


def test_a_deletion_rolled_back_after_the_admin_recorded_it_leaves_no_record(admin, bob, app_logs):
    app_logs.mark()

    # The admin builds its LogEntry (log_deletions) before it deletes, inside the same atomic block.
    with pytest.raises(LaterStepFailed):
        post_form(admin, f"/deletion-fails/auth/user/{bob.pk}/delete/", "")

    assert seen_in_database == [False]
    assert User.objects.filter(pk=bob.pk).exists()
    assert app_logs.lines("security.log") == []


def test_under_atomic_requests_a_failing_view_leaves_no_record(admin, bob, app_logs, monkeypatch):
    # BaseHandler.make_view_atomic reads the connection's settings (django/core/handlers/base.py).
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    app_logs.mark()

    with pytest.raises(LaterStepFailed):
        admin.get("/grant-then-fail/")

    assert not User.objects.get(pk=bob.pk).is_superuser
    assert app_logs.lines("security.log") == []


def test_outside_any_transaction_an_orm_change_is_logged_at_once(bob, app_logs):
    app_logs.mark()
    assert not connection.in_atomic_block and transaction.get_autocommit()

    bob.is_superuser = True
    bob.save()

    [line] = app_logs.lines("security.log")
    assert re.fullmatch(r"WARNING .* account_changes \[request_id=- .*event=privilege_changed .*\] "
                        r"Privilege changed: is_superuser of user bob false -> true via \S+ \(pid \d+\)", line), line
