"""Account and privilege events from the ORM, outside any request, in the package's own minimal project (no admin):
user_created, user_deleted and privilege_changed for the flags, the groups and the permissions, from both sides of
each relation; createsuperuser; the cost of a login's save; hostile group names and usernames."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from test_request_events import ORIGIN, RECORD_ID, TIMESTAMP, Tail

# Committed transactions: the records are written on commit (committed.py), and the test's own transaction
# (django_db without transaction=True) never commits.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Pr1vate-Horse-Staple-77"
User = get_user_model()


# Outside a request the message ends with the process that acted (security_events.process_name).
BY_THIS_PROCESS = r" via \S+ \(pid \d+\)"


def line(module: str, event: str, code: str, fields: str, message: str) -> re.Pattern:
    """A security line logged outside a request: no request id, no user (the process acts)."""
    return re.compile(rf"WARNING {TIMESTAMP} {module} \[request_id=- record_id={RECORD_ID} event={event} "
                      rf"event_code={code} {fields}{ORIGIN}\] {re.escape(message)}{BY_THIS_PROCESS}")


def privilege(target: str, name: str, old: str, new: str, *, group: bool = False) -> re.Pattern:
    kind = "group" if group else "user"
    return line("account_changes", "privilege_changed", "authz_change",
                rf"target_{kind}={re.escape(target)} privilege={re.escape(name)} old={old} new={new}",
                f"Privilege changed: {name} of {kind} {target} {old} -> {new}")


def matches(lines: list[str], patterns: list[re.Pattern]) -> None:
    assert len(lines) == len(patterns), "\n".join(lines)
    for text, pattern in zip(lines, patterns, strict=True):
        assert pattern.fullmatch(text), f"{text}\n!~ {pattern.pattern}"


@pytest.fixture
def tail() -> Tail:
    return Tail()


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password=PASSWORD)


@pytest.fixture
def editors():
    return Group.objects.create(name="editors")


def add_user_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="auth", codename="add_user")


def test_creating_and_deleting_a_user_through_the_orm(tail):
    User.objects.create_user("bob", password=PASSWORD).delete()

    matches(tail.lines("security.log"), [
        line("account_changes", "user_created", "user_created", "target_user=bob", "User created: bob"),
        line("account_changes", "user_deleted", "user_deleted", "target_user=bob", "User deleted: bob"),
    ])


def test_a_saved_flag_is_one_record_each_with_old_and_new_and_an_unchanged_save_none(bob, tail):
    bob.is_superuser = bob.is_staff = True
    bob.save()
    bob.save()  # nothing changed
    bob.is_active = False
    bob.save(update_fields=["is_active", "last_name"])

    matches(tail.lines("security.log"), [
        privilege("bob", "is_superuser", "false", "true"),
        privilege("bob", "is_staff", "false", "true"),
        privilege("bob", "is_active", "true", "false"),
    ])


def test_a_save_whose_update_fields_leave_the_flags_out_costs_no_query_and_logs_nothing(bob, tail):
    bob.is_staff = True  # set, but this save does not write it
    with CaptureQueriesContext(connection) as login_save:
        bob.save(update_fields=["last_login"])  # what update_last_login does at every login
    with CaptureQueriesContext(connection) as full_save:
        bob.save()

    assert [query["sql"].split()[0] for query in login_save.captured_queries] == ["UPDATE"]
    # A save that may change the flags reads them first: one SELECT more.
    assert [query["sql"].split()[0] for query in full_save.captured_queries] == ["SELECT", "UPDATE"]
    matches(tail.lines("security.log"), [privilege("bob", "is_staff", "false", "true")])


def test_groups_added_removed_and_cleared_from_either_side_only_when_they_change(bob, editors, tail):
    alice = User.objects.create_user("alice", password=PASSWORD)
    ops = Group.objects.create(name="ops")
    tail = Tail()

    bob.groups.add(editors, ops)
    bob.groups.add(editors)  # already a member: Django adds nothing, nothing is logged
    editors.user_set.add(alice)
    bob.groups.remove(editors)
    bob.groups.remove(editors)  # no longer a member
    editors.user_set.clear()
    bob.groups.clear()
    ops.user_set.add(alice, bob)
    ops.user_set.remove(bob)

    matches(tail.lines("security.log"), [
        privilege("bob", "group:editors", "false", "true"),
        privilege("bob", "group:ops", "false", "true"),
        privilege("alice", "group:editors", "false", "true"),
        privilege("bob", "group:editors", "true", "false"),
        privilege("alice", "group:editors", "true", "false"),
        privilege("bob", "group:ops", "true", "false"),
        privilege("bob", "group:ops", "false", "true"),  # bob was created first: the lower primary key
        privilege("alice", "group:ops", "false", "true"),
        privilege("bob", "group:ops", "true", "false"),
    ])


def test_deleting_a_group_or_a_permission_takes_it_from_everyone_who_held_it(bob, editors):
    alice = User.objects.create_user("alice", password=PASSWORD)
    editors.user_set.add(bob, alice)
    editors.permissions.add(add_user_permission())
    bob.user_permissions.add(add_user_permission())
    tail = Tail()

    editors.delete()
    add_user_permission().delete()

    # The deleted group's own permissions go with it: nobody else held them through it.
    matches(tail.lines("security.log"), [
        privilege("bob", "group:editors", "true", "false"),
        privilege("alice", "group:editors", "true", "false"),
        privilege("bob", "permission:auth.add_user", "true", "false"),
    ])


def test_permissions_of_a_user_and_of_a_group(bob, editors, tail):
    add_user = add_user_permission()
    delete_group = Permission.objects.get(content_type__app_label="auth", codename="delete_group")

    bob.user_permissions.add(add_user)
    add_user.user_set.remove(bob)
    editors.permissions.add(add_user, delete_group)
    delete_group.group_set.remove(editors)
    editors.permissions.clear()

    matches(tail.lines("security.log"), [
        privilege("bob", "permission:auth.add_user", "false", "true"),
        privilege("bob", "permission:auth.add_user", "true", "false"),
        # In primary-key order: migrate creates the group permissions before the user ones.
        privilege("editors", "permission:auth.delete_group", "false", "true", group=True),
        privilege("editors", "permission:auth.add_user", "false", "true", group=True),
        privilege("editors", "permission:auth.delete_group", "true", "false", group=True),
        privilege("editors", "permission:auth.add_user", "true", "false", group=True),
    ])


def test_createsuperuser_logs_the_new_user_and_the_privileges_it_starts_with(monkeypatch, tail):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command("createsuperuser", interactive=False, username="root", email="root@example.com", verbosity=0)

    matches(tail.lines("security.log"), [
        line("account_changes", "user_created", "user_created", "target_user=root", "User created: root"),
        privilege("root", "is_superuser", "false", "true"),
        privilege("root", "is_staff", "false", "true"),
    ])
    assert PASSWORD not in tail_text(tail)


def tail_text(tail: Tail) -> str:
    return "\n".join(tail.lines("security.log") + tail.lines("django_debug.log"))


HOSTILE = 'ops\r\nINFO 2026-01-01 00:00:00,000 forged [request_id=- record_id=0] x "quoted" \u202egnp.exe'
HOSTILE_ESCAPED = r"ops\r\nINFO 2026-01-01 00:00:00,000 forged [request_id=- record_id=0] x \x22quoted\x22 \u202egnp.exe"


def test_hostile_group_names_and_usernames_stay_one_escaped_field(tail):
    # The database holds what Django's forms would refuse (CR/LF, a bidi override, 10 kB): the ORM does not check.
    mallory = User.objects.create_user(HOSTILE, password=PASSWORD)
    long_name = "g" * 10_000
    hostile_group, long_group = Group.objects.create(name=HOSTILE), Group.objects.create(name=long_name)
    tail = Tail()

    mallory.groups.add(hostile_group, long_group)
    hostile_group.permissions.add(add_user_permission())

    records = tail.lines("security.log")
    assert len(records) == 3, records
    first, second, third = records
    assert f' target_user="{HOSTILE_ESCAPED}" privilege="group:{HOSTILE_ESCAPED}" old=false new=true logger=' in first, first
    # 512 characters at most in a field, then the marker of what was cut.
    assert f' privilege="group:{"g" * 506}...[truncated 9494 chars]" old=false new=true logger=' in second, second
    assert f' target_group="{HOSTILE_ESCAPED}" privilege=permission:auth.add_user old=false new=true logger=' in third
    # The message is escaped whole (log_lines.MAX_MESSAGE_CHARS), never split.
    assert re.search(re.escape("] Privilege changed: group:" + HOSTILE_ESCAPED.replace(r"\x22", '"') + " of user "
                               + HOSTILE_ESCAPED.replace(r"\x22", '"') + " false -> true") + BY_THIS_PROCESS + "$",
                     first), first
