"""manage.py drill_privilege_gain, the privilege-gain drill's change: a drill user created inactive with no
password, made staff, deleted; only users named drill-privilege-...; a JSON summary as the traffic generator's."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("drill_privilege_gain", *args, stdout=out)
    return json.loads(out.getvalue())


def test_it_creates_promotes_and_deletes_its_user_and_reports_the_events_it_expects():
    summary = run("--account", "drill-privilege-127-0-0-9")

    assert not User.objects.filter(username="drill-privilege-127-0-0-9").exists()
    assert summary["account"] == "drill-privilege-127-0-0-9"
    assert summary["expected_security_events"] == {"user_created": 1, "privilege_changed": 1, "user_deleted": 1}
    assert (summary["requests"], summary["expected_error_records"]) == (0, 0)
    assert summary["started_at"] <= summary["ended_at"]


@pytest.mark.parametrize("account", ["bob", "drill-privilege-", "admin-drill-privilege-x", "Drill-privilege-x"])
def test_it_changes_no_user_but_a_drill_user(account):
    User.objects.create_user(account, password=None)

    with pytest.raises(CommandError, match="a drill changes only users named drill-privilege-"):
        run("--account", account)
    assert User.objects.get(username=account).is_staff is False


def test_an_existing_drill_user_is_left_alone():
    existing = User.objects.create_user("drill-privilege-127-0-0-1", password=None)

    with pytest.raises(CommandError, match=r"exists \(an unfinished drill\?\): delete it in the admin first; nothing was changed"):
        run("--account", "drill-privilege-127-0-0-1")
    existing.refresh_from_db()
    assert existing.is_staff is False
