"""password_changed and password_reset_completed: every set_password() followed by save() of a user.

Django's forms and views (PasswordChangeView, the admin's password change, PasswordResetConfirmView),
``manage.py changepassword`` and code of a project's own all end in ``user.set_password(raw)`` and then
``user.save()``; AbstractBaseUser.save (django/contrib/auth/base_user.py) sends post_save, through
Model.save, while ``user._password`` still holds the raw password, and clears it after. So one post_save
receiver sees them all. The raw password is only tested for None, never read: a hash upgrade on login
clears it before its save (check_password's setter), so an upgrade is not a change.

Inside a request the actor is the request's user (the request-context filter adds it as ``user``);
outside one, the message names the process. The middleware (auth_events.py) tells which request runs.
"""

import contextvars
import logging
import os
import re
import sys
from contextlib import contextmanager

from django.contrib.auth.views import PasswordResetConfirmView

from .request_context import current_request
from .security_events import log_security_event

logger = logging.getLogger("security")

_http_request = contextvars.ContextVar("django_elk_logging_http_request", default=None)
# The process a management command names itself, e.g. "manage.py changepassword".
_acting_process = contextvars.ContextVar("django_elk_logging_acting_process", default=None)
_COMMAND_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def set_http_request(request) -> contextvars.Token:
    """Makes ``request`` the one whose view runs now (reset with the token it returns)."""
    return _http_request.set(request)


def reset_http_request(token: contextvars.Token) -> None:
    _http_request.reset(token)


@contextmanager
def acting_process(name: str):
    """Names the process in the records of the password changes made inside the ``with``."""
    token = _acting_process.set(name)
    try:
        yield
    finally:
        _acting_process.reset(token)


def process_name() -> str:
    """The process outside any request: the command that named itself, else the program, with its pid.

    Only the program's name and a management command's name are taken from argv: further arguments
    may hold anything, a password included.
    """
    name = _acting_process.get()
    if name is None:
        argv = sys.argv or [""]
        name = os.path.basename(argv[0]) or "python"
        if name == "__main__.py":  # python -m <package>
            name = os.path.basename(os.path.dirname(argv[0]))
        if name in ("manage.py", "django-admin") and len(argv) > 1 and _COMMAND_NAME.fullmatch(argv[1]):
            name = f"{name} {argv[1]}"
    return f"{name} (pid {os.getpid()})"


def is_reset_confirm(request) -> bool:
    """The request runs Django's PasswordResetConfirmView (or a subclass): its save completes a reset."""
    match = getattr(request, "resolver_match", None)
    view_class = getattr(match.func, "view_class", None) if match is not None else None
    return isinstance(view_class, type) and issubclass(view_class, PasswordResetConfirmView)


def log_password_saved(sender, instance, created, **kwargs):
    """post_save receiver of the user model: a saved set_password() is a password change, or a reset's end."""
    if created or getattr(instance, "_password", None) is None:
        return  # a new user (user_created is its event), or a save that set no password
    target = instance.get_username()
    request = _http_request.get()
    if request is not None and is_reset_confirm(request):
        log_security_event(logger, "password_reset_completed", "Password reset completed: %s", target,
                           target_user=target)
    elif current_request() is not None:
        log_security_event(logger, "password_changed", "Password changed: %s", target, target_user=target)
    else:
        log_security_event(logger, "password_changed", "Password changed by %s: %s", process_name(), target,
                           target_user=target)
