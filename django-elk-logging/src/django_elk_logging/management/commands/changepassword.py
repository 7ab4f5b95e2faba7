"""Django's ``changepassword``, whose refusals are ``password_change_failed`` events and whose records name it.

Django runs the command of the first app in INSTALLED_APPS that has one (get_commands,
django/core/management/__init__.py, walks the apps in reverse and lets earlier ones win): this one only
when django_elk_logging comes before django.contrib.auth (checks.py warns otherwise). Its success is
logged by the post_save receiver (password_events.py), as every password change.
"""

import getpass
import logging

from django.contrib.auth.management.commands import changepassword
from django.core.management.base import CommandError

from django_elk_logging.password_events import acting_process, process_name
from django_elk_logging.security_events import log_security_event

logger = logging.getLogger("security")


class Command(changepassword.Command):
    def handle(self, *args, **options):
        with acting_process("manage.py changepassword"):
            try:
                return super().handle(*args, **options)
            except CommandError as error:
                # Django's reasons name the user and the number of attempts (three mismatched or invalid
                # passwords), never a password. The account is the one Django looked up.
                target = options["username"] or getpass.getuser()
                log_security_event(logger, "password_change_failed", "Password change by %s failed: %s",
                                   process_name(), error, target_user=target)
                raise
