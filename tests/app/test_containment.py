"""Containment through the real app: deactivate_user (command and admin action) and the IP denylist.

A deactivation is two facts, each with its record: the account lost is_active (privilege_changed, from the
user model's save, whoever saves it) and it was contained (user_deactivated, with the operator and the
sessions ended). Through the admin, the admin's own record of the change follows (admin_action).
"""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client

from tests.app.test_log_records import ORIGIN, RECORD_ID, TIMESTAMP
from tests.support.app_server import DEMO_USERNAME, app_environment, manage

# Committed transactions: the account, privilege and admin records are written on commit
# (django_elk_logging/committed.py), and a non-transactional django_db test never commits.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Sup3r-Secret-Passw0rd!"


def deactivated_line(actor, target, message) -> re.Pattern:
    return re.compile(
        rf"WARNING {TIMESTAMP} containment \[request_id=- record_id={RECORD_ID} event=user_deactivated event_code=user_archived"
        rf" user={re.escape(actor)} target_user={re.escape(target)}{ORIGIN}\] {re.escape(message)}"
    )


def deactivation_line(target, acting, context="") -> re.Pattern:
    """The is_active privilege_changed record of a deactivation ``acting`` (a regex: "by root", "via <process>"); in root's
    request (``context``: its client, path and agent) it names root."""
    actor = " user=root" if context else ""
    return re.compile(
        rf"WARNING {TIMESTAMP} account_changes \[request_id=(-|[0-9a-f]{{32}}) record_id={RECORD_ID}"
        rf" event=privilege_changed event_code=authz_change{actor} target_user={re.escape(target)}"
        rf" privilege=is_active old=true new=false{context}{ORIGIN}\]"
        rf" {re.escape(f'Privilege changed: is_active of user {target} true -> false')} {acting}"
    )


def logged_in(user) -> Client:
    client = Client(HTTP_USER_AGENT="pytest-agent")
    client.force_login(user)
    return client


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("deactivate_user", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password=PASSWORD)


def test_the_command_deactivates_ends_every_session_and_logs_it_with_the_lost_privilege(bob, alice, app_logs):
    bob_phone, bob_laptop, alice_browser = logged_in(bob), logged_in(bob), logged_in(alice)
    app_logs.mark()

    output = run("bob", "--actor", "ops-carol", "--reason", "INC-7 phished")

    assert output == "User 'bob' deactivated; 2 session(s) ended.\n"
    bob.refresh_from_db()
    assert not bob.is_active
    # In-process the command is not manage.py: the process is pytest's.
    privilege_line, line = app_logs.lines("security.log")
    assert deactivation_line("bob", r"via \S+ \(pid \d+\)").fullmatch(privilege_line), privilege_line
    assert deactivated_line(
        "ops-carol", "bob", 'User deactivated: bob by ops-carol via manage.py deactivate_user; 2 session(s) ended; '
        "reason: INC-7 phished",
    ).fullmatch(line), line
    for client in (bob_phone, bob_laptop):
        assert client.get("/account/").status_code == 302  # to the login page: logged out
    assert alice_browser.get("/account/").status_code == 200
    # The sessions are gone, not only refused: reactivating bob does not bring them back.
    bob.is_active = True
    bob.save()
    assert bob_phone.get("/account/").status_code == 302
    assert Session.objects.count() == 1


def test_the_command_is_idempotent_and_says_the_user_was_already_inactive(bob, app_logs):
    run("bob", "--actor", "ops-carol")
    stolen = logged_in(bob)  # a session row that survived somehow (e.g. written by a backend that ignores is_active)
    app_logs.mark()

    output = run("bob", "--actor", "ops-carol")

    assert output == "User 'bob' was already inactive; 1 session(s) ended.\n"
    [line] = app_logs.lines("security.log")
    assert deactivated_line(
        "ops-carol", "bob", "User already inactive: bob by ops-carol via manage.py deactivate_user; 1 session(s) ended"
    ).fullmatch(line), line
    assert stolen.get("/account/").status_code == 302
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["nobody", "--actor", "ops-carol"], "No user named 'nobody': nothing was changed."),
        (["bob", "--actor", "  "], '--actor is empty: name yourself, e.g. --actor "$USER".'),
        (["bob", "--actor", "x" * 151], "--actor is longer than 150 characters."),
    ],
)
def test_the_command_refuses_an_unknown_user_or_a_missing_actor_and_changes_nothing(bob, app_logs, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)
    bob.refresh_from_db()
    assert bob.is_active
    assert app_logs.lines("security.log") == []


def test_from_the_command_line_an_unknown_user_exits_1_and_the_actor_is_required(tmp_path):
    env = app_environment(tmp_path)
    (tmp_path / "log").mkdir()
    for command in (("migrate", "--noinput"), ("create_demo_user",)):
        assert manage(env, *command).returncode == 0

    unknown = manage(env, "deactivate_user", "nobody", "--actor", "ops-carol")
    no_actor = manage(env, "deactivate_user", DEMO_USERNAME)
    done = manage(env, "deactivate_user", DEMO_USERNAME, "--actor", "ops-carol")

    assert (unknown.returncode, unknown.stderr.strip()) == (1, "CommandError: No user named 'nobody': nothing was changed.")
    assert no_actor.returncode == 2 and "the following arguments are required: --actor" in no_actor.stderr
    assert (done.returncode, done.stdout) == (0, f"User '{DEMO_USERNAME}' deactivated; 0 session(s) ended.\n")
    created, privilege_line, line = (tmp_path / "log" / "security.log").read_text().splitlines()
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} account_changes \[request_id=- record_id={RECORD_ID} event=user_created"
        rf" event_code=user_created target_user=demo{ORIGIN}\] User created: demo via manage\.py create_demo_user \(pid \d+\)",
        created,
    ), created
    assert deactivation_line("demo", r"via manage\.py deactivate_user \(pid \d+\)").fullmatch(privilege_line), privilege_line
    assert deactivated_line(
        "ops-carol", "demo", "User deactivated: demo by ops-carol via manage.py deactivate_user; 0 session(s) ended"
    ).fullmatch(line), line


def test_the_admin_action_deactivates_the_selected_users_with_the_admin_as_actor(bob, alice, app_logs):
    root = User.objects.create_superuser("root", password=PASSWORD)
    admin = Client(HTTP_USER_AGENT="pytest-agent")
    assert admin.login(username="root", password=PASSWORD)
    bob_browser, alice_browser = logged_in(bob), logged_in(alice)
    app_logs.mark()

    response = admin.post(
        "/admin/auth/user/",
        {"action": "deactivate_and_end_sessions", "_selected_action": [bob.pk, alice.pk, root.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    # In primary-key order, as the action goes through the selection.
    assert bob.pk < alice.pk < root.pk
    assert shown == [
        "User 'bob' deactivated; 1 session(s) ended.",
        "User 'alice' deactivated; 1 session(s) ended.",
        "You cannot deactivate yourself (root) here.",
    ]
    lines = app_logs.lines("security.log")
    assert len(lines) == 6, lines
    context = r" client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path=/admin/auth/user/ user_agent=pytest-agent"
    for (privilege_line, line, admin_line), target in zip([lines[:3], lines[3:]], [bob, alice], strict=True):
        name = target.get_username()
        assert deactivation_line(name, "by root", context).fullmatch(privilege_line), privilege_line
        assert re.fullmatch(
            rf"WARNING {TIMESTAMP} containment \[request_id=[0-9a-f]{{32}} record_id={RECORD_ID} event=user_deactivated event_code=user_archived"
            rf" user=root target_user={name}{context}{ORIGIN}\]"
            rf" User deactivated: {name} by root via admin; 1 session\(s\) ended",
            line,
        ), line
        # The action's own LogEntry (ModelAdmin.log_change), its message as the action wrote it.
        assert re.fullmatch(
            rf"WARNING {TIMESTAMP} admin_actions \[request_id=[0-9a-f]{{32}} record_id={RECORD_ID} event=admin_action"
            rf" event_code=authz_admin user=root target_user={name} object_type=auth\.user object_id={target.pk}"
            rf" operation=change{context}{ORIGIN}\] Admin change of auth\.user {target.pk} \({name}\) by root:"
            rf" Deactivated; 1 session\(s\) ended",
            admin_line,
        ), admin_line
    assert bob_browser.get("/account/").status_code == 302
    assert alice_browser.get("/account/").status_code == 302
    assert admin.get("/admin/").status_code == 200  # the acting admin is still in
    assert list(User.objects.filter(is_active=True).values_list("username", flat=True)) == ["root"]


def test_the_app_refuses_a_blocked_address_before_sessions_and_logs_it(settings, bob, app_logs, django_assert_num_queries):
    settings.BLOCKED_IPS = ["203.0.113.0/24"]
    attacker = Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="pytest-agent")
    attacker.cookies.load({settings.SESSION_COOKIE_NAME: logged_in(bob).cookies[settings.SESSION_COOKIE_NAME].value})
    app_logs.mark()

    with django_assert_num_queries(0):
        response = attacker.get("/account/")

    assert response.status_code == 403
    [line] = app_logs.lines("security.log")
    assert re.fullmatch(
        rf"WARNING {TIMESTAMP} ip_blocking \[request_id={response['X-Request-ID']} record_id={RECORD_ID} event=blocked_ip"
        rf" client_ip=203\.0\.113\.9 peer_ip=203\.0\.113\.9 path=/account/ user_agent=pytest-agent{ORIGIN}\]"
        r" Refused a request from blocked address 203\.0\.113\.9 \(BLOCKED_IPS entry 203\.0\.113\.0/24\)",
        line,
    ), line
    assert app_logs.lines("django_debug.log") == []
    assert Client(REMOTE_ADDR="198.51.100.1").get("/").status_code == 200


def test_a_rotated_secret_key_keeps_sessions_while_the_old_key_is_a_fallback_and_ends_them_without(settings, bob):
    # The procedure in docs/incident-response.md, "Rotating secrets", on real sessions.
    active, idle = logged_in(bob), logged_in(bob)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "rotated-" + old_key[::-1]

    settings.SECRET_KEY_FALLBACKS = [old_key]
    # A planned rotation: nobody is logged out, and a session that is used is moved to the new key
    # (django/contrib/auth/__init__.py get_user cycles it and stores the new hash).
    assert active.get("/account/").status_code == 200

    settings.SECRET_KEY_FALLBACKS = []
    assert active.get("/account/").status_code == 200
    assert idle.get("/account/").status_code == 302  # still signed with the old key: ended


def test_after_a_leaked_secret_key_deleting_the_sessions_logs_returning_browsers_out_with_one_event_each(settings, bob, app_logs):
    # docs/incident-response.md, "The key leaked": no fallback, and the stored sessions deleted.
    stale, deleted = logged_in(bob), logged_in(bob)
    settings.SECRET_KEY = "leaked-" + settings.SECRET_KEY[::-1]
    settings.SECRET_KEY_FALLBACKS = []
    app_logs.mark()

    # Without the delete, each request with an old cookie is a suspicious_session event.
    assert stale.get("/account/").status_code == 302
    assert [line for line in app_logs.lines("security.log") if "event=suspicious_session" in line]
    app_logs.mark()

    Session.objects.all().delete()
    assert deleted.get("/account/").status_code == 302
    assert deleted.get("/account/").status_code == 302
    # One event for the returning browser: SessionMiddleware deletes the cookie that names no session.
    [rejected] = app_logs.lines("security.log")
    assert rejected.endswith("Session rejected: the session cookie names no session (expired, ended or forged)")
