"""Records of database changes are written once the change is committed (committed.py): at once in autocommit,
at the outermost atomic block's exit otherwise, and never for a change rolled back, whole or to a savepoint."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import PasswordResetConfirmView
from django.db import connection, transaction
from django.urls import include, path
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from test_account_changes import PASSWORD, line, matches, privilege
from test_auth_events import NEW_PASSWORD, csrf_client, submit
from test_auth_events import line as request_line
from test_request_events import Tail

# The test itself runs in autocommit: transaction=True wraps it in no transaction.
pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()


# The test URLconf's, with a reset that logs the user in once the password is set.
urlpatterns = [
    path("reset-and-login/<uidb64>/<token>/",
         PasswordResetConfirmView.as_view(post_reset_login=True, success_url="/")),
    path("", include("urls_for_tests")),
]


class LaterStepFailed(Exception):
    """A step after the change fails, and the atomic block rolls the change back."""


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def tail(bob) -> Tail:
    """From after bob's creation."""
    return Tail()


def test_in_autocommit_a_change_is_logged_at_once(bob, tail):
    assert not connection.in_atomic_block
    bob.is_superuser = True
    bob.save()

    matches(tail.lines("security.log"), [privilege("bob", "is_superuser", "false", "true")])


def test_inside_an_atomic_block_a_change_is_logged_when_the_block_commits(bob, tail):
    with transaction.atomic():
        bob.is_superuser = True
        bob.save()
        assert tail.lines("security.log") == []

    matches(tail.lines("security.log"), [privilege("bob", "is_superuser", "false", "true")])


def test_a_privilege_gained_then_rolled_back_leaves_no_record(bob, tail):
    with pytest.raises(LaterStepFailed), transaction.atomic():
        bob.is_superuser = True
        bob.save()
        bob.groups.add(Group.objects.create(name="editors"))
        assert User.objects.get(pk=bob.pk).is_superuser  # the save did reach the database
        raise LaterStepFailed

    assert not User.objects.get(pk=bob.pk).is_superuser
    assert tail.lines("security.log") == []


def test_a_deletion_and_a_password_change_rolled_back_leave_no_record(bob, tail):
    with pytest.raises(LaterStepFailed), transaction.atomic():
        bob.set_password("An0ther-Secret-Phrase!")
        bob.save()
        User.objects.filter(pk=bob.pk).delete()
        raise LaterStepFailed

    assert User.objects.filter(username="bob").exists()
    assert tail.lines("security.log") == []


def test_a_change_rolled_back_to_its_savepoint_is_left_out_and_the_committed_one_logged(bob, tail):
    with transaction.atomic():
        bob.is_staff = True
        bob.save()
        with pytest.raises(LaterStepFailed), transaction.atomic():
            User.objects.create_user("mallory", is_superuser=True)
            raise LaterStepFailed

    assert not User.objects.filter(username="mallory").exists()
    matches(tail.lines("security.log"), [privilege("bob", "is_staff", "false", "true")])


def test_a_user_created_and_deleted_in_one_transaction_is_logged_from_what_was_read_before(tail):
    # The callbacks run after carol's rows are gone: her name and the group's were read at the signals.
    with transaction.atomic():
        carol = User.objects.create_user("carol", is_staff=True)
        carol.groups.add(Group.objects.create(name="editors"))
        carol.delete()

    matches(tail.lines("security.log"), [
        line("account_changes", "user_created", "user_created", "target_user=carol", "User created: carol"),
        privilege("carol", "is_staff", "false", "true"),
        privilege("carol", "group:editors", "false", "true"),
        line("account_changes", "user_deleted", "user_deleted", "target_user=carol", "User deleted: carol"),
    ])


def test_under_atomic_requests_a_reset_that_logs_the_user_in_names_no_actor_as_when_it_was_saved(
        bob, settings, monkeypatch):
    # The record is written when the view's transaction commits, after the view logged bob in: its user is
    # the one the request had when the password was saved, nobody.
    settings.ROOT_URLCONF = __name__
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)  # django/core/handlers/base.py
    client = csrf_client()
    link = f"/reset-and-login/{urlsafe_base64_encode(force_bytes(bob.pk))}/{default_token_generator.make_token(bob)}/"
    set_password = client.get(link)["Location"]  # Django moves the token into the session and redirects
    tail = Tail()

    completed = submit(client, set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert completed.status_code == 302 and client.session["_auth_user_id"] == str(bob.pk)
    logged_in, reset = tail.lines("security.log")
    assert "event=user_logged_in" in logged_in, logged_in
    assert re.fullmatch(request_line("INFO", "password_events", completed, "event=password_reset_completed "
                                     "event_code=authn_password_change target_user=bob", "Password reset completed: bob"),
                        reset), reset
