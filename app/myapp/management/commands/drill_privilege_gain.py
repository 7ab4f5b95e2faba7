"""The privilege-gain drill's change, made in the running app: a drill user created, promoted to staff, deleted.

Run by `make drill SCENARIO=privilege-gain` (drill/traffic.py) inside the app container, or offline with
make run-app's environment. Through the ORM's save() and delete(), so the app logs what any change made
there logs (django_elk_logging's signals). The user is created inactive with an unusable password
(UserManager.create_user with password=None calls set_unusable_password: django/contrib/auth/models.py),
so it can never log in during the moment it is staff. Prints a JSON summary, as the traffic generator does
(app/myapp/drills.py): the security events it expects the app to log for that user.
"""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from myapp.drills import PRIVILEGE_ACCOUNT_PREFIX, utc_now

# What the app logs, per the line contract of issue 19 (one record per privilege that changed; an inactive
# new user has none set, so its creation changes no privilege).
EXPECTED_EVENTS = {"user_created": 1, "privilege_changed": 1, "user_deleted": 1}


class Command(BaseCommand):
    help = (
        "Privilege-gain drill: create an inactive user with no password, make it staff, delete it (three "
        "security events). Only for user names starting with " + PRIVILEGE_ACCOUNT_PREFIX + "."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help=f"the drill user's name, {PRIVILEGE_ACCOUNT_PREFIX}...")

    def handle(self, *args, account, **options):
        if not account.startswith(PRIVILEGE_ACCOUNT_PREFIX) or account == PRIVILEGE_ACCOUNT_PREFIX:
            raise CommandError(f"--account {account!r}: a drill changes only users named {PRIVILEGE_ACCOUNT_PREFIX}...")
        user_model = get_user_model()
        manager = user_model._default_manager
        if manager.filter(**{user_model.USERNAME_FIELD: account}).exists():
            raise CommandError(f"A user named {account!r} exists (an unfinished drill?): delete it in the admin first; "
                               "nothing was changed.")
        started_at = utc_now()
        # One transaction: the user never outlives a failed step.
        with transaction.atomic():
            user = manager.create_user(**{user_model.USERNAME_FIELD: account}, password=None, is_active=False)
            user.is_staff = True
            user.save()
            user.delete()
        self.stdout.write(json.dumps({
            "scenario": "privilege-gain",
            "account": account,
            "requests": 0,
            "expected_security_events": EXPECTED_EVENTS,
            "expected_error_records": 0,
            "started_at": started_at,
            "ended_at": utc_now(),
        }))
