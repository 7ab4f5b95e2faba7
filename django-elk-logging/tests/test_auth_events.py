"""Password changes, resets, refused sessions and refused logins through Django's own views, the admin and the
ORM, with real CSRF tokens: each one security record (password_events.py, auth_events.py), with the actor
and the target, and never a password, token or session id in any log file."""

import asyncio
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import AsyncClient, Client

from projects import new_project, readme_block
from servers import environment, free_port, request, serving
from test_projects import STARTPROJECT_LIKE_TUPLES
from test_request_events import ORIGIN, RECORD_ID, TIMESTAMP, Tail

# Committed transactions: the records of saved passwords are written on commit (committed.py), and the
# admin's views commit their own atomic blocks.
pytestmark = pytest.mark.django_db(transaction=True)

OLD_PASSWORD = "Old-Lantern-4417"
NEW_PASSWORD = "New-Harbour-8923"
WRONG_PASSWORD = "Wrong-Compass-5530"
# A username no line may carry as it is: CR/LF, a bidi override, and 10 kB.
HOSTILE_NAME = "eve\r\nINFO forged\u202e" + "x" * 10_000
# Escaped to 24 characters, then x up to the 512 of a field; the 9512 characters left are counted.
HOSTILE_FIELD = r'"eve\\r\\nINFO forged\\u202ex{488}\.\.\.\[truncated 9512 chars\]"'
HOSTILE_MESSAGE = r"eve\\r\\nINFO forged\\u202ex+\.\.\.\[truncated \d+ chars\]"


@pytest.fixture
def tail() -> Tail:
    return Tail()


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", "bob@example.com", OLD_PASSWORD)


@pytest.fixture
def root():
    return get_user_model().objects.create_superuser("root", "root@example.com", OLD_PASSWORD)


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def form_token(client: Client, path: str) -> str:
    """The CSRF token of the form the page at ``path`` shows, as a browser would send it back."""
    page = client.get(path)
    assert page.status_code == 200, page
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]


def submit(client: Client, path: str, data: dict):
    return client.post(path, {**data, "csrfmiddlewaretoken": form_token(client, path)})


def admin_login(client: Client, username: str, password: str):
    return submit(client, "/admin/login/", {"username": username, "password": password})


def line(level: str, module: str, response, context: str, message: str) -> str:
    """A security record of the request ``response`` answered (a WSGI environ's path, or an ASGI scope's)."""
    path = response.request.get("PATH_INFO") or response.request["path"]
    return (rf"{level} {TIMESTAMP} {module} \[request_id={response['X-Request-ID']} record_id={RECORD_ID} "
            rf"{context} client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path={re.escape(path)}{ORIGIN}\] {message}")


def assert_lines(lines: list[str], patterns: list[str]) -> None:
    assert len(lines) == len(patterns), lines
    for pattern, found in zip(patterns, lines, strict=True):
        assert re.fullmatch(pattern, found), found


def assert_nowhere_in_the_logs(*secrets: str) -> None:
    for path in settings.LOG_DIR.iterdir():
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"{secret!r} in {path.name}"


# ---- password changes ----------------------------------------------------------------------------------------


def test_password_change_view_logs_a_refusal_with_its_code_and_then_the_change(bob):
    client = csrf_client()
    assert client.login(username="bob", password=OLD_PASSWORD)
    tail = Tail()

    path = "/accounts/password_change/"
    refused = submit(client, path, {"old_password": WRONG_PASSWORD, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD})
    changed = submit(client, path, {"old_password": OLD_PASSWORD, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD})

    assert refused.status_code == 200 and changed.status_code == 302
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", refused, "event=password_change_failed event_code=authn_password_change_fail "
             "user=bob target_user=bob", r"Password change failed \(password_incorrect\): bob"),
        line("INFO", "password_events", changed, "event=password_changed event_code=authn_password_change "
             "user=bob target_user=bob", "Password changed: bob"),
    ])
    assert_nowhere_in_the_logs(OLD_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, client.cookies["sessionid"].value)


def test_the_admins_change_of_another_users_password_names_both(root, bob):
    client = csrf_client()
    assert admin_login(client, "root", OLD_PASSWORD).status_code == 302
    tail = Tail()

    path = f"/admin/auth/user/{bob.pk}/password/"
    mismatch = submit(client, path, {"usable_password": "true", "password1": NEW_PASSWORD,
                                     "password2": WRONG_PASSWORD})
    changed = submit(client, path, {"usable_password": "true", "password1": NEW_PASSWORD,
                                    "password2": NEW_PASSWORD})

    assert mismatch.status_code == 200 and changed.status_code == 302
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", mismatch, "event=password_change_failed event_code=authn_password_change_fail "
             "user=root target_user=bob", r"Password change failed \(password_mismatch\): bob"),
        line("INFO", "password_events", changed, "event=password_changed event_code=authn_password_change "
             "user=root target_user=bob", "Password changed: bob"),
        # The admin records its change too (LogEntry, admin_actions.py): the same request, after the save.
        line("WARNING", "admin_actions", changed, r"event=admin_action event_code=authz_admin user=root target_user=bob "
             rf"object_type=auth\.user object_id={bob.pk} operation=change",
             rf"Admin change of auth\.user {bob.pk} \(bob\) by root: Changed password\."),
    ])
    assert_nowhere_in_the_logs(OLD_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD)


def test_a_validators_refusal_is_named_by_its_codes(bob, settings):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]
    client = csrf_client()
    assert client.login(username="bob", password=OLD_PASSWORD)
    tail = Tail()

    refused = submit(client, "/accounts/password_change/", {"old_password": OLD_PASSWORD, "new_password1": "4417",
                                                           "new_password2": "4417"})

    assert refused.status_code == 200
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", refused, "event=password_change_failed event_code=authn_password_change_fail "
             "user=bob target_user=bob", r"Password change failed \(password_too_short, password_entirely_numeric\): bob"),
    ])


def test_set_password_and_save_outside_a_request_names_the_process(bob):
    tail = Tail()
    bob.set_password(NEW_PASSWORD)
    bob.save()
    bob.first_name = "Bob"
    bob.save()  # no password set: no event

    [found] = tail.lines("security.log")
    assert re.fullmatch(
        rf"INFO {TIMESTAMP} password_events \[request_id=- record_id={RECORD_ID} event=password_changed "
        rf"event_code=authn_password_change target_user=bob{ORIGIN}\] Password changed by \S+ \(pid \d+\): bob", found), found
    assert_nowhere_in_the_logs(NEW_PASSWORD)


def test_a_hash_assigned_or_a_password_disabled_without_set_password_is_a_change_naming_the_process(bob):
    tail = Tail()
    bob.password = make_password(NEW_PASSWORD)  # a project's own code, or a hash copied from elsewhere
    bob.save()
    bob.set_unusable_password()
    bob.save(update_fields=["password", "last_name"])
    bob.save()  # the same hash again: no event

    assert_lines(tail.lines("security.log"), [
        rf"INFO {TIMESTAMP} password_events \[request_id=- record_id={RECORD_ID} event=password_changed "
        rf"event_code=authn_password_change target_user=bob{ORIGIN}\] Password hash replaced by \S+ \(pid \d+\): bob",
        rf"INFO {TIMESTAMP} password_events \[request_id=- record_id={RECORD_ID} event=password_changed "
        rf"event_code=authn_password_change target_user=bob{ORIGIN}\] Password disabled by \S+ \(pid \d+\): bob",
    ])
    assert_nowhere_in_the_logs(NEW_PASSWORD)


def test_the_hash_upgrade_at_login_is_no_password_change(root, settings):
    # PBKDF2 first: check_password upgrades root's MD5 hash and saves it (check_password's setter, base_user.py).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    tail = Tail()

    logged_in = admin_login(csrf_client(), "root", OLD_PASSWORD)

    assert logged_in.status_code == 302
    assert get_user_model().objects.get(pk=root.pk).password.startswith("pbkdf2_sha256$")
    assert_lines(tail.lines("security.log"), [
        line("INFO", "signals", logged_in, "event=user_logged_in event_code=authn_login_success user=root",
             "User logged in: root"),
    ])
    assert_nowhere_in_the_logs(OLD_PASSWORD)


def test_a_new_user_is_created_not_a_password_change(tail):
    get_user_model().objects.create_user("carol", password=NEW_PASSWORD)

    assert_lines(tail.lines("security.log"), [
        rf"WARNING {TIMESTAMP} account_changes \[request_id=- record_id={RECORD_ID} event=user_created "
        rf"event_code=user_created target_user=carol{ORIGIN}\] User created: carol via \S+ \(pid \d+\)",
    ])
    assert_nowhere_in_the_logs(NEW_PASSWORD)


# ---- password reset ------------------------------------------------------------------------------------------


def test_a_reset_request_names_the_address_typed_as_its_target_and_its_completion_is_one_record(bob):
    tail = Tail()
    client = csrf_client()
    requested = submit(client, "/accounts/password_reset/", {"email": "bob@example.com"})
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body)[1]
    token = link.rstrip("/").rsplit("/", 1)[1]
    form_page = client.get(link)  # Django moves the token into the session and redirects
    assert form_page.status_code == 302
    set_password = form_page["Location"]
    mismatch = submit(client, set_password, {"new_password1": NEW_PASSWORD, "new_password2": WRONG_PASSWORD})
    completed = submit(client, set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert requested.status_code == 302 and mismatch.status_code == 200 and completed.status_code == 302
    assert_lines(tail.lines("security.log"), [
        line("INFO", "auth_events", requested, r"event=password_reset_requested event_code=authn_password_change "
             r"target_user=bob@example\.com", r"Password reset requested: bob@example\.com"),
        line("WARNING", "auth_events", mismatch, "event=password_change_failed event_code=authn_password_change_fail "
             "target_user=bob", r"Password change failed \(password_mismatch\): bob"),
        line("INFO", "password_events", completed, "event=password_reset_completed event_code=authn_password_change "
             "target_user=bob", "Password reset completed: bob"),
    ])
    assert get_user_model().objects.get(pk=bob.pk).check_password(NEW_PASSWORD)
    assert_nowhere_in_the_logs(token, NEW_PASSWORD, WRONG_PASSWORD, OLD_PASSWORD)


def test_a_reset_request_for_a_hostile_address_is_escaped(tail):
    # Valid to Django's EmailValidator: control characters in a quoted local part, a bidi override in the domain.
    address = '"\x1b[31m\x0b"@exam\u202eple.com'

    requested = submit(csrf_client(), "/accounts/password_reset/", {"email": address})

    assert requested.status_code == 302
    assert_lines(tail.lines("security.log"), [
        line("INFO", "auth_events", requested, r"event=password_reset_requested event_code=authn_password_change "
             r'target_user="\\x22\\x1b\[31m\\x0b\\x22@exam\\u202eple\.com"',
             r'Password reset requested: "\\x1b\[31m\\x0b"@exam\\u202eple\.com'),
    ])


def test_a_reset_requested_by_a_logged_in_user_names_them_as_user_and_the_address_as_target(bob, root):
    client = csrf_client()
    assert client.login(username="bob", password=OLD_PASSWORD)
    tail = Tail()

    requested = submit(client, "/accounts/password_reset/", {"email": "root@example.com"})

    assert requested.status_code == 302
    assert_lines(tail.lines("security.log"), [
        line("INFO", "auth_events", requested, r"event=password_reset_requested event_code=authn_password_change "
             r"user=bob target_user=root@example\.com", r"Password reset requested: root@example\.com"),
    ])


# ---- logins Django sends no signal for ------------------------------------------------------------------------


def test_a_non_staff_user_with_the_right_password_at_the_admin_login_is_refused(bob):
    tail = Tail()
    client = csrf_client()
    refused = admin_login(client, "bob", OLD_PASSWORD)

    assert refused.status_code == 200
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", refused, "event=user_login_failed event_code=authn_login_fail user=bob",
             r"Login failed \(correct password, login refused: not staff\): bob"),
    ])
    assert_nowhere_in_the_logs(OLD_PASSWORD)


def test_an_inactive_user_refused_by_the_form_not_the_backend(bob, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    bob.is_active = False
    bob.is_staff = True
    bob.save()
    tail = Tail()

    refused = admin_login(csrf_client(), "bob", OLD_PASSWORD)

    assert refused.status_code == 200
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", refused, "event=user_login_failed event_code=authn_login_fail user=bob",
             r"Login failed \(correct password, login refused: inactive\): bob"),
    ])


def test_an_empty_password_is_a_failed_login_though_nothing_was_authenticated(tail):
    refused = admin_login(csrf_client(), HOSTILE_NAME, "")

    assert refused.status_code == 200
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", refused, f"event=user_login_failed event_code=authn_login_fail user={HOSTILE_FIELD}",
             rf"Login failed \(empty password\): {HOSTILE_MESSAGE}"),
    ])


# A blank username is an empty one: the form strips it (UsernameField).
@pytest.mark.parametrize(("username", "password"), [("", OLD_PASSWORD), ("", ""), ("   ", OLD_PASSWORD)])
def test_an_empty_username_is_a_failed_login_though_nothing_was_authenticated(bob, username, password):
    tail = Tail()
    refused = admin_login(csrf_client(), username, password)

    assert refused.status_code == 200
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", refused, "event=user_login_failed event_code=authn_login_fail",
             r"Login failed \(empty username\)"),
    ])
    assert_nowhere_in_the_logs(OLD_PASSWORD)


def test_a_username_the_form_refuses_is_a_failed_login_naming_what_was_typed(bob):
    # A NUL: Django's ProhibitNullCharactersValidator refuses the field, so authenticate() never runs.
    tail = Tail()
    refused = admin_login(csrf_client(), "bo\x00b", OLD_PASSWORD)

    assert refused.status_code == 200
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", refused,
             r'event=user_login_failed event_code=authn_login_fail user="bo\\x00b"',
             r"Login failed \(username refused: null_characters_not_allowed\): bo\\x00b"),
    ])
    assert_nowhere_in_the_logs(OLD_PASSWORD)


def test_a_wrong_password_is_logged_once_by_the_signal(bob):
    tail = Tail()
    refused = admin_login(csrf_client(), "bob", WRONG_PASSWORD)

    assert refused.status_code == 200
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "signals", refused, "event=user_login_failed event_code=authn_login_fail user=bob",
             "Login failed: bob"),
    ])
    assert_nowhere_in_the_logs(WRONG_PASSWORD)


# ---- sessions ------------------------------------------------------------------------------------------------


def test_a_forged_session_cookie_is_rejected_without_its_value(tail):
    client = Client()
    forged = "forgedsessionkey0123456789abcdef"
    client.cookies["sessionid"] = forged

    response = client.get("/")

    assert response.cookies["sessionid"].value == ""  # SessionMiddleware deletes the cookie
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", response, "event=session_rejected event_code=session_use_after_expire",
             r"Session rejected: the session cookie names no session \(expired, ended or forged\)"),
    ])
    assert_nowhere_in_the_logs(forged)


def test_a_session_from_before_a_password_change_elsewhere_is_rejected_naming_its_user(tail, bob):
    client = Client()
    assert client.login(username="bob", password=OLD_PASSWORD)
    stale = client.cookies["sessionid"].value
    bob.set_password(NEW_PASSWORD)
    bob.save()
    tail = Tail()

    response = client.get("/")

    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", response, "event=session_rejected event_code=session_use_after_expire user=bob",
             r"Session rejected \(the password \(or SECRET_KEY\) changed since the session began\): bob"),
    ])
    assert_nowhere_in_the_logs(stale, NEW_PASSWORD, OLD_PASSWORD)


def test_a_session_of_a_deleted_user_is_rejected_once_and_ended(tail, bob):
    client = Client()
    assert client.login(username="bob", password=OLD_PASSWORD)
    bob_id = bob.pk
    bob.delete()
    tail = Tail()

    # Django's get_user keeps such a session (it flushes only on a hash mismatch): the middleware ends it.
    response, *later = [client.get("/") for _ in range(3)]

    assert response.cookies["sessionid"].value == ""  # SessionMiddleware deletes the emptied session's cookie
    assert [later_response.status_code for later_response in later] == [200, 200]
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", response, "event=session_rejected event_code=session_use_after_expire",
             rf"Session rejected: its user \(id {bob_id}\) no longer exists"),
    ])


def test_a_session_of_a_deactivated_user_with_a_hostile_name_is_rejected_escaped_once(tail):
    user = get_user_model().objects.create_user(HOSTILE_NAME, password=OLD_PASSWORD)
    client = Client()
    assert client.login(username=HOSTILE_NAME, password=OLD_PASSWORD)
    user.is_active = False
    user.save()
    tail = Tail()

    response, *_ = [client.get("/") for _ in range(3)]

    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", response, "event=session_rejected event_code=session_use_after_expire "
             f"user={HOSTILE_FIELD}", rf"Session rejected \(the user is inactive\): {HOSTILE_MESSAGE}"),
    ])


def test_anonymous_traffic_and_a_valid_session_log_nothing(tail, bob):
    client = Client()
    client.get("/")
    assert client.login(username="bob", password=OLD_PASSWORD)
    tail = Tail()
    client.get("/")

    assert tail.lines("security.log") == []


# ---- the user on Django's own security records ----------------------------------------------------------------


def test_permission_denied_carries_the_logged_in_user(bob):
    client = Client()
    assert client.login(username="bob", password=OLD_PASSWORD)
    tail = Tail()

    response = client.get("/forbidden")

    assert response.status_code == 403
    first, *traceback = tail.lines("security.log")
    assert re.fullmatch(line("WARNING", "log", response, "event=permission_denied event_code=authz_fail user=bob",
                             r"Forbidden \(Permission denied\): /forbidden"), first), first
    assert traceback and all(found.startswith("\t") for found in traceback)


def test_a_csrf_failure_in_csrf_view_middleware_carries_the_logged_in_user(bob, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:3], "django.middleware.csrf.CsrfViewMiddleware",
                           *settings.MIDDLEWARE[3:]]
    client = csrf_client()
    assert client.login(username="bob", password=OLD_PASSWORD)
    tail = Tail()

    response = client.post("/whoami", {})

    assert response.status_code == 403
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "log", response, "event=csrf_failure user=bob",
             r"Forbidden \(CSRF cookie not set\.\): /whoami"),
    ])


def test_a_hostile_username_is_escaped_in_user_and_target_user():
    user = get_user_model().objects.create_user(HOSTILE_NAME, password=OLD_PASSWORD)
    client = csrf_client()
    assert client.login(username=HOSTILE_NAME, password=OLD_PASSWORD)
    tail = Tail()

    changed = submit(client, "/accounts/password_change/", {"old_password": OLD_PASSWORD,
                                                            "new_password1": NEW_PASSWORD,
                                                            "new_password2": NEW_PASSWORD})

    assert changed.status_code == 302 and user.pk
    assert_lines(tail.lines("security.log"), [
        line("INFO", "password_events", changed, f"event=password_changed event_code=authn_password_change "
             f"user={HOSTILE_FIELD} target_user={HOSTILE_FIELD}", rf"Password changed: {HOSTILE_MESSAGE}"),
    ])


# ---- under ASGI ----------------------------------------------------------------------------------------------


async def async_submit(client: AsyncClient, path: str, data: dict):
    page = await client.get(path)
    assert page.status_code == 200, page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    return await client.post(path, {**data, "csrfmiddlewaretoken": token})


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_session_is_read_and_the_user_resolved_without_a_synchronous_only_error(bob):
    client = AsyncClient(enforce_csrf_checks=True)

    async def logged_in():
        assert await client.alogin(username="bob", password=OLD_PASSWORD)
        tail = Tail()
        return tail, await client.get("/forbidden")

    tail, denied = asyncio.run(logged_in())
    bob.set_password(NEW_PASSWORD)  # elsewhere: another process
    bob.save()

    async def stale_then_forged_then_reset():
        stale = await client.get("/")
        forged_client = AsyncClient()
        forged_client.cookies["sessionid"] = "forgedsessionkey0123456789abcdef"
        forged = await forged_client.get("/")
        requested = await async_submit(client, "/accounts/password_reset/", {"email": "bob@example.com"})
        link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)[1]
        set_password = (await client.get(link))["Location"]
        completed = await async_submit(client, set_password, {"new_password1": WRONG_PASSWORD,
                                                              "new_password2": WRONG_PASSWORD})
        return stale, forged, requested, completed, link

    stale, forged, requested, completed, link = asyncio.run(stale_then_forged_then_reset())

    assert (denied.status_code, stale.status_code, forged.status_code, requested.status_code,
            completed.status_code) == (403, 200, 200, 302, 302)
    lines = [found for found in tail.lines("security.log") if not found.startswith("\t")]
    assert_lines(lines, [
        line("WARNING", "log", denied, "event=permission_denied event_code=authz_fail user=bob",
             r"Forbidden \(Permission denied\): /forbidden"),
        rf"INFO {TIMESTAMP} password_events \[request_id=- record_id={RECORD_ID} event=password_changed "
        rf"event_code=authn_password_change target_user=bob{ORIGIN}\] Password changed by \S+ \(pid \d+\): bob",
        line("WARNING", "auth_events", stale, "event=session_rejected event_code=session_use_after_expire user=bob",
             r"Session rejected \(the password \(or SECRET_KEY\) changed since the session began\): bob"),
        line("WARNING", "auth_events", forged, "event=session_rejected event_code=session_use_after_expire",
             r"Session rejected: the session cookie names no session \(expired, ended or forged\)"),
        line("INFO", "auth_events", requested, r"event=password_reset_requested event_code=authn_password_change "
             r"target_user=bob@example\.com", r"Password reset requested: bob@example\.com"),
        line("INFO", "password_events", completed, "event=password_reset_completed event_code=authn_password_change "
             "target_user=bob", "Password reset completed: bob"),
    ])
    assert_nowhere_in_the_logs(link.rstrip("/").rsplit("/", 1)[1], OLD_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_deactivated_users_session_is_rejected_once_and_ended(bob):
    client = AsyncClient()
    assert asyncio.run(client.alogin(username="bob", password=OLD_PASSWORD))
    bob.is_active = False
    bob.save()
    tail = Tail()

    async def three_requests():
        return [await client.get("/") for _ in range(3)]

    first, *_ = asyncio.run(three_requests())

    assert first.cookies["sessionid"].value == ""
    assert_lines(tail.lines("security.log"), [
        line("WARNING", "auth_events", first, "event=session_rejected event_code=session_use_after_expire user=bob",
             r"Session rejected \(the user is inactive\): bob"),
    ])


def test_under_uvicorn_a_session_is_read_and_rejected_without_a_synchronous_only_error(tmp_path):
    """A project of the README's settings (a database file, so the server and the drivers share sessions)."""
    project = new_project(tmp_path, STARTPROJECT_LIKE_TUPLES, readme_block("Switch it on"),
                          'ALLOWED_HOSTS = ["testserver", "127.0.0.1"]\n', urls=(
        "from django.core.exceptions import PermissionDenied\nfrom django.http import HttpResponse\n"
        "from django.urls import path\n\n\ndef forbidden(request):\n    raise PermissionDenied\n\n\n"
        'urlpatterns = [path("", lambda request: HttpResponse("hi")), path("forbidden", forbidden)]\n'))
    project.write("project_asgi.py", "from django.core.asgi import get_asgi_application\n\n"
                                     "application = get_asgi_application()\n")
    signed_in, _ = project.run(f"""
        from django.contrib.auth import get_user_model
        get_user_model().objects.create_user("bob", password={OLD_PASSWORD!r})
        client = Client()
        assert client.login(username="bob", password={OLD_PASSWORD!r})
        print(json.dumps({{"session": client.cookies["sessionid"].value}}))
    """)
    cookie = {"Cookie": f"sessionid={signed_in['session']}"}
    port = free_port()
    command = ["uvicorn", "project_asgi:application", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with serving(command, port, environment(project.folder, DJANGO_SETTINGS_MODULE="project_settings"), tmp_path):
        denied = request(port, "GET", "/forbidden", cookie)
        project.run(f"""
            from django.contrib.auth import get_user_model
            bob = get_user_model().objects.get(username="bob")
            bob.set_password({NEW_PASSWORD!r})
            bob.save()
            print(json.dumps({{}}))
        """)
        stale = request(port, "GET", "/", cookie)
        forged = request(port, "GET", "/", {"Cookie": "sessionid=forgedsessionkey0123456789abcdef"})

    assert (denied[0], stale[0], forged[0]) == (403, 200, 200)
    records = [found for found in project.lines("security.log") if not found.startswith("\t")]

    def served(answer, context: str, message: str) -> str:
        return (rf"WARNING {TIMESTAMP} (log|auth_events) \[request_id={answer[1]['X-Request-ID']} record_id={RECORD_ID} "
                rf"{context} client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path=/\w*{ORIGIN}\] {message}")

    assert_lines(records, [
        rf"WARNING {TIMESTAMP} account_changes \[request_id=- record_id={RECORD_ID} event=user_created "
        rf"event_code=user_created target_user=bob{ORIGIN}\] User created: bob via \S+ \(pid \d+\)",  # the driver's create_user
        rf"INFO {TIMESTAMP} signals \[request_id=- record_id={RECORD_ID} event=user_logged_in "
        rf"event_code=authn_login_success user=bob{ORIGIN}\] User logged in: bob",  # the driver's Client.login
        served(denied, "event=permission_denied event_code=authz_fail user=bob", r"Forbidden \(Permission denied\): /forbidden"),
        rf"INFO {TIMESTAMP} password_events \[request_id=- record_id={RECORD_ID} event=password_changed "
        rf"event_code=authn_password_change target_user=bob{ORIGIN}\] Password changed by \S+ \(pid \d+\): bob",
        served(stale, "event=session_rejected event_code=session_use_after_expire user=bob",
               r"Session rejected \(the password \(or SECRET_KEY\) changed since the session began\): bob"),
        served(forged, "event=session_rejected event_code=session_use_after_expire",
               r"Session rejected: the session cookie names no session \(expired, ended or forged\)"),
    ])
    server_output = "\n".join(path.read_text() for path in tmp_path.glob("server-*.out"))
    assert "SynchronousOnlyOperation" not in server_output and "Traceback" not in server_output
    for path in project.log_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert signed_in["session"] not in text and OLD_PASSWORD not in text and NEW_PASSWORD not in text
