"""Account, privilege and admin events through the real admin: a logged-in superuser's browser (test Client with CSRF
checks on; every form fetched first and posted with its token), and createsuperuser from the command line."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from tests.app.test_log_records import ORIGIN, RECORD_ID, TIMESTAMP
from tests.support.app_server import app_environment, manage
from tests.support.html_forms import form_fields

# Committed transactions: the account, privilege and admin records are written on commit
# (django_elk_logging/committed.py), and a non-transactional django_db test never commits.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Sup3r-Secret-Passw0rd!"
NEW_PASSWORD = "An0ther-Secret-Phrase!"


def logged_in_root() -> Client:
    """A new superuser root, logged in through the admin's login form (CSRF checks on)."""
    User.objects.create_superuser("root", password=PASSWORD)
    browser = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="pytest-agent")
    login = form_fields(browser.get("/admin/login/").content.decode(), "login-form")
    assert browser.post("/admin/login/", {**login, "username": "root", "password": PASSWORD}).status_code == 302
    return browser


@pytest.fixture
def admin(app_logs) -> Client:
    browser = logged_in_root()
    app_logs.mark()
    return browser


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def editors():
    return Group.objects.create(name="editors")


def submit(browser: Client, path: str, form_id: str, **changes) -> tuple[str, int]:
    """Fetch the form at ``path``, change the fields given (None: leave the field out), post it as a browser
    would; the request id and status of the post."""
    fields = form_fields(browser.get(path).content.decode(), form_id)
    fields.update(changes)
    response = browser.post(path, {name: value for name, value in fields.items() if value is not None})
    return response["X-Request-ID"], response.status_code


def event(module: str, name: str, code: str, fields: str, message: str, request_id: str, path: str,
          level: str = "WARNING") -> re.Pattern:
    """A security line of root's request ``request_id`` to ``path``."""
    return re.compile(
        rf"{level} {TIMESTAMP} {module} \[request_id={request_id} record_id={RECORD_ID} event={name} event_code={code}"
        rf" user=root {fields} client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path={re.escape(path)} user_agent=pytest-agent{ORIGIN}\]"
        rf" {re.escape(message)}"
    )


def privilege(target: str, name: str, old: str, new: str, request_id: str, path: str, kind: str = "user") -> re.Pattern:
    return event("account_changes", "privilege_changed", "authz_change",
                 rf"target_{kind}={re.escape(target)} privilege={re.escape(name)} old={old} new={new}",
                 f"Privilege changed: {name} of {kind} {target} {old} -> {new} by root", request_id, path)


def admin_action(operation: str, object_type: str, pk: int, target: str, change: str, request_id: str,
                 path: str) -> re.Pattern:
    target_field = f"target_user={target} " if target else ""
    shown = f" ({target})" if target else ""
    message = f"Admin {operation} of {object_type} {pk}{shown} by root" + (f": {change}" if change else "")
    return event("admin_actions", "admin_action", "authz_admin",
                 f"{target_field}object_type={re.escape(object_type)} object_id={pk} operation={operation}",
                 message, request_id, path)


def account(name: str, code: str, target: str, verb: str, request_id: str, path: str) -> re.Pattern:
    return event("account_changes", name, code, f"target_user={target}", f"User {verb}: {target} by root",
                 request_id, path)


def check(lines: list[str], patterns: list[re.Pattern]) -> None:
    assert len(lines) == len(patterns), "\n".join(lines)
    for line, pattern in zip(lines, patterns, strict=True):
        assert pattern.fullmatch(line), f"{line}\n!~ {pattern.pattern}"


def no_password_in(app_logs) -> None:
    text = app_logs.text("security.log") + app_logs.text("django_debug.log")
    assert PASSWORD not in text and NEW_PASSWORD not in text


def test_making_a_user_superuser_and_staff_and_adding_a_group(admin, bob, editors, app_logs):
    app_logs.mark()  # after the fixtures' users
    path = f"/admin/auth/user/{bob.pk}/change/"

    request_id, status = submit(admin, path, "user_form", is_staff="on", is_superuser="on", groups=str(editors.pk))

    assert status == 302
    check(app_logs.lines("security.log"), [
        privilege("bob", "is_superuser", "false", "true", request_id, path),
        privilege("bob", "is_staff", "false", "true", request_id, path),
        privilege("bob", "group:editors", "false", "true", request_id, path),
        admin_action("change", "auth.user", bob.pk, "bob", "Changed Staff status, Superuser status and Groups.",
                     request_id, path),
    ])


def test_removing_a_group_and_granting_a_permission(admin, bob, editors, app_logs):
    bob.groups.add(editors)
    add_user = Permission.objects.get(content_type__app_label="auth", codename="add_user")
    app_logs.mark()
    path = f"/admin/auth/user/{bob.pk}/change/"

    request_id, status = submit(admin, path, "user_form", groups=None, user_permissions=str(add_user.pk))

    assert status == 302
    check(app_logs.lines("security.log"), [
        privilege("bob", "group:editors", "true", "false", request_id, path),
        privilege("bob", "permission:auth.add_user", "false", "true", request_id, path),
        admin_action("change", "auth.user", bob.pk, "bob", "Changed Groups and User permissions.", request_id, path),
    ])


def test_granting_a_group_a_permission(admin, editors, app_logs):
    delete_user = Permission.objects.get(content_type__app_label="auth", codename="delete_user")
    path = f"/admin/auth/group/{editors.pk}/change/"

    request_id, status = submit(admin, path, "group_form", permissions=str(delete_user.pk))

    assert status == 302
    check(app_logs.lines("security.log"), [
        privilege("editors", "permission:auth.delete_user", "false", "true", request_id, path, kind="group"),
        admin_action("change", "auth.group", editors.pk, "", "Changed Permissions.", request_id, path),
    ])


def test_deleting_a_group_takes_it_from_its_members(admin, bob, editors, app_logs):
    bob.groups.add(editors)
    app_logs.mark()
    path = f"/admin/auth/group/{editors.pk}/delete/"

    request_id, status = submit(admin, path, "")

    assert status == 302 and not Group.objects.exists()
    check(app_logs.lines("security.log"), [
        admin_action("deletion", "auth.group", editors.pk, "", "", request_id, path),
        privilege("bob", "group:editors", "true", "false", request_id, path),
    ])


def test_a_password_set_in_the_admin_is_a_password_change_and_an_admin_change_and_never_logged(admin, bob, app_logs):
    app_logs.mark()  # after the fixtures' users
    path = f"/admin/auth/user/{bob.pk}/password/"

    request_id, status = submit(admin, path, "user_form", password1=NEW_PASSWORD, password2=NEW_PASSWORD)

    assert status == 302
    # The form's save is a password change (password_events.py), then the admin records it.
    check(app_logs.lines("security.log"), [
        event("password_events", "password_changed", "authn_password_change", "target_user=bob", "Password changed: bob",
              request_id, path, level="INFO"),
        admin_action("change", "auth.user", bob.pk, "bob", "Changed password.", request_id, path),
    ])
    no_password_in(app_logs)


def test_disabling_a_password_in_the_admin_is_a_password_change(admin, bob, app_logs):
    app_logs.mark()  # after the fixtures' users
    path = f"/admin/auth/user/{bob.pk}/password/"

    # The admin's "Disable password-based authentication" button (admin/auth/user/change_password.html):
    # set_unusable_password(), no set_password() (SetUnusablePasswordMixin, django/contrib/auth/forms.py).
    request_id, status = submit(admin, path, "user_form", usable_password="false", password1="", password2="",
                                **{"unset-password": "Disable password-based authentication"})

    assert status == 302
    assert not User.objects.get(pk=bob.pk).has_usable_password()
    check(app_logs.lines("security.log"), [
        event("password_events", "password_changed", "authn_password_change", "target_user=bob",
              "Password disabled: bob", request_id, path, level="INFO"),
        # Django's own change message misses it: AdminPasswordChangeForm.changed_data counts only password1 and
        # password2 (django/contrib/auth/forms.py).
        admin_action("change", "auth.user", bob.pk, "bob", "No fields changed.", request_id, path),
    ])


def test_adding_a_user(admin, app_logs):
    path = "/admin/auth/user/add/"

    request_id, status = submit(admin, path, "user_form", username="dora", password1=NEW_PASSWORD,
                                password2=NEW_PASSWORD)

    assert status == 302
    dora = User.objects.get(username="dora")
    check(app_logs.lines("security.log"), [
        account("user_created", "user_created", "dora", "created", request_id, path),
        admin_action("addition", "auth.user", dora.pk, "dora", "Added.", request_id, path),
    ])
    no_password_in(app_logs)


def test_deleting_one_user_after_the_confirmation_page(admin, bob, app_logs):
    app_logs.mark()  # after the fixtures' users
    path = f"/admin/auth/user/{bob.pk}/delete/"

    request_id, status = submit(admin, path, "")

    assert status == 302 and not User.objects.filter(username="bob").exists()
    # The admin records a deletion before it deletes (ModelAdmin.log_deletions).
    check(app_logs.lines("security.log"), [
        admin_action("deletion", "auth.user", bob.pk, "bob", "", request_id, path),
        account("user_deleted", "user_deleted", "bob", "deleted", request_id, path),
    ])


def test_deleting_selected_users_a_bulk_created_log_entry_for_each(admin, bob, app_logs):
    carl = User.objects.create_user("carl", password=PASSWORD)
    app_logs.mark()
    path = "/admin/auth/user/"
    selection = form_fields(admin.get(path).content.decode(), "changelist-form")
    selection.update(action="delete_selected", _selected_action=[str(bob.pk), str(carl.pk)])
    confirmation = admin.post(path, selection)
    assert confirmation.status_code == 200 and app_logs.lines("security.log") == []

    confirmed = admin.post(path, form_fields(confirmation.content.decode(), ""))

    assert confirmed.status_code == 302 and not User.objects.filter(username__in=["bob", "carl"]).exists()
    request_id = confirmed["X-Request-ID"]
    # Both LogEntry rows in one bulk_create (no post_save), then one post_delete per user, the last deleted first
    # (django/db/models/deletion.py, Collector.delete).
    check(app_logs.lines("security.log"), [
        admin_action("deletion", "auth.user", bob.pk, "bob", "", request_id, path),
        admin_action("deletion", "auth.user", carl.pk, "carl", "", request_id, path),
        account("user_deleted", "user_deleted", "carl", "deleted", request_id, path),
        account("user_deleted", "user_deleted", "bob", "deleted", request_id, path),
    ])


def test_createsuperuser_from_the_command_line_names_the_command(tmp_path):
    env = app_environment(tmp_path, DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    (tmp_path / "log").mkdir()
    assert manage(env, "migrate", "--noinput").returncode == 0

    result = manage(env, "createsuperuser", "--noinput", "--username", "ops-root", "--email", "ops@example.com")

    assert result.returncode == 0, result.stderr
    outside = rf"WARNING {TIMESTAMP} account_changes \[request_id=- record_id={RECORD_ID} "
    check((tmp_path / "log" / "security.log").read_text().splitlines(), [
        re.compile(outside + rf"event=user_created event_code=user_created target_user=ops-root{ORIGIN}\] "
                   r"User created: ops-root via manage\.py createsuperuser \(pid \d+\)"),
        *(re.compile(outside + rf"event=privilege_changed event_code=authz_change target_user=ops-root "
                     rf"privilege={flag} old=false new=true{ORIGIN}\] "
                     rf"Privilege changed: {flag} of user ops-root false -> true via manage\.py createsuperuser \(pid \d+\)")
          for flag in ("is_superuser", "is_staff")),
    ])
    assert PASSWORD not in "".join(path.read_text() for path in (tmp_path / "log").iterdir())

